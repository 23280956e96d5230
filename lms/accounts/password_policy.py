"""What makes a password acceptable (ASVS 2.1): 8 to 128 characters, not on a list of common passwords,
and not easy to guess for zxcvbn, the strength estimator — told the person's own name and login, so
"NguyenVanAn1990" is weak for Nguyễn Văn An.

`password_problems` returns the reasons in the person's language (empty: acceptable); every form
that sets a password uses it: registration, the set-password link, and password change/reset.
"""

from functools import lru_cache
from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import gettext as _
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from lms.core.text import fold

# ASVS 2.1.1: at least 12 characters (a phrase of three short words is easier to type on a phone than
# 8 random symbols), at most 128 (2.1.2).
MIN_LENGTH, MAX_LENGTH = 12, 128
# zxcvbn's scores: 0 too guessable … 4 very unguessable. 2 ("somewhat guessable", ~10^8 guesses) keeps
# an online attacker out with the log-in throttling while staying within reach of people on cheap phones.
DEFAULT_MIN_SCORE = 2
# zxcvbn only reads this much; longer passwords are not weaker for it.
_ESTIMATE_CHARS = 100


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    listed = Path(__file__).with_name("common_passwords_vi.txt").read_text(encoding="utf-8").splitlines()
    ours = {line.strip().lower() for line in listed if line.strip() and not line.startswith("#")}
    return frozenset(ours | set(FREQUENCY_LISTS["passwords"][:10_000]))


def _min_score() -> int:
    return current_app.config.get("LMS_PASSWORD_MIN_SCORE", DEFAULT_MIN_SCORE) if has_app_context() else DEFAULT_MIN_SCORE


def _hints(user_inputs) -> list[str]:
    """The person's own words, folded (no diacritics) as people type them in passwords."""
    words = []
    for value in user_inputs:
        if value:
            folded = fold(str(value))
            words.extend([folded, folded.replace(" ", ""), *folded.replace("@", " ").replace(".", " ").split()])
    return [word for word in words if len(word) >= 3]


def password_problems(password: str, user_inputs=()) -> list[str]:
    """Why `password` is not acceptable, in the person's language; an empty list when it is."""
    return strength(password, user_inputs)[1]


def strength(password: str, user_inputs=()) -> tuple[int, list[str]]:
    """(zxcvbn score 0–4, the problems of password_problems): the live meter and the server's check
    are this one function, so the meter never says "strong" for a password the form then refuses."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return 0, [_("The password must have at least %(min)d characters.", min=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return 0, [_("The password can have at most %(max)d characters.", max=MAX_LENGTH)]
    if password.lower() in common_passwords() or fold(password).replace(" ", "") in common_passwords():
        return 0, [_("This password is one of the most common ones and is tried first by attackers. "
                     "Choose another.") + " " + _hint()]
    score = zxcvbn(password[:_ESTIMATE_CHARS], user_inputs=_hints(user_inputs))["score"]
    if score < _min_score():
        return score, [_("This password is too easy to guess.") + " " + _hint()]
    return score, []


def _hint() -> str:
    return _("Tip: use several words that only you would put together, with a number, "
             "e.g. “ca phe sua da luc 7 gio” — no need for diacritics. Avoid your name, phone number and birthday.")
