"""The one target model of the platform (issue 15): what a unit should reach, for whom.

Used by the reports (population targets: `flask reports import-targets`, the dashboard's target form)
and by the community digital teams (a commune's coverage on `/community/team`). A target is a
reference population and a share of it (`target_count`), for an audience, and for a group of
people — `counts`: everyone, only residents helped by a community team (*assisted*), or only those
who learn on their own (*self*) — with, optionally, how many should complete a course and a date
(the period the target is for).
"""

from lms.core.db import IdMixin, TimestampMixin, utcnow
from lms.extensions import db

TARGET_AUDIENCES = ("citizen", "official")
TARGET_GROUPS = ("all", "assisted", "self")


class LocalityTarget(IdMixin, TimestampMixin, db.Model):
    """audience "citizen" → residents reached (enrolled at least once, or helped by a team);
    "official" → officials trained (completed at least one course). `population` is the reference
    figure entered (census, staff list, or the residents a commune means to reach at 100 %)."""

    __tablename__ = "locality_targets"
    __table_args__ = (db.UniqueConstraint("locality_id", "audience", "counts"),)

    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id", ondelete="CASCADE"), nullable=False, index=True)
    audience = db.Column(db.String(16), nullable=False)
    counts = db.Column(db.String(8), nullable=False, default="all", server_default="all")
    population = db.Column(db.Integer, nullable=False)
    target_percent = db.Column(db.Integer, nullable=False)
    # People of the group who should complete at least one course (None: no completion target).
    completed_target = db.Column(db.Integer)
    due_on = db.Column(db.Date)  # the end of the period; None: no date
    updated_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    locality = db.relationship("Locality")

    @property
    def target_count(self) -> int:
        return -(-self.population * self.target_percent // 100)  # ceiling: 33 % of 10 is 4 people
