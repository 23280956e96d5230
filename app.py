"""Entry point: `flask --app app …`, `gunicorn app:app`, `celery -A app:celery worker`."""

from lms import create_app

app = create_app()
celery = app.extensions["celery"]
