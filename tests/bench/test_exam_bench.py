"""The exam-day benchmark's own bookkeeping (bench/exam_learners.py, bench/exam_check.py), so that its
"acknowledged-but-missing: 0" can be trusted: a learner retries like the quiz page and records only
what the server confirmed; the check finds every confirmed answer missing from any attempt."""

import asyncio
import datetime as dt
import json
import urllib.parse

from sqlalchemy import select

from bench.exam_check import check, report
from bench.exam_learners import Learner, Record, Stats
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
    return [([], response) for response in responses]


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
    turn (the last one repeats); None closes the connection without answering."""

    def __init__(self, script):
        self.script, self.requests = script, []

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
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        self.requests.append((method, path, urllib.parse.parse_qsl(body.decode())))
        answers = self.script[(method, path)]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if answer is not None:
            status, extra, data = answer
            head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(data)}", "Connection: close"]
            head += [f"{k}: {v}" for k, v in extra.items()]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
            await writer.drain()
        writer.close()


BARE_500 = (500, {"Content-Type": "text/html"}, b"<html><body><h1><p>Internal Server Error</p></h1></body></html>")
PAGE = (200, {"Content-Type": "text/html"}, b'<input name="shown" value="1"><input name="shown" value="2">')
KEYS = {1: {"type": "single", "options": ["a", "b"], "choices": []},
        2: {"type": "short", "options": [], "choices": []}}


def _json(status, body):
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def _run_learner(script, patience=5.0):
    async def go():
        async with FakeServer(script) as server:
            stats = Stats()
            learner = Learner(0, server.port, 9, KEYS, "session=x", "tok", stats, think=0, patience=patience,
                              timeout=2, revise=0)
            await learner.run(0)
            return stats, learner.record, server.requests
    return asyncio.run(go())


def test_a_learner_retries_every_failure_and_records_only_what_the_server_confirmed():
    stats, record, requests = _run_learner({
        ("POST", "/quizzes/9/start"): [BARE_500, (303, {"Location": "http://lms/attempts/7"}, b"")],
        ("GET", "/attempts/7"): [PAGE],
        # question 1: the connection drops, then saved; question 2: 503, then a reply without it, then saved.
        ("POST", "/attempts/7/save"): [None, _json(200, {"saved": [1]}), _json(503, {"error": 503}),
                                       _json(200, {"saved": [], "closed": []}), _json(200, {"saved": [2]})],
        ("POST", "/attempts/7/finish"): [(303, {"Location": "/attempts/7"}, b"")],
    })
    assert record.outcome == "submitted" and record.submitted and record.attempt_id == 7
    assert record.acked == {1: (0, "autosave"), 2: (0, "autosave")}
    assert dict(stats.errors) == {("start", "HTTP 500, a bare server page"): 1, ("autosave", "connection lost"): 1,
                                  ("autosave", "HTTP 503, JSON"): 1, ("autosave", "2xx without this answer"): 1}
    saves = [fields for method, path, fields in requests if path == "/attempts/7/save"]
    assert [dict(fields)["shown"] for fields in saves] == ["1", "1", "2", "2", "2"]  # the same answer each retry
    finish = next(fields for method, path, fields in requests if path.endswith("/finish"))
    assert ("shown", "1") in finish and ("shown", "2") in finish and ("csrf_token", "tok") in finish
    assert len(stats.confirmed["autosave"]) == 2 and len(stats.times["autosave"]) == 4  # one drop had no response


def test_a_learner_gives_up_only_after_its_patience_and_stops_at_a_definite_no():
    stats, record, requests = _run_learner({("POST", "/quizzes/9/start"): [BARE_500]}, patience=0.6)
    assert record.outcome == "gave up: start failed for 1 s" and record.attempt_id is None
    assert stats.errors[("start", "HTTP 500, a bare server page")] == len(requests) >= 3

    stats, record, requests = _run_learner({
        ("POST", "/quizzes/9/start"): [(303, {"Location": "/attempts/7"}, b"")],
        ("GET", "/attempts/7"): [PAGE],
        ("POST", "/attempts/7/save"): [_json(409, {"error": "finished", "finished": True})],
    })
    assert record.outcome == "stopped: HTTP 409, JSON" and not record.submitted and record.acked == {}
    assert [path for _, path, _ in requests].count("/attempts/7/save") == 1
