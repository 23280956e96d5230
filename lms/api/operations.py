from lms.api.models import ApiToken, hash_token
from lms.core.audit import record
from lms.core.db import utcnow
from lms.extensions import db


def create_token(name: str, locality, actor=None, agency=None) -> tuple[ApiToken, str]:
    """A new token; the secret is returned once and never stored."""
    secret = ApiToken.new_secret()
    token = ApiToken(name=name.strip(), token_hash=hash_token(secret), locality_id=locality.id,
                     agency_id=getattr(agency, "id", None), created_by_id=getattr(actor, "id", None))
    db.session.add(token)
    db.session.flush()
    record(actor, "api_token.create", token, locality=locality.id, agency=token.agency_id, name=token.name)
    return token, secret


def revoke_token(token: ApiToken, actor=None) -> None:
    token.revoked_at = utcnow()
    db.session.flush()
    record(actor, "api_token.revoke", token)
