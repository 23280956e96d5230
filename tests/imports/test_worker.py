"""The import job and its e-mail through a real Celery worker on Redis (second pass of `make test`).

The worker gets an SMTP server started here (aiosmtpd on 127.0.0.1): the import runs in the
worker, the admin's "import finished" notification is e-mailed by the worker, and delivering
the e-mail task again does not send a second message. These tests commit, so they clean up.
"""

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import delete, select

from lms import create_app
from lms.extensions import db
from tests.conftest import ROOT, _database_url, wait_for_celery_worker

REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(
    not (os.environ.get("LMS_TEST_DATABASE_URL") and REDIS_URL),
    reason="needs PostgreSQL and Redis (the second pass of `make test` provides both)",
)


class _Collect:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def smtp():
    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture(scope="module")
def setup(app, smtp, tmp_path_factory):
    queue = f"lms-test-{uuid.uuid4().hex[:8]}"
    files = str(tmp_path_factory.mktemp("files"))
    env = dict(os.environ, DATABASE_URL=_database_url(), CELERY_BROKER_URL=REDIS_URL, CELERY_QUEUE=queue,
               SECRET_KEY="worker-test-secret", LMS_INSTANCE_PATH=str(tmp_path_factory.mktemp("worker")),
               LMS_FILE_STORE=files, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp[0].port), SMTP_STARTTLS="0")
    node = f"{queue}@{socket.gethostname()}"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "app:celery", "worker", "--pool", "solo", "-Q", queue, "-n", node,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    wait_for_celery_worker(process, node, REDIS_URL)
    yield queue, files
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_import_job_runs_in_the_worker_and_the_email_goes_out_once(setup, smtp):
    from lms.accounts.models import User
    from lms.accounts.operations import create_user
    from lms.core.files import get_store
    from lms.core.models import OutboxMessage
    from lms.core.outbox import dispatch_ready, enqueue
    from lms.imports.models import ImportJob
    from lms.notifications.models import Notification

    queue, files = setup
    tag = uuid.uuid4().hex[:6]
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _database_url(), "SECRET_KEY": "x",
                      "CELERY_EAGER": False, "CELERY_BROKER_URL": REDIS_URL, "CELERY_QUEUE": queue,
                      "LMS_FILE_STORE": files})
    with app.app_context():
        try:
            admin = create_user("Quản Trị", "mat-khau-123", email=f"admin-{tag}@example.vn", roles=("admin",))
            data = f"\ufeffHọ và tên,Email\nNguyễn Văn Mới,moi-{tag}@example.vn\nThiếu Email,\n".encode()
            get_store().put(f"imports/{tag}/people.csv", data)
            job = ImportJob(created_by_id=admin.id, filename="people.csv", file_key=f"imports/{tag}/people.csv",
                            mapping={"full_name": "Họ và tên", "email": "Email"}, status="queued")
            db.session.add(job)
            db.session.flush()
            enqueue("imports.run", job_id=job.id)
            db.session.commit()
            job_id = job.id
            assert dispatch_ready() == 1
            assert _wait(lambda: db.session.get(ImportJob, job_id).status == "done"), db.session.get(ImportJob, job_id).message
            job = db.session.get(ImportJob, job_id)
            assert (job.created, job.failed, job.processed, job.total) == (1, 1, 2, 2)
            assert db.session.scalar(select(User.full_name).where(User.email == f"moi-{tag}@example.vn")) == "Nguyễn Văn Mới"
            # The worker queued the e-mail through its own outbox; it arrives once.
            handler = smtp[1]
            assert _wait(lambda: any(f"admin-{tag}@example.vn" in m for m in handler.messages))
            notification = db.session.scalar(select(Notification).where(Notification.dedupe_key == f"import:{job_id}:done"))
            task = app.extensions["celery"].tasks["notifications.send_email"]
            for _ in range(2):
                task.apply_async(kwargs={"notification_id": notification.id})
            time.sleep(2)
            assert sum(f"admin-{tag}@example.vn" in m for m in handler.messages) == 1
            # Delivering the import message again leaves the finished job alone.
            app.extensions["celery"].tasks["imports.run"].apply_async(kwargs={"job_id": job_id})
            time.sleep(1)
            db.session.rollback()
            assert db.session.get(ImportJob, job_id).created == 1
        finally:
            db.session.rollback()
            db.session.execute(delete(ImportJob).where(ImportJob.file_key == f"imports/{tag}/people.csv"))
            db.session.execute(delete(User).where(User.email.in_([f"moi-{tag}@example.vn", f"admin-{tag}@example.vn"])))
            db.session.execute(delete(OutboxMessage))
            db.session.commit()
