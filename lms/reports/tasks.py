import logging
import os
import tempfile

from celery import shared_task
from sqlalchemy.engine import Engine

from lms.community import queries as community_queries
from lms.core import outbox
from lms.core.db import utcnow
from lms.core.files import get_store
from lms.extensions import db
from lms.reports import exports, summary
from lms.reports.forms import parse_filters
from lms.reports.models import ReportExport

log = logging.getLogger(__name__)
PROGRESS_EVERY = 10_000


@shared_task(name="reports.refresh_summary")
def refresh_summary():
    rows = summary.refresh()
    db.session.commit()
    return rows


@shared_task(name="reports.export")
def export(export_id: int):
    """Write a learner list to the file store; safe to run twice (a done job is left alone)."""
    job = db.session.get(ReportExport, export_id)
    if job is None or job.status == "done":
        return None
    if job.kind == "community":
        header, table = community_queries.export_table(job.locality)
        job.status, job.rows_done, job.rows_total = "running", 0, len(table)
        db.session.commit()
        return _write(export_id, job, header, iter(table))
    _, filters = parse_filters(job.params)
    job.status, job.rows_done = "running", 0
    job.rows_total = exports.count_learners(job.locality, filters)
    db.session.commit()

    def progress(done):
        # Its own short transaction, so the progress page sees it while the cursor stays open.
        # The outbox lease is kept with it: a long export is alive, not stuck.
        statements = [db.update(ReportExport).where(ReportExport.id == export_id).values(rows_done=done),
                      outbox.lease_statement()]
        bind = db.session.get_bind()
        if bind.dialect.name == "sqlite":
            return  # one writer at a time: a second connection would wait for this task's own lock
        # `is not None`, not truthiness: a SQL statement has no truth value (TypeError).
        for statement in (s for s in statements if s is not None):
            if isinstance(bind, Engine):
                with bind.begin() as connection:
                    connection.execute(statement)
            else:  # tests: one connection, one rolled-back transaction
                db.session.execute(statement)

    def counted(rows):
        for number, row in enumerate(rows, start=1):
            if number % PROGRESS_EVERY == 0:
                progress(number)
            yield row

    return _write(export_id, job, exports.learner_header(), counted(exports.learner_rows(job.locality, filters)))


def _write(export_id: int, job: ReportExport, header: list, rows) -> str | None:
    """Write the rows to the file store as the job's CSV or XLSX (formula-safe: lms.core.spreadsheets)."""
    key = f"exports/{job.user_id}/{job.id}/{job.kind}.{job.format}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, f"{job.kind}.{job.format}")
            if job.format == "xlsx":
                exports.write_xlsx(path, header, rows)
            else:
                with open(path, "w", encoding="utf-8", newline="") as handle:
                    for chunk in exports.csv_chunks(header, rows):
                        handle.write(chunk)
            get_store().put_file(key, path)
    except Exception as error:  # noqa: BLE001 - recorded on the job for the person waiting
        db.session.rollback()
        job = db.session.get(ReportExport, export_id)
        job.status, job.error = "failed", f"{type(error).__name__}: {error}"[:2000]
        db.session.commit()
        log.exception("export %s failed", export_id)
        return None
    job = db.session.get(ReportExport, export_id)
    job.status, job.file_key, job.rows_done, job.finished_at = "done", key, job.rows_total, utcnow()
    db.session.commit()
    return key
