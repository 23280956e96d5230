"""A simulation done through the server's pages without JavaScript: wrong tries, hints, scoring,
completion counting toward the course, stale and bad posts, and the trainer's funnel."""

import pytest
from sqlalchemy import select

from lms.enrollment.models import Enrollment, LessonProgress
from lms.practice.models import PracticeRun
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture()
def learner(create_user, login):
    user = create_user("Trần Thị Hoà")
    login(user)
    return user


def url(course, lesson, action=""):
    return f"/courses/{course.slug}/lessons/{lesson.id}" + (f"/practice/{action}" if action else "")


def post(client, course, lesson, action, **data):
    return client.post(url(course, lesson, action), data=data)


def page(client, course, lesson):
    response = client.get(url(course, lesson))
    assert response.status_code == 200
    return text_of(response)


def test_a_learner_does_the_simulation_with_a_wrong_try_a_hint_and_finishes(client, learner, practice_course,
                                                                            simulation_lesson, db_session):
    course, lesson = practice_course, simulation_lesson
    client.post(f"/courses/{course.slug}/enrol")
    text = page(client, course, lesson)
    assert "Practice environment" in text and "Bạn sẽ luyện ba bước." in text and "Start the practice" in text

    assert post(client, course, lesson, "start").status_code == 303
    text = page(client, course, lesson)
    assert "Step 1 of 3" in text and "Đăng nhập" in text and "PRACTICE" in text

    post(client, course, lesson, "answer", step="0", choice="0")  # "Đăng ký tài khoản mới": wrong
    text = page(client, course, lesson)
    assert "Not quite." in text and "Bạn đã có tài khoản mức 1 rồi." in text and "Show a hint" in text
    assert "Bạn đã có tài khoản." not in text  # hints only when asked for
    post(client, course, lesson, "hint", step="0")
    text = page(client, course, lesson)
    assert "Hint: Bạn đã có tài khoản." in text and "Chọn nút thứ hai." not in text

    post(client, course, lesson, "answer", step="0", choice="1")
    text = page(client, course, lesson)
    assert "Right!" in text and "Tài khoản mức 1 đã có, chỉ cần đăng nhập." in text
    post(client, course, lesson, "next", step="0")

    text = page(client, course, lesson)
    assert "Step 2 of 3" in text and "Mã OTP của bạn là 482913." in text
    post(client, course, lesson, "answer", step="1", value="123456")
    assert "Not quite." in page(client, course, lesson)
    post(client, course, lesson, "answer", step="1", value=" 482 913 ")
    post(client, course, lesson, "next", step="1")

    text = page(client, course, lesson)
    assert "Step 3 of 3" in text and "Practice QR code" in text
    post(client, course, lesson, "answer", step="2", choice="0")
    response = post(client, course, lesson, "next", step="2")
    assert response.status_code == 303
    text = page(client, course, lesson)
    # (25 for a wrong try and a hint + 50 for a wrong try + 100 at the first try) / 3 = 58.3
    assert "You finished the practice" in text and "Score: 58 / 100" in text
    assert "right after 1 wrong try, 1 hint" in text and "right at the first try" in text

    run = db_session.scalar(select(PracticeRun).where(PracticeRun.user_id == learner.id))
    assert (run.score, run.step, [(s.wrong_tries, s.hints_used) for s in run.steps]) == (58, 3, [(1, 1), (1, 0), (0, 0)])
    enrollment = db_session.scalar(select(Enrollment).where(Enrollment.user_id == learner.id))
    assert db_session.scalar(select(LessonProgress.completed_at).where(
        LessonProgress.enrollment_id == enrollment.id, LessonProgress.lesson_id == lesson.id)) is not None


def test_typed_values_are_never_stored(client, learner, practice_course, simulation_lesson, db_session):
    course, lesson = practice_course, simulation_lesson
    post(client, course, lesson, "start")
    post(client, course, lesson, "answer", step="0", choice="1")
    post(client, course, lesson, "next", step="0")
    post(client, course, lesson, "answer", step="1", value="079190001234")
    run = db_session.scalar(select(PracticeRun).where(PracticeRun.user_id == learner.id))
    assert run.steps[1].wrong_tries == 1 and run.steps[1].last_choice is None
    assert "079190001234" not in page(client, course, lesson)


def test_a_stale_or_bad_post_changes_nothing(client, learner, practice_course, simulation_lesson, db_session):
    course, lesson = practice_course, simulation_lesson
    post(client, course, lesson, "start")
    post(client, course, lesson, "answer", step="0", choice="1")
    post(client, course, lesson, "next", step="0")
    # The same "right" button again from an old tab: not counted on step 2.
    response = post(client, course, lesson, "answer", step="0", choice="0")
    assert response.status_code == 303
    assert "already answered" in page(client, course, lesson)
    bad = post(client, course, lesson, "answer", step="1", choice="9")  # an input step: choice ignored, value empty
    assert bad.status_code == 303
    nonsense = client.post(url(course, lesson, "answer"), data={"step": "x"})
    assert nonsense.status_code == 303
    run = db_session.scalar(select(PracticeRun).where(PracticeRun.user_id == learner.id))
    assert [(s.position, s.wrong_tries) for s in run.steps] == [(0, 0), (1, 1)]


def test_a_button_that_is_not_on_the_screen_is_a_clear_400(client, learner, practice_course, simulation_lesson):
    post(client, practice_course, simulation_lesson, "start")
    response = post(client, practice_course, simulation_lesson, "answer", step="0", choice="7")
    assert response.status_code == 400 and "Choose one of the buttons on the screen." in text_of(response)


def test_a_simulation_cannot_be_marked_done_by_the_button(client, learner, practice_course, simulation_lesson,
                                                         db_session):
    course, lesson = practice_course, simulation_lesson
    client.post(f"/courses/{course.slug}/enrol")
    response = client.post(f"{url(course, lesson)}/done", data={"done": "1"})
    assert response.status_code == 303
    assert "A practice is done when you finish its steps." in page(client, course, lesson)
    assert db_session.scalar(select(LessonProgress.completed_at).where(LessonProgress.lesson_id == lesson.id)) is None


def test_anonymous_visitors_see_the_intro_and_cannot_post(client, practice_course, simulation_lesson):
    text = page(client, practice_course, simulation_lesson)
    assert "Practice environment" in text and "to practise and save your progress" in text
    assert post(client, practice_course, simulation_lesson, "start").status_code in (302, 401)


def _run(db_session, user, lesson, steps, finished=False):
    """A first run with given (wrong_tries, hints, done) per step reached."""
    from lms.core.db import utcnow
    from lms.practice.models import PracticeStep

    run = PracticeRun(user_id=user.id, lesson_id=lesson.id, step_count=3,
                      step=len(steps) if finished else len(steps) - 1, finished_at=utcnow() if finished else None,
                      score=50 if finished else None)
    db_session.add(run)
    db_session.flush()
    for position, (wrong, hints, done) in enumerate(steps):
        db_session.add(PracticeStep(run_id=run.id, position=position, wrong_tries=wrong, hints_used=hints,
                                    completed_at=utcnow() if done else None))
    db_session.flush()
    return run


def test_the_funnel_counts_each_learners_first_run(client, create_user, login, practice_course, simulation_lesson,
                                                   db_session):
    lesson = simulation_lesson
    a, b, c = create_user("A"), create_user("B"), create_user("C")
    _run(db_session, a, lesson, [(0, 0, True), (2, 1, True), (0, 0, True)], finished=True)
    _run(db_session, a, lesson, [(0, 0, True), (0, 0, True), (0, 0, True)], finished=True)  # a repeat: not counted
    _run(db_session, b, lesson, [(1, 0, True), (3, 1, False)])  # stuck on step 2
    _run(db_session, c, lesson, [(0, 0, True)])  # on step 1, nothing wrong yet... then left

    from lms.practice.queries import funnel

    steps, summary = funnel(lesson)
    assert [(s.reached, s.done, s.first_try, s.failed, s.wrong_tries, s.hints) for s in steps] == [
        (3, 3, 2, 1, 1, 0), (2, 1, 0, 2, 5, 2), (1, 1, 1, 0, 0, 0)]
    assert (summary["learners"], summary["finished"], summary["hardest"].title) == (3, 1, "Nhập mã OTP")

    trainer = create_user("Giảng Viên", roles=["trainer"])
    login(trainer)
    assert client.get(url(practice_course, lesson, "funnel")).status_code == 403
    from lms.catalog.models import CourseOwner

    practice_course.owners.append(CourseOwner(user_id=trainer.id))
    db_session.flush()
    text = text_of(client.get(url(practice_course, lesson, "funnel")))
    assert "Hardest step: Nhập mã OTP — 2 of 2 learners got it wrong at first." in text


def test_a_run_begun_before_the_steps_were_edited_starts_again(client, learner, practice_course, simulation_lesson,
                                                               db_session):
    course, lesson = practice_course, simulation_lesson
    post(client, course, lesson, "start")
    post(client, course, lesson, "answer", step="0", choice="1")
    data = dict(lesson.simulation)
    lesson.simulation = {**data, "steps": data["steps"][:2]}  # a trainer removed the last step
    db_session.flush()
    assert "Start the practice" in page(client, course, lesson)
    from lms.practice import operations

    old_run = db_session.scalar(select(PracticeRun).where(PracticeRun.user_id == learner.id))
    with pytest.raises(operations.PracticeError):
        operations.advance(old_run, lesson, 0)  # the old run cannot move on
    post(client, course, lesson, "start")
    runs = db_session.scalars(select(PracticeRun).where(PracticeRun.user_id == learner.id).order_by(PracticeRun.id)).all()
    assert [(run.step_count, run.step) for run in runs] == [(3, 0), (2, 0)]
    assert "Step 1 of 2" in page(client, course, lesson)
