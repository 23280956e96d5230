"""A person's delivered results, and the administrators' list of deliveries (failed ones retryable)."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.core.lifecycle import load, view
from lms.core.permissions import login_required, role_required
from lms.privacy.queries import consent_withdrawn, has_consent
from lms.sharing import operations, queries
from lms.sharing.models import ResultDelivery


@view
@login_required
def mine():
    return render_template("sharing/mine.html", deliveries=queries.deliveries_of(current_user.id),
                           receiver=queries.receiver(), consented=has_consent(current_user, "results"),
                           withdrawn=consent_withdrawn(current_user.id))


@view
@role_required("admin")
def admin_list():
    return render_template("sharing/admin.html", deliveries=queries.latest_deliveries(), receiver=queries.receiver())


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
