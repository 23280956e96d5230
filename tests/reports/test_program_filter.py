"""The program filter: a Program's courses (through ProgramCourse), and old `Course.program` values.

Numbers from tests/reports/conftest.py. Program "chuyen-doi-so" holds course 2 only; course 1
carries the old text program "Kỹ năng số" (no Program has that slug).

    course 2 at A (current = recorded): Vũng Tàu a3, a4 — 2 enrolled, 2 completed, 1 certificate
    course 1 at A, current:  Vũng Tàu a1, a2, o1 — 3 enrolled, 2 completed (67 %), 2 certificates
                   recorded: Vũng Tàu a1, a2 — 2, 1 (50 %), 1; Thắng Tam o1 — 1, 1 (100 %), 1
"""

import csv
import io

import pytest

from lms.programs.models import Program, ProgramCourse
from lms.reports.summary import refresh
from tests.reports.test_reports import THANG_TAM_OLD, VUNG_TAU, report, rows

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture()
def program(db_session, facts):
    program = Program(slug="chuyen-doi-so", title="Chuyển đổi số cơ bản", audience=[])
    program.courses.append(ProgramCourse(course_id=facts.second.id, required=True, position=1))
    db_session.add(program)
    facts.first.program = "Kỹ năng số"
    db_session.flush()
    refresh()
    db_session.commit()
    return program


@pytest.fixture()
def admin(create_user, login):
    login(create_user("Phạm Quốc Bảo", audience="official", roles=("admin",)))


def test_program_filter_uses_the_program_courses_in_both_modes(client, units, program, admin):
    assert rows(report(client, units.A, program="chuyen-doi-so")) == {VUNG_TAU: (2, 2, 100, 1)}
    assert rows(report(client, units.A, program="chuyen-doi-so", mode="recorded")) == {VUNG_TAU: (2, 2, 100, 1)}
    page = report(client, units.A).get_data(as_text=True)
    assert '<option value="chuyen-doi-so" >Chuyển đổi số cơ bản</option>' in page
    assert '<option value="Kỹ năng số" >Kỹ năng số</option>' in page


def test_old_course_program_values_still_work(client, units, program, admin):
    assert rows(report(client, units.A, program="Kỹ năng số")) == {VUNG_TAU: (3, 2, 67, 2)}
    assert rows(report(client, units.A, program="Kỹ năng số", mode="recorded")) == {
        VUNG_TAU: (2, 1, 50, 1), THANG_TAM_OLD: (1, 1, 100, 1)}
    assert rows(report(client, units.A, program="no-such-program")) == {}


def test_program_filter_in_the_learner_list_and_the_api(client, units, program, admin, db_session):
    text = client.get(f"/reports/localities/{units.A.id}/learners.csv", query_string={"program": "chuyen-doi-so"})
    lines = list(csv.reader(io.StringIO(text.get_data(as_text=True).lstrip("\ufeff"))))
    assert [line[4] for line in lines[1:]] == ["KH-2", "KH-2"]

    from lms.api.operations import create_token

    _token, secret = create_token("IOC", units.A)
    db_session.commit()
    data = client.get(f"/api/v1/reports/localities/{units.A.id}", headers={"Authorization": f"Bearer {secret}"},
                      query_string={"program": "chuyen-doi-so"}).get_json()
    assert data["total"]["enrolled"] == 2 and data["filters"]["program"] == "chuyen-doi-so"
