"""A real server for journey tests: `make run`'s set-up in a throw-away instance, served by
gunicorn exactly as `make run` serves it, which a test may stop and start again; and the
Chromium that drives it (Debian's, through Playwright, which downloads nothing)."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from bench.lesson_page import free_port, wait_for
from tests.conftest import ROOT

CHROMIUM = os.environ.get("LMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


class LiveServer:
    def __init__(self):
        self.instance = Path(tempfile.mkdtemp(prefix="lms-live-"))
        self.database = self.instance / "lms.sqlite3"
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
        self.env.update(LMS_INSTANCE_PATH=str(self.instance), LMS_DEMO="1", SECRET_KEY="browser-test-secret")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None

    def set_up(self):
        flask = [sys.executable, "-m", "flask", "--app", "app"]
        for step in (["db", "upgrade"], ["localities", "load"], ["courses", "import", "courses/"],
                     ["programs", "import", "programs/"], ["demo", "create"]):
            subprocess.run(flask + step, cwd=ROOT, env=self.env, check=True, capture_output=True)

    def start(self):
        # What `make run` ends with: gunicorn (two workers of four threads) and the embedded background runner.
        self.log = open(self.instance / "serve.log", "a")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "serve", "--port",
                                         str(self.port)], cwd=ROOT, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        wait_for(self.port)

    def stop(self):
        """Stop the server as an outage would: nothing answers on its port until `start`."""
        if self.process is not None:
            self.process.terminate()  # `flask serve` stops gunicorn and the runner, then exits
            self.process.wait(timeout=40)
            self.process = None
            self.log.close()

    def remove(self):
        self.stop()
        shutil.rmtree(self.instance, ignore_errors=True)

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


def launch(driver):
    return driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
