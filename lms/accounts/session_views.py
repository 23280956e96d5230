"""Your sessions (OWASP ASVS 3.3.4): see where you are signed in, end one or all the others."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts import sessions
from lms.accounts.devices import summary
from lms.core.lifecycle import found, view
from lms.core.permissions import login_required


@view
@login_required
def my_sessions():
    key = sessions.current_key()
    rows = [{"record": record, "device": summary(record.user_agent), "this": record.key == key}
            for record in sessions.live_sessions(current_user.id)]
    rows.sort(key=lambda row: not row["this"])  # this device first
    return render_template("accounts/sessions.html", rows=rows)


@view
@login_required
def end_session(record_id: int):
    """End one session of mine; another person's (or an ended one) is not found."""
    found(sessions.end(current_user.id, record_id=record_id) or None)
    return _done(_("The session was ended: that device must log in again."))


@view
@login_required
def end_other_sessions():
    sessions.end_other_sessions(current_user)
    return _done(_("Every other session was ended."))


def _done(message: str):
    flash(message, "success")
    return redirect(url_for("accounts.my_sessions"))
