"""Issue 12, finding 8: the review shows the right answers as Moodle does by default — only once
no attempt is left or the quiz has closed — unless the trainer chooses `answers: after-submit`."""

import datetime as dt

import pytest

from lms.core.db import utcnow
from tests.conftest import text_of
from tests.quizzes.test_attempts import assert_no_secret, autosave, right_answers, start

pytestmark = pytest.mark.usefixtures("english")
KEY_MARKS = ("(correct answer)", "Right answer", "Right order")


def _finish(client, quiz, answers=None):
    attempt_id = start(client, quiz)
    autosave(client, attempt_id, answers or right_answers(quiz))
    client.post(f"/attempts/{attempt_id}/finish")
    return client.get(f"/attempts/{attempt_id}")


def test_no_key_while_attempts_remain_then_the_key(client, setup, db_session):
    quiz, _user = setup("attempts: 2")
    first = _finish(client, quiz)
    html = first.get_data(as_text=True)
    for mark in KEY_MARKS:
        assert mark not in html
    assert "Gồm 12 chữ số" in html  # general feedback is still shown; only the key waits
    assert "once you have no attempts left or the quiz has closed" in text_of(first)
    last = _finish(client, quiz).get_data(as_text=True)
    assert "(correct answer)" in last and "Right answer" in last and 'id="key-later"' not in last


def test_an_unlimited_quiz_shows_the_key_once_it_has_closed(client, setup, db_session):
    quiz, _user = setup("attempts: 0")
    review = _finish(client, quiz)
    assert "(correct answer)" not in review.get_data(as_text=True)
    quiz.closes_at = utcnow() - dt.timedelta(minutes=1)
    db_session.commit()
    assert "(correct answer)" in client.get(review.request.path).get_data(as_text=True)


def test_the_trainer_may_show_the_key_after_every_attempt(client, setup, db_session):
    quiz, _user = setup("attempts: 3\nanswers: after-submit")
    assert quiz.answers_shown == "after-submit"
    html = _finish(client, quiz).get_data(as_text=True)
    assert "(correct answer)" in html and "Right answer" in html


def test_the_key_stays_out_of_a_review_that_hides_it_anyway(client, setup, db_session):
    quiz, _user = setup("attempts: 1\nreview: score\nfeedback: after-submit")
    assert_no_secret(_finish(client, quiz).get_data(as_text=True))


def test_a_bad_answers_value_is_refused_with_its_line(tmp_path):
    from lms.quizzes.markdown_format import SourceError, quiz_settings

    with pytest.raises(SourceError, match="answers"):
        quiz_settings({"answers": "always"}, tmp_path / "quiz.md")
