"""The live password-strength meter's endpoint (ASVS 2.1.8): the same check as the forms
(password_policy.strength), answered as JSON for static/js/password-meter.js.

POST only, with the CSRF token (the password never sits in a URL, so never in an access log), limited
per address (LMS_PASSWORD_CHECK_LIMIT, Flask-Limiter: throttle.ROUTE_LIMITS), and nothing here logs or
stores what was typed. Without JavaScript nobody calls it: the form's own check on submit stays.
"""

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts.password_policy import MAX_LENGTH, strength
from lms.core.lifecycle import view

# What the person typed into the same form that zxcvbn should treat as guessable (their name, login).
_HINT_FIELDS = ("full_name", "login")


@view
def password_strength():
    password = request.form.get("password", "")[: MAX_LENGTH + 1]
    hints = [request.form.get(name, "")[:254] for name in _HINT_FIELDS]
    if current_user.is_authenticated:
        hints += [current_user.full_name, current_user.login_name]
    score, problems = strength(password, [hint for hint in hints if hint])
    if problems:
        message = problems[0]
    elif score >= 4:
        message = _("Strong password.")
    else:
        message = _("Good enough. A longer phrase would be even safer.")
    return jsonify(ok=not problems, score=score, message=message)
