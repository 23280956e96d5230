"""Fixtures for the certificate tests (nothing autouse: test_worker.py runs its own app)."""

import pytest

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
