from flask import Response, render_template, request, stream_with_context
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.audit import operations, queries
from lms.core import audit
from lms.core.lifecycle import view
from lms.core.models import AuditEvent
from lms.core.permissions import role_required
from lms.extensions import db

PAGE_SIZE = 50


def _page() -> int:
    raw = request.args.get("page", "1")
    return min(max(int(raw), 1), 100_000) if raw.isdigit() and len(raw) < 7 else 1


@view
@role_required("admin")
def index():
    filters = queries.Filters.from_args(request.args)
    statement = queries.events(filters)
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    page = _page()
    rows = db.session.scalars(statement.options(joinedload(AuditEvent.actor))
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("audit/index.html", events=rows, filters=filters, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), actions=queries.action_names(),
                           retention=operations.retention_days())


@view
@role_required("admin")
def export_csv():
    filters = queries.Filters.from_args(request.args)
    audit.record(current_user, "audit.export", AuditEvent(), filters=filters.as_args())
    statement = queries.events(filters).options(joinedload(AuditEvent.actor))
    lines = operations.csv_lines(_pages(statement))
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit-log.csv"})


def _pages(statement, size: int = 1000):
    """The events page by page (by id, newest first), each page its own short query: no cursor
    stays open while the download streams."""
    last_id = None
    while True:
        page = statement.order_by(None).order_by(AuditEvent.id.desc()).limit(size)
        if last_id is not None:
            page = page.where(AuditEvent.id < last_id)
        rows = db.session.scalars(page).unique().all()
        yield from rows
        if len(rows) < size:
            return
        last_id = rows[-1].id
        db.session.expunge_all()
