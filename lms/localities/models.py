"""Administrative units that survive reforms (DESIGN.md §4).

Each unit belongs to a scheme (`2025-01`: province/district/commune; `2025-07`:
province/commune). `path` is a materialised path of ids ("/12/345/") so "everything under X"
is one indexed prefix query; `current_id` is the unit of the newest scheme this one rolls up
to through the default lineage, precomputed at load so reports need no recursion.
"""

from lms.core.db import IdMixin
from lms.extensions import db

CURRENT_SCHEME = "2025-07"
LEVELS = ("province", "district", "commune")


class Locality(IdMixin, db.Model):
    __tablename__ = "localities"
    __table_args__ = (db.UniqueConstraint("scheme", "level", "code"),)

    scheme = db.Column(db.String(16), nullable=False)
    level = db.Column(db.String(16), nullable=False)
    code = db.Column(db.String(16), nullable=False)
    name = db.Column(db.String(160), nullable=False)
    name_folded = db.Column(db.String(160), nullable=False, index=True)
    unit_type = db.Column(db.String(40), nullable=False)
    parent_id = db.Column(db.Integer, db.ForeignKey("localities.id"), index=True)
    valid_from = db.Column(db.Date)
    valid_to = db.Column(db.Date)
    path = db.Column(db.String(64), nullable=False, default="", index=True)
    current_id = db.Column(db.Integer, db.ForeignKey("localities.id"), index=True)

    parent = db.relationship("Locality", remote_side="Locality.id", foreign_keys=[parent_id])
    current = db.relationship("Locality", remote_side="Locality.id", foreign_keys=[current_id])

    @property
    def is_current(self) -> bool:
        return self.scheme == CURRENT_SCHEME

    @property
    def label(self) -> str:
        """Name with its parents, e.g. 'Phường Vũng Tàu, Thành phố Hồ Chí Minh'."""
        names, unit = [self.name], self.parent
        while unit is not None:
            names.append(unit.name)
            unit = unit.parent
        return ", ".join(names)

    def successors_query(self):
        """Ids of the current units this unit's subtree rolls up to (a subquery)."""
        return db.select(Locality.current_id).where(Locality.path.startswith(self.path), Locality.current_id.is_not(None))

    def covers_clause(self, unit):
        """SQL condition: `unit` (Locality or an alias of it) is inside this scope — the rule of
        `contains`, for queries that filter facts by the unit they were recorded in."""
        return db.or_(unit.path.startswith(self.path), unit.current_id.in_(self.successors_query()))

    def contains(self, other: "Locality | None") -> bool:
        """True when `other` lies in this unit's subtree, as recorded or through the reform.

        Across schemes a unit is inside when its successor is one of this subtree's successors:
        a ward contains the old communes merged into it; an old district contains the new
        wards that took over its communes.
        """
        if other is None:
            return False
        if other.path.startswith(self.path):
            return True
        if other.current_id is None:
            return False
        return db.session.scalar(db.select(db.exists(
            self.successors_query().where(Locality.current_id == other.current_id)))) or False

    def __repr__(self):
        return f"<Locality {self.scheme}/{self.level}/{self.code} {self.name}>"


class LocalityLineage(IdMixin, db.Model):
    __tablename__ = "locality_lineage"
    __table_args__ = (db.UniqueConstraint("old_id", "new_id"),)

    old_id = db.Column(db.Integer, db.ForeignKey("localities.id", ondelete="CASCADE"), nullable=False, index=True)
    new_id = db.Column(db.Integer, db.ForeignKey("localities.id", ondelete="CASCADE"), nullable=False, index=True)
    effective_date = db.Column(db.Date, nullable=False)
    is_partial = db.Column(db.Boolean, nullable=False, default=False)
    is_default = db.Column(db.Boolean, nullable=False, default=False)
