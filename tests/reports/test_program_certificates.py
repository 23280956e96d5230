"""Program certificates in the report summary (defect 9).

A program certificate has no course (`Certificate.course_id` is NULL): the summary rebuild
must not fail on it, and it counts as a *program certificate* — in its own column, narrowed by
the program filter (and audience, agency, month), never mixed into the course certificates.

Numbers from tests/reports/conftest.py: program "chuyen-doi-so" holds course 2, completed at A
by a3 and a4; both get the program certificate.
"""

import csv
import io
import re

import pytest
from sqlalchemy import select

from lms.certificates.models import Certificate
from lms.certificates.operations import issue_for_program
from lms.enrollment.models import Enrollment
from lms.programs.models import Program, ProgramCourse
from lms.reports.models import ReportSummary
from lms.reports.summary import refresh
from tests.reports.test_reports import VUNG_TAU, report, rows

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture()
def program_certified(db_session, facts):
    program = Program(slug="chuyen-doi-so", title="Chuyển đổi số cơ bản", audience=[], certificate=True)
    program.courses.append(ProgramCourse(course_id=facts.second.id, required=True, position=1))
    db_session.add(program)
    db_session.flush()
    done = db_session.scalars(select(Enrollment).where(Enrollment.course_id == facts.second.id,
                                                       Enrollment.completed_at.is_not(None))).all()
    certificates = [issue_for_program(enrollment.user, program) for enrollment in done]
    assert len(certificates) == 2 and all(c.program_id == program.id and c.course_id is None for c in certificates)
    db_session.commit()
    return program


@pytest.fixture()
def admin(create_user, login):
    login(create_user("Phạm Quốc Bảo", audience="official", roles=("admin",)))


def program_certificates_column(response) -> list[str]:
    html = response.get_data(as_text=True)
    return [cell.strip() for cell in re.findall(r'<td class="num program-certificates">(\d+)</td>', html)]


def test_refresh_succeeds_with_a_program_certificate_and_keeps_it_apart(db_session, units, program_certified):
    rows_written = refresh()  # NOT NULL report_summary.course_id before the fix
    db_session.commit()
    assert rows_written > 0
    program_rows = db_session.scalars(select(ReportSummary).where(ReportSummary.program_id.is_not(None))).all()
    assert [(r.locality_id, r.program_id, r.course_id, r.program_certificates, r.certificates) for r in program_rows] == [
        (units.A.id, program_certified.id, None, 2, 0)]


def test_the_cli_refresh_succeeds_with_a_program_certificate(app, db_session, program_certified):
    result = app.test_cli_runner().invoke(args=["reports", "refresh"])
    assert result.exit_code == 0, result.output
    assert "report summary:" in result.output


def test_dashboard_counts_program_certificates_apart_and_under_the_program_filter(
        client, db_session, units, program_certified, admin, facts):
    refresh()
    db_session.commit()
    everything = report(client, units.A)
    # Course figures are unchanged by the program certificates: 5 enrolled, 4 completed, 3 course certificates.
    assert rows(everything) == {VUNG_TAU: (5, 4, 80, 3)}
    assert program_certificates_column(everything) == ["2", "2"]  # the row and the total

    by_program = report(client, units.A, program="chuyen-doi-so")
    assert rows(by_program) == {VUNG_TAU: (2, 2, 100, 1)} and program_certificates_column(by_program) == ["2", "2"]
    by_course = report(client, units.A, course=facts.first.id)
    assert program_certificates_column(by_course) == ["0", "0"]
    assert program_certificates_column(report(client, units.A, audience="official")) == []  # no rows at all
    assert program_certificates_column(report(client, units.A, program="chuyen-doi-so", mode="recorded")) == ["2", "2"]


def test_program_certificates_in_the_table_export_and_the_api(client, db_session, units, program_certified, admin):
    refresh()
    db_session.commit()
    table = list(csv.reader(io.StringIO(client.get(f"/reports/localities/{units.A.id}/coverage.csv").get_data(
        as_text=True).lstrip("\ufeff"))))
    assert table[0][-1] == "Program certificates" and table[1][-1] == "2" and table[-1][-1] == "2"

    from lms.api.operations import create_token

    _token, secret = create_token("IOC", units.A)
    db_session.commit()
    data = client.get(f"/api/v1/reports/localities/{units.A.id}", headers={"Authorization": f"Bearer {secret}"},
                      query_string={"program": "chuyen-doi-so"}).get_json()
    assert data["total"]["program_certificates"] == 2 and data["total"]["certificates"] == 1


def test_a_revoked_program_certificate_is_not_counted(db_session, units, program_certified):
    certificate = db_session.scalars(select(Certificate).where(Certificate.program_id == program_certified.id)).first()
    from lms.core.db import utcnow

    certificate.revoked_at = utcnow()
    refresh()
    db_session.commit()
    counted = db_session.scalars(select(ReportSummary.program_certificates).where(
        ReportSummary.program_id == program_certified.id)).all()
    assert counted == [1]
