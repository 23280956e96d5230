"""Read-only assignment queries."""

from datetime import date

from sqlalchemy import and_

from lms.enrollment.models import Enrollment


def overdue_clause(today: date):
    """Assigned training past its deadline (Vietnam's date `today`) and not completed."""
    return and_(Enrollment.deadline.is_not(None), Enrollment.deadline < today, Enrollment.completed_at.is_(None))
