"""Issue 12 follow-up: failed log-in rows do not pile up — a scheduled task (Celery beat and the
embedded runner read the same schedule) deletes those past LMS_LOGIN_FAILURE_KEEP_HOURS."""

import datetime as dt

from sqlalchemy import select

from lms.accounts.models import LoginFailure
from lms.core.db import utcnow
from lms.core.runner import Runner


def test_the_hourly_task_drops_old_failures_and_keeps_recent_ones(app, db_session):
    db_session.add_all([LoginFailure(login="old@example.vn", ip="10.0.0.1", at=utcnow() - dt.timedelta(hours=30)),
                        LoginFailure(login="new@example.vn", ip="10.0.0.1", at=utcnow() - dt.timedelta(minutes=3))])
    db_session.commit()
    result = app.extensions["celery"].tasks["accounts.prune_login_failures"].apply()
    assert result.get() >= 1
    logins = set(db_session.scalars(select(LoginFailure.login)))
    assert "old@example.vn" not in logins and "new@example.vn" in logins


def test_both_schedulers_run_it(app):
    entry = app.config["CELERY"]["beat_schedule"]["prune-login-failures"]
    assert entry["task"] == "accounts.prune_login_failures"
    assert Runner(app).schedule["prune-login-failures"][0] == "accounts.prune_login_failures"
