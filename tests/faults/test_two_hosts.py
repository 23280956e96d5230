"""Two app hosts behind a real nginx (deploy/nginx/lms-proxy.conf), one killed mid-exam.

The hosts are two gunicorns with their own instance directories, sharing what a deployment shares:
the database (a private PostgreSQL behind PgBouncer in transaction mode), the broker (a private
Redis, one Celery worker on the first host), the secret key and signing key. The learners are the
exam bench's (bench/exam_learners.py: they keep every unconfirmed answer and retry like the quiz
page). Half-way, the second host is killed with SIGKILL; nginx sends what was in flight on it to the other host (answer saves are
versioned, so that is safe for them too) and stops sending it anything.
"""

import asyncio
import os
import re
import secrets
import time

import pytest

from bench.exam_check import check, report
from bench.exam_learners import Stats, exam
from tests.faults.conftest import PREPARED_DATABASE
from tests.processes import wait_until
from tests.proxy import NGINX, PGBOUNCER, PrivateNginx, PrivatePgBouncer
from tests.services import AppProcesses

LEARNERS, QUESTIONS = 30, 10


@pytest.fixture()
def two_hosts(lms_postgres, private_redis, prepared_cluster, tmp_path, monkeypatch):
    missing = [tool for tool in (NGINX, PGBOUNCER) if not os.path.exists(tool)]
    if missing:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"not installed (Debian packages): {missing}")
    pooler = PrivatePgBouncer(lms_postgres.port, PREPARED_DATABASE).start()
    shared = {"SECRET_KEY": secrets.token_urlsafe(48), "LMS_FILE_STORE": str(tmp_path / "files")}
    url = lms_postgres.url(PREPARED_DATABASE)
    hosts = [AppProcesses(pooler.url(), private_redis.url(), queue="two-hosts",
                          signing_key=prepared_cluster.signing_key, env={**shared, "LMS_PGBOUNCER": "1"})
             for _ in range(2)]
    for name, value in [("DATABASE_URL", url), *shared.items(), ("LMS_SIGNING_KEY", str(prepared_cluster.signing_key)),
                        ("LMS_INSTANCE_PATH", str(tmp_path / "instance"))]:
        monkeypatch.setenv(name, value)  # this process sets up and checks the database the hosts serve
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    try:
        yield hosts
    finally:
        for host in hosts:
            host.cleanup()
        pooler.cleanup()


def _acknowledged(stats) -> int:
    return sum(len(record.acked) for record in stats.records)


async def _exam_killing_the_second_host(port, hosts, quiz_id, keys, cookies, stats, killed):
    async def kill_half_way():
        while _acknowledged(stats) < LEARNERS * QUESTIONS // 3:
            await asyncio.sleep(0.05)
        killed["at"] = time.monotonic()
        killed["acknowledged"] = _acknowledged(stats)
        await asyncio.to_thread(hosts[1].kill, "web")

    killer = asyncio.create_task(kill_half_way())
    await exam(port, quiz_id, keys, cookies, stats, spread=3, think=0.6, patience=60, revise=0.2)
    await killer


def test_an_exam_through_nginx_loses_nothing_when_one_of_two_hosts_dies(two_hosts):
    from bench.quiz_exam import setup

    app, quiz_id, keys, cookies = setup(LEARNERS)  # wipes the private database: the bench's own exam
    first, second = two_hosts
    for host in two_hosts:
        host.start_web(workers=2, access_log=False, wait=False)
    first.start_worker(concurrency=1, wait=False)
    for host, name in ((first, "web"), (second, "web"), (first, "worker")):
        host.wait_ready(name)
    with PrivateNginx([first.port, second.port]) as nginx:
        stats, killed = Stats(), {}
        asyncio.run(_exam_killing_the_second_host(nginx.port, two_hosts, quiz_id, keys, cookies, stats, killed))
        elapsed = time.monotonic() - stats.began
        log = nginx.access_log()

    findings = check(app, quiz_id, keys, stats.records)
    summary = "\n".join(report(findings)) + f"\nerrors: {dict(stats.errors)}\n" + f"killed: {killed}"
    print(f"\ntwo hosts behind nginx, the second killed after {killed.get('acknowledged')} confirmed answers: "
          f"{LEARNERS} learners in {elapsed:.1f} s\n{summary}")
    assert killed, "the second host was never killed: the exam ended first"
    served = {port: len(re.findall(rf"up=127\.0\.0\.1:{port}\b", log)) for port in (first.port, second.port)}
    assert served[first.port] and served[second.port], f"nginx did not use both hosts: {served}"
    assert findings.confirmed_answers >= LEARNERS * QUESTIONS, summary
    assert not findings.missing, summary
    assert not findings.stuck and not sum(findings.unfinished.values()), summary
    assert all(record.submitted for record in stats.records), summary
    # Errors only for requests in flight on the dead host that nginx could not send on (at most one per learner).
    assert sum(stats.errors.values()) <= LEARNERS, summary
    assert not second.services["web"].running
    wait_until(lambda: first.get("/healthz")[0] == 200, 10, what="the surviving host to stay healthy")
