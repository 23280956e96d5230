"""Overdue required training, the agency filter and agency managers' scope, checked by hand.

On top of tests/reports/conftest.py (citizens, no deadline, no agency), officials enrolled in
course 1, agencies SO (Sở) ⊃ SO-CNTT (its office) and UB (a people's committee):

    person  unit recorded        agency    deadline        completed   overdue today
    p1      A Vũng Tàu           SO-CNTT   yesterday       no          yes
    p2      O Thắng Tam (→ A)    SO        yesterday       no          yes
    p3      A Vũng Tàu           SO        yesterday       yes         no
    p4      A Vũng Tàu           UB        today           no          no (the last day is today)
    p5      B Bà Rịa             UB        10 days ago     no          yes
    p6      B Bà Rịa             SO-CNTT   none            no          no

    home area (old province 77), current:  Vũng Tàu enrolled 5+4 = 9, overdue 2; Bà Rịa 2+2 = 4, overdue 1
      A as recorded: Vũng Tàu 4+3 = 7, overdue 1 (p1); Thắng Tam (o1, p2) 2, overdue 1 (p2)
    agency SO (with SO-CNTT):  Vũng Tàu 3 enrolled, 1 completed, 2 overdue; Bà Rịa 1 enrolled, 0 overdue
      as recorded:             Vũng Tàu 2 enrolled, 1 overdue; Thắng Tam (former) 1 enrolled, 1 overdue
    agency SO-CNTT:            Vũng Tàu 1/overdue 1; Bà Rịa 1/overdue 0
    agency UB:                 Vũng Tàu 1/overdue 0; Bà Rịa 1/overdue 1
"""

import csv
import io
import re
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from openapi_schema_validator import validate as validate_schema
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.accounts.operations import grant_role
from lms.agencies.operations import save_agency
from lms.api.operations import create_token
from lms.core.dates import local_today
from lms.core.db import utcnow
from lms.enrollment import operations as enrollment_ops
from lms.enrollment.models import Enrollment
from lms.reports.models import ReportExport
from lms.reports.summary import refresh
from tests.reports.test_reports import BA_RIA, THANG_TAM_OLD, VUNG_TAU

pytestmark = pytest.mark.usefixtures("english")

CELLS = ("enrolled", "completed", "completion", "certificates", "active", "attempts", "passed", "average", "hours", "overdue")


def table(response) -> dict[str, dict[str, str]]:
    """Unit → {column: text} of the dashboard's table body."""
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    result = {}
    for name, cells in re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', body, re.S):
        label = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", name)).strip()
        values = re.findall(r'<td class="num[^"]*">([^<]*)</td>', cells)
        result[label] = dict(zip(CELLS, values, strict=False))
    return result


def pick(response, *columns) -> dict[str, tuple]:
    return {unit: tuple(int(cells[c].rstrip("%")) for c in columns) for unit, cells in table(response).items()}


def report(client, unit, **params):
    return client.get(f"/reports/localities/{unit.id}", query_string=params)


@pytest.fixture()
def agencies(db_session, units):
    so = save_agency(None, code="SO-TTTT", name="Sở Thông tin và Truyền thông", kind="department")
    office = save_agency(None, code="SO-CNTT", name="Phòng Công nghệ thông tin", kind="office", parent=so)
    ub = save_agency(None, code="UB-VT", name="UBND Phường Vũng Tàu", kind="committee", locality=units.A)
    return SimpleNamespace(so=so, office=office, ub=ub)


@pytest.fixture()
def officials(db_session, units, facts, agencies):
    today = local_today()
    people = {}

    def official(key, unit, agency, deadline, completed=False):
        count = db_session.scalar(select(func.count(User.id)))
        user = User(full_name=f"Công chức {key}", full_name_folded=f"cong chuc {key}", email=f"{key}-{count}@example.vn",
                    password_hash="!", audience="official", locality=unit, agency=agency)
        db_session.add(user)
        db_session.flush()
        enrollment = enrollment_ops.enrol(user, facts.first, source="assigned")
        enrollment.deadline = deadline
        if completed:
            enrollment.completed_at = utcnow()
        people[key] = enrollment

    official("p1", units.A, agencies.office, today - timedelta(days=1))
    official("p2", units.O, agencies.so, today - timedelta(days=1))
    official("p3", units.A, agencies.so, today - timedelta(days=1), completed=True)
    official("p4", units.A, agencies.ub, today)
    official("p5", units.B, agencies.ub, today - timedelta(days=10))
    official("p6", units.B, agencies.office, None)
    assert people["p2"].locality_id == units.O.id and people["p2"].agency_id == agencies.so.id
    refresh()
    db_session.commit()
    return people


@pytest.fixture()
def admin(create_user, login):
    user = create_user("Phạm Quốc Bảo", audience="official", roles=("admin",))
    login(user)
    return user


def home(client):
    return client.get("/reports").headers["Location"]


# ---------------------------------------------------------------- overdue

def test_overdue_in_both_boundary_modes(client, units, officials, admin):
    assert pick(client.get(home(client)), "enrolled", "overdue") == {VUNG_TAU: (9, 2), BA_RIA: (4, 1)}
    assert pick(report(client, units.A), "enrolled", "overdue") == {VUNG_TAU: (9, 2)}
    assert pick(report(client, units.A, mode="recorded"), "enrolled", "overdue") == {VUNG_TAU: (7, 1), THANG_TAM_OLD: (2, 1)}
    page = client.get(home(client)).get_data(as_text=True)
    assert "Overdue required training" in page
    assert re.search(r'<tfoot>.*<td class="num overdue">3</td>', page, re.S)


def test_overdue_uses_the_date_in_vietnam(db_session, client, units, officials, admin):
    """A deadline of 10/03 is overdue from 00:00 on 11/03 in Hồ Chí Minh City (17:00 UTC on 10/03)."""
    deadline = datetime(2026, 3, 10).date()
    for enrollment in officials.values():
        if enrollment.completed_at is None and enrollment.deadline is not None:
            enrollment.deadline = deadline
    refresh(now=datetime(2026, 3, 10, 16, 30))  # 23:30 on 10/03 in Vietnam: still the last day
    db_session.commit()
    assert pick(client.get(home(client)), "overdue") == {VUNG_TAU: (0,), BA_RIA: (0,)}
    refresh(now=datetime(2026, 3, 10, 17, 30))  # 00:30 on 11/03 in Vietnam, still 10/03 in UTC
    db_session.commit()
    # p1, p2 (rolled up into Vũng Tàu), p4 in Vũng Tàu; p5 in Bà Rịa.
    assert pick(client.get(home(client)), "overdue") == {VUNG_TAU: (3,), BA_RIA: (1,)}


def test_overdue_in_the_table_export_and_the_learner_list(client, units, officials, admin):
    rows = list(csv.reader(io.StringIO(client.get(f"/reports/localities/{units.A.id}/coverage.csv").get_data(as_text=True)
                                       .lstrip("\ufeff"))))
    column = rows[0].index("Overdue required training")
    assert [(row[0], row[column]) for row in rows[1:]] == [(VUNG_TAU, "2"), ("Total", "2")]
    learners = client.get(f"/reports/localities/{units.A.id}/learners.csv", query_string={"agency": officials["p1"].agency_id})
    lines = list(csv.reader(io.StringIO(learners.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0][-1] == "Deadline"
    assert [(line[0], line[-1]) for line in lines[1:]] == [
        ("Công chức p1", (local_today() - timedelta(days=1)).strftime("%d/%m/%Y"))]


# ---------------------------------------------------------------- agency filter

def test_agency_filter_counts_the_agency_subtree_in_both_modes(client, units, agencies, officials, admin):
    assert pick(client.get(home(client), query_string={"agency": agencies.so.id}), "enrolled", "completed", "overdue") == {
        VUNG_TAU: (3, 1, 2), BA_RIA: (1, 0, 0)}
    assert pick(report(client, units.A, mode="recorded", agency=agencies.so.id), "enrolled", "overdue") == {
        VUNG_TAU: (2, 1), THANG_TAM_OLD: (1, 1)}
    assert pick(client.get(home(client), query_string={"agency": agencies.office.id}), "enrolled", "overdue") == {
        VUNG_TAU: (1, 1), BA_RIA: (1, 0)}
    assert pick(client.get(home(client), query_string={"agency": agencies.ub.id}), "enrolled", "overdue") == {
        VUNG_TAU: (1, 0), BA_RIA: (1, 1)}
    # A month range reads the monthly summary, which carries the agency too.
    month = utcnow().strftime("%Y-%m")
    assert pick(client.get(home(client), query_string={"agency": agencies.so.id, "from": month}), "enrolled") == {
        VUNG_TAU: (3,), BA_RIA: (1,)}


def test_unknown_agency_is_a_clear_400(client, units, officials, admin):
    response = report(client, units.A, agency="999999")
    assert response.status_code == 400 and "Unknown agency." in response.get_data(as_text=True)
    assert report(client, units.A, agency="SO").status_code == 400


# ---------------------------------------------------------------- agency managers

@pytest.fixture()
def so_manager(create_user, login, agencies, db_session):
    user = create_user("Trần Thị Sở", audience="official")
    grant_role(user, "manager", agency=agencies.so)
    db_session.commit()
    login(user)
    return user


def test_agency_manager_sees_only_their_agency(client, units, agencies, officials, so_manager):
    landing = client.get("/reports")
    assert landing.status_code == 302 and f"agency={agencies.so.id}" in landing.headers["Location"]
    expected = {VUNG_TAU: (3, 2), BA_RIA: (1, 0)}
    assert pick(client.get(landing.headers["Location"]), "enrolled", "overdue") == expected
    # Without the agency in the URL the page is still narrowed to it, never the whole area.
    assert pick(report(client, units.A), "enrolled", "overdue") == {VUNG_TAU: (3, 2)}
    # Their office is inside their subtree; another agency is not.
    assert pick(report(client, units.A, agency=agencies.office.id), "enrolled") == {VUNG_TAU: (1,)}
    assert report(client, units.A, agency=agencies.ub.id).status_code == 403
    assert "Residents reached" not in report(client, units.A).get_data(as_text=True)


def test_agency_manager_exports_stay_in_their_agency(client, units, agencies, officials, so_manager, db_session):
    ub = {"agency": agencies.ub.id}
    assert client.get(f"/reports/localities/{units.A.id}/coverage.csv", query_string=ub).status_code == 403
    table_csv = client.get(f"/reports/localities/{units.A.id}/coverage.csv").get_data(as_text=True)
    assert "Total,,3,0,1," in table_csv
    names = client.get(f"/reports/localities/{units.A.id}/learners.csv").get_data(as_text=True)
    assert {"Công chức p1", "Công chức p2", "Công chức p3"} == set(re.findall(r"Công chức p\d", names))
    assert "Học viên" not in names
    assert client.get(f"/reports/localities/{units.A.id}/learners.csv",
                      query_string={"agency": agencies.ub.id}).status_code == 403
    assert client.post(f"/reports/localities/{units.A.id}/learners.xlsx",
                       query_string={"agency": agencies.ub.id}).status_code == 403

    started = client.post(f"/reports/localities/{units.A.id}/learners.xlsx")
    job = db_session.scalar(select(ReportExport).order_by(ReportExport.id.desc()))
    assert started.status_code == 302 and job.params["agency"] == str(agencies.so.id)
    assert client.get(f"/reports/exports/{job.id}").status_code == 200
    assert job.can_view(so_manager)
    so_manager.grants.clear()
    grant_role(so_manager, "manager", agency=agencies.ub)
    db_session.commit()
    assert not job.can_view(so_manager)


def test_api_token_narrowed_to_an_agency(client, units, agencies, officials, db_session):
    token, secret = create_token("IOC Sở", units.hcmc, agency=agencies.so)
    db_session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    data = client.get(f"/api/v1/reports/localities/{units.A.id}", headers=headers).get_json()
    assert data["filters"]["agency"] == str(agencies.so.id)
    assert [(r["locality"]["name"], r["enrolled"], r["overdue_required"]) for r in data["rows"]] == [(VUNG_TAU, 3, 2)]
    assert data["targets"] == []
    office = client.get(f"/api/v1/reports/localities/{units.A.id}", headers=headers,
                        query_string={"agency": agencies.office.id, "mode": "recorded"}).get_json()
    assert office["total"]["enrolled"] == 1 and office["total"]["overdue_required"] == 1
    other = client.get(f"/api/v1/reports/localities/{units.A.id}", headers=headers, query_string={"agency": agencies.ub.id})
    assert other.status_code == 403 and other.get_json()["error"] == 403
    scope = client.get("/api/v1/reports/scope", headers=headers).get_json()
    assert scope["agency"]["code"] == "SO-TTTT"

    document = client.get("/api/v1/openapi.json").get_json()
    assert "overdue_required" in document["components"]["schemas"]["Metrics"]["required"]
    assert any(p["name"] == "agency" for p in document["paths"]["/reports/localities/{locality_id}"]["get"]["parameters"])
    coverage = dict(document["components"]["schemas"]["Coverage"], components=document["components"])
    validate_schema(data, coverage)
    scope_schema = document["paths"]["/reports/scope"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    validate_schema(scope, dict(scope_schema, components=document["components"]))


def test_api_locality_token_filters_by_agency_and_reports_overdue(client, units, agencies, officials, db_session):
    token, secret = create_token("IOC", units.hcmc)
    db_session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    url = f"/api/v1/reports/localities/{units.hcmc.id}"
    data = client.get(url, headers=headers, query_string={"mode": "recorded"}).get_json()
    assert {r["locality"]["name"]: r["overdue_required"] for r in data["rows"]} == {VUNG_TAU: 1, "Phường Thắng Tam": 1, BA_RIA: 1}
    assert data["total"]["overdue_required"] == 3
    ub = client.get(f"/api/v1/reports/localities/{units.hcmc.id}", headers=headers, query_string={"agency": agencies.ub.id})
    assert {r["locality"]["name"]: (r["enrolled"], r["overdue_required"]) for r in ub.get_json()["rows"]} == {
        VUNG_TAU: (1, 0), BA_RIA: (1, 1)}
    assert db_session.scalar(select(func.count(Enrollment.id)).where(Enrollment.agency_id.is_not(None))) == 6
