"""Celery bound to the Flask app, after Flask's own Celery example.

Every task runs inside an app context; messages carry ids (JSON), never objects.
"""

from celery import Celery, Task
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                result = self.run(*args, **kwargs)
                # Work the task queued through the outbox (e.g. an e-mail for a notification it made)
                # goes out now rather than with the next relay run.
                from lms.core.outbox import dispatch_ready

                try:
                    dispatch_ready()
                except Exception:  # noqa: BLE001 - the relay sends it later
                    app.logger.exception("outbox dispatch after task failed")
                return result

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.task_serializer = "json"
    celery_app.conf.accept_content = ["json"]
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
