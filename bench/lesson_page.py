"""Lesson page budget (DESIGN.md §7): a logged-in lesson page against a bare Flask app serving
the same bytes, both under gunicorn (2 sync workers) on this machine, in the same run.

    .venv/bin/python bench/lesson_page.py [--seconds 10] [--connections 16] [--port N]
    .venv/bin/python bench/lesson_page.py --scratch-db postgresql://postgres@127.0.0.1:5432/lms_bench_NAME

Needs `wrk` (Debian: apt-get install wrk). Uses a throw-away SQLite instance (or DATABASE_URL
when set), imports courses/, logs a demo learner in and measures
/courses/<slug>/lessons/<id> with that session cookie. Prints requests/s and latency p50/p95.
"""

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench.quiz_exam's scratch database
BIN = Path(sys.executable).parent

BARE_APP = '''
import os
from flask import Flask
app = Flask(__name__)
BODY = open(os.environ["BENCH_BODY"], "rb").read()
@app.get("/page")
def page():
    return BODY, 200, {"Content-Type": "text/html; charset=utf-8"}
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def gunicorn(app_spec: str, port: int, env: dict, cwd: Path) -> subprocess.Popen:
    process = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                "--log-level", "warning", app_spec], cwd=cwd, env=env)
    wait_for(port)
    return process


def server_cpu(process: subprocess.Popen) -> float:
    """CPU seconds (user + system) used so far by a gunicorn master and its workers: a figure the other
    work on a shared machine inflates far less than requests per second."""
    pids = [str(process.pid), *Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def timed_wrk(process: subprocess.Popen, url: str, seconds: int, connections: int, cookie: str | None = None) -> dict:
    """run_wrk, plus the server's CPU milliseconds per request answered."""
    before = server_cpu(process)
    result = run_wrk(url, seconds, connections, cookie)
    result["cpu_ms"] = 1000 * (server_cpu(process) - before) / max(1.0, result["rps"] * seconds)
    return result


# One browser: the log-in and every timed request say the same User-Agent. flask-login's session protection
# ties the session to the address and User-Agent; wrk sending none (while the log-in sent urllib's) marked
# the session "not fresh" on every request, so each response re-signed and sent the session cookie — work
# and bytes a real browser, which keeps the cookie it is given, never causes.
USER_AGENT = "lms-bench/1 (wrk)"


def run_wrk(url: str, seconds: int, connections: int, cookie: str | None = None) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"User-Agent: {USER_AGENT}", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, "p50": percentiles.get("50"), "p90": percentiles.get("90"), "p99": percentiles.get("99"),
            "errors": int(non_2xx.group(1)) if non_2xx else 0}


def login_cookie(base: str) -> tuple[str, str]:
    """Log the demo learner in; returns (session cookie, lesson path)."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "login": "hocvien@demo.vn", "password": "hocvien-demo-2025"})
    opener.open(base + "/login", data=data.encode())
    catalogue = opener.open(base + "/courses").read().decode()
    slug = re.search(r'href="/courses/([a-z0-9-]+)"', catalogue).group(1)
    opener.open(base + f"/courses/{slug}/enrol", data=urllib.parse.urlencode({"csrf_token": token}).encode())
    course = opener.open(base + f"/courses/{slug}").read().decode()
    lesson = re.search(rf'href="(/courses/{slug}/lessons/\d+)"', course).group(1)
    # Not the cookie of a write a moment ago (lms.core.change_feed): a browser drops it within seconds, and the
    # timed reads are the lesson read again later.
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar if c.name != "lms_wrote")
    return cookie, lesson


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--scratch-db", metavar="URL",
                        help="PostgreSQL: create this database, serve from it, drop it afterwards (else SQLite)")
    parser.add_argument("--port", type=int, default=0,
                        help="the lesson app's port, the bare app's the next one (default: any free ports)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    on_database(args.scratch_db, measure, args)


def on_database(scratch_db: str | None, measure, args):
    """measure(args) on SQLite, or on a PostgreSQL database `scratch_db` created for it and dropped after; its
    result."""
    with contextlib.ExitStack() as stack:
        if scratch_db:
            from bench.quiz_exam import scratch_database

            stack.enter_context(scratch_database(scratch_db))
            os.environ.update(DATABASE_URL=scratch_db, SECRET_KEY=secrets.token_urlsafe(48))
        return measure(args)


def measure(args) -> None:
    instance = Path(tempfile.mkdtemp(prefix="lms-bench-"))
    env = dict(os.environ, LMS_INSTANCE_PATH=str(instance), LMS_DEMO="1")
    flask = [str(BIN / "flask"), "--app", "app"]
    for step in (["db", "upgrade"], ["localities", "load"], ["courses", "import", "courses/"], ["demo", "create"]):
        subprocess.run(flask + step, cwd=ROOT, env=env, check=True, capture_output=True)

    processes = []
    try:
        lms_port = args.port or free_port()
        processes.append(gunicorn("app:app", lms_port, env, ROOT))
        base = f"http://127.0.0.1:{lms_port}"
        cookie, lesson = login_cookie(base)
        import urllib.request

        request = urllib.request.Request(base + lesson, headers={"Cookie": cookie, "User-Agent": USER_AGENT})
        body = urllib.request.urlopen(request).read()
        body_file = instance / "body.html"
        body_file.write_bytes(body)
        (instance / "bare_app.py").write_text(BARE_APP)
        bare_port = args.port + 1 if args.port else free_port()
        processes.append(gunicorn("bare_app:app", bare_port, dict(env, BENCH_BODY=str(body_file)), instance))

        run_wrk(base + lesson, 2, args.connections, cookie)  # warm-up
        lms = timed_wrk(processes[0], base + lesson, args.seconds, args.connections, cookie)
        bare = timed_wrk(processes[1], f"http://127.0.0.1:{bare_port}/page", args.seconds, args.connections)
        print(f"page: {lesson} ({len(body):,} bytes), {args.connections} connections, {args.seconds}s each, "
              f"gunicorn 2 sync workers, database {os.environ.get('DATABASE_URL', 'SQLite')}")
        print(f"bare Flask : {bare['rps']:8.0f} req/s  p50 {bare['p50']}  p90 {bare['p90']}  p99 {bare['p99']}  "
              f"server CPU {bare['cpu_ms']:.2f} ms/request")
        print(f"lesson page: {lms['rps']:8.0f} req/s  p50 {lms['p50']}  p90 {lms['p90']}  p99 {lms['p99']}  "
              f"non-2xx {lms['errors']}  server CPU {lms['cpu_ms']:.2f} ms/request")
        print(f"ratio      : {100 * lms['rps'] / bare['rps']:.0f} % of bare Flask (budget: at least 40 %)")
        load = os.getloadavg()
        print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs "
              "(other work on the machine lowers both figures; compare the ratio within one run)")
        # bench/capacity.py charges each request the HTTP server's own CPU: 2 busy cores / bare requests per second.
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / "lesson_page.json").write_text(json.dumps({"bare_rps": bare["rps"], "lesson_rps": lms["rps"],
                                                         "lesson": lms, "bare": bare, "load_average": load}))
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)  # a loaded machine stops gunicorn slowly
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
