"""The same Open Badges credential as a VC-JWT (OB 3.0 §8.2): a compact JWS signed EdDSA with the deployment key.

The payload is the stored credential without its Data Integrity proof, in the `vc` claim, with the
registered claims OB 3.0 maps from it (iss, jti, nbf, exp). The header's `kid` is a URL of the
issuer's JWK set with the key's id as fragment, so a verifier fetches /issuer/jwks.json and picks it.
Ed25519 is deterministic, so the same credential and key always give the same token.
"""

import base64
import binascii
import json
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature

from lms.certificates import signing

ALGORITHM = "EdDSA"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or any(char not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for char in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def _epoch(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def jwks_kid(key) -> str:
    from lms.certificates.badges import _base

    return f"{_base()}/issuer/jwks.json#{signing.key_id(key)}"


def encode(credential_json: str, key) -> str:
    credential = {k: v for k, v in json.loads(credential_json).items() if k != "proof"}
    header = {"alg": ALGORITHM, "typ": "JWT", "kid": jwks_kid(key)}
    payload = {"vc": credential, "iss": credential["issuer"]["id"], "jti": credential["id"],
               "nbf": _epoch(credential["validFrom"])}
    if credential.get("validUntil"):
        payload["exp"] = _epoch(credential["validUntil"])
    signing_input = f"{_b64(_json(header))}.{_b64(_json(payload))}"
    return f"{signing_input}.{_b64(key.sign(signing_input.encode('ascii')))}"


def looks_like_jwt(text: str) -> bool:
    return text.count(".") == 2 and not text.lstrip().startswith(("{", "["))


def decode_verified(token: str, public_key) -> tuple[dict, dict]:
    """(header, credential) of a token whose signature holds; ValueError saying what is wrong otherwise."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWT (three parts separated by dots were expected)")
    try:
        header, payload = json.loads(_unb64(parts[0])), json.loads(_unb64(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise ValueError(f"the token is malformed ({error})") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("the token is malformed (its header and payload must be JSON objects)")
    # Before the signature: an unsigned "alg: none" token must be named as such, never accepted.
    if header.get("alg") != ALGORITHM:
        raise ValueError(f"unsupported algorithm {header.get('alg')!r}: only EdDSA tokens are issued here")
    try:
        signature = _unb64(parts[2])
    except (ValueError, binascii.Error) as error:
        raise ValueError(f"the token is malformed: its signature is missing or garbled ({error})") from None
    try:
        public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature:
        raise ValueError("the signature does not match: the token was altered after signing, "
                         "or it was signed with another key") from None
    credential = payload.get("vc")
    if not isinstance(credential, dict):
        raise ValueError("the token holds no credential (no `vc` claim)")
    issuer = credential.get("issuer")
    if payload.get("jti") != credential.get("id") or payload.get("iss") != (issuer or {}).get("id"):
        raise ValueError("the token's claims (iss, jti) do not match its credential")
    return header, credential
