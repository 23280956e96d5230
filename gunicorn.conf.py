"""Read by gunicorn when started from the project folder (`flask serve`, the README's production
command, the tests). Settings here apply to every way the site is served."""

# gunicorn 27's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl): a second
# server on the same machine (another instance, a test, a second "host") would take it over. Unused here.
control_socket_disable = True

# Access lines carry the request id the app answered with (X-Request-ID): grep one id across
# nginx, gunicorn, the app's log and the worker's (lms.core.observability).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms rid=%({x-request-id}o)s'


def child_exit(server, worker):
    """A dead worker's figures leave the multiprocess directory (prometheus_client's documented hook)."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Each worker listens for the database's changes from its start (lms.core.change_feed), not from its first
    page read below Flask: lms_change_feed_listening then counts the workers connected, and a worker that had
    served no lesson yet no longer counts as "not listening" (an operator could not tell it from a lost feed)."""
    from flask import Flask

    from lms.core import change_feed

    if isinstance(worker.wsgi, Flask):  # not the error page gunicorn serves when the app failed to load
        change_feed.kept_rows(worker.wsgi)
