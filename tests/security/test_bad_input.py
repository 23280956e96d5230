"""Finding 5: no bad input gets a 5xx, on any route, for any kind of person, on either backend.

The real server of this pass (`make run` on SQLite; README's production on PostgreSQL + Redis) gets
the corpus of tests/security/badinput.py on every rule of the url_map, from an anonymous visitor,
each demo role and an API client with a bearer token, side by side.
"""

import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT
from tests.e2e import servers
from tests.security.badinput import requests_for
from tests.webclient import WebClient

SLUG = "ky-nang-so-cong-dan"
ACCOUNTS = {"learner": ("hocvien@demo.vn", "hocvien-demo-2025"), "trainer": ("giangvien@demo.vn", "giangvien-demo-2025"),
            "manager": ("quanly@demo.vn", "quanly-demo-2025"), "admin": ("quantri@demo.vn", "quantri-demo-2025")}


@pytest.fixture(scope="module")
def server():
    workdir = Path(tempfile.mkdtemp(prefix="lms-badinput-"))
    if servers.production_requested():
        running = servers.start_production(workdir, os.environ["LMS_TEST_DATABASE_URL"], os.environ["LMS_TEST_REDIS_URL"])
    else:
        running = servers.start_embedded(workdir)
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _samples(database_url: str) -> dict:
    """Real ids from the server's database for every argument a route takes."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        def one(sql):
            return (connection.execute(text(sql)).first() or [0])[0]

        course = one(f"SELECT id FROM courses WHERE slug = '{SLUG}'")
        lesson = one(f"SELECT id FROM lessons WHERE course_id = {course} ORDER BY id")
        samples = {
            "slug": SLUG, "lesson_id": lesson, "key": one(f"SELECT key FROM lessons WHERE id = {lesson}"),
            "module_id": one(f"SELECT id FROM modules WHERE course_id = {course}"),
            "quiz_id": one(f"SELECT id FROM quizzes WHERE course_id = {course} AND key NOT LIKE 'bank/%'"),
            "revision_id": one(f"SELECT id FROM lesson_revisions WHERE lesson_id = {lesson}") or 1,
            "locality_id": one("SELECT id FROM localities WHERE scheme = '2025-07' AND code = '26506'"),
            "user_id": one("SELECT id FROM users WHERE email = 'hocvien@demo.vn'"),
            "agency_id": one("SELECT id FROM agencies") or 1, "program_id": one("SELECT id FROM programs") or 1,
            "certificate_id": one("SELECT id FROM certificates") or 1,
            "serial": one("SELECT serial FROM certificates") or "ABCD-EFGH-JKLM",
            "attempt_id": one("SELECT id FROM attempts") or 1,
            "path": "khong-co.png", "token": "khong-hop-le", "job_id": 1, "export_id": 1, "class_id": 1, "session_id": 1,
            "rule_id": 1, "name": "vneid", "request_id": 1, "filename": "khong-co.pdf", "fmt": "csv",
            "file_id": one("SELECT id FROM library_files") or 1, "delivery_id": 1, "record_id": 1,
        }
    engine.dispose()
    return samples


def _api_token(server) -> str:
    env = servers.users_environment()
    env.update({k: v for k, v in os.environ.items() if k.startswith("LMS_TEST")})
    env.update(LMS_INSTANCE_PATH=str(server.workdir / "instance"), DATABASE_URL=server.database_url, SECRET_KEY="x" * 64)
    if server.database_url.startswith("sqlite"):
        env.pop("DATABASE_URL")
    done = subprocess.run([str(servers.BIN / "flask"), "--app", "app", "api", "create-token", "--name", "bad input",
                           "--locality", "2025-07/26506"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def _send(client: WebClient, method: str, url: str, body: str | None, headers: dict, json: bool = False):
    """(status, path of the page finally shown: a refusal may redirect to /login)."""
    data = body.encode() if body is not None else None
    request = urllib.request.Request(client.base + url, data=data, method=method, headers=dict(headers))
    if json:
        request.add_header("Content-Type", "application/json")
        request.add_header("X-CSRFToken", client.csrf)
    elif body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with client.opener.open(request, timeout=client.timeout) as answer:
            answer.read()
            return answer.status, urllib.parse.urlsplit(answer.geturl()).path
    except urllib.error.HTTPError as error:
        error.read()
        return error.code, urllib.parse.urlsplit(error.url).path


def _refused(status: int, shown: str) -> bool:
    """The person may not use this route at all: the access check answered before any value was read."""
    return status in (401, 403) or shown == "/login"


def _attack(base: str, actor: str, account, token: str, corpus) -> tuple[list[tuple], int]:
    """(5xx answers, requests left out). A route that refused this person its first bad query or form is not
    sent the rest of the values: the access decorators answer before the view reads one (the bad paths, which
    the URL converters read first, are always sent)."""
    client = WebClient(base)
    headers = {"Authorization": f"Bearer {token}"} if actor == "api" else {}
    if account:
        client.login(*account)
    client.get("/")
    failures, refused, left_out = [], set(), 0
    for kind, method, url, body in corpus:
        if url.split("?")[0] == "/logout" and account:
            continue  # logging out would end this person's run
        route = None if kind.startswith("path-") else (method, url.split("?")[0])
        if route in refused:
            left_out += 1
            continue
        json = kind.startswith("json-")
        if body is not None and not json:
            body = f"{body}&csrf_token={client.csrf}"
        status, shown = _send(client, method, url, body, headers, json=json)
        if status >= 500:
            failures.append((actor, status, kind, method, url[:160]))
        elif route and _refused(status, shown):
            refused.add(route)
    return failures, left_out


def test_no_bad_input_gets_a_5xx_on_any_route(server):
    from lms import create_app

    samples = _samples(server.database_url)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "CELERY_EAGER": True})
    corpus = requests_for(app, samples)
    token = _api_token(server)
    actors = [("anonymous", None), *ACCOUNTS.items(), ("api", None)]
    with ThreadPoolExecutor(len(actors)) as pool:
        runs = [pool.submit(_attack, server.base_url, actor, account, token, corpus) for actor, account in actors]
        results = [run.result() for run in runs]
    failures = [failure for found, _left_out in results for failure in found]
    print(f"{len(corpus)} requests per actor × {len(actors)} actors, {sum(n for _f, n in results)} left out on routes "
          f"refused to the actor; 5xx by kind: {Counter(f[2] for f in failures)}")
    assert failures == [], "\n".join(map(str, failures[:80])) + f"\n({len(failures)} in all)\n" + server.logs(80)


def test_a_hundred_simultaneous_verify_lookups_over_http_let_exactly_the_limit_through(server):
    """Finding 6 through the real server: after the corpus, the lookups are forgotten, then 100 clients ask at once."""
    import threading

    engine = create_engine(server.database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM verification_lookups"))
    engine.dispose()
    start = threading.Barrier(100)

    def lookup(_):
        client = WebClient(server.base_url)
        start.wait()
        return client.get("/verify/ABCD-EFGH-JKLM.json").status  # no such certificate: 400/404 when counted

    with ThreadPoolExecutor(100) as pool:
        answers = Counter(pool.map(lookup, range(100)))
    assert answers[429] == 40 and answers[400] + answers[404] == 60 and sum(answers.values()) == 100, answers
