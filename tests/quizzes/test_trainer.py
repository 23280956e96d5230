"""Trainer tools: bank import in the UI, essay grading with comments, regrade, attempts overview, item analysis."""

import datetime as dt
import io

import pytest
from sqlalchemy import select

from lms.accounts import operations as account_ops
from lms.authoring.operations import add_owner
from lms.enrollment import operations as enrollment_ops
from lms.quizzes import operations, statistics
from lms.quizzes.models import Attempt, Quiz
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture()
def trainer(create_user, db_session, course):
    """A trainer who owns the fixture course (trainers manage only the courses they own)."""
    user = create_user("Giảng Viên Một", email="gv@example.vn")
    account_ops.grant_role(user, "trainer")
    add_owner(course, user)
    db_session.commit()
    return user


def learner_attempt(create_user, course, quiz, name, responses, email, locality=None, now=None):
    user = create_user(name, email=email, **({"locality": locality} if locality else {}))
    enrollment_ops.enrol(user, course)
    attempt = operations.start_attempt(quiz, user, now=now)
    by_type = {q.type: q for q in quiz.active_questions()}
    operations.save_answers(attempt, {by_type[t].id: r for t, r in responses.items()}, now=now)
    operations.finish_attempt(attempt, now=now)
    return attempt


def test_a_learner_cannot_open_trainer_pages(client, quiz, learner):
    for url in (f"/quizzes/{quiz.id}/attempts", f"/quizzes/{quiz.id}/grading", f"/quizzes/{quiz.id}/statistics",
                f"/quizzes/{quiz.id}/export.gift", f"/courses/{quiz.course.slug}/quizzes/manage"):
        response = client.get(url)
        assert response.status_code == 403 and "You do not have permission" in text_of(response)


def test_trainer_imports_gift_in_the_ui_and_non_utf8_is_refused(client, course, trainer, login, db_session):
    login(trainer)
    page = client.get(f"/courses/{course.slug}/quizzes/manage")
    assert "Import questions" in text_of(page) and "Bài kiểm tra" in text_of(page)
    bad = client.post(f"/courses/{course.slug}/quizzes/manage",
                      data={"format": "gift", "file": (io.BytesIO("::Q::Café{T}".encode("cp1252")), "q.gift")},
                      content_type="multipart/form-data")
    assert bad.status_code == 400 and "The file is not UTF-8" in text_of(bad)
    good = client.post(f"/courses/{course.slug}/quizzes/manage", follow_redirects=True,
                       data={"format": "gift", "title": "Ngân hàng",
                             "file": (io.BytesIO("::Q1::1+1=2{T}\n\n::Q2::Thủ đô?{=Hà Nội}".encode()), "q.gift")},
                       content_type="multipart/form-data")
    assert "Imported 2 questions into “Ngân hàng”." in text_of(good)
    quiz = db_session.scalar(select(Quiz).where(Quiz.key == "bank/ngan-hang"))
    assert [q.type for q in quiz.active_questions()] == ["true-false", "short"]
    exported = client.get(f"/quizzes/{quiz.id}/export.gift")
    assert "{TRUE}" in exported.get_data(as_text=True) and "=Hà Nội" in exported.get_data(as_text=True)


def test_essay_grading_queue_with_comment(client, all_types_course, create_user, trainer, login, db_session):
    course = all_types_course()
    add_owner(course, trainer)
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    attempt = learner_attempt(create_user, course, quiz, "Học Viên A", {"essay": ["Mật khẩu dài"], "single": ["b"]}, "a@x.vn")
    db_session.commit()
    assert attempt.needs_grading and attempt.passed is None
    login(trainer)
    queue = client.get(f"/quizzes/{quiz.id}/grading")
    assert "Mật khẩu dài" in text_of(queue) and "Học Viên A" in text_of(queue)
    answer = next(a for a in attempt.answers if a.question.type == "essay")
    refused = client.post(f"/quizzes/{quiz.id}/grading", data={"answer_id": answer.id, "mark": "5", "comment": ""})
    assert refused.status_code == 400 and "between 0 and 2" in text_of(refused)
    client.post(f"/quizzes/{quiz.id}/grading", data={"answer_id": answer.id, "mark": "1,5", "comment": "Tốt, thêm ví dụ."})
    db_session.refresh(answer)
    db_session.refresh(attempt)
    assert float(answer.score) == 0.75 and answer.comment == "Tốt, thêm ví dụ." and answer.graded_by_id == trainer.id
    assert not attempt.needs_grading and attempt.passed is not None
    assert "No essays are waiting" in text_of(client.get(f"/quizzes/{quiz.id}/grading"))
    review = text_of(client.get(f"/attempts/{attempt.id}"))
    assert "Tốt, thêm ví dụ." in review


def test_regrade_after_an_answer_key_fix(client, quiz, course, create_user, trainer, login, db_session):
    attempt = learner_attempt(create_user, course, quiz, "Học Viên B", {"single": ["a"], "multiple": ["a", "b"]}, "b@x.vn")
    db_session.commit()
    assert float(attempt.score) == 50
    single = next(q for q in quiz.active_questions() if q.type == "single")
    single.answer = ["a"]  # the key was wrong
    db_session.commit()
    login(trainer)
    response = client.post(f"/quizzes/{quiz.id}/regrade", follow_redirects=True)
    assert "Regraded: 1 attempts changed." in text_of(response)
    db_session.refresh(attempt)
    assert float(attempt.score) == 100 and attempt.passed


def test_attempts_overview_filters_by_locality_and_date(client, quiz, course, create_user, trainer, login, commune, db_session):
    vung_tau = commune()
    other = commune("26080") or commune("26083")
    t1, t2 = dt.datetime(2026, 3, 1, 3, 0), dt.datetime(2026, 3, 10, 3, 0)
    learner_attempt(create_user, course, quiz, "Người Vũng Tàu", {"single": ["b"]}, "vt@x.vn", vung_tau, now=t1)
    learner_attempt(create_user, course, quiz, "Người Khác", {"single": ["b"]}, "k@x.vn", other, now=t2)
    db_session.commit()
    login(trainer)
    everyone = text_of(client.get(f"/quizzes/{quiz.id}/attempts"))
    assert "Người Vũng Tàu" in everyone and "Người Khác" in everyone
    only_vt = text_of(client.get(f"/quizzes/{quiz.id}/attempts?locality={vung_tau.id}"))
    assert "Người Vũng Tàu" in only_vt and "Người Khác" not in only_vt
    march_first = text_of(client.get(f"/quizzes/{quiz.id}/attempts?from=01/03/2026&to=05/03/2026"))
    assert "Người Vũng Tàu" in march_first and "Người Khác" not in march_first
    bad = client.get(f"/quizzes/{quiz.id}/attempts?from=2026-03-01")
    assert bad.status_code == 400 and "dd/mm/yyyy" in text_of(bad)


def test_item_analysis_facility_discrimination_and_frequencies(client, quiz, course, create_user, trainer, login, db_session):
    # Four learners: the strong ones get both right, the weak ones pick wrong options.
    plans = [({"single": ["b"], "multiple": ["a", "b"]}), ({"single": ["b"], "multiple": ["a", "b"]}),
             ({"single": ["a"], "multiple": ["a"]}), ({"single": ["c"], "multiple": ["c"]})]
    for n, plan in enumerate(plans):
        learner_attempt(create_user, course, quiz, f"Học Viên {n}", plan, f"s{n}@x.vn")
    db_session.commit()
    result = statistics.item_analysis(quiz)
    single, multiple = result["rows"]
    assert result["attempts"] == 4
    assert single["facility"] == 50 and multiple["facility"] == 62.5
    # The single-choice scores (1,1,0,0) against the rest (1,1,0.5,0): strongly discriminating.
    assert round(single["discrimination"], 1) == 90.5
    assert [(count, right) for _, count, right in single["frequencies"]] == [(1, False), (2, True), (1, False)]
    login(trainer)
    page = client.get(f"/quizzes/{quiz.id}/statistics")
    assert "Facility index: 50%" in text_of(page) and "Discrimination index: 90.5%" in text_of(page)


def test_trainer_sees_a_learners_review_in_full(client, quiz, course, create_user, trainer, login, db_session):
    attempt = learner_attempt(create_user, course, quiz, "Học Viên C", {"single": ["a"]}, "c@x.vn")
    db_session.commit()
    login(trainer)
    page = text_of(client.get(f"/attempts/{attempt.id}"))
    assert "Học Viên C" in page and "(correct answer)" in page
    assert db_session.scalar(select(Attempt).where(Attempt.id == attempt.id)).user.full_name == "Học Viên C"


def test_a_bank_quiz_is_listed_but_does_not_block_completion(client, course, learner, trainer, db_session):
    from lms.quizzes.gift import parse_gift
    from lms.quizzes.sync import import_bank

    import_bank(course, parse_gift("::Q::1+1=2{T}", "x.gift", "Luyện tập"))
    db_session.commit()
    page = text_of(client.get(f"/courses/{course.slug}"))
    assert "More quizzes" in page and "Quiz: Luyện tập" in page and "Manage quizzes" not in page
    from lms.completion.operations import check_completion
    from lms.enrollment.queries import find_enrollment
    from lms.quizzes.models import Question

    enrollment = find_enrollment(learner, course)
    for lesson in course.active_lessons():
        enrollment_ops.mark_done(enrollment, lesson)
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.key.not_like("bank/%")))
    attempt = operations.start_attempt(quiz, learner)
    by_type = {q.type: q for q in db_session.scalars(select(Question).where(Question.quiz_id == quiz.id))}
    operations.save_answers(attempt, {by_type["single"].id: ["b"], by_type["multiple"].id: ["a", "b"]})
    operations.finish_attempt(attempt)
    assert check_completion(enrollment) and enrollment.completed_at is not None


def test_a_trainer_who_does_not_own_the_course_gets_403_on_its_quiz_tools(client, quiz, create_user, login, db_session):
    other = create_user("Giảng Viên Khác", email="gv2@example.vn")
    account_ops.grant_role(other, "trainer")
    db_session.commit()
    login(other)
    page = client.get(f"/quizzes/{quiz.id}/grading")
    assert page.status_code == 403 and "permission" in text_of(page).lower()
