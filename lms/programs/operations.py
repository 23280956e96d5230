"""Programs: importing them and deciding when one is completed. Flush only."""

from sqlalchemy import select

from lms.catalog.models import Course
from lms.core import outbox
from lms.core.frontmatter import SourceError
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.programs.models import Program, ProgramCourse
from lms.programs.source import ProgramSource


def import_program(source: ProgramSource) -> str:
    """Create or update a program; 'created', 'updated' or 'unchanged'. Courses must be imported first."""
    slugs = source.required + source.optional
    courses = {c.slug: c for c in db.session.scalars(select(Course).where(Course.slug.in_(slugs)))}
    missing = [slug for slug in slugs if slug not in courses]
    if missing:
        raise SourceError(source.path, None, f"unknown course(s) {', '.join(missing)}: import the courses first")
    program = db.session.scalar(select(Program).where(Program.slug == source.slug))
    if program is not None and program.source_hash == source.content_hash:
        return "unchanged"
    outcome = "updated" if program is not None else "created"
    if program is None:
        program = Program(slug=source.slug)
        db.session.add(program)
    program.title, program.hours, program.valid_months = source.title, source.hours, source.valid_months
    program.certificate, program.optional_required = source.certificate, source.optional_required
    program.source_hash = source.content_hash
    existing = {link.course_id: link for link in program.courses}
    wanted = [(slug, True) for slug in source.required] + [(slug, False) for slug in source.optional]
    keep = set()
    for position, (slug, required) in enumerate(wanted, start=1):
        course = courses[slug]
        link = existing.get(course.id)
        if link is None:
            link = ProgramCourse(course=course)
            program.courses.append(link)
        link.required, link.position = required, position
        keep.add(course.id)
    for course_id, link in existing.items():
        if course_id not in keep:
            program.courses.remove(link)
    db.session.flush()
    return outcome


def completion_time(user_id: int, program: Program):
    """When the program was completed (the counted course completions' latest), or None if not yet.

    Required courses all, plus `optional_required` of the optional ones (the earliest finished).
    """
    completed = dict(db.session.execute(select(Enrollment.course_id, Enrollment.completed_at).where(
        Enrollment.user_id == user_id, Enrollment.completed_at.is_not(None),
        Enrollment.course_id.in_([link.course_id for link in program.courses]))).all())
    required = [link.course_id for link in program.courses if link.required]
    if any(course_id not in completed for course_id in required):
        return None
    optional = sorted(completed[link.course_id] for link in program.courses
                      if not link.required and link.course_id in completed)
    if len(optional) < program.optional_required:
        return None
    counted = [completed[course_id] for course_id in required] + optional[:program.optional_required]
    return max(counted) if counted else None


def check_programs_for(user_id: int, course_id: int) -> list[int]:
    """After a course completion: queue the certificate of every program it completes."""
    programs = db.session.scalars(select(Program).join(ProgramCourse).where(
        ProgramCourse.course_id == course_id, Program.certificate.is_(True))).all()
    queued = []
    for program in programs:
        if completion_time(user_id, program) is not None:
            outbox.enqueue("certificates.issue_program", user_id=user_id, program_id=program.id)
            queued.append(program.id)
    return queued
