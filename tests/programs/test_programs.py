from datetime import datetime

from sqlalchemy import select

from lms.enrollment.models import Enrollment
from lms.programs.models import Prerequisite, Program
from lms.programs.operations import import_program
from lms.programs.source import read_program
from tests.conftest import ROOT, text_of


def test_admin_creates_program_in_the_browser_and_learner_enrols(client, login, db_session, create_user, create_course,
                                                                   course_copy, english):
    a, b = create_course(), create_course(course_copy("khoa-b", code="KB-1", title="Khóa B"))
    admin = create_user("Quản Trị", roles=("admin",))
    login(admin)
    response = client.post("/admin/programs/new", data={
        "slug": "lo-trinh", "title": "Lộ trình số", "hours": "8", "required": f"{a.slug}\n{b.slug}",
        "optional": "", "optional_required": "0", "certificate": "y"})
    assert response.status_code == 302, text_of(response)
    program = db_session.scalar(select(Program).where(Program.slug == "lo-trinh"))
    assert [link.course.slug for link in program.courses] == [a.slug, b.slug]
    bad = client.post("/admin/programs/new", data={"slug": "x", "title": "X", "required": "khong-co"})
    assert bad.status_code == 400 and "No course has these short names: khong-co" in text_of(bad)
    client.post("/logout")

    learner = create_user()
    login(learner)
    page = text_of(client.get("/programs/lo-trinh"))
    assert "Lộ trình số" in page and "Khóa B" in page and "Enrol in the program" in page
    client.post("/programs/lo-trinh/enrol")
    enrolled = set(db_session.scalars(select(Enrollment.course_id).where(Enrollment.user_id == learner.id)))
    assert enrolled == {a.id, b.id}


def test_prerequisite_blocks_self_enrolment_until_completed(client, login, db_session, create_user, create_course,
                                                            course_copy, english):
    a, b = create_course(), create_course(course_copy("khoa-b", code="KB-1", title="Khóa B"))
    db_session.add(Prerequisite(course_id=b.id, requires_course_id=a.id))
    learner = create_user()
    db_session.commit()
    login(learner)
    response = client.post(f"/courses/{b.slug}/enrol", follow_redirects=True)
    assert "Complete these first" in text_of(response) and a.title in text_of(response)
    assert db_session.scalar(select(Enrollment).where(Enrollment.course_id == b.id)) is None
    db_session.add(Enrollment(user_id=learner.id, course_id=a.id, completed_at=datetime(2026, 1, 1)))
    db_session.commit()
    client.post(f"/courses/{b.slug}/enrol")
    assert db_session.scalar(select(Enrollment).where(Enrollment.course_id == b.id, Enrollment.user_id == learner.id))


def test_program_files_still_import_idempotently(db_session, create_course, course_copy):
    path = ROOT / "programs" / "cong-dan-so.md"
    source = read_program(path)
    for slug in source.required + source.optional:
        create_course(course_copy(slug, code=slug[:20].upper(), title=slug))
    assert import_program(source) == "created"
    assert import_program(read_program(path)) == "unchanged"
