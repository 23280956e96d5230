"""Issue 16: answers to an UNTIMED quiz given without a network are queued by the service worker and
sent later (X-Offline-Replay). The server takes a late or repeated replay as one answer, and refuses a
replay into a submitted attempt with a message for the learner (no flash: the worker shows it). Timed
attempts are not queued: their page does not ask the worker to."""

import pytest
from sqlalchemy import select

from lms.quizzes.models import AttemptAnswer
from tests.conftest import text_of
from tests.quizzes.test_attempts import by_type, start

pytestmark = pytest.mark.usefixtures("english")
REPLAY = {"Accept": "application/json", "X-Offline-Replay": "1"}


def replay(client, attempt_id, form):
    return client.post(f"/attempts/{attempt_id}/save", data=form, headers=REPLAY)


def test_an_untimed_attempt_page_asks_the_worker_to_queue_answers(client, setup):
    quiz, user = setup()
    page = client.get(f"/attempts/{start(client, quiz)}").get_data(as_text=True)
    assert f'data-offline-queue="{user.id}"' in page


def test_a_timed_attempt_page_does_not_and_says_it_is_online_only(client, setup):
    timed, _ = setup("time_limit: 10")
    page = client.get(f"/attempts/{start(client, timed)}").get_data(as_text=True)
    assert "data-offline-queue" not in page and "data-seconds-left" in page
    assert "timed, so it is done online only" in page  # what the page says when the network drops


def test_a_replayed_save_sent_twice_is_one_answer(client, setup, db_session):
    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    form = {"shown": str(qid), f"q{qid}": "b", f"v{qid}": "7000"}
    first, second = replay(client, attempt_id, form), replay(client, attempt_id, form)
    assert first.get_json()["answers"][str(qid)] == {"state": "saved", "version": 7000}
    assert second.get_json()["answers"][str(qid)] == {"state": "kept", "version": 7000}
    db_session.expire_all()
    rows = db_session.execute(select(AttemptAnswer.response, AttemptAnswer.version).where(
        AttemptAnswer.attempt_id == attempt_id)).all()
    assert [tuple(row) for row in rows] == [(["b"], 7000)]


def test_a_replay_into_a_submitted_attempt_is_refused_with_a_message(client, setup, db_session):
    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    assert client.post(f"/attempts/{attempt_id}/finish", headers={"Accept": "application/json"}).status_code == 200
    held = db_session.execute(select(AttemptAnswer.response, AttemptAnswer.version).where(
        AttemptAnswer.attempt_id == attempt_id, AttemptAnswer.question_id == qid)).all()
    late = replay(client, attempt_id, {"shown": str(qid), f"q{qid}": "b", f"v{qid}": "7000"})
    assert late.status_code == 409
    assert late.get_json()["message"] == (f"Your answers to “{quiz.title}” made without a network arrived after the "
                                          "attempt was submitted or its time was up; they were not counted.")
    db_session.expire_all()
    assert db_session.execute(select(AttemptAnswer.response, AttemptAnswer.version).where(
        AttemptAnswer.attempt_id == attempt_id, AttemptAnswer.question_id == qid)).all() == held
    # Told once, by the worker on the page being read: no flash waits for a later page.
    assert "not counted" not in text_of(client.get(f"/attempts/{attempt_id}"))
