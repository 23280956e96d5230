"""Read-only assignment queries: overdue training, whom a rule targets, the courses it assigns."""

from datetime import date

from sqlalchemy import and_, select

from lms.accounts.models import User
from lms.agencies.models import Agency
from lms.assignments.models import AssignmentRule
from lms.core.text import like_pattern
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.localities.models import Locality
from lms.programs.models import Program


def overdue_clause(today: date):
    """Assigned training past its deadline (Vietnam's date `today`) and not completed."""
    return and_(Enrollment.deadline.is_not(None), Enrollment.deadline < today, Enrollment.completed_at.is_(None))


def matching_users(rule: AssignmentRule):
    """A SELECT of the ids of the active people the rule targets."""
    query = select(User.id).where(User.is_active.is_(True))
    if rule.audience:
        query = query.where(User.audience == rule.audience)
    if rule.locality_id is not None:
        scope = db.session.get(Locality, rule.locality_id)
        unit = db.aliased(Locality)
        query = query.where(User.locality_id.in_(select(unit.id).where(scope.covers_clause(unit))))
    if rule.agency_id is not None:
        agency = db.session.get(Agency, rule.agency_id)
        query = query.where(User.agency_id.in_(agency.subtree_ids_query()))
    if rule.position_contains:
        query = query.where(User.position_folded.like(like_pattern(rule.position_contains), escape="\\"))
    return query


def course_ids_of(rule: AssignmentRule) -> list[int]:
    """A course rule's course; a program rule's required courses (optional ones stay the learner's choice)."""
    if rule.course_id is not None:
        return [rule.course_id]
    program = db.session.get(Program, rule.program_id)
    required = [link.course_id for link in program.courses if link.required]
    return required or [link.course_id for link in program.courses]


def active_rules() -> list[AssignmentRule]:
    return list(db.session.scalars(select(AssignmentRule).where(AssignmentRule.active.is_(True))
                                   .order_by(AssignmentRule.id)))
