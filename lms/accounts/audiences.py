"""Confirmed audiences: "official" and "CIO" count in staff reports and open officials-only
courses only once confirmed — by an import (the HR file is the confirmation) or by a manager of
the person's commune or agency (or an admin). Registering as one records a pending request; the
account is a resident until a manager approves it."""

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
    audit.record(manager, "audience.approve" if approve else "audience.refuse", person, before=before,
                 after={"audience": person.audience, "requested": None})
    db.session.flush()
    if approve:
        from lms.core.signals import person_placed

        person_placed.send(person)  # rules for officials now reach them
