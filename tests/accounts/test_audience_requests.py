"""Issue 12, finding 7 (audiences): registering as an official or CIO is a request; the account is a
resident — not counted among staff, no officials-only courses — until a manager of the person's
area approves it (or an import says so)."""

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.core.models import AuditEvent
from tests.conftest import text_of


@pytest.fixture()
def registered(client, commune, db_session):
    with client.session_transaction() as session:
        session["lang"] = "en"
    ward = commune()
    response = client.post("/register", data={
        "full_name": "Cán Bộ Tự Khai", "login": "tukhai@example.vn", "password": "mot-mat-khau-dai-2025",
        "confirm": "mot-mat-khau-dai-2025", "audience": "official", "locality_id": str(ward.id), "consent": "y",
        "submit": "1"},
        follow_redirects=True)
    assert "A manager of your commune or agency will confirm" in text_of(response)
    client.post("/logout")
    return db_session.scalar(select(User).where(User.email == "tukhai@example.vn"))


def test_a_self_declared_official_is_a_resident_with_a_pending_request(registered):
    assert registered.audience == "citizen" and registered.audience_requested == "official"


def test_the_manager_of_the_area_approves_and_it_is_recorded(client, login, create_user, registered, db_session,
                                                             commune):
    manager = create_user("Quản Lý Phường", roles=("manager",), email="ql@example.vn", manager_of=commune())
    login(manager)
    page = text_of(client.get("/manage/audience-requests"))
    assert "Cán Bộ Tự Khai" in page and "tukhai@example.vn" in page
    response = client.post(f"/manage/audience-requests/{registered.id}", data={"decision": "approve"})
    assert response.status_code == 303
    db_session.refresh(registered)
    assert registered.audience == "official" and registered.audience_requested is None
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "audience.approve"))
    assert event.actor_id == manager.id and event.before["audience"] == "citizen" and event.after["audience"] == "official"
    again = client.post(f"/manage/audience-requests/{registered.id}", data={"decision": "refuse"})
    assert again.status_code == 409 and "already decided" in text_of(again)
    assert "Cán Bộ Tự Khai" not in text_of(client.get("/manage/audience-requests"))


def test_a_manager_elsewhere_neither_sees_nor_decides(client, login, create_user, registered, db_session, commune):
    other = next(c for c in (commune(code) for code in ("26767", "26734", "26740", "26758")) if c is not None)
    stranger = create_user("Quản Lý Nơi Khác", roles=("manager",), email="qlk@example.vn", locality=other,
                           manager_of=other)
    login(stranger)
    assert "Cán Bộ Tự Khai" not in text_of(client.get("/manage/audience-requests"))
    response = client.post(f"/manage/audience-requests/{registered.id}", data={"decision": "approve"})
    assert response.status_code == 403
    db_session.refresh(registered)
    assert registered.audience == "citizen" and registered.audience_requested == "official"


def test_a_refusal_leaves_a_resident(client, login, create_user, registered, db_session):
    login(create_user("Quản Trị", roles=("admin",), email="qt@example.vn"))
    client.post(f"/manage/audience-requests/{registered.id}", data={"decision": "refuse"})
    db_session.refresh(registered)
    assert registered.audience == "citizen" and registered.audience_requested is None


def test_learners_cannot_open_the_requests(client, login, create_user):
    login(create_user("Học Viên"))
    assert client.get("/manage/audience-requests").status_code == 403
