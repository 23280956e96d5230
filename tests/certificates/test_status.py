"""The status that travels with the credential: `credentialStatus` and its public endpoint."""

import json
from urllib.parse import urlsplit

import pytest

from lms.certificates.cli import check_credential
from lms.certificates.serial import display
from lms.core.db import utcnow

pytestmark = pytest.mark.usefixtures("english")


def status_of(client, certificate):
    entry = json.loads(certificate.credential_json)["credentialStatus"]
    response = client.get(urlsplit(entry["id"]).path)
    return entry, response, response.get_json()


def test_the_credential_names_its_status_endpoint_which_follows_revocation(app, client, db_session, issued, admin, login):
    base = app.config["LMS_BASE_URL"]
    certificate, _ = issued()
    entry, response, body = status_of(client, certificate)
    assert entry == {"id": f"{base}/verify/{certificate.serial}/status.json", "type": "1EdTechRevocationList"}
    assert response.headers["Cache-Control"] == "no-store"
    assert body["status"] == "valid" and body["revokedCredentials"] == [] and body["id"] == entry["id"]
    assert body["serial"] == display(certificate.serial) and "email" not in json.dumps(body)

    login(admin)
    client.post(f"/admin/certificates/{certificate.id}/revoke", data={"revoke-reason": "Thi hộ"})
    _, _, body = status_of(client, certificate)
    assert body["status"] == "revoked"
    assert body["revokedCredentials"] == [{"id": f"{base}/verify/{certificate.serial}/credential.json",
                                           "revoked": True, "revocationReason": "Thi hộ"}]
    ok, lines = check_credential(json.loads(certificate.credential_json))
    assert ok is False and f"certificate {certificate.serial}: revoked (status from this deployment's register)" in lines
    assert any(line.startswith(f"published status: {base}/verify/") for line in lines)


def test_expired_and_replaced_certificates_show_on_the_status_endpoint(client, db_session, issued, admin, login):
    certificate, _ = issued("Tran Thi Hoa")
    certificate.expires_at = utcnow().replace(year=2020)
    db_session.commit()
    _, _, body = status_of(client, certificate)
    assert body["status"] == "expired" and body["revokedCredentials"] == []

    certificate.expires_at = None
    db_session.commit()
    login(admin)
    client.post(f"/admin/certificates/{certificate.id}/reissue", data={"reissue-holder_name": "Trần Thị Hoà"})
    _, _, body = status_of(client, certificate)
    assert body["status"] == "superseded"
    assert body["revokedCredentials"][0]["revocationReason"].startswith("Replaced by / Thay bằng ")


def test_an_unknown_or_mistyped_serial_on_the_status_endpoint_is_a_clear_4xx(client, issued):
    certificate, _ = issued()
    mistyped = certificate.serial[:-1] + ("0" if certificate.serial[-1] != "0" else "1")
    response = client.get(f"/verify/{mistyped}/status.json")
    assert response.status_code == 400 and response.get_json() == {"outcome": "malformed", "status": None}
