"""Accounts made before consent existed: asked to accept the current notice at their next login.

Flask-Login's `user_logged_in` (sent by every login: password, SSO, a new registration) marks the
session when the account is listed in `notice_reviews`; until the person accepts, every page but
the notice, the review page itself and logout leads to the review page, which then continues to
where they were going. The list, not the session, is the truth: accepting removes the row
(`record_consent`), so the question is asked once per account, not once per device.
"""

from flask import redirect, request, session, url_for
from flask_login import current_user, user_logged_in

from lms.privacy.queries import must_review_notice

_FLAG = "privacy_review"
_OPEN = {"static", "privacy.notice", "privacy.review", "accounts.logout"}


@user_logged_in.connect
def _ask_at_login(app, user, **_details) -> None:
    if must_review_notice(user.id):
        session[_FLAG] = True
    else:
        session.pop(_FLAG, None)


def ask_for_review():
    """before_app_request: send a person who still owes the answer to the review page."""
    if not session.get(_FLAG) or request.endpoint in _OPEN or not current_user.is_authenticated:
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("privacy.review", next=target))


def reviewed() -> None:
    session.pop(_FLAG, None)
