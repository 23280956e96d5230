"""Fault tests: they start private PostgreSQL, Redis and app processes (tests/services.py) and break them.

They do not depend on the suite's backend, so `make test` runs them once, in its PostgreSQL pass
(LMS_TEST_DATABASE_URL set); LMS_FAULT_TESTS=1 runs them in any pass. Without the PostgreSQL 15
binaries or redis-server they are skipped, except in CI, where that is a failure.

After every test the shared PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must still answer,
and be the same server processes as before the test (not restarted).
"""

import os
import uuid

import psycopg
import pytest
import redis

from tests.services import AppProcesses, PrivatePostgres, PrivateRedis, missing_tools

SHARED_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
SHARED_REDIS = "redis://127.0.0.1:6379"
PREPARED_DATABASE = "lms"


def _fault_tests_wanted() -> bool:
    return bool(os.environ.get("LMS_TEST_DATABASE_URL") or os.environ.get("LMS_FAULT_TESTS"))


@pytest.fixture(autouse=True)
def _fault_suite_gate():
    if not _fault_tests_wanted():
        pytest.skip("fault tests run in the PostgreSQL pass of `make test` (or with LMS_FAULT_TESTS=1)")
    if missing := missing_tools():
        if os.environ.get("CI"):
            pytest.fail(f"fault tests need {', '.join(missing)}")
        pytest.skip(f"fault tests need {', '.join(missing)}")


def shared_services_identity() -> dict:
    """Which server answers on the shared ports: PostgreSQL's start time, Redis's run id (None: no answer)."""
    identity = {"postgres": None, "redis": None}
    try:
        with psycopg.connect(SHARED_POSTGRES, connect_timeout=3) as connection:
            identity["postgres"] = connection.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
    except psycopg.Error:
        pass
    try:
        with redis.Redis.from_url(SHARED_REDIS, socket_connect_timeout=3, socket_timeout=3) as client:
            identity["redis"] = client.info("server")["run_id"]
    except redis.RedisError:
        pass
    return identity


@pytest.fixture(autouse=True)
def shared_services_untouched(_fault_suite_gate):
    before = shared_services_identity()
    yield before
    after = shared_services_identity()
    for name, identity in before.items():
        if identity is not None:
            assert after[name] is not None, f"the shared {name} stopped answering during this test"
            assert after[name] == identity, f"the shared {name} was restarted during this test"


_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def failed(request) -> bool:
    """Whether the test (or its set-up) failed, seen from a fixture's teardown."""
    reports = request.node.stash.get(_REPORTS, {})
    return any(report.failed for report in reports.values())


@pytest.fixture(scope="session")
def prepared_cluster(tmp_path_factory):
    """A stopped private cluster whose database `lms` went through the production set-up once per
    session (migrations, localities, courses, programs, demo accounts); tests start copies of it."""
    if not _fault_tests_wanted() or missing_tools():
        pytest.skip("fault tests are not run here")
    key = tmp_path_factory.mktemp("signing") / "signing_key.pem"
    with PrivatePostgres() as cluster:
        url = cluster.create_database(PREPARED_DATABASE)
        with AppProcesses(url, signing_key=key) as setup:
            setup.prepare()
        cluster.stop("fast")
        cluster.signing_key = key
        yield cluster


@pytest.fixture()
def lms_postgres(prepared_cluster):
    """A running private PostgreSQL of its own, with the prepared database `lms` (a copy, seconds to start)."""
    with PrivatePostgres(template=prepared_cluster) as cluster:
        yield cluster


@pytest.fixture()
def private_redis():
    with PrivateRedis() as server:
        yield server


@pytest.fixture()
def app_processes(request, lms_postgres, private_redis, prepared_cluster):
    """The app's processes against `lms_postgres` and `private_redis` (none started yet); their logs are
    printed when the test fails."""
    processes = AppProcesses(lms_postgres.url(PREPARED_DATABASE), private_redis.url(),
                             queue=f"faults-{uuid.uuid4().hex[:8]}", signing_key=prepared_cluster.signing_key)
    try:
        yield processes
    finally:
        if failed(request):
            print(f"\n==== logs of the app processes\n{processes.report()}")
        processes.cleanup()


_FIGURES = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def figure(request):
    """`figure(label, text)`: a measured figure (a recovery time), printed in the run's summary."""
    figures = request.config.stash.setdefault(_FIGURES, [])
    return lambda label, text: figures.append(f"{label}: {text}")


def pytest_terminal_summary(terminalreporter, config):
    if figures := config.stash.get(_FIGURES, []):
        terminalreporter.section("fault figures")
        for line in figures:
            terminalreporter.write_line(line)
