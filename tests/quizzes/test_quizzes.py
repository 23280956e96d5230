"""Taking a quiz: the key stays secret, grading, pass marks, attempts, access and review."""

import re

import pytest
from sqlalchemy import func, select

from lms.quizzes.models import Attempt, Quiz
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")

FEEDBACK = "Số định danh cá nhân gồm 12 chữ số."


def questions_of(quiz):
    single, multiple = quiz.active_questions()
    assert (single.type, multiple.type) == ("single", "multiple")
    return single, multiple


def answers(quiz, single, multiple):
    """Form data: option ids for the single- and the multiple-choice question."""
    q1, q2 = questions_of(quiz)
    return {f"q{q1.id}": list(single), f"q{q2.id}": list(multiple)}


def submit(client, quiz, single=("b",), multiple=("a", "b"), **kwargs):
    return client.post(f"/quizzes/{quiz.id}/submit", data=answers(quiz, single, multiple), **kwargs)


def attempts(db_session, user=None):
    statement = select(Attempt).order_by(Attempt.id)
    if user is not None:
        statement = statement.where(Attempt.user_id == user.id)
    return db_session.scalars(statement).all()


def shown_score(response) -> str:
    return re.search(r'<p class="score">\s*([^<]*?)\s*</p>', response.get_data(as_text=True)).group(1)


def assert_no_key(body: str):
    # A first visit carries the site's public stylesheet inline (lms/core/inline_style.py: `.choice.correct`
    # is a rule of it, not a key); the key is looked for in the rest of the page.
    body = re.sub(r"<style>.*?</style>", "", body, count=1, flags=re.S)
    lowered = body.lower()
    assert "correct" not in lowered and "answer_key" not in lowered and '"answer"' not in lowered
    assert FEEDBACK not in body and "12 chữ số" not in body


# ---------------------------------------------------------------- the key never leaves before grading

def test_quiz_page_shows_questions_without_marking_the_right_options(client, quiz, learner, db_session):
    intro = client.get(f"/quizzes/{quiz.id}")
    page = text_of(intro)
    assert "pass mark 50%" in page and "3 attempts left" in page and "2 questions" in page
    assert "Start the quiz" in page
    assert attempts(db_session) == []  # looking at the quiz starts nothing

    started = client.post(f"/quizzes/{quiz.id}/start")
    response = client.get(started.headers["Location"])
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    page = text_of(response)
    assert "Số định danh cá nhân có bao nhiêu chữ số?" in page and "Đọc mã OTP cho người gọi" in page
    assert_no_key(html)
    inputs = re.findall(r"<input type=\"(?:radio|checkbox)\"[^>]*>", html)
    assert len(inputs) == 6
    for tag in inputs:
        assert "checked" not in tag and "data-" not in tag
        # Every option is written the same way: only its id differs.
        assert re.fullmatch(r'<input type="(radio|checkbox)" name="q\d+" value="[a-c]"\s*>', tag)


def test_json_responses_before_submission_carry_no_key(client, quiz, learner, db_session):
    single, _ = questions_of(quiz)
    json_headers = {"Accept": "application/json"}
    responses = [
        client.get(f"/quizzes/{quiz.id}", headers=json_headers),
        client.post(f"/quizzes/{quiz.id}/submit", data={f"q{single.id}": "a"}, headers=json_headers),
        client.get(f"/quizzes/{quiz.id + 999}", headers=json_headers),
    ]
    client.post("/logout")
    responses.append(client.get(f"/quizzes/{quiz.id}", headers=json_headers))
    assert responses[-1].status_code == 401 and responses[-1].get_json()["error"] == "unauthorized"

    for response in responses:
        assert_no_key(response.get_data(as_text=True))
    assert attempts(db_session) == []


# ---------------------------------------------------------------- grading

@pytest.mark.parametrize("single, expected", [(("b",), 1), (("a",), 0), (("c",), 0)])
def test_single_choice_is_all_or_nothing(client, quiz, learner, db_session, single, expected):
    submit(client, quiz, single=single, multiple=("a", "b"))
    attempt = attempts(db_session)[0]
    scores = {answer.question.type: float(answer.score) for answer in attempt.answers}
    assert scores == {"single": expected, "multiple": 1.0}
    assert float(attempt.score) == 50 + 50 * expected


@pytest.mark.parametrize("multiple, fraction", [
    (("a", "b"), 1.0),       # both right options
    (("a",), 0.5),           # one of two right options
    (("a", "c"), 0.0),       # (1 right - 1 wrong) / 2
    (("a", "b", "c"), 0.5),  # (2 right - 1 wrong) / 2
    (("c",), 0.0),           # (0 - 1) / 2, floored at 0
])
def test_multiple_choice_gives_partial_credit_with_a_penalty(client, quiz, learner, db_session, multiple, fraction):
    submit(client, quiz, single=("a",), multiple=multiple)
    attempt = attempts(db_session)[0]
    multiple_answer = next(a for a in attempt.answers if a.question.type == "multiple")
    assert float(multiple_answer.score) == fraction
    assert sorted(multiple_answer.response) == sorted(multiple)
    assert float(attempt.score) == 50 * fraction


@pytest.mark.parametrize("multiple, score, passed", [
    (("a", "b"), "100%", True),
    (("a", "b", "c"), "75%", False),
    (("c",), "50%", False),
])
def test_score_and_pass_against_the_quiz_pass_mark(client, quiz_course, learner, db_session, multiple, score, passed):
    course = quiz_course(("pass: 50", "pass: 80"))
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    assert quiz.pass_mark == 80

    response = submit(client, quiz, single=("b",), multiple=multiple)
    review = client.get(response.headers["Location"])
    result = text_of(review)

    assert shown_score(review) == score
    if passed:
        assert "Passed" in result and "Not passed yet" not in result
    else:
        assert "Not passed yet" in result and "The pass mark is 80%" in result
    assert attempts(db_session)[0].passed is passed


def test_a_score_equal_to_the_pass_mark_passes(client, quiz, learner, db_session):
    submit(client, quiz, single=("a",), multiple=("a", "b"))
    attempt = attempts(db_session)[0]
    assert float(attempt.score) == quiz.pass_mark == 50 and attempt.passed is True


def test_options_that_do_not_exist_are_ignored(client, quiz, learner, db_session):
    submit(client, quiz, single=("b", "zz"), multiple=("a", "b", "x9", "<script>"))
    attempt = attempts(db_session)[0]
    assert float(attempt.score) == 100
    assert sorted(tuple(a.response) for a in attempt.answers) == [("a", "b"), ("b",)]


def test_a_question_answered_only_with_unknown_options_scores_zero(client, quiz, learner, db_session):
    submit(client, quiz, single=("zz",), multiple=("a", "b"))
    attempt = attempts(db_session)[0]
    single = next(a for a in attempt.answers if a.question.type == "single")
    assert single.response == [] and float(single.score) == 0 and float(attempt.score) == 50


# ---------------------------------------------------------------- incomplete submissions and attempts

def test_unanswered_questions_are_refused_and_chosen_answers_kept(client, quiz, learner, db_session):
    single, multiple = questions_of(quiz)

    response = client.post(f"/quizzes/{quiz.id}/submit", data={f"q{single.id}": "c"})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Please answer every question before submitting (1 left)." in text_of(response)
    assert re.search(rf'name="q{single.id}" value="c"\s+checked', html)
    assert not re.search(rf'name="q{single.id}" value="[ab]"\s+checked', html)
    assert not re.search(rf'name="q{multiple.id}" value="[abc]"\s+checked', html)
    assert html.count("Please answer this question.") == 1
    assert_no_key(html)
    assert attempts(db_session) == []


def test_attempt_limit_refuses_a_fourth_attempt(client, quiz, learner, db_session):
    for _ in range(3):
        assert submit(client, quiz, single=("a",), multiple=("c",)).status_code == 303

    refused = submit(client, quiz, single=("b",), multiple=("a", "b"))

    assert refused.status_code == 303 and refused.headers["Location"].endswith(f"/quizzes/{quiz.id}")
    page = text_of(client.get(refused.headers["Location"]))
    assert "You have used all your attempts for this quiz." in page
    assert "0 attempts left" in page and "Submit my answers" not in page
    assert [a.number for a in attempts(db_session)] == [1, 2, 3]
    assert all(not a.passed for a in attempts(db_session))


# ---------------------------------------------------------------- access

def test_a_learner_cannot_open_another_learners_attempt(client, quiz, learner, create_user, login, db_session):
    submit(client, quiz)
    attempt_id = attempts(db_session)[0].id
    other = create_user("Lê Văn Khác")
    db_session.commit()
    client.post("/logout")
    login(other)
    assert "Lê Văn Khác" in text_of(client.get("/my"))

    response = client.get(f"/attempts/{attempt_id}")

    assert response.status_code == 403
    assert "You do not have permission" in text_of(response) and "Trần Thị Hoà" not in text_of(response)


def test_anonymous_visitors_are_sent_to_log_in(client, quiz, learner, db_session):
    submit(client, quiz)
    attempt_id = attempts(db_session)[0].id
    client.post("/logout")

    for url in (f"/attempts/{attempt_id}", f"/quizzes/{quiz.id}"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/login?next={url}"
    response = client.post(f"/quizzes/{quiz.id}/submit", data=answers(quiz, ("b",), ("a", "b")))
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert len(attempts(db_session)) == 1


def test_a_learner_who_is_not_enrolled_cannot_submit(client, quiz, course, create_user, login, db_session):
    outsider = create_user("Phạm Văn Ngoài")
    db_session.commit()
    login(outsider)

    response = submit(client, quiz, follow_redirects=True)

    assert "Enrol in the course before taking its quiz." in text_of(response)
    assert response.request.path == f"/courses/{course.slug}"
    assert db_session.scalar(select(func.count(Attempt.id))) == 0


# ---------------------------------------------------------------- review

def test_review_after_submission_shows_the_right_answers_and_feedback(client, quiz, learner, db_session):
    quiz.answers_shown = "after-submit"  # the key after this first attempt (default: after the last)
    db_session.commit()
    response = submit(client, quiz, single=("a",), multiple=("a",))
    review = client.get(response.headers["Location"])
    html, page = review.get_data(as_text=True), text_of(review)

    assert shown_score(review) == "25%" and "Not passed yet" in page
    assert FEEDBACK in page
    assert "Incorrect" in page and "Partly correct" in page
    # The right option of the single-choice question is shown as such, next to the learner's wrong choice.
    assert re.search(r'class="choice correct">\s*<span>☐</span>\s*<span>12\s*<span class="visually-hidden">'
                     r"\(correct answer\)", html)
    assert re.search(r'class="choice wrong">\s*<span>☑</span>\s*<span>9\s', html)
    assert page.count("(correct answer)") == 3 and page.count("your choice") == 2
