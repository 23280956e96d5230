from celery import shared_task

from lms.extensions import db


@shared_task(name="audit.purge")
def purge_old_events():
    """Daily: drop audit events older than LMS_AUDIT_RETENTION_DAYS."""
    from lms.audit.operations import purge

    removed = purge()
    db.session.commit()
    return removed
