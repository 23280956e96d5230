"""Fixtures for the certificate tests (nothing autouse: test_worker.py runs its own app)."""

import pytest
from sqlalchemy import select

from lms.certificates.models import Certificate
from lms.certificates.tasks import issue_certificate
from lms.core.db import utcnow
from lms.enrollment import operations as enrollment_ops


@pytest.fixture()
def english(client):
    """Show pages in English so messages are stable whatever catalogues are compiled."""
    client.post("/language", data={"lang": "en"})


@pytest.fixture()
def completed_enrollment(db_session):
    """Enrol `user` in `course` and mark the enrollment complete (without going through the lessons)."""

    def complete(user, course):
        enrollment = enrollment_ops.enrol(user, course)
        enrollment.completed_at = utcnow()
        db_session.flush()
        return enrollment

    return complete


@pytest.fixture()
def issued(db_session, create_course, create_user, completed_enrollment):
    def issue(name="Trần Thị Hoà", locality=None):
        user = create_user(name, locality=locality)
        enrollment = completed_enrollment(user, create_course())
        db_session.commit()
        serial = issue_certificate.run(enrollment.id)
        return db_session.scalar(select(Certificate).where(Certificate.serial == serial)), user

    return issue


@pytest.fixture()
def admin(create_user):
    return create_user("Phạm Quốc Bảo", roles=("admin",), audience="official")
