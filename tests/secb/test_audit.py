"""Issue 12, finding 9: every privileged action writes an audit event (who, what, before/after, IP,
when, from where) — walked through the real routes as an administrator — and the log can be read:
an admin page with filters, a CSV, and a retention purge."""

import datetime as dt
import io

import pytest
from sqlalchemy import select

from lms.core.db import utcnow
from lms.core.models import AuditEvent
from tests.conftest import text_of


@pytest.fixture()
def admin(create_user, login, client):
    with client.session_transaction() as session:
        session["lang"] = "en"
    user = create_user("Quản Trị Viên", roles=("admin", "trainer"), audience="official",
                       email="quantri@example.vn")
    login(user)
    return user


def _events(db_session, action):
    return db_session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _one(db_session, action, actor):
    events = _events(db_session, action)
    assert events, f"no {action} event"
    event = events[-1]
    assert event.actor_id == actor.id and event.ip == "127.0.0.1" and event.via == "web"
    assert abs((utcnow() - event.at).total_seconds()) < 120
    return event


def test_each_privileged_route_writes_its_event(client, db_session, admin, create_course, create_user):
    from lms.classes.models import ClassSession, TrainingClass
    from lms.quizzes.models import Quiz

    course = create_course()
    slug = course.slug
    learner = create_user("Học Viên Một", email="hv1@example.vn")
    db_session.commit()

    def post(url, data=None, **kwargs):
        response = client.post(url, data=data or {}, **kwargs)
        assert response.status_code < 400, (url, response.status_code, text_of(response)[:300])
        return response

    # publishing
    post(f"/author/courses/{slug}/status", {"status": "draft"})
    event = _one(db_session, "course.status", admin)
    assert (event.before, event.after, event.object_id) == ({"status": "published"}, {"status": "draft"}, str(course.id))
    post(f"/author/courses/{slug}/status", {"status": "published"})
    # assignment rules
    post("/admin/assignments/new", {"target": f"course:{course.id}", "deadline": "31/12/2026", "audience": "official"})
    rule_event = _one(db_session, "assignment_rule.create", admin)
    assert rule_event.after["deadline"] == "2026-12-31" and rule_event.after["audience"] == "official"
    post(f"/admin/assignments/{rule_event.object_id}/deactivate")
    assert _one(db_session, "assignment_rule.deactivate", admin).after == {"active": False}
    # prerequisites
    post(f"/admin/programs/courses/{slug}/prerequisites", {"requires": ""})
    assert _one(db_session, "prerequisites.set", admin).after == {"courses": [], "programs": []}
    # imports (people and agencies)
    post("/admin/imports/", {"file": (io.BytesIO("Họ và tên,Email\nA,a@x.vn\n".encode()), "p.csv"),
                             "default_audience": "citizen"}, content_type="multipart/form-data")
    job = _one(db_session, "import.people.upload", admin)
    post(f"/admin/imports/{job.object_id}/preview", {"map_full_name": "Họ và tên", "map_email": "Email", "run": "1"})
    _one(db_session, "import.people.run", admin)
    post("/admin/agencies/import", {"file": (io.BytesIO(b"code,name\nSOX,S\xe1\xbb\x9f X\n"), "a.csv")},
         content_type="multipart/form-data")
    _one(db_session, "import.agencies.upload", admin)
    assert _events(db_session, "agency.import")[-1].summary["created"] == 1  # in the worker, for the uploader
    # classes: create, a session, the roster, attendance
    post("/classes/new", {"course_id": str(course.id), "title": "Lớp Vũng Tàu"})
    training_class = db_session.scalar(select(TrainingClass))
    _one(db_session, "class.create", admin)
    post(f"/classes/{training_class.id}/sessions", {"day": "05/03/2026", "time": "08:00", "hours": "2"})
    _one(db_session, "class.session_add", admin)
    post(f"/classes/{training_class.id}/members", {"login": "hv1@example.vn"})
    _one(db_session, "class.add_member", admin)
    session = db_session.scalar(select(ClassSession))
    post(f"/classes/{training_class.id}/sessions/{session.id}/attendance", {f"status-{learner.id}": "present"})
    assert _one(db_session, "class.attendance", admin).after == {str(learner.id): "present"}
    post(f"/classes/{training_class.id}/members/remove", {"user_id": str(learner.id)})
    _one(db_session, "class.remove_member", admin)
    # grading: a regrade of the quiz
    quiz_id = db_session.scalar(select(Quiz.id).where(Quiz.course_id == course.id))
    post(f"/quizzes/{quiz_id}/regrade")
    _one(db_session, "quiz.regrade", admin)
    # background work
    post("/admin/background/repair")
    _one(db_session, "background.repair", admin)
    # an admin's set-password link for someone
    learner.password_hash = "!"  # an imported account that has not set its password yet
    db_session.commit()
    client.get(f"/admin/users/{learner.id}?link=1")
    assert _one(db_session, "user.set_password_link", admin).object_id == str(learner.id)


def test_a_role_granted_on_the_command_line_is_recorded_as_such(app, db_session, create_user):
    user = create_user("Người Được Cấp Quyền", email="capquyen@example.vn")
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["users", "grant", "capquyen@example.vn", "trainer"])
    assert result.exit_code == 0, result.output
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "role.grant",
                                                        AuditEvent.object_id == str(user.id))).all()[-1]
    assert event.via == "cli" and event.summary["role"] == "trainer" and event.ip is None


def test_the_admin_reads_filters_and_downloads_the_log(client, db_session, admin, create_user):
    from lms.core import audit

    target = create_user("Người Bị Sửa", email="bisua@example.vn")
    audit.record(admin, "user.agency", target, before={"agency_id": None}, after={"agency_id": 7})
    audit.record(admin, "course.status", target, before={"status": "draft"}, after={"status": "=HYPERLINK(1)"})
    db_session.commit()
    page = text_of(client.get("/admin/audit/", query_string={"action": "user."}))
    assert "user.agency" in page and "course.status" not in page and "Quản Trị Viên" in page
    assert '"agency_id": 7' in page
    assert "user.agency" not in text_of(client.get("/admin/audit/", query_string={"actor": "khong co ai"}))
    assert "user.agency" in text_of(client.get("/admin/audit/", query_string={"actor": "quan tri"}))
    download = client.get("/admin/audit/audit.csv", query_string={"action": "course."})
    body = download.get_data().decode("utf-8-sig")
    assert download.mimetype == "text/csv" and "course.status" in body and "user.agency" not in body
    assert '{""status"": ""=HYPERLINK(1)""}' in body  # JSON text, never a cell starting with "="
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in body.splitlines() for cell in line.split(","))
    assert _events(db_session, "audit.export")  # reading the log out is itself recorded
    assert client.get("/admin/audit/", query_string={"page": "99999999999999999999", "since": "x"}).status_code == 200


def test_learners_and_trainers_cannot_read_the_log(client, create_user, login):
    login(create_user("Giảng Viên", roles=("trainer",)))
    assert client.get("/admin/audit/").status_code == 403
    assert client.get("/admin/audit/audit.csv").status_code == 403


def test_the_daily_purge_drops_events_past_the_retention(app, db_session, monkeypatch):
    from lms.audit.operations import purge

    old = AuditEvent(action="old.thing", object_type="X", summary={}, at=utcnow() - dt.timedelta(days=40))
    new = AuditEvent(action="new.thing", object_type="X", summary={}, at=utcnow() - dt.timedelta(days=2))
    db_session.add_all([old, new])
    db_session.commit()
    monkeypatch.setitem(app.config, "LMS_AUDIT_RETENTION_DAYS", 30)
    # The task's body (lms.audit.tasks.purge_old_events) in this test's session and app.
    assert purge() >= 1
    db_session.commit()
    assert _events(db_session, "old.thing") == [] and len(_events(db_session, "new.thing")) == 1
    assert app.config["CELERY"]["beat_schedule"]["audit-purge"]["task"] == "audit.purge"
    assert "audit.purge" in app.extensions["celery"].tasks
