"""The deployment's Ed25519 key and Data Integrity proofs (cryptosuite `eddsa-jcs-2022`).

The key is a PEM file named by LMS_SIGNING_KEY; in the embedded default it is generated once
into instance/. Production sets LMS_SIGNING_KEY to a key kept outside the code and backs it
up: losing it means credentials issued so far can no longer be checked against a published key.

Canonical form is JCS (RFC 8785). Our documents hold only strings, integers, booleans, lists and
objects, for which JCS is exactly `json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`; floats are refused rather than canonicalised wrongly.
"""

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

CRYPTOSUITE = "eddsa-jcs-2022"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_MULTICODEC_ED25519_PUB = b"\xed\x01"


def b58encode(data: bytes) -> str:
    number, out = int.from_bytes(data, "big"), ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + _B58.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def canonical(document) -> bytes:
    def check(value):
        if isinstance(value, float):
            raise TypeError("floats are not canonicalised here; use a string or an integer")
        if isinstance(value, dict):
            for item in value.values():
                check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)
    check(document)
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_problem(config) -> str | None:
    """What is wrong with the configured signing key, for operators; None when it is usable.

    A missing key is fine only where it is generated on first use (the embedded default, tests);
    elsewhere certificates would pile up unsigned and unrendered, so /healthz reports it.
    """
    path = Path(config["LMS_SIGNING_KEY"])
    if not path.exists():
        if config.get("LMS_EMBEDDED") or config.get("TESTING"):
            return None
        return (f"LMS_SIGNING_KEY: no key at {path}; create one with "
                f"`flask --app app certificates generate-key PATH` and point LMS_SIGNING_KEY to it")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as error:
        return f"LMS_SIGNING_KEY: cannot read {path} ({error.strerror})"
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return f"LMS_SIGNING_KEY: {path} is not an unencrypted PEM private key"
    if not isinstance(key, Ed25519PrivateKey):
        return f"LMS_SIGNING_KEY: {path} is not an Ed25519 private key"
    return None


def load_private_key(path: str | None = None) -> Ed25519PrivateKey:
    """The key; RuntimeError saying what to do when it is missing or unusable."""
    config = current_app.config if path is None else {**current_app.config, "LMS_SIGNING_KEY": path}
    path = Path(config["LMS_SIGNING_KEY"])
    if not path.exists() and (config.get("LMS_EMBEDDED") or config.get("TESTING")):
        generate_key(path)
    problem = key_problem(config)
    if problem:
        raise RuntimeError(problem)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def generate_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def multibase_public_key(key) -> str:
    return "z" + b58encode(_MULTICODEC_ED25519_PUB + public_raw(key))


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    raw = b58decode(value[1:]) if value.startswith("z") else b""
    if not raw.startswith(_MULTICODEC_ED25519_PUB) or len(raw) != 34:
        raise ValueError("not an Ed25519 multibase key")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def jwk(key) -> dict:
    x = base64.urlsafe_b64encode(public_raw(key)).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": key_id(key), "alg": "EdDSA", "use": "sig"}


def key_id(key) -> str:
    return hashlib.sha256(public_raw(key)).hexdigest()[:16]


def _hash_data(document: dict, proof_options: dict) -> bytes:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = dict(proof_options)
    options.pop("proofValue", None)
    options["@context"] = document["@context"]
    return hashlib.sha256(canonical(options)).digest() + hashlib.sha256(canonical(unsecured)).digest()


def add_proof(document: dict, key: Ed25519PrivateKey, verification_method: str, created: str) -> dict:
    options = {"type": "DataIntegrityProof", "cryptosuite": CRYPTOSUITE, "created": created,
               "verificationMethod": verification_method, "proofPurpose": "assertionMethod"}
    signature = key.sign(_hash_data(document, options))
    # A list: the OB 3.0 schema requires `proof` to be an array.
    return {**document, "proof": [{**options, "proofValue": "z" + b58encode(signature)}]}


def verify_proof(document: dict, public_key: Ed25519PublicKey) -> None:
    """Raise ValueError saying what is wrong; return quietly when the proof holds."""
    proof = document.get("proof")
    if isinstance(proof, list):
        proof = proof[0] if len(proof) == 1 else None
    if not isinstance(proof, dict):
        raise ValueError("the credential has no proof (it is not signed)")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ValueError(f"unsupported proof: {proof.get('type')} / {proof.get('cryptosuite')}")
    value = proof.get("proofValue") or ""
    try:
        signature = b58decode(value[1:]) if value.startswith("z") else b""
        hash_data = _hash_data(document, proof)
    except (ValueError, TypeError) as error:
        raise ValueError(f"the proof or the document is malformed: {error}") from None
    try:
        public_key.verify(signature, hash_data)
    except InvalidSignature:
        raise ValueError("the signature does not match: the credential was altered after signing, "
                         "or it was signed with another key") from None
