"""Managers' page of pending "official"/"CIO" requests (lms.accounts.audiences)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts import audiences
from lms.accounts.models import User
from lms.core.lifecycle import discard, view
from lms.core.permissions import can, login_required
from lms.extensions import db


def _require_manager():
    if not can("oversee"):
        abort(403)


@view
@login_required
def requests_page():
    _require_manager()
    return render_template("accounts/audience_requests.html", people=audiences.pending_for(current_user))


@view
@login_required
def decide(user_id):
    _require_manager()
    raw = request.form.get("decision", "")
    person = db.session.get(User, user_id)
    if person is None or raw not in ("approve", "refuse"):
        abort(404 if person is None else 400)
    status = 409 if person.audience_requested is None else 403  # already decided, or out of the manager's area
    try:
        audiences.decide(current_user, person, raw == "approve")
    except audiences.AudienceError as error:
        discard()
        flash(str(error), "error")
        return render_template("accounts/audience_requests.html", people=audiences.pending_for(current_user)), status
    flash(_("%(name)s is now counted as they asked.", name=person.full_name) if raw == "approve"
          else _("The request of %(name)s was refused; the account stays a resident's.", name=person.full_name),
          "success")
    return redirect(url_for("accounts.audience_requests"), 303)
