"""A learner-list export through the outbox and a real Celery worker (PostgreSQL + Redis pass).

Commits for real (the worker is another process) and cleans up after itself.
"""

import csv
import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import delete

from lms import create_app
from lms.extensions import db
from tests.conftest import ROOT, _database_url, wait_for_celery_worker

REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(
    not (os.environ.get("LMS_TEST_DATABASE_URL") and REDIS_URL),
    reason="needs PostgreSQL and Redis (the second pass of `make test` provides both)",
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("export-store")


@pytest.fixture(scope="module")
def worker(app, store, tmp_path_factory):
    queue = f"lms-test-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, DATABASE_URL=_database_url(), CELERY_BROKER_URL=REDIS_URL, CELERY_QUEUE=queue,
               SECRET_KEY="worker-test-secret", LMS_FILE_STORE=str(store),
               LMS_INSTANCE_PATH=str(tmp_path_factory.mktemp("export-worker")))
    node = f"{queue}@{socket.gethostname()}"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "app:celery", "worker", "--pool", "solo", "-Q", queue, "-n", node,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    wait_for_celery_worker(process, node, REDIS_URL)
    yield queue, process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def test_export_job_runs_on_the_worker_and_lands_in_the_file_store(worker, store):
    from sqlalchemy import delete as sa_delete

    from lms.accounts.models import User
    from lms.catalog.models import Course
    from lms.core.models import OutboxMessage
    from lms.core.outbox import dispatch_ready
    from lms.localities.queries import find_unit
    from lms.reports.models import ReportExport
    from lms.reports.operations import start_export
    from lms.reports.synthetic import generate

    queue, process = worker
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _database_url(), "SECRET_KEY": "x",
                      "CELERY_EAGER": False, "CELERY_BROKER_URL": REDIS_URL, "CELERY_QUEUE": queue,
                      "LMS_FILE_STORE": str(store)})
    tag = uuid.uuid4().hex[:6]
    with app.app_context():
        try:
            counts = generate(users=40, enrollments=120, seed=int(tag, 16) % 100000, echo=lambda *_: None)
            db.session.commit()
            # The synthetic courses' search indexing (lms.search.hooks) is not the work this test counts.
            db.session.execute(sa_delete(OutboxMessage).where(OutboxMessage.task.like("search.%")))
            manager = User(full_name="Quản lý thử", full_name_folded="quan ly thu", email=f"export-{tag}@example.vn",
                           password_hash="!", audience="official")
            db.session.add(manager)
            db.session.flush()
            area = find_unit("2025-01/77")
            job = start_export(manager, area, "learners", "csv", {"mode": "current"})
            db.session.commit()
            assert dispatch_ready() == 1
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                db.session.rollback()
                job = db.session.get(ReportExport, job.id)
                if job.status in ("done", "failed"):
                    break
                time.sleep(0.3)
            assert job.status == "done", (job.status, job.error, process.poll())
            with open(store / job.file_key, encoding="utf-8") as handle:
                rows = list(csv.reader(handle))
            assert rows[0][0].lstrip("\ufeff") == "Họ và tên" and 0 < len(rows) - 1 <= counts["enrollments"]
            assert job.rows_done == job.rows_total == len(rows) - 1
        finally:
            db.session.rollback()
            db.session.execute(delete(User).where(User.email.like("syn%@synthetic.invalid")))
            db.session.execute(delete(User).where(User.email == f"export-{tag}@example.vn"))
            db.session.execute(delete(OutboxMessage))
            db.session.execute(delete(ReportExport))
            db.session.execute(delete(Course).where(Course.code.like("SYN-%")))  # modules, lessons, quizzes cascade
            db.session.commit()
