"""Assignment rules: "everyone matching this must complete that course or program by this date".

A rule is applied in one set-based statement when it is saved, again to each person who comes
to match it later (registration, import, a profile or agency change) and by a nightly job.
"""

from lms.accounts.scope import Scope
from lms.core.db import IdMixin, TimestampMixin
from lms.extensions import db


class AssignmentRule(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "assignment_rules"

    # What: a course or a program (exactly one).
    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    program_id = db.Column(db.Integer, db.ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    deadline = db.Column(db.Date, nullable=False)
    # Who: every condition given must hold (none given: everybody — admins only).
    audience = db.Column(db.String(16))
    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id"), index=True)
    agency_id = db.Column(db.Integer, db.ForeignKey("agencies.id"), index=True)
    position_contains = db.Column(db.String(160))  # folded text
    active = db.Column(db.Boolean, nullable=False, default=True)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))

    course = db.relationship("Course")
    program = db.relationship("Program")
    locality = db.relationship("Locality")
    agency = db.relationship("Agency")
    created_by = db.relationship("User")

    @property
    def target_title(self) -> str:
        return self.course.title if self.course is not None else self.program.title

    def can_manage(self, user) -> bool:
        return can_target(user, self.locality, self.agency)


def can_target(user, locality, agency) -> bool:
    """Admins may target anyone; a manager only a locality or agency inside one of their scopes."""
    scope = Scope.of(user)
    return scope.everything or (locality is not None and scope.covers_locality(locality)) or scope.covers_agency(agency)


def _register_notification_kind():
    from flask_babel import lazy_gettext as _l

    from lms.notifications.models import register_kind

    register_kind("deadline", _l("Deadlines of required training"))


_register_notification_kind()
