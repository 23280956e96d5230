"""The export job's life beyond a single run: retried by its owner, failed when the background
machinery gave up on it (lms.core.outbox)."""

from lms.core.audit import record
from lms.core.outbox import enqueue
from lms.core.signals import background_work_failed
from lms.extensions import db
from lms.reports.models import ReportExport


def retry_export(user, job: ReportExport) -> bool:
    """Queue a failed export again (it is written from the start). Flush only."""
    if job.status != "failed":
        return False
    job.status, job.error, job.rows_done, job.finished_at = "queued", None, 0, None
    enqueue("reports.export", export_id=job.id)
    record(user, "report_export.retry", job)
    db.session.flush()
    return True


@background_work_failed.connect
def _give_up_on_the_job(_sender, task, kwargs, error):
    if task != "reports.export":
        return
    job = db.session.get(ReportExport, kwargs.get("export_id"))
    if job is not None and job.status != "done":
        job.status, job.error = "failed", error[:2000]
