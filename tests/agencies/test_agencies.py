"""Agencies: the tree and its paths, CSV import (idempotent, any row order), admin pages, users' agency/position,
agency-scoped managers."""

import io

import pytest
from sqlalchemy import func, select

from lms.accounts.operations import set_user_agency
from lms.agencies import operations, queries
from lms.agencies.models import Agency
from tests.conftest import text_of

CSV = """\ufeffcode,name,parent_code,kind,locality_code
VP-STTTT,Văn phòng Sở Thông tin và Truyền thông,STTTT,office,
STTTT,Sở Thông tin và Truyền thông,,department,79
UBND-VT,UBND Phường Vũng Tàu,,committee,26506
PVH-VT,Phòng Văn hoá - Xã hội,UBND-VT,office,26506
BAD,,,,
ORPHAN,Phòng mồ côi,NOPE,office,
""".encode()


@pytest.fixture()
def english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def test_csv_import_builds_the_tree_and_is_idempotent(db_session):
    counts = operations.import_agencies_csv(CSV)
    assert (counts["created"], counts["updated"]) == (4, 0)
    assert [number for number, _message in counts["errors"]] == [6, 7]
    department, office = queries.by_code("STTTT"), queries.by_code("VP-STTTT")
    assert office.parent is department and office.path == f"{department.path}{office.id}/"
    assert department.contains(office) and not office.contains(department)
    assert department.locality.code == "79" and department.locality.level == "province"
    assert [a.code for a in queries.tree(department)] == ["STTTT", "VP-STTTT"]
    assert queries.search("van hoa")[0].code == "PVH-VT"

    again = operations.import_agencies_csv(CSV.replace("Phòng Văn hoá - Xã hội".encode(), "Phòng Văn hoá và Xã hội".encode()))
    assert (again["created"], again["updated"]) == (0, 4)
    assert db_session.scalar(select(func.count(Agency.id))) == 4
    assert queries.by_code("PVH-VT").name == "Phòng Văn hoá và Xã hội"


def test_moving_an_agency_rewrites_the_paths_below_it(db_session):
    operations.import_agencies_csv(CSV)
    ubnd, vhxh, department = queries.by_code("UBND-VT"), queries.by_code("PVH-VT"), queries.by_code("STTTT")
    operations.save_agency(ubnd, code="UBND-VT", name=ubnd.name, kind="committee", parent=department)
    assert vhxh.path.startswith(department.path) and department.contains(vhxh)
    with pytest.raises(operations.AgencyError):
        operations.save_agency(department, code="STTTT", name=department.name, parent=vhxh)


def test_admin_creates_and_imports_agencies_through_the_pages(client, english, create_user, login, db_session):
    admin = create_user(roles=("admin",))
    login(admin)
    response = client.post("/admin/agencies/new", data={"code": "sxd", "name": "Sở  Xây dựng", "kind": "department"})
    assert response.status_code == 302 and queries.by_code("SXD").name == "Sở Xây dựng"
    response = client.post("/admin/agencies/new", data={"code": "SXD", "name": "Trùng", "kind": "department"})
    assert response.status_code == 400 and "already has the code SXD" in text_of(response)
    # The file is imported by the worker (eager here); the job page shows the outcome and the error file.
    response = client.post("/admin/agencies/import", data={"file": (io.BytesIO(CSV), "agencies.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]))
    assert "Finished" in page and "New agencies 4" in page and "Rows with errors 2" in page
    errors = client.get(response.headers["Location"] + "/errors.csv").get_data().decode("utf-8-sig")
    assert "7,Unknown parent agency code NOPE." in errors
    assert "Phòng Văn hoá - Xã hội" in text_of(client.get("/admin/agencies/?q=van hoa"))


def test_learners_cannot_open_the_agency_pages(client, create_user, login):
    login(create_user())
    assert client.get("/admin/agencies/").status_code == 403


def test_cli_import(app, db_session, tmp_path):
    path = tmp_path / "agencies.csv"
    path.write_bytes(CSV)
    result = app.test_cli_runner().invoke(args=["agencies", "import", str(path)])
    assert result.exit_code == 0 and "4 created, 0 updated, 2 failed" in result.output
    assert "row 6:" in result.output


def test_profile_shows_agency_and_the_user_edits_their_position(client, english, create_user, login, db_session):
    operations.import_agencies_csv(CSV)
    user = create_user()
    set_user_agency(user, queries.by_code("PVH-VT"))
    login(user)
    response = client.post("/profile", data={"position": "  Chuyên viên  "})
    assert response.status_code == 302
    assert user.position == "Chuyên viên" and user.position_folded == "chuyen vien"
    page = text_of(client.get("/profile"))
    assert "Phòng Văn hoá - Xã hội" in page and "Chuyên viên" in page
    # A learner cannot edit someone else's account.
    other = create_user("Trần Thị Bình")
    assert client.post(f"/admin/users/{other.id}", data={"agency_code": "STTTT"}).status_code == 403
    assert other.agency is None


def test_admin_sets_anyones_agency_and_position(client, english, create_user, login, db_session):
    operations.import_agencies_csv(CSV)
    admin, user = create_user(roles=("admin",)), create_user("Trần Thị Bình")
    login(admin)
    response = client.post(f"/admin/users/{user.id}", data={"agency_code": "NOPE", "position": "x"})
    assert response.status_code == 400 and "No agency has this code" in text_of(response)
    client.post(f"/admin/users/{user.id}", data={"agency_code": "stttt", "position": "Phó Giám đốc"})
    assert user.agency.code == "STTTT" and user.position == "Phó Giám đốc"


def test_manager_scoped_to_an_agency_subtree(db_session, create_user, commune):
    from lms.accounts.operations import grant_role

    operations.import_agencies_csv(CSV)
    manager = create_user("Quản lý")
    grant_role(manager, "manager", agency=queries.by_code("UBND-VT"))
    inside, outside = create_user("Trong"), create_user("Ngoài")
    set_user_agency(inside, queries.by_code("PVH-VT"))
    set_user_agency(outside, queries.by_code("VP-STTTT"))
    assert manager.can_manage_agency(queries.by_code("PVH-VT"))
    assert not manager.can_manage_agency(queries.by_code("STTTT"))
    assert manager.can_manage_user(inside) and not manager.can_manage_user(outside)


def test_edit_page_shows_the_current_values_and_cli_grants_an_agency_scope(app, client, english, create_user, login,
                                                                          db_session):
    operations.import_agencies_csv(CSV)
    login(create_user(roles=("admin",)))
    html = client.get(f"/admin/agencies/{queries.by_code('PVH-VT').id}/edit").get_data(as_text=True)
    assert 'value="PVH-VT"' in html and 'value="UBND-VT"' in html and 'value="26506"' in html
    manager = create_user("Quản lý cơ quan")
    result = app.test_cli_runner().invoke(args=["users", "grant", manager.email, "manager", "--agency", "ubnd-vt"])
    assert result.exit_code == 0 and "UBND Phường Vũng Tàu" in result.output
    assert manager.can_manage_agency(queries.by_code("PVH-VT"))
    result = app.test_cli_runner().invoke(args=["users", "grant", manager.email, "manager", "--agency", "NOPE"])
    assert result.exit_code == 1 and "no agency NOPE" in result.output
