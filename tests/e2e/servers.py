"""The real server, started the way people start it, for the end-to-end suite.

- `start_embedded`: `make run` itself in a throw-away instance (LMS_INSTANCE_PATH, PORT), whatever
  `make run` starts (gunicorn today, a supervisor of gunicorn and a job runner tomorrow); ready
  when GET /healthz says so;
- `start_production`: README's "Production" steps on a scratch PostgreSQL database, then gunicorn,
  `celery worker` and `celery beat` on their own queue in the test Redis database; the database
  and the queue's keys are removed at the end.

Every long-lived process runs in its own process group (`start_new_session`) and is stopped by
its group id, so children (gunicorn workers, celery pool processes) go with it. Output goes to
log files the suite prints when a test fails.
"""

import atexit
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
# `make run` set-up takes ~14 s on a quiet 2-core machine; on one shared with other jobs it has taken
# 260 s, so the wait is generous (a server that never comes up still fails, with its log)
READY_TIMEOUT = 600.0
# What a person's shell would not have: the test run's own settings and the outer `make test`.
_NOT_A_USERS_SHELL = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES", "PORT", "DATABASE_URL", "SECRET_KEY",
                      "PYTEST_CURRENT_TEST", "PYTEST_VERSION")


def production_requested() -> bool:
    """The PostgreSQL + Redis pass of `make test` gives both; then the suite runs production mode."""
    return bool(os.environ.get("LMS_TEST_DATABASE_URL") and os.environ.get("LMS_TEST_REDIS_URL"))


def only_in_the_sqlite_pass() -> None:
    """Skip a test whose server is the embedded default (SQLite) whatever the pass: in the PostgreSQL pass it
    would run the very same thing again, beside the other pass, for nothing new."""
    if os.environ.get("LMS_TEST_DATABASE_URL"):
        import pytest

        pytest.skip("serves the embedded default (SQLite): runs in the SQLite pass")


def users_environment() -> dict:
    """The environment of someone who just cloned the project: none of the app's variables set."""
    return {name: value for name, value in os.environ.items()
            if name not in _NOT_A_USERS_SHELL and not name.startswith(("LMS_", "CELERY_", "SMTP_"))}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    """One long-lived process group and the log it writes."""

    name: str
    process: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        """Ctrl+C to the whole group, as in the terminal (gunicorn then stops without waiting for
        requests still running); whatever is left after `grace` seconds is killed."""
        if not self.alive():
            return
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        # A child that ignored the group's signal (or outlived its parent) still goes.
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


@dataclass
class Server:
    mode: str
    workdir: Path
    port: int = field(default_factory=free_port)
    services: list[Service] = field(default_factory=list)
    cleanups: list = field(default_factory=list)
    setup_seconds: float = 0.0
    database_url: str = ""  # what the app serves from, for tests that read real ids
    env: dict = field(default_factory=dict)  # the server's environment, for commands an operator would run

    def run_python(self, code: str) -> str:
        """Run `code` with the server's environment and configuration (as `flask shell` would); its output."""
        done = subprocess.run([str(BIN / "python"), "-c", code], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def flask(self, *args: str) -> str:
        """A `flask` command as the operator (or cron) runs it against this server's database."""
        done = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self, name: str, command: list[str], env: dict) -> Service:
        log = self.workdir / f"{name}.log"
        handle = log.open("ab")
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=handle,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()
        service = Service(name, process, log)
        self.services.append(service)
        return service

    def run_steps(self, env: dict, *steps: tuple[str, list[str]]) -> None:
        """Set-up commands that must succeed, started side by side (so: only ones independent of each other).

        Their output goes to setup.log, one command after the other, with the time each took.
        """
        running = []
        for name, command in steps:
            output = tempfile.TemporaryFile()  # noqa: SIM115 - read and closed once the command ends
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                       stderr=subprocess.STDOUT)
            running.append((name, command, output, time.monotonic(), process))
        failed = []
        with (self.workdir / "setup.log").open("ab") as log:
            for name, command, output, started, process in running:
                code = process.wait(timeout=300)
                output.seek(0)
                log.write(f"$ {' '.join(command)}\n".encode() + output.read()
                          + f"({name}: exit {code}, {time.monotonic() - started:.1f} s)\n".encode())
                output.close()
                if code:
                    failed.append(name)
        if failed:
            raise RuntimeError(f"set-up failed: {', '.join(failed)}\n{self.logs()}")

    def wait_until_healthy(self, timeout: float = READY_TIMEOUT) -> None:
        """Until GET /healthz answers 200 {"status": "ok"}; fails at once when a process died."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            dead = [service.name for service in self.services if not service.alive()]
            if dead:
                raise RuntimeError(f"{', '.join(dead)} exited before the server was ready:\n{self.logs()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=5) as response:
                    body = json.loads(response.read())
                    if body.get("status") == "ok":
                        return
                    last = str(body)
            except (OSError, ValueError) as error:
                last = str(error.read()[:300]) if isinstance(error, urllib.error.HTTPError) else repr(error)
            time.sleep(0.25)
        raise RuntimeError(f"the server was not healthy after {timeout:.0f} s (last: {last}):\n{self.logs()}")

    def wait_for_log(self, service: Service, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in service.log.read_text(errors="replace"):
                return
            if not service.alive():
                break
            time.sleep(0.2)
        raise RuntimeError(f"{service.name} did not log {text!r}:\n{self.logs()}")

    def logs(self, tail_lines: int = 120) -> str:
        parts = []
        for path in sorted(self.workdir.glob("*.log")):
            # Static files are noise next to the requests and tracebacks that explain a failure.
            lines = [line for line in path.read_text(errors="replace").splitlines() if '"GET /static/' not in line]
            parts.append(f"----- {path.name} (last {min(tail_lines, len(lines))} of {len(lines)} lines) -----")
            parts.extend(lines[-tail_lines:])
        return "\n".join(parts)

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        for cleanup in self.cleanups:
            cleanup()


def start_embedded(workdir: Path) -> Server:
    """`make run` exactly as the README says, with its two documented knobs set."""
    server = Server("embedded", workdir)
    instance = workdir / "instance"
    env = users_environment()
    env.update(LMS_INSTANCE_PATH=str(instance), PORT=str(server.port))
    server.database_url = f"sqlite:///{instance / 'lms.sqlite3'}"
    server.env = dict(env)
    started = time.monotonic()
    server.spawn("make-run", ["make", "run"], env)
    try:
        server.wait_until_healthy()
    except BaseException:
        server.stop()
        raise
    server.setup_seconds = time.monotonic() - started
    return server


def _database_url(server_url: str, name: str) -> str:
    return server_url.rsplit("/", 1)[0] + "/" + name


def _admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(statement)


def _forget_queue(redis_url: str, queue: str) -> None:
    """Remove this run's queue (and its bindings) from the test Redis database; nothing else."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3)
    keys = [key for key in client.scan_iter(match=f"*{queue}*", count=500)]
    if keys:
        client.delete(*keys)


def _start_services(server: Server, env: dict, queue: str) -> Service:
    """gunicorn, one `celery worker` and the one `celery beat`, as README "Production" runs them (with
    deploy/lms.env.example's metrics directory: /metrics adds up every process of the host)."""
    metrics = server.workdir / "metrics"
    metrics.mkdir(exist_ok=True)
    env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    server.spawn("gunicorn", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{server.port}", "--workers", "2",
                              "--access-logfile", "-", "app:app"], env)
    worker = server.spawn("celery-worker", [str(BIN / "celery"), "-A", "app:celery", "worker", "--loglevel", "INFO",
                                            "--concurrency", "2", "-n", f"{queue}@%h", "--without-gossip",
                                            "--without-mingle"], env)
    # The schedule file goes to the throw-away folder, not the working tree.
    server.spawn("celery-beat", [str(BIN / "celery"), "-A", "app:celery", "beat", "--loglevel", "INFO",
                                 "--schedule", str(server.workdir / "celerybeat-schedule")], env)
    return worker


def start_production(workdir: Path, test_database_url: str, redis_url: str) -> Server:
    """README "Production": scratch database, set-up commands, then gunicorn + worker + beat."""
    server = Server("production", workdir)
    tag = uuid.uuid4().hex[:10]
    database = f"lms_e2e_{tag}"
    queue = f"lms-e2e-{tag}"
    signing_key = workdir / "signing_key.pem"
    (workdir / "instance").mkdir()
    (workdir / "files").mkdir()
    env = users_environment()
    env.update(DATABASE_URL=_database_url(test_database_url, database), SECRET_KEY=uuid.uuid4().hex * 2,
               CELERY_BROKER_URL=redis_url, CELERY_QUEUE=queue, LMS_BASE_URL=server.base_url, LMS_DEMO="1",
               LMS_INSTANCE_PATH=str(workdir / "instance"), LMS_FILE_STORE=str(workdir / "files"),
               LMS_SIGNING_KEY=str(signing_key))
    server.database_url = env["DATABASE_URL"]
    server.env = dict(env)
    started = time.monotonic()
    _admin(test_database_url, f'CREATE DATABASE "{database}"')

    def drop_database():
        _admin(test_database_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        _forget_queue(redis_url, queue)

    server.cleanups.append(drop_database)
    try:
        flask = [str(BIN / "flask"), "--app", "app"]
        server.run_steps(env, ("db upgrade", flask + ["db", "upgrade"]),
                         ("generate signing key", flask + ["certificates", "generate-key", str(signing_key)]))
        server.run_steps(env, ("localities load", flask + ["localities", "load"]))
        server.run_steps(env, ("library import", flask + ["library", "import", "library/"]))
        server.run_steps(env, ("courses import", flask + ["courses", "import", "courses/"]))
        server.run_steps(env, ("programs import", flask + ["programs", "import", "programs/"]))
        worker = _start_services(server, env, queue)  # they boot while the demo accounts are made
        server.run_steps(env, ("demo accounts", flask + ["demo", "create"]))
        server.wait_until_healthy()
        server.wait_for_log(worker, " ready.")
    except BaseException:
        server.stop()
        raise
    server.setup_seconds = time.monotonic() - started
    return server


# ---------------------------------------------------------------- the embedded server of the other suites

# `make run`'s set-up, all of it: the demo accounts, courses and programmes.
DEMO_STEPS = (("db", "upgrade"), ("localities", "load"), ("courses", "import", "courses/"),
              ("programs", "import", "programs/"), ("demo", "create"))


# (steps, settings) → an instance directory as those steps left it (EmbeddedServer.set_up).
_SET_UP_INSTANCES: dict[tuple, Path] = {}
# Settings only the running server reads (logs, the runner's pace, rate limits): servers that differ only in
# these start from the same set-up.
_RUNTIME_ONLY = frozenset({"LMS_LOG_FORMAT", "LMS_RUNNER_POLL_SECONDS", "LMS_LOGIN_IP_LIMIT", "LMS_RATE_LIMITS"})


class EmbeddedServer:
    """`make run`'s set-up (`steps`) in a throw-away instance, then `flask serve` (gunicorn, two workers of four
    threads, and the embedded background runner: what `make run` ends with) with the test run's environment
    plus `env`. A test may stop it (an outage: nothing answers on its port) and start it again."""

    def __init__(self, steps=DEMO_STEPS, ready_timeout: float = 180.0, **env: str):
        self.steps, self.ready_timeout = steps, ready_timeout
        self.set_up_key = (tuple(steps), tuple(sorted(item for item in env.items() if item[0] not in _RUNTIME_ONLY)))
        self.instance = Path(tempfile.mkdtemp(prefix="lms-live-"))
        self.database = self.instance / "lms.sqlite3"
        self.log_path = self.instance / "serve.log"
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_EAGER")}
        self.env.update(LMS_INSTANCE_PATH=str(self.instance), LMS_DEMO="1", SECRET_KEY="browser-test-secret", **env)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None

    def set_up(self) -> None:
        """The steps, run once per test session for the same steps and settings: later servers start from a
        copy of the first one's instance as it was when its steps ended (five app start-ups and a course
        import each, 10–30 s, were a sixth of the suite's time)."""
        template = _SET_UP_INSTANCES.get(self.set_up_key)
        if template is not None:
            shutil.copytree(template, self.instance, dirs_exist_ok=True)
            return
        for step in self.steps:
            done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *step], cwd=ROOT, env=self.env,
                                  capture_output=True, text=True)
            assert done.returncode == 0, f"flask {' '.join(step)}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
        template = Path(tempfile.mkdtemp(prefix="lms-live-set-up-"))
        shutil.copytree(self.instance, template, dirs_exist_ok=True)  # every step's process has ended: no open WAL
        atexit.register(shutil.rmtree, template, True)
        _SET_UP_INSTANCES[self.set_up_key] = template

    def start(self) -> None:
        """`flask serve` in a process group of its own; returns once its port answers (or fails with the log)."""
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "serve", "--port",
                                             str(self.port)], cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"flask serve ended (exit {self.process.returncode}):\n{self.log_text()[-3000:]}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"nothing listens on {self.port} after {self.ready_timeout:.0f} s:\n{self.log_text()[-3000:]}")

    def stop(self) -> None:
        """Stop the server as an outage would: nothing answers on its port until `start`."""
        if self.process is None:
            return
        self.process.terminate()  # `flask serve` stops gunicorn and the runner, then exits
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=40)
        with suppress(ProcessLookupError):  # whatever of its group is left goes too
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.instance, ignore_errors=True)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def python(self, code: str) -> str:
        """Run `code` in an app context of this instance (committing is the code's business); its stdout."""
        script = "from lms import create_app\nfrom lms.extensions import db\napp = create_app()\n" \
                 "with app.app_context():\n" + textwrap.indent(textwrap.dedent(code).strip(), "    ")
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def query(self, sql: str, *params) -> list:
        with sqlite3.connect(self.database) as connection:
            return connection.execute(sql, params).fetchall()

    def answers(self, attempt_id: int) -> dict:
        """question id → (response, score, version) as stored on the server."""
        rows = self.query("SELECT question_id, response, score, version FROM attempt_answers WHERE attempt_id = ?",
                          attempt_id)
        return {question: (json.loads(response), score, version) for question, response, score, version in rows}

    def finished(self, attempt_id: int) -> bool:
        return self.query("SELECT submitted_at IS NOT NULL FROM attempts WHERE id = ?", attempt_id) == [(1,)]


@contextmanager
def embedded_server(steps=DEMO_STEPS, ready_timeout: float = 180.0, **env: str) -> Iterator[EmbeddedServer]:
    """An EmbeddedServer set up and started for the block (a module's fixture), then removed with its instance."""
    live = EmbeddedServer(steps, ready_timeout, **env)
    try:
        live.set_up()
        live.start()
        yield live
    finally:
        live.remove()


def answered_below_flask(server, endpoint: str) -> float:
    """The server's count of `endpoint`'s requests answered in front of Flask (lms/core/fast_pages.py), from
    /metrics (which answers this machine)."""
    import urllib.request

    text = urllib.request.urlopen(f"{server.base_url}/metrics", timeout=10).read().decode()
    found = re.search(rf'^lms_answered_below_flask_total\{{endpoint="{re.escape(endpoint)}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0
