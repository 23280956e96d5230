"""Classes: trainers create and run their classes (sessions, roster, attendance), learners see their attendance,
managers see classes in their area, nobody else gets in."""

import pytest
from sqlalchemy import select

from lms.catalog.models import CourseOwner
from lms.classes.models import Attendance, TrainingClass
from lms.enrollment.queries import find_enrollment
from lms.notifications.models import Notification
from tests.conftest import text_of


@pytest.fixture()
def setup(client, create_user, create_course, commune, db_session):
    with client.session_transaction() as session:
        session["lang"] = "en"
    course = create_course()
    course.status = "published"
    trainer = create_user("Trần Văn Minh", roles=("trainer",))
    course.owners.append(CourseOwner(user=trainer))  # only a course's owners and co-editors create its classes
    learner = create_user("Nguyễn Thị Lan", email="lan@example.vn")
    return course, trainer, learner


def _create_class(client, course):
    response = client.post("/classes/new", data={"course_id": course.id, "title": "Lớp kỹ năng số tháng 3",
                                                 "place": "Nhà văn hoá khu phố 1", "locality_code": "26506"})
    assert response.status_code == 302, text_of(response)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def test_trainer_runs_a_class_and_the_learner_sees_attendance(client, login, setup, db_session):
    course, trainer, learner = setup
    login(trainer)
    class_id = _create_class(client, course)
    response = client.post(f"/classes/{class_id}/sessions", data={"day": "31/02/2026", "time": "08:00", "hours": "2"})
    assert response.status_code == 400 and "dd/mm/yyyy" in text_of(response)
    client.post(f"/classes/{class_id}/sessions", data={"day": "05/03/2026", "time": "08:00", "hours": "2.5",
                                                      "topic": "Dịch vụ công trực tuyến"})
    training_class = db_session.get(TrainingClass, class_id)
    session = training_class.sessions[0]
    assert session.starts_at.isoformat() == "2026-03-05T01:00:00"  # 08:00 in Vietnam is 01:00 UTC
    response = client.post(f"/classes/{class_id}/members", data={"login": "nobody@example.vn"})
    assert response.status_code == 400 and "No learner within your area has this e-mail" in text_of(response)
    client.post(f"/classes/{class_id}/members", data={"login": "lan@example.vn"})
    assert [m.user_id for m in training_class.members] == [learner.id]
    assert find_enrollment(learner, course) is not None
    assert db_session.scalar(select(Notification).where(Notification.user_id == learner.id)).kind == "class"
    client.post(f"/classes/{class_id}/sessions/{session.id}/attendance", data={f"status-{learner.id}": "present"})
    client.post(f"/classes/{class_id}/sessions/{session.id}/attendance", data={f"status-{learner.id}": "excused"})
    records = db_session.scalars(select(Attendance).where(Attendance.session_id == session.id)).all()
    assert [(r.user_id, r.status, r.recorded_by_id) for r in records] == [(learner.id, "excused", trainer.id)]
    page = text_of(client.get(f"/classes/{class_id}"))
    assert "Nguyễn Thị Lan" in page and "05/03/2026" in page

    client.post("/logout")
    login(learner)
    page = text_of(client.get(f"/classes/{class_id}"))
    assert "My attendance" in page and "Excused" in page and "Take attendance" not in page
    assert "Lớp kỹ năng số tháng 3" in text_of(client.get("/classes/"))
    response = client.post(f"/classes/{class_id}/sessions/{session.id}/attendance", data={f"status-{learner.id}": "present"})
    assert response.status_code == 403 and records[0].status == "excused"


def test_other_trainers_and_strangers_cannot_manage_or_see(client, login, setup, create_user, db_session):
    course, trainer, learner = setup
    login(trainer)
    class_id = _create_class(client, course)
    client.post("/logout")
    login(create_user("Giảng viên khác", roles=("trainer",)))
    assert client.get(f"/classes/{class_id}").status_code == 403
    assert client.post(f"/classes/{class_id}/members", data={"login": "lan@example.vn"}).status_code == 403
    client.post("/logout")
    login(learner)
    assert client.get(f"/classes/{class_id}").status_code == 403
    assert client.get("/classes/new").status_code == 403


def test_managers_see_classes_in_their_area_only(client, login, setup, create_user, commune, db_session):
    course, trainer, learner = setup
    login(trainer)
    class_id = _create_class(client, course)
    client.post("/logout")
    inside = create_user("Quản lý Vũng Tàu", roles=("manager",), manager_of=commune("26506"))
    login(inside)
    assert "Lớp kỹ năng số tháng 3" in text_of(client.get("/classes/"))
    page = client.get(f"/classes/{class_id}")
    assert page.status_code == 200 and "Take attendance" not in text_of(page)
    response = client.post(f"/classes/{class_id}/sessions", data={"day": "05/03/2026", "time": "08:00", "hours": "2"})
    assert response.status_code == 403
    client.post("/logout")
    other_commune = db_session.scalar(select(type(commune())).where(
        type(commune()).scheme == "2025-07", type(commune()).level == "commune", type(commune()).code != "26506"))
    login(create_user("Quản lý nơi khác", roles=("manager",), manager_of=other_commune))
    assert client.get(f"/classes/{class_id}").status_code == 403
    assert "Lớp kỹ năng số tháng 3" not in text_of(client.get("/classes/"))
