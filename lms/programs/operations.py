"""Programs: importing them and deciding when one is completed. Flush only."""

from sqlalchemy import select

from lms.catalog.models import Course
from lms.core import audit, outbox
from lms.core.frontmatter import SourceError
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.programs.models import Program, ProgramCourse
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
    set_prerequisites(program=program, courses=[required_courses[s] for s in source.requires if s in required_courses],
                      programs=[required_programs[s] for s in source.requires if s in required_programs])
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


def unmet_prerequisites(user, *, course_id: int | None = None, program_id: int | None = None,
                        skip_course_ids=frozenset()) -> list[str]:
    """Titles of what `user` must complete before enrolling in the course or program."""
    from lms.programs.models import Prerequisite

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


def set_prerequisites(*, course=None, program=None, courses=(), programs=()) -> None:
    """Replace what the course or program requires."""
    from lms.programs.models import Prerequisite

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


# Why a course of a program is closed to someone: for good, or until other courses are completed.
MEANT_FOR_OTHERS, NOT_PUBLISHED, PREREQUISITES_FIRST = "audience", "unpublished", "prerequisites"


def closed_courses(user, program: Program) -> dict[int, str]:
    """Course id → why `user` cannot take that course of the program now (MEANT_FOR_OTHERS,
    NOT_PUBLISHED, PREREQUISITES_FIRST); the courses not listed are open to them. A course they are
    already enrolled in is open, whoever enrolled them."""
    if not getattr(user, "is_authenticated", False):
        return {}
    from lms.enrollment.operations import find_enrollment

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
    from flask_babel import gettext as _

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


def enrol_in_program(user, program: Program) -> list:
    """Enrol in every course of the program that `user` may take (idempotent); returns those
    enrolments. Optional courses closed to them are left out; a program they could not complete
    raises EnrollmentError with the reason. Prerequisites between courses of the same program do
    not block: the program's order is the path through them."""
    from lms.enrollment.operations import EnrollmentError, enrol

    closed = closed_courses(user, program)
    refusal = enrol_refusal(user, program, closed)
    if refusal:
        raise EnrollmentError(refusal)
    inside = {link.course_id for link in program.courses}
    return [enrol(user, link.course, source="self", skip_prerequisites=inside)
            for link in program.courses if link.course_id not in closed]


def save_program(program: Program | None, *, slug: str, title: str, hours, description: str, audience: list,
                 certificate: bool, valid_months, optional_required: int, required: list, optional: list) -> Program:
    """Create or edit a program in the browser. Clearing source_hash makes the next file import
    (if a file with this slug exists) apply the file again."""
    if program is None:
        program = Program(slug=slug)
        db.session.add(program)
    program.title, program.hours, program.description, program.audience = title, hours, description, audience
    program.certificate, program.valid_months = certificate, valid_months
    program.optional_required = min(optional_required, len(optional))
    program.source_hash = None
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
    return program
