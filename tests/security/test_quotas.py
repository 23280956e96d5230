"""Finding 6: quotas — the /verify limit holds under real concurrency, a manager's export jobs are
bounded, and behind a trusted reverse proxy each client has its own address."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func, select

from lms.certificates import operations as certificate_ops
from lms.certificates.models import VerificationLookup
from lms.extensions import db
from lms.reports.models import ReportExport
from tests.conftest import text_of

CROWD = 100


def test_a_hundred_simultaneous_lookups_let_exactly_the_limit_through(app):
    """Each lookup in its own thread, session and database connection, all released at once."""
    ip = "198.51.100.250"
    limit = app.config["LMS_VERIFY_RATE_LIMIT"]
    start = threading.Barrier(CROWD)

    def lookup(_):
        with app.app_context():
            start.wait()
            try:
                allowed = certificate_ops.allow_lookup(ip)
                db.session.commit()
                return allowed
            finally:
                db.session.remove()

    try:
        with ThreadPoolExecutor(CROWD) as pool:
            answers = list(pool.map(lookup, range(CROWD)))
        with app.app_context():
            stored = db.session.scalar(select(func.count(VerificationLookup.id)).where(VerificationLookup.ip == ip))
        assert (answers.count(True), stored) == (limit, limit)
    finally:
        with app.app_context():
            db.session.execute(delete(VerificationLookup).where(VerificationLookup.ip == ip))
            db.session.commit()
            db.session.remove()


@pytest.fixture()
def manager_in_english(client, create_user, commune, login):
    user = create_user("Lê Hoàng Phúc", audience="official", roles=("manager",), manager_of=commune("26506"))
    login(user)
    client.post("/language", data={"lang": "en"})
    return user


def test_a_manager_cannot_queue_export_jobs_without_end(app, client, db_session, manager_in_english, commune):
    unit = commune("26506").id
    app.config["CELERY_EAGER"] = True
    quota = app.config["LMS_EXPORT_JOBS_PER_USER"]
    # Jobs still waiting (as when the workers are busy) count against the quota.
    for _ in range(quota):
        db_session.add(ReportExport(user_id=manager_in_english.id, locality_id=unit, kind="learners", format="csv",
                                    params={}, status="queued"))
    db_session.commit()
    refused = client.post(f"/reports/localities/{unit}/learners.xlsx")
    assert refused.status_code == 429
    assert "export jobs" in text_of(refused)
    assert db_session.scalar(select(func.count(ReportExport.id))) == quota
    for job in db_session.scalars(select(ReportExport)):
        job.status = "done"
    db_session.commit()
    assert client.post(f"/reports/localities/{unit}/learners.xlsx").status_code == 302


def test_behind_a_trusted_proxy_each_client_has_its_own_address(db_session):
    import os

    from lms import create_app
    from tests.conftest import _TMP, _database_url

    def app_with(proxies):
        return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _database_url(), "SECRET_KEY": "k",
                           "CELERY_EAGER": True, "LMS_FILE_STORE": os.path.join(_TMP, "files"),
                           "LMS_TRUSTED_PROXIES": proxies, "SERVER_NAME": "lms.test"})

    seen = {}
    for proxies in (0, 1):
        app = app_with(proxies)

        @app.get("/_address")
        def address():
            from flask import request

            return request.remote_addr

        answer = app.test_client().get("/_address", headers={"X-Forwarded-For": "203.0.113.9"},
                                       environ_base={"REMOTE_ADDR": "127.0.0.1"})
        seen[proxies] = answer.get_data(as_text=True)
    assert seen == {0: "127.0.0.1", 1: "203.0.113.9"}
