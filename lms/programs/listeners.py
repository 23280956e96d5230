"""Programs listen to course completions: a completed course may complete programs (lms.completion's rule)."""

from lms.core.signals import course_completed
from lms.programs.operations import check_programs_for


@course_completed.connect
def _on_course_completed(enrollment, **_details) -> None:
    check_programs_for(enrollment.user_id, enrollment.course_id)
