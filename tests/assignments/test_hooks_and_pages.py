"""The rule pages (render, submit, stop) and every path that gives a person their assignments:
registration, their own profile, the admin's agency change, and bulk imports (CLI and job)."""

import io
from datetime import date

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.agencies.operations import save_agency
from lms.assignments import operations
from lms.assignments.models import AssignmentRule
from lms.enrollment.models import Enrollment
from tests.accounts.conftest import registration
from tests.conftest import text_of


@pytest.fixture()
def admin(create_user):
    return create_user("Quản Trị", roles=("admin",))


def assigned(db_session, user, course):
    return db_session.scalar(select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id))


def test_admin_renders_submits_and_stops_a_rule(client, login, db_session, admin, create_user, create_course, commune,
                                               english):
    course = create_course()
    here = commune("26506")
    official = create_user("Cán Bộ", audience="official", locality=here)
    citizen = create_user("Người Dân", audience="citizen", locality=here)
    login(admin)
    form = client.get("/admin/assignments/new").get_data(as_text=True)
    assert f'value="course:{course.id}"' in form and "Civil servants" in form

    bad = client.post("/admin/assignments/new", data={"target": f"course:{course.id}", "deadline": "31/02/2026"})
    assert bad.status_code == 400 and "Enter the deadline as dd/mm/yyyy." in text_of(bad)
    bad = client.post("/admin/assignments/new", data={"target": f"course:{course.id}", "deadline": "31/12/2026",
                                                      "locality_code": "99999"})
    assert "No province, commune or ward has this code." in text_of(bad)
    assert db_session.scalar(select(AssignmentRule.id)) is None

    response = client.post("/admin/assignments/new", data={
        "target": f"course:{course.id}", "deadline": "31/12/2026", "audience": "official", "locality_code": here.code})
    assert response.status_code == 302
    page = text_of(client.get("/admin/assignments/"))
    assert "Assigned “" in page and "1 people enrolled now" in page
    assert course.title in page and "Civil servants" in page and "31/12/2026" in page and "Stop assigning" in page
    assert assigned(db_session, official, course).deadline == date(2026, 12, 31)
    assert assigned(db_session, citizen, course) is None

    rule = db_session.scalar(select(AssignmentRule))
    response = client.post(f"/admin/assignments/{rule.id}/deactivate")
    assert response.status_code == 303 and rule.active is False
    page = text_of(client.get("/admin/assignments/"))
    assert "Stopped" in page and "Stop assigning" not in page
    newcomer = create_user("Người Mới", audience="official", locality=here)
    assert operations.apply_rules_for_user(newcomer) == 0 and assigned(db_session, newcomer, course) is None
    assert assigned(db_session, official, course).deadline == date(2026, 12, 31)  # kept


def test_manager_cannot_stop_a_rule_outside_their_area(client, login, db_session, admin, create_user, create_course,
                                                      commune):
    course = create_course()
    rule = operations.save_rule(actor=admin, deadline=date(2026, 12, 31), course=course, locality=commune("01075"))
    login(create_user("Quản Lý Xã", roles=("manager",), manager_of=commune("26506")))
    response = client.post(f"/admin/assignments/{rule.id}/deactivate")
    assert response.status_code == 403 and rule.active is True
    assert course.title not in text_of(client.get("/admin/assignments/"))


def test_registration_gives_a_new_official_the_assigned_course(client, db_session, admin, create_course, commune,
                                                                login):
    course = create_course()
    here = commune("26506")
    operations.save_rule(actor=admin, deadline=date(2026, 12, 31), course=course, audience="official", locality=here)
    response = client.post("/register", data=registration(here, audience="official"))
    assert response.status_code == 302
    user = db_session.scalar(select(User).where(User.email == "hoa@example.vn"))
    # A self-declared official is a resident until confirmed (issue 12, finding 7): no officials' rule yet.
    assert assigned(db_session, user, course) is None and user.audience_requested == "official"
    client.post("/logout")
    login(admin)
    client.post(f"/manage/audience-requests/{user.id}", data={"decision": "approve"})
    client.post("/logout")
    enrollment = assigned(db_session, user, course)
    assert enrollment.source == "assigned" and enrollment.deadline == date(2026, 12, 31)
    # A resident registering there does not match the rule.
    client.post("/logout")
    client.post("/register", data=registration(here, login="dan@example.vn", audience="citizen"))
    resident = db_session.scalar(select(User).where(User.email == "dan@example.vn"))
    assert assigned(db_session, resident, course) is None
    # The dashboard shows it as required with the deadline.
    client.post("/logout")


def test_position_and_agency_changes_apply_the_rules(client, login, db_session, admin, create_user, create_course,
                                                    course_copy):
    by_position = create_course()
    by_agency = create_course(course_copy("khoa-b", code="KB-1", title="Khóa B"))
    dept = save_agency(None, code="STTTT", name="Sở Thông tin và Truyền thông")
    operations.save_rule(actor=admin, deadline=date(2026, 6, 30), course=by_position, position_contains="kế toán")
    operations.save_rule(actor=admin, deadline=date(2026, 7, 31), course=by_agency, agency=dept)
    person = create_user("Lê Thu", audience="official")
    login(person)
    assert assigned(db_session, person, by_position) is None
    client.post("/profile", data={"position": "Kế toán viên"})
    assert person.position == "Kế toán viên"
    assert assigned(db_session, person, by_position).deadline == date(2026, 6, 30)
    client.post("/logout")

    login(admin)
    response = client.post(f"/admin/users/{person.id}", data={"agency_code": "STTTT", "position": "Kế toán viên"})
    assert response.status_code == 302 and person.agency_id == dept.id
    assert assigned(db_session, person, by_agency).deadline == date(2026, 7, 31)


def test_imports_apply_the_rules_cli_and_job(app, client, login, db_session, admin, create_course, tmp_path):
    course = create_course()
    dept = save_agency(None, code="STTTT", name="Sở Thông tin và Truyền thông")
    operations.save_rule(actor=admin, deadline=date(2026, 9, 30), course=course, audience="official", agency=dept)
    header = "Họ và tên,Email,Mã cơ quan,Đối tượng\n"
    path = tmp_path / "people.csv"
    path.write_text(header + "Nguyễn Văn Nhập,nhap@x.vn,STTTT,Cán bộ công chức\nNgười Ngoài,ngoai@x.vn,,người dân\n",
                    encoding="utf-8-sig")
    result = app.test_cli_runner().invoke(args=["users", "import", str(path)])
    assert result.exit_code == 0 and "1 enrollments assigned by rules" in result.output, result.output
    imported = db_session.scalar(select(User).where(User.email == "nhap@x.vn"))
    outsider = db_session.scalar(select(User).where(User.email == "ngoai@x.vn"))
    assert assigned(db_session, imported, course).deadline == date(2026, 9, 30)
    assert assigned(db_session, outsider, course) is None

    login(admin)
    data = (header + "Trần Thị Việc,viec@x.vn,STTTT,Cán bộ công chức\n").encode("utf-8-sig")
    response = client.post("/admin/imports/", data={"file": (io.BytesIO(data), "dot-2.csv"),
                                                    "default_audience": "official"}, content_type="multipart/form-data")
    client.post(response.headers["Location"], data={"map_full_name": "Họ và tên", "map_email": "Email",
                                                    "map_agency": "Mã cơ quan", "map_audience": "Đối tượng", "run": "1"})
    later = db_session.scalar(select(User).where(User.email == "viec@x.vn"))
    assert later is not None and assigned(db_session, later, course).deadline == date(2026, 9, 30)
