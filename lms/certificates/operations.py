"""Certificate state changes. Flush only; tasks and controllers commit.

Issuing is idempotent: one certificate per (user, course or program, generation). A second
issuer racing on the same message loses on the unique constraint inside a savepoint and
returns the winner's certificate, so duplicated messages and retries never make two.
"""

from datetime import timedelta

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.certificates.models import Certificate, VerificationLookup
from lms.certificates.queries import certificate_for, latest_certificate, program_certificate_for, renewal_enrollments
from lms.certificates.serial import new_serial
from lms.completion.rules import completion_time
from lms.core import audit, outbox
from lms.core.db import lock_for, utcnow
from lms.core.signals import certificate_issued, renewal_started
from lms.core.text import nfc
from lms.enrollment.models import Enrollment
from lms.extensions import db


class CertificateError(ValueError):
    pass


def _insert(certificate: Certificate, subject: dict) -> Certificate:
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
            db.session.flush()
    except IntegrityError:
        winner = latest_certificate(certificate.user_id, **subject)
        if winner is None or winner.generation < certificate.generation:
            raise  # not a lost race (a serial collision, say): let the task retry
        return winner
    certificate_issued.send(certificate)
    return certificate


def _expiry(issued_at, valid_months):
    return issued_at + relativedelta(months=valid_months) if valid_months else None


def _next_generation(latest: Certificate | None, completed_at) -> int | None:
    """None when the latest certificate still stands for this completion."""
    if latest is None:
        return 1
    # Renewal: the learner completed again after the certificate expired.
    if latest.status() == "expired" and completed_at is not None and completed_at > latest.issued_at:
        return latest.generation + 1
    return None


def issue_for_enrollment(enrollment: Enrollment) -> Certificate | None:
    """Issue the course certificate for a completed enrollment, once per completion."""
    if enrollment.completed_at is None or not enrollment.course.certificate:
        return None
    latest = certificate_for(enrollment.user_id, enrollment.course_id)
    generation = _next_generation(latest, enrollment.completed_at)
    if generation is None:
        return latest
    course, user = enrollment.course, enrollment.user
    issued_at = utcnow()
    certificate = Certificate(
        serial=new_serial(), user_id=user.id, course_id=course.id, generation=generation, enrollment_id=enrollment.id,
        locality_id=enrollment.locality_id or user.locality_id, holder_name=user.full_name,
        course_title=course.title, hours=course.hours,
        issuing_authority=current_app.config["LMS_ISSUING_AUTHORITY"], issued_at=issued_at,
        expires_at=_expiry(issued_at, course.valid_months),
    )
    return _insert(certificate, {"course_id": course.id})


def issue_for_program(user, program) -> Certificate | None:
    if not program.certificate:
        return None
    completed_at = completion_time(user.id, program)
    if completed_at is None:
        return None
    latest = program_certificate_for(user.id, program.id)
    generation = _next_generation(latest, completed_at)
    if generation is None:
        return latest
    issued_at = utcnow()
    certificate = Certificate(
        serial=new_serial(), user_id=user.id, program_id=program.id, generation=generation,
        locality_id=user.locality_id, holder_name=user.full_name, course_title=program.title, hours=program.hours,
        issuing_authority=current_app.config["LMS_ISSUING_AUTHORITY"], issued_at=issued_at,
        expires_at=_expiry(issued_at, program.valid_months),
    )
    return _insert(certificate, {"program_id": program.id})


def start_renewal(certificate: Certificate) -> bool:
    """Start over what an expired certificate certified, so that completing it again issues the next generation.

    A course: its enrollment restarts. A program: every completed enrollment in its courses restarts,
    so the program is complete again only once its courses are. False when there is nothing to renew.
    """
    enrollments = renewal_enrollments(certificate)
    for enrollment in enrollments:
        renewal_started.send(enrollment)
    return bool(enrollments)


def revoke(certificate: Certificate, actor, reason: str) -> None:
    reason = nfc(reason)
    if not reason:
        raise CertificateError("reason")
    if certificate.revoked_at is not None:
        raise CertificateError("already_revoked")
    certificate.revoked_at, certificate.revoked_reason = utcnow(), reason
    audit.record(actor, "certificate.revoke", certificate, serial=certificate.serial, reason=reason)
    db.session.flush()


def restore(certificate: Certificate, actor, reason: str) -> None:
    reason = nfc(reason)
    if not reason:
        raise CertificateError("reason")
    if certificate.revoked_at is None:
        raise CertificateError("not_revoked")
    audit.record(actor, "certificate.restore", certificate, serial=certificate.serial, reason=reason,
                 revoked_reason=certificate.revoked_reason)
    certificate.revoked_at, certificate.revoked_reason = None, None
    db.session.flush()


def reissue(certificate: Certificate, actor, holder_name: str) -> Certificate:
    """A new certificate with the corrected name; the old serial then points to the new one.

    The new one keeps the original issue and expiry dates: a name correction certifies nothing new.
    """
    holder_name = nfc(holder_name)
    if not holder_name:
        raise CertificateError("name")
    subject = {"program_id": certificate.program_id} if certificate.program_id else {"course_id": certificate.course_id}
    if certificate.status() in ("revoked", "superseded") or latest_certificate(certificate.user_id, **subject) is not certificate:
        raise CertificateError("not_current")
    new = Certificate(
        serial=new_serial(), user_id=certificate.user_id, course_id=certificate.course_id,
        program_id=certificate.program_id, generation=certificate.generation + 1,
        enrollment_id=certificate.enrollment_id, locality_id=certificate.locality_id, holder_name=holder_name,
        course_title=certificate.course_title, hours=certificate.hours,
        issuing_authority=certificate.issuing_authority, issued_at=certificate.issued_at,
        expires_at=certificate.expires_at,
    )
    db.session.add(new)
    db.session.flush()
    certificate.superseded_by_id = new.id
    audit.record(actor, "certificate.reissue", certificate, serial=certificate.serial, new_serial=new.serial,
                 old_name=certificate.holder_name, new_name=holder_name)
    db.session.flush()
    outbox.enqueue("certificates.render", certificate_id=new.id)
    return new


def allow_lookup(ip: str | None) -> bool:
    """Count this lookup and tell whether the IP is within the limit (shared by every app process)."""
    limit = current_app.config["LMS_VERIFY_RATE_LIMIT"]
    window = timedelta(seconds=current_app.config["LMS_VERIFY_RATE_WINDOW_SECONDS"])
    now, ip = utcnow(), (ip or "unknown")[:64]
    # Count and add as one step: a hundred lookups at once must not all read "59 so far".
    lock_for(f"verify-lookup:{ip}")
    recent = db.session.scalar(select(func.count(VerificationLookup.id)).where(
        VerificationLookup.ip == ip, VerificationLookup.at > now - window))
    if recent >= limit:
        return False
    db.session.add(VerificationLookup(ip=ip, at=now))
    # Forget old lookups now and then, so the table stays the size of one window.
    if recent == 0:
        db.session.execute(db.delete(VerificationLookup).where(VerificationLookup.at <= now - window))
    db.session.flush()
    return True
