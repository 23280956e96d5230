"""Every GET route of `make run`'s server (SQLite, 2 workers × 4 threads, the embedded runner) while
people register, enrol, study and answer quizzes at the same moment: no request may answer 5xx.

The issue this guards against: page views that also write (a visit recorded, the /verify counter,
an overdue attempt finished, a report download logged) failed with "database is locked" whenever
a writer committed between their read and their write.
"""

import os
import re
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.servers import embedded_server
from tests.routes import route_urls
from tests.webclient import WebClient

pytestmark = pytest.mark.skipif(bool(os.environ.get("LMS_TEST_DATABASE_URL")), reason="the embedded default: SQLite pass")
SLUG = "ky-nang-so-cong-dan"
ACCOUNTS = {"admin": ("quantri@demo.vn", "quantri-demo-2025"), "manager": ("quanly@demo.vn", "quanly-demo-2025"),
            "trainer": ("giangvien@demo.vn", "giangvien-demo-2025"), "learner": ("hocvien@demo.vn", "hocvien-demo-2025")}
WRITERS, ROUNDS = 4, 6


@pytest.fixture(scope="module")
def server():
    """`make run`'s set-up and `flask serve` (what `make run` ends with) on a throw-away instance."""
    with embedded_server() as live:
        yield live


def _samples(database: Path) -> dict:
    """Real ids from the server's database for every argument a route takes."""
    one = lambda sql: (sqlite3.connect(database).execute(sql).fetchone() or [0])[0]  # noqa: E731
    course = one(f"SELECT id FROM courses WHERE slug = '{SLUG}'")
    lesson = one(f"SELECT id FROM lessons WHERE course_id = {course} ORDER BY id")
    return {
        "slug": SLUG, "lesson_id": lesson, "key": one(f"SELECT key FROM lessons WHERE id = {lesson}"),
        "module_id": one(f"SELECT id FROM modules WHERE course_id = {course}"),
        "quiz_id": one(f"SELECT id FROM quizzes WHERE course_id = {course} AND key NOT LIKE 'bank/%'"),
        "revision_id": one(f"SELECT id FROM lesson_revisions WHERE lesson_id = {lesson}"),
        "locality_id": one("SELECT id FROM localities WHERE scheme = '2025-07' AND code = '26506'"),
        "user_id": one("SELECT id FROM users WHERE email = 'hocvien@demo.vn'"),
        "agency_id": one("SELECT id FROM agencies") or 1, "program_id": one("SELECT id FROM programs") or 1,
        "certificate_id": one("SELECT id FROM certificates") or 1, "serial": one("SELECT serial FROM certificates") or
        "ABCD-EFGH-JKLM", "attempt_id": one("SELECT id FROM attempts") or 1, "path": "khong-co.png",
        "token": "khong-hop-le", "job_id": 1, "export_id": 1, "class_id": 1, "session_id": 1, "record_id": 1, "rule_id": 1,
        "name": "vneid", "request_id": 1,  # an SSO provider (none configured: 404), a data request
        "file_id": one("SELECT id FROM library_files") or 1,
    }


def _learner_writes(base: str, number: int, ward: int, log: list, stop: threading.Event):
    """A new resident: registers, enrols, studies (page views record visits), checks a certificate."""
    client = WebClient(base)
    client.get("/register")
    client.post("/register", {"full_name": f"Người Học {number}", "login": f"dongthoi{number}@example.vn",
                              "password": "mot-mat-khau-dai-2025", "confirm": "mot-mat-khau-dai-2025",
                              "audience": "citizen", "locality_id": str(ward), "consent": "y",
                              "submit": "1"})
    course = client.get(f"/courses/{SLUG}")
    log.append(("write", client.post(f"/courses/{SLUG}/enrol")))
    lessons = sorted(set(re.findall(rf'/courses/{SLUG}/lessons/(\d+)"', client.get(f"/courses/{SLUG}").text)), key=int)
    assert course.status == 200 and lessons
    for round_number in range(ROUNDS):
        for lesson in lessons:
            if stop.is_set():
                return
            log.append(("read-write", client.get(f"/courses/{SLUG}/lessons/{lesson}")))
            log.append(("write", client.post(f"/courses/{SLUG}/lessons/{lesson}/done",
                                             {"done": "1" if round_number % 2 == 0 else "0"})))
        log.append(("read-write", client.get("/verify?serial=ABCD-EFGH-JKLM")))


def _walk(base: str, account, urls, log: list):
    client = WebClient(base)
    if account:
        client.login(*account)
    for _method, endpoint, url in urls:
        if endpoint in ("accounts.logout",):
            continue
        log.append((f"read {endpoint}", client.get(url)))


def test_every_page_answers_while_people_write(server):
    base = server.base
    samples = _samples(server.database)
    from lms import create_app

    urls = route_urls(create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x",
                                  "CELERY_EAGER": True}), samples)
    assert len(urls) > 60
    log, stop = [], threading.Event()
    with ThreadPoolExecutor(WRITERS + len(ACCOUNTS) + 1) as pool:
        writers = [pool.submit(_learner_writes, base, n, samples["locality_id"], log, stop) for n in range(WRITERS)]
        readers = [pool.submit(_walk, base, account, urls * 2, log) for account in [None, *ACCOUNTS.values()]]
        try:
            for future in readers:
                future.result()
        except AssertionError as error:  # a log-in refused: the server's log says why
            stop.set()
            raise AssertionError(f"{error}\n----- serve.log -----\n{server.log_text()[-4000:]}") from error
        stop.set()
        for future in writers:
            future.result()

    failures = [(kind, r.status, r.url) for kind, r in log if r.status >= 500]
    assert failures == [], server.log_text()[-3000:]
    # The interleaving really happened: page views that write overlapped other people's writes.
    writes = [r for kind, r in log if kind == "write"]
    overlapped = sum(1 for kind, r in log if kind == "read-write"
                     and any(w.started < r.ended and r.started < w.ended for w in writes if w is not r))
    print(f"{len(log)} requests, {len(writes)} writes, {overlapped} writing page views overlapped a write")
    assert len(log) > 600 and overlapped > 20
