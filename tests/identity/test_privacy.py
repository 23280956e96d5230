"""Decree 13/2023: notice and consent, the copy of everything held about a person, deletion with a
grace period (certificates stay verifiable without the name), and the administrator's register."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.certificates.models import Certificate
from lms.certificates.tasks import issue_certificate
from lms.core.db import utcnow
from lms.enrollment import operations as enrollment_ops
from lms.extensions import db
from lms.notifications.operations import notify
from lms.privacy.erasure import erase_due
from lms.privacy.models import DataRequest
from lms.privacy.operations import record_consent
from lms.privacy.queries import consent_log
from tests.accounts.conftest import registration
from tests.conftest import text_of
from tests.identity.conftest import PASSWORD


def tables_with_a_user_foreign_key() -> set[str]:
    """Every mapped model whose table points at users — found here independently of the exporter."""
    found = set()
    for mapper in db.Model.registry.mappers:
        table = mapper.local_table
        if table.name != "users" and any(fk.column.table.name == "users" for fk in table.foreign_keys):
            found.add(table.name)
    return found


@pytest.fixture()
def learner(create_user, create_course, db_session, en):
    user = create_user("Trần Thị Hoà", email="hoa.privacy@example.vn")
    enrollment = enrollment_ops.enrol(user, create_course())
    enrollment.completed_at = utcnow()
    record_consent(user, "register")
    notify(user, "general", "Chào mừng", "Xin chào", dedupe_key="privacy-test:welcome")
    db_session.commit()
    serial = issue_certificate.run(enrollment.id)
    assert en.post("/login", data={"login": "hoa.privacy@example.vn", "password": PASSWORD}).status_code == 302
    return user, serial


def test_the_notice_is_public_and_versions_are_published_by_admins_only(client, db_session, create_user, login):
    assert "Decree 13/2023" in text_of(client.get("/privacy")) or "Nghị định 13/2023" in text_of(client.get("/privacy"))
    login(create_user())
    assert client.post("/admin/privacy", data={"body_vi": "x", "body_en": "y"}).status_code == 403
    client.post("/logout")
    login(create_user(roles=("admin",)))
    assert client.post("/admin/privacy", data={"body_vi": "", "body_en": "y"}).status_code == 400
    response = client.post("/admin/privacy", data={"body_vi": "Thông báo mới", "body_en": "New notice"})
    assert response.status_code == 302
    assert "Thông báo mới" in text_of(client.get("/privacy"))


def test_registration_needs_consent_and_logs_it_with_the_version(en, db_session, commune):
    refused = en.post("/register", data={**registration(commune()), "consent": ""})
    assert refused.status_code == 400 and "Your consent is needed to create an account." in text_of(refused)
    assert db_session.scalar(select(User).where(User.email == "hoa@example.vn")) is None
    assert en.post("/register", data=registration(commune())).status_code == 302
    user = db_session.scalar(select(User).where(User.email == "hoa@example.vn"))
    [record] = consent_log(user)
    assert (record.action, record.via, record.notice_version) == ("given", "register", 1) and record.at


def test_consent_can_be_withdrawn_and_given_again(en, learner):
    user, _ = learner
    en.post("/profile/privacy/consent", data={"action": "withdrawn"})
    assert [c.action for c in consent_log(user)] == ["withdrawn", "given"]
    assert "withdrawn" in text_of(en.get("/profile/privacy"))
    assert en.post("/profile/privacy/consent", data={"action": "maybe"}).status_code == 400


def test_the_download_holds_every_table_with_the_persons_data(en, db_session, learner, create_user):
    user, serial = learner
    other = create_user("Người Khác", email="khac@example.vn")
    notify(other, "general", "Riêng tư của người khác", "…", dedupe_key="privacy-test:other")
    db_session.commit()
    assert en.post("/profile/privacy/export").status_code == 302
    request = db_session.scalar(select(DataRequest).where(DataRequest.user_id == user.id))
    assert request.status == "ready" and request.due_at > utcnow() + timedelta(hours=71)
    page = en.get("/profile/privacy").get_data(as_text=True)
    assert f"/profile/privacy/export/{request.id}" in page
    response = en.get(f"/profile/privacy/export/{request.id}")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    data = json.loads(archive.read("all.json"))
    missing = sorted(table for table in tables_with_a_user_foreign_key() if table not in data
                     or f"{table}.csv" not in names)
    assert not missing, f"tables holding personal data missing from the export: {missing}"
    assert data["users"][0]["email"] == "hoa.privacy@example.vn" and "password_hash" not in data["users"][0]
    assert [row["serial"] for row in data["certificates"]] == [serial]
    assert data["enrollments"] and "lesson_progress" in data and "attempt_answers" in data
    assert [row["action"] for row in data["consent_records"]] == ["given"]
    assert [row["subject"] for row in data["notifications"]] == ["Chào mừng"]
    assert "Riêng tư của người khác" not in archive.read("all.json").decode()
    assert "Trần Thị Hoà" in archive.read("users.csv").decode("utf-8-sig")


def test_someone_elses_download_is_a_404(en, db_session, learner, create_user, client):
    en.post("/profile/privacy/export")
    request = db_session.scalar(select(DataRequest))
    stranger = en.application.test_client()
    create_user(email="la@example.vn")
    stranger.post("/login", data={"login": "la@example.vn", "password": PASSWORD})
    assert stranger.get(f"/profile/privacy/export/{request.id}").status_code == 404


def test_deletion_waits_the_grace_period_can_be_cancelled_then_erases(en, db_session, learner, app):
    user, serial = learner
    en.post("/profile/privacy/delete", data={"action": "delete"})
    request = db_session.scalar(select(DataRequest).where(DataRequest.kind == "deletion"))
    assert request.due_at > utcnow() + timedelta(days=29)
    en.post("/profile/privacy/delete", data={"action": "cancel"})
    assert request.status == "cancelled"
    en.post("/profile/privacy/delete", data={"action": "delete"})
    assert erase_due() == 0  # still in the grace period
    assert erase_due(now=utcnow() + timedelta(days=31)) == 1
    db_session.commit()
    assert user.email is None and user.phone is None and "Trần" not in user.full_name and not user.is_active
    assert en.get("/profile").status_code == 302  # the session ended
    assert en.post("/login", data={"login": "hoa.privacy@example.vn", "password": PASSWORD}).status_code == 400
    certificate = db_session.scalar(select(Certificate).where(Certificate.serial == serial))
    page = text_of(en.get(f"/verify/{serial}"))
    assert "Name removed" in page and "Trần Thị Hoà" not in page and certificate.holder_name == ""
    body = en.get(f"/verify/{serial}.json").get_json()
    assert body["outcome"] == "found" and body["certificate"]["holder_removed"] is True
    assert body["certificate"]["holder_name"] is None


def test_the_register_lists_requests_with_deadlines_for_admins(db_session, create_user, learner, en):
    en.post("/profile/privacy/delete", data={"action": "delete"})
    en.post("/profile/privacy/export")
    assert en.get("/admin/data-requests").status_code == 403
    admin = en.application.test_client()
    with admin.session_transaction() as session:
        session["lang"] = "en"
    create_user(roles=("admin",), email="admin.privacy@example.vn")
    admin.post("/login", data={"login": "admin.privacy@example.vn", "password": PASSWORD})
    page = text_of(admin.get("/admin/data-requests"))
    assert "deletion" in page and "copy of data" in page and "Due" in page
