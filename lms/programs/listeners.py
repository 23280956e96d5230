"""Programs listen to course completions: a completed course may complete programs (lms.completion's
rule). The catalogue asks which programs and prerequisites to show."""

from lms.core.signals import course_completed, prerequisites_asked, programs_asked
from lms.programs.operations import check_programs_for
from lms.programs.queries import all_programs, prerequisites_of_course, programs_with_course


@course_completed.connect
def _on_course_completed(enrollment, **_details) -> None:
    check_programs_for(enrollment.user_id, enrollment.course_id)


@programs_asked.connect
def _programs(course, **_):
    return all_programs() if course is None else programs_with_course(course.id)


@prerequisites_asked.connect
def _prerequisites(course, **_):
    return prerequisites_of_course(course)
