"""Read-only program queries."""

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from lms.catalog.models import Course
from lms.completion.rules import completion_time
from lms.enrollment.models import Enrollment
from lms.enrollment.queries import find_enrollment
from lms.extensions import db
from lms.programs.models import Prerequisite, Program, ProgramCourse


def by_slug(slug: str) -> Program | None:
    return db.session.scalar(select(Program).where(Program.slug == slug).options(
        selectinload(Program.courses).selectinload(ProgramCourse.course)))


def all_programs() -> list[Program]:
    return list(db.session.scalars(select(Program).order_by(Program.title)))


def enrollments_in(user, program: Program) -> dict[int, Enrollment]:
    if not getattr(user, "is_authenticated", False):
        return {}
    return {e.course_id: e for e in db.session.scalars(select(Enrollment).where(
        Enrollment.user_id == user.id, Enrollment.course_id.in_([link.course_id for link in program.courses])))}


def prerequisites_of(program: Program) -> list[Prerequisite]:
    return list(db.session.scalars(select(Prerequisite).where(Prerequisite.program_id == program.id)))


def courses_by_slug(slugs) -> dict[str, Course]:
    return {c.slug: c for c in db.session.scalars(select(Course).where(Course.slug.in_(list(slugs))))}


def programs_by_slug(slugs) -> dict[str, Program]:
    return {p.slug: p for p in db.session.scalars(select(Program).where(Program.slug.in_(list(slugs))))}


def programs_with_course(course_id: int) -> list[Program]:
    return list(db.session.scalars(select(Program).join(ProgramCourse).where(ProgramCourse.course_id == course_id)
                                   .order_by(Program.title)))


def prerequisites_of_course(course) -> list[Prerequisite]:
    return list(db.session.scalars(select(Prerequisite).where(Prerequisite.course_id == course.id)))


def unmet_prerequisites(user, *, course_id: int | None = None, program_id: int | None = None,
                        skip_course_ids=frozenset()) -> list[str]:
    """Titles of what `user` must complete before enrolling in the course or program."""
    where = Prerequisite.course_id == course_id if course_id is not None else Prerequisite.program_id == program_id
    missing = []
    for prerequisite in db.session.scalars(select(Prerequisite).where(where)):
        if prerequisite.requires_course_id in skip_course_ids:
            continue
        if prerequisite.requires_course_id is not None:
            done = db.session.scalar(select(Enrollment.id).where(
                Enrollment.user_id == user.id, Enrollment.course_id == prerequisite.requires_course_id,
                Enrollment.completed_at.is_not(None)))
            if done is None:
                missing.append(prerequisite.requires_course.title)
        elif completion_time(user.id, prerequisite.requires_program) is None:
            missing.append(prerequisite.requires_program.title)
    return missing


# Why a course of a program is closed to someone: for good, or until other courses are completed.
MEANT_FOR_OTHERS, NOT_PUBLISHED, PREREQUISITES_FIRST = "audience", "unpublished", "prerequisites"


def closed_courses(user, program: Program) -> dict[int, str]:
    """Course id → why `user` cannot take that course of the program now (MEANT_FOR_OTHERS,
    NOT_PUBLISHED, PREREQUISITES_FIRST); the courses not listed are open to them. A course they are
    already enrolled in is open, whoever enrolled them."""
    if not getattr(user, "is_authenticated", False):
        return {}
    inside = {link.course_id for link in program.courses}
    closed = {}
    for link in program.courses:
        course = link.course
        if find_enrollment(user, course) is not None:
            continue
        if not course.is_published:
            closed[course.id] = NOT_PUBLISHED
        elif not course.can_enrol(user):
            closed[course.id] = MEANT_FOR_OTHERS
        elif unmet_prerequisites(user, course_id=course.id, skip_course_ids=inside):
            closed[course.id] = PREREQUISITES_FIRST
    return closed


def enrol_refusal(user, program: Program, closed: dict[int, str]) -> str | None:
    """Why `user` may not enrol in the program (a translated message), or None.

    Open to whoever the program's audience admits and who could complete it: every required
    course open to them, and at least `optional_required` optional ones not meant for others.
    Optional courses meant for others are simply left out of their enrolment."""
    if not program.can_enrol(user):
        return _("This program is not open to you.")
    missing = unmet_prerequisites(user, program_id=program.id)
    required = [link.course for link in program.courses if link.required]
    never = [course.title for course in required if closed.get(course.id) in (MEANT_FOR_OTHERS, NOT_PUBLISHED)]
    if never:
        return _("You cannot complete this program: the required course %(titles)s is not open to you.",
                 titles=", ".join(never))
    inside = {link.course_id for link in program.courses}
    for course in required:
        if closed.get(course.id) == PREREQUISITES_FIRST:
            missing += unmet_prerequisites(user, course_id=course.id, skip_course_ids=inside)
    if missing:
        return _("Complete these first: %(titles)s.", titles=", ".join(dict.fromkeys(missing)))
    available = sum(1 for link in program.courses
                    if not link.required and closed.get(link.course_id) not in (MEANT_FOR_OTHERS, NOT_PUBLISHED))
    if available < program.optional_required:
        return _("You cannot complete this program: it needs %(needed)d optional course(s) and %(open)d are open to you.",
                 needed=program.optional_required, open=available)
    return None


def assisted_attempts_count(course_id: int) -> bool:
    """Whether quiz attempts taken in an assisted session count for this course: no when a program holding the
    course says so (`Program.assisted_attempts_count`), yes otherwise."""
    refused = select(ProgramCourse.id).join(Program, Program.id == ProgramCourse.program_id).where(
        ProgramCourse.course_id == course_id, Program.assisted_attempts_count.is_(False))
    return db.session.scalar(select(~exists(refused))) is not False
