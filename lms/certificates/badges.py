"""Every certificate as an Open Badges 3.0 `OpenBadgeCredential`, signed with a Data Integrity proof.

Stable URLs (under LMS_BASE_URL): the issuer profile at /issuer.json (with the public key as
a Multikey verification method), the key as a JWK set at /issuer/jwks.json, each credential at
/verify/<serial>/credential.json and its achievement at the course or program page.
"""

import json
from datetime import UTC

from flask import current_app

from lms.certificates import signing
from lms.certificates.serial import display

CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


def _base() -> str:
    return current_app.config["LMS_BASE_URL"]


def _iso(value) -> str:
    return value.replace(tzinfo=UTC, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def issuer_id() -> str:
    return f"{_base()}/issuer.json"


def verification_method(key) -> str:
    return f"{issuer_id()}#key-{signing.key_id(key)}"


def issuer_profile(key) -> dict:
    """The issuer's public profile, with its public key, served at issuer_id()."""
    return {
        "@context": CONTEXTS + ["https://w3id.org/security/multikey/v1"],
        "id": issuer_id(),
        "type": ["Profile"],
        "name": current_app.config["LMS_ISSUING_AUTHORITY"],
        "url": _base(),
        "verificationMethod": [{
            "id": verification_method(key), "type": "Multikey", "controller": issuer_id(),
            "publicKeyMultibase": signing.multibase_public_key(key),
        }],
    }


def credential_url(serial: str) -> str:
    return f"{_base()}/verify/{serial}/credential.json"


def status_url(serial: str) -> str:
    return f"{_base()}/verify/{serial}/status.json"


STATUS_TYPE = "1EdTechRevocationList"


def status_list(certificate) -> dict:
    """The public status of one credential, as a 1EdTech revocation list holding it (or nothing).

    A replaced certificate (reissued after a name correction) is listed as revoked too: a verifier
    must take the new one. Expiry is in the credential itself (`validUntil`); `status` says all of it.
    """
    status = certificate.status()
    revoked = []
    if status in ("revoked", "superseded"):
        reason = (certificate.revoked_reason if status == "revoked"
                  else f"Replaced by / Thay bằng {display(certificate.superseded_by.serial)}")
        revoked.append({"id": credential_url(certificate.serial), "revoked": True, "revocationReason": reason})
    return {"id": status_url(certificate.serial), "type": STATUS_TYPE, "issuer": issuer_id(),
            "revokedCredentials": revoked, "credential": credential_url(certificate.serial),
            "serial": display(certificate.serial), "status": status}


def verify_url(serial: str) -> str:
    return f"{_base()}/verify/{display(serial)}"


def build(certificate) -> dict:
    """The unsigned credential. Only strings and integers, so its canonical form is plain JSON."""
    if certificate.program_id:
        achievement_id, kind = f"{_base()}/programs/{certificate.program.slug}", "Certificate"
    else:
        achievement_id, kind = f"{_base()}/courses/{certificate.course.slug}", "Certificate"
    hours = certificate.hours
    hours_text = f"{hours.normalize():f}" if hours is not None else "0"
    achievement = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": kind,
        "name": certificate.course_title,
        "description": f"{certificate.course_title} — {hours_text} giờ học / hours of study.",
        "criteria": {"narrative": "Hoàn thành mọi bài học và đạt các bài kiểm tra của khóa học theo quy định. "
                                  "Completed every lesson and passed the assessments as required."},
        "inLanguage": "vi",
    }
    if hours is not None and hours == int(hours):
        achievement["creditsAvailable"] = int(hours)
    credential = {
        "@context": CONTEXTS,
        "id": credential_url(certificate.serial),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id(), "type": ["Profile"], "name": certificate.issuing_authority, "url": _base()},
        "validFrom": _iso(certificate.issued_at),
        "name": certificate.course_title,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "hashed": False, "identityHash": certificate.holder_name,
                            "identityType": "name"}],
            "achievement": achievement,
        },
        "credentialStatus": {"id": status_url(certificate.serial), "type": STATUS_TYPE},
        "evidence": [{"id": verify_url(certificate.serial), "type": ["Evidence"],
                      "name": f"Số hiệu / Serial {display(certificate.serial)}"}],
    }
    if certificate.expires_at is not None:
        credential["validUntil"] = _iso(certificate.expires_at)
    return credential


def signed_credential(certificate) -> str:
    key = signing.load_private_key()
    document = signing.add_proof(build(certificate), key, verification_method(key), _iso(certificate.issued_at))
    return json.dumps(document, ensure_ascii=False, indent=2)


def serial_of(document: dict) -> str | None:
    """The certificate serial a credential speaks for, from its id URL."""
    url = str(document.get("id") or "")
    marker = "/verify/"
    if marker not in url or not url.endswith("/credential.json"):
        return None
    return url.split(marker, 1)[1][: -len("/credential.json")]
