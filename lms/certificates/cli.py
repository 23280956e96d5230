"""`flask certificates …`."""

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from lms.core.outbox import dispatch_ready
from lms.extensions import db

certificates_cli = AppGroup("certificates", help="Certificates and their signed credentials.")


def check_credential(document) -> tuple[bool, list[str]]:
    """(ok, lines) for a credential file: the signature against our key, then the certificate's current status."""
    from lms.certificates import badges, signing

    lines = []
    if not isinstance(document, dict):
        return False, ["NOT VALID: the file is not a credential (a JSON object was expected)"]
    key = signing.load_private_key()
    proofs = document.get("proof")
    proof = proofs[0] if isinstance(proofs, list) and proofs else proofs
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    if method and method != badges.verification_method(key):
        lines.append(f"note: signed by {method}, this deployment's key is {badges.verification_method(key)}")
    try:
        signing.verify_proof(document, key.public_key())
    except ValueError as error:
        return False, lines + [f"NOT VALID: {error}"]
    lines.append("signature: valid (Data Integrity proof, signed with this deployment's key)")
    return _check_status(document, lines)


def check_token(token: str) -> tuple[bool, list[str]]:
    """(ok, lines) for a VC-JWT: its EdDSA signature against our key, then the certificate's current status."""
    from lms.certificates import signing, vcjwt

    key = signing.load_private_key()
    try:
        header, credential = vcjwt.decode_verified(token, key.public_key())
    except ValueError as error:
        return False, [f"NOT VALID: {error}"]
    lines = []
    if header.get("kid") != vcjwt.jwks_kid(key):
        lines.append(f"note: the token names key {header.get('kid')!r}, this deployment's key is {vcjwt.jwks_kid(key)}")
    lines.append("signature: valid (VC-JWT, EdDSA, signed with this deployment's key)")
    return _check_status(credential, lines)


def _check_status(document: dict, lines: list[str]) -> tuple[bool, list[str]]:
    from lms.certificates import badges
    from lms.certificates.queries import lookup

    status_entry = document.get("credentialStatus")
    if isinstance(status_entry, dict) and status_entry.get("id"):
        lines.append(f"published status: {status_entry['id']} (checked here against the local register instead)")
    serial = badges.serial_of(document)
    outcome, certificate = lookup(serial or "")
    if certificate is None:
        return False, lines + [f"NOT VALID: the serial {serial!r} is not in this deployment's register ({outcome})"]
    status = certificate.status()
    # Offline means the register of the deployment this command runs in, not the status URL in the file.
    lines.append(f"certificate {certificate.serial}: {status} (status from this deployment's register)")
    if status == "revoked":
        lines.append(f"  revoked: {certificate.revoked_reason}")
    elif status == "superseded":
        lines.append(f"  replaced by {certificate.superseded_by.serial}")
    elif status == "expired":
        lines.append(f"  expired on {certificate.expires_at:%d/%m/%Y}")
    return status == "valid", lines


@certificates_cli.command("verify")
@click.argument("file", type=click.File("rb"))
def verify_command(file):
    """Check a credential FILE offline (JSON with a proof, or a VC-JWT): its signature and the certificate's
    current status in this deployment's register. Exit 1 unless valid."""
    from lms.certificates.vcjwt import looks_like_jwt

    try:
        text = file.read().decode("utf-8").strip()
    except UnicodeDecodeError as error:
        click.echo(f"NOT VALID: the file is not text ({error})")
        sys.exit(1)
    try:
        if looks_like_jwt(text):
            ok, lines = check_token(text)
        else:
            try:
                document = json.loads(text)
            except json.JSONDecodeError as error:
                click.echo(f"NOT VALID: the file is not JSON ({error}) nor a VC-JWT")
                sys.exit(1)
            ok, lines = check_credential(document)
    except RuntimeError as error:  # no usable signing key here: nothing can be checked
        click.echo(f"CANNOT CHECK: {error}")
        sys.exit(2)
    for line in lines:
        click.echo(line)
    click.echo("VALID" if ok else "NOT VALID")
    sys.exit(0 if ok else 1)


@certificates_cli.command("generate-key")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def generate_key_command(path):
    """Write a new Ed25519 signing key to PATH (for LMS_SIGNING_KEY); refuses to overwrite."""
    from lms.certificates.signing import generate_key

    if path.exists():
        raise click.ClickException(f"{path} exists; a key is never overwritten")
    generate_key(path)
    click.echo(f"wrote {path}; set LMS_SIGNING_KEY={path.resolve()} and back it up")


@certificates_cli.command("render")
def render_missing_command():
    """Queue the PDF and credential of every certificate that has none yet."""
    from lms.certificates.models import Certificate
    from lms.core.outbox import enqueue

    ids = db.session.scalars(db.select(Certificate.id).where(Certificate.pdf_key.is_(None),
                                                                Certificate.holder_erased_at.is_(None))).all()
    for certificate_id in ids:
        enqueue("certificates.render", certificate_id=certificate_id)
    db.session.commit()
    dispatch_ready()
    click.echo(f"queued {len(ids)}")
