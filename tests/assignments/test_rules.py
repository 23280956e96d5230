from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from lms.agencies.operations import save_agency
from lms.assignments import operations
from lms.assignments.models import can_target
from lms.assignments.reminders import send_deadline_reminders, send_manager_digests
from lms.enrollment.models import Enrollment
from lms.notifications.models import Notification
from tests.conftest import text_of


@pytest.fixture()
def admin(create_user):
    return create_user("Quản Trị", roles=("admin",))


def enrollments(db_session, course):
    return {e.user_id: e for e in db_session.scalars(select(Enrollment).where(Enrollment.course_id == course.id))}


def test_rule_assigns_now_and_to_people_who_match_later(db_session, create_user, create_course, commune, admin):
    course = create_course()
    here, there = commune("26506"), commune("01075")
    assert there is not None
    official = create_user("Cán Bộ Một", audience="official", locality=here)
    citizen = create_user("Người Dân", audience="citizen", locality=here)
    elsewhere = create_user("Cán Bộ Xa", audience="official", locality=there)
    self_enrolled = create_user("Tự Học", audience="official", locality=here)
    db_session.add(Enrollment(user_id=self_enrolled.id, course_id=course.id, source="self"))
    db_session.flush()

    rule = operations.save_rule(actor=admin, deadline=date(2026, 12, 31), course=course, audience="official",
                                locality=here)
    assert operations.apply_rule(rule) == 1
    rows = enrollments(db_session, course)
    assert rows[official.id].source == "assigned" and rows[official.id].deadline == date(2026, 12, 31)
    assert rows[official.id].locality_id == here.id
    assert citizen.id not in rows and elsewhere.id not in rows
    assert rows[self_enrolled.id].source == "assigned" and rows[self_enrolled.id].deadline == date(2026, 12, 31)

    # Later: a new official in the commune, and the one elsewhere moving in.
    newcomer = create_user("Mới Đến", audience="official", locality=here)
    assert operations.apply_rules_for_user(newcomer) == 1
    elsewhere.locality = here
    assert operations.apply_rules_for_user(elsewhere) == 1
    assert operations.apply_rules_for_user(elsewhere) == 0  # idempotent
    assert operations.apply_all_rules() == 0
    rows = enrollments(db_session, course)
    assert {newcomer.id, elsewhere.id} <= set(rows) and citizen.id not in rows


def test_rule_by_agency_subtree_and_position(db_session, create_user, create_course, admin):
    course = create_course()
    dept = save_agency(None, code="STTTT", name="Sở Thông tin và Truyền thông")
    office = save_agency(None, code="STTTT-VP", name="Văn phòng Sở", parent=dept)
    other = save_agency(None, code="SYT", name="Sở Y tế")
    a, b, c = (create_user(n, audience="official") for n in ("A Một", "B Hai", "C Ba"))
    a.agency, a.position, a.position_folded = office, "Chuyên viên", "chuyen vien"
    b.agency, b.position, b.position_folded = office, "Phó Giám đốc", "pho giam doc"
    c.agency, c.position, c.position_folded = other, "Chuyên viên", "chuyen vien"
    rule = operations.save_rule(actor=admin, deadline=date(2026, 6, 30), course=course, agency=dept,
                                position_contains="Chuyên VIÊN")
    assert operations.apply_rule(rule) == 1
    assert set(enrollments(db_session, course)) == {a.id}


def test_program_rule_assigns_its_required_courses(db_session, create_user, create_course, course_copy, admin):
    from lms.programs.models import Program, ProgramCourse

    first, second = create_course(), create_course(course_copy("khoa-b", code="KB-1", title="Khóa B"))
    program = Program(slug="cb", title="Cán bộ", hours=8)
    program.courses = [ProgramCourse(course=first, required=True, position=1),
                       ProgramCourse(course=second, required=False, position=2)]
    db_session.add(program)
    person = create_user(audience="official")
    rule = operations.save_rule(actor=admin, deadline=date(2026, 6, 30), program=program, audience="official")
    operations.apply_rule(rule)
    assert person.id in enrollments(db_session, first) and person.id not in enrollments(db_session, second)


def test_commune_manager_cannot_target_another_commune_or_the_province(create_user, commune, db_session):
    from lms.localities.models import Locality

    here, there = commune("26506"), commune("01075")
    province = db_session.get(Locality, here.parent_id)
    manager = create_user("Quản Lý Xã", roles=("manager",), manager_of=here)
    assert can_target(manager, here, None)
    assert not can_target(manager, there, None)
    assert not can_target(manager, province, None)
    assert not can_target(manager, None, None)


def test_manager_form_refuses_out_of_scope_target(client, login, create_user, create_course, commune, db_session,
                                                  english):
    course = create_course()
    here, there = commune("26506"), commune("01075")
    manager = create_user("Quản Lý Xã", roles=("manager",), manager_of=here)
    login(manager)
    response = client.post("/admin/assignments/new", data={
        "target": f"course:{course.id}", "deadline": "31/12/2026", "locality_code": there.code})
    assert response.status_code == 403 or response.status_code == 400
    assert "outside your area" in text_of(response)
    assert db_session.scalar(select(func.count(Enrollment.id))) == 0
    response = client.post("/admin/assignments/new", data={
        "target": f"course:{course.id}", "deadline": "31/12/2026", "locality_code": here.code})
    assert response.status_code == 302
    assert db_session.scalar(select(func.count(Enrollment.id))) == 1  # the manager, who lives there


def test_reminders_are_sent_once_at_the_right_times(db_session, create_user, create_course, admin):
    course = create_course()
    learner = create_user(audience="official")
    rule = operations.save_rule(actor=admin, deadline=date(2026, 3, 20), course=course, audience="official")
    operations.apply_rule(rule)

    def notices():
        return sorted(db_session.scalars(select(Notification.dedupe_key).where(Notification.user_id == learner.id,
                                                                               Notification.kind == "deadline")))

    # 23:00 UTC on 3 March is already 4 March in Vietnam: 16 days left, nothing yet.
    assert send_deadline_reminders(datetime(2026, 3, 3, 23, 0)) == 0
    assert send_deadline_reminders(datetime(2026, 3, 13, 1, 0)) == 1  # 7 days left
    assert send_deadline_reminders(datetime(2026, 3, 13, 9, 0)) == 0  # beat ran again
    assert send_deadline_reminders(datetime(2026, 3, 15, 1, 0)) == 0  # still the 7-day stage
    assert send_deadline_reminders(datetime(2026, 3, 19, 1, 0)) == 1  # 1 day
    assert send_deadline_reminders(datetime(2026, 3, 20, 1, 0)) == 0
    assert send_deadline_reminders(datetime(2026, 3, 21, 1, 0)) == 1  # overdue
    assert send_deadline_reminders(datetime(2026, 3, 28, 1, 0)) == 0
    assert [k.rsplit(":", 1)[1] for k in notices()] == ["1d", "7d", "overdue"]
    subjects = list(db_session.scalars(select(Notification.subject).where(Notification.user_id == learner.id)))
    assert any("Quá hạn" in s for s in subjects)  # Vietnamese by default

    # Completed courses are never reminded.
    learner2 = create_user(audience="official")
    operations.apply_rules_for_user(learner2)
    enrollments(db_session, course)[learner2.id].completed_at = datetime(2026, 3, 1)
    assert send_deadline_reminders(datetime(2026, 3, 22, 1, 0)) == 0


def test_weekly_digest_counts_overdue_people_in_scope_once_a_week(db_session, create_user, create_course, commune,
                                                                   admin):
    course = create_course()
    here, there = commune("26506"), commune("01075")
    manager = create_user("Quản Lý", roles=("manager",), manager_of=here)
    for name, unit in (("Một", here), ("Hai", here), ("Ba", there)):
        create_user(name, audience="official", locality=unit)
    rule = operations.save_rule(actor=admin, deadline=date(2026, 3, 20), course=course, audience="official")
    operations.apply_rule(rule)
    assert send_manager_digests(datetime(2026, 3, 16, 1, 0)) == 0  # nothing overdue yet
    assert send_manager_digests(datetime(2026, 3, 23, 1, 0)) == 1
    assert send_manager_digests(datetime(2026, 3, 24, 1, 0)) == 0  # same ISO week
    digest = db_session.scalar(select(Notification).where(Notification.user_id == manager.id))
    assert "2" in digest.subject and digest.dedupe_key == f"digest:{manager.id}:2026-W13"
    assert send_manager_digests(datetime(2026, 3, 30, 1, 0)) == 1
