"""Attempts that never lose an answer: explicit start, autosave, resume, limits, time, navigation, review rules."""

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from lms.core.db import utcnow
from lms.quizzes import operations, queries, results
from lms.quizzes.models import Attempt
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")

# Strings that are only in the key (or per-answer feedback) of the all-types quiz.
SECRETS = ["Gồm 12 chữ số", "đúng một nửa", "dichvucong.gov.vn", "30000", "29050", '"answer"', "fraction",
           "feedback_html", "(correct answer)", "Right answer", "Right order"]


def assert_no_secret(body: str):
    for secret in SECRETS:
        assert secret not in body, secret


def by_type(quiz):
    return {q.type: q for q in quiz.active_questions()}


def start(client, quiz):
    response = client.post(f"/quizzes/{quiz.id}/start")
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def autosave(client, attempt_id, data, page=0):
    shown = [str(k) for k in data.pop("_shown")]
    form = {"shown": shown, "page": str(page), **data}
    return client.post(f"/attempts/{attempt_id}/save", data=form, headers={"Accept": "application/json"})


def right_answers(quiz):
    q = by_type(quiz)
    matching = q["matching"]
    return {
        "_shown": [q[t].id for t in ("single", "multiple", "true-false", "short", "numeric", "matching", "ordering", "essay")],
        f"q{q['single'].id}": "b",
        f"q{q['multiple'].id}": ["a", "c"],
        f"q{q['true-false'].id}": "true",
        f"q{q['short'].id}": "Cong Dich vu cong",
        f"q{q['numeric'].id}": "30 002",
        **{f"q{matching.id}-{left}": right for left, right in matching.answer.items()},
        **{f"q{q['ordering'].id}-{item}": str(n) for n, item in enumerate(q["ordering"].answer, start=1)},
        f"q{q['essay'].id}": "Tôi dùng mật khẩu dài và không chia sẻ.",
    }


def test_a_whole_attempt_autosaves_resumes_and_is_graded(client, setup, db_session):
    quiz, user = setup("answers: after-submit")  # the key after this first attempt (default: after the last)
    attempt_id = start(client, quiz)
    page = client.get(f"/attempts/{attempt_id}")
    html = page.get_data(as_text=True)
    # The script by its fingerprinted static name (lms.core.assets), e.g. quiz-attempt.3f9a1c2b.js
    assert f'data-autosave="/attempts/{attempt_id}/save"' in html and re.search(r"quiz-attempt(\.[0-9a-f]+)?\.js", html)
    assert "Công an" in html and "Đăng nhập" in html  # matching choices and ordering items are shown
    assert_no_secret(html)

    saved = autosave(client, attempt_id, right_answers(quiz))
    assert saved.status_code == 200
    body = saved.get_json()
    assert len(body["saved"]) == 8 and body["seconds_left"] is None
    assert_no_secret(saved.get_data(as_text=True))

    # A reload (or a second tab) shows the same questions with the saved answers.
    again = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    q = by_type(quiz)
    assert re.search(rf'name="q{q["single"].id}" value="b" checked', again)
    assert 'value="Cong Dich vu cong"' in again and "Tôi dùng mật khẩu dài" in again
    assert_no_secret(again.replace('value="30 002"', ""))
    assert client.post(f"/quizzes/{quiz.id}/start").headers["Location"].endswith(f"/attempts/{attempt_id}")

    finished = client.post(f"/attempts/{attempt_id}/finish")
    review = client.get(finished.headers["Location"])
    attempt = db_session.get(Attempt, attempt_id)
    db_session.refresh(attempt)
    scores = {a.question.type: a.score for a in attempt.answers}
    assert all(float(scores[t]) == 1.0 for t in ("single", "multiple", "true-false", "short", "numeric", "matching", "ordering"))
    assert scores["essay"] is None and attempt.needs_grading and attempt.passed is None
    page = text_of(review)
    assert "waiting for a trainer" in page and "Right answer: dichvucong.gov.vn" in page and "Right order" in page
    # Saving after the end changes nothing.
    late = autosave(client, attempt_id, {"_shown": [q["single"].id], f"q{q['single'].id}": "a"})
    assert late.status_code == 409 and late.get_json()["error"] == "finished"
    assert next(a for a in attempt.answers if a.question_id == q["single"].id).response == ["b"]


def test_without_javascript_the_save_button_keeps_answers(client, setup, db_session):
    quiz, _ = setup()
    attempt_id = start(client, quiz)
    q = by_type(quiz)
    response = client.post(f"/attempts/{attempt_id}/save", data={"shown": [str(q["short"].id)], "page": "0", "go": "0",
                                                                 f"q{q['short'].id}": "abc"})
    assert response.status_code == 303
    assert "Your answers are saved." in text_of(client.get(response.headers["Location"]))
    attempt = db_session.get(Attempt, attempt_id)
    assert [a.response for a in attempt.answers] == [["abc"]]


def test_two_starts_give_one_attempt_and_the_limit_holds(client, setup, db_session):
    quiz, user = setup()
    first, second = start(client, quiz), start(client, quiz)
    assert first == second
    client.post(f"/attempts/{first}/finish")
    third = start(client, quiz)
    client.post(f"/attempts/{third}/finish")
    refused = client.post(f"/quizzes/{quiz.id}/start", follow_redirects=True)
    assert "You have used all your attempts for this quiz." in text_of(refused)
    assert [a.number for a in db_session.scalars(select(Attempt).order_by(Attempt.id))] == [1, 2]


def test_a_start_racing_another_start_resumes_the_winner(setup, db_session, monkeypatch):
    quiz, user = setup()
    winner = operations.start_attempt(quiz, user)
    db_session.flush()
    # The loser read "none running, 0 used" before the winner inserted; its insert then collides.
    stale = {"open": iter([None]), "counts": iter([(0, 0)])}
    real_open, real_counts = queries.open_attempt, queries.attempt_counts
    monkeypatch.setattr(queries, "open_attempt", lambda *a: next(stale["open"], None) or real_open(*a))
    monkeypatch.setattr(queries, "attempt_counts", lambda *a: next(stale["counts"], None) or real_counts(*a))
    loser = operations.start_attempt(quiz, user)
    assert loser.id == winner.id
    assert len(db_session.scalars(select(Attempt)).all()) == 1


def test_the_time_limit_is_enforced_on_the_server(setup, db_session):
    quiz, user = setup("time_limit: 10\ngrace: 30")
    t0 = dt.datetime(2026, 12, 1, 1, 0)
    attempt = operations.start_attempt(quiz, user, now=t0)
    q = by_type(quiz)
    assert attempt.deadline == t0 + dt.timedelta(minutes=10)
    operations.save_answers(attempt, {q["single"].id: ["b"]}, now=t0 + dt.timedelta(minutes=5))
    # Within the grace period an answer still counts (a slow phone on exam day)...
    operations.save_answers(attempt, {q["true-false"].id: ["true"]}, now=t0 + dt.timedelta(minutes=10, seconds=20))
    # ...after it, it does not.
    with pytest.raises(operations.TimeUp):
        operations.save_answers(attempt, {q["single"].id: ["a"]}, now=t0 + dt.timedelta(minutes=11))
    db_session.flush()
    # The learner left: the periodic task finishes the attempt with what was saved in time.
    assert operations.finish_overdue(now=t0 + dt.timedelta(minutes=10, seconds=10)) == 0
    assert operations.finish_overdue(now=t0 + dt.timedelta(minutes=11)) == 1
    assert operations.finish_overdue(now=t0 + dt.timedelta(minutes=12)) == 0
    answers = {a.question_id: a for a in attempt.answers}
    assert answers[q["single"].id].response == ["b"] and float(answers[q["single"].id].score) == 1
    assert attempt.finished and attempt.submitted_at == t0 + dt.timedelta(minutes=11)


def test_timed_attempt_page_shows_remaining_time_and_late_saves_finish_it(client, setup, db_session):
    quiz, user = setup("time_limit: 10\ngrace: 0")
    attempt_id = start(client, quiz)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    seconds = int(re.search(r'data-seconds-left="(\d+)"', html).group(1))
    assert 590 <= seconds <= 600
    attempt = db_session.get(Attempt, attempt_id)
    attempt.deadline = utcnow() - dt.timedelta(seconds=5)
    db_session.commit()
    q = by_type(quiz)
    late = autosave(client, attempt_id, {"_shown": [q["single"].id], f"q{q['single'].id}": "b"})
    assert late.status_code == 409 and late.get_json()["error"] == "time_up" and late.get_json()["finished"]
    db_session.refresh(attempt)
    assert attempt.finished and all(a.response in ([], {}) for a in attempt.answers)
    assert client.post(f"/quizzes/{quiz.id}/submit", data={}).status_code in (303, 400)


def test_a_late_submit_carrying_answers_finishes_without_them(client, setup, db_session):
    """The carried answers are refused (time is up) inside a savepoint: the submit still finishes the
    attempt under the lock it took, rather than rolling the lock away first."""
    quiz, user = setup("time_limit: 10\ngrace: 0")
    attempt_id = start(client, quiz)
    attempt = db_session.get(Attempt, attempt_id)
    attempt.deadline = utcnow() - dt.timedelta(seconds=5)
    db_session.commit()
    q = by_type(quiz)
    response = client.post(f"/attempts/{attempt_id}/finish",
                           data={"shown": [str(q["single"].id)], f"q{q['single'].id}": "b"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/attempts/{attempt_id}")
    db_session.refresh(attempt)
    assert attempt.finished and all(a.response in ([], {}) for a in attempt.answers)


def test_a_timed_quiz_cannot_be_submitted_without_starting(client, setup, db_session):
    quiz, _ = setup("time_limit: 5")
    operations_count = len(db_session.scalars(select(Attempt)).all())
    q = by_type(quiz)
    data = {f"q{qq.id}": "x" for qq in q.values()}
    response = client.post(f"/quizzes/{quiz.id}/submit", data=data, follow_redirects=True)
    assert "Start the attempt first" in text_of(response)
    assert len(db_session.scalars(select(Attempt)).all()) == operations_count


def test_closed_quiz_refuses_to_start(setup, db_session):
    quiz, user = setup("opens: 2020-01-01 08:00\ncloses: 2020-01-02 08:00")
    with pytest.raises(operations.QuizError, match="not open"):
        operations.start_attempt(quiz, user)


def test_sequential_navigation_closes_earlier_pages(client, setup, db_session):
    quiz, user = setup("layout: per-page\nnavigation: sequential")
    attempt_id = start(client, quiz)
    attempt = db_session.get(Attempt, attempt_id)
    first, second = attempt.layout[1]["q"], attempt.layout[2]["q"]  # [0] is the description
    assert "page 1 of 9" in text_of(client.get(f"/attempts/{attempt_id}"))
    # Jumping ahead goes one page at a time; going back is refused.
    client.get(f"/attempts/{attempt_id}?page=5")
    db_session.refresh(attempt)
    assert attempt.page == 1
    client.get(f"/attempts/{attempt_id}?page=2")
    back = client.get(f"/attempts/{attempt_id}?page=0", follow_redirects=True)
    assert "moves forward only" in text_of(back)
    result = autosave(client, attempt_id, {"_shown": [first, second], f"q{first}": "x", f"q{second}": "y"}, page=2)
    assert result.get_json()["closed"] == [first]


def test_review_follows_the_review_rules(client, setup, db_session):
    quiz, _ = setup("review: score\nfeedback: after-submit")
    attempt_id = start(client, quiz)
    autosave(client, attempt_id, right_answers(quiz))
    client.post(f"/attempts/{attempt_id}/finish")
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "waiting for a trainer" in html
    assert_no_secret(html)


def test_key_after_close_only(client, setup, db_session):
    quiz, _ = setup("feedback: after-close\nattempts: 0")
    attempt_id = start(client, quiz)
    autosave(client, attempt_id, right_answers(quiz))
    client.post(f"/attempts/{attempt_id}/finish")
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "Right answer" not in html and "Gồm 12 chữ số" not in html and "(correct answer)" not in html


def test_draw_and_shuffle_are_stored_per_attempt(setup, db_session):
    import random

    quiz, user = setup("draw: 4\nshuffle: true")
    attempt = operations.start_attempt(quiz, user, rng=random.Random(7))
    assert len(attempt.layout) == 4
    ids = {q.id for q in quiz.active_questions()}
    assert {slot["q"] for slot in attempt.layout} <= ids
    stored = json.loads(json.dumps(attempt.layout))
    db_session.flush()
    db_session.expire(attempt)
    assert attempt.layout == stored


def test_another_learner_cannot_save_into_my_attempt(client, setup, db_session, create_user, login):
    quiz, _ = setup()
    attempt_id = start(client, quiz)
    other = create_user("Lê Văn Khác")
    db_session.commit()
    client.post("/logout")
    login(other)
    q = by_type(quiz)
    response = autosave(client, attempt_id, {"_shown": [q["single"].id], f"q{q['single'].id}": "b"})
    assert response.status_code == 403
    assert db_session.get(Attempt, attempt_id).answers == []


def test_immediate_feedback_checks_one_answer_and_freezes_it(client, setup, db_session):
    quiz, _ = setup("feedback: immediate")
    attempt_id = start(client, quiz)
    q = by_type(quiz)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert f'name="check" value="{q["single"].id}"' in html
    assert f'name="check" value="{q["essay"].id}"' not in html
    checked = client.post(f"/attempts/{attempt_id}/save", follow_redirects=True,
                          data={"shown": [str(q["single"].id)], "page": "0", f"q{q['single'].id}": "a",
                                "check": str(q["single"].id)})
    page = text_of(checked)
    assert "Incorrect" in page and "Gồm 12 chữ số." in page
    # The other questions still carry no key, and the checked one can no longer change.
    assert "dichvucong.gov.vn" not in checked.get_data(as_text=True)
    again = autosave(client, attempt_id, {"_shown": [q["single"].id], f"q{q['single'].id}": "b"})
    assert again.get_json()["closed"] == [q["single"].id]
    attempt = db_session.get(Attempt, attempt_id)
    answer = next(a for a in attempt.answers if a.question_id == q["single"].id)
    assert answer.response == ["a"] and float(answer.score) == 0 and answer.checked_at is not None


def test_checking_is_refused_when_feedback_comes_later(setup, db_session):
    quiz, user = setup()
    attempt = operations.start_attempt(quiz, user)
    q = by_type(quiz)
    operations.save_answers(attempt, {q["single"].id: ["b"]})
    with pytest.raises(operations.QuizError, match="after submission"):
        operations.check_answer(attempt, q["single"].id)


def test_the_periodic_task_finishes_abandoned_attempts(setup, db_session):
    from lms.quizzes.tasks import finish_overdue_attempts

    quiz, user = setup("time_limit: 1\ngrace: 0")
    attempt = operations.start_attempt(quiz, user, now=utcnow() - dt.timedelta(minutes=5))
    db_session.commit()
    assert finish_overdue_attempts.run() == 1
    db_session.refresh(attempt)
    assert attempt.finished
    assert finish_overdue_attempts.run() == 0


@pytest.mark.parametrize("method, grade, passed", [("highest", 100, True), ("last", 0, False), ("first", 100, True),
                                                   ("average", 50, False)])
def test_grading_method_decides_the_quiz_grade_and_the_pass(setup, db_session, method, grade, passed):
    from lms.completion.rules import passed_quiz_ids

    quiz, user = setup(f"grading: {method}\npass: 60")
    # Only the auto-graded, non-essay questions count here: drop the essay from the quiz.
    for question in quiz.active_questions():
        if question.type == "essay":
            question.archived_at = utcnow()
    q = by_type(quiz)
    right = {q[t].id: v for t, v in (("single", ["b"]), ("multiple", ["a", "c"]), ("true-false", ["true"]),
                                     ("short", ["dichvucong.gov.vn"]), ("numeric", ["30000"]),
                                     ("matching", q["matching"].answer), ("ordering", q["ordering"].answer))}
    for responses in (right, {}):
        attempt = operations.start_attempt(quiz, user)
        operations.save_answers(attempt, responses)
        operations.finish_attempt(attempt)
    assert float(results.quiz_grade(quiz, user)) == grade
    assert (quiz.id in passed_quiz_ids(user.id, [quiz.id])) is passed


def test_attempts_stored_before_layouts_still_show_their_questions(setup, db_session):
    quiz, user = setup()
    attempt = operations.start_attempt(quiz, user)
    q = by_type(quiz)
    operations.save_answers(attempt, {q["single"].id: ["b"], q["short"].id: ["dichvucong.gov.vn"]})
    operations.finish_attempt(attempt)
    attempt.layout = []  # as the foundation stored attempts
    db_session.flush()
    shown = [question.type for question in queries.attempt_questions(attempt)]
    assert "single" in shown and "short" in shown
    assert operations.regrade_quiz(quiz) == 0


def test_the_attempt_page_reads_the_key_only_for_immediate_feedback(setup, db_session):
    """Every learner opens the attempt page at the start of an exam: the key (the largest JSON to decode) stays
    in the database unless the quiz checks answers at once (its per-answer feedback needs it)."""
    later_quiz, user = setup()
    later = queries.shown_questions(operations.start_attempt(later_quiz, user))
    assert later and all(question.answer is None for question in later)
    assert {question.type for question in later} >= {"single", "short"}
    at_once_quiz, user = setup("feedback: immediate")
    at_once = queries.shown_questions(operations.start_attempt(at_once_quiz, user))
    keys = {question.type: question.answer for question in at_once}
    assert keys["short"]["accepted"] and keys["single"] is not None
