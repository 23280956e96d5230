"""The training-hours ledger: hours per person per year (Asia/Ho_Chi_Minh calendar).

Rule (docs/training-hours.md):
- a completed course counts its `hours` in the year it was completed;
- a completed program counts its `hours` in the year it was completed, and then the courses it
  counted (its required ones and the first `optional_required` optional ones finished) do not
  count on their own — no double counting; extra optional courses still count. A program with
  no hours of its own replaces nothing;
- an attended class session (marked present) counts its `hours` in the year it took place,
  unless the person completed that class's course online (the course hours already count).
Everything is computed from a constant number of queries whatever the number of people.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.accounts.scope import Scope
from lms.catalog.models import Course
from lms.classes.models import Attendance, ClassSession, TrainingClass
from lms.core.dates import to_local
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.programs.models import Program


@dataclass
class Entry:
    day: date
    kind: str  # course | program | class
    title: str
    hours: Decimal


def _program_completions(program: Program, completed: dict):
    """(completed_at, counted course ids) or None: the rule of lms.completion.rules.completion_time."""
    required = [link.course_id for link in program.courses if link.required]
    if any(course_id not in completed for course_id in required):
        return None
    optional = sorted((completed[link.course_id], link.course_id) for link in program.courses
                      if not link.required and link.course_id in completed)
    if len(optional) < program.optional_required or not (required or program.optional_required):
        return None
    counted = required + [course_id for _at, course_id in optional[:program.optional_required]]
    return max(completed[c] for c in counted), set(counted)


def entries_for(people) -> dict[int, list[Entry]]:
    """user id → ledger entries; `people` is a SELECT of user ids."""
    rows = db.session.execute(select(Enrollment.user_id, Enrollment.course_id, Enrollment.completed_at, Course.title,
                                     Course.hours).join(Course, Course.id == Enrollment.course_id).where(
        Enrollment.user_id.in_(people), Enrollment.completed_at.is_not(None))).all()
    programs = db.session.scalars(select(Program).options(selectinload(Program.courses))).all()
    sessions = db.session.execute(select(Attendance.user_id, TrainingClass.course_id, ClassSession.starts_at,
                                         ClassSession.hours, TrainingClass.title)
                                  .join(ClassSession, ClassSession.id == Attendance.session_id)
                                  .join(TrainingClass, TrainingClass.id == ClassSession.class_id)
                                  .where(Attendance.user_id.in_(people), Attendance.status == "present")).all()
    completed = defaultdict(dict)
    for user_id, course_id, completed_at, title, hours in rows:
        completed[user_id][course_id] = (completed_at, title, Decimal(hours or 0))
    ledger = defaultdict(list)
    for user_id, courses in completed.items():
        at = {course_id: value[0] for course_id, value in courses.items()}
        replaced = set()
        for program in programs:
            if not program.hours:
                continue
            done = _program_completions(program, at)
            if done is not None:
                ledger[user_id].append(Entry(to_local(done[0]).date(), "program", program.title, Decimal(program.hours)))
                replaced |= done[1]
        for course_id, (completed_at, title, hours) in courses.items():
            if course_id not in replaced:
                ledger[user_id].append(Entry(to_local(completed_at).date(), "course", title, hours))
    for user_id, course_id, starts_at, hours, title in sessions:
        if course_id not in completed.get(user_id, {}):
            ledger[user_id].append(Entry(to_local(starts_at).date(), "class", title, Decimal(hours or 0)))
    for entries in ledger.values():
        entries.sort(key=lambda e: e.day)
    return ledger


def year_total(entries: list[Entry], year: int) -> Decimal:
    return sum((e.hours for e in entries if e.day.year == year), Decimal(0))


def people_in_scope(manager):
    """A SELECT of the ids of the civil servants a manager (or admin) oversees."""
    query = select(User.id).where(User.audience.in_(("official", "cio")))
    return query.where(Scope.of(manager).people_clause(User.locality_id, User.agency_id))


def team_rows(manager, year: int, page: int | None = None, per_page: int = 100) -> list[tuple[User, Decimal]]:
    """Everyone in scope (exports), or one page of them by name: then only that page's ledger is computed,
    and one person more than `per_page` is returned when there is a next page."""
    people = people_in_scope(manager)
    query = select(User).where(User.id.in_(people)).options(selectinload(User.agency)).order_by(
        User.full_name_folded, User.id)
    if page is not None:
        query = query.offset((page - 1) * per_page).limit(per_page + 1)
    users = db.session.scalars(query).all()
    ledger = entries_for([u.id for u in users] if page is not None else people)
    return [(user, year_total(ledger.get(user.id, []), year)) for user in users]
