"""Exam-day benchmark (issue 4): N learners start the same timed quiz within a minute, save every
answer through the autosave endpoint and submit; then the database is checked for lost answers.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/SCRATCH_DB \\
        .venv/bin/python bench/quiz_exam.py --reset [--learners 1000] [--spread 60] [--workers 4]
    .venv/bin/python bench/quiz_exam.py --scratch-db postgresql://postgres@127.0.0.1:5432/lms_bench_quiz

THE DATABASE IS WIPED (--reset is required): give it a scratch database, or let --scratch-db
create one (and drop it afterwards; `make bench` does this). Tables come from the
models (create_all), like the tests. The server is gunicorn (sync workers) on this machine; the
learners are asyncio tasks of this script (a minimal keep-alive HTTP/1.1 client), so client and server share
the CPUs. Prints p50/p95/p99 per request kind, errors, and lost answers.
"""

import argparse
import asyncio
import contextlib
import http.client
import os
import random
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.lesson_page import free_port, wait_for  # noqa: E402

QUIZ = """---
title: Kiểm tra cuối khoá (bench)
pass: 60
time_limit: 30
attempts: 1
shuffle: true
---

## Số định danh cá nhân có bao nhiêu chữ số?
type: single
- [ ] 9
- [x] 12
- [ ] 15

## Những việc nào KHÔNG nên làm?
type: multiple
- [x] Đọc mã OTP cho người gọi
- [x] Bấm vào đường link lạ
- [ ] Gọi lại tổng đài chính thức

## Cổng Dịch vụ công cho phép nộp hồ sơ trực tuyến.
type: true-false
answer: true

## Tên miền của Cổng Dịch vụ công quốc gia?
type: short
answer: dichvucong.gov.vn

## 15 % của 200 000 đồng là bao nhiêu?
type: numeric
answer: 30000 ± 0

## Ghép thủ tục với cơ quan
type: matching
- Cấp căn cước = Công an
- Đăng ký khai sinh = UBND cấp xã
- = Toà án

## Sắp xếp các bước
type: ordering
1. Đăng nhập
2. Chọn thủ tục
3. Điền tờ khai
4. Nộp và theo dõi

## Mã OTP dùng để làm gì?
type: single
- [x] Xác thực giao dịch
- [ ] Chia sẻ cho người thân

## Mật khẩu mạnh có ít nhất bao nhiêu ký tự?
type: numeric
answer: 8..64

## Tên ứng dụng định danh điện tử quốc gia?
type: short
answer: VNeID
"""


def setup(database_url: str, learners: int):
    os.environ["DATABASE_URL"] = database_url
    from flask import g, session
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import insert

    from lms import create_app
    from lms.accounts.models import User
    from lms.catalog.operations import import_course
    from lms.catalog.source import read_course
    from lms.enrollment.models import Enrollment
    from lms.extensions import db
    from lms.quizzes.models import Quiz

    app = create_app()
    folder = Path(tempfile.mkdtemp(prefix="lms-exam-")) / "bench-exam"
    shutil.copytree(ROOT / "tests" / "fixtures" / "courses" / "mini-course", folder)
    (folder / "02-kiem-tra" / "quiz.md").write_text(QUIZ, encoding="utf-8")
    with app.app_context():
        db.drop_all()
        db.create_all()
        source = read_course(folder)
        import_course(source)
        db.session.commit()
        quiz = db.session.scalar(db.select(Quiz))
        probe = User(full_name="x", full_name_folded="x", email="probe@bench.vn")
        probe.set_password("bench-password-1")
        rows = [{"full_name": f"Học viên {n}", "full_name_folded": f"hoc vien {n}", "email": f"hv{n}@bench.vn",
                 "audience": "official", "password_hash": probe.password_hash} for n in range(learners)]
        db.session.execute(insert(User), rows)
        users = db.session.scalars(db.select(User).order_by(User.id)).all()
        db.session.execute(insert(Enrollment), [{"user_id": u.id, "course_id": quiz.course_id} for u in users])
        db.session.commit()
        keys = {q.id: {"type": q.type, "options": [o["id"] for o in q.options], "choices": [c["id"] for c in q.choices]}
                for q in quiz.active_questions()}
        serializer = app.session_interface.get_signing_serializer(app)
        cookies = []
        for user in users:
            with app.test_request_context():
                g.pop("csrf_token", None)  # generate_csrf caches per app context; every learner has its own
                token = generate_csrf()
                session["_user_id"] = f"{user.id}:{user.session_version}"
                session["_fresh"] = True
                cookies.append((f"session={serializer.dumps(dict(session))}", token))
        return app.config["SECRET_KEY"], quiz.id, keys, cookies, folder.parent


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


class Stats:
    def __init__(self):
        self.times = {"start": [], "page": [], "autosave": [], "submit": []}
        self.errors = []
        self.expected = {}  # attempt id → {question id: response}

    def add(self, kind, seconds):
        self.times[kind].append(seconds * 1000)

    def error(self, text):
        self.errors.append(text)


class Connection:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams: the Python client must stay cheap,
    since it shares the machine's two cores with gunicorn and PostgreSQL."""

    def __init__(self, port, cookie):
        self.port, self.cookie = port, cookie
        self.reader = self.writer = None

    async def request(self, method, path, body=b"", headers=None):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Cookie: {self.cookie}",
                 f"Content-Length: {len(body)}"]
        if body:
            lines.append("Content-Type: application/x-www-form-urlencoded")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length, location, close = 0, None, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "location":
                location = value.strip()
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        data = await self.reader.readexactly(length) if length else b""
        if close:  # gunicorn's sync workers close after every response
            self.close()
        return status, location, data

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def learner(port, quiz_id, keys, cookie, token, delay, think, stats: Stats, seed):
    rng = random.Random(seed)
    await asyncio.sleep(delay)
    conn = Connection(port, cookie)

    async def call(kind, method, path, body=b"", headers=None, expect=(200,)):
        began = time.monotonic()
        status, location, data = await conn.request(method, path, body, headers)
        stats.add(kind, time.monotonic() - began)
        if status not in expect:
            raise RuntimeError(f"{kind} {path}: HTTP {status} {data[:200]!r}")
        return location, data

    try:
        form = urllib.parse.urlencode({"csrf_token": token}).encode()
        location, _ = await call("start", "POST", f"/quizzes/{quiz_id}/start", form, expect=(303,))
        attempt_path = urllib.parse.urlparse(location).path
        attempt_id = int(attempt_path.rsplit("/", 1)[1])
        _, page = await call("page", "GET", attempt_path)
        shown = [int(q) for q in re.findall(rb'name="shown" value="(\d+)"', page)]
        if sorted(shown) != sorted(keys):
            raise RuntimeError(f"attempt {attempt_id} shows {len(shown)} questions")
        expected = {}
        for question_id in shown:
            await asyncio.sleep(rng.uniform(0, think))
            fields, stored = answer_for(keys[question_id], rng)
            body = [("shown", str(question_id))] + [
                (f"q{question_id}" + (suffix if suffix.startswith("-") else ""), value) for suffix, value in fields]
            _, data = await call("autosave", "POST", f"/attempts/{attempt_id}/save", urllib.parse.urlencode(body).encode(),
                                 {"Accept": "application/json", "X-CSRFToken": token})
            if str(question_id).encode() not in data:
                raise RuntimeError(f"save not acknowledged: {data[:200]!r}")
            expected[question_id] = stored
        await call("submit", "POST", f"/attempts/{attempt_id}/finish", form, expect=(303,))
        stats.expected[attempt_id] = expected
    except Exception as error:  # noqa: BLE001 — every failure is counted and shown
        stats.error(f"{type(error).__name__}: {error}")
    finally:
        conn.close()


async def exam(port, quiz_id, keys, cookies, spread, think, stats):
    await asyncio.gather(*(learner(port, quiz_id, keys, cookie, token, n * spread / len(cookies), think, stats, n)
                           for n, (cookie, token) in enumerate(cookies)))


def verify(app_secret, expected: dict) -> tuple[int, int]:
    """(attempts not finished, answers not stored exactly as last sent)."""
    from lms import create_app
    from lms.extensions import db
    from lms.quizzes.models import Attempt

    app = create_app({"SECRET_KEY": app_secret})
    unfinished = lost = 0
    with app.app_context():
        for attempt in db.session.scalars(db.select(Attempt)):
            if attempt.id not in expected:
                continue
            unfinished += attempt.submitted_at is None
            stored = {a.question_id: a.response for a in attempt.answers}
            for question_id, response in expected[attempt.id].items():
                got = stored.get(question_id)
                if isinstance(response, list) and isinstance(got, list) and len(response) > 1 and response == sorted(response):
                    got = sorted(got)
                lost += got != response
    return unfinished, lost


def pct(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# Each wrk thread walks the learners from its own offset, one learner per request in turn, so
# concurrent requests do not queue on one learner's rows (one learner's saves are sequential).
# items: {attempt id, cookie, csrf token, {form bodies}}.
ROTATION_LUA = """
local items = {%(items)s}
local n = 0
local counter = 0
setup = function(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
local function next_item()
  local item = items[((n * %(threads)d + offset) %% #items) + 1]
  n = n + 1
  return item
end
"""

SAVE_LUA = ROTATION_LUA + """
request = function()
  local item = next_item()
  local bodies = item[4]
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Accept"] = "application/json",
                   ["Cookie"] = item[2], ["X-CSRFToken"] = item[3]}
  return wrk.format("POST", "/attempts/" .. item[1] .. "/save", headers, bodies[(n %% #bodies) + 1])
end
"""

FINISH_LUA = ROTATION_LUA + """
request = function()
  local item = next_item()
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = item[2]}
  return wrk.format("POST", "/attempts/" .. item[1] .. "/finish", headers, "csrf_token=" .. item[3])
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_latency(script: str, url: str, seconds: int, connections: int, threads: int = 2) -> dict:
    import subprocess

    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    output = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", handle.name, url],
                            capture_output=True, text=True, check=True).stdout
    os.unlink(handle.name)
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "requests": int(re.search(r"(\d+) requests in", output).group(1)),
            "p50": percentiles.get("50"), "p90": percentiles.get("90"), "p99": percentiles.get("99"),
            "errors": int(non_2xx.group(1)) if non_2xx else 0, "raw": output}


def start_attempt_over_http(port, quiz_id, cookie, token) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", f"/quizzes/{quiz_id}/start", body=urllib.parse.urlencode({"csrf_token": token}),
                 headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return int(response.getheader("Location").rsplit("/", 1)[1])


def steady(port, quiz_id, keys, cookies, seconds, connections):
    """Autosave and submit latency at a steady load, measured by wrk (no Python client in the way)."""
    rng = random.Random(1)
    save_items, finish_items = [], []
    for cookie, token in cookies:
        attempt_id = start_attempt_over_http(port, quiz_id, cookie, token)
        bodies = []
        for question_id, question in keys.items():
            fields, _ = answer_for(question, rng)
            form = [("shown", str(question_id))] + [
                (f"q{question_id}" + (suffix if suffix.startswith("-") else ""), value) for suffix, value in fields]
            bodies.append(lua_string(urllib.parse.urlencode(form)))
        save_items.append(f"{{{attempt_id}, {lua_string(cookie)}, {lua_string(token)}, {{{', '.join(bodies)}}}}}")
        finish_items.append(f"{{{attempt_id}, {lua_string(cookie)}, {lua_string(urllib.parse.quote(token))}}}")
    base = f"http://127.0.0.1:{port}"
    save = wrk_latency(SAVE_LUA % {"items": ", ".join(save_items), "threads": 2}, base, seconds, connections)
    finish = wrk_latency(FINISH_LUA % {"items": ", ".join(finish_items), "threads": 2}, base, max(1, seconds // 3),
                         connections)
    return save, finish, len(finish_items)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which the learners start")
    parser.add_argument("--think", type=float, default=2.0, help="max seconds between two answers")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--reset", action="store_true", help="required: the database is wiped")
    parser.add_argument("--steady", action="store_true", help="instead: autosave/submit latency with wrk")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections in --steady mode")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration in --steady mode")
    parser.add_argument("--scratch-db", metavar="URL", help="create this database, run there, drop it afterwards")
    args = parser.parse_args()
    if args.scratch_db:
        with scratch_database(args.scratch_db):
            os.environ["DATABASE_URL"], args.reset = args.scratch_db, True
            run(args)
    else:
        run(args)


@contextlib.contextmanager
def scratch_database(url: str):
    import psycopg

    server, _, name = url.rpartition("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        sys.exit(f"--scratch-db: {name!r} is not a plain database name")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run(args):
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgresql") or not args.reset:
        sys.exit("set DATABASE_URL to a scratch PostgreSQL database and pass --reset (it is wiped)")
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
    secret, quiz_id, keys, cookies, scratch = setup(database_url, args.learners)
    port = free_port()
    env = dict(os.environ, SECRET_KEY=secret, DATABASE_URL=database_url)
    server = subprocess_gunicorn(port, env, args.workers)
    if args.steady:
        try:
            save, finish, prepared = steady(port, quiz_id, keys, cookies, args.seconds, args.connections)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
            shutil.rmtree(scratch, ignore_errors=True)
        print(f"wrk, {args.connections} connections, gunicorn {args.workers} sync workers, PostgreSQL")
        for name, result in (("autosave", save), ("submit", finish)):
            print(f"{name:9}: {result['requests']:6d} requests  {result['rps']:7.0f} req/s  p50 {result['p50']}  "
                  f"p90 {result['p90']}  p99 {result['p99']}  non-2xx/3xx {result['errors']}")
        print(f"(submit: {prepared} prepared attempts; requests beyond that re-submit finished ones)")
        return
    try:
        stats = Stats()
        began = time.monotonic()
        asyncio.run(exam(port, quiz_id, keys, cookies, args.spread, args.think, stats))
        elapsed = time.monotonic() - began
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        shutil.rmtree(scratch, ignore_errors=True)
    unfinished, lost = verify(secret, stats.expected)
    print(f"{args.learners} learners starting over {args.spread:.0f}s, think ≤ {args.think}s, gunicorn {args.workers} sync "
          f"workers, PostgreSQL; wall time {elapsed:.1f}s")
    for kind, values in stats.times.items():
        print(f"{kind:9}: {len(values):6d} requests  p50 {pct(values, 50):6.1f} ms  p95 {pct(values, 95):6.1f} ms  "
              f"p99 {pct(values, 99):6.1f} ms  max {max(values or [0]):6.1f} ms")
    print(f"errors: {len(stats.errors)}  finished attempts: {len(stats.expected)}  unfinished: {unfinished}  "
          f"lost answers: {lost}")
    for error in stats.errors[:10]:
        print("  ", error)
    p95_ok = all(pct(stats.times[k], 95) < 30 for k in ("autosave", "submit"))
    sys.exit(0 if not stats.errors and not lost and not unfinished and p95_ok else 1)


def subprocess_gunicorn(port, env, workers):
    import subprocess

    process = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                                "--backlog", "2048", "--log-level", "warning", "app:app"], cwd=ROOT, env=env)
    wait_for(port)
    # Every worker loads the app and compiles templates on its first requests: warm up first.
    for _ in range(workers * 10):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        conn.close()
    return process


if __name__ == "__main__":
    main()
