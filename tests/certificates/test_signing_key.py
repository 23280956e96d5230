"""The signing key in production: a missing or unusable key is reported at start-up and by /healthz."""

import logging

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lms import create_app
from lms.certificates import signing
from tests.core.conftest import _overrides


@pytest.fixture()
def bad_key(tmp_path):
    path = tmp_path / "signing_key.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    return path


def test_an_unusable_key_is_logged_at_start_up_and_fails_the_health_check(bad_key, caplog):
    with caplog.at_level(logging.ERROR):
        app = create_app(_overrides(LMS_SIGNING_KEY=str(bad_key)))
    assert any(f"LMS_SIGNING_KEY: {bad_key} is not an unencrypted PEM private key" in record.getMessage()
               and "/healthz" in record.getMessage() for record in caplog.records)
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert {k: body[k] for k in ("status", "database", "queue", "signing")} == {
        "status": "error", "database": "ok", "queue": "eager", "signing": "error"}
    assert str(bad_key) not in response.get_data(as_text=True)  # the public check names no path
    issuer = client.get("/issuer.json")
    assert issuer.status_code == 503 and "Traceback" not in issuer.get_data(as_text=True)

    signing.generate_key(bad_key.with_name("good.pem"))
    bad_key.write_bytes(bad_key.with_name("good.pem").read_bytes())  # the operator fixes it: no restart needed
    assert client.get("/healthz").get_json()["signing"] == "ok"


def test_a_key_of_another_type_or_no_key_outside_the_embedded_default_is_a_problem(tmp_path):
    other = tmp_path / "ec.pem"
    other.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    assert signing.key_problem({"LMS_SIGNING_KEY": str(other)}) == f"LMS_SIGNING_KEY: {other} is not an Ed25519 private key"

    missing = tmp_path / "missing.pem"
    production = {"LMS_SIGNING_KEY": str(missing), "LMS_EMBEDDED": False, "TESTING": False}
    assert "no key at" in signing.key_problem(production) and "generate-key" in signing.key_problem(production)
    assert signing.key_problem({**production, "LMS_EMBEDDED": True}) is None  # generated on first use there

    unreadable = tmp_path / "dir.pem"
    unreadable.mkdir()
    assert "cannot read" in signing.key_problem({"LMS_SIGNING_KEY": str(unreadable)})


def test_a_missing_production_key_makes_the_health_check_fail(app, client, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_SIGNING_KEY", str(tmp_path / "missing.pem"))
    monkeypatch.setitem(app.config, "LMS_EMBEDDED", False)
    monkeypatch.setitem(app.config, "TESTING", False)
    body = client.get("/healthz").get_json()
    assert body["signing"] == "error" and body["status"] == "error"
    assert not (tmp_path / "missing.pem").exists()  # never silently generated outside the embedded default


def test_the_verify_command_says_it_cannot_check_without_a_key(app, tmp_path, bad_key, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_SIGNING_KEY", str(bad_key))
    path = tmp_path / "c.json"
    path.write_text("{}")
    result = app.test_cli_runner().invoke(args=["certificates", "verify", str(path)])
    assert result.exit_code == 2 and "CANNOT CHECK: LMS_SIGNING_KEY:" in result.output
