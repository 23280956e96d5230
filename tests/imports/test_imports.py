"""Bulk import of people: header detection, dry run, idempotent re-runs, bad rows, XLSX with diacritics,
the job pages with progress and the error file, the CLI, and set-password links for imported accounts."""

import csv
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.agencies.operations import import_agencies_csv
from lms.imports.mapping import detect
from lms.imports.operations import apply_plan, error_file, plan_import
from lms.imports.reader import FileFormatError, read_table
from tests.conftest import text_of

HEADERS = ["Họ và tên", "Email", "Số điện thoại", "Mã xã", "Mã cơ quan", "Chức vụ", "Đối tượng"]
ROWS = [
    ["Nguyễn Thị Hoà", "hoa@sotttt.vn", "0912 345 678", "26506", "STTTT", "Chuyên viên", "Cán bộ công chức"],
    ["Trần Văn Đức", "", "+84 913 000 111", "26506", "", "", "người dân"],
    ["", "khong-ten@x.vn", "", "", "", "", ""],                           # row 4: no name
    ["Lê Văn Sai", "sai-email", "", "", "", "", ""],                      # row 5: bad e-mail
    ["Phạm Thị Mã", "ma@x.vn", "", "99999", "", "", ""],                  # row 6: unknown commune
    ["Võ Văn Trùng", "HOA@sotttt.vn", "", "", "", "", ""],                 # row 7: same e-mail as row 2
    ["Đặng Thu Cơ Quan", "cq@x.vn", "", "", "KHONG-CO", "", ""],           # row 8: unknown agency
]


def _csv(rows=ROWS, headers=HEADERS, bom=True, delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def _xlsx(rows=ROWS, headers=HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([int(cell) if cell.isdigit() and len(cell) == 5 else cell for cell in row])  # codes as numbers
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture()
def agency(db_session):
    import_agencies_csv("code,name\nSTTTT,Sở Thông tin và Truyền thông\n".encode())


def _plan(data, filename="people.csv"):
    headers, rows = read_table(data, filename)
    return plan_import(headers, rows, detect(headers))


def test_vietnamese_and_english_headers_are_detected():
    assert detect(HEADERS) == {"full_name": "Họ và tên", "email": "Email", "phone": "Số điện thoại",
                               "locality_code": "Mã xã", "agency_code": "Mã cơ quan", "position": "Chức vụ",
                               "audience": "Đối tượng"}
    assert detect(["Full name", "E-mail", "Phone number", "Commune code", "Agency code", "Position", "Audience"]) == {
        "full_name": "Full name", "email": "E-mail", "phone": "Phone number", "locality_code": "Commune code",
        "agency_code": "Agency code", "position": "Position", "audience": "Audience"}
    assert detect(["HO TEN", "SĐT", "Ghi chú"]) == {"full_name": "HO TEN", "phone": "SĐT"}


@pytest.mark.parametrize("encode", [
    lambda: _csv(bom=True), lambda: _csv(bom=False), lambda: _csv(delimiter=";"), _xlsx])
def test_plan_reports_each_bad_row_with_its_number_and_keeps_the_good(db_session, agency, encode):
    data = encode()
    plan = _plan(data, "people.xlsx" if data[:2] == b"PK" else "people.csv")
    assert plan.total == 7
    assert plan.counts == {"created": 2, "updated": 0, "unchanged": 0, "failed": 5}
    errors = {number: message for number, _cells, message in plan.errors}
    assert sorted(errors) == [4, 5, 6, 7, 8]
    assert "row 2" in errors[7] or "2" in errors[7]
    created = {record["full_name"]: record for _n, record in plan.creates}
    assert created["Nguyễn Thị Hoà"]["phone"] == "0912345678" and created["Nguyễn Thị Hoà"]["audience"] == "official"
    assert created["Trần Văn Đức"]["phone"] == "0913000111" and created["Trần Văn Đức"]["audience"] == "citizen"


def test_apply_creates_then_a_rerun_updates_instead_of_duplicating(db_session, agency, commune):
    plan = _plan(_csv())
    assert apply_plan(plan)["created"] == 2
    hoa = db_session.scalar(select(User).where(User.email == "hoa@sotttt.vn"))
    assert hoa.full_name == "Nguyễn Thị Hoà" and hoa.full_name_folded == "nguyen thi hoa"
    assert hoa.agency.code == "STTTT" and hoa.position_folded == "chuyen vien" and hoa.locality == commune()
    assert hoa.must_set_password and not hoa.check_password("")
    count = db_session.scalar(select(func.count(User.id)))

    again = _plan(_csv())
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2, "failed": 5}
    changed = [list(r) for r in ROWS]
    changed[0][5] = "Trưởng phòng"
    changed[1][1] = "duc@x.vn"   # matched by phone, gains an e-mail
    plan = _plan(_csv(changed))
    assert plan.counts["updated"] == 2 and plan.counts["created"] == 0
    apply_plan(plan)
    db_session.expire_all()
    assert db_session.scalar(select(func.count(User.id))) == count
    assert hoa.position == "Trưởng phòng"
    assert db_session.scalar(select(User).where(User.phone == "0913000111")).email == "duc@x.vn"


def test_phone_of_another_account_is_an_error_not_a_merge(db_session, create_user):
    create_user("Chủ email", email="a@x.vn")
    other = create_user("Chủ số", email="b@x.vn")
    other.phone = "0987654321"
    plan = _plan(_csv([["Ai Đó", "a@x.vn", "0987654321", "", "", "", ""]]))
    assert plan.counts == {"created": 0, "updated": 0, "unchanged": 0, "failed": 1}
    assert plan.errors[0][0] == 2


def test_error_file_has_the_bad_rows_with_number_and_message(db_session, agency):
    headers, rows = read_table(_csv(), "p.csv")
    plan = plan_import(headers, rows, detect(headers))
    data = error_file(headers, plan.errors).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(data)))
    assert len(table) == 6 and table[1][0] == "4" and table[1][2] == "khong-ten@x.vn" and table[1][-1]


def test_unreadable_files_give_a_clear_error():
    with pytest.raises(FileFormatError):
        read_table("Họ và tên\nAn\n".encode("utf-16"), "people.csv")
    with pytest.raises(FileFormatError):
        read_table(b"PK\x03\x04broken", "people.xlsx")


def test_cli_dry_run_then_import(app, db_session, agency, tmp_path):
    path = tmp_path / "people.xlsx"
    path.write_bytes(_xlsx())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "row 4:" in result.output and "row 8:" in result.output
    assert "would be 2 created, 0 updated, 0 unchanged, 5 failed" in result.output
    assert db_session.scalar(select(func.count(User.id)).where(User.email == "hoa@sotttt.vn")) == 0
    result = runner.invoke(args=["users", "import", str(path)])
    assert "2 created, 0 updated, 0 unchanged, 5 failed" in result.output and result.exit_code == 0
    assert db_session.scalar(select(User.full_name).where(User.email == "hoa@sotttt.vn")) == "Nguyễn Thị Hoà"
    # Nothing importable: non-zero exit.
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv(ROWS[2:5]))
    result = runner.invoke(args=["users", "import", str(bad)])
    assert result.exit_code == 1 and "0 created" in result.output


def test_admin_uploads_checks_adjusts_mapping_runs_and_downloads_errors(client, create_user, login, db_session, agency):
    with client.session_transaction() as session:
        session["lang"] = "en"
    login(create_user(roles=("admin",)))
    headers = ["Tên đầy đủ", "Thư", "Điện thoại"]   # "Tên đầy đủ" and "Thư" are not recognised
    data = _csv([["Hồ Thị Xuân", "xuan@x.vn", ""], ["Không Thư", "", "12"]], headers=headers)
    response = client.post("/admin/imports/", data={"file": (io.BytesIO(data), "danh-sach.csv"),
                                                    "default_audience": "citizen"},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = text_of(client.get(preview_url))
    assert "Choose the column with the full name" in page
    # Running without a name column is refused; nothing is queued.
    response = client.post(preview_url, data={"map_email": "Thư", "run": "1"})
    assert response.status_code == 400 and db_session.scalar(select(func.count(User.id)).where(User.email == "xuan@x.vn")) == 0
    # The dry run again with these columns: made by the worker (eager here), then shown.
    response = client.post(preview_url, data={"map_full_name": "Tên đầy đủ", "map_email": "Thư",
                                              "map_phone": "Điện thoại", "check": "1"}, follow_redirects=True)
    page = text_of(response)
    assert "New accounts 1" in page and "Rows with errors 1" in page and "not a valid mobile number" in page
    assert db_session.scalar(select(func.count(User.id)).where(User.email == "xuan@x.vn")) == 0  # dry run only
    response = client.post(preview_url, data={"map_full_name": "Tên đầy đủ", "map_email": "Thư",
                                              "map_phone": "Điện thoại", "run": "1"})
    assert response.status_code == 302
    # The eager Celery task ran after the request: the job is done.
    page = text_of(client.get(response.headers["Location"]))
    assert "Finished" in page and "2 of 2 rows" in page and "New accounts 1" in page
    assert "Import of danh-sach.csv finished" in text_of(client.get("/notifications"))
    xuan = db_session.scalar(select(User).where(User.email == "xuan@x.vn"))
    assert xuan.full_name == "Hồ Thị Xuân" and xuan.audience == "citizen" and xuan.must_set_password
    errors = client.get(response.headers["Location"] + "/errors.csv")
    body = errors.get_data().decode("utf-8-sig")
    assert "Không Thư" in body and "not a valid mobile number" in body and body.splitlines()[1].startswith("3,")


def test_progress_page_offers_a_reload_while_running(client, create_user, login, db_session):
    from lms.imports.models import ImportJob

    admin = create_user(roles=("admin",))
    job = ImportJob(created_by_id=admin.id, filename="x.csv", file_key="imports/x/people.csv", status="running",
                    total=200, processed=50)
    db_session.add(job)
    db_session.flush()
    login(admin)
    response = client.get(f"/admin/imports/{job.id}")
    html = response.get_data(as_text=True)
    # No meta refresh (a page that reloads itself fails WCAG 2.2.1): a link to reload instead.
    assert 'http-equiv="refresh"' not in html and 'value="25"' in html
    assert f'href="/admin/imports/{job.id}"' in html
    login_learner = create_user("Học viên")
    client.post("/logout")
    login(login_learner)
    assert client.get(f"/admin/imports/{job.id}").status_code == 403


def test_imported_account_sets_its_password_once_through_the_link(client, db_session, app, agency):
    from lms.accounts.recovery import set_password_link

    apply_plan(_plan(_csv(ROWS[:1])))
    hoa = db_session.scalar(select(User).where(User.email == "hoa@sotttt.vn"))
    link = set_password_link(hoa)
    path = link.split("lms.test", 1)[-1] if "lms.test" in link else link[link.index("/set-password/"):]
    response = client.post(path, data={"password": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"})
    assert response.status_code == 302 and not hoa.must_set_password and hoa.check_password("mat-khau-moi-1")
    response = client.post(path, data={"password": "khac-nua-22", "confirm": "khac-nua-22"})
    assert response.status_code == 400 and hoa.check_password("mat-khau-moi-1")


def test_upload_of_an_unreadable_file_is_refused_with_a_message(client, create_user, login, db_session):
    from lms.imports.models import ImportJob

    with client.session_transaction() as session:
        session["lang"] = "en"
    login(create_user(roles=("admin",)))
    response = client.post("/admin/imports/", data={"file": (io.BytesIO("Họ tên\n".encode("utf-16")), "x.csv"),
                                                    "default_audience": "official"}, content_type="multipart/form-data")
    assert response.status_code == 400 and "not UTF-8 text" in text_of(response)
    assert db_session.scalar(select(func.count(ImportJob.id))) == 0
    assert "Recent imports" not in text_of(client.get("/admin/imports/"))


def test_pages_for_trainers_and_admins_render(client, create_user, login, db_session):
    login(create_user(roles=("admin", "trainer")))
    for path in ("/admin/imports/", "/admin/agencies/", "/admin/agencies/new", "/classes/", "/classes/new",
                 "/notifications", "/notifications/settings", "/dev/mailbox", "/profile"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Nhập danh sách người dùng" in text_of(response), path  # the admin menu, in Vietnamese
