"""What certificates hear: each completed course or program with a certificate queues one; /healthz asks for the key.

Queued through the outbox in the completing transaction, so the certificate exists if and only if
the completion was committed.
"""

from sqlalchemy import func, select

from lms.certificates.models import Certificate
from lms.certificates.queries import by_generation
from lms.certificates.signing import key_problem
from lms.core import outbox
from lms.core.signals import certificates_asked, course_completed, health_checked, metrics_collected, program_completed
from lms.extensions import db


@course_completed.connect
def _issue_for_course(enrollment, **_details) -> None:
    if enrollment.course.certificate:
        outbox.enqueue("certificates.issue", enrollment_id=enrollment.id)


@program_completed.connect
def _issue_for_program(program, user_id: int, **_details) -> None:
    if program.certificate:
        outbox.enqueue("certificates.issue_program", user_id=user_id, program_id=program.id)


@health_checked.connect
def _signing_health(app, **_details) -> tuple[str, str]:
    return "signing", "error" if key_problem(app.config) else "ok"


@metrics_collected.connect
def _issued_figure(app, **_details) -> list:
    return [("counter", "lms_certificates_issued", "Certificates issued (all time)",
             db.session.scalar(select(func.count()).select_from(Certificate)))]


@certificates_asked.connect
def _certificates_of(user, **_):
    return list(by_generation(user))
