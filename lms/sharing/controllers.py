"""A person's delivered results, and the administrators' list of deliveries (failed ones retryable)."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.core.lifecycle import load, view
from lms.core.permissions import login_required, role_required
from lms.extensions import db
from lms.privacy.queries import consent_withdrawn, has_consent
from lms.sharing import operations
from lms.sharing.models import ResultDelivery


@view
@login_required
def mine():
    deliveries = db.session.scalars(select(ResultDelivery).where(ResultDelivery.user_id == current_user.id)
                                    .order_by(ResultDelivery.id.desc())).all()
    return render_template("sharing/mine.html", deliveries=deliveries, receiver=operations.receiver(),
                           consented=has_consent(current_user, "results"),
                           withdrawn=consent_withdrawn(current_user.id))


@view
@role_required("admin")
def admin_list():
    deliveries = db.session.scalars(select(ResultDelivery).order_by(ResultDelivery.status == "delivered",
                                                                    ResultDelivery.id.desc()).limit(500)).all()
    return render_template("sharing/admin.html", deliveries=deliveries, receiver=operations.receiver())


@view
@role_required("admin")
@load(ResultDelivery, "delivery_id", name="delivery")
def retry(delivery):
    if delivery.status != "failed":
        flash(_("Only a failed delivery can be sent again."), "error")
        return redirect(url_for("sharing.admin_list")), 303
    operations.retry(delivery, current_user)
    flash(_("The delivery will be sent again."), "success")
    return redirect(url_for("sharing.admin_list"))
