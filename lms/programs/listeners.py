"""Programs listen to course completions: a completed course may complete programs (lms.completion's
rule). The catalogue asks which programs and prerequisites to show."""

from lms.core.signals import assisted_attempts_policy_asked, course_completed, prerequisites_asked, programs_asked
from lms.programs.operations import check_programs_for
from lms.programs.queries import all_programs, assisted_attempts_count, prerequisites_of_course, programs_with_course


@course_completed.connect
def _on_course_completed(enrollment, **_details) -> None:
    check_programs_for(enrollment.user_id, enrollment.course_id)


@programs_asked.connect
def _programs(course, **_):
    return all_programs() if course is None else programs_with_course(course.id)


@prerequisites_asked.connect
def _prerequisites(course, **_):
    return prerequisites_of_course(course)


@assisted_attempts_policy_asked.connect
def _assisted_attempts_count(course_id, **_):
    return assisted_attempts_count(course_id)
