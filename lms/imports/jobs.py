"""The import job's life beyond a single run: retried by an administrator, failed when the
background machinery gave up on it (lms.core.outbox)."""

from flask_babel import gettext as _

from lms.core.outbox import enqueue
from lms.core.signals import background_work_failed
from lms.extensions import db
from lms.imports.models import ImportJob


def retry_import(job: ImportJob) -> bool:
    """Queue a failed import again; it goes on from the batches already written. Flush only."""
    if job.status != "failed":
        return False
    job.status, job.message, job.finished_at = "queued", None, None
    enqueue("imports.run", job_id=job.id)
    db.session.flush()
    return True


@background_work_failed.connect
def _give_up_on_the_job(_sender, task, kwargs, error):
    if task != "imports.run":
        return
    job = db.session.get(ImportJob, kwargs.get("job_id"))
    if job is not None and job.status != "done":
        job.status = "failed"
        job.message = _("The import could not be finished (%(error)s). Press Retry to go on from where it stopped.",
                        error=error[:300])
