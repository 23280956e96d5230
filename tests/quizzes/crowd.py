"""Many requests at the same instant on PostgreSQL, each on its own connection, and proof that
they really met at a lock (not just ran one after another by luck)."""

import shutil
import threading
import time
import uuid
from contextlib import contextmanager

import psycopg
from sqlalchemy import delete, func, select
from sqlalchemy.pool import NullPool

from lms import create_app
from lms.extensions import db
from tests.conftest import _TMP, FIXTURE_COURSES, TEST_DB_URL

PASSWORD = "mat-khau-123"

# A session waiting for another one's lock on an enrolment row (operations.lock_enrollment).
_WAITING_FOR_ENROLMENT = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
      AND query LIKE '%FROM enrollments%FOR NO KEY UPDATE%'"""


def crowd_app():
    """The app as gunicorn runs it, but with a connection per session (no pool to queue behind)."""
    return create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": TEST_DB_URL, "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool},
        "SECRET_KEY": "test-secret-key", "CELERY_EAGER": True, "CELERY_BROKER_URL": "", "WTF_CSRF_ENABLED": False,
        "LMS_FILE_STORE": f"{_TMP}/files", "LMS_DEMO": True, "SERVER_NAME": "lms.test",
    })


def together(calls, timeout=60):
    """Run the calls in threads released by one barrier; their results (or exceptions) in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait(timeout=10)
        try:
            results[index] = call()
        except Exception as error:  # noqa: BLE001 — reported by the caller's assertion
            results[index] = error

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    return results


class HeldLock:
    """Wraps `operations.lock_enrollment`: the first request to get the lock keeps it until
    `waiters` other sessions are seen waiting for it in pg_stat_activity (or `timeout` passes),
    then lets go. `seen` is the most waiters observed: the proof that the requests met."""

    def __init__(self, real, waiters: int, timeout: float = 15.0):
        self.real, self.waiters, self.timeout = real, waiters, timeout
        self.first = threading.Lock()
        self.held = False
        self.seen = 0

    def __call__(self, *args, **kwargs):
        row = self.real(*args, **kwargs)
        with self.first:
            mine, self.held = not self.held, True
        if mine:
            self._wait_for_waiters()
        return row

    def _wait_for_waiters(self):
        deadline = time.monotonic() + self.timeout
        with psycopg.connect(TEST_DB_URL, autocommit=True) as watcher:
            while time.monotonic() < deadline:
                self.seen = max(self.seen, watcher.execute(_WAITING_FOR_ENROLMENT).fetchone()[0])
                if self.seen >= self.waiters:
                    return
                time.sleep(0.005)  # polling a condition, not ordering the race


@contextmanager
def committed_exam(app, folder_root, attempts: int, prefix: str):
    """A committed copy of the fixture course whose quiz allows `attempts` attempts; yields
    (quiz_id, learner) where `learner()` makes an enrolled user and returns (id, email). Both
    are deleted afterwards: these tests commit for real, outside the rolled-back transaction."""
    from lms.accounts.models import User
    from lms.accounts.operations import create_user
    from lms.catalog.models import Course
    from lms.catalog.operations import import_course
    from lms.catalog.source import read_course
    from lms.core.models import OutboxMessage
    from lms.enrollment import operations as enrollment_ops
    from lms.quizzes.models import Quiz

    slug = f"{prefix}-{uuid.uuid4().hex[:8]}"
    folder = folder_root / slug
    shutil.copytree(FIXTURE_COURSES / "mini-course", folder)
    course_md = folder / "course.md"
    text = course_md.read_text(encoding="utf-8")
    assert "code: TEST-101" in text
    course_md.write_text(text.replace("code: TEST-101", f"code: {slug.upper()}"), encoding="utf-8")
    quiz_md = folder / "02-kiem-tra" / "quiz.md"
    quiz_md.write_text(quiz_md.read_text(encoding="utf-8").replace("attempts: 3", f"attempts: {attempts}"),
                       encoding="utf-8")
    users = []
    with app.app_context():
        # The background work these commits queue (the course's search indexing) goes with them afterwards:
        # left queued, it was counted by later tests of the outbox and /healthz on the same database.
        outbox_before = db.session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))
        import_course(read_course(folder))
        course_id = db.session.scalar(select(Course.id).where(Course.slug == slug))
        assert course_id is not None, "the course slug comes from its folder name"
        quiz_id = db.session.scalar(select(Quiz.id).where(Quiz.course_id == course_id))
        db.session.commit()

    def learner():
        with app.app_context():
            user = create_user("Học viên Đua", PASSWORD, email=f"{uuid.uuid4().hex[:10]}@{prefix}.vn")
            enrollment_ops.enrol(user, db.session.get(Course, course_id))
            db.session.commit()
            users.append(user.id)
            return user.id, user.email

    try:
        yield quiz_id, learner
    finally:
        with app.app_context():
            db.session.execute(delete(User).where(User.id.in_(users)))
            db.session.execute(delete(Course).where(Course.slug == slug))
            db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > outbox_before))
            db.session.commit()
