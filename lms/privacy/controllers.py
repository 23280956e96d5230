"""The privacy notice, a person's privacy page (consent, copy of data, deletion), and the admin side."""

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.core import audit
from lms.core.db import utcnow
from lms.core.files import get_store
from lms.core.lifecycle import found, get_or_404, view
from lms.core.permissions import login_required, role_required
from lms.extensions import db
from lms.privacy import operations
from lms.privacy.forms import NoticeForm
from lms.privacy.models import DataRequest


@view
def notice():
    return render_template("privacy/notice.html", notice=operations.current_notice())


@view
@login_required
def my_privacy():
    requests = db.session.scalars(select(DataRequest).where(DataRequest.user_id == current_user.id)
                                  .order_by(DataRequest.id.desc())).all()
    return render_template("privacy/mine.html", notice=operations.current_notice(),
                           consents=operations.consent_log(current_user), consented=operations.has_consent(current_user),
                           requests=requests, deletion=operations.open_request(current_user, "deletion"))


@view
@login_required
def consent():
    action = request.form.get("action")
    if action not in ("given", "withdrawn"):
        abort(400)
    operations.record_consent(current_user, "account", action)
    flash(_("Your consent was recorded.") if action == "given" else
          _("Your consent was withdrawn. We keep only what the law requires; to remove your data, delete your "
            "account below."), "success")
    return redirect(url_for("privacy.my_privacy"))


@view
@login_required
def request_export():
    operations.request_export(current_user)
    flash(_("We are preparing your data. The file appears on this page when it is ready."), "success")
    return redirect(url_for("privacy.my_privacy"))


@view
@login_required
def download_export(request_id):
    data_request = get_or_404(DataRequest, request_id, user_id=current_user.id, kind="export")
    path = found(get_store().local_path(data_request.file_key) if data_request.file_key else None)
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name="du-lieu-cua-toi.zip")


@view
@login_required
def deletion():
    if request.form.get("action") == "cancel":
        operations.cancel_deletion(current_user)
        flash(_("Your account will not be deleted."), "success")
    else:
        data_request = operations.request_deletion(current_user)
        flash(_("Your account will be deleted on %(date)s. Until then you can change your mind on this page.",
                date=data_request.due_at.strftime("%d/%m/%Y")), "success")
    return redirect(url_for("privacy.my_privacy"))


@view
@role_required("admin")
def admin_notice():
    current = operations.current_notice()
    form = NoticeForm(data=None if request.method == "POST" else {"body_vi": current["body_vi"],
                                                                  "body_en": current["body_en"]})
    if form.validate_on_submit():
        published = operations.publish_notice(form.body_vi.data, form.body_en.data, current_user)
        flash(_("Version %(version)d of the privacy notice is published.", version=published.version), "success")
        return redirect(url_for("privacy.admin_notice"))
    status = 400 if form.is_submitted() else 200
    return render_template("privacy/admin_notice.html", form=form, notice=current), status


@view
@role_required("admin")
def register():
    requests = db.session.scalars(select(DataRequest).order_by(DataRequest.status != "pending",
                                                               DataRequest.due_at).limit(500)).all()
    audit.record(current_user, "privacy.register_viewed", current_user, count=len(requests))
    return render_template("privacy/register.html", requests=requests, now=utcnow())
