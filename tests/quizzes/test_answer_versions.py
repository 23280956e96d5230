"""Saves on weak networks: each change of an answer carries the page's version; the server stores
it only when newer, answers with the version it holds, and a replayed, duplicated or late older
save changes nothing. Plain form posts (no JavaScript) always store, one version above."""

import pytest
from sqlalchemy import select

from lms.offline import REGISTRATION
from lms.quizzes import queries
from lms.quizzes.models import AttemptAnswer
from tests.conftest import text_of
from tests.quizzes.test_attempts import by_type, start

pytestmark = pytest.mark.usefixtures("english")


def save(client, attempt_id, question_id, value, version=None, field=None):
    form = {"shown": str(question_id), field or f"q{question_id}": value}
    if version is not None:
        form[f"v{question_id}"] = str(version)
    return client.post(f"/attempts/{attempt_id}/save", data=form, headers={"Accept": "application/json"})


def stored(db_session, attempt_id, question_id):
    db_session.expire_all()
    return db_session.execute(select(AttemptAnswer.response, AttemptAnswer.version, AttemptAnswer.saved_at).where(
        AttemptAnswer.attempt_id == attempt_id, AttemptAnswer.question_id == question_id)).one()


def answer_of(response, question_id):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["answers"][str(question_id)]


def test_a_newer_version_is_stored_and_the_reply_names_it(client, setup, db_session):
    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    assert answer_of(save(client, attempt_id, qid, "a", version=1000), qid) == {"state": "saved", "version": 1000}
    assert answer_of(save(client, attempt_id, qid, "b", version=2000), qid) == {"state": "saved", "version": 2000}
    response, version, _ = stored(db_session, attempt_id, qid)
    assert response == ["b"] and version == 2000


def test_a_replayed_save_changes_nothing_and_is_confirmed(client, setup, db_session):
    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    save(client, attempt_id, qid, "b", version=5000)
    first = stored(db_session, attempt_id, qid)
    replay = save(client, attempt_id, qid, "b", version=5000)
    # Confirmed (the page may forget its copy: the server holds version 5000), nothing written.
    assert answer_of(replay, qid) == {"state": "kept", "version": 5000}
    assert replay.get_json()["saved"] == []
    assert stored(db_session, attempt_id, qid) == first


def test_a_late_older_save_never_overwrites_a_newer_answer(client, setup, db_session):
    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    save(client, attempt_id, qid, "c", version=9000)
    # The change before it ("a", version 8000) was retried and arrives last.
    late = save(client, attempt_id, qid, "a", version=8000)
    # The reply names the newer version the server holds: a page still keeping 8000 forgets it,
    # a page keeping 9000 knows it is confirmed, a page keeping 9500 keeps its copy.
    assert answer_of(late, qid) == {"state": "kept", "version": 9000}
    response, version, _ = stored(db_session, attempt_id, qid)
    assert response == ["c"] and version == 9000


def test_several_answers_in_one_save_are_judged_one_by_one(client, setup, db_session):
    quiz, _ = setup()
    attempt_id, q = start(client, quiz), by_type(quiz)
    single, truth = q["single"].id, q["true-false"].id
    save(client, attempt_id, single, "c", version=9000)
    both = client.post(f"/attempts/{attempt_id}/save", headers={"Accept": "application/json"}, data={
        "shown": [str(single), str(truth)], f"q{single}": "a", f"v{single}": "100",
        f"q{truth}": "true", f"v{truth}": "100"})
    assert answer_of(both, single) == {"state": "kept", "version": 9000}
    assert answer_of(both, truth) == {"state": "saved", "version": 100}
    assert stored(db_session, attempt_id, single)[0] == ["c"] and stored(db_session, attempt_id, truth)[0] == ["true"]


def test_a_plain_form_post_always_stores_one_version_above(client, setup, db_session):
    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    far_ahead = 2**52  # a page whose clock runs years ahead
    save(client, attempt_id, qid, "a", version=far_ahead)
    # Without JavaScript the learner's click is the latest word, whatever the other page's clock said.
    plain = client.post(f"/attempts/{attempt_id}/save", data={"shown": str(qid), f"q{qid}": "b", "go": "0"})
    assert plain.status_code == 303
    response, version, _ = stored(db_session, attempt_id, qid)
    assert response == ["b"] and version == far_ahead + 1
    # Its first save gets the moment's milliseconds, the scale the page's versions use.
    other = by_type(quiz)["true-false"].id
    reply = answer_of(save(client, attempt_id, other, "true"), other)
    assert reply == {"state": "saved", "version": queries.version_of(stored(db_session, attempt_id, other)[2])}


@pytest.mark.parametrize("version", ["abc", "¹²", "-5", str(2**53), ""])
def test_a_version_that_is_not_a_plain_number_counts_as_a_plain_post(client, setup, db_session, version):
    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    save(client, attempt_id, qid, "c", version=9000)
    reply = answer_of(client.post(f"/attempts/{attempt_id}/save", headers={"Accept": "application/json"},
                                  data={"shown": str(qid), f"q{qid}": "a", f"v{qid}": version}), qid)
    assert reply["state"] == "saved" and reply["version"] > 9000
    assert stored(db_session, attempt_id, qid)[0] == ["a"]


def test_a_question_not_in_the_attempt_or_frozen_is_reported_closed(client, setup, db_session):
    quiz, _ = setup("feedback: immediate")
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    save(client, attempt_id, qid, "b", version=100)
    checked = client.post(f"/attempts/{attempt_id}/save", data={"shown": str(qid), f"q{qid}": "b", f"v{qid}": "200",
                                                               "check": str(qid)})
    assert checked.status_code == 303
    frozen = save(client, attempt_id, qid, "a", version=300)
    assert answer_of(frozen, qid) == {"state": "closed", "version": 200}
    stranger = save(client, attempt_id, 999_999, "a", version=300)
    assert answer_of(stranger, 999_999) == {"state": "closed", "version": None}
    assert stored(db_session, attempt_id, qid)[0] == ["b"]


def test_the_page_shows_each_answers_version_for_its_script(client, setup, db_session):
    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    save(client, attempt_id, qid, "b", version=123456)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert f'id="question-{qid}" data-version="123456"' in html
    # The script's messages come in the page's language, in an attribute (no inline script: CSP).
    assert "data-messages='{" in html and "Saved on this device; will be sent when the connection is back" in html
    # The one inline script is the layout's service-worker registration (lms.offline, allowed by its CSP hash).
    assert "<script>" not in html.replace(f"<script>{REGISTRATION}</script>", "")


def test_submit_carries_the_pages_answers_with_their_versions(client, setup, db_session):
    quiz, _ = setup()
    attempt_id, q = start(client, quiz), by_type(quiz)
    single, truth = q["single"].id, q["true-false"].id
    save(client, attempt_id, single, "a", version=1000)
    finished = client.post(f"/attempts/{attempt_id}/finish", headers={"Accept": "application/json"}, data={
        "shown": [str(single), str(truth)], f"q{single}": "b", f"v{single}": "2000",
        f"q{truth}": "true", f"v{truth}": "2000"})
    assert finished.get_json() == {"finished": True, "review": f"/attempts/{attempt_id}"}
    answers = {a.question_id: a for a in db_session.scalars(select(AttemptAnswer).where(
        AttemptAnswer.attempt_id == attempt_id))}
    assert answers[single].response == ["b"] and float(answers[single].score) == 1
    assert answers[truth].response == ["true"] and float(answers[truth].score) == 1


def test_a_submission_repeated_after_a_lost_reply_is_harmless_and_honest(client, setup, db_session):
    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    form = {"shown": str(qid), f"q{qid}": "b", f"v{qid}": "2000"}
    client.post(f"/attempts/{attempt_id}/finish", headers={"Accept": "application/json"}, data=form)
    # The reply was lost; the page sends the same submission again: same answer, no complaint.
    again = client.post(f"/attempts/{attempt_id}/finish", headers={"Accept": "application/json"}, data=form)
    assert again.get_json()["finished"] is True
    assert "were not counted" not in text_of(client.get(f"/attempts/{attempt_id}"))
    # A change the server never had, sent after the attempt was submitted elsewhere: the learner is told.
    newer = {"shown": str(qid), f"q{qid}": "c", f"v{qid}": "3000"}
    client.post(f"/attempts/{attempt_id}/finish", headers={"Accept": "application/json"}, data=newer)
    assert "the answers sent now were not counted" in text_of(client.get(f"/attempts/{attempt_id}"))
    assert stored(db_session, attempt_id, qid)[0] == ["b"]
