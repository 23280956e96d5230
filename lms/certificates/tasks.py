from celery import shared_task

from lms.certificates.operations import issue_for_enrollment
from lms.enrollment.models import Enrollment
from lms.extensions import db


@shared_task(name="certificates.issue", autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def issue_certificate(enrollment_id: int):
    """Issue the certificate for a completed enrollment; safe to run twice."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None:
        return None
    certificate = issue_for_enrollment(enrollment)
    db.session.commit()
    return certificate.serial if certificate else None
