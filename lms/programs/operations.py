"""Programs: importing them and deciding when one is completed. Flush only."""

from sqlalchemy import select

from lms.catalog.models import Course
from lms.completion.rules import completion_time
from lms.core import audit
from lms.core.frontmatter import SourceError
from lms.core.signals import program_completed
from lms.extensions import db
from lms.programs.models import Prerequisite, Program, ProgramCourse
from lms.programs.source import ProgramSource


def audience_gaps(audience, required, optional, optional_required: int) -> list[tuple[str, list, int]]:
    """Who the program is meant for but could never complete it: (audience, required courses not
    open to them, how many optional courses are open to them) for each such audience."""
    gaps = []
    for who in audience:
        closed = [course for course in required if course.audience and who not in course.audience]
        open_optional = sum(1 for course in optional if not course.audience or who in course.audience)
        if closed or open_optional < optional_required:
            gaps.append((who, closed, open_optional))
    return gaps


def import_program(source: ProgramSource) -> str:
    """Create or update a program; 'created', 'updated' or 'unchanged'. Courses must be imported first."""
    slugs = source.required + source.optional
    courses = {c.slug: c for c in db.session.scalars(select(Course).where(Course.slug.in_(slugs)))}
    missing = [slug for slug in slugs if slug not in courses]
    if missing:
        raise SourceError(source.path, None, f"unknown course(s) {', '.join(missing)}: import the courses first")
    gaps = audience_gaps(source.audience, [courses[s] for s in source.required], [courses[s] for s in source.optional],
                         source.optional_required)
    if gaps:
        raise SourceError(source.path, None, "; ".join(
            f"`{who}` is in `audience` but could never complete the program: "
            + (f"the required course(s) {', '.join(c.slug for c in closed)} are not open to `{who}`" if closed
               else f"only {open_optional} optional course(s) are open to `{who}`, {source.optional_required} needed")
            for who, closed, open_optional in gaps))
    program = db.session.scalar(select(Program).where(Program.slug == source.slug))
    if program is not None and program.source_hash == source.content_hash:
        return "unchanged"
    required_courses = {c.slug: c for c in db.session.scalars(select(Course).where(Course.slug.in_(source.requires)))}
    required_programs = {p.slug: p for p in db.session.scalars(select(Program).where(
        Program.slug.in_([s for s in source.requires if s not in required_courses])))}
    unknown = [s for s in source.requires if s not in required_courses and s not in required_programs]
    if unknown:
        raise SourceError(source.path, None, f"`requires`: no course or program {', '.join(unknown)}: import it first")
    outcome = "updated" if program is not None else "created"
    if program is None:
        program = Program(slug=source.slug)
        db.session.add(program)
    program.title, program.hours, program.valid_months = source.title, source.hours, source.valid_months
    program.certificate, program.optional_required = source.certificate, source.optional_required
    program.audience = list(source.audience)
    program.source_hash = source.content_hash
    _link_courses(program, [courses[slug] for slug in source.required], [courses[slug] for slug in source.optional])
    set_prerequisites(program=program, courses=[required_courses[s] for s in source.requires if s in required_courses],
                      programs=[required_programs[s] for s in source.requires if s in required_programs])
    return outcome


def set_prerequisites(*, course=None, program=None, courses=(), programs=()) -> None:
    """Replace what the course or program requires."""
    where = Prerequisite.course_id == course.id if course is not None else Prerequisite.program_id == program.id
    old_rows = db.session.scalars(select(Prerequisite).where(where)).all()
    audit.record(None, "prerequisites.set", course if course is not None else program,
                 before={"courses": sorted(p.requires_course_id for p in old_rows if p.requires_course_id),
                         "programs": sorted(p.requires_program_id for p in old_rows if p.requires_program_id)},
                 after={"courses": sorted(c.id for c in courses), "programs": sorted(p.id for p in programs)})
    for old in old_rows:
        db.session.delete(old)
    owner = {"course_id": course.id} if course is not None else {"program_id": program.id}
    for required in courses:
        db.session.add(Prerequisite(**owner, requires_course_id=required.id))
    for required in programs:
        db.session.add(Prerequisite(**owner, requires_program_id=required.id))
    db.session.flush()


def save_program(program: Program | None, *, slug: str, title: str, hours, description: str, audience: list,
                 certificate: bool, valid_months, optional_required: int, required: list, optional: list,
                 assisted_attempts_count: bool = True) -> Program:
    """Create or edit a program in the browser. Clearing source_hash makes the next file import
    (if a file with this slug exists) apply the file again."""
    if program is None:
        program = Program(slug=slug)
        db.session.add(program)
    program.title, program.hours, program.description, program.audience = title, hours, description, audience
    program.certificate, program.valid_months = certificate, valid_months
    program.assisted_attempts_count = assisted_attempts_count
    program.optional_required = min(optional_required, len(optional))
    program.source_hash = None
    _link_courses(program, required, optional)
    return program


def _link_courses(program: Program, required: list, optional: list) -> None:
    """The program's courses become `required` then `optional`, in that order (links kept where they exist)."""
    existing = {link.course_id: link for link in program.courses}
    keep = set()
    for position, (course, is_required) in enumerate([(c, True) for c in required] + [(c, False) for c in optional], 1):
        link = existing.get(course.id)
        if link is None:
            link = ProgramCourse(course=course)
            program.courses.append(link)
        link.required, link.position = is_required, position
        keep.add(course.id)
    for course_id, link in existing.items():
        if course_id not in keep:
            program.courses.remove(link)
    db.session.flush()


def check_programs_for(user_id: int, course_id: int) -> list[int]:
    """After a course completion: announce every program with a certificate that it completes."""
    programs = db.session.scalars(select(Program).join(ProgramCourse).where(
        ProgramCourse.course_id == course_id, Program.certificate.is_(True))).all()
    completed = [program for program in programs if completion_time(user_id, program) is not None]
    for program in completed:
        program_completed.send(program, user_id=user_id)
    return [program.id for program in completed]
