"""Administration and the learner's side: revoke/restore/reissue (audited, visible everywhere),
the register with CSV, file access, renewal and the lookup rate limit."""

import csv
import io
import json

import pytest
from sqlalchemy import select

from lms.certificates import serial as serials
from lms.certificates.cli import check_credential
from lms.certificates.models import Certificate
from lms.core.db import utcnow
from lms.core.models import AuditEvent
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")


def surfaces(client, certificate):
    """The status as shown on every surface: page badge, JSON, and the offline credential check."""
    page = text_of(client.get(f"/verify/{certificate.serial}"))
    body = client.get(f"/verify/{certificate.serial}.json").get_json()["certificate"]
    ok, lines = check_credential(json.loads(certificate.credential_json))
    return page, body, ok, lines


def test_revoking_shows_everywhere_at_once_and_is_audited(client, db_session, issued, admin, login):
    certificate, holder = issued()
    login(admin)
    register = text_of(client.get("/admin/certificates"))
    assert "Trần Thị Hoà" in register and serials.display(certificate.serial) in register
    detail = text_of(client.get(f"/admin/certificates/{certificate.id}"))
    assert "Revoke the certificate" in detail and "Reissue after a name correction" in detail

    response = client.post(f"/admin/certificates/{certificate.id}/revoke", data={"revoke-reason": "Gian lận khi thi"})
    assert response.status_code == 303

    page, body, ok, lines = surfaces(client, certificate)
    assert "Revoked" in page and "Gian lận khi thi" in page
    assert body["status"] == "revoked" and body["revoked_reason"] == "Gian lận khi thi"
    assert ok is False and any("revoked: Gian lận khi thi" in line for line in lines)
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.revoke"))
    assert event.actor_id == admin.id and event.summary["reason"] == "Gian lận khi thi"

    client.post("/logout")
    login(holder)
    mine = text_of(client.get("/my/certificates"))
    assert "Revoked" in mine and "Gian lận khi thi" in mine

    client.post("/logout")
    login(admin)
    client.post(f"/admin/certificates/{certificate.id}/restore", data={"restore-reason": "Khiếu nại được chấp nhận"})
    page, body, ok, _ = surfaces(client, certificate)
    assert body["status"] == "valid" and body["revoked_reason"] is None and ok is True
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.restore")).summary[
        "revoked_reason"] == "Gian lận khi thi"


def test_revoking_without_a_reason_is_refused_with_a_message(client, issued, admin, login):
    certificate, _ = issued()
    login(admin)
    response = client.post(f"/admin/certificates/{certificate.id}/revoke", data={"revoke-reason": "  "})
    assert response.status_code == 400 and "Give the reason" in text_of(response)
    assert certificate.revoked_at is None


def test_an_expired_certificate_shows_expired_on_every_surface(client, db_session, issued):
    certificate, _ = issued()
    certificate.expires_at = utcnow().replace(year=2020)
    db_session.commit()
    page, body, ok, lines = surfaces(client, certificate)
    assert "Expired" in page and body["status"] == "expired" and ok is False and "expired on" in lines[-1]


def test_reissue_after_a_name_correction_points_the_old_serial_to_the_new(client, db_session, issued, admin, login):
    certificate, _ = issued("Tran Thi Hoa")
    login(admin)
    response = client.post(f"/admin/certificates/{certificate.id}/reissue", data={"reissue-holder_name": "Trần Thị Hoà"})
    assert response.status_code == 303

    new = db_session.scalar(select(Certificate).where(Certificate.superseded_by_id.is_(None),
                                                      Certificate.user_id == certificate.user_id))
    assert new.id != certificate.id and new.holder_name == "Trần Thị Hoà" and new.issued_at == certificate.issued_at
    assert new.pdf_key and "Trần Thị Hoà" in json.loads(new.credential_json)["credentialSubject"]["identifier"][0][
        "identityHash"]
    old_page = client.get(f"/verify/{certificate.serial}")
    assert "Replaced" in text_of(old_page) and serials.display(new.serial) in text_of(old_page)
    assert client.get(f"/verify/{certificate.serial}.json").get_json()["certificate"]["replaced_by"] == serials.display(
        new.serial)
    assert client.get(f"/verify/{new.serial}.json").get_json()["certificate"]["status"] == "valid"
    again = client.post(f"/admin/certificates/{certificate.id}/reissue", data={"reissue-holder_name": "Ai Khác"})
    assert again.status_code == 400 and "Only the current certificate" in text_of(again)


def test_only_admins_revoke_and_managers_see_only_their_area(client, db_session, issued, create_user, commune, login):
    here, there = commune("26506"), commune("26560")
    mine, _ = issued("Người Ở Đây", locality=here)
    other, _ = issued("Người Ở Nơi Khác", locality=there)
    manager = create_user("Lê Hoàng Phúc", roles=("manager",), manager_of=here, audience="official")
    db_session.commit()
    login(manager)

    register = text_of(client.get("/admin/certificates"))
    assert "Người Ở Đây" in register and "Người Ở Nơi Khác" not in register
    assert client.get(f"/admin/certificates/{other.id}").status_code == 403
    assert client.post(f"/admin/certificates/{mine.id}/revoke", data={"revoke-reason": "x"}).status_code == 403
    assert mine.revoked_at is None
    exported = client.get("/admin/certificates", query_string={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["holder_name"] for row in rows] == ["Người Ở Đây"]
    assert rows[0]["serial"] == serials.display(mine.serial) and rows[0]["status"] == "valid"


def test_the_register_filters_by_course_and_exports_every_row(client, db_session, issued, admin, login):
    first, _ = issued("Một")
    second, _ = issued("Hai")
    login(admin)
    exported = client.get("/admin/certificates", query_string={"format": "csv", "course": first.course_id})
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert exported.mimetype == "text/csv" and sorted(r["holder_name"] for r in rows) == ["Hai", "Một"]
    none = client.get("/admin/certificates", query_string={"format": "csv", "course": first.course_id + 999})
    assert len(none.get_data(as_text=True).strip().splitlines()) == 1  # the header only


def test_a_learner_cannot_fetch_another_learners_files_except_through_verification(client, issued, login):
    mine, me = issued("Tôi")
    theirs, _ = issued("Người Khác")
    login(me)

    own = client.get(f"/my/certificates/{mine.id}/certificate.pdf")
    assert own.mimetype == "application/pdf" and own.data.startswith(b"%PDF")
    assert client.get(f"/my/certificates/{theirs.id}/certificate.pdf").status_code == 403
    assert client.get(f"/my/certificates/{theirs.id}/credential.json").status_code == 403
    public = client.get(f"/verify/{theirs.serial}/certificate.pdf")
    assert public.data.startswith(b"%PDF")
    page = text_of(client.get("/my/certificates"))
    assert "Download the PDF" in page and f"/verify/{serials.display(mine.serial)}" in client.get(
        "/my/certificates").get_data(as_text=True)


def test_lookups_are_rate_limited_per_address(app, client, issued):
    certificate, _ = issued()
    app.config["LMS_VERIFY_RATE_LIMIT"] = 3
    try:
        codes = [client.get(f"/verify/{certificate.serial}.json").status_code for _ in range(4)]
        limited = client.get(f"/verify/{certificate.serial}")
        other = client.get(f"/verify/{certificate.serial}.json", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    finally:
        app.config["LMS_VERIFY_RATE_LIMIT"] = 60
    assert codes == [200, 200, 200, 429]
    assert limited.status_code == 429 and "Too many lookups" in text_of(limited)
    assert other.status_code == 200
