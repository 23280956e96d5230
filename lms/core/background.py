"""The administrators' view of background work: what is open, what failed (with Retry), what the
last repair sweep found, and whether the runner or the broker is there."""

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from lms.core import audit, inputs, outbox
from lms.core.controllers import queue_status
from lms.core.db import utcnow
from lms.core.lifecycle import view
from lms.core.models import OutboxMessage, WorkerMark
from lms.core.permissions import role_required
from lms.extensions import db

SHOWN = 50
LATE = timedelta(minutes=2)


@view
@role_required("admin")
def overview():
    failed = db.session.scalars(select(OutboxMessage).where(OutboxMessage.state == outbox.FAILED)
                                .order_by(OutboxMessage.finished_at.desc()).limit(SHOWN)).all()
    late = db.session.scalars(select(OutboxMessage).where(OutboxMessage.state.in_(outbox.OPEN_STATES),
                                                          OutboxMessage.created_at <= utcnow() - LATE)
                              .order_by(OutboxMessage.created_at).limit(SHOWN)).all()
    return render_template("core/background.html", stats=outbox.stats(), failed=failed, late=late,
                           repair=db.session.get(WorkerMark, "repair.last"), queue=queue_status(True),
                           mode=outbox.mode())


@view
@role_required("admin")
def retry():
    """Retry one failed message (`message_id`) or all of them."""
    query = select(OutboxMessage).where(OutboxMessage.state == outbox.FAILED)
    if request.form.get("message_id"):  # one message; an id that is no id matches none
        query = query.where(OutboxMessage.id == (inputs.form_id("message_id") or 0))
    messages = db.session.scalars(query.limit(1000)).all()
    for message in messages:
        outbox.retry(message)
        audit.record(None, "background.retry", message, task=message.task)
    flash(_("%(n)d tasks were queued again.", n=len(messages)), "info")
    return redirect(url_for("core.background"), 303)


@view
@role_required("admin")
def repair_now():
    message = outbox.enqueue("certificates.repair")
    audit.record(None, "background.repair", message)
    flash(_("The repair sweep was queued; its findings appear here when it has run."), "info")
    return redirect(url_for("core.background"), 303)
