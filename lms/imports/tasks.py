from celery import shared_task

from lms.core import outbox
from lms.core.db import utcnow
from lms.extensions import db
from lms.imports.models import ImportJob


@shared_task(name="imports.run")
def run_import(job_id: int):
    """Run a queued import. Safe to run twice: a finished job is left alone, and the import itself
    matches existing accounts, so a re-run after a crash updates instead of duplicating."""
    from lms.core.files import get_store
    from lms.imports import operations
    from lms.imports.reader import FileFormatError, read_table

    job = db.session.get(ImportJob, job_id)
    if job is None or job.status == "done":
        return None
    # A run that died (worker killed) left its committed batches and their counts: this run goes on
    # from there. The people already written now match as unchanged, so they are not counted twice.
    created_before, updated_before = job.created, job.updated
    job.status, job.started_at, job.message = "running", job.started_at or utcnow(), None
    db.session.commit()
    try:
        path = get_store().local_path(job.file_key)
        if path is None:
            raise FileFormatError("the uploaded file is missing from the file store")
        headers, rows = read_table(path.read_bytes(), job.filename)
        plan = operations.plan_import(headers, rows, job.mapping, job.default_audience)
        job.total = plan.total
        base = plan.unchanged + len(plan.errors)
        job.processed = base
        db.session.commit()

        def progress(done):
            # The batch just written and the counts that include it commit together.
            job.processed = base + done
            job.created = created_before + min(done, len(plan.creates))
            job.updated = updated_before + max(0, done - len(plan.creates))
            outbox.extend_lease()
            db.session.commit()

        counts = operations.apply_plan(plan, progress)
        if counts["created"] or counts["updated"]:
            from lms.core.signals import people_imported

            people_imported.send(job)  # assignments apply every rule once, set-based
        if plan.errors:
            job.errors_key = f"imports/{job.id}/errors.csv"
            get_store().put(job.errors_key, operations.error_file(headers, plan.errors))
        job.created, job.updated = created_before + counts["created"], updated_before + counts["updated"]
        job.failed = counts["failed"]
        job.processed, job.status, job.finished_at = job.total, "done", utcnow()
        _tell_the_admin(job)
        if counts["created"]:
            outbox.enqueue("accounts.invite_imported")  # their set-password links, by e-mail or SMS
        db.session.commit()
    except Exception as error:  # noqa: BLE001 - record any failure on the job for the admin to see
        db.session.rollback()
        job = db.session.get(ImportJob, job_id)
        job.status, job.message, job.finished_at = "failed", f"{type(error).__name__}: {error}"[:2000], utcnow()
        db.session.commit()
    return job.status


@shared_task(name="imports.check")
def check_import_file(job_id: int):
    """Read an uploaded people file and make its dry run (lms.imports.jobs.check_file)."""
    from lms.imports.jobs import check_file

    job = db.session.get(ImportJob, job_id)
    if job is None or job.status != "checking":
        return None
    outbox.extend_lease()
    check_file(job)
    db.session.commit()
    return job.status


@shared_task(name="imports.agencies")
def import_agencies_file(job_id: int):
    """Import an uploaded agencies CSV (lms.imports.jobs.import_agency_file)."""
    from lms.imports.jobs import import_agency_file

    job = db.session.get(ImportJob, job_id)
    if job is None or job.status not in ("queued", "running"):
        return None
    job.status, job.started_at = "running", utcnow()
    db.session.commit()
    import_agency_file(job)
    if job.status == "done":
        _tell_the_admin(job)
    db.session.commit()
    return job.status


def _tell_the_admin(job: ImportJob) -> None:
    from flask import current_app
    from flask_babel import gettext as _

    from lms.core.notices import notify

    if job.created_by is None:
        return
    link = f"{current_app.config['LMS_BASE_URL']}/admin/imports/{job.id}"
    summary = _("%(created)d new accounts, %(updated)d updated, %(failed)d rows with errors.",
                created=job.created, updated=job.updated, failed=job.failed)
    if job.kind == "agencies":
        summary = _("%(created)d agencies created, %(updated)d updated, %(failed)d rows with errors.",
                    created=job.created, updated=job.updated, failed=job.failed)
    notify(job.created_by, "import", _("Import of %(file)s finished", file=job.filename), summary,
           dedupe_key=f"import:{job.id}:done", link=link)
