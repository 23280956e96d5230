"""Issuing certificates. Idempotent: one certificate per (user, course), whatever the retries."""

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.certificates.models import Certificate
from lms.certificates.serial import is_well_formed, new_serial, normalise
from lms.core.db import utcnow
from lms.enrollment.models import Enrollment
from lms.extensions import db


def certificate_for(user_id: int, course_id: int) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.user_id == user_id, Certificate.course_id == course_id))


def issue_for_enrollment(enrollment: Enrollment) -> Certificate | None:
    """Issue the course certificate for a completed enrollment, once.

    A concurrent issuer may win the race on the unique (user, course) constraint; then its
    certificate is returned instead of a second one.
    """
    if enrollment.completed_at is None or not enrollment.course.certificate:
        return None
    existing = certificate_for(enrollment.user_id, enrollment.course_id)
    if existing is not None:
        return existing
    course, user = enrollment.course, enrollment.user
    issued_at = utcnow()
    certificate = Certificate(
        serial=new_serial(), user_id=user.id, course_id=course.id, enrollment_id=enrollment.id,
        locality_id=enrollment.locality_id or user.locality_id, holder_name=user.full_name,
        course_title=course.title, hours=course.hours,
        issuing_authority=current_app.config["LMS_ISSUING_AUTHORITY"], issued_at=issued_at,
        expires_at=issued_at + relativedelta(months=course.valid_months) if course.valid_months else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
            db.session.flush()
    except IntegrityError:
        return certificate_for(enrollment.user_id, enrollment.course_id)
    return certificate


def lookup(serial_text: str) -> tuple[str, Certificate | None]:
    """('malformed' | 'unknown' | 'found', certificate) for a typed serial."""
    serial = normalise(serial_text)
    if not is_well_formed(serial):
        return "malformed", None
    certificate = db.session.scalar(select(Certificate).where(Certificate.serial == serial))
    return ("found", certificate) if certificate else ("unknown", None)
