"""Exports (CSV, XLSX, export jobs) and scope enforcement on every report route."""

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lms.core.models import AuditEvent
from lms.reports.models import ReportExport
from tests.conftest import text_of
from tests.reports.test_reports import BA_DINH, BA_RIA, VUNG_TAU

pytestmark = pytest.mark.usefixtures("english", "facts")


@pytest.fixture()
def manager_of_a(create_user, login, units):
    user = create_user("Lê Hoàng Phúc", audience="official", roles=("manager",), manager_of=units.A)
    login(user)
    return user


def read_csv(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def read_xlsx(response):
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_coverage_table_as_csv_and_xlsx(client, units, manager_of_a):
    table = read_csv(client.get(f"/reports/localities/{units.A.id}/coverage.csv"))
    assert table[0][:3] == ["Unit", "Unit code", "Enrolled"]
    assert table[1][:3] == [VUNG_TAU, "2025-07/26506", "5"] and table[-1][:3] == ["Total", "", "5"]
    assert len(table) == 3

    recorded = read_xlsx(client.get(f"/reports/localities/{units.A.id}/coverage.xlsx?mode=recorded"))
    assert [row[:3] for row in recorded[1:]] == [
        ["Phường Thắng Tam (former unit)", "2025-01/26508", 1], [VUNG_TAU, "2025-07/26506", 4], ["Total", None, 5]]


def test_learner_list_holds_only_the_managers_learners(client, units, manager_of_a, db_session):
    table = read_csv(client.get(f"/reports/localities/{units.A.id}/learners.csv"))
    assert table[0][:4] == ["Full name", "Audience", "Unit as recorded", "Current unit"]
    units_seen = {(row[2], row[3]) for row in table[1:]}
    assert len(table) == 1 + 5
    assert units_seen == {(VUNG_TAU, VUNG_TAU), ("Phường Thắng Tam", VUNG_TAU)}
    assert BA_RIA not in str(table) and BA_DINH not in str(table)
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "report_export.download"))
    assert audit.actor_id == manager_of_a.id and audit.object_id == str(units.A.id)


def test_learner_xlsx_runs_as_a_job_with_progress_and_download(client, units, manager_of_a, db_session):
    start = client.get(f"/reports/localities/{units.A.id}/learners.xlsx")
    assert "prepared in the background" in text_of(start)
    response = client.post(f"/reports/localities/{units.A.id}/learners.xlsx?mode=recorded")
    assert response.status_code == 302
    job = db_session.scalar(select(ReportExport))
    assert response.headers["Location"].endswith(f"/reports/exports/{job.id}")
    status = client.get(response.headers["Location"])
    assert "Ready: 5 rows." in text_of(status)
    workbook = read_xlsx(client.get(f"/reports/exports/{job.id}/download"))
    assert len(workbook) == 6 and {row[3] for row in workbook[1:]} == {VUNG_TAU}


def test_export_job_keeps_the_filters(client, units, manager_of_a, db_session, facts):
    response = client.post(f"/reports/localities/{units.A.id}/learners.csv?course={facts.second.id}&mode=recorded")
    job = db_session.scalar(select(ReportExport))
    assert job.params == {"course": str(facts.second.id), "mode": "recorded"} and job.status == "done"
    table = read_csv(client.get(f"/reports/exports/{job.id}/download"))
    assert len(table) == 1 + 2 and {row[4] for row in table[1:]} == {"KH-2"}
    assert response.status_code == 302


def test_a_job_of_another_manager_stays_closed(client, units, manager_of_a, create_user, login, db_session):
    client.post(f"/reports/localities/{units.A.id}/learners.csv")
    job = db_session.scalar(select(ReportExport))
    assert job.status == "done"
    client.post("/logout")
    login(create_user("Người khác", audience="official", roles=("manager",), manager_of=units.hcmc))
    for url in (f"/reports/exports/{job.id}", f"/reports/exports/{job.id}/download"):
        response = client.get(url)
        assert response.status_code == 403 and "Total" not in text_of(response)


ROUTES = [
    ("GET", "/reports/localities/{id}"),
    ("GET", "/reports/localities/{id}?mode=recorded"),
    ("GET", "/reports/localities/{id}/coverage.csv"),
    ("GET", "/reports/localities/{id}/coverage.xlsx?mode=recorded"),
    ("GET", "/reports/localities/{id}/learners.csv"),
    ("GET", "/reports/localities/{id}/learners.xlsx"),
    ("POST", "/reports/localities/{id}/learners.csv"),
    ("POST", "/reports/localities/{id}/learners.xlsx"),
    ("GET", "/reports/localities/{id}/targets"),
    ("POST", "/reports/localities/{id}/targets"),
]


@pytest.mark.parametrize("method,url", ROUTES)
def test_commune_manager_gets_403_everywhere_outside_their_commune(client, units, manager_of_a, db_session, method, url):
    # One log-in per route (password hashing is slow), every other area tried with it.
    for other in ("B", "H", "hcmc", "hanoi", "vung_tau_district"):
        response = client.open(url.format(id=getattr(units, other).id), method=method)
        assert response.status_code == 403, other
        body = response.get_data(as_text=True)
        assert BA_RIA not in body and BA_DINH not in body and "Enrolled" not in body
    assert db_session.scalar(select(ReportExport)) is None


def test_unknown_locality_is_404_not_500(client, manager_of_a):
    assert client.get("/reports/localities/99999999/coverage.csv").status_code == 404


@pytest.mark.parametrize("url", [r[1] for r in ROUTES if r[0] == "GET"])
def test_learners_cannot_open_any_report_route(client, units, create_user, login, url):
    login(create_user())
    response = client.get(url.format(id=units.A.id))
    assert response.status_code == 403 and VUNG_TAU not in response.get_data(as_text=True)
