"""Two app hosts behind a real nginx, as deploy/ runs them: the harness of the two-host fault test
(tests/faults/test_two_hosts.py) and of its benchmark (bench/two_hosts.py).

The hosts are two gunicorns with their own instance directories, sharing what a deployment shares:
the database (through PgBouncer in transaction mode), the broker (a Celery worker on the first host),
the file store (a bucket of a private SeaweedFS), the secret key and the signing key; each host's change feed
(lms.core.change_feed) listens on PostgreSQL directly, as deploy/ sets it up. The learners are
the exam bench's (bench/exam_learners.py: they keep every unconfirmed answer and retry like the quiz page).
Once a third of the answers are confirmed, the second host is killed with SIGKILL; nginx sends what was in
flight on it to the other host (answer saves are versioned, so that is safe for them too).
"""

import asyncio
import contextlib
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.exam_learners import Stats, exam
from tests.object_store import WEED, PrivateSeaweedFS
from tests.proxy import NGINX, PGBOUNCER, PrivateNginx, PrivatePgBouncer
from tests.services import AppProcesses

TOOLS = (NGINX, PGBOUNCER, WEED)


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if not os.path.exists(tool)]


@contextlib.contextmanager
def two_hosts(postgres, database: str, broker_url: str, signing_key: Path):
    """Two AppProcesses (nothing started yet) behind PgBouncer → `postgres`'s `database`, sharing a
    SeaweedFS bucket; yields (hosts, the settings this process needs to set up and check that database)."""
    with contextlib.ExitStack() as stack:
        pooler = PrivatePgBouncer(postgres.port, database).start()
        stack.callback(pooler.cleanup)
        objects = PrivateSeaweedFS().start()
        stack.callback(objects.cleanup)
        shared = {"SECRET_KEY": secrets.token_urlsafe(48), "LMS_FILE_STORE": f"s3://{objects.bucket()}/lms",
                  "LMS_S3_ENDPOINT_URL": objects.endpoint, "AWS_ACCESS_KEY_ID": "test",
                  "AWS_SECRET_ACCESS_KEY": "test"}
        hosts = []
        for _ in range(2):
            host = AppProcesses(pooler.url(), broker_url, queue="two-hosts", signing_key=signing_key,
                                env={**shared, "LMS_PGBOUNCER": "1",
                                     # the change feed LISTENs on PostgreSQL itself (LISTEN needs a session)
                                     "LMS_CHANGE_FEED_URL": postgres.url(database)})
            stack.callback(host.cleanup)
            hosts.append(host)
        yield hosts, {"DATABASE_URL": postgres.url(database), **shared, "LMS_SIGNING_KEY": str(signing_key)}


@dataclass
class Run:
    stats: Stats
    killed: dict = field(default_factory=dict)  # when the second host died, after how many confirmed answers
    elapsed: float = 0.0
    served: dict = field(default_factory=dict)  # app port → requests nginx sent to it


def _acknowledged(stats) -> int:
    return sum(len(record.acked) for record in stats.records)


def exam_killing_the_second_host(hosts, quiz_id, keys, cookies, *, web_workers: int = 2, spread: float = 3,
                                 think: float = 0.6, patience: float = 60, revise: float = 0.2) -> Run:
    """Start both hosts' gunicorns and the first host's worker, run the exam through nginx, and kill the
    second host once a third of the learners' answers are confirmed."""
    first, second = hosts
    for host in hosts:
        host.start_web(workers=web_workers, access_log=False, wait=False)
    first.start_worker(concurrency=1, wait=False)
    for host, name in ((first, "web"), (second, "web"), (first, "worker")):
        host.wait_ready(name)
    run = Run(Stats())
    answers = len(cookies) * len(keys)

    async def kill_a_third_of_the_way():
        while _acknowledged(run.stats) < answers // 3:
            await asyncio.sleep(0.05)
        run.killed.update(at=round(time.monotonic() - run.stats.began, 1), acknowledged=_acknowledged(run.stats))
        await asyncio.to_thread(second.kill, "web")

    async def both(port):
        killer = asyncio.create_task(kill_a_third_of_the_way())
        await exam(port, quiz_id, keys, cookies, run.stats, spread=spread, think=think, patience=patience,
                   revise=revise)
        await killer

    with PrivateNginx([first.port, second.port]) as nginx:
        asyncio.run(both(nginx.port))
        run.elapsed = time.monotonic() - run.stats.began
        log = nginx.access_log()
    run.served = {port: len(re.findall(rf"up=127\.0\.0\.1:{port}\b", log)) for port in (first.port, second.port)}
    return run
