"""The beat jobs of assigned training through a real Celery worker on Redis (second pass of `make test`).

The beat schedule names the tasks; here they are sent by name exactly as beat sends them, and a
worker (started here, with an SMTP server of its own) runs them against PostgreSQL: the rule
reaches a person added behind its back (nightly `apply_all`), the deadline reminder is made and
e-mailed once, a second reminder run the same day sends nothing, and the manager gets one weekly
digest. These tests commit, so they clean up.
"""

import os
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from lms import create_app
from lms.extensions import db
from tests.conftest import _database_url
from tests.imports.test_worker import REDIS_URL, _wait, setup, smtp  # noqa: F401 - fixtures

pytestmark = pytest.mark.skipif(
    not (os.environ.get("LMS_TEST_DATABASE_URL") and REDIS_URL),
    reason="needs PostgreSQL and Redis (the second pass of `make test` provides both)",
)


def test_beat_jobs_apply_rules_remind_once_and_send_the_digest(setup, smtp):  # noqa: F811 - fixtures
    from lms.accounts.models import RoleGrant, User
    from lms.accounts.operations import create_user, grant_role
    from lms.assignments import operations
    from lms.assignments.models import AssignmentRule
    from lms.catalog.models import Course
    from lms.core.dates import local_today
    from lms.core.models import OutboxMessage
    from lms.enrollment.models import Enrollment
    from lms.localities.models import Locality
    from lms.notifications.models import Notification

    queue, files = setup
    tag = uuid.uuid4().hex[:6]
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _database_url(), "SECRET_KEY": "x",
                      "CELERY_EAGER": False, "CELERY_BROKER_URL": REDIS_URL, "CELERY_QUEUE": queue,
                      "LMS_FILE_STORE": files})
    schedule = {entry["task"] for entry in app.config["CELERY"]["beat_schedule"].values()}
    assert {"assignments.apply_all", "assignments.reminders", "assignments.digest"} <= schedule
    celery = app.extensions["celery"]
    with app.app_context():
        emails = [f"{who}-{tag}@example.vn" for who in ("hoc", "tre", "quanly")]
        try:
            here = db.session.scalar(select(Locality).where(Locality.code == "26506"))
            learner = create_user("Trần Thị Học", "mat-khau-123", email=emails[0], audience="official", locality=here)
            late = create_user("Lê Văn Trễ", "mat-khau-123", email=emails[1], audience="citizen", locality=here)
            manager = create_user("Quản Lý Xã", "mat-khau-123", email=emails[2], locality=here)
            grant_role(manager, "manager", locality=here)
            course = Course(slug=f"an-toan-{tag}", code=f"AT-{tag}", title="An toàn thông tin",
                            title_folded="an toan thong tin", status="published")
            db.session.add(course)
            db.session.flush()
            # Saved without applying: the nightly job must find the learner itself.
            rule = operations.save_rule(actor=None, deadline=local_today() + timedelta(days=3), course=course,
                                        audience="official", locality=here)
            db.session.add(Enrollment(user_id=late.id, course_id=course.id, source="assigned",
                                      deadline=local_today() - timedelta(days=2)))
            db.session.commit()
            course_id, rule_id, learner_id = course.id, rule.id, learner.id

            def enrollment():
                return db.session.scalar(select(Enrollment).where(Enrollment.user_id == learner_id,
                                                                  Enrollment.course_id == course_id))

            celery.tasks["assignments.apply_all"].apply_async()
            assert _wait(lambda: enrollment() is not None)
            assert enrollment().deadline == local_today() + timedelta(days=3) and enrollment().rule_id == rule_id

            handler = smtp[1]
            # Beat fires twice the same day (or a message is delivered again): one notice, one e-mail each.
            celery.tasks["assignments.reminders"].apply_async()
            celery.tasks["assignments.reminders"].apply_async()
            celery.tasks["assignments.digest"].apply_async()
            assert _wait(lambda: any(emails[2] in m for m in handler.messages)), "no digest e-mail"
            assert _wait(lambda: all(any(e in m for m in handler.messages) for e in emails[:2]))
            keys = sorted(db.session.scalars(select(Notification.dedupe_key).where(
                Notification.user_id.in_(select(User.id).where(User.email.in_(emails))))))
            assert [k.split(":")[0] for k in keys] == ["deadline", "deadline", "digest"]
            assert sorted(k.rsplit(":", 1)[1] for k in keys if k.startswith("deadline")) == ["7d", "overdue"]
            celery.tasks["assignments.digest"].apply_async()
            celery.tasks["assignments.reminders"].apply_async()
            time.sleep(2)
            assert [sum(e in m for m in handler.messages) for e in emails] == [1, 1, 1]
            digest = next(m for m in handler.messages if emails[2] in m)
            assert "1" in digest
        finally:
            db.session.rollback()
            people = select(User.id).where(User.email.in_(emails))
            db.session.execute(delete(Notification).where(Notification.user_id.in_(people)))
            db.session.execute(delete(Enrollment).where(Enrollment.user_id.in_(people)))
            db.session.execute(delete(AssignmentRule).where(AssignmentRule.course_id.in_(
                select(Course.id).where(Course.slug == f"an-toan-{tag}"))))
            db.session.execute(delete(Course).where(Course.slug == f"an-toan-{tag}"))
            db.session.execute(delete(RoleGrant).where(RoleGrant.user_id.in_(people)))
            db.session.execute(delete(User).where(User.email.in_(emails)))
            db.session.execute(delete(OutboxMessage))
            db.session.commit()
