"""The exam-day benchmark's own bookkeeping (bench/exam_learners.py, bench/exam_check.py), so that its
"acknowledged-but-missing: 0" can be trusted: a learner retries like the quiz page and records only
what the server confirmed; the check finds every confirmed answer missing from any attempt."""

import asyncio
import datetime as dt
import json
import urllib.parse

from sqlalchemy import select

from bench.exam_check import check, report
from bench.exam_learners import Learner, Record, Sent, Stats
from lms.quizzes.models import Attempt, AttemptAnswer, Quiz


def _quiz_with_questions(create_course, db_session):
    course = create_course()
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    by_type = {q.type: q for q in quiz.active_questions()}
    keys = {q.id: {"type": q.type} for q in by_type.values()}
    return quiz, by_type["single"].id, by_type["multiple"].id, keys


def _attempt(db_session, quiz, user, answers: dict, submitted=False):
    attempt = Attempt(quiz=quiz, user=user, number=1, layout=[],
                      submitted_at=dt.datetime(2026, 1, 1) if submitted else None, score=10 if submitted else None)
    db_session.add(attempt)
    db_session.flush()
    for question_id, response in answers.items():
        db_session.add(AttemptAnswer(attempt_id=attempt.id, question_id=question_id, response=response))
    db_session.flush()
    return attempt.id


def _sent(*responses):
    return [Sent([], response, version) for version, response in enumerate(responses, start=1)]


def test_check_counts_confirmed_answers_missing_from_unsubmitted_attempts_and_stuck_ones(
        app, db_session, create_course, create_user):
    quiz, single, multiple, keys = _quiz_with_questions(create_course, db_session)
    users = [create_user(email=f"bench{n}@example.vn") for n in range(5)]
    # Gave up, never submitted; the multiple-choice answer was changed later (the newer one is stored).
    kept = _attempt(db_session, quiz, users[0], {single: ["a"], multiple: ["y", "x"]})
    # Stopped; the newer confirmed answer was overwritten by an older one, another confirmed answer is not stored.
    lost = _attempt(db_session, quiz, users[1], {single: ["old"]})
    stuck = _attempt(db_session, quiz, users[2], {single: ["s"]})
    _attempt(db_session, quiz, users[3], {})  # the start's response never reached its learner
    unheard = _attempt(db_session, quiz, users[4], {single: ["u"]}, submitted=True)
    records = [
        Record(0, kept, sent={single: _sent(["a"]), multiple: _sent(["z"], ["x", "y"])},
               acked={single: (0, "autosave"), multiple: (0, "autosave")}, outcome="gave up: autosave failed for 180 s"),
        Record(1, lost, sent={single: _sent(["old"], ["new"]), multiple: _sent(["x"])},
               acked={single: (1, "autosave"), multiple: (0, "autosave")}, outcome="stopped: HTTP 409, JSON"),
        Record(2, stuck, sent={single: _sent(["s"])}, acked={single: (0, "submit")}, submitted=True,
               outcome="submitted"),
        Record(3, None, outcome="gave up: start failed for 180 s"),
        Record(4, unheard, outcome="gave up: submit failed for 180 s"),
    ]

    findings = check(app, quiz.id, keys, records)

    assert findings.attempts == 5 and findings.confirmed_answers == 5
    assert findings.missing == [(lost, single, "autosave", ["new"], ["old"]), (lost, multiple, "autosave", ["x"], None)]
    assert dict(findings.unfinished) == {"gave up: autosave failed for 180 s": 1, "stopped: HTTP 409, JSON": 1,
                                         "started, but no learner heard of it": 1}
    assert findings.stuck == [stuck] and findings.submitted_unheard == 1
    text = "\n".join(report(findings))
    assert "acknowledged-but-missing: 2  (2 confirmed by autosave)" in text
    assert "attempts stuck (submission confirmed, not finished and graded): 1" in text


class FakeServer:
    """Answers the learner's requests from a script: per (method, path), a list of responses used in
    turn (the last one repeats); a response is (status, headers, body), a function of the request's
    form fields giving one, or None: the connection closes without an answer."""

    def __init__(self, script, announce_close=True):
        # announce_close=False: the answer promises keep-alive, then the connection closes anyway (as
        # gunicorn's gthread closes one that stays idle past its keep-alive time).
        self.script, self.requests, self.announce_close = script, [], announce_close

    async def __aenter__(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        await self.server.wait_closed()

    async def handle(self, reader, writer):
        method, path, _ = (await reader.readline()).decode().split()
        headers = {}
        while (line := await reader.readline()) != b"\r\n":
            name, _, value = line.decode().partition(":")
            headers[name.lower()] = value.strip()
        fields = urllib.parse.parse_qsl((await reader.readexactly(int(headers.get("content-length", 0)))).decode())
        self.requests.append((method, path, fields))
        answers = self.script[(method, path)]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        answer = answer(dict(fields)) if callable(answer) else answer
        if answer is not None:
            status, extra, data = answer
            head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(data)}"] + ["Connection: close"] * self.announce_close
            head += [f"{k}: {v}" for k, v in extra.items()]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
            await writer.drain()
        writer.close()


BARE_500 = (500, {"Content-Type": "text/html"}, b"<html><body><h1><p>Internal Server Error</p></h1></body></html>")
PAGE = (200, {"Content-Type": "text/html"}, b'<input name="shown" value="1"><input name="shown" value="2">')
STARTED = (303, {"Location": "http://lms/attempts/7"}, b"")
SUBMITTED = (200, {"Content-Type": "application/json"}, b'{"finished": true, "review": "/attempts/7"}')
KEYS = {1: {"type": "single", "options": ["a", "b"], "choices": []},
        2: {"type": "short", "options": [], "choices": []}}


def _json(status, body, **headers):
    return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


def _holds(*questions, state="saved", older=False):
    """A save's reply: the server holds, for each question, the version the request carried (or one below)."""
    return lambda fields: _json(200, {"answers": {str(q): {"state": state, "version": int(fields[f"v{q}"]) - older}
                                                  for q in questions if f"v{q}" in fields}})


def _with_learner(script, scenario, patience=60.0, announce_close=True):
    """Run `scenario(learner, server)` against a fake server; (stats, record, requests)."""
    async def go():
        async with FakeServer(script, announce_close) as server:
            stats = Stats()
            learner = Learner(0, server.port, 9, KEYS, "session=x", "tok", stats, think=0, patience=patience, revise=0)
            await scenario(learner, server)
            learner.conn.close()
            return stats, learner.record, server.requests
    return asyncio.run(go())


async def _confirmed(learner):
    while learner.unconfirmed() and not learner.refused:
        await asyncio.sleep(0.01)


def test_the_saver_retries_every_failure_and_records_only_what_the_server_confirmed():
    async def scenario(learner, server):
        learner.record.attempt_id = 7
        saver = asyncio.create_task(learner.saver())
        learner.change(1)
        await _confirmed(learner)
        learner.change(2)
        await _confirmed(learner)
        await learner.stop_saving(saver)

    stats, record, requests = _with_learner({
        # Question 1: the connection drops, then a reply holding an older version, then confirmed.
        # Question 2: 503 asking to wait 2 s, then confirmed.
        ("POST", "/attempts/7/save"): [None, _holds(1, older=True), _holds(1),
                                       _json(503, {"error": 503}, **{"Retry-After": "2"}), _holds(2)],
    }, scenario)
    assert record.acked == {1: (0, "autosave"), 2: (0, "autosave")}
    assert dict(stats.errors) == {("autosave", "connection lost"): 1, ("autosave", "2xx confirming not every answer"): 1,
                                  ("autosave", "HTTP 503, JSON"): 1}
    saves = [dict(fields) for method, path, fields in requests]
    assert [save["shown"] for save in saves] == ["1", "1", "1", "2", "2"]  # the same kept answer, each retry
    assert len({save["v1"] for save in saves[:3]}) == 1 and int(saves[3]["v2"]) > int(saves[0]["v1"])
    sent_at = [sent for sent, _ms in stats.timed["autosave"]]
    assert sent_at[3] - sent_at[2] >= 2.0  # Retry-After honoured
    assert len(stats.confirmed["autosave"]) == 2 and len(stats.times["autosave"]) == 4  # one drop had no response


def test_submit_carries_the_answers_no_save_got_through_and_confirms_them():
    async def scenario(learner, server):
        learner.record.attempt_id = 7
        saver = asyncio.create_task(learner.saver())
        learner.change(1)
        learner.change(2)
        while len(server.requests) < 2:  # saves fail meanwhile
            await asyncio.sleep(0.01)
        await learner.stop_saving(saver)
        await learner.persist("submit", learner.submit)

    stats, record, requests = _with_learner({
        ("POST", "/attempts/7/save"): [BARE_500],
        ("POST", "/attempts/7/finish"): [BARE_500, SUBMITTED],
    }, scenario)
    assert record.submitted and record.acked == {1: (0, "submit"), 2: (0, "submit")}
    finishes = [dict(fields) for method, path, fields in requests if path.endswith("/finish")]
    assert len(finishes) == 2 and all({"v1", "v2", "q1", "q2", "csrf_token"} <= set(f) for f in finishes)
    assert stats.errors[("submit", "HTTP 500, a bare server page")] == 1 and stats.confirmed["submit"]


def test_a_whole_exam_and_its_give_up_and_stop():
    stats, record, requests = _with_learner({
        ("POST", "/quizzes/9/start"): [BARE_500, STARTED],
        ("GET", "/attempts/7"): [PAGE],
        ("POST", "/attempts/7/save"): [_holds(1, 2)],
        ("POST", "/attempts/7/finish"): [SUBMITTED],
    }, lambda learner, server: learner.run(0))
    assert record.outcome == "submitted" and record.attempt_id == 7 and set(record.acked) == {1, 2}
    assert dict(stats.errors) == {("start", "HTTP 500, a bare server page"): 1}

    stats, record, requests = _with_learner({("POST", "/quizzes/9/start"): [BARE_500]},
                                            lambda learner, server: learner.run(0), patience=1.2)
    assert record.outcome == "gave up: start failed for 1 s" and record.attempt_id is None
    assert stats.errors[("start", "HTTP 500, a bare server page")] == len(requests) >= 2

    async def refused(learner, server):
        learner.record.attempt_id = 7
        learner.change(1)
        await learner.saver()  # returns at the definite "no"

    stats, record, requests = _with_learner(
        {("POST", "/attempts/7/save"): [_json(409, {"error": "finished", "finished": True})]}, refused)
    assert record.acked == {} and len(requests) == 1 and stats.errors[("autosave", "HTTP 409, JSON")] == 1


def test_a_learner_does_not_send_into_a_kept_alive_connection_the_server_has_closed():
    async def scenario(learner, server):
        learner.record.attempt_id = 7
        assert await learner.open_page() == [1, 2]
        while not learner.conn.reader.at_eof():  # the server's close has reached the learner's side
            await asyncio.sleep(0.01)
        assert await learner.open_page() == [1, 2]  # on a new connection, as a browser would

    stats, _record, requests = _with_learner({("GET", "/attempts/7"): [PAGE]}, scenario, announce_close=False)
    assert len(requests) == 2 and not stats.errors
