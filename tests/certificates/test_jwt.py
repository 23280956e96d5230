"""The credential as a VC-JWT: download, published key, CLI verification and tamper detection."""

import base64
import json
from datetime import UTC

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lms.certificates import signing, vcjwt
from lms.certificates.cli import check_token
from lms.core.db import utcnow

pytestmark = pytest.mark.usefixtures("english")


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parts(token):
    header, payload, signature = token.split(".")
    return json.loads(b64d(header)), json.loads(b64d(payload)), b64d(signature)


def test_the_jwt_is_the_same_credential_signed_eddsa_with_the_published_key(app, client, db_session, issued, login):
    certificate, holder = issued()
    response = client.get(f"/verify/{certificate.serial}/credential.jwt")
    token = response.get_data(as_text=True)
    assert response.mimetype == "application/jwt" and "attachment" in response.headers["Content-Disposition"]
    assert client.get(f"/verify/{certificate.serial}/credential.jwt").get_data(as_text=True) == token  # deterministic

    header, payload, signature = parts(token)
    stored = json.loads(certificate.credential_json)
    stored.pop("proof")
    assert header["alg"] == "EdDSA" and header["typ"] == "JWT"
    assert payload["vc"] == stored and payload["jti"] == stored["id"] and payload["iss"] == stored["issuer"]["id"]
    assert payload["nbf"] == int(certificate.issued_at.replace(tzinfo=UTC, microsecond=0).timestamp())
    # An outside verifier: follow kid to the JWK set, pick the key by its id, check with plain cryptography.
    jwks_url, _, kid = header["kid"].partition("#")
    assert jwks_url == app.config["LMS_BASE_URL"] + "/issuer/jwks.json"
    jwk, = [key for key in client.get("/issuer/jwks.json").get_json()["keys"] if key["kid"] == kid]
    public = Ed25519PublicKey.from_public_bytes(b64d(jwk["x"]))
    public.verify(signature, token.rsplit(".", 1)[0].encode())

    login(holder)
    assert client.get(f"/my/certificates/{certificate.id}/credential.jwt").get_data(as_text=True) == token


def test_another_learner_cannot_fetch_the_jwt_by_id(client, issued, create_user, login):
    certificate, _ = issued()
    login(create_user("Người Khác"))
    response = client.get(f"/my/certificates/{certificate.id}/credential.jwt")
    assert response.status_code == 403 and b"eyJ" not in response.data


def test_the_verify_command_accepts_a_jwt_and_reports_revocation(app, client, db_session, issued, tmp_path):
    certificate, _ = issued()
    path = tmp_path / "credential.jwt"
    path.write_bytes(client.get(f"/verify/{certificate.serial}/credential.jwt").data + b"\n")
    runner = app.test_cli_runner()
    valid = runner.invoke(args=["certificates", "verify", str(path)])
    assert valid.exit_code == 0 and "signature: valid (VC-JWT" in valid.output and valid.output.strip().endswith("VALID")

    certificate.revoked_at, certificate.revoked_reason = utcnow(), "Thi hộ"
    db_session.commit()
    revoked = runner.invoke(args=["certificates", "verify", str(path)])
    assert revoked.exit_code == 1 and "revoked: Thi hộ" in revoked.output
    assert "status from this deployment's register" in revoked.output


def _resign(token, key, header=None, payload=None):
    old_header, old_payload, _ = parts(token)
    head = b64e(json.dumps(header or old_header).encode())
    body = b64e(json.dumps(payload or old_payload, ensure_ascii=False).encode())
    return f"{head}.{body}.{b64e(key.sign(f'{head}.{body}'.encode()))}"


def _with_payload(token, change):
    header, payload, _ = parts(token)
    change(payload)
    head, _, signature = token.split(".")
    return f"{head}.{b64e(json.dumps(payload, ensure_ascii=False).encode())}.{signature}"


@pytest.mark.parametrize("tamper, complaint", [
    (lambda t: _with_payload(t, lambda p: p["vc"]["credentialSubject"]["identifier"][0].update(identityHash="Kẻ Giả")),
     "signature does not match"),
    (lambda t: _with_payload(t, lambda p: p.update(exp=4102444800)), "signature does not match"),
    (lambda t: t.rsplit(".", 1)[0] + "." + b64e(b"\1" * 64), "signature does not match"),
    (lambda t: t.rsplit(".", 1)[0] + ".", "malformed"),
    (lambda t: b64e(b'{"alg":"none","typ":"JWT"}') + "." + t.split(".")[1] + ".", "unsupported algorithm 'none'"),
    (lambda t: ".".join(t.split(".")[:2]), "not a compact JWT"),
    (lambda t: _resign(t, Ed25519PrivateKey.generate()), "signed with another key"),
    (lambda t: _resign(t, signing.load_private_key(), payload={**parts(t)[1], "jti": "https://elsewhere/x"}),
     "do not match its credential"),
])
def test_a_tampered_jwt_is_refused_with_what_is_wrong(client, issued, tamper, complaint):
    certificate, _ = issued()
    token = client.get(f"/verify/{certificate.serial}/credential.jwt").get_data(as_text=True)
    assert check_token(token)[0] is True
    ok, lines = check_token(tamper(token))
    assert ok is False and complaint in lines[-1]


def test_decoding_needs_the_right_key(app, issued):
    certificate, _ = issued()
    token = vcjwt.encode(certificate.credential_json, signing.load_private_key())
    with pytest.raises(ValueError, match="another key"):
        vcjwt.decode_verified(token, Ed25519PrivateKey.generate().public_key())
