"""The privacy notice, a person's privacy page (consent, copy of data, deletion), and the admin side."""

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from lms.core import audit
from lms.core.db import utcnow
from lms.core.files import get_store
from lms.core.lifecycle import found, get_or_404, view
from lms.core.permissions import login_required, role_required
from lms.core.urls import is_safe_next
from lms.extensions import db
from lms.privacy import gate, operations, queries
from lms.privacy.forms import NoticeForm, ReviewForm
from lms.privacy.models import DataRequest


@view
def notice():
    return render_template("privacy/notice.html", notice=queries.current_notice())


@view
@login_required
def review():
    """The one page an account made before consent existed sees at its next login (lms/privacy/gate.py)."""
    target = request.args.get("next")
    target = target if is_safe_next(target) else url_for("enrollment.my_learning")
    form = ReviewForm()
    if form.validate_on_submit():
        operations.record_consent(current_user, "login")
        gate.reviewed()
        flash(_("Thank you. Your consent was recorded."), "success")
        return redirect(target)
    status = 400 if form.is_submitted() else 200
    return render_template("privacy/review.html", form=form, notice=queries.current_notice()), status


@view
@login_required
def my_privacy():
    requests = db.session.scalars(select(DataRequest).where(DataRequest.user_id == current_user.id)
                                  .order_by(DataRequest.id.desc())).all()
    return render_template("privacy/mine.html", notice=queries.current_notice(),
                           consents=queries.consent_log(current_user), consented=queries.has_consent(current_user),
                           shares=queries.has_consent(current_user, "results"),
                           receiver=current_app.config.get("LMS_RESULTS_ENDPOINT") and
                           (current_app.config.get("LMS_RESULTS_LABEL") or "VNeID"),
                           requests=requests, deletion=queries.open_request(current_user, "deletion"))


WITHDRAWN = {
    "account": _l("Your consent was withdrawn. From now on you get no e-mail from the platform (notifications and "
                  "reminders stay in your account only) and no results are sent to other systems. Training that is "
                  "mandatory for officials continues on the legal basis of the public task (Decree 13/2023, Art. 17); "
                  "to remove your data, delete your account below."),
    "results": _l("Your results will no longer be sent to other systems."),
}


@view
@login_required
def consent():
    action, purpose = request.form.get("action"), request.form.get("purpose", "account")
    if action not in ("given", "withdrawn") or purpose not in WITHDRAWN:
        abort(400)
    operations.record_consent(current_user, "account", action, purpose=purpose)
    if action == "withdrawn":
        message = str(WITHDRAWN[purpose])
    elif purpose == "results":
        message = _("Your new certificates will be sent to %(receiver)s.",
                    receiver=current_app.config.get("LMS_RESULTS_LABEL") or "VNeID")
    else:
        message = _("Your consent was recorded.")
    flash(message, "success")
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
    current = queries.current_notice()
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
