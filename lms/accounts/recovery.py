"""Getting back into an account, and proving a new address or number: signed links by e-mail,
6-digit codes by SMS, and the limits that keep both from being abused. Each flushes; the caller commits.

Links name a fingerprint of the current password hash (reset) or the address they verify, so a
reset link works once. Codes are stored as an HMAC only, live OTP_LIFETIME_SECONDS, allow
OTP_MAX_ATTEMPTS tries, and a new code replaces the old one.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from lms.accounts.models import OneTimeCode, RecoveryRequest, User
from lms.core.db import utcnow
from lms.core.notices import send_direct
from lms.extensions import db

RESET, PHONE = "reset", "phone"


# ---------------------------------------------------------------- rate limits

def too_many_requests(key: str, ip: str | None) -> bool:
    """True when this login or this IP asked too often lately; otherwise the request is counted."""
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["RECOVERY_WINDOW_MINUTES"])
    recent = select(func.count(RecoveryRequest.id)).where(RecoveryRequest.at >= since)
    if db.session.scalar(recent.where(RecoveryRequest.key == key[:254])) >= config["RECOVERY_MAX_PER_LOGIN"]:
        return True
    if ip and db.session.scalar(recent.where(RecoveryRequest.ip == ip)) >= config["RECOVERY_MAX_PER_IP"]:
        return True
    db.session.add(RecoveryRequest(key=key[:254], ip=ip))
    db.session.flush()
    return False


# ---------------------------------------------------------------- signed links

def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _link(path: str) -> str:
    return f"{current_app.config['LMS_BASE_URL']}{path}"


def reset_token(user: User) -> str:
    return _serializer("reset-password").dumps({"u": user.id, "h": user.password_hash[-16:]})


def _user_for_password_token(salt: str, token: str, max_age: int) -> User | None:
    """The active user a password token names, while their password is still the one it was made for."""
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except BadSignature:
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.is_active or user.password_hash[-16:] != data.get("h"):
        return None
    return user


def user_for_reset_token(token: str) -> User | None:
    return _user_for_password_token("reset-password", token, current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"])


# Imported accounts get no password at all (an unusable hash, see User.must_set_password), so
# no initial password ever exists to leak. The person sets one through a signed link; the link
# names a fingerprint of the current hash, so it works once: setting a password changes the hash.
SET_PASSWORD_MAX_AGE = 30 * 24 * 3600


def set_password_token(user: User) -> str:
    return _serializer("set-password").dumps({"u": user.id, "h": user.password_hash[-16:]})


def user_for_set_password_token(token: str) -> User | None:
    return _user_for_password_token("set-password", token, SET_PASSWORD_MAX_AGE)


def set_password_link(user: User) -> str:
    return _link(f"/set-password/{set_password_token(user)}")


def email_token(user: User, email: str) -> str:
    return _serializer("verify-email").dumps({"u": user.id, "e": email})


def email_change_for_token(token: str, max_age: int = 24 * 3600) -> tuple[User, str] | None:
    try:
        data = _serializer("verify-email").loads(token, max_age=max_age)
    except BadSignature:
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.is_active or not data.get("e"):
        return None
    return user, data["e"]


# ---------------------------------------------------------------- one-time codes

def _digest(code: str) -> str:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), code.encode(), hashlib.sha256).hexdigest()


def issue_code(user: User, purpose: str, target: str) -> str:
    """A fresh 6-digit code for `purpose`; codes issued before it stop working."""
    now = utcnow()
    db.session.execute(update(OneTimeCode).where(
        OneTimeCode.user_id == user.id, OneTimeCode.purpose == purpose, OneTimeCode.used_at.is_(None)
    ).values(used_at=now))
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(OneTimeCode(user_id=user.id, purpose=purpose, target=target, code_hash=_digest(code),
                               expires_at=now + timedelta(seconds=current_app.config["OTP_LIFETIME_SECONDS"])))
    db.session.flush()
    return code


class CodeProblem(ValueError):
    """Why a code was not accepted; the message is shown to the person."""


def check_code(user: User | None, purpose: str, code: str) -> OneTimeCode:
    """The code's row, now used, when `code` is right; raises CodeProblem otherwise (and counts the try)."""
    row = None if user is None else db.session.scalar(
        select(OneTimeCode).where(OneTimeCode.user_id == user.id, OneTimeCode.purpose == purpose,
                                  OneTimeCode.used_at.is_(None)).order_by(OneTimeCode.id.desc()).limit(1))
    if row is None:
        raise CodeProblem(_("This code is not valid any more. Ask for a new one."))
    if row.expires_at <= utcnow():
        raise CodeProblem(_("This code has expired (codes work for 5 minutes). Ask for a new one."))
    if row.attempts >= current_app.config["OTP_MAX_ATTEMPTS"]:
        raise CodeProblem(_("Too many wrong codes. Ask for a new one."))
    if not hmac.compare_digest(row.code_hash, _digest((code or "").strip())):
        row.attempts += 1
        db.session.flush()
        left = current_app.config["OTP_MAX_ATTEMPTS"] - row.attempts
        if left <= 0:
            raise CodeProblem(_("Too many wrong codes. Ask for a new one."))
        raise CodeProblem(_("The code is not correct. %(left)d tries left.", left=left))
    row.used_at = utcnow()
    db.session.flush()
    return row


# ---------------------------------------------------------------- what is sent

def _in_their_language(user: User):
    return force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"])


def send_reset_link(user: User) -> None:
    with _in_their_language(user):
        body = _("Someone (hopefully you) asked to reset the password of your account %(login)s. Open this link "
                 "within an hour to choose a new password:\n\n%(link)s\n\nIf it was not you, ignore this message.",
                 login=user.login_name, link=_link(f"/reset-password/{reset_token(user)}"))
        send_direct("email", user.email, body, purpose="reset", subject=_("Reset your password"), user=user)


def send_reset_code(user: User) -> None:
    code = issue_code(user, RESET, user.phone)
    with _in_their_language(user):
        body = _("%(code)s is your code to reset your password. It works for 5 minutes. Never give it to anyone.",
                 code=code)
    send_direct("sms", user.phone, body, purpose="reset", user=user)


def send_email_verification(user: User, email: str) -> None:
    with _in_their_language(user):
        body = _("Open this link to use %(email)s for your account (valid for 24 hours):\n\n%(link)s",
                 email=email, link=_link(f"/profile/email/{email_token(user, email)}"))
        send_direct("email", email, body, purpose="verify-email", subject=_("Confirm your e-mail address"), user=user)


def send_phone_verification(user: User, phone: str) -> None:
    code = issue_code(user, PHONE, phone)
    with _in_their_language(user):
        body = _("%(code)s is your code to confirm this phone number. It works for 5 minutes.", code=code)
    send_direct("sms", phone, body, purpose="verify-phone", user=user)


def send_code_for(holder: User, purpose: str, number: str, text) -> None:
    """A code kept under `holder` but texted to someone else's `number` (a resident's consent read back to a
    community team member). `text(code)` words the message; the code never reaches a log."""
    code = issue_code(holder, purpose, number)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = text(code)
    send_direct("sms", number, body, purpose=purpose, user=holder)


def send_set_password_link(user: User, batch: list | None = None) -> str | None:
    """An imported person's set-password link, by e-mail or else SMS. The channel used, or None.
    `batch`: see `send_direct` (bulk invitations are queued in chunks)."""
    if not user.must_set_password or not (user.email or user.phone):
        return None
    with _in_their_language(user):
        if user.email:
            body = _("An account was made for you on the training platform (%(login)s). Open this link to choose "
                     "your password (valid for 30 days):\n\n%(link)s", login=user.login_name,
                     link=set_password_link(user))
            send_direct("email", user.email, body, purpose="set-password", subject=_("Choose your password"),
                        user=user, batch=batch)
            return "email"
        body = _("Your training account is ready. Choose your password: %(link)s", link=set_password_link(user))
        send_direct("sms", user.phone, body, purpose="set-password", user=user, batch=batch)
        return "sms"
