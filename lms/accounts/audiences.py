"""Confirmed audiences: "official" and "CIO" count in staff reports and open officials-only
courses only once confirmed — by an import (the HR file is the confirmation) or by a manager of
the person's commune or agency (or an admin), or by a verified e-mail address in an official domain
(LMS_OFFICIAL_EMAIL_DOMAINS, default `*.gov.vn`: only the state hands out those addresses). Registering
as one records a pending request; the account is a resident until one of these confirms it."""

from fnmatch import fnmatchcase

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import User
from lms.core import audit
from lms.extensions import db

CONFIRMED_AUDIENCES = ("official", "cio")
REQUEST_LIMIT = 500


class AudienceError(ValueError):
    """A decision that cannot be made; the message is shown to the user."""


def request_audience(user: User, wanted: str) -> None:
    """Registration's choice: a resident as asked, an official or CIO as a pending request. Flush only."""
    if wanted in CONFIRMED_AUDIENCES:
        user.audience, user.audience_requested = "citizen", wanted
    db.session.flush()


def pending_for(manager: User) -> list[User]:
    """Requests the manager may decide: people of their commune or agency subtrees (admins: everyone)."""
    people = db.session.scalars(select(User).where(User.audience_requested.is_not(None))
                                .order_by(User.created_at, User.id).limit(REQUEST_LIMIT)).all()
    return [person for person in people if manager.can_manage_user(person)]


def decide(manager: User, person: User, approve: bool) -> None:
    if person.audience_requested is None:
        raise AudienceError(_l("This request was already decided."))
    if not manager.can_manage_user(person):
        raise AudienceError(_l("This person is outside your area."))
    before = {"audience": person.audience, "requested": person.audience_requested}
    if approve:
        person.audience = person.audience_requested
    person.audience_requested = None
    _record(manager, "audience.approve" if approve else "audience.refuse", person, before, reached=approve)


def _record(actor: User, action: str, person: User, before: dict, reached: bool, **extra) -> None:
    audit.record(actor, action, person, before=before,
                 after={"audience": person.audience, "requested": person.audience_requested, **extra})
    db.session.flush()
    if reached:
        from lms.core.signals import person_placed

        person_placed.send(person)  # rules for officials now reach them


def official_domain(email: str | None) -> bool:
    """True when the address's domain matches LMS_OFFICIAL_EMAIL_DOMAINS (comma-separated; `*.gov.vn`
    means gov.vn itself and every domain under it)."""
    domain = (email or "").rpartition("@")[2].strip().lower()
    if not domain:
        return False
    for pattern in current_app.config["LMS_OFFICIAL_EMAIL_DOMAINS"]:
        if fnmatchcase(domain, pattern) or (pattern.startswith("*.") and domain == pattern[2:]):
            return True
    return False


def confirm_by_verified_email(person: User, email: str) -> bool:
    """A person just proved they read `email` (a link sent there was opened). In an official domain a
    pending official request — or a plain resident account — becomes a confirmed official. CIO stays a
    manager's decision (the domain says "civil servant", not "the commune's CIO"). Flush only."""
    if not official_domain(email) or person.audience == "official":
        return False
    if person.audience_requested not in (None, "official") or person.audience != "citizen":
        return False
    before = {"audience": person.audience, "requested": person.audience_requested}
    person.audience, person.audience_requested = "official", None
    _record(person, "audience.confirm_by_email", person, before, reached=True,
            email_domain=email.rpartition("@")[2].lower())
    return True
