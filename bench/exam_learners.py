"""The simulated learners of the exam-day benchmark (bench/quiz_exam.py).

Each learner does what the quiz page does for a person: start (or resume) the attempt, open it,
answer each question after some thought and autosave it, then submit with the page's answers. Like
the page, it keeps every answer the server has not confirmed yet and sends it again with the next
save; any failure (no connection, no answer, 5xx, 429) is retried with exponential backoff; only a
definite "no" (another 4xx) or `patience` seconds of failures in a row make it stop.

What the server confirmed is recorded per attempt and question — a 2xx autosave listing the question
in `saved`, or a confirmed submission carrying the answer — for bench/exam_check.py to hold the
database to.
"""

import asyncio
import json
import random
import re
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

BACKOFF_FIRST, BACKOFF_MAX = 0.5, 8.0


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


def form_fields(question_id: int, fields) -> list[tuple[str, str]]:
    """The attempt form's fields for one answer, as the page names them."""
    return [("shown", str(question_id))] + [
        (f"q{question_id}" + (suffix if suffix.startswith("-") else ""), value) for suffix, value in fields]


@dataclass
class Record:
    """One learner's attempt as the learner saw it."""
    learner: int
    attempt_id: int | None = None
    sent: dict = field(default_factory=dict)     # question id → [(form fields, stored response)], in order sent
    acked: dict = field(default_factory=dict)    # question id → (index in sent, "autosave" | "submit")
    submitted: bool = False                      # the server confirmed the submission
    outcome: str = "running"


@dataclass
class Stats:
    # Request kind → [(monotonic time sent, ms until the response)] of every request that got one.
    timed: dict = field(default_factory=lambda: {k: [] for k in ("start", "page", "autosave", "submit")})
    confirmed: dict = field(default_factory=lambda: {"autosave": [], "submit": []})  # first try → confirmed, ms
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
    def __init__(self, what: str, message: str, retry: bool):
        super().__init__(message)
        self.what, self.retry = what, retry


class GaveUp(Exception):
    pass


class Connection:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams: the Python client must stay cheap,
    since it shares the machine's two cores with gunicorn and PostgreSQL."""

    def __init__(self, port, cookie, timeout):
        self.port, self.cookie, self.timeout = port, cookie, timeout
        self.reader = self.writer = None

    async def request(self, method, path, body=b"", headers=None):
        try:
            return await asyncio.wait_for(self._request(method, path, body, headers), self.timeout)
        except BaseException:
            self.close()  # a half-read response must not be read as the next one
            raise

    async def _request(self, method, path, body, headers):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Cookie: {self.cookie}",
                 f"Content-Length: {len(body)}"]
        if body:
            lines.append("Content-Type: application/x-www-form-urlencoded")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("connection closed before the response")
        status = int(status_line.split()[1])
        received = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
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
    return Failure(f"HTTP {status}, {flavour}", f"HTTP {status} {data[:200]!r}", retry=status >= 500 or status == 429)


def _transport_problem(error: Exception) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, (ValueError, IndexError)):
        return "unreadable answer"
    return "connection lost"


class Learner:
    def __init__(self, number, port, quiz_id, keys, cookie, token, stats: Stats, *, think, patience, timeout, revise):
        self.rng = random.Random(number)
        self.quiz_id, self.keys, self.token, self.stats = quiz_id, keys, token, stats
        self.think, self.patience, self.revise = think, patience, revise
        self.conn = Connection(port, cookie, timeout)
        self.record = Record(number)
        stats.records.append(self.record)

    async def run(self, delay: float) -> None:
        await asyncio.sleep(delay)
        record = self.record
        try:
            await self.persist("start", self.start)
            shown = await self.persist("page", self.open_page)
            for question_id in shown:
                await self.answer(question_id)
            for question_id in shown:
                if self.rng.random() < self.revise:  # a second thought: the newer answer must win
                    await self.answer(question_id)
            await self.persist("submit", self.submit)
            record.outcome = "submitted"
        except GaveUp as reason:
            record.outcome = f"gave up: {reason}"
        except Failure as failure:
            record.outcome = f"stopped: {failure.what}"
        finally:
            self.conn.close()

    async def answer(self, question_id: int) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.think))
        self.record.sent.setdefault(question_id, []).append(answer_for(self.keys[question_id], self.rng))
        await self.persist("autosave", lambda: self.autosave(question_id))

    async def persist(self, kind: str, attempt_once):
        """Run one step until the server confirms it, retrying with backoff like the page does."""
        first_try, failing_since, tries = time.monotonic(), None, 0
        while True:
            began = time.monotonic()
            try:
                result = await attempt_once()
            except Failure as failure:
                self.stats.error(kind, failure.what, str(failure))
                if not failure.retry:
                    raise
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError) as error:
                self.stats.error(kind, _transport_problem(error), f"{type(error).__name__}: {error}")
            else:
                if kind in self.stats.confirmed:
                    self.stats.confirmed[kind].append((time.monotonic() - first_try) * 1000)
                return result
            failing_since = failing_since or began
            if time.monotonic() - failing_since > self.patience:
                raise GaveUp(f"{kind} failed for {self.patience:.0f} s")
            tries += 1
            await asyncio.sleep(min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (tries - 1)) * self.rng.uniform(0.5, 1.0))

    async def call(self, kind, method, path, body=b"", headers=None):
        began = time.monotonic()
        status, received, data = await self.conn.request(method, path, body, headers)
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

    async def autosave(self, question_id: int) -> None:
        carried = self.unconfirmed()  # this answer and any earlier one still waiting, as the page keeps them
        body = [pair for q, index in carried.items() for pair in form_fields(q, self.record.sent[q][index][0])]
        status, headers, data = await self.call(
            "autosave", "POST", f"/attempts/{self.record.attempt_id}/save", urllib.parse.urlencode(body).encode(),
            {"Accept": "application/json", "X-CSRFToken": self.token})
        if status != 200:
            raise http_failure(status, headers, data)
        reply = json.loads(data)
        for q in set(reply.get("saved", ())) & set(carried):
            self.acknowledge(q, carried[q], "autosave")
        self.stats.ack_times.append(time.monotonic())
        if question_id in reply.get("closed", ()):
            raise Failure("answer refused (closed)", f"question {question_id} closed: {data[:200]!r}", retry=False)
        if question_id not in reply.get("saved", ()):
            raise Failure("2xx without this answer", f"question {question_id} not in {data[:200]!r}", retry=True)

    def acknowledge(self, question_id: int, index: int, how: str) -> None:
        known = self.record.acked.get(question_id)
        if known is None or known[0] < index:
            self.record.acked[question_id] = (index, how)

    async def submit(self) -> None:
        carried = {q: len(sent) - 1 for q, sent in self.record.sent.items()}  # the page's answers go with it
        body = [("csrf_token", self.token)] + [
            pair for q, index in carried.items() for pair in form_fields(q, self.record.sent[q][index][0])]
        path = f"/attempts/{self.record.attempt_id}"
        status, headers, data = await self.call("submit", "POST", f"{path}/finish", urllib.parse.urlencode(body).encode())
        if status != 303:
            raise http_failure(status, headers, data)
        if urllib.parse.urlparse(headers.get("location", "")).path != path:
            raise Failure("submit sent elsewhere", f"redirect to {headers.get('location')}", retry=False)
        self.record.submitted = True
        for q, index in carried.items():
            self.acknowledge(q, index, "submit")


async def exam(port, quiz_id, keys, cookies, stats: Stats, *, spread, think, patience, timeout, revise):
    learners = [Learner(n, port, quiz_id, keys, cookie, token, stats, think=think, patience=patience,
                        timeout=timeout, revise=revise) for n, (cookie, token) in enumerate(cookies)]
    stats.began = time.monotonic()
    await asyncio.gather(*(learner.run(n * spread / len(learners)) for n, learner in enumerate(learners)))
