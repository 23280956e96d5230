"""The import job's life beyond a single run: its file checked in the worker (the request only
stores it), retried by an administrator, failed when the background machinery gave up on it
(lms.core.outbox)."""

import csv
import io
import uuid

from flask_babel import gettext as _

from lms.core import audit
from lms.core.db import utcnow
from lms.core.files import get_store
from lms.core.outbox import enqueue
from lms.core.signals import agency_file_received, answer, background_work_failed, file_import_requested
from lms.extensions import db
from lms.imports.models import ImportJob
from lms.imports.reader import FileFormatError, read_table, sniff

SHOWN_ERRORS = 100
JOB_TASKS = ("imports.run", "imports.check", "imports.agencies")


def file_bytes(job: ImportJob) -> bytes:
    path = get_store().local_path(job.file_key)
    if path is None:
        raise FileFormatError(_("The uploaded file is missing from the file store; upload it again."))
    return path.read_bytes()


def queue_check(job: ImportJob) -> None:
    """Have the worker read the file and make the dry run with the job's mapping. Flush only."""
    job.status, job.message, job.finished_at = "checking", None, None
    enqueue("imports.check", job_id=job.id)
    db.session.flush()


def check_file(job: ImportJob) -> None:
    """In the worker: read the file (bounded, lms.imports.reader), detect the columns the first time,
    and store the header row, the first rows and the dry run for the preview page. Writes nothing else."""
    from lms.imports.mapping import detect
    from lms.imports.operations import plan_import

    try:
        headers, rows = read_table(file_bytes(job), job.filename)
    except FileFormatError as error:
        job.status, job.message, job.finished_at = "failed", str(error), utcnow()
        job.preview = {"unreadable": True}  # a retry checks the file again (lms.imports.jobs.retry_import)
        return
    if not job.mapping:
        job.mapping = detect(headers)
    plan = plan_import(headers, rows, job.mapping, job.default_audience)
    job.headers = headers
    job.samples = [row[:len(headers)] for row in rows if any(row)][:5]
    job.preview = {"total": plan.total, "counts": plan.counts, "error_count": len(plan.errors),
                   "errors": [[number, message] for number, _cells, message in plan.errors[:SHOWN_ERRORS]]}
    job.total, job.status = plan.total, "ready"


def store_upload(data: bytes, filename: str, kind: str, user, **fields) -> ImportJob:
    """Keep the uploaded file and create its job. Flush only."""
    key = f"imports/{uuid.uuid4().hex}/{'people.xlsx' if data[:2] == b'PK' else 'people.csv'}"
    get_store().put(key, data)
    job = ImportJob(created_by_id=user.id, filename=filename, file_key=key, kind=kind, mapping={}, **fields)
    db.session.add(job)
    db.session.flush()
    audit.record(user, f"import.{kind}.upload", job, filename=filename, size=len(data))
    return job


def import_agency_file(job: ImportJob) -> None:
    """In the worker: agencies reads the job's CSV, set-based; errors into the job's error file."""
    try:
        counts = answer(agency_file_received, job, data=file_bytes(job), actor=job.created_by)
    except FileFormatError as error:
        counts = {"refused": str(error)}
    if "refused" in counts:
        job.status, job.message, job.finished_at = "failed", counts["refused"], utcnow()
        return
    job.created, job.updated, job.failed = counts["created"], counts["updated"], len(counts["errors"])
    job.total = job.processed = job.created + job.updated + job.failed
    if counts["errors"]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([_("Row"), _("Error")])
        writer.writerows(counts["errors"])
        job.errors_key = f"imports/{job.id}/errors.csv"
        get_store().put(job.errors_key, ("\ufeff" + out.getvalue()).encode("utf-8"))
    job.status, job.finished_at = "done", utcnow()


def retry_import(job: ImportJob) -> bool:
    """Queue a failed job again: a file never checked is checked; an import goes on from the batches
    already written. Flush only."""
    if job.status != "failed":
        return False
    audit.record(None, f"import.{job.kind}.retry", job)
    if job.kind == "people" and (job.preview or {}).get("unreadable"):
        queue_check(job)
        return True
    job.status, job.message, job.finished_at = "queued", None, None
    enqueue("imports.agencies" if job.kind == "agencies" else "imports.run", job_id=job.id)
    db.session.flush()
    return True


@background_work_failed.connect
def _give_up_on_the_job(_sender, task, kwargs, error):
    if task not in JOB_TASKS:
        return
    job = db.session.get(ImportJob, kwargs.get("job_id"))
    if job is not None and task == "imports.check":
        job.preview = {"unreadable": True}
    if job is not None and job.status != "done":
        job.status = "failed"
        job.message = _("The import could not be finished (%(error)s). Press Retry to go on from where it stopped.",
                        error=error[:300])


@file_import_requested.connect
def _store_agency_file(user, *, data: bytes, filename: str, kind: str, **_):
    """An agencies CSV uploaded on the agencies page: checked, kept, and its import queued."""
    sniff(data, filename.rsplit(".", 1)[0] + ".csv")
    if data[:2] == b"PK":
        raise FileFormatError(_("Agencies are imported from a CSV file (in Excel: save as “CSV UTF-8”)."))
    job = store_upload(data, filename, kind, user, status="queued")
    enqueue("imports.agencies", job_id=job.id)
    return job
