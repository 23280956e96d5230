"""Capacity model (issue 17 item 5): CPU and database cost per request kind, measured here, and the
hosts needed for 10k / 100k / 400k concurrent learners — docs/capacity.md is written by this script.

    .venv/bin/python bench/capacity.py [--repeat 60]            # measure, save bench/out/capacity.json, write the doc
    .venv/bin/python bench/capacity.py --scratch-db postgresql://…/SCRATCH   # on PostgreSQL (created, then dropped)
    .venv/bin/python bench/capacity.py --render                 # rewrite docs/capacity.md from the saved JSON

Each kind is requested `--repeat` times in-process through the Flask test client (the app's whole
request path: hooks, session, CSRF, templates, compression off as wrk asks none), as the demo accounts
of a throw-away instance (bench/profile_lesson.py prepares it). CPU = this process's CPU time per
request on the requesting thread (time.thread_time: with embedded SQLite the database's own CPU is in it
too; the embedded runner's threads — certificates after a passing submit — are not); DB = wall time inside
cursor.execute per request, through SQLAlchemy or on the DB-API cursor (lms.core.raw_reads._run, where the
light pages, the quiz start and page and the autosave run their statements), on PostgreSQL the round trip
and the server's work. The HTTP
server's own cost (gunicorn, sockets) is not in these figures: bench/lesson_page.py's bare-Flask run
measures it; the model adds it per request from `--http-overhead-ms`.
"""

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "capacity.json"
DOC = ROOT / "docs" / "capacity.md"

# Who the "concurrent learners" are, and how often each sends a request (think time between requests).
# Stated here, used by the table: change them and re-run --render.
MIX = [
    # (share of concurrent learners, activity, [(request kind, seconds between two such requests)])
    (0.80, "reading lessons", [("lesson", 60.0)]),
    (0.20, "taking a timed quiz (15 min)", [("autosave", 20.0), ("quiz page", 300.0), ("submit", 900.0)]),
]
BACKGROUND = [("verify", 1 / 2000), ("report", 1 / 20000)]  # requests per second per concurrent learner
CORES_PER_HOST = 2
TARGET_UTILISATION = 0.6  # keep p95 low: hosts run at 60 % CPU at the peak
LEARNER_COUNTS = (10_000, 100_000, 400_000)


def _token(page: str) -> str:
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)


def login(client, email, password):
    token = _token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"csrf_token": token, "login": email, "password": password})
    return token


def measure(app, client, kind, make_request, repeat, engine):
    from sqlalchemy import event

    db_seconds, started_at = [0.0], {}

    def before(conn, cursor, statement, parameters, context, executemany):
        started_at[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        db_seconds[0] += time.perf_counter() - started_at.pop(id(cursor), time.perf_counter())

    from lms.core import raw_reads

    run = raw_reads._run

    def timed_run(dbapi_connection, compiled, values):
        # Statements run on the DB-API cursor (lms/core/raw_reads.py: the light pages' reads, the quiz start and
        # page, the autosave's read and upsert) go to the driver directly, past SQLAlchemy's events.
        started = time.perf_counter()
        try:
            return run(dbapi_connection, compiled, values)
        finally:
            db_seconds[0] += time.perf_counter() - started

    cpu, wall, db, statuses = [], [], [], []
    make_request()  # warm-up (templates compiled, caches filled as in a running server)
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    raw_reads._run = timed_run
    try:
        for _ in range(repeat):
            db_seconds[0] = 0.0
            cpu0, wall0 = time.thread_time(), time.perf_counter()  # this thread: not the runner's
            response = make_request()
            cpu.append(time.thread_time() - cpu0)
            wall.append(time.perf_counter() - wall0)
            db.append(db_seconds[0])
            statuses.append(response.status_code)
    finally:
        raw_reads._run = run
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    bad = [s for s in statuses if s >= 400]
    if bad:
        raise SystemExit(f"{kind}: {len(bad)} answers ≥ 400 ({bad[:3]})")
    return {"kind": kind, "n": repeat, "cpu_ms": 1000 * statistics.median(cpu),
            "wall_ms": 1000 * statistics.median(wall), "db_ms": 1000 * statistics.median(db)}


class QuizSession:
    """The demo learner at the quiz of the lesson's course, through the test client (bench/profile_exam.py
    and the capacity figures): attempts started, one answer autosaved as a new version each time, submits."""

    def __init__(self, client, lesson: str):
        self.client = client
        self.token = _token(client.get(lesson).get_data(as_text=True))
        course = client.get(f"/courses/{lesson.split('/')[2]}").get_data(as_text=True)
        self.quiz_id = int(re.search(r'href="/quizzes/(\d+)"', course).group(1))
        self.ajax = {"Accept": "application/json", "X-CSRFToken": self.token}
        self.attempt = self.new_attempt()
        page = client.get(f"/attempts/{self.attempt}").get_data(as_text=True)
        self.question, self.option = re.search(r'type="radio" name="q(\d+)" value="([^"]+)"', page).groups()
        self._versions = iter(range(1, 10**7))

    def new_attempt(self) -> int:
        response = self.client.post(f"/quizzes/{self.quiz_id}/start", data={"csrf_token": self.token})
        return int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))

    def autosave(self):
        question = self.question
        return self.client.post(f"/attempts/{self.attempt}/save", headers=self.ajax, data={
            "csrf_token": self.token, "shown": question, f"v{question}": str(next(self._versions)),
            f"q{question}": self.option})

    def submit(self, attempt_id: int):
        return self.client.post(f"/attempts/{attempt_id}/finish", headers=self.ajax, data={"csrf_token": self.token})


def run_measurements(repeat: int) -> dict:
    sys.path.insert(0, str(ROOT / "bench"))
    from profile_lesson import logged_in_client, prepare

    prepare()
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    from app import app
    from lms.extensions import db

    with app.app_context():
        engine = db.engine
    client, lesson = logged_in_client(app)
    quiz = QuizSession(client, lesson)

    attempts = []

    def submit():
        return quiz.submit(attempts.pop())

    results = [measure(app, client, "lesson", lambda: client.get(lesson), repeat, engine),
               measure(app, client, "quiz page", lambda: client.get(f"/attempts/{quiz.attempt}"), repeat, engine),
               measure(app, client, "autosave", quiz.autosave, repeat, engine)]
    submits = max(5, repeat // 4)
    attempts.extend(quiz.new_attempt() for _ in range(submits + 1))
    results.append(measure(app, client, "submit", submit, submits, engine))
    results.append(_verify(app, repeat, engine))
    admin = app.test_client()
    login(admin, "quantri@demo.vn", "quantri-demo-2025")
    results.append(measure(app, admin, "report", lambda: admin.get("/reports"), max(5, repeat // 4), engine))
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average": os.getloadavg(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "database": "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgresql") else "SQLite",
            "kinds": results}


def _verify(app, repeat, engine):
    """The public verification page for a serial that does not exist (the common case of a mistyped
    code, and the same lookup and rate-limit write as a real one)."""
    from lms.certificates.serial import new_serial

    anonymous = app.test_client()
    # Fewer than the per-address lookup limit allows in a minute: a 429 would measure the limiter only.
    return measure(app, anonymous, "verify", lambda: _ok_404(anonymous.get(f"/verify/{new_serial()}")),
                   min(repeat, 10), engine)


class _Found:
    status_code = 200


def _ok_404(response):
    return _Found() if response.status_code == 404 else response


def model(data: dict, http_overhead_ms: float) -> list[dict]:
    cost = {k["kind"]: k for k in data["kinds"]}
    rows = []
    for learners in LEARNER_COUNTS:
        rates = {}
        for share, _, requests in MIX:
            for kind, think in requests:
                rates[kind] = rates.get(kind, 0) + learners * share / think
        for kind, per_learner in BACKGROUND:
            rates[kind] = rates.get(kind, 0) + learners * per_learner
        app_cpu = sum(rate * (cost[kind]["cpu_ms"] + http_overhead_ms) / 1000 for kind, rate in rates.items())
        db_busy = sum(rate * cost[kind]["db_ms"] / 1000 for kind, rate in rates.items())
        hosts = app_cpu / (CORES_PER_HOST * TARGET_UTILISATION)
        rows.append({"learners": learners, "rps": sum(rates.values()), "app_cores": app_cpu,
                     "app_hosts": max(1, int(-(-hosts // 1))), "db_cores": db_busy, "rates": rates})
    return rows


def render(data: dict, http_overhead_ms: float) -> str:
    lines = ["# Capacity model", "",
             "Written by `bench/capacity.py` from `bench/out/capacity.json` — do not edit by hand; re-run",
             "`.venv/bin/python bench/capacity.py` (measure and write) or `--render` (rewrite from the saved JSON).", "",
             f"Measured {data['date']} on {data['cpus']} CPUs, {data['database']}, Python {data['python']}, "
             f"load average during the run {', '.join(f'{x:.1f}' for x in data['load_average'])} "
             "(the machine is shared: a busy machine inflates every figure by about the same factor).", "",
             "## Cost per request kind (median of the repeats, in-process through the whole Flask request path)", "",
             "| kind | requests | CPU ms | DB ms (inside cursor.execute) | wall ms |", "|---|---|---|---|---|"]
    for k in data["kinds"]:
        lines.append(f"| {k['kind']} | {k['n']} | {k['cpu_ms']:.2f} | {k['db_ms']:.2f} | {k['wall_ms']:.2f} |")
    lines += ["", f"HTTP server overhead added per request in the model: {http_overhead_ms:.2f} ms CPU "
              "(bare Flask under gunicorn, from bench/lesson_page.py: 2 cores / bare requests per second).", "",
              "## Who the concurrent learners are (stated assumptions, `MIX` in the script)", ""]
    for share, activity, requests in MIX:
        lines.append(f"- {share:.0%} {activity}: " + ", ".join(f"one {kind} every {think:.0f} s" for kind, think in requests))
    for kind, per_learner in BACKGROUND:
        lines.append(f"- {kind}: {per_learner * 60 * 1000:.1f} requests per minute per 1,000 learners")
    lines += [f"- app hosts of {CORES_PER_HOST} cores run at {TARGET_UTILISATION:.0%} CPU at the peak", "",
              "## Hosts needed", "",
              "| concurrent learners | requests/s | app CPU cores busy | app hosts (2 cores) | DB busy (cores, upper bound) |",
              "|---|---|---|---|---|"]
    for row in model(data, http_overhead_ms):
        lines.append(f"| {row['learners']:,} | {row['rps']:,.0f} | {row['app_cores']:,.1f} | {row['app_hosts']:,} | "
                     f"{row['db_cores']:,.1f} |")
    lines += ["", "Database time is measured from the app side (round trip included), so it overstates the "
              "database server's CPU; on SQLite it is in-process and already part of the app CPU column. "
              "Above a few database cores, reads (lesson outline, course pages) should come from replicas "
              "or the cache, and autosaves stay on the primary.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--render", action="store_true", help="only rewrite the doc from the saved JSON")
    parser.add_argument("--http-overhead-ms", type=float, default=None,
                        help="CPU ms per request of the HTTP server (default: from bench/out/lesson_page.json, "
                             "else the saved value, else 1.0)")
    parser.add_argument("--scratch-db", help="measure on this PostgreSQL database, created for the run and dropped "
                                             "after (`make bench` does when PostgreSQL answers); default SQLite")
    args = parser.parse_args()
    if args.render:
        data = json.loads(OUT.read_text())
    else:
        sys.path.insert(0, str(ROOT))
        from bench.lesson_page import on_database

        data = on_database(args.scratch_db, lambda parsed: run_measurements(parsed.repeat), args)
    overhead = args.http_overhead_ms
    bare = OUT.parent / "lesson_page.json"
    if overhead is None and bare.exists():  # from the last bench/lesson_page.py run: 2 cores / bare Flask req/s
        overhead = 2000 / json.loads(bare.read_text())["bare_rps"]
    if overhead is None:
        overhead = data.get("http_overhead_ms", 1.0)
    data["http_overhead_ms"] = overhead
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False))
    DOC.write_text(render(data, overhead))
    print(DOC.read_text())


if __name__ == "__main__":
    main()
