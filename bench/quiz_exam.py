"""Exam-day benchmark (issues 4 and 11): N learners start the same timed quiz within `--spread`
seconds, answer every question through the autosave endpoint and submit, as the quiz page does
(bench/exam_learners.py: unconfirmed answers kept and re-sent, every failure retried with backoff);
then the database is held to every answer the server confirmed (bench/exam_check.py).

    .venv/bin/python bench/quiz_exam.py --scratch-db postgresql://postgres@127.0.0.1:5432/lms_bench_NAME
    DATABASE_URL=postgresql://…/SCRATCH_DB .venv/bin/python bench/quiz_exam.py --reset [--learners 1000] …
    .venv/bin/python bench/quiz_exam.py --outage 30[@AT] --learners 200 --spread 20
    .venv/bin/python bench/quiz_exam.py --outage 30 --kill-app worker@10 …

THE DATABASE IS WIPED: give it a scratch database (--reset), let --scratch-db create one on a
server and drop it afterwards (`make bench` does), or let --outage (or --private) run on a private PostgreSQL
cluster (tests/services.py) that is crashed (immediate stop) AT seconds into the exam (default: the
middle), kept down for SECONDS, and started again. --kill-app kills one gunicorn worker (`worker`)
or all of gunicorn (`all`, then started again) with SIGKILL. Background work runs beside gunicorn
as in production: the embedded runner, or with --broker a Celery worker on a private Redis. Tables
come from the models (create_all), like the tests. The server is gunicorn (sync workers; gthread with --threads) of this
checkout in production mode; the learners are asyncio tasks of this script, sharing the machine's CPUs.

Prints latency p50/p95/p99 per request and until confirmed (retries included), errors by kind,
acknowledged-but-missing answers, unfinished and stuck attempts. Exit status 1 when an answer the
server confirmed is missing, an attempt is unfinished or stuck, or (without faults) on any error or a
p95 over the 30 ms budget.
"""

import argparse
import asyncio
import contextlib
import gc
import http.client
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.exam_check import check  # noqa: E402
from bench.exam_learners import Stats, exam  # noqa: E402
from bench.exam_report import latency_line, print_results  # noqa: E402,F401 (latency_line: bench/two_hosts.py)
from bench.exam_steady import print_steady, steady  # noqa: E402
from bench.exam_timeline import MachineCpu, print_timeline  # noqa: E402
from bench.process_cpu import backends_cpu, tree_cpu  # noqa: E402
from tests.services import AppProcesses, PrivatePostgres, PrivateRedis, missing_tools  # noqa: E402

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


def setup(learners: int):
    """Wipe the database of DATABASE_URL, load the bench course and N enrolled learners; their cookies."""
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
    from tests import change_triggers
    from tests.cookies import open_records, session_cookie, sign_in

    app = create_app()
    folder = Path(tempfile.mkdtemp(prefix="lms-exam-")) / "bench-exam"
    shutil.copytree(ROOT / "tests" / "fixtures" / "courses" / "mini-course", folder)
    (folder / "02-kiem-tra" / "quiz.md").write_text(QUIZ, encoding="utf-8")
    with app.app_context():
        db.drop_all()
        db.create_all()
        with db.engine.begin() as connection:  # what production runs at each commit (lms.core.change_feed)
            change_triggers.install(connection)
        import_course(read_course(folder))
        db.session.commit()
        shutil.rmtree(folder.parent, ignore_errors=True)
        quiz = db.session.scalar(db.select(Quiz))
        probe = User(full_name="x", full_name_folded="x", email="probe@bench.vn")
        probe.set_password("bench-password-1")
        rows = [{"full_name": f"Học viên {n}", "full_name_folded": f"hoc vien {n}", "email": f"hv{n}@bench.vn",
                 "audience": "official", "password_hash": probe.password_hash} for n in range(learners)]
        db.session.execute(insert(User), rows)
        # Plain rows, not ORM objects: after the commit each object would reload itself, one query a learner.
        users = db.session.execute(db.select(User.id, User.session_version).order_by(User.id)).all()
        db.session.execute(insert(Enrollment), [{"user_id": u.id, "course_id": quiz.course_id} for u in users])
        db.session.commit()
        keys = {q.id: {"type": q.type, "options": [o["id"] for o in q.options], "choices": [c["id"] for c in q.choices]}
                for q in quiz.active_questions()}
        # Each learner signed in as a log-in does it: a live session record whose key the cookie carries.
        record_keys = open_records(user.id for user in users)
        db.session.commit()
        cookies = []
        for user in users:
            # The load generator's requests come from 127.0.0.1 without a User-Agent, as this context's.
            with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
                g.pop("csrf_token", None)  # generate_csrf caches per app context; every learner has its own
                token = generate_csrf()
                sign_in(session, user.id, user.session_version, record_keys[user.id])
                # The browser's identifier, as login_user stores it. Without it Flask-Login's "basic" protection
                # marks the session not fresh on every request Flask answers, and the cookie is signed again each
                # time: a browser keeps the new cookie after the first, the load generator never does.
                session["_id"] = app.login_manager._session_identifier_generator()
                cookies.append((session_cookie(app, session), token))
        return app, quiz.id, keys, cookies


def fault_spec(text: str, pattern: str, option: str) -> tuple[str, float | None]:
    """"WHAT[@AT]" → (WHAT, AT seconds into the exam, or None for the middle)."""
    match = re.fullmatch(rf"({pattern})(?:@(\d+(?:\.\d+)?))?", text)
    if not match:
        sys.exit(f"{option}: expected {pattern}[@SECONDS], got {text!r}")
    return match.group(1), float(match.group(2)) if match.group(2) else None


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which the learners start")
    parser.add_argument("--think", type=float, default=2.0, help="max seconds between two answers")
    parser.add_argument("--revise", type=float, default=0.0, help="share of answers changed again before submitting")
    parser.add_argument("--patience", type=float, default=180.0,
                        help="seconds of failures in a row after which a learner gives up")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker: above 1 the gthread worker (keep-alive connections)")
    parser.add_argument("--queue-limit-ms", type=int, default=1000,
                        help="with --threads or --request-start: LMS_QUEUE_LIMIT_MS, the longest wait before a 503 (default "
                             "1000, the exam-day setting docs/operations.md gives; the app's own default is 10000)")
    parser.add_argument("--unbounded-queue", action="store_true",
                        help="with --threads: gunicorn's plain gthread worker (no 503 for requests queued too long)")
    parser.add_argument("--request-start", action="store_true",
                        help="sync workers: each request stamped X-Request-Start as nginx does, and gunicorn told to "
                             "read it (LMS_REQUEST_START_HEADER): a request queued past --queue-limit-ms gets a fast 503")
    parser.add_argument("--backlog", type=int, default=2048, help="gunicorn's listen backlog")
    parser.add_argument("--port", type=int, help="gunicorn's port (default: a free one the kernel picks)")
    parser.add_argument("--reset", action="store_true", help="required with DATABASE_URL: the database is wiped")
    parser.add_argument("--scratch-db", metavar="URL", help="create this database, run there, drop it afterwards")
    parser.add_argument("--outage", metavar="SECONDS[@AT]",
                        help="private PostgreSQL, crashed AT seconds into the exam for SECONDS")
    parser.add_argument("--private", action="store_true",
                        help="run on a private PostgreSQL cluster (as --outage does) even without an outage")
    parser.add_argument("--kill-app", metavar="worker|all[@AT]", help="SIGKILL one gunicorn worker, or all of gunicorn")
    parser.add_argument("--broker", action="store_true",
                        help="a private Redis and a Celery worker instead of the embedded runner")
    parser.add_argument("--steady", action="store_true", help="instead: autosave, attempt page and submit latency with wrk")
    parser.add_argument("--timeline", action="store_true", help="p95 per kind and the machine's busy CPU every 5 s")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections in --steady mode")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration in --steady mode")
    args = parser.parse_args()
    args.outage = fault_spec(args.outage, r"\d+(?:\.\d+)?", "--outage") if args.outage else None
    args.kill_app = fault_spec(args.kill_app, "worker|all", "--kill-app") if args.kill_app else None
    middle = (args.spread + 5 * args.think) / 2  # a learner's ten answers take about 5 × think
    args.outage = (float(args.outage[0]), args.outage[1] or middle) if args.outage else None
    args.kill_app = (args.kill_app[0], args.kill_app[1] or middle) if args.kill_app else None
    return args


def main():
    args = parse_args()
    # A plain `kill` of this script must still end the servers it started (the `with` blocks unwind).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.outage or args.private:
        if missing := missing_tools():
            sys.exit(f"--outage and --private need a private PostgreSQL: missing {', '.join(missing)}")
        with PrivatePostgres() as cluster:
            sys.exit(run(args, cluster.create_database("lms_bench"), cluster))
    if args.scratch_db:
        with scratch_database(args.scratch_db):
            sys.exit(run(args, args.scratch_db))
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgresql") or not args.reset:
        sys.exit("set DATABASE_URL to a scratch PostgreSQL database and pass --reset (it is wiped), "
                 "or use --scratch-db URL, --private or --outage SECONDS")
    sys.exit(run(args, database_url))


@contextlib.contextmanager
def scratch_database(url: str):
    import psycopg

    # The database's name is the URL's path; a query (`?host=/var/run/postgresql`, a Unix socket) is kept.
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        sys.exit(f"--scratch-db: {name!r} is not a plain database name")
    maintenance = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield
    finally:
        with psycopg.connect(maintenance, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run(args, database_url: str, cluster: PrivatePostgres | None = None) -> int:
    """Set up, serve with gunicorn (tests/services.AppProcesses), run the exam with its faults, check."""
    with contextlib.ExitStack() as stack:
        keys_dir = Path(tempfile.mkdtemp(prefix="lms-bench-key-"))
        stack.callback(shutil.rmtree, keys_dir, ignore_errors=True)
        broker = stack.enter_context(PrivateRedis()) if args.broker else None
        queue_limit = {"LMS_QUEUE_LIMIT_MS": str(args.queue_limit_ms)} if args.queue_limit_ms is not None else {}
        if args.request_start:
            queue_limit["LMS_REQUEST_START_HEADER"] = "X-Request-Start"
        processes = stack.enter_context(AppProcesses(database_url, broker.url() if broker else None,
                                                     signing_key=keys_dir / "signing_key.pem", port=args.port,
                                                     env=queue_limit))
        # This process sets up and checks the database as the served app sees it.
        for name in ("DATABASE_URL", "SECRET_KEY", "LMS_INSTANCE_PATH", "LMS_SIGNING_KEY", "LMS_FILE_STORE",
                     "CELERY_BROKER_URL", "CELERY_QUEUE"):
            if name in processes.env:
                os.environ[name] = processes.env[name]
        from lms.certificates.signing import generate_key

        generate_key(processes.signing_key)
        app, quiz_id, keys, cookies = setup(args.learners)
        # Background work as in production: a Celery worker on the broker, or without one the
        # embedded runner that `flask serve` starts beside gunicorn (/healthz needs either).
        background = processes.start_worker(concurrency=1, wait=False) if broker else processes.start_runner(wait=False)
        # gthread keeps each learner's connection open (up to --worker-connections per worker):
        # no new TCP connection per request, as sync workers need.
        connections = ("--worker-connections", str(2 * args.learners // args.workers + 100)) if args.threads > 1 else ()
        if args.threads > 1 and not args.unbounded_queue:  # a request queued past LMS_QUEUE_LIMIT_MS gets a fast 503
            connections += ("--worker-class", "lms.core.queue_timed_worker.QueueTimedWorker")
        processes.start_web(workers=args.workers, threads=args.threads, access_log=False, wait=False,
                            extra=("--backlog", str(args.backlog), "--log-level", "warning", *connections))
        processes.wait_ready(background.name)
        processes.wait_ready("web")
        warm_up(processes.port, args.workers)
        return exam_and_check(args, processes, cluster, app, quiz_id, keys, cookies)


def exam_and_check(args, processes, cluster, app, quiz_id, keys, cookies) -> int:
    if args.steady:
        def server_cpu():
            return tree_cpu(processes.services["web"].pid), backends_cpu(processes.env["DATABASE_URL"])[0]
        return print_steady(args, *steady(processes.port, quiz_id, keys, cookies, args.seconds, args.connections,
                                          server_cpu))
    stats, timeline = Stats(), []
    cpu_before, web_before = time.process_time(), tree_cpu(processes.services["web"].pid)
    database_before = backends_cpu(processes.env["DATABASE_URL"])[0]
    # The learners' own garbage collector must not pause them mid-request: a full collection over 5,000 learners'
    # records stalled every response in flight for 100-300 ms every 20 s or so, read as server latency
    # (docs/performance.md, "(sixth)"). The objects made before the exam are frozen, and no collection runs
    # during it (the run allocates a few hundred MB at most).
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        # uvloop: the learners' event loop in C, so that the load generator, sharing the two cores with the
        # server, takes less of them for the same requests.
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner, MachineCpu() as machine_cpu:
            runner.run(exam_with_faults(args, processes, cluster, quiz_id, keys, cookies, stats, timeline))
    finally:
        gc.enable()
        gc.unfreeze()
    elapsed = time.monotonic() - stats.began
    # The load generator shares the cores: its own CPU says whether it, not the server, was the limit.
    print(f"load generator CPU {time.process_time() - cpu_before:.1f} s over {elapsed:.1f} s wall; "
          f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"CPU stolen by the hypervisor {100 * machine_cpu.stolen():.1f} %")
    if not args.kill_app and not args.outage:  # a restarted server or database has other processes
        database, backends = backends_cpu(processes.env["DATABASE_URL"])
        print(f"gunicorn (master and workers) CPU {tree_cpu(processes.services['web'].pid) - web_before:.1f} s; "
              f"PostgreSQL backends of this database CPU ≥ {database - database_before:.1f} s ({backends} backends)")
    if args.timeline:
        print_timeline(stats, machine_cpu)
    findings = check(app, quiz_id, keys, stats.records)
    code = print_results(args, cluster, stats, timeline, findings, elapsed)
    background = processes.services.get("worker") or processes.services.get("runner")
    if not background.running:
        print(f"the background {background.name} ended during the run (exit {background.process.returncode}):\n"
              f"{background.tail(20)}")
        code = 1
    return code


def warm_up(port: int, workers: int) -> None:
    """Every worker loads the app and compiles templates on its first requests: warm up first."""
    for _ in range(workers * 10):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        conn.close()


async def exam_with_faults(args, processes, cluster, quiz_id, keys, cookies, stats, timeline):
    finished = asyncio.Event()
    faults = []
    if args.outage:
        faults.append(outage(cluster, *args.outage, stats, timeline, finished))
    if args.kill_app:
        faults.append(kill_app(processes, *args.kill_app, stats, timeline, finished))
    tasks = [asyncio.create_task(fault) for fault in faults]
    await exam(processes.port, quiz_id, keys, cookies, stats, spread=args.spread, think=args.think,
               patience=args.patience, revise=args.revise, stamp=args.request_start)
    finished.set()
    await asyncio.gather(*tasks)


async def _fault_due(at: float, stats, timeline, finished, what: str) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(finished.wait(), at)
    if finished.is_set():
        timeline.append((time.monotonic() - stats.began, f"{what}: not done, the exam had already ended"))
        return False
    return True


async def outage(cluster, seconds, at, stats, timeline, finished):
    if not await _fault_due(at, stats, timeline, finished, "PostgreSQL outage"):
        return
    crashed = time.monotonic()
    timeline.append((crashed - stats.began, "PostgreSQL crashed (immediate stop)"))
    await asyncio.to_thread(cluster.stop, "immediate")
    await asyncio.sleep(seconds)
    began = time.monotonic()
    await asyncio.to_thread(cluster.start)
    stats.restored = time.monotonic()
    stats.fault = (crashed, stats.restored)
    timeline.append((stats.restored - stats.began, f"PostgreSQL accepts connections again "
                                                    f"(start and crash recovery {stats.restored - began:.1f} s)"))


async def kill_app(processes, how, at, stats, timeline, finished):
    if not await _fault_due(at, stats, timeline, finished, "gunicorn kill"):
        return
    killed = time.monotonic()
    if how == "worker":
        victim = processes.kill_web_worker()
        timeline.append((killed - stats.began, f"gunicorn worker {victim} killed (SIGKILL)"))
        stats.fault = (killed, killed)
        return
    timeline.append((killed - stats.began, "gunicorn killed (SIGKILL to the master and its workers)"))
    processes.kill("web")
    await asyncio.to_thread(processes.start, "web")
    stats.fault = (killed, time.monotonic())
    timeline.append((stats.fault[1] - stats.began, "gunicorn started again, /healthz answers 200"))


if __name__ == "__main__":
    main()
