"""Work for the fault scenarios, made the way the app makes it, and what they check afterwards.

The scripts run in a process of their own with the app processes' environment (`AppProcesses.python`),
through the app's own operations, and end the way a request ends: commit, then `dispatch_ready`
(what the request teardown does). The checks read the private database directly.
"""

import json
import time
from pathlib import Path

import psycopg

from tests.faults.conftest import PREPARED_DATABASE
from tests.processes import wait_until
from tests.webclient import WebClient

# Short bounds, so that a fault is repaired in seconds rather than minutes (each is an app setting).
FAST_RECOVERY = {
    "LMS_OUTBOX_LEASE_SECONDS": "8",  # a killed worker's run is presumed dead after 8 s (long tasks extend it)
    "LMS_OUTBOX_START_SECONDS": "6",  # a message the broker lost is sent again after 6 s
    "LMS_OUTBOX_RECONCILE_SECONDS": "2",  # beat runs the reconciler every 2 s
    "LMS_BROKER_VISIBILITY_SECONDS": "60",  # Redis gives a dead worker's messages back after a minute
}
COURSE = "ky-nang-so-cong-dan"
RECOVERY_BOUND = 120.0  # every completion certified, every job done within 2 minutes of recovery

_COMPLETE = """
import os
import sys
from sqlalchemy import select
from app import app
from lms.accounts.operations import create_user
from lms.catalog.queries import course_by_slug
from lms.core import outbox
from lms.enrollment import operations as enrollment_ops
from lms.extensions import db
from lms.quizzes import operations as quiz_ops
from lms.quizzes.models import Quiz

count, prefix, each = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "each"
with app.app_context():
    course = course_by_slug(sys.argv[4])
    quizzes = db.session.scalars(select(Quiz).where(Quiz.course_id == course.id)).all()
    for n in range(count):
        user = create_user(f"Học viên {prefix} {n}", "mat-khau-123", email=f"{prefix}-{n}@faults.vn")
        enrollment = enrollment_ops.enrol(user, course)
        for lesson in course.active_lessons():
            enrollment_ops.mark_done(enrollment, lesson)
        for quiz in quizzes:
            quiz_ops.submit_attempt(quiz, user, {q.id: q.answer for q in quiz.active_questions()})
        db.session.commit()
        if each:  # as a request does after its commit; otherwise all at once at the end (a burst)
            outbox.dispatch_ready()
        print("completed", user.id, enrollment.completed_at is not None, flush=True)
    print("dispatched", outbox.dispatch_ready(), flush=True)
os._exit(0)  # at once: the interpreter's tidy exit takes seconds, while the worker is already at it
"""


def complete_courses(processes, count: int, prefix: str, *, burst: bool = True) -> list[int]:
    """`count` new learners complete the course; their user ids. With `burst`, their certificate
    messages reach the broker together after the last completion."""
    output = processes.python(_COMPLETE, str(count), prefix, "burst" if burst else "each", COURSE)
    done = [line.split() for line in output.splitlines() if line.startswith("completed ")]
    assert len(done) == count and all(flag == "True" for _, _, flag in done), output[-2000:]
    return [int(user_id) for _, user_id, _ in done]


def rows(pg, statement: str, params=None) -> list[tuple]:
    return pg.execute(statement, params, dbname=PREPARED_DATABASE)


def watch(pg, statement: str, params, condition, timeout: float, what: str):
    """Poll one query on a connection kept open (so that a fault can be timed to within milliseconds of
    the state it waits for) until `condition(first row)` is true; that row."""
    with psycopg.connect(pg.url(PREPARED_DATABASE), autocommit=True) as connection:
        def seen():
            row = connection.execute(statement, params).fetchone()
            return row if condition(row) else None
        return wait_until(seen, timeout, interval=0.01, what=what)


def value(pg, statement: str, params=None):
    return rows(pg, statement, params)[0][0]


def certificates_of(pg, user_ids: list[int]) -> list[tuple]:
    """(user id, serial, pdf key, has credential) of every course certificate these learners hold."""
    return rows(pg, "SELECT c.user_id, c.serial, c.pdf_key, c.credential_json IS NOT NULL FROM certificates c "
                    "JOIN courses k ON k.id = c.course_id WHERE k.slug = %s AND c.user_id = ANY(%s) ORDER BY c.id",
                (COURSE, user_ids))


def open_messages(pg, task: str | None = None) -> dict:
    """Outbox messages not finished, by state (failed ones included: given up is not finished); of one task if given."""
    if task is None:
        return dict(rows(pg, "SELECT state, count(*) FROM outbox_messages WHERE state <> 'done' GROUP BY state"))
    return dict(rows(pg, "SELECT state, count(*) FROM outbox_messages WHERE state <> 'done' AND task = %s "
                         "GROUP BY state", (task,)))


def all_certified(pg, processes, user_ids: list[int]) -> bool:
    """Every learner holds exactly one certificate with its PDF in the file store and its credential."""
    found = certificates_of(pg, user_ids)
    if sorted(user_id for user_id, *_ in found) != sorted(user_ids):
        return False
    return all(pdf_key and has_credential and _pdf(processes, pdf_key) for _, _, pdf_key, has_credential in found)


def _pdf(processes, key: str) -> bool:
    path = Path(processes.env["LMS_FILE_STORE"]) / key
    return path.exists() and path.read_bytes().startswith(b"%PDF")


def assert_certified_once(pg, processes, user_ids: list[int]) -> None:
    found = certificates_of(pg, user_ids)
    holders = [user_id for user_id, *_ in found]
    duplicates = {u for u in holders if holders.count(u) > 1}
    assert not duplicates, f"duplicate certificates for users {sorted(duplicates)}"
    assert sorted(holders) == sorted(user_ids), f"{len(user_ids) - len(set(holders))} completions not certified"
    for user_id, serial, pdf_key, has_credential in found:
        assert pdf_key and _pdf(processes, pdf_key), f"certificate {serial} of user {user_id} has no PDF"
        assert has_credential, f"certificate {serial} of user {user_id} has no signed credential"


def wait_recovered(condition, since: float, what: str, bound: float = RECOVERY_BOUND) -> float:
    """Wait (at most `bound` seconds after `since`) until `condition()`; the seconds from `since`."""
    wait_until(condition, max(1.0, bound - (time.monotonic() - since)), interval=0.2, what=what)
    return time.monotonic() - since


_IMPORT = """
import os
import sys
from app import app
from lms.core import outbox
from lms.core.files import get_store
from lms.extensions import db
from lms.imports.mapping import detect
from lms.imports.models import ImportJob
from lms.imports.reader import read_table

count = int(sys.argv[1])
lines = ["Họ và tên,Email,Chức vụ"] + [f"Cán Bộ {n:05d},canbo{n:05d}@faults.gov.vn,Chuyên viên" for n in range(count)]
data = ("\\n".join(lines) + "\\n").encode()
with app.app_context():
    get_store().put("imports/faults/people.csv", data)
    headers, _ = read_table(data, "people.csv")
    job = ImportJob(filename="people.csv", file_key="imports/faults/people.csv", mapping=detect(headers),
                    default_audience="official", status="queued")
    db.session.add(job)
    db.session.flush()
    outbox.enqueue("imports.run", job_id=job.id)
    db.session.commit()
    outbox.dispatch_ready()
    print("job", job.id, flush=True)
os._exit(0)  # at once: the interpreter's tidy exit takes seconds, while the worker is already at it
"""


def start_people_import(processes, count: int) -> int:
    """An uploaded people file of `count` officials, queued for import as the admin page does; the job id."""
    output = processes.python(_IMPORT, str(count))
    return int(next(line.split()[1] for line in output.splitlines() if line.startswith("job ")))


_EXPORT = """
import sys
from sqlalchemy import Integer, String, cast, func, insert, literal, select
from app import app
from lms.accounts.models import User
from lms.catalog.queries import course_by_slug
from lms.core import outbox
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.localities.models import Locality
from lms.localities.queries import home_commune_ids
from lms.reports.operations import start_export

count = int(sys.argv[1])
with app.app_context():
    commune = db.session.get(Locality, min(home_commune_ids()))
    course = course_by_slug(sys.argv[2])
    manager = db.session.scalar(select(User).where(User.email == "quantri@demo.vn"))
    # Made in the database (INSERT … SELECT over generate_series): seconds instead of a minute of round trips.
    series = select(func.generate_series(0, count - 1).label("n")).subquery()
    number = func.lpad(cast(series.c.n, String), 5, "0")
    db.session.execute(insert(User).from_select(
        ["full_name", "full_name_folded", "email", "password_hash", "audience", "locality_id"],
        select(literal("Người học ") + number, literal("nguoi hoc ") + number, literal("xuat") + number + "@faults.vn",
               literal("!"), literal("citizen"), literal(commune.id, Integer))))
    db.session.execute(insert(Enrollment).from_select(
        ["user_id", "course_id", "locality_id"],
        select(User.id, literal(course.id, Integer), literal(commune.id, Integer)).where(User.email.like("xuat%@faults.vn"))))
    db.session.commit()
    job = start_export(manager, commune, "learners", sys.argv[3], {"mode": "current"})
    db.session.commit()
    outbox.dispatch_ready()
    print("job", job.id, flush=True)
"""


def start_learner_export(processes, count: int, fmt: str) -> int:
    """`count` learners enrolled in one commune, and a manager's export of its learner list; the job id."""
    output = processes.python(_EXPORT, str(count), COURSE, fmt)
    return int(next(line.split()[1] for line in output.splitlines() if line.startswith("job ")))


_LEARNERS = """
import json
import sys
from sqlalchemy import select
from app import app
from lms.accounts.operations import create_user
from lms.catalog.queries import course_by_slug
from lms.enrollment import operations as enrollment_ops
from lms.extensions import db
from lms.quizzes.models import Quiz

count, prefix = int(sys.argv[1]), sys.argv[2]
with app.app_context():
    course = course_by_slug(sys.argv[3])
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    answers = {f"q{q.id}": q.answer for q in quiz.active_questions()}
    for n in range(count):
        user = create_user(f"Học viên {prefix} {n}", "mat-khau-123", email=f"{prefix}-{n}@faults.vn")
        enrollment = enrollment_ops.enrol(user, course)
        for lesson in course.active_lessons():
            enrollment_ops.mark_done(enrollment, lesson)
        db.session.commit()
        print("learner", json.dumps({"id": user.id, "email": user.email}), flush=True)
    print("quiz", json.dumps({"id": quiz.id, "answers": answers}), flush=True)
"""


def learners_at_the_quiz(processes, count: int, prefix: str) -> tuple[list[dict], dict]:
    """`count` learners enrolled with every lesson read, the final quiz still to pass: ([{id, email}], quiz)."""
    output = processes.python(_LEARNERS, str(count), prefix, COURSE)
    learners = [json.loads(line[len("learner "):]) for line in output.splitlines() if line.startswith("learner ")]
    quiz = next(json.loads(line[len("quiz "):]) for line in output.splitlines() if line.startswith("quiz "))
    return learners, quiz


def pass_the_quiz(base_url: str, learner: dict, quiz: dict):
    """The learner logs in and submits the right answers through the real server, as the no-JS quiz page
    does; the answer to the submit, after its redirect (status, url, text, started, ended)."""
    client = WebClient(base_url, timeout=30)
    client.login(learner["email"], "mat-khau-123")
    client.get(f"/quizzes/{quiz['id']}")
    return client.post(f"/quizzes/{quiz['id']}/submit", quiz["answers"])
