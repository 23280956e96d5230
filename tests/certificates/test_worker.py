"""The certificate path through a real Celery worker on Redis (second pass of `make test`).

These tests commit for real (a worker in another process cannot see a rolled-back
transaction), so they clean up what they made.
"""

import json
import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import delete, func, select

from lms import create_app
from lms.extensions import db
from tests.conftest import FIXTURE_COURSES, ROOT, _database_url, wait_for_celery_worker

REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(
    not (os.environ.get("LMS_TEST_DATABASE_URL") and REDIS_URL),
    reason="needs PostgreSQL and Redis (the second pass of `make test` provides both)",
)


@pytest.fixture(scope="module")
def queue():
    return f"lms-test-{uuid.uuid4().hex[:8]}"


FILE_STORE = ROOT / "instance" / "test-files"


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = tmp_path_factory.mktemp("key") / "signing_key.pem"
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return path


def _start_worker(queue, instance, signing_key):
    env = dict(os.environ, DATABASE_URL=_database_url(), CELERY_BROKER_URL=REDIS_URL, CELERY_QUEUE=queue,
               SECRET_KEY="worker-test-secret", LMS_INSTANCE_PATH=str(instance), LMS_SIGNING_KEY=str(signing_key),
               LMS_FILE_STORE=str(FILE_STORE))
    node = f"{queue}-{instance.name}@{socket.gethostname()}"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "app:celery", "worker", "--pool", "solo", "-Q", queue, "-n", node,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for_celery_worker(process, node, REDIS_URL)
    return process


def _stop(process):
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def worker(app, queue, tmp_path_factory, signing_key):
    process = _start_worker(queue, tmp_path_factory.mktemp("worker"), signing_key)
    yield process
    _stop(process)


@pytest.fixture(scope="module")
def second_worker(worker, queue, tmp_path_factory, signing_key):
    """Another worker process on the same queue: duplicated messages are then consumed concurrently."""
    process = _start_worker(queue, tmp_path_factory.mktemp("worker2"), signing_key)
    yield process
    _stop(process)


def _app(queue, broker):
    return create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": _database_url(), "SECRET_KEY": "x", "CELERY_EAGER": False,
        "CELERY_BROKER_URL": broker, "CELERY_QUEUE": queue, "LMS_FILE_STORE": str(FILE_STORE),
    })


def _complete_course(tag: str):
    """Make a learner who finishes the fixture course; returns (user id, course id). Commits."""
    from lms.accounts.operations import create_user
    from lms.catalog.operations import import_course
    from lms.catalog.queries import course_by_slug
    from lms.catalog.source import read_course
    from lms.core.models import OutboxMessage
    from lms.enrollment import operations as enrollment_ops
    from lms.quizzes import operations as quiz_ops
    from lms.quizzes.models import Quiz

    import_course(read_course(FIXTURE_COURSES / "mini-course"))
    db.session.commit()
    # The new course's search indexing (lms.search.hooks) is not the work these tests count.
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.task.like("search.%")))
    db.session.commit()
    course = course_by_slug("mini-course")
    user = create_user("Lê Văn Thử", "mat-khau-123", email=f"worker-{tag}@example.vn")
    enrollment = enrollment_ops.enrol(user, course)
    for lesson in course.active_lessons():
        enrollment_ops.mark_done(enrollment, lesson)
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    quiz_ops.submit_attempt(quiz, user, {q.id: q.answer for q in quiz.active_questions()})
    db.session.commit()
    return user.id, course.id


def _wait_for_certificate(user_id, course_id, timeout=30.0):
    from lms.certificates.models import Certificate

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()  # see the worker's commits
        count = db.session.scalar(select(func.count(Certificate.id)).where(
            Certificate.user_id == user_id, Certificate.course_id == course_id))
        if count:
            return count
        time.sleep(0.2)
    return 0


def _cleanup(user_id):
    from lms.accounts.models import User
    from lms.catalog.models import Course
    from lms.certificates.models import Certificate
    from lms.core.models import OutboxMessage

    db.session.rollback()
    db.session.execute(delete(Certificate).where(Certificate.user_id == user_id))
    db.session.execute(delete(User).where(User.id == user_id))
    db.session.execute(delete(Course).where(Course.slug == "mini-course"))
    db.session.execute(delete(OutboxMessage))
    db.session.commit()


def test_completion_issues_exactly_one_certificate_through_the_worker(worker, queue):
    from lms.certificates.models import Certificate
    from lms.core.models import OutboxMessage
    from lms.core.outbox import dispatch_ready

    app = _app(queue, REDIS_URL)
    with app.app_context():
        user_id = None
        try:
            user_id, course_id = _complete_course("once")
            assert dispatch_ready() == 1
            message = db.session.scalar(select(OutboxMessage))
            assert message.dispatched_at is not None and message.task == "certificates.issue"
            assert _wait_for_certificate(user_id, course_id) == 1, worker_output(worker)

            # A retried or duplicated message must not make a second certificate.
            task = app.extensions["celery"].tasks["certificates.issue"]
            for _ in range(3):
                task.apply_async(kwargs=message.kwargs)
            time.sleep(2)
            db.session.rollback()
            certificates = db.session.scalars(select(Certificate).where(Certificate.user_id == user_id)).all()
            assert len(certificates) == 1
            assert certificates[0].holder_name == "Lê Văn Thử"
        finally:
            if user_id:
                _cleanup(user_id)


def test_broker_outage_keeps_the_message_and_the_relay_delivers_it(worker, queue):
    from lms.core.models import OutboxMessage
    from lms.core.outbox import dispatch_ready, relay

    down = _app(queue, "redis://127.0.0.1:1/0")  # nothing listens on port 1
    user_id = None
    with down.app_context():
        try:
            user_id, course_id = _complete_course("outage")
            assert dispatch_ready() == 0
            message = db.session.scalar(select(OutboxMessage))
            assert message.dispatched_at is None and message.last_error
        except Exception:
            if user_id:
                _cleanup(user_id)
            raise
    up = _app(queue, REDIS_URL)
    with up.app_context():
        try:
            assert relay(older_than_seconds=0) == 1
            assert _wait_for_certificate(user_id, course_id) == 1, worker_output(worker)
        finally:
            _cleanup(user_id)


def test_two_workers_consuming_duplicated_messages_issue_exactly_one_certificate_with_its_files(
        worker, second_worker, queue, signing_key):
    from lms.certificates.models import Certificate
    from lms.certificates.signing import verify_proof
    from lms.core.models import OutboxMessage

    app = _app(queue, REDIS_URL)
    app.config["LMS_SIGNING_KEY"] = str(signing_key)
    with app.app_context():
        user_id = None
        try:
            user_id, course_id = _complete_course("twice")
            message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.task == "certificates.issue"))
            task = app.extensions["celery"].tasks["certificates.issue"]
            # As if the relay and the request both sent it, and the broker redelivered some: 8 copies at once.
            for _ in range(8):
                task.apply_async(kwargs=message.kwargs)
            assert _wait_for_certificate(user_id, course_id) == 1, worker_output(worker)
            deadline = time.monotonic() + 30
            certificate = None
            while time.monotonic() < deadline:
                db.session.rollback()
                rows = db.session.scalars(select(Certificate).where(Certificate.user_id == user_id)).all()
                certificate = rows[0] if len(rows) == 1 else None
                if len(rows) != 1 or (certificate.pdf_key and certificate.credential_json):
                    break
                time.sleep(0.2)
            time.sleep(2)  # let every copy run
            db.session.rollback()
            rows = db.session.scalars(select(Certificate).where(Certificate.user_id == user_id)).all()
            assert len(rows) == 1, [r.serial for r in rows]
            certificate = rows[0]
            assert certificate.pdf_key and (FILE_STORE / certificate.pdf_key).read_bytes().startswith(b"%PDF")
            from cryptography.hazmat.primitives import serialization

            public = serialization.load_pem_private_key(signing_key.read_bytes(), None).public_key()
            verify_proof(json.loads(certificate.credential_json), public)
            assert worker.poll() is None and second_worker.poll() is None
        finally:
            if user_id:
                _cleanup(user_id)


def worker_output(process) -> str:
    if process.poll() is None:
        return "worker still running (no certificate within the timeout)"
    return process.stdout.read()
