"""Reads about accounts, for this feature and for others (classes, authoring, community, imports)."""

import re

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.core.text import nfc
from lms.extensions import db

_PHONE = re.compile(r"^0\d{9}$")


def normalise_phone(raw: str) -> str | None:
    """Vietnamese mobile numbers as 10 digits starting with 0 (+84 / 84 prefixes accepted)."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _PHONE.match(digits) else None


def split_login(login: str) -> tuple[str | None, str | None]:
    """Return (email, phone) for what a person typed in the login box."""
    login = nfc(login)
    if "@" in login:
        return login.lower(), None
    return None, normalise_phone(login)


def find_by_login(login: str) -> User | None:
    email, phone = split_login(login)
    if email:
        return db.session.scalar(select(User).where(func.lower(User.email) == email))
    if phone:
        return db.session.scalar(select(User).where(User.phone == phone))
    return None
