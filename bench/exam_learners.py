"""The simulated learners of the exam-day benchmark (bench/quiz_exam.py).

Each learner does what the quiz page (static/js/quiz-attempt.js, docs/quizzes.md) does for a
person: start (or resume) the attempt, open it, answer each question after some thought and
autosave it, then submit. Like the page, every change of an answer gets a version (milliseconds,
kept increasing); every answer the server has not confirmed at that version or newer is kept and
sent again with the next save, and carried by Submit; any failure (no connection, no answer within
15 s — 30 s for Submit —, 5xx, 429, a reply that confirms nothing) is retried with the page's
backoff (equal jitter, 1 s doubling to 30 s, Retry-After honoured). Only a definite "no" (another
4xx, e.g. 409: the attempt is over) or `patience` seconds of failures in a row make it stop.

What the server confirmed is recorded per attempt and question — a 2xx autosave whose `answers`
hold that version or a newer one, or a confirmed submission carrying the answer — for
bench/exam_check.py to hold the database to.
"""

import asyncio
import contextlib
import json
import random
import re
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

# The quiz page's constants (static/js/quiz-attempt.js), in seconds.
BACKOFF_FIRST, BACKOFF_MAX, RETRY_AFTER_MAX = 1.0, 30.0, 150.0
SAVE_TIMEOUT, SUBMIT_TIMEOUT = 15.0, 30.0


def answer_for(question: dict, rng: random.Random):
    """(form fields, the response the server must store)."""
    kind, options, choices = question["type"], question["options"], question["choices"]
    if kind in ("single", "true-false"):
        pick = rng.choice(options)
        return [("value", pick)], [pick]
    if kind == "multiple":
        picks = rng.sample(options, rng.randint(1, len(options)))
        return [("value", p) for p in picks], sorted(picks)
    if kind in ("short", "numeric"):
        text = rng.choice(["dichvucong.gov.vn", "VNeID", "30000", "12", "không biết"])
        return [("value", text)], [text]
    if kind == "matching":
        pairs = {left: rng.choice(choices) for left in options}
        return [(f"-{left}", right) for left, right in pairs.items()], pairs
    order = rng.sample(options, len(options))
    return [(f"-{item}", str(n)) for n, item in enumerate(order, start=1)], order


def form_fields(question_id: int, fields, version: int | None = None) -> list[tuple[str, str]]:
    """The attempt form's fields for one answer, as the page names them (with its version, if any)."""
    return [("shown", str(question_id))] + ([(f"v{question_id}", str(version))] if version else []) + [
        (f"q{question_id}" + (suffix if suffix.startswith("-") else ""), value) for suffix, value in fields]


class Sent(NamedTuple):
    fields: list        # form fields of the answer
    response: object    # what the server must store for it
    version: int        # the page's version of this change
    changed_at: float = 0.0  # monotonic time of the change


@dataclass
class Record:
    """One learner's attempt as the learner saw it."""
    learner: int
    attempt_id: int | None = None
    sent: dict = field(default_factory=dict)     # question id → [Sent], in the order the learner made them
    acked: dict = field(default_factory=dict)    # question id → (index in sent, "autosave" | "submit")
    submitted: bool = False                      # the server confirmed the submission
    outcome: str = "running"


@dataclass
class Stats:
    # Request kind → [(monotonic time sent, ms until the response)] of every request that got one.
    timed: dict = field(default_factory=lambda: {k: [] for k in ("start", "page", "autosave", "submit")})
    # ms from an answer's change to its confirmation by a save; from the first press of Submit to its confirmation.
    confirmed: dict = field(default_factory=lambda: {"autosave": [], "submit": []})
    errors: Counter = field(default_factory=Counter)                                 # (request kind, what) → count
    samples: dict = field(default_factory=dict)                                      # (request kind, what) → message
    records: list = field(default_factory=list)
    ack_times: list = field(default_factory=list)  # monotonic times of confirmed autosaves
    began: float = field(default_factory=time.monotonic)
    restored: float | None = None  # when the database accepted connections again after an outage
    fault: tuple | None = None     # (monotonic start, end) of the fault, for latency before / during / after

    @property
    def times(self) -> dict:
        return {kind: [ms for _sent, ms in pairs] for kind, pairs in self.timed.items()}

    def phases(self, kind: str) -> dict:
        """Latencies of one request kind sent before, during and after the fault."""
        start, end = self.fault
        split = {"before the fault": [], "during it": [], "after it": []}
        for sent, ms in self.timed[kind]:
            split["before the fault" if sent < start else "during it" if sent <= end else "after it"].append(ms)
        return split

    def error(self, kind: str, what: str, message: str) -> None:
        self.errors[(kind, what)] += 1
        self.samples.setdefault((kind, what), message[:300])


class Failure(Exception):
    def __init__(self, what: str, message: str, retry: bool, retry_after: float = 0.0):
        super().__init__(message)
        self.what, self.retry, self.retry_after = what, retry, retry_after


class GaveUp(Exception):
    pass


class Connection:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams: the Python client must stay cheap,
    since it shares the machine's two cores with gunicorn and PostgreSQL."""

    def __init__(self, port, cookie, stamp=False):
        self.port, self.cookie, self.stamp = port, cookie, stamp
        self.reader = self.writer = None

    async def request(self, method, path, body=b"", headers=None, timeout=30.0):
        try:
            async with asyncio.timeout(timeout):  # no task per request, as wait_for makes: the client must stay cheap
                return await self._request(method, path, body, headers)
        except BaseException:
            self.close()  # a half-read response must not be read as the next one
            raise

    async def _request(self, method, path, body, headers):
        if self.reader is not None and self.reader.at_eof():
            # The server closed this kept-alive connection while it was idle (gunicorn's gthread after
            # its keep-alive time, 2 s): a browser sees that and opens a new one, it does not send into it.
            self.close()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Cookie: {self.cookie}",
                 f"Content-Length: {len(body)}"]
        if body:
            lines.append("Content-Type: application/x-www-form-urlencoded")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if self.stamp:  # what nginx adds in front of the app (deploy/nginx/lms-proxy.conf): when it passed the request on
            lines.append(f"X-Request-Start: t={time.time():.3f}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        try:  # the status line and headers in one read, not one await per line
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if not error.partial:
                raise ConnectionResetError("connection closed before the response") from error
            raise
        status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        received = {}
        for line in lines:
            name, _, value = line.partition(":")
            received[name.strip().lower()] = value.strip()
        length = int(received.get("content-length", 0))
        data = await self.reader.readexactly(length) if length else b""
        if received.get("connection", "").lower() == "close":  # gunicorn's sync workers close after every response
            self.close()
        return status, received, data

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def http_failure(status: int, headers: dict, data: bytes) -> Failure:
    """What an unwanted status means: its kind of page, and whether the page would try again."""
    if "json" in headers.get("content-type", ""):
        flavour = "JSON"
    elif data[:200].lower().lstrip().startswith(b"<!doctype"):
        flavour = "the site's error page"
    else:
        flavour = "a bare server page"  # e.g. gunicorn's own "Internal Server Error"
    asked = headers.get("retry-after", "")
    # A 503 must say when to come back (the page waits that long); one without is its own kind of error.
    unasked = " without Retry-After" if status == 503 and not asked else ""
    return Failure(f"HTTP {status}{unasked}, {flavour}", f"HTTP {status} {data[:200]!r}", retry=status >= 500 or status == 429,
                   retry_after=float(asked) if asked.isdigit() else 0.0)


TRANSPORT_ERRORS = (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError,
                    KeyError)


def _backoff(failures: int, asked: float, rng: random.Random) -> float:
    """The page's wait before the n-th retry: "equal jitter" under a doubling ceiling; Retry-After wins."""
    ceiling = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (failures - 1))
    return max(ceiling / 2 + rng.uniform(0, ceiling / 2), min(asked, RETRY_AFTER_MAX))


def _transport_problem(error: Exception) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, (ValueError, IndexError, KeyError, asyncio.LimitOverrunError)):
        return "unreadable answer"
    return "connection lost"


class Learner:
    """One person on the quiz page: answers while the page's saver sends them in the background."""

    def __init__(self, number, port, quiz_id, keys, cookie, token, stats: Stats, *, think, patience, revise,
                 stamp=False):
        self.rng = random.Random(number)
        self.quiz_id, self.keys, self.token, self.stats = quiz_id, keys, token, stats
        self.think, self.patience, self.revise = think, patience, revise
        self.conn = Connection(port, cookie, stamp)
        self.record = Record(number)
        stats.records.append(self.record)
        self.changed = asyncio.Event()   # a new answer, or Submit pressed: the saver wakes up
        self.finishing = False           # Submit pressed: the page sends no more saves
        self.refused: Failure | None = None  # a definite "no" the saver got (e.g. 409: the attempt is over)

    async def run(self, delay: float) -> None:
        await asyncio.sleep(delay)
        record = self.record
        saver = None
        try:
            await self.persist("start", self.start)
            shown = await self.persist("page", self.open_page)
            saver = asyncio.create_task(self.saver())
            for question_id in shown + [q for q in shown if self.rng.random() < self.revise]:  # second thoughts last
                await asyncio.sleep(self.rng.uniform(0, self.think))
                if self.refused:
                    raise self.refused
                self.change(question_id)
            await asyncio.sleep(self.rng.uniform(0, self.think))  # reads it over, then presses Submit
            await self.stop_saving(saver)
            await self.persist("submit", self.submit)
            record.outcome = "submitted"
        except GaveUp as reason:
            record.outcome = f"gave up: {reason}"
        except Failure as failure:
            record.outcome = f"stopped: {failure.what}"
        finally:
            if saver is not None:
                await self.stop_saving(saver)
            self.conn.close()

    def change(self, question_id: int) -> None:
        """A new answer (or a changed one): kept on the page with its version until confirmed."""
        sent = self.record.sent.setdefault(question_id, [])
        version = max(int(time.time() * 1000), sent[-1].version + 1 if sent else 0)
        sent.append(Sent(*answer_for(self.keys[question_id], self.rng), version, time.monotonic()))
        self.changed.set()

    async def stop_saving(self, saver) -> None:
        """Submit pressed: a save on its way finishes (its reply counts), no new one starts."""
        self.finishing = True
        self.changed.set()
        await saver

    async def saver(self) -> None:
        """The page's send loop: every kept answer goes out at once; failures back off; a change sends now."""
        failures = 0
        while not self.finishing:
            if not self.unconfirmed():
                await self.changed.wait()
                self.changed.clear()
                continue
            self.changed.clear()
            try:
                await self.autosave()
                failures = 0
                continue
            except Failure as failure:
                self.stats.error("autosave", failure.what, str(failure))
                if not failure.retry:
                    self.refused = failure
                    return
                asked = failure.retry_after
            except TRANSPORT_ERRORS as error:
                self.stats.error("autosave", _transport_problem(error), f"{type(error).__name__}: {error}")
                asked = 0.0
            failures += 1
            with contextlib.suppress(TimeoutError):  # a new answer or Submit ends the wait
                await asyncio.wait_for(self.changed.wait(), _backoff(failures, asked, self.rng))

    async def persist(self, kind: str, attempt_once):
        """A step the person waits for (start, open, submit): retried with the page's backoff until it
        succeeds, a definite "no", or `patience` seconds of failures."""
        first_try, tries = time.monotonic(), 0
        while True:
            asked = 0.0
            try:
                result = await attempt_once()
            except Failure as failure:
                self.stats.error(kind, failure.what, str(failure))
                if not failure.retry:
                    raise
                asked = failure.retry_after
            except TRANSPORT_ERRORS as error:
                self.stats.error(kind, _transport_problem(error), f"{type(error).__name__}: {error}")
            else:
                if kind in self.stats.confirmed:
                    self.stats.confirmed[kind].append((time.monotonic() - first_try) * 1000)
                return result
            if time.monotonic() - first_try > self.patience:
                raise GaveUp(f"{kind} failed for {self.patience:.0f} s")
            tries += 1
            await asyncio.sleep(_backoff(tries, asked, self.rng))

    async def call(self, kind, method, path, body=b"", headers=None, timeout=30.0):
        began = time.monotonic()
        status, received, data = await self.conn.request(method, path, body, headers, timeout)
        self.stats.timed[kind].append((began, (time.monotonic() - began) * 1000))
        return status, received, data

    async def start(self):
        form = urllib.parse.urlencode({"csrf_token": self.token}).encode()
        status, headers, data = await self.call("start", "POST", f"/quizzes/{self.quiz_id}/start", form)
        location = urllib.parse.urlparse(headers.get("location", "")).path
        if status != 303:
            raise http_failure(status, headers, data)
        if not re.fullmatch(r"/attempts/\d+", location):
            raise Failure("start refused", f"start sent to {location}", retry=False)
        self.record.attempt_id = int(location.rsplit("/", 1)[1])

    async def open_page(self) -> list[int]:
        status, headers, page = await self.call("page", "GET", f"/attempts/{self.record.attempt_id}")
        if status != 200:
            raise http_failure(status, headers, page)
        shown = [int(q) for q in re.findall(rb'name="shown" value="(\d+)"', page)]
        if sorted(shown) != sorted(self.keys):
            raise Failure("attempt page without its questions", f"{len(shown)} questions shown", retry=False)
        return shown

    def unconfirmed(self) -> dict[int, int]:
        """Questions whose latest answer the server has not confirmed: question id → index in `sent`."""
        record = self.record
        return {q: len(sent) - 1 for q, sent in record.sent.items()
                if q not in record.acked or record.acked[q][0] < len(sent) - 1}

    def body(self, carried: dict) -> bytes:
        """The page's request body: the CSRF token, then each kept answer with its version."""
        fields = [("csrf_token", self.token)]
        for q, index in carried.items():
            sent = self.record.sent[q][index]
            fields += form_fields(q, sent.fields, sent.version)
        return urllib.parse.urlencode(fields).encode()

    async def autosave(self) -> None:
        carried = self.unconfirmed()  # every answer still waiting, as the page keeps them
        status, headers, data = await self.call(
            "autosave", "POST", f"/attempts/{self.record.attempt_id}/save", self.body(carried),
            {"Accept": "application/json", "X-CSRFToken": self.token}, SAVE_TIMEOUT)
        if status != 200:
            raise http_failure(status, headers, data)
        answers = json.loads(data).get("answers") or {}
        for q, index in carried.items():
            stored = answers.get(str(q)) or {}
            if stored.get("state") == "closed":
                raise Failure("answer refused (closed)", f"question {q}: {data[:200]!r}", retry=False)
            sent = self.record.sent[q][index]
            if stored.get("state") in ("saved", "kept") and (stored.get("version") or 0) >= sent.version:
                self.acknowledge(q, index, "autosave")
                self.stats.confirmed["autosave"].append((time.monotonic() - sent.changed_at) * 1000)
        self.stats.ack_times.append(time.monotonic())
        if any(q in carried and carried[q] == index for q, index in self.unconfirmed().items()):
            raise Failure("2xx confirming not every answer", f"{data[:200]!r}", retry=True)

    def acknowledge(self, question_id: int, index: int, how: str) -> None:
        known = self.record.acked.get(question_id)
        if known is None or known[0] < index:
            self.record.acked[question_id] = (index, how)

    async def submit(self) -> None:
        carried = self.unconfirmed()  # the page's kept answers go with the submission
        path = f"/attempts/{self.record.attempt_id}"
        status, headers, data = await self.call("submit", "POST", f"{path}/finish", self.body(carried),
                                                {"Accept": "application/json", "X-CSRFToken": self.token},
                                                SUBMIT_TIMEOUT)
        if status != 200:
            raise http_failure(status, headers, data)
        if not json.loads(data).get("finished"):
            raise Failure("2xx without the submission", f"{data[:200]!r}", retry=True)
        self.record.submitted = True
        for q, index in carried.items():
            self.acknowledge(q, index, "submit")


async def exam(port, quiz_id, keys, cookies, stats: Stats, *, spread, think, patience, revise, stamp=False):
    learners = [Learner(n, port, quiz_id, keys, cookie, token, stats, think=think, patience=patience,
                        revise=revise, stamp=stamp) for n, (cookie, token) in enumerate(cookies)]
    stats.began = time.monotonic()
    await asyncio.gather(*(learner.run(n * spread / len(learners)) for n, learner in enumerate(learners)))
