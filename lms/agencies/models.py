"""Agencies: provincial departments (Sở), people's committees (UBND) and their offices.

`path` is a materialised path of ids ("/3/17/") like `Locality.path`, so "everything under
this agency" is one indexed prefix query.
"""

from lms.core.db import IdMixin, TimestampMixin
from lms.extensions import db

AGENCY_KINDS = ("department", "committee", "office", "other")


class Agency(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "agencies"

    code = db.Column(db.String(32), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)
    name_folded = db.Column(db.String(200), nullable=False, index=True)
    kind = db.Column(db.String(16), nullable=False, default="other")
    parent_id = db.Column(db.Integer, db.ForeignKey("agencies.id"), index=True)
    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id"), index=True)
    path = db.Column(db.String(255), nullable=False, default="", index=True)

    parent = db.relationship("Agency", remote_side="Agency.id")
    locality = db.relationship("Locality")

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    def contains(self, other: "Agency | None") -> bool:
        return other is not None and bool(self.path) and other.path.startswith(self.path)

    def subtree_ids_query(self):
        return db.select(Agency.id).where(Agency.path.startswith(self.path))

    def __repr__(self):
        return f"<Agency {self.code} {self.name}>"
