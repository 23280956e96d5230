"""Log-in defences that slow an attacker down without ever locking the owner out (ASVS 2.2.1).

- Per IP (Flask-Limiter, counted in Redis in production so every app process agrees): at most
  LMS_LOGIN_IP_LIMIT *failed* log-ins — one address cannot try 40 accounts in a second, while a
  classroom behind one address still logs in together (successes are not counted).
- Per account and address: after LOGIN_THROTTLE_MAX_FAILURES failures within the window, each
  further try from that address waits twice as long as the one before (1 s, 2 s, 4 s … at most
  LOGIN_THROTTLE_MAX_DELAY_SECONDS). Nothing is locked: the owner logging in from anywhere else is
  not slowed by what someone does from here.
- Per account from everywhere (a guess spread over many addresses): past
  LOGIN_THROTTLE_ACCOUNT_FAILURES the same growing delay applies to every device this account never
  logged in from. A device the owner logged in from before carries a signed cookie (OWASP "device
  cookies") and is never slowed by other people's failures.

Failures are kept in `login_failures` (any login name, known or not, so delays tell nothing about
whether an account exists).
"""

import math
from datetime import timedelta

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, func, select

from lms.accounts.models import LoginFailure
from lms.core.db import utcnow
from lms.extensions import db

DEVICE_COOKIE = "lms_device"
DEVICE_COOKIE_DAYS = 365


def failed_login(response) -> bool:
    """Flask-Limiter's `deduct_when`: only a refused log-in counts against the address."""
    return request.method == "POST" and response.status_code != 302


def registered(response) -> bool:
    """Flask-Limiter's `deduct_when` for registration: only an account created counts (not a logged-in
    person sent on, nor a form with mistakes)."""
    return bool(g.get("account_created"))


def every_request(response) -> bool:
    return True


# (endpoint, config key of the limit, what counts): installed by lms.core.ratelimits.
ROUTE_LIMITS = [
    ("accounts.login", "LMS_LOGIN_IP_LIMIT", failed_login),
    ("accounts.register", "LMS_REGISTER_IP_LIMIT", registered),
    # The strength meter: zxcvbn costs a few ms; a person types a few dozen keys a minute (debounced).
    ("accounts.password_strength", "LMS_PASSWORD_CHECK_LIMIT", every_request),
]


def _delay(failures: int, free: int) -> float:
    if failures < free:
        return 0.0
    return float(min(2 ** (failures - free), current_app.config["LOGIN_THROTTLE_MAX_DELAY_SECONDS"]))


def _count_and_last(*conditions) -> tuple[int, object]:
    since = utcnow() - timedelta(minutes=current_app.config["LOGIN_THROTTLE_WINDOW_MINUTES"])
    return db.session.execute(select(func.count(LoginFailure.id), func.max(LoginFailure.at))
                              .where(and_(LoginFailure.at >= since, *conditions))).one()


def wait_seconds(key: str, ip: str | None, trusted_device: bool) -> int:
    """How long this address must wait before its next try at this account (0: try now)."""
    config = current_app.config
    now = utcnow()
    count, last = _count_and_last(LoginFailure.login == key, LoginFailure.ip == ip)
    wait = _delay(count, config["LOGIN_THROTTLE_MAX_FAILURES"]) - ((now - last).total_seconds() if last else 0)
    if not trusted_device:
        count, last = _count_and_last(LoginFailure.login == key)
        spread = _delay(count, config["LOGIN_THROTTLE_ACCOUNT_FAILURES"]) - ((now - last).total_seconds() if last else 0)
        wait = max(wait, spread)
    return max(0, math.ceil(wait))


def _devices() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def device_user_id() -> int | None:
    """The account this browser logged in to before, from its signed device cookie."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        value = _devices().loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def remember_device(response, user_id: int):
    config = current_app.config
    response.set_cookie(DEVICE_COOKIE, _devices().dumps(user_id), max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
                        httponly=True, samesite="Lax", secure=config.get("SESSION_COOKIE_SECURE", False))
    return response
