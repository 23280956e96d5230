from celery import shared_task

from lms.core.db import utcnow
from lms.extensions import db


@shared_task(name="privacy.build_export")
def build_export(request_id: int):
    """Build the person's ZIP into the file store. Idempotent: a ready request is left alone."""
    from lms.accounts.models import User
    from lms.core.files import get_store
    from lms.privacy.export import build_zip
    from lms.privacy.models import DataRequest

    data_request = db.session.get(DataRequest, request_id)
    if data_request is None or data_request.status != "pending" or data_request.user_id is None:
        return "skipped"
    user = db.session.get(User, data_request.user_id)
    key = f"privacy/{data_request.id}/du-lieu-cua-toi.zip"
    get_store().put(key, build_zip(user))
    data_request.file_key, data_request.status, data_request.completed_at = key, "ready", utcnow()
    db.session.commit()
    return "ready"


@shared_task(name="privacy.erase_due")
def erase_due():
    from lms.privacy.erasure import erase_due as erase

    count = erase()
    db.session.commit()
    return count
