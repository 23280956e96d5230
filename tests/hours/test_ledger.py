from datetime import date, datetime

from sqlalchemy import select

from lms.assignments import operations as assignment_ops
from lms.classes.models import Attendance, ClassSession, TrainingClass
from lms.enrollment.models import Enrollment
from lms.hours.queries import entries_for, year_total
from lms.programs.models import Program, ProgramCourse
from tests.conftest import text_of


def test_ledger_counts_programs_without_double_counting_and_classes(db_session, create_user, create_course,
                                                                      course_copy):
    a, b = create_course(), create_course(course_copy("khoa-b", code="KB-1", title="Khóa B"))
    c = create_course(course_copy("khoa-c", code="KC-1", title="Khóa C"))
    a.hours, b.hours, c.hours = 2, 3, 5
    program = Program(slug="cb", title="Chương trình cán bộ", hours=6)
    program.courses = [ProgramCourse(course=a, required=True, position=1),
                       ProgramCourse(course=b, required=True, position=2)]
    db_session.add(program)
    person = create_user(audience="official")
    # 31/12/2025 17:30 UTC is already 1 January 2026 in Vietnam.
    for course, at in ((a, datetime(2025, 12, 31, 17, 30)), (b, datetime(2026, 2, 1, 3, 0))):
        db_session.add(Enrollment(user_id=person.id, course_id=course.id, completed_at=at))
    klass = TrainingClass(course=c, title="Lớp C")
    klass.sessions = [ClassSession(starts_at=datetime(2026, 5, 1, 1, 0), hours=4),
                      ClassSession(starts_at=datetime(2026, 5, 2, 1, 0), hours=4)]
    db_session.add(klass)
    db_session.flush()
    db_session.add(Attendance(session_id=klass.sessions[0].id, user_id=person.id, status="present"))
    db_session.add(Attendance(session_id=klass.sessions[1].id, user_id=person.id, status="absent"))
    db_session.flush()

    entries = entries_for(select(person.id).scalar_subquery())[person.id]
    assert [(e.kind, float(e.hours)) for e in entries] == [("program", 6.0), ("class", 4.0)]
    assert year_total(entries, 2026) == 10 and year_total(entries, 2025) == 0

    # Completing C online: the course's hours count, the class session no longer does.
    db_session.add(Enrollment(user_id=person.id, course_id=c.id, completed_at=datetime(2026, 6, 1)))
    db_session.flush()
    entries = entries_for(select(person.id).scalar_subquery())[person.id]
    assert year_total(entries, 2026) == 11


def test_person_and_manager_see_the_hours_and_export(client, login, db_session, create_user, create_course, commune):
    course = create_course()
    course.hours = 3
    here = commune("26506")
    person = create_user("Trần Thị Bình", audience="official", locality=here)
    outsider = create_user("Lê Văn Xa", audience="official", locality=commune("01075"))
    for user in (person, outsider):
        db_session.add(Enrollment(user_id=user.id, course_id=course.id, completed_at=datetime(2026, 3, 1)))
    manager = create_user("Quản Lý", roles=("manager",), manager_of=here)
    db_session.flush()
    login(person)
    page = text_of(client.get("/my/hours?year=2026"))
    assert "3" in page and course.title in page
    client.post("/logout")
    login(manager)
    page = text_of(client.get("/reports/hours?year=2026"))
    assert "Trần Thị Bình" in page and "Lê Văn Xa" not in page
    csv_text = client.get("/reports/hours?year=2026&format=csv").get_data(as_text=True)
    assert csv_text.startswith("\ufeff") and "Trần Thị Bình" in csv_text and "Lê Văn Xa" not in csv_text
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(client.get("/reports/hours?year=2026&format=xlsx").data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Trần Thị Bình"]


def test_dashboard_shows_required_training_with_deadline_and_overdue(client, login, db_session, create_user,
                                                                     create_course, english):
    course = create_course()
    admin = create_user("Quản Trị", roles=("admin",))
    learner = create_user(audience="official")
    rule = assignment_ops.save_rule(actor=admin, deadline=date(2020, 1, 31), course=course, audience="official")
    assignment_ops.apply_rule(rule)
    db_session.commit()
    login(learner)
    page = text_of(client.get("/my"))
    assert "Required training" in page and "Overdue since 31/01/2020" in page and course.title in page


def test_manager_ledger_page_is_paginated_and_exports_everyone(client, login, db_session, create_user, create_course,
                                                               commune, monkeypatch):
    from lms.hours import controllers

    monkeypatch.setattr(controllers, "PER_PAGE", 2)
    course = create_course()
    course.hours = 4
    here = commune("26506")
    names = ["An Một", "Bình Hai", "Châu Ba"]
    for name in names:
        user = create_user(name, audience="official", locality=here)
        db_session.add(Enrollment(user_id=user.id, course_id=course.id, completed_at=datetime(2026, 3, 1)))
    manager = create_user("Quản Lý", roles=("manager",), manager_of=here)
    db_session.flush()
    login(manager)
    first = client.get("/reports/hours?year=2026").get_data(as_text=True)
    assert "An Một" in first and "Bình Hai" in first and "Châu Ba" not in first
    assert "page=2" in first and "page=0" not in first
    second = client.get("/reports/hours?year=2026&page=2").get_data(as_text=True)
    assert "Châu Ba" in second and "An Một" not in second and "page=3" not in second
    assert "<td>4</td>" in second  # the page's own ledger is computed
    csv_text = client.get("/reports/hours?year=2026&format=csv").get_data(as_text=True)
    assert all(name in csv_text for name in names)
