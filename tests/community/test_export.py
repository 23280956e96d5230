"""The community report exported as CSV and XLSX through the reports' export jobs."""

import pytest
from sqlalchemy import select

from lms.community import operations as ops
from lms.reports.models import ReportExport
from tests.community.test_assisted import team  # noqa: F401 - the team fixture
from tests.conftest import text_of
from tests.reports.test_exports_and_scope import read_csv, read_xlsx

pytestmark = pytest.mark.usefixtures("english")


def test_the_report_is_exported_as_a_job_formula_safe_and_in_scope(client, login, team, db_session):  # noqa: F811
    ops.register_resident(team["a"], full_name="Nguyễn Thị A", phone="0912345678", commune=team["A"],
                          hamlet="=HYPERLINK(\"http://x\")", consent_method="paper", consent_reference="P-1")
    ops.set_target(team["manager_a"], team["A"], reached=4, completed=2, counts="assisted")
    db_session.flush()
    login(team["manager_a"])
    assert "Export the report of" in text_of(client.get("/community/team"))

    started = client.post(f"/reports/localities/{team['A'].id}/community.csv")
    job = db_session.scalar(select(ReportExport))
    assert started.status_code == 303 and started.location.endswith(f"/reports/exports/{job.id}")
    assert (job.kind, job.status) == ("community", "done")
    assert "Community digital teams' report" in text_of(client.get(started.location))
    table = read_csv(client.get(f"/reports/exports/{job.id}/download"))
    assert table[0][:3] == ["Commune or ward", "Hamlet or residential group", "Registered by the team"]
    hamlet_row = next(row for row in table if row[1].startswith("'="))
    assert hamlet_row[:4] == [team["A"].name, "'=HYPERLINK(\"http://x\")", "1", "0"]  # formula neutralised
    coverage_row = next(row for row in table if row[1] == "(coverage of the commune)")
    assert coverage_row[7:12] == ["assisted", "1", "0", "4", "25"]

    client.post(f"/reports/localities/{team['A'].id}/community.xlsx")
    xlsx = db_session.scalars(select(ReportExport).order_by(ReportExport.id.desc())).first()
    sheet = read_xlsx(client.get(f"/reports/exports/{xlsx.id}/download"))
    assert any(row[1] == "=HYPERLINK(\"http://x\")" for row in sheet)  # a string cell, not a formula
    assert any(row[1] == "(coverage of the commune)" and row[10] == 4 for row in sheet)

    refused = client.post(f"/reports/localities/{team['B'].id}/community.csv")
    assert refused.status_code == 403
    assert db_session.scalar(select(ReportExport).where(ReportExport.locality_id == team["B"].id)) is None
