"""kill -9 of the whole Celery worker (main process and pool) in the middle of background work, then a
new worker: every piece of work finishes exactly once, nothing stays "running" (issue 11, fault 3).

Production set-up on private services: gunicorn is not needed (the work is made by the app's own
operations in a separate process), a Celery worker with a pool of 2 and beat (the reconciler) on a
private Redis and a private PostgreSQL. The bounds are shortened through the app's settings
(tests/faults/work.FAST_RECOVERY) so that recovery is measured in seconds.
"""

import time

from tests.faults.work import (
    FAST_RECOVERY,
    RECOVERY_BOUND,
    all_certified,
    assert_certified_once,
    certificates_of,
    complete_courses,
    open_messages,
    value,
    wait_recovered,
)
from tests.processes import wait_until

LEARNERS = 30


def _start_background(processes):
    processes.env.update(FAST_RECOVERY)
    processes.start_worker(concurrency=2, wait=False)
    processes.start_beat(wait=False)
    processes.wait_ready("worker")
    processes.wait_ready("beat")


def _running(pg, task: str) -> int:
    return value(pg, "SELECT count(*) FROM outbox_messages WHERE task = %s AND state = 'running'", (task,))


def test_worker_killed_during_certificate_issuance(app_processes, lms_postgres, figure):
    pg, processes = lms_postgres, app_processes
    _start_background(processes)
    learners = complete_courses(processes, LEARNERS, "cert-kill")

    # Killed as soon as the first certificates exist: the others are in the pool, reserved, or queued.
    wait_until(lambda: len(certificates_of(pg, learners)) >= 2, 60, what="the first certificates")
    processes.kill("worker")
    killed = time.monotonic()
    issued = certificates_of(pg, learners)
    assert len(issued) < LEARNERS, "every certificate was issued before the kill: nothing was interrupted"
    assert _running(pg, "certificates.issue") >= 1, open_messages(pg)

    processes.start("worker")
    recovery = wait_recovered(lambda: all_certified(pg, processes, learners) and not open_messages(pg), killed,
                              "every completion certified with its PDF and nothing open in the outbox")
    assert_certified_once(pg, processes, learners)
    assert open_messages(pg) == {}
    figure(f"worker kill -9 during {LEARNERS} certificates ({len(issued)} issued at the kill)",
           f"all certified with PDF {recovery:.1f} s after the kill (bound {RECOVERY_BOUND:.0f} s)")
