"""The app's real production processes (gunicorn, Celery worker, Celery beat) for fault tests and benchmarks.

Started from this checkout against the URLs given, with a throw-away instance directory (instance
path, file store, signing key, beat schedule, logs), configured the way README's production section
does it. Used through `tests.services`.
"""

import atexit
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from tests.processes import Service, children_of, free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The worker and beat restart like their systemd units (deploy/systemd: Restart=always, RestartSec): kombu 5.7.0
# can end a worker that loses Redis with a task in flight ("Unrecoverable error: AttributeError … 'hostname'",
# docs/operations.md), and in production systemd starts it again. gunicorn and the embedded runner restart their
# own children.
RESTART_SECONDS = {"worker": 2.0, "beat": 5.0}
# The parent's configuration must not leak into the app under test (e.g. the suite's own DATABASE_URL).
_DROPPED_PREFIXES = ("LMS_", "CELERY_", "FLASK_")
_DROPPED_NAMES = {"DATABASE_URL", "SECRET_KEY"}


# `flask --app app STEP` for each argument (words separated by \x1f), in one process.
_FLASK_STEPS = """
import sys
import time
import flask.cli
for step in sys.argv[1:]:
    words, began = step.split("\\x1f"), time.monotonic()
    print("==== flask", *words, flush=True)
    try:  # commands end with a return code, or with sys.exit (some even on success)
        code = flask.cli.cli.main(["--app", "app", *words], prog_name="flask", standalone_mode=False)
    except SystemExit as exit:
        code = exit.code
    if code:
        sys.exit(f"flask {' '.join(words)}: exit {code}")
    print(f"==== ({time.monotonic() - began:.1f} s)", flush=True)
"""


def _executable(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else shutil.which(name) or name


class AppProcesses:
    """gunicorn (`web`), `celery worker` (`worker`) and `celery beat` (`beat`) of this checkout."""

    def __init__(self, database_url: str, broker_url: str | None = None, *, queue: str | None = None,
                 port: int | None = None, env: dict | None = None, signing_key: Path | None = None):
        """`signing_key`: an existing key file to use (e.g. the one made when a template database was
        prepared); without it one is generated on first need."""
        self.directory = Path(tempfile.mkdtemp(prefix="lms-app-"))
        self.instance, self.logs = self.directory / "instance", self.directory / "logs"
        self.instance.mkdir()
        self.logs.mkdir()
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.queue = queue or f"faults-{uuid.uuid4().hex[:8]}"
        self.signing_key = Path(signing_key) if signing_key else self.directory / "signing_key.pem"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(_DROPPED_PREFIXES) and k not in _DROPPED_NAMES}
        self.env.update({
            "DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(48),
            "LMS_SIGNING_KEY": str(self.signing_key), "LMS_INSTANCE_PATH": str(self.instance),
            "LMS_FILE_STORE": str(self.directory / "files"), "LMS_DEMO": "1", "LMS_BASE_URL": self.base_url,
            "CELERY_QUEUE": self.queue, "PYTHONUNBUFFERED": "1",
        })
        if broker_url:
            self.env["CELERY_BROKER_URL"] = broker_url
        self.env.update(env or {})
        self.services: dict[str, Service] = {}
        atexit.register(self.cleanup)  # a safety net when a caller forgets the `with`
        self._ready = {}  # service name → (how to wait until it serves, timeout)
        self._since = {}  # service name → its log's size when it was last started

    # ------------------------------------------------------------ set-up commands

    def flask(self, *args: str, timeout: float = 600) -> str:
        """`flask --app app ARGS` with this environment; its output (also in logs/flask.log). Raises on failure."""
        done = subprocess.run([_executable("flask"), "--app", "app", *args], cwd=ROOT, env=self.env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        with open(self.logs / "flask.log", "a") as log:
            log.write(f"==== flask {' '.join(args)} (exit {done.returncode})\n{done.stdout}\n")
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(args)} failed (exit {done.returncode}):\n{done.stdout[-4000:]}")
        return done.stdout

    def _key_step(self) -> list[list[str]]:
        return [] if self.signing_key.exists() else [["certificates", "generate-key", str(self.signing_key)]]

    def generate_signing_key(self) -> None:
        """The credential signing key production requires (LMS_SIGNING_KEY), made once by the app's command."""
        if steps := self._key_step():
            self.python(_FLASK_STEPS, *("\x1f".join(step) for step in steps))

    def prepare(self, courses: bool = True, programs: bool = True, demo: bool = True) -> None:
        """What README's production section runs before serving: migrations, localities, content, demo.

        The same `flask` commands, run by the `flask` CLI's own entry point in one process: each
        command alone would spend seconds importing the app.
        """
        steps = [*self._key_step(), ["db", "upgrade"], ["localities", "load"]]
        steps += [["courses", "import", "courses/"]] if courses else []
        steps += [["programs", "import", "programs/"]] if programs else []
        steps += [["demo", "create"]] if demo else []
        self.python(_FLASK_STEPS, *("\x1f".join(step) for step in steps))

    def python(self, code: str, *args: str, timeout: float = 600) -> str:
        """Run `python -c CODE ARGS` in this checkout with this environment; its output. Raises on failure."""
        done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=self.env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        with open(self.logs / "flask.log", "a") as log:
            log.write(f"==== python -c … (exit {done.returncode})\n{done.stdout}\n")
        if done.returncode:
            raise RuntimeError(f"set-up failed (exit {done.returncode}):\n{done.stdout[-4000:]}")
        return done.stdout

    # ------------------------------------------------------------ long-running processes

    def _start(self, name: str, argv: list, ready, timeout: float, wait: bool) -> Service:
        self.generate_signing_key()
        if name not in self.services:
            self.services[name] = Service(name, argv, self.logs / f"{name}.log", env=self.env, cwd=ROOT,
                                          restart_after=RESTART_SECONDS.get(name))
        self.services[name].argv = [str(a) for a in argv]
        self._ready[name] = (ready, timeout)
        return self.start(name, wait)

    def start_web(self, workers: int = 2, threads: int = 1, timeout: float = 60, access_log: bool = True,
                  extra: tuple = (), healthy: bool = True, wait: bool = True) -> Service:
        """gunicorn `app:app` on this object's port; returns once /healthz answers 200 (or, with
        `healthy=False`, anything at all: e.g. a 503 while the database is down). With `wait=False`
        it returns at once: start several processes, then `wait_ready` each (their boots overlap)."""
        # No control socket: its default path is per user, so parallel servers would take it from each other.
        argv = [_executable("gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
                "--threads", str(threads), "--graceful-timeout", "10", "--no-control-socket", *extra]
        if access_log:
            argv += ["--access-logfile", "-"]
        return self._start("web", [*argv, "app:app"], self._web_ready(healthy), timeout, wait)

    def _web_ready(self, healthy: bool):
        def ready(service: Service, since: int, timeout: float) -> None:
            def answers():
                if not service.running:
                    raise RuntimeError(f"gunicorn ended (exit {service.process.returncode}):\n{service.tail()}")
                status, _ = self.get("/healthz", timeout=5)
                return status == 200 if healthy else status != 0
            wait_until(answers, timeout, interval=0.1, what=f"gunicorn's /healthz to answer{' 200' * healthy}")
        return ready

    def start_worker(self, concurrency: int = 2, timeout: float = 60, extra: tuple = (), wait: bool = True) -> Service:
        """`celery -A app:celery worker` on this object's queue; returns once it is ready."""
        argv = [_executable("celery"), "-A", "app:celery", "worker", "-Q", self.queue, "--concurrency",
                str(concurrency), "-n", f"{self.queue}@%h", "--without-gossip", "--without-mingle",
                "--loglevel", "INFO", *extra]
        return self._start("worker", argv, self._log_ready(" ready."), timeout, wait)

    def start_beat(self, timeout: float = 60, wait: bool = True) -> Service:
        """`celery -A app:celery beat`, its schedule and pid file in the instance directory."""
        argv = [_executable("celery"), "-A", "app:celery", "beat", "--schedule", self.instance / "celerybeat-schedule",
                "--pidfile", self.instance / "celerybeat.pid", "--loglevel", "INFO"]
        return self._start("beat", argv, self._log_ready("beat: Starting..."), timeout, wait)

    def start_runner(self, threads: int = 2, timeout: float = 60, wait: bool = True) -> Service:
        """`flask --app app jobs run`: the embedded background runner, which does the broker's and
        worker's work when there is no CELERY_BROKER_URL (what `flask serve` starts beside gunicorn)."""
        argv = [_executable("flask"), "--app", "app", "jobs", "run", "--threads", str(threads)]
        return self._start("runner", argv, self._log_ready("embedded runner started"), timeout, wait)

    @staticmethod
    def _log_ready(needle: str):
        return lambda service, since, timeout: service.wait_for_log(needle, timeout, since=since)

    def __getitem__(self, name: str) -> Service:
        return self.services[name]

    def start(self, name: str, wait: bool = True) -> Service:
        """Start a process (again) with the arguments it was last started with."""
        service = self.services[name]
        self._since[name] = service.log_size()
        service.start()
        if wait:
            self.wait_ready(name)
        return service

    def wait_ready(self, name: str) -> Service:
        """Wait until a process started with `wait=False` serves; if it never does, it is killed."""
        service, (ready, timeout) = self.services[name], self._ready[name]
        try:
            ready(service, self._since[name], timeout)
        except BaseException:
            service.kill()
            raise
        return service

    def kill(self, name: str) -> None:
        """kill -9 of the whole process (gunicorn with its workers, the Celery worker with its pool)."""
        self.services[name].kill()

    def terminate(self, name: str, timeout: float = 30) -> None:
        """SIGTERM (a graceful stop: gunicorn finishes its requests, Celery its tasks); SIGKILL after `timeout`."""
        self.services[name].stop(signal.SIGTERM, timeout=timeout)

    def restart(self, name: str, kill: bool = False) -> Service:
        self.kill(name) if kill else self.terminate(name)
        return self.start(name)

    def web_workers(self) -> list[int]:
        """The pids of gunicorn's worker processes (children of its master)."""
        return children_of(self.services["web"].pid)

    def kill_web_worker(self) -> int:
        """kill -9 of one gunicorn worker (its master forks a new one); the pid killed."""
        self.services["web"].members()  # remembers the worker with its start time
        victim = self.web_workers()[0]
        os.kill(victim, signal.SIGKILL)
        return victim

    # ------------------------------------------------------------ helpers

    def get(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        """(status, body) of a GET to the app; (0, b"") when nothing answers."""
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, b""

    def report(self, lines: int = 80) -> str:
        """The end of every log, to print when a test fails."""
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"---- {path.name} (last {len(text)} lines)\n" + "\n".join(text))
        return "\n".join(parts)

    def pids_seen(self) -> set[int]:
        return set().union(*(s.pids_seen for s in self.services.values())) if self.services else set()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            print(f"\n==== logs of the app processes ({self.directory})\n{self.report()}", file=sys.stderr)
        self.cleanup()

    def cleanup(self) -> None:
        atexit.unregister(self.cleanup)
        for service in self.services.values():
            service.members()  # remember every pid before they go, for "nothing left" checks
            service.kill()
        shutil.rmtree(self.directory, ignore_errors=True)
