"""The files a certificate comes with: the PDF (text, font, QR) and the signed Open Badges credential."""

import io
import json
import os
import shutil
import subprocess
import sys

import pytest
from pypdf import PdfReader

from lms.certificates import badges, signing
from lms.certificates.cli import check_credential
from lms.certificates.operations import issue_for_enrollment
from lms.certificates.serial import display
from lms.certificates.tasks import issue_certificate
from lms.core.db import utcnow

HOLDER = "Nguyễn Thị Hường Ưởng"
from tests.conftest import ACCEPTANCE  # noqa: E402

OB3 = ACCEPTANCE / "ob3" / "validate_ob3.py"


@pytest.fixture()
def rendered(db_session, create_course, create_user, completed_enrollment):
    """A certificate issued and rendered by the task, as the worker does it."""
    user = create_user(HOLDER)
    enrollment = completed_enrollment(user, create_course())
    db_session.commit()
    serial = issue_certificate.run(enrollment.id)
    return issue_for_enrollment(enrollment), serial


def pdf_bytes(app, certificate) -> bytes:
    from lms.core.files import get_store

    return get_store().local_path(certificate.pdf_key).read_bytes()


def test_the_worker_renders_an_a4_landscape_pdf_with_the_name_as_text_and_the_font_embedded(app, rendered):
    certificate, serial = rendered
    data = pdf_bytes(app, certificate)
    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]

    assert len(reader.pages) == 1
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (842, 595)  # A4 landscape in points
    text = page.extract_text()
    assert HOLDER in text and "Khóa học thử nghiệm Dịch vụ công" in text
    assert display(serial) in text and "GIẤY CHỨNG NHẬN" in text and app.config["LMS_ISSUING_AUTHORITY"].upper() in text
    fonts = {font["/BaseFont"] for font in page["/Resources"]["/Font"].values()}
    assert all("DejaVuSans" in str(name) for name in fonts), fonts
    descriptors = [font["/DescendantFonts"][0]["/FontDescriptor"] if "/DescendantFonts" in font else font["/FontDescriptor"]
                   for font in page["/Resources"]["/Font"].values()]
    assert all("/FontFile2" in descriptor for descriptor in descriptors)  # embedded, not referenced


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_pdftotext_prints_the_holder_name_exactly(app, rendered, tmp_path):
    certificate, _ = rendered
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf_bytes(app, certificate))
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert HOLDER in out


def test_the_qr_code_decodes_to_the_verification_url(app, rendered):
    import zxingcpp

    certificate, serial = rendered
    page = PdfReader(io.BytesIO(pdf_bytes(app, certificate))).pages[0]
    images = [image.image for image in page.images]
    decoded = [result.text for image in images for result in zxingcpp.read_barcodes(image.convert("L"))]

    assert decoded == [f"{app.config['LMS_BASE_URL']}/verify/{display(serial)}"]


def test_rendering_is_idempotent_and_the_download_is_the_same_file_twice(app, client, db_session, rendered):
    from lms.certificates.tasks import render_certificate

    certificate, serial = rendered
    first = pdf_bytes(app, certificate)
    certificate.pdf_key = None  # as if the worker crashed before recording it
    db_session.commit()
    render_certificate.run(certificate.id)
    assert pdf_bytes(app, certificate) == first

    one = client.get(f"/verify/{serial}/certificate.pdf")
    two = client.get(f"/verify/{serial}/certificate.pdf")
    assert one.mimetype == "application/pdf" and one.data == two.data == first
    assert "attachment" in one.headers["Content-Disposition"]


def credential_of(certificate) -> dict:
    return json.loads(certificate.credential_json)


def test_the_credential_is_an_open_badge_signed_with_the_deployment_key(app, client, rendered):
    certificate, serial = rendered
    credential = credential_of(certificate)

    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["credentialSubject"]["identifier"][0]["identityHash"] == HOLDER
    assert credential["credentialSubject"]["achievement"]["name"] == "Khóa học thử nghiệm Dịch vụ công"
    assert credential["id"].endswith(f"/verify/{serial}/credential.json")
    assert credential["proof"][0]["cryptosuite"] == "eddsa-jcs-2022"
    # The published key (issuer profile and JWKS) verifies it, as anyone outside would check it.
    profile = client.get("/issuer.json").get_json(force=True)
    method = profile["verificationMethod"][0]
    assert method["id"] == credential["proof"][0]["verificationMethod"]
    signing.verify_proof(credential, signing.public_key_from_multibase(method["publicKeyMultibase"]))
    jwk = client.get("/issuer/jwks.json").get_json()["keys"][0]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and "d" not in jwk
    assert client.get(f"/verify/{serial}/credential.json").data.decode() == certificate.credential_json


@pytest.mark.parametrize("tamper, complaint", [
    (lambda c: c["credentialSubject"]["identifier"][0].update(identityHash="Kẻ Giả Mạo"), "signature does not match"),
    (lambda c: c.update(validUntil="2099-01-01T00:00:00Z"), "signature does not match"),
    (lambda c: c["proof"][0].update(proofValue="z" + signing.b58encode(b"\1" * 64)), "signature does not match"),
    (lambda c: c.pop("proof"), "no proof"),
])
def test_a_tampered_credential_is_refused_with_what_is_wrong(rendered, tamper, complaint):
    certificate, _ = rendered
    credential = credential_of(certificate)
    assert check_credential(credential)[0] is True
    tamper(credential)
    ok, lines = check_credential(credential)
    assert ok is False and complaint in lines[-1]


def test_the_verify_command_reports_the_current_status(app, db_session, rendered, tmp_path):
    certificate, serial = rendered
    path = tmp_path / "credential.json"
    path.write_text(certificate.credential_json, encoding="utf-8")
    runner = app.test_cli_runner()

    valid = runner.invoke(args=["certificates", "verify", str(path)])
    assert valid.exit_code == 0 and "signature: valid" in valid.output and valid.output.strip().endswith("VALID")

    certificate.revoked_at, certificate.revoked_reason = utcnow(), "Gian lận"
    db_session.commit()
    revoked = runner.invoke(args=["certificates", "verify", str(path)])
    assert revoked.exit_code == 1 and "revoked: Gian lận" in revoked.output and "signature: valid" in revoked.output

    tampered = json.loads(certificate.credential_json)
    tampered["name"] = "Chứng chỉ khác"
    path.write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    bad = runner.invoke(args=["certificates", "verify", str(path)])
    assert bad.exit_code == 1 and "altered after signing" in bad.output

    path.write_text("{not json", encoding="utf-8")
    garbage = runner.invoke(args=["certificates", "verify", str(path)])
    assert garbage.exit_code == 1 and "not JSON" in garbage.output


@pytest.mark.skipif(not OB3.exists(), reason="the 1EdTech acceptance kit (../shared/acceptance) is not here")
def test_the_credential_validates_against_the_1edtech_schema(rendered, tmp_path):
    certificate, _ = rendered
    assert json.loads(certificate.credential_json)["credentialStatus"]["type"] == "1EdTechRevocationList"
    path = tmp_path / "credential.json"
    path.write_text(certificate.credential_json, encoding="utf-8")
    result = subprocess.run([sys.executable, str(OB3), str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("VALID"), result.stdout


def test_the_same_key_is_used_until_it_is_replaced(db_session, tmp_path):
    key_path = tmp_path / "key.pem"
    first = signing.load_private_key(str(key_path))
    second = signing.load_private_key(str(key_path))
    assert signing.public_raw(first) == signing.public_raw(second)
    assert oct(os.stat(key_path).st_mode & 0o777) == "0o600"


def test_canonical_form_refuses_floats_rather_than_guessing():
    with pytest.raises(TypeError):
        signing.canonical({"hours": 1.5})
    assert signing.canonical({"b": 1, "a": "Hoà"}) == '{"a":"Hoà","b":1}'.encode()
    assert badges.CONTEXTS[0] == "https://www.w3.org/ns/credentials/v2"
