"""gunicorn's gthread worker with a clock on its queue (lms.core.overload says why).

    gunicorn --worker-class lms.core.queue_timed_worker.QueueTimedWorker --threads 4 … app:app

A request is queued when its connection is handed to the thread pool (a new connection, or a
kept-alive one that became readable); it has waited until a thread picks it up. That wait is left
in `lms.core.overload.waited` for the app of the same thread.
"""

import time

from gunicorn.workers.gthread import ThreadWorker

from lms.core.overload import waited


class QueueTimedWorker(ThreadWorker):
    def enqueue_req(self, conn):
        conn.lms_queued_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn):
        queued_at = getattr(conn, "lms_queued_at", None)
        waited.ms = None if queued_at is None else (time.monotonic() - queued_at) * 1000
        try:
            return super().handle(conn)
        finally:
            waited.ms = None
