"""Who may enrol in a program (defect 11): enrolment enrols the courses the person may take.

"Chương trình Công dân số" (programs/cong-dan-so.md, with the real starter courses) has a
required course for everyone and an optional one for officials only. A citizen must be able to
enrol (in the required course only) and see the optional course marked as meant for officials;
an official gets both. A program a person could never complete (a required course, or too many
of the optional ones, meant for others) is refused with a message that says why.
"""

import pytest
from sqlalchemy import select

from lms.enrollment.models import Enrollment
from lms.programs.models import Program
from lms.programs.operations import import_program
from lms.programs.source import read_program
from tests.conftest import ROOT, text_of

CITIZEN_COURSE, OFFICIAL_COURSE = "ky-nang-so-cong-dan", "an-toan-thong-tin-can-bo"


@pytest.fixture()
def cong_dan_so(db_session, create_course):
    courses = {slug: create_course(ROOT / "courses" / slug) for slug in (CITIZEN_COURSE, OFFICIAL_COURSE)}
    import_program(read_program(ROOT / "programs" / "cong-dan-so.md"))
    db_session.commit()
    return courses


def enrolled_slugs(db_session, user, courses) -> set[str]:
    ids = set(db_session.scalars(select(Enrollment.course_id).where(Enrollment.user_id == user.id)))
    return {slug for slug, course in courses.items() if course.id in ids}


def test_a_citizen_enrols_in_the_e_citizen_program_without_the_officials_course(
        client, login, db_session, create_user, cong_dan_so, english):
    citizen = create_user("Trần Thị Mai", audience="citizen")
    login(citizen)
    page = text_of(client.get("/programs/cong-dan-so"))
    assert "Enrol in the program" in page
    assert "Only for civil servants — not open to you" in page

    response = client.post("/programs/cong-dan-so/enrol", follow_redirects=True)
    assert response.status_code == 200
    shown = text_of(response)
    assert "You are enrolled in the program “Chương trình Công dân số”" in shown
    assert "not open to you" in shown and "An toàn thông tin cho cán bộ, công chức" in shown
    assert enrolled_slugs(db_session, citizen, cong_dan_so) == {CITIZEN_COURSE}
    # Everything the citizen may take is taken: no enrol button offering the closed course again.
    assert "Enrol in the program" not in shown


def test_an_official_enrols_in_both_courses(client, login, db_session, create_user, cong_dan_so, english):
    official = create_user("Lê Văn Hùng", audience="official")
    login(official)
    assert "not open to you" not in text_of(client.get("/programs/cong-dan-so"))
    client.post("/programs/cong-dan-so/enrol")
    assert enrolled_slugs(db_session, official, cong_dan_so) == {CITIZEN_COURSE, OFFICIAL_COURSE}


def test_the_citizen_completes_the_program_with_its_required_course_only(db_session, create_user, cong_dan_so):
    from lms.completion.rules import completion_time
    from lms.enrollment.operations import enrol_in_program

    citizen = create_user("Phạm Thu Hà", audience="citizen")
    program = db_session.scalar(select(Program).where(Program.slug == "cong-dan-so"))
    enrolled = enrol_in_program(citizen, program)
    assert [e.course.slug for e in enrolled] == [CITIZEN_COURSE]
    enrolled[0].completed_at = enrolled[0].enrolled_at
    db_session.flush()
    assert completion_time(citizen.id, program) is not None


def test_a_program_whose_required_course_is_for_others_is_refused_with_the_reason(
        client, login, db_session, create_user, cong_dan_so, english):
    program = db_session.scalar(select(Program).where(Program.slug == "cong-dan-so"))
    for link in program.courses:
        link.required = link.course.slug == OFFICIAL_COURSE
    db_session.commit()
    citizen = create_user("Đỗ Minh Khoa", audience="citizen")
    login(citizen)
    page = text_of(client.get("/programs/cong-dan-so"))
    assert "Enrol in the program" not in page
    assert ("You cannot complete this program: the required course An toàn thông tin cho cán bộ, công chức "
            "is not open to you.") in page

    refused = client.post("/programs/cong-dan-so/enrol", follow_redirects=True)
    assert "the required course An toàn thông tin cho cán bộ, công chức is not open to you" in text_of(refused)
    assert enrolled_slugs(db_session, citizen, cong_dan_so) == set()  # nothing half-done


def test_too_few_optional_courses_open_is_refused(client, login, db_session, create_user, cong_dan_so, english):
    program = db_session.scalar(select(Program).where(Program.slug == "cong-dan-so"))
    program.optional_required = 1
    db_session.commit()
    citizen = create_user("Vũ Thị Lan", audience="citizen")
    login(citizen)
    refused = text_of(client.post("/programs/cong-dan-so/enrol", follow_redirects=True))
    assert "it needs 1 optional course(s) and 0 are open to you" in refused
    assert enrolled_slugs(db_session, citizen, cong_dan_so) == set()


def test_the_program_audience_still_decides_first(client, login, db_session, create_user, cong_dan_so, english):
    program = db_session.scalar(select(Program).where(Program.slug == "cong-dan-so"))
    program.audience = ["official"]
    db_session.commit()
    citizen = create_user("Hoàng Văn Nam", audience="citizen")
    login(citizen)
    refused = text_of(client.post("/programs/cong-dan-so/enrol", follow_redirects=True))
    assert "This program is not open to you." in refused
    assert enrolled_slugs(db_session, citizen, cong_dan_so) == set()


def test_a_program_file_meant_for_people_who_could_never_complete_it_is_refused(tmp_path, db_session, cong_dan_so):
    from lms.core.frontmatter import SourceError

    path = tmp_path / "cho-nguoi-dan.md"
    path.write_text(f"---\ntitle: Cho người dân\naudience: [citizen, official]\nrequired: [{OFFICIAL_COURSE}]\n"
                    f"optional: [{CITIZEN_COURSE}]\n---\n", encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        import_program(read_program(path))
    assert str(caught.value).endswith(f"`citizen` is in `audience` but could never complete the program: the required "
                                      f"course(s) {OFFICIAL_COURSE} are not open to `citizen`")
    assert db_session.scalar(select(Program).where(Program.slug == "cho-nguoi-dan")) is None


def test_the_program_form_refuses_an_audience_that_could_never_complete_it(
        client, login, db_session, create_user, cong_dan_so, english):
    login(create_user("Quản Trị", roles=("admin",), audience="official"))
    response = client.post("/admin/programs/new", data={
        "slug": "cho-nguoi-dan", "title": "Cho người dân", "audience": ["citizen"], "required": OFFICIAL_COURSE,
        "optional": "", "optional_required": "0", "certificate": "y"})
    assert response.status_code == 400
    assert ("Residents could never complete it: the required course An toàn thông tin cho cán bộ, công chức "
            "is not open to them.") in text_of(response)
    assert db_session.scalar(select(Program).where(Program.slug == "cho-nguoi-dan")) is None
