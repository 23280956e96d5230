"""Read-only certificate queries: the holder's list and the register (per locality, per course)."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.scope import Scope
from lms.certificates.models import Certificate
from lms.certificates.serial import is_well_formed, normalise
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.localities.models import Locality

# Printed on the PDF and shown on the public verification page (Vietnamese on the PDF, like its other text).
ASSISTED_MARK_VI = "Hoàn thành với sự hỗ trợ của Tổ công nghệ số cộng đồng"


def completed_with_help(certificate) -> bool:
    """Some of the course's quiz attempts were taken in an assisted session of a community digital team — the
    rule of the certificate record (lms.community.queries.assisted_attempts), so PDF, page and record agree."""
    from lms.community.queries import assisted_attempts

    if not (certificate.user_id and certificate.course_id):
        return False
    return assisted_attempts(certificate.user_id, certificate.course_id) > 0


def mine(user) -> list[Certificate]:
    return db.session.scalars(select(Certificate).where(Certificate.user_id == user.id)
                              .options(selectinload(Certificate.course), selectinload(Certificate.program))
                              .order_by(Certificate.issued_at.desc(), Certificate.generation.desc())).all()


def by_generation(user) -> list[Certificate]:
    """The person's certificates, oldest generation first (so the newest wins when keyed by course)."""
    return db.session.scalars(select(Certificate).where(Certificate.user_id == user.id)
                              .options(selectinload(Certificate.program)).order_by(Certificate.generation)).all()


def renewable_ids(certificates: list[Certificate]) -> set[int]:
    """The certificates whose holder may start a renewal (expired, newest of their subject, not restarted yet)."""
    newest = {}
    for certificate in certificates:
        subject = (certificate.course_id, certificate.program_id)
        if subject not in newest or certificate.generation > newest[subject].generation:
            newest[subject] = certificate
    # Expired first, so the enrollments are only looked up for the rare expired certificate.
    return {certificate.id for certificate in newest.values()
            if certificate.status() == "expired" and renewal_enrollments(certificate)}


def register(user, locality: Locality | None = None, course_id: int | None = None, program_id: int | None = None,
             status: str | None = None):
    """The certificates `user` may see in the register, newest first, as a statement to stream.

    Managers see the certificates issued in their scopes (the locality at issue, rolled across
    the 2025 reform like the reports); admins see all. `locality` narrows to a scope; the caller
    checks it may be managed.
    """
    statement = select(Certificate).join(Locality, Certificate.locality_id == Locality.id, isouter=True)
    # The locality at issue (certificates carry no agency); everything for an admin.
    statement = statement.where(Scope.of(user).locality_clause(Locality))
    if locality is not None:
        statement = statement.where(locality.covers_clause(Locality))
    if course_id:
        statement = statement.where(Certificate.course_id == course_id)
    if program_id:
        statement = statement.where(Certificate.program_id == program_id)
    if status == "revoked":
        statement = statement.where(Certificate.revoked_at.is_not(None))
    elif status == "superseded":
        statement = statement.where(Certificate.superseded_by_id.is_not(None))
    return statement.options(selectinload(Certificate.locality)).order_by(Certificate.issued_at.desc(), Certificate.id.desc())


def latest_certificate(user_id: int, **subject) -> Certificate | None:
    (column, value), = subject.items()
    return db.session.scalar(select(Certificate).where(Certificate.user_id == user_id, getattr(Certificate, column) == value)
                             .order_by(Certificate.generation.desc()).limit(1))


def certificate_for(user_id: int, course_id: int) -> Certificate | None:
    """The newest certificate of this user for this course."""
    return latest_certificate(user_id, course_id=course_id)


def program_certificate_for(user_id: int, program_id: int) -> Certificate | None:
    return latest_certificate(user_id, program_id=program_id)


def renewal_enrollments(certificate: Certificate) -> list[Enrollment]:
    """The completed enrollments a renewal would restart; empty when the certificate cannot be renewed
    (not expired, not the newest of its subject, or its renewal already started)."""
    from lms.programs.models import ProgramCourse

    subject = {"program_id": certificate.program_id} if certificate.program_id else {"course_id": certificate.course_id}
    if certificate.status() != "expired" or latest_certificate(certificate.user_id, **subject) is not certificate:
        return []
    if certificate.course_id:
        course_ids = [certificate.course_id]
    else:
        course_ids = list(db.session.scalars(select(ProgramCourse.course_id).where(
            ProgramCourse.program_id == certificate.program_id)))
    return list(db.session.scalars(select(Enrollment).where(
        Enrollment.user_id == certificate.user_id, Enrollment.course_id.in_(course_ids),
        Enrollment.completed_at.is_not(None))))


def lookup(serial_text: str) -> tuple[str, Certificate | None]:
    """('malformed' | 'unknown' | 'found', certificate) for a typed serial."""
    serial = normalise(serial_text)
    if not is_well_formed(serial):
        return "malformed", None
    certificate = db.session.scalar(select(Certificate).where(Certificate.serial == serial))
    return ("found", certificate) if certificate else ("unknown", None)
