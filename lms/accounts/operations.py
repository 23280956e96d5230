"""State changes for accounts. Each flushes; the caller commits."""

from datetime import timedelta
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from lms.accounts.models import (  # noqa: F401
    AUDIENCES,
    ROLES,
    LoginFailure,
    RoleGrant,
    SessionRecord,
    User,
    password_hash_method,
    unusable_password_hash,
)

# Reads moved to queries.py (other features read them there); accounts' own callers keep these names.
from lms.accounts.queries import find_by_login, normalise_phone, split_login  # noqa: F401
from lms.core import audit
from lms.core.db import release_before_slow_work, utcnow
from lms.core.text import fold, nfc
from lms.extensions import db


class AccountError(ValueError):
    """A rule about accounts was broken; the message is shown to the user."""


class DuplicateAccount(AccountError):
    """The e-mail or phone is taken: administrators are told, the public registration form is not."""


def create_user(full_name: str, password: str, *, email: str | None = None, phone: str | None = None,
                audience: str = "citizen", locality=None, roles=()) -> User:
    email = nfc(email).lower() or None
    phone = normalise_phone(phone) if phone else None
    if not (email or phone):
        raise AccountError(_l("An e-mail address or a phone number is required."))
    if audience not in AUDIENCES:
        raise AccountError(_l("Unknown audience: %(audience)s", audience=audience))
    name = nfc(full_name)
    release_before_slow_work()  # the hash first, holding no lock; then the checks and the insert together
    user = User(full_name=name, full_name_folded=fold(name), email=email, phone=phone,
                audience=audience, locality=locality)
    user.set_password(password)
    if email and db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise DuplicateAccount(_l("This e-mail address is already registered."))
    if phone and db.session.scalar(select(User.id).where(User.phone == phone)):
        raise DuplicateAccount(_l("This phone number is already registered."))
    db.session.add(user)
    for role in roles:
        grant_role(user, role)
    db.session.flush()
    return user


def grant_role(user: User, role: str, locality=None, actor=None, agency=None) -> RoleGrant:
    if role not in ROLES:
        raise AccountError(_l("Unknown role: %(role)s", role=role))
    if role == "manager" and locality is None and agency is None:
        raise AccountError(_l("A manager role needs a locality scope."))
    for grant in user.grants:
        if (grant.role == role and grant.locality_id == getattr(locality, "id", None)
                and grant.agency_id == getattr(agency, "id", None)):
            return grant
    grant = RoleGrant(role=role, locality=locality, agency=agency)
    user.grants.append(grant)
    if user.id is not None:
        end_sessions(user)  # a session opened under the old roles must not carry on under the new ones
    db.session.flush()
    audit.record(actor, "role.grant", user, role=role, locality_id=getattr(locality, "id", None),
                 agency_id=getattr(agency, "id", None))
    return grant


def throttle_key(login: str) -> str:
    """One key per account however it is typed (`0912 345 678` and `+84912345678` are one phone)."""
    email, phone = split_login(login)
    return (email or phone or fold(login))[:254]  # the column's length: a long paste must not break log-in


@lru_cache(maxsize=4)
def _decoy_hash(method: str) -> str:
    """A real scrypt hash of nothing anyone types: checked for unknown accounts, so that they take as
    long to refuse as known ones (no enumeration by timing)."""
    import secrets

    return generate_password_hash(secrets.token_urlsafe(24), method=method)


def authenticate(login: str, password: str, ip: str | None = None) -> User | None:
    """The user when the password is right; otherwise records the failure and returns None.

    The same work is done whatever the account: one scrypt check, one failure row.
    """
    user = find_by_login(login)
    usable = user is not None and not user.must_set_password
    hashed = user.password_hash if usable else _decoy_hash(password_hash_method())
    release_before_slow_work()  # the scrypt check holds no lock: other people's forms go on meanwhile
    matches = check_password_hash(hashed, password or "")
    if usable and matches and user.is_active:
        db.session.execute(delete(LoginFailure).where(LoginFailure.login == throttle_key(login), LoginFailure.ip == ip))
        return user
    db.session.add(LoginFailure(login=throttle_key(login), ip=ip))
    db.session.flush()
    return None


def prune_login_failures(older_than_hours: int = 24) -> int:
    """Delete failure rows older than the given hours (the scheduled accounts.prune_login_failures)."""
    result = db.session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - timedelta(hours=older_than_hours)))
    return result.rowcount or 0


def change_password(user: User, password: str) -> None:
    """A new password ends every session of the account (the caller logs the current browser in again)."""
    user.set_password(password)
    end_sessions(user)


def clear_login_failures(user: User) -> None:
    """After a reset the lock-out of 5 wrong passwords ends: the person proved they hold the address."""
    keys = [key for key in (user.email, user.phone) if key]
    if keys:
        db.session.execute(delete(LoginFailure).where(LoginFailure.login.in_(keys)))


def change_email(user: User, email: str, actor=None) -> None:
    email = nfc(email).lower()
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email, User.id != user.id)):
        raise AccountError(_l("This e-mail address is already registered."))
    audit.record(actor or user, "account.email_changed", user, old=user.email, new=email)
    user.email = email
    db.session.flush()


def change_phone(user: User, phone: str, actor=None) -> None:
    if db.session.scalar(select(User.id).where(User.phone == phone, User.id != user.id)):
        raise AccountError(_l("This phone number is already registered."))
    audit.record(actor or user, "account.phone_changed", user, old=user.phone, new=phone)
    user.phone = phone
    db.session.flush()


def update_profile(user: User, full_name: str, locality) -> None:
    name = nfc(full_name)
    if name != user.full_name or locality is not user.locality:
        audit.record(user, "account.profile_changed", user, full_name=name, locality_id=getattr(locality, "id", None))
    user.full_name, user.full_name_folded, user.locality = name, fold(name), locality


def end_sessions(user: User, keep: str | None = None) -> None:
    """Every session of this user (but the one keyed `keep`) stops working.

    Both checks of the user loader agree: the version in the cookie is outdated and the session
    records are marked ended (so "Your sessions" lists no session that no longer opens a page).
    """
    user.session_version = (user.session_version or 1) + 1
    db.session.execute(update(SessionRecord).where(
        SessionRecord.user_id == user.id, SessionRecord.ended_at.is_(None), SessionRecord.key != (keep or ""),
    ).values(ended_at=utcnow()))
    db.session.flush()


# A person's agency and position (they decide assignment rules; the caller announces person_placed).
def set_user_agency(user, agency, position: str | None = None, actor=None) -> None:
    user.agency = agency
    if position is not None:
        set_position(user, position)
    audit.record(actor, "user.agency", user, agency_id=getattr(agency, "id", None))
    db.session.flush()


def set_position(user, position: str) -> None:
    value = nfc(position)[:160] or None
    user.position, user.position_folded = value, fold(value) if value else None
