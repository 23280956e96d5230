"""The learner list streamed in the request, as behind gunicorn.

The other report tests run inside one rolled-back transaction whose app context outlives each
request, so the request's session is never closed before the body is read. Here the data is
committed and the request pushes (and tears down) its own app context, like a real server: the
body is pulled after the view returned and its session was removed — where the
DetachedInstanceError of defect 10 happened. The test reads the whole body and checks every row.
"""

import csv
import io
import shutil
import uuid

import pytest
from sqlalchemy import delete, select

from lms.extensions import db
from tests.conftest import FIXTURE_COURSES

PASSWORD = "mat-khau-123"


@pytest.fixture()
def committed_list(app, tmp_path):
    """A manager of Phường Vũng Tàu and three learners enrolled there (one completed), committed."""
    from lms.accounts.models import User
    from lms.accounts.operations import create_user, grant_role
    from lms.catalog.models import Course
    from lms.catalog.operations import import_course
    from lms.catalog.source import read_course
    from lms.core.db import utcnow
    from lms.core.models import AuditEvent
    from lms.enrollment import operations as enrollment_ops
    from lms.localities.models import Locality

    tag = uuid.uuid4().hex[:8]
    folder = tmp_path / f"stream-{tag}"
    shutil.copytree(FIXTURE_COURSES / "mini-course", folder)
    course_md = folder / "course.md"
    course_md.write_text(course_md.read_text(encoding="utf-8").replace("code: TEST-101", f"code: ST-{tag}"),
                         encoding="utf-8")
    names = ["Trần Thị Bích Ngọc", "Lê Văn Đức", "Nguyễn Hoàng Anh Thư"]
    with app.app_context():
        ward = db.session.scalar(select(Locality).where(Locality.scheme == "2025-07", Locality.code == "26506"))
        import_course(read_course(folder))
        course = db.session.scalar(select(Course).where(Course.slug == folder.name))
        manager = create_user("Quản Lý Phường", PASSWORD, email=f"manager-{tag}@stream.vn", audience="official",
                              locality=ward)
        grant_role(manager, "manager", locality=ward)
        users = [manager]
        for number, name in enumerate(names):
            learner = create_user(name, PASSWORD, email=f"learner{number}-{tag}@stream.vn", locality=ward)
            enrollment = enrollment_ops.enrol(learner, course)
            if number == 0:
                enrollment.completed_at = utcnow()
            users.append(learner)
        db.session.commit()
        ids = [user.id for user in users]
        data = {"ward_id": ward.id, "course_code": f"ST-{tag}", "manager": manager.email, "names": names,
                "course_id": course.id}
    yield data
    with app.app_context():
        db.session.execute(delete(AuditEvent).where(AuditEvent.actor_id.in_(ids)))
        db.session.execute(delete(User).where(User.id.in_(ids)))
        db.session.execute(delete(Course).where(Course.slug == folder.name))
        db.session.commit()


def test_learner_csv_streams_whole_body_after_the_request_session_is_gone(app, committed_list):
    client = app.test_client()
    response = client.post("/login", data={"login": committed_list["manager"], "password": PASSWORD})
    assert response.status_code == 302

    response = client.get(f"/reports/localities/{committed_list['ward_id']}/learners.csv",
                          query_string={"course": committed_list["course_id"]})
    body = response.get_data(as_text=True)  # pulls the whole stream

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert body.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert len(table) == 1 + 3
    assert sorted(row[0] for row in table[1:]) == sorted(committed_list["names"])
    assert {(row[2], row[3], row[4]) for row in table[1:]} == {
        ("Phường Vũng Tàu", "Phường Vũng Tàu", committed_list["course_code"])}
    completed = [row for row in table[1:] if row[6]]
    assert [row[0] for row in completed] == [committed_list["names"][0]]
