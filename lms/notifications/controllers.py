from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.core.lifecycle import view
from lms.core.permissions import login_required, role_required
from lms.core.urls import is_safe_next
from lms.extensions import db
from lms.notifications import operations, queries
from lms.notifications.forms import preferences_form
from lms.notifications.models import KINDS, MailboxMessage, NotificationPreference


@view
@login_required
def index():
    return render_template("notifications/index.html", notifications=queries.recent(current_user.id))


@view
@login_required
def mark_read():
    notification_id = request.form.get("id", type=int)
    operations.mark_read(current_user, notification_id)
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("notifications.index"))


@view
@login_required
def preferences():
    current = dict(db.session.execute(select(NotificationPreference.kind, NotificationPreference.email)
                                      .where(NotificationPreference.user_id == current_user.id)).all())
    form = preferences_form(KINDS, current, formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        operations.set_preferences(current_user, {kind: getattr(form, f"email_{kind}").data for kind in KINDS})
        flash(_("Your notification settings were saved."), "success")
        return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", form=form, kinds=KINDS)


@view
@role_required("admin")
def mailbox():
    messages = db.session.scalars(select(MailboxMessage).order_by(MailboxMessage.id.desc()).limit(200)).all()
    return render_template("notifications/mailbox.html", messages=messages)
