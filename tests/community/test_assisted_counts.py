"""The program decides whether quiz attempts taken in an assisted session count toward completion (issue 15)."""

import re

import pytest
from sqlalchemy import select

from lms.community import operations as ops
from lms.core.db import utcnow
from lms.enrollment.models import Enrollment, LessonProgress
from lms.programs.models import Program
from lms.quizzes.models import Attempt, Quiz
from tests.community.test_assisted import team  # noqa: F401 - the team fixture
from tests.conftest import text_of
from tests.quizzes.test_quizzes import submit

pytestmark = pytest.mark.usefixtures("english")
NOT_COUNTED = "this pass, taken with help, does not complete the course"


def _program(client, login, create_user, db_session, course, counts: str):
    """An administrator makes the program through the admin form, with the setting chosen."""
    admin = create_user("Quản Trị", roles=["admin"])
    login(admin)
    saved = client.post("/admin/programs/new", data={
        "slug": "cong-dan-so", "title": "Công dân số", "hours": "4", "required": course.slug, "optional": "",
        "optional_required": "0", "certificate": "y", "assisted_attempts_count": counts})
    assert saved.status_code == 302, text_of(saved)
    program = db_session.scalar(select(Program).where(Program.slug == "cong-dan-so"))
    assert program.assisted_attempts_count is (counts == "yes")
    edit = client.get(f"/admin/programs/{program.id}/edit").get_data(as_text=True)
    chosen = re.search(r'<input[^>]*checked[^>]*name="assisted_attempts_count"[^>]*>|'
                       r'<input[^>]*name="assisted_attempts_count"[^>]*checked[^>]*>', edit).group(0)
    assert f'value="{counts}"' in chosen
    client.post("/logout")


def _assisted_pass(client, login, team, db_session, course):  # noqa: F811
    """A member helps the resident pass the course's quiz (every lesson already done): the enrolment and attempt."""
    resident = ops.register_resident(team["a"], full_name="Nguyễn Thị A", phone="0912345678", commune=team["A"],
                                     hamlet="", consent_method="paper", consent_reference="P-1")
    enrollment = Enrollment(user_id=resident.user_id, course_id=course.id, locality_id=team["A"].id)
    db_session.add(enrollment)
    db_session.flush()
    for lesson in course.active_lessons():
        db_session.add(LessonProgress(enrollment_id=enrollment.id, lesson_id=lesson.id, completed_at=utcnow()))
    db_session.flush()
    login(team["a"])
    assert client.post(f"/community/residents/{resident.user_id}/assist").status_code == 303
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.key.not_like("bank/%")))
    result = submit(client, quiz, follow_redirects=True)
    attempt = db_session.scalar(select(Attempt).where(Attempt.user_id == resident.user_id))
    assert attempt.passed and "Taken with help from a community digital team" in text_of(result)
    return resident, enrollment, quiz, result


def test_when_assisted_attempts_do_not_count_the_learner_must_pass_alone(
        client, login, team, db_session, create_user, practice_course):  # noqa: F811
    _program(client, login, create_user, db_session, practice_course, "no")
    resident, enrollment, quiz, result = _assisted_pass(client, login, team, db_session, practice_course)
    db_session.refresh(enrollment)
    assert enrollment.completed_at is None and NOT_COUNTED in text_of(result)
    assert "You have completed the course" not in text_of(result)
    client.post("/community/assist/end")
    client.post("/logout")

    # Reports still count the assisted attempt (it is recorded, and marked).
    from lms.community.queries import assisted_attempts

    assert assisted_attempts(resident.user_id, practice_course.id) == 1

    resident.user.set_password("mat-khau-rieng-1")  # as the hand-over link lets her do
    db_session.flush()
    assert client.post("/login", data={"login": "0912345678", "password": "mat-khau-rieng-1"}).status_code == 302
    alone = submit(client, quiz, follow_redirects=True)
    db_session.refresh(enrollment)
    assert enrollment.completed_at is not None and NOT_COUNTED not in text_of(alone)
    assert "You have completed the course" in text_of(alone)


def test_by_default_an_assisted_pass_completes_the_course(
        client, login, team, db_session, create_user, practice_course):  # noqa: F811
    _program(client, login, create_user, db_session, practice_course, "yes")
    _resident, enrollment, _quiz, result = _assisted_pass(client, login, team, db_session, practice_course)
    db_session.refresh(enrollment)
    assert enrollment.completed_at is not None and NOT_COUNTED not in text_of(result)


def test_the_program_form_refuses_an_unknown_choice(client, login, create_user, db_session, practice_course):
    login(create_user("Quản Trị", roles=["admin"]))
    bad = client.post("/admin/programs/new", data={
        "slug": "x", "title": "X", "required": practice_course.slug, "assisted_attempts_count": "maybe"})
    assert bad.status_code == 400 and db_session.scalar(select(Program)) is None
