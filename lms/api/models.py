"""API tokens for the provincial operations centre.

Only a SHA-256 of the token is stored (tokens are 256 random bits, so a fast hash is enough;
nothing to brute-force). A token is scoped like a manager grant: one locality subtree, optionally
narrowed to one agency subtree.
"""

import hashlib
import secrets

from lms.core.db import IdMixin, TimestampMixin
from lms.extensions import db

PREFIX = "lms_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiToken(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "api_tokens"

    name = db.Column(db.String(120), nullable=False)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id", ondelete="CASCADE"), nullable=False)
    # Optional: the token sees only the people of this agency subtree (within the locality).
    agency_id = db.Column(db.Integer, db.ForeignKey("agencies.id", ondelete="CASCADE"))
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at = db.Column(db.DateTime)
    revoked_at = db.Column(db.DateTime)

    locality = db.relationship("Locality")
    agency = db.relationship("Agency")

    @staticmethod
    def new_secret() -> str:
        return PREFIX + secrets.token_urlsafe(32)

    def can_view_locality(self, unit) -> bool:
        return self.revoked_at is None and self.locality.contains(unit)
