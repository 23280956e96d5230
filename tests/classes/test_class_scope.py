"""Issue 12, finding 7 (classes): only a course's owners and co-editors create classes for it; the
roster takes only learners within the trainer's reach (the class's commune, or a manager's scope);
an account out of reach is answered as if it did not exist — no name, no enrolment, no notification."""

import pytest
from sqlalchemy import select

from lms.catalog.models import CourseOwner
from lms.classes.models import ClassMember
from lms.enrollment.operations import find_enrollment
from lms.notifications.models import Notification
from tests.conftest import text_of


@pytest.fixture()
def world(client, create_user, create_course, commune, db_session):
    with client.session_transaction() as session:
        session["lang"] = "en"
    course = create_course()
    course.status = "published"
    owner = create_user("Trần Văn Chủ", roles=("trainer",))
    course.owners.append(CourseOwner(user=owner))
    outsider_trainer = create_user("Lê Thị Khác", roles=("trainer",), email="khac@example.vn")
    neighbour = create_user("Nguyễn Thị Gần", email="gan@example.vn")
    elsewhere = commune("26767", level="commune") or next(
        c for c in [commune(code) for code in ("26734", "26740", "26758")] if c is not None)
    far = create_user("Phạm Văn Xa Lạ", email="xa@example.vn", locality=elsewhere)
    admin = create_user("Quản Trị Viên", roles=("admin",), email="admin@example.vn")
    db_session.commit()
    return course, owner, outsider_trainer, neighbour, far, admin


def _new_class(client, course):
    return client.post("/classes/new", data={"course_id": course.id, "title": "Lớp thử", "locality_code": "26506"})


def test_a_trainer_who_does_not_edit_the_course_cannot_create_its_class(client, login, world):
    course, _owner, outsider_trainer, *_ = world
    login(outsider_trainer)
    assert f'value="{course.id}"' not in client.get("/classes/new").get_data(as_text=True)
    response = _new_class(client, course)
    assert response.status_code == 400 and "Not a valid choice" in text_of(response)


def test_the_roster_takes_learners_in_reach_and_names_no_one_else(client, login, world, db_session):
    course, owner, _other, neighbour, far, admin = world
    login(owner)
    response = _new_class(client, course)
    assert response.status_code == 302
    class_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    for person in (far, admin):
        response = client.post(f"/classes/{class_id}/members", data={"login": person.email})
        page = text_of(response)
        assert response.status_code == 400 and "No learner within your area has this e-mail" in page
        assert person.full_name not in page
        assert find_enrollment(person, course) is None
        assert db_session.scalar(select(Notification).where(Notification.user_id == person.id)) is None
    nobody = text_of(client.post(f"/classes/{class_id}/members", data={"login": "khong-ai@example.vn"}))
    assert "No learner within your area has this e-mail" in nobody  # the same answer as for a real account
    response = client.post(f"/classes/{class_id}/members", data={"login": neighbour.email})
    assert response.status_code == 302 and find_enrollment(neighbour, course) is not None
    members = db_session.scalars(select(ClassMember.user_id).where(ClassMember.class_id == class_id)).all()
    assert members == [neighbour.id]
