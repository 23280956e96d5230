"""Saving and applying assignment rules. Flush only; controllers, tasks and commands commit.

Applying a rule is set-based: one INSERT … SELECT creates the missing enrollments of everyone
matching it, and one UPDATE gives the already-enrolled (not yet completed) a deadline, whatever
the number of people. Nothing is loaded into the ORM per person.
"""

from datetime import date

from sqlalchemy import exists, func, insert, literal, or_, select, update

from lms.accounts.models import User
from lms.assignments import queries
from lms.assignments.models import AssignmentRule
from lms.core import audit
from lms.core.db import utcnow
from lms.core.text import fold
from lms.enrollment.models import Enrollment
from lms.extensions import db


def save_rule(*, actor, deadline: date, course=None, program=None, audience=None, locality=None, agency=None,
              position_contains: str | None = None) -> AssignmentRule:
    if (course is None) == (program is None):
        raise ValueError("a rule assigns exactly one course or program")
    rule = AssignmentRule(course=course, program=program, deadline=deadline, audience=audience or None,
                          locality=locality, agency=agency, created_by_id=getattr(actor, "id", None),
                          position_contains=fold(position_contains).strip() or None if position_contains else None)
    db.session.add(rule)
    db.session.flush()
    audit.record(actor, "assignment_rule.create", rule, after={
        "course_id": getattr(course, "id", None), "program_id": getattr(program, "id", None),
        "deadline": deadline.isoformat(), "audience": audience or None, "locality_id": getattr(locality, "id", None),
        "agency_id": getattr(agency, "id", None), "position_contains": rule.position_contains})
    return rule


def deactivate(rule: AssignmentRule) -> None:
    """Stop assigning to newcomers; the enrollments already made keep their deadline."""
    audit.record(None, "assignment_rule.deactivate", rule, before={"active": rule.active}, after={"active": False})
    rule.active = False
    db.session.flush()


def apply_rule(rule: AssignmentRule, user_id: int | None = None) -> int:
    """Enrol everyone the rule matches (or only `user_id`); returns the number of new enrollments."""
    if not rule.active:
        return 0
    people = queries.matching_users(rule)
    if user_id is not None:
        people = people.where(User.id == user_id)
    people = people.subquery()
    created = 0
    now = utcnow()
    for course_id in queries.course_ids_of(rule):
        enrolled = exists().where(Enrollment.user_id == User.id, Enrollment.course_id == course_id)
        rows = select(User.id, literal(course_id), literal("assigned"), User.locality_id, User.agency_id,
                      literal(now), literal(rule.deadline), literal(rule.id)).where(
            User.id.in_(select(people.c.id)), ~enrolled)
        # rowcount of INSERT … SELECT is not reliable across drivers: count the course's rows instead.
        count = select(func.count(Enrollment.id)).where(Enrollment.course_id == course_id)
        before = db.session.scalar(count)
        db.session.execute(insert(Enrollment).from_select(
            ["user_id", "course_id", "source", "locality_id", "agency_id", "enrolled_at", "deadline", "rule_id"],
            rows))
        created += db.session.scalar(count) - before
        # Already enrolled on their own and not finished: the assignment now applies to them too.
        # The earliest deadline wins when two rules assign the same course.
        db.session.execute(update(Enrollment).where(
            Enrollment.course_id == course_id, Enrollment.user_id.in_(select(people.c.id)),
            Enrollment.completed_at.is_(None),
            or_(Enrollment.deadline.is_(None), Enrollment.deadline > rule.deadline),
        ).values(source="assigned", deadline=rule.deadline, rule_id=rule.id).execution_options(
            synchronize_session=False))
    db.session.flush()
    return created


def apply_rules_for_user(user) -> int:
    """Give one person every assignment they now match: after registration, import or a profile change."""
    db.session.flush()
    return sum(apply_rule(rule, user_id=user.id) for rule in queries.active_rules())


def apply_all_rules() -> int:
    """Every active rule to everyone (the nightly safety net, and after a bulk import)."""
    return sum(apply_rule(rule) for rule in queries.active_rules())
