"""The residents' home page (issue 16): what this is, the citizen program first, one tap to start (or
go on), and where to get help in their commune. Other people keep going to the catalogue."""

from flask import redirect, render_template, url_for
from flask_login import current_user

from lms.community.queries import help_for
from lms.core.lifecycle import view
from lms.enrollment import queries as enrollment_queries
from lms.programs import queries as program_queries


def _next_step(program):
    """(course, lesson or None, enrolled?) of the first unfinished course of the program, or None when all done."""
    enrollments = program_queries.enrollments_in(current_user, program)
    for link in sorted(program.courses, key=lambda link: link.position):
        enrollment = enrollments.get(link.course_id)
        if enrollment is None:
            return link.course, None, False
        if enrollment.completed_at is None:
            lessons = link.course.active_lessons()
            done = enrollment_queries.completed_lesson_ids(enrollment)
            return link.course, enrollment_queries.resume_lesson(enrollment, lessons, done), True
    return None


@view
def home():
    if not current_user.is_authenticated or current_user.audience != "citizen":
        return redirect(url_for("catalog.index"))
    programs = [p for p in program_queries.all_programs() if not p.audience or "citizen" in p.audience]
    program = program_queries.by_slug(programs[0].slug) if programs else None
    step = _next_step(program) if program is not None else None
    return render_template("community/home.html", program=program, step=step, help=help_for(current_user.locality))
