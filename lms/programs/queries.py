"""Read-only program queries."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.catalog.models import Course
from lms.enrollment.models import Enrollment
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
