"""The embedded runner as `make run` starts it: a real process on a real SQLite file.

A completion is certified within seconds; a runner killed with SIGKILL in the middle of a 20,000-row
import loses nothing — the next one goes on from the last committed batch, and the counts add up.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms import create_app
from lms.core.db import begin_read
from lms.extensions import db
from tests.conftest import FIXTURE_COURSES, ROOT

pytestmark = pytest.mark.skipif(bool(os.environ.get("LMS_TEST_DATABASE_URL")), reason="the embedded default: SQLite pass")
LEASE_SECONDS = 4


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    path = tmp_path_factory.mktemp("runner-instance")
    env = _env(path)
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    return path


def _env(instance: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_EAGER")}
    env.update(LMS_INSTANCE_PATH=str(instance), LMS_OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
               LMS_RUNNER_POLL_SECONDS="0.2", LMS_DEMO="0")
    return env


@pytest.fixture(scope="module")
def instance_app(instance):
    """The app as the runner sees it (runner mode: nothing runs in this process)."""
    os.environ["LMS_INSTANCE_PATH"] = str(instance)
    try:
        app = create_app()  # the embedded default of that instance: its SQLite file, files and keys
    finally:
        os.environ.pop("LMS_INSTANCE_PATH")
    assert app.config["LMS_TASK_MODE"] == "runner"
    return app


class RunnerProcess:
    def __init__(self, instance: Path):
        self.log = open(instance / f"runner-{time.monotonic_ns()}.log", "w+")  # noqa: SIM115 - kept for the test
        self.process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "jobs", "run"], cwd=ROOT,
                                        env=_env(instance), stdout=self.log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-4000:]

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()  # it finishes the task in hand first: after a 20k import, the invitations
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture()
def runner(instance):
    started = []

    def start():
        process = RunnerProcess(instance)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def _wait(predicate, timeout: float, what: str, runner=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        begin_read()  # look without taking SQLite's write lock from the runner
        value = predicate()
        if value:
            db.session.rollback()  # end the read: the test may write next
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s\n{runner.output() if runner else ''}")


def _heartbeat_seen(since: float):
    from lms.core.runner import heartbeat_age_seconds

    age = heartbeat_age_seconds()
    return age is not None and age < time.time() - since + 1


@pytest.mark.timing  # a wall-clock budget: run alone, after make test's two passes
def test_a_completion_is_certified_within_three_seconds(instance_app, runner):
    from lms.accounts.operations import create_user
    from lms.catalog.operations import import_course
    from lms.catalog.queries import course_by_slug
    from lms.catalog.source import read_course
    from lms.certificates.models import Certificate
    from lms.enrollment import operations as enrollment_ops
    from lms.quizzes import operations as quiz_ops
    from lms.quizzes.models import Quiz

    process = runner()
    with instance_app.app_context():
        started = time.time()
        _wait(lambda: _heartbeat_seen(started), 30, "the runner's first heartbeat", process)
        import_course(read_course(FIXTURE_COURSES / "mini-course"))
        course = course_by_slug("mini-course")
        user = create_user("Võ Thị Nhanh", "mat-khau-123", email="nhanh@example.vn")
        enrollment = enrollment_ops.enrol(user, course)
        for lesson in course.active_lessons():
            enrollment_ops.mark_done(enrollment, lesson)
        quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
        quiz_ops.submit_attempt(quiz, user, {q.id: q.answer for q in quiz.active_questions()})
        db.session.commit()
        passed = time.monotonic()
        user_id = user.id

        def rendered():
            certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == user_id))
            return certificate if certificate is not None and certificate.pdf_key else None

        certificate = _wait(rendered, 10, "the certificate", process)
        latency = time.monotonic() - passed
        print(f"certificate with its PDF {latency:.2f} s after the passing submit (embedded runner)")
        assert latency < 3.0, process.output()
        store = Path(instance_app.config["LMS_FILE_STORE"])
        assert (store / certificate.pdf_key).read_bytes().startswith(b"%PDF")


def _people_file(rows: int) -> bytes:
    lines = ["Họ và tên,Email,Chức vụ"]
    lines += [f"Cán Bộ {n:05d},canbo{n:05d}@so-tttt.gov.vn,Chuyên viên" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_a_runner_killed_mid_import_loses_nothing_and_counts_right(instance_app, runner):
    from lms.accounts.models import User
    from lms.core import outbox
    from lms.core.files import get_store
    from lms.imports.mapping import detect
    from lms.imports.models import ImportJob
    from lms.imports.reader import read_table

    rows = 20_000
    with instance_app.app_context():
        data = _people_file(rows)
        get_store().put("imports/runner-test/people.csv", data)
        headers, _ = read_table(data, "people.csv")
        job = ImportJob(filename="people.csv", file_key="imports/runner-test/people.csv", mapping=detect(headers),
                        default_audience="official", status="queued")
        db.session.add(job)
        db.session.flush()
        outbox.enqueue("imports.run", job_id=job.id)
        db.session.commit()
        job_id = job.id

        first = runner()
        # Kill it between two committed batches: some people written, not all.
        _wait(lambda: 0 < (db.session.get(ImportJob, job_id).created or 0) < rows, 60, "a first batch", first)
        first.kill()
        db.session.rollback()
        stuck = db.session.get(ImportJob, job_id)
        assert stuck.status == "running" and 0 < stuck.created < rows
        print(f"killed after {stuck.created} of {rows} rows")

        killed_at = time.monotonic()
        second = runner()
        done = _wait(lambda: db.session.get(ImportJob, job_id).status == "done", 90, "the resumed import", second)
        print(f"import finished {time.monotonic() - killed_at:.1f} s after the kill (lease {LEASE_SECONDS} s)")
        assert done
        # The job row says done in the task's last batch; its outbox message is marked done just after.
        _wait(lambda: db.session.scalar(select(outbox.OutboxMessage.state)
                                        .where(outbox.OutboxMessage.task == "imports.run")) == "done",
              30, "the import's message done", second)
        # Read as a reader: the runner is now sending the 20,000 set-password invitations (issue 13) and holds
        # SQLite's write lock in turns; this process must not queue for it.
        begin_read()
        job = db.session.get(ImportJob, job_id)
        people = db.session.scalar(select(func.count(User.id)).where(User.email.like("canbo%@so-tttt.gov.vn")))
        assert (job.created, job.updated, job.failed, people) == (rows, 0, 0, rows)
        message = db.session.scalar(select(outbox.OutboxMessage).where(outbox.OutboxMessage.task == "imports.run"))
        assert message.state == "done" and message.runs == 2
