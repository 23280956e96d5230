"""Two app hosts behind nginx, one killed a third of the way through an exam (issue 17 item 3, at bench size).

    .venv/bin/python bench/two_hosts.py [--learners 300] [--spread 20] [--think 2] [--web-workers 2]

The deployment of deploy/ in miniature, every part private and on 127.0.0.1 (tests/two_hosts.py, the
harness of tests/faults/test_two_hosts.py): PostgreSQL behind PgBouncer in transaction mode, Redis and a
Celery worker, a SeaweedFS bucket as the file store, two gunicorns with their own instance directories,
nginx with deploy/nginx/lms-proxy.conf in front. The learners are the exam bench's (they keep every
unconfirmed answer and retry like the quiz page). Once a third of the answers are confirmed the second host
is killed with SIGKILL. Prints per-request latency, errors, what nginx sent to each host, and the database
held to every confirmed answer. Exit status 1 when an answer the server confirmed is missing, an attempt is
unfinished or stuck, or there are more errors than learners (one in-flight request each on the dead host).
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.exam_check import check, report  # noqa: E402
from bench.quiz_exam import latency_line, setup  # noqa: E402
from tests.services import PrivatePostgres, PrivateRedis  # noqa: E402
from tests.services import missing_tools as missing_services  # noqa: E402
from tests.two_hosts import exam_killing_the_second_host, two_hosts  # noqa: E402
from tests.two_hosts import missing_tools as missing_proxy_tools  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--spread", type=float, default=20.0, help="seconds over which the learners start")
    parser.add_argument("--think", type=float, default=2.0, help="max seconds between two answers")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn sync workers per host")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if missing := missing_services() + missing_proxy_tools():
        print(f"two-host bench skipped: missing {', '.join(missing)}")
        return 0
    key_dir = Path(tempfile.mkdtemp(prefix="lms-two-hosts-key-"))
    try:
        with PrivatePostgres() as cluster, PrivateRedis() as broker:
            cluster.create_database("lms")
            with two_hosts(cluster, "lms", broker.url(), key_dir / "signing_key.pem") as (hosts, settings):
                os.environ.update(settings, LMS_INSTANCE_PATH=str(key_dir / "instance"))
                os.environ.pop("CELERY_BROKER_URL", None)
                from lms.certificates.signing import generate_key

                generate_key(key_dir / "signing_key.pem")
                app, quiz_id, keys, cookies = setup(args.learners)  # the exam bench's quiz and learners
                began = time.process_time()
                run = exam_killing_the_second_host(hosts, quiz_id, keys, cookies, web_workers=args.web_workers,
                                                   spread=args.spread, think=args.think, patience=120)
                return print_run(args, run, check(app, quiz_id, keys, run.stats.records), hosts,
                                 time.process_time() - began)
    finally:
        shutil.rmtree(key_dir, ignore_errors=True)


def print_run(args, run, findings, hosts, generator_cpu: float) -> int:
    stats = run.stats
    print(f"two hosts × {args.web_workers} gunicorn sync workers behind nginx, PgBouncer (transaction mode), "
          f"Redis + 1 Celery worker, SeaweedFS; {args.learners} learners starting over {args.spread:.0f} s, "
          f"think ≤ {args.think} s; wall time {run.elapsed:.1f} s, load generator CPU {generator_cpu:.1f} s, "
          f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"the second host killed (SIGKILL) at {run.killed.get('at')} s, after "
          f"{run.killed.get('acknowledged')} confirmed answers")
    print("nginx sent: " + ", ".join(f"{name} host {count}" for name, count
                                     in zip(("first", "second"), run.served.values(), strict=True)))
    print("requests (each HTTP request that got a response):")
    for kind, values in stats.times.items():
        print(latency_line(kind, values))
    print("until confirmed (retries included):")
    for kind, values in stats.confirmed.items():
        print(latency_line(kind, values))
    print(f"errors: {sum(stats.errors.values())} (budget: at most one in-flight request per learner, {args.learners})")
    for (kind, what), count in stats.errors.most_common():
        print(f"  {kind:9} {what:45} {count:6d}   e.g. {stats.samples[(kind, what)][:110]}")
    for line in report(findings):
        print(line)
    broken = findings.missing or findings.stuck or sum(findings.unfinished.values()) or not run.killed
    return 1 if broken or sum(stats.errors.values()) > args.learners else 0


if __name__ == "__main__":
    sys.exit(main())
