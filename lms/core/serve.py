"""`flask serve`: what `make run` starts — gunicorn, and in the embedded default the background runner.

A small supervisor rather than a process manager, because a bare machine has none: the runner is
restarted if it dies (its unfinished work is picked up again, see lms.core.runner), Ctrl+C or
SIGTERM stops both, and the exit of gunicorn ends the whole thing.
"""

import logging
import os
import shutil
import signal
import subprocess
import sys
import time

log = logging.getLogger(__name__)
RESTART_DELAY = 2.0


def gunicorn_command(host: str, port: int, workers: int, threads: int) -> list[str]:
    # No control socket: its default path is per user, so a second server on the machine would take it over.
    return [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
            "--threads", str(threads), "--access-logfile", "-", "--graceful-timeout", "20", "--no-control-socket",
            *(("--worker-class", "lms.core.queue_timed_worker.QueueTimedWorker") if threads > 1 else ()), "app:app"]


def runner_command() -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "app", "jobs", "run"]


def _fresh_metrics_directory(cwd: str) -> str:
    """gunicorn's workers and the runner add their figures up here for /metrics (lms.core.metrics);
    emptied at each start, as prometheus_client asks, so a previous run's counters do not linger."""
    directory = os.path.join(os.environ.get("LMS_INSTANCE_PATH", os.path.join(cwd, "instance")), "metrics")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    return directory


def serve(host: str, port: int, workers: int, threads: int, with_runner: bool, cwd: str) -> int:
    env = dict(os.environ, PORT=str(port))
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", _fresh_metrics_directory(cwd))
    stopping = {"flag": False}

    def stop(_signum, _frame):
        stopping["flag"] = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    web = subprocess.Popen(gunicorn_command(host, port, workers, threads), cwd=cwd, env=env)
    runner = subprocess.Popen(runner_command(), cwd=cwd, env=env) if with_runner else None
    try:
        while not stopping["flag"] and web.poll() is None:
            if runner is not None and runner.poll() is not None:
                log.error("background runner exited with %s; restarting it", runner.returncode)
                time.sleep(RESTART_DELAY)
                runner = subprocess.Popen(runner_command(), cwd=cwd, env=env)
            time.sleep(0.5)
    finally:
        for process in (runner, web):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (runner, web):
            if process is not None:
                try:
                    process.wait(timeout=25)
                except subprocess.TimeoutExpired:
                    process.kill()
    return 0 if stopping["flag"] else (web.returncode or 0)
