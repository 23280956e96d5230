"""The fault harness itself (tests/services.py): private services keep their data across stops and
crashes, their processes end when asked and when a test fails, and the shared services are never hit
(checked after every test by the `shared_services_untouched` fixture of conftest.py)."""

import json
import os
import signal

import psycopg
import pytest
from celery import Celery

from tests.faults.conftest import PREPARED_DATABASE
from tests.processes import SHARED_PORTS, alive, wait_until
from tests.services import PrivatePostgres, PrivateRedis


def _rows(cluster, dbname="harness"):
    return cluster.execute("SELECT id, value FROM answers ORDER BY id", dbname=dbname)


def test_private_postgres_keeps_committed_data_through_stop_crash_and_kill():
    with PrivatePostgres() as pg:
        assert pg.port not in SHARED_PORTS
        url = pg.create_database("harness")
        assert url == f"postgresql://postgres@127.0.0.1:{pg.port}/harness"
        pg.execute("CREATE TABLE answers (id int PRIMARY KEY, value text)", dbname="harness")
        pg.execute("INSERT INTO answers VALUES (1, 'before the fast stop')", dbname="harness")

        first = pg.pid
        pg.stop("fast")
        assert not alive(first)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=2)
        pg.start()
        assert pg.pid != first and pg.url("harness") == url  # a new server on the same port
        assert _rows(pg) == [(1, "before the fast stop")]

        # A crash while a client holds an open transaction: the committed row survives, the open one does not.
        client = psycopg.connect(url)
        client.execute("INSERT INTO answers VALUES (2, 'committed before the crash')")
        client.commit()
        client.execute("INSERT INTO answers VALUES (3, 'never committed')")
        backends = pg.server.members()
        assert len(backends) >= 4  # postmaster, checkpointer, writers, this client's backend
        pg.stop("immediate")
        assert not any(alive(pid) for pid in backends)
        with pytest.raises(psycopg.OperationalError):
            client.execute("SELECT 1")
        client.close()
        log_before_restart = pg.server.log_size()
        pg.start()
        assert "not properly shut down; automatic recovery in progress" in pg.server.log_text()[log_before_restart:]
        assert _rows(pg) == [(1, "before the fast stop"), (2, "committed before the crash")]

        # SIGKILL of the postmaster and every backend at once.
        pg.execute("INSERT INTO answers VALUES (4, 'before the kill')", dbname="harness")
        pg.kill()
        pg.start()
        assert [row[0] for row in _rows(pg)] == [1, 2, 4]
        directory, pids = pg.directory, pg.pids_seen()
    assert not directory.exists()
    assert pids and not [pid for pid in pids if alive(pid)]


def test_a_failing_test_still_leaves_no_process_and_no_directory():
    with pytest.raises(RuntimeError, match="the test failed here"), PrivatePostgres() as pg, PrivateRedis() as broker:
        pg.execute("SELECT 1")
        pids = set(pg.server.members()) | set(broker.server.members())
        directories = [pg.directory, broker.directory]
        raise RuntimeError("the test failed here")
    assert len(pids) >= 5
    assert not [pid for pid in pids if alive(pid)]
    assert not [d for d in directories if d.exists()]


def test_private_redis_forgets_without_appendonly_and_keeps_with_it():
    with PrivateRedis() as volatile:
        assert volatile.port not in SHARED_PORTS
        volatile.client().set("answer", "42")
        volatile.stop()
        volatile.start()
        assert volatile.client().get("answer") is None

    with PrivateRedis(appendonly=True) as durable:
        durable.client().rpush("queue", "message 1", "message 2")
        first = durable.pid
        durable.kill()  # SIGKILL: nothing flushed at shutdown, only what the append-only file already holds
        assert not alive(first)
        durable.start()
        assert durable.client().lrange("queue", 0, -1) == [b"message 1", b"message 2"]
        pids = durable.pids_seen()
    assert not [pid for pid in pids if alive(pid)]


def test_copies_of_the_prepared_cluster_are_independent(prepared_cluster):
    with PrivatePostgres(template=prepared_cluster) as one, PrivatePostgres(template=prepared_cluster) as two:
        assert one.port != two.port
        count = "SELECT count(*) FROM users WHERE email LIKE '%%@demo.vn'"
        [(demo,)] = two.execute(count, dbname=PREPARED_DATABASE)
        assert demo >= 4  # the demo accounts of `make run`
        one.execute("DELETE FROM users WHERE email = 'hocvien@demo.vn'", dbname=PREPARED_DATABASE)
        assert one.execute(count, dbname=PREPARED_DATABASE) == [(demo - 1,)]
        assert two.execute(count, dbname=PREPARED_DATABASE) == [(demo,)]


def _relay_through_worker(processes, broker_url):
    """Send a task to the processes' queue as the app would; wait until their worker ran it."""
    since = processes["worker"].log_size()
    client = Celery(broker=broker_url)
    try:
        task_id = client.send_task("core.relay_outbox", queue=processes.queue).id
    finally:
        client.close()
    processes["worker"].wait_for_log(f"Task core.relay_outbox[{task_id}] succeeded", 30, since=since)


def test_app_processes_serve_the_prepared_site_and_come_back_after_kills(app_processes, lms_postgres, private_redis):
    app_processes.env["LMS_REPORT_REFRESH_SECONDS"] = "2"  # so that beat has something to send at once
    # Started together, so that their boots overlap; one gunicorn worker is enough to see it replaced.
    web = app_processes.start_web(workers=1, wait=False)
    worker = app_processes.start_worker(concurrency=1, wait=False)
    beat = app_processes.start_beat(wait=False)
    for name in ("web", "worker", "beat"):
        app_processes.wait_ready(name)

    status, body = app_processes.get("/healthz")
    health = json.loads(body)
    assert status == 200 and {k: health[k] for k in ("status", "database", "queue", "signing")} == {
        "status": "ok", "database": "ok", "queue": "ok", "signing": "ok"}
    status, body = app_processes.get("/courses")
    assert status == 200 and "Kỹ năng số cho công dân" in body.decode()
    emails = {row[0] for row in lms_postgres.execute("SELECT email FROM users", dbname=PREPARED_DATABASE)}
    assert {"hocvien@demo.vn", "giangvien@demo.vn", "quanly@demo.vn", "quantri@demo.vn"} <= emails
    _relay_through_worker(app_processes, private_redis.url())
    beat.wait_for_log("Sending due task refresh-report-summary", 30)
    worker.wait_for_log("Task reports.refresh_summary[", 30)

    # kill -9 of one gunicorn worker: the master forks another, the site keeps answering.
    before = app_processes.web_workers()
    victim = app_processes.kill_web_worker()
    def replaced():
        workers = app_processes.web_workers()
        return len(workers) == 1 and victim not in workers

    wait_until(replaced, 30, what="gunicorn to replace its killed worker")
    assert not alive(victim) and set(app_processes.web_workers()) != set(before)

    # kill -9 of the whole Celery worker (its pool too) and of gunicorn as a whole, then both again.
    pool = worker.members()
    assert len(pool) == 2  # the main process and its one pool child
    app_processes.kill("worker")
    assert not [pid for pid in pool if alive(pid)]
    web_pids = web.members()
    app_processes.kill("web")
    assert not [pid for pid in web_pids if alive(pid)] and app_processes.get("/healthz")[0] == 0
    app_processes.start("worker", wait=False)
    app_processes.start("web", wait=False)
    app_processes.wait_ready("worker")
    app_processes.wait_ready("web")
    assert app_processes.get("/healthz")[0] == 200
    _relay_through_worker(app_processes, private_redis.url())  # the new worker consumes the same queue
    running = web.members() + worker.members()  # the new gunicorn and Celery worker, with their children
    assert len(running) == 4 and not set(running) & set(web_pids + pool)

    # The worker ending on its own (a crash, not the harness) is started again, as its systemd unit does
    # (Restart=always); the new one consumes the same queue.
    crashed, since = worker.pid, worker.log_size()
    os.kill(crashed, signal.SIGKILL)
    restarted = worker.wait_for_log("(exit -9; as Restart=always)", 30, since=since)
    worker.wait_for_log(" ready.", 60, since=restarted)
    assert worker.restarts == 1 and worker.pid != crashed and not alive(crashed)
    _relay_through_worker(app_processes, private_redis.url())

    app_processes.terminate("beat")
    assert not beat.running and "beat: Starting..." in beat.log_text()

    directory = app_processes.directory
    app_processes.cleanup()
    pids = app_processes.pids_seen()
    assert set(running + web_pids + pool + [victim]) <= pids
    assert not [pid for pid in pids if alive(pid)]
    assert not directory.exists()

