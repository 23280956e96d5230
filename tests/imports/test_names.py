"""People files that name the commune and the agency (defect 14), and truncated CSVs.

The fixtures are what HR departments send: `danh-sach-can-bo-xa-phuong.csv` (Excel "CSV UTF-8",
headers "Đơn vị công tác", "Xã/Phường") and `nhan-su-so-tttt.xlsx` ("Cơ quan", "Phường/Xã"),
with today's names, names from before July 2025, with and without diacritics, abbreviations and
a district after a comma. Expected units are checked against the shipped locality data.
"""

import io
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from lms.accounts.models import User
from lms.agencies.operations import import_agencies_csv
from lms.imports.mapping import detect
from lms.imports.operations import plan_import
from lms.imports.reader import read_table
from lms.localities.models import Locality
from tests.conftest import text_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
CSV_FILE, XLSX_FILE = FIXTURES / "danh-sach-can-bo-xa-phuong.csv", FIXTURES / "nhan-su-so-tttt.xlsx"

AGENCIES = """code,name,parent_code,kind,locality_code
SO-TTTT,Sở Thông tin và Truyền thông,,department,
SO-TTTT-VP,Văn phòng,SO-TTTT,office,
UB-VT,UBND Phường Vũng Tàu,,committee,26506
UB-VT-VP,Văn phòng,UB-VT,office,26506
UB-LD,UBND Xã Long Điền,,committee,26659
UB-CD,UBND Đặc khu Côn Đảo,,committee,26732
"""


@pytest.fixture()
def agencies(db_session):
    counts = import_agencies_csv(AGENCIES.encode())
    assert counts["errors"] == [] and counts["created"] == 6


def today(code: str, db_session) -> int:
    return db_session.scalar(select(Locality.id).where(Locality.scheme == "2025-07", Locality.code == code))


def plan_of(path, data=None):
    """The dry-run plan, its messages in English (the CLI and the job speak Vietnamese by default)."""
    headers, rows = read_table(data if data is not None else path.read_bytes(), path.name)
    with force_locale("en"):
        return plan_import(headers, rows, detect(headers))


def placed(plan, db_session) -> dict:
    """Full name → (commune code today, agency code) of the planned new accounts."""
    from lms.agencies.models import Agency

    codes = dict(db_session.execute(select(Locality.id, Locality.code).where(Locality.scheme == "2025-07")).all())
    agencies = dict(db_session.execute(select(Agency.id, Agency.code)).all())
    return {record["full_name"]: (codes.get(record.get("locality_id")), agencies.get(record.get("agency_id")))
            for _number, record in plan.creates}


def test_hr_headers_are_mapped_to_commune_and_agency_names():
    headers, _rows = read_table(CSV_FILE.read_bytes(), CSV_FILE.name)
    assert detect(headers) == {"full_name": "Họ và tên", "position": "Chức vụ", "agency_name": "Đơn vị công tác",
                               "locality_name": "Xã/Phường", "phone": "Số điện thoại", "email": "Email"}
    headers, _rows = read_table(XLSX_FILE.read_bytes(), XLSX_FILE.name)
    assert detect(headers) == {"full_name": "Họ tên", "position": "Chức danh", "agency_name": "Cơ quan",
                               "locality_name": "Phường/Xã", "phone": "Điện thoại", "email": "Thư điện tử"}
    for spelling in ("Xã/Phường", "Phường/Xã", "Phuong/Xa", "XA / PHUONG", "Xã, phường, thị trấn", "Địa bàn"):
        assert detect(["Họ tên", spelling]) == {"full_name": "Họ tên", "locality_name": spelling}, spelling
    for spelling in ("Đơn vị", "Cơ quan", "Don vi cong tac", "Cơ quan, đơn vị", "Tên cơ quan"):
        assert detect(["Họ tên", spelling]) == {"full_name": "Họ tên", "agency_name": spelling}, spelling
    assert detect(["Mã xã", "Mã đơn vị"]) == {"locality_code": "Mã xã", "agency_code": "Mã đơn vị"}


def test_csv_names_resolve_to_todays_units_and_agencies(db_session, agencies):
    plan = plan_of(CSV_FILE)
    assert plan.total == 10 and plan.counts["created"] == 7
    assert placed(plan, db_session) == {
        "Nguyễn Thị Thu Hà": ("26506", "UB-VT"),   # Phường Vũng Tàu
        "Trần Quốc Bảo": ("26506", "UB-VT"),       # "phuong thang tam": former ward → Phường Vũng Tàu; "Ủy ban nhân dân phường …"
        "Lê Văn Tùng": ("26659", "UB-LD"),         # Xã Long Điền: unique in the home area, other provinces have one too
        "Phạm Ngọc Ánh": ("26659", "UB-LD"),       # Thị trấn Long Điền (former) → Xã Long Điền
        "Võ Thị Kim Oanh": ("26526", "SO-TTTT"),   # Phường 7 of old Vũng Tàu (16 "Phường 7" in the country) → Tam Thắng
        "Đặng Minh Trí": ("26740", "SO-TTTT"),     # Phường Bến Nghé, outside the home area → Phường Sài Gòn
        "Trịnh Bảo Ngọc": ("26506", "UB-VT"),      # "Phường 1, TP. Vũng Tàu"
    }
    errors = {number: message for number, _cells, message in plan.errors}
    assert sorted(errors) == [8, 9, 10]
    assert errors[8].startswith("“Phước Hưng” fits several communes: ")
    assert "Phường Phước Hưng (Thành phố Bà Rịa, Tỉnh Bà Rịa - Vũng Tàu) → Phường Bà Rịa" in errors[8]
    assert "Xã Phước Hưng (Huyện Long Đất, Tỉnh Bà Rịa - Vũng Tàu) → Xã Long Hải" in errors[8]
    assert "Huyện Tuy Phước" not in errors[8]  # the home area's candidates only
    assert "Several agencies are named “Văn phòng”: Văn phòng (SO-TTTT-VP, Sở Thông tin và Truyền thông)" in errors[8]
    assert "Văn phòng (UB-VT-VP, UBND Phường Vũng Tàu, Phường Vũng Tàu)" in errors[8]
    assert errors[9].startswith("“Xã Tân Phú” fits several communes: ") and "and " in errors[9] and "more" in errors[9]
    assert "No agency is named “Sở Giao thông Vận tải”" in errors[9]
    assert errors[10].startswith("No commune or ward is named “Phường Hòa Bình Xanh”")


def test_xlsx_names_without_diacritics_abbreviated_or_qualified(db_session, agencies):
    plan = plan_of(XLSX_FILE)
    assert placed(plan, db_session) == {
        "Lâm Thị Ngọc Trâm": ("26506", "SO-TTTT"),  # "PHUONG VUNG TAU", "sở thông tin và truyền thông"
        "Châu Văn Lộc": ("26732", "UB-CD"),         # "Côn Đảo": the special zone (formerly Huyện Côn Đảo)
        "Tạ Thị Hồng Nhung": ("26659", "UB-LD"),    # "Xa Long Dien"
        "Mai Xuân Trường": ("26526", "UB-VT"),      # "P. Tam Thắng"
        "Dương Thị Bích": ("26506", "UB-VT"),       # "Phường 01" → the former Phường 1 of Vũng Tàu
    }
    (number, _cells, message), = plan.errors
    # "Xã Tân Phú, Đồng Nai" was resolved; only the agency is unknown.
    assert number == 7 and message.startswith("No agency is named “Ban Quản lý dự án”") and "commune" not in message


def test_cli_imports_named_communes_and_reports_the_rows_it_cannot_place(app, db_session, agencies):
    result = app.test_cli_runner().invoke(args=["users", "import", str(CSV_FILE)])
    assert result.exit_code == 0, result.output
    assert "locality_name='Xã/Phường'" in result.output and "agency_name='Đơn vị công tác'" in result.output
    assert "7 created, 0 updated, 0 unchanged, 3 failed" in result.output
    for number in (8, 9, 10):
        assert f"row {number}: " in result.output
    # The command speaks Vietnamese, the default language.
    assert "row 8: “Phước Hưng” ứng với nhiều xã, phường: Phường Phước Hưng (Thành phố Bà Rịa" in result.output
    assert "row 10: Không có xã, phường nào tên “Phường Hòa Bình Xanh”" in result.output
    ha = db_session.scalar(select(User).where(User.email == "thuha.ubnd@vungtau.gov.vn"))
    assert ha.locality_id == today("26506", db_session) and ha.agency.code == "UB-VT"
    assert db_session.scalar(select(User).where(User.email == "mylinh.vp@vungtau.gov.vn")) is None


def test_admin_imports_the_xlsx_with_the_columns_preselected(client, create_user, login, db_session, agencies):
    with client.session_transaction() as session:
        session["lang"] = "en"
    login(create_user(roles=("admin",)))
    response = client.post("/admin/imports/", data={"file": (io.BytesIO(XLSX_FILE.read_bytes()), XLSX_FILE.name),
                                                    "default_audience": "official"}, content_type="multipart/form-data")
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    html = preview.get_data(as_text=True)
    assert '<option selected value="Phường/Xã">' in html and '<option selected value="Cơ quan">' in html
    page = text_of(preview)
    assert "New accounts 5" in page and "Rows with errors 1" in page and "No agency is named" in page
    mapping = {"map_full_name": "Họ tên", "map_email": "Thư điện tử", "map_phone": "Điện thoại",
               "map_position": "Chức danh", "map_agency_name": "Cơ quan", "map_locality_name": "Phường/Xã", "run": "1"}
    response = client.post(response.headers["Location"], data=mapping)
    assert response.status_code == 302
    loc = db_session.scalar(select(User).where(User.email == "vanloc.ubnd@condao.gov.vn"))
    assert loc.locality_id == today("26732", db_session) and loc.agency.code == "UB-CD" and loc.audience == "official"


@pytest.mark.parametrize("cut", [
    pytest.param(lambda data: data[:data.rindex(b",0938")], id="last line cut mid-row"),
    pytest.param(lambda data: data[:data.rindex(b"TP. V")], id="unclosed quote"),
])
def test_a_truncated_csv_does_not_import_its_cut_off_last_row(db_session, agencies, cut):
    data = cut(CSV_FILE.read_bytes())
    plan = plan_of(CSV_FILE, data)
    assert plan.total == 10 and plan.counts["created"] == 6
    assert "Trịnh Bảo Ngọc" not in placed(plan, db_session)
    errors = {number: message for number, _cells, message in plan.errors}
    assert errors[11].startswith("The file ends in the middle of this row")


def test_a_complete_csv_without_a_final_line_end_imports_its_last_row(db_session, agencies):
    data = CSV_FILE.read_bytes().rstrip(b"\r\n")
    plan = plan_of(CSV_FILE, data)
    assert plan.counts["created"] == 7 and "Trịnh Bảo Ngọc" in placed(plan, db_session)


def test_the_example_in_an_ambiguity_message_resolves_it(db_session, agencies):
    from lms.imports.names import CommuneNames

    communes = CommuneNames()
    with force_locale("en"):
        _none, message = communes.resolve("Phước Hưng")
    example = message.split("(e.g. “", 1)[1].split("”", 1)[0]
    assert example == "Phước Hưng, Thành phố Bà Rịa, Tỉnh Bà Rịa - Vũng Tàu"
    assert communes.resolve(example) == (today("26560", db_session), None)
    assert communes.resolve("Phước Hưng, TP Bà Rịa") == (today("26560", db_session), None)
    _none, message = communes.resolve("Xã Tân Phú")  # in Vietnamese here: "(ví dụ “…”)"
    example = message.split("(ví dụ “", 1)[1].split("”", 1)[0]
    unit_id, problem = communes.resolve(example)
    assert problem is None and unit_id is not None
    assert communes.resolve("26506") == (today("26506", db_session), None)
