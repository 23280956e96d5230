"""Enrollment and progress. An enrollment keeps the locality the learner had when enrolling."""

from lms.core.db import IdMixin, utcnow
from lms.extensions import db

ENROLLMENT_SOURCES = ("self", "assigned", "import")


class Enrollment(IdMixin, db.Model):
    __tablename__ = "enrollments"
    __table_args__ = (db.UniqueConstraint("user_id", "course_id"),)

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True)
    source = db.Column(db.String(16), nullable=False, default="self")
    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id"), index=True)
    agency_id = db.Column(db.Integer, db.ForeignKey("agencies.id"), index=True)
    enrolled_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    completed_at = db.Column(db.DateTime)
    # Set when the learner starts over to renew an expired certificate: only work after it counts.
    restarted_at = db.Column(db.DateTime)
    last_lesson_id = db.Column(db.Integer, db.ForeignKey("lessons.id", ondelete="SET NULL"))
    last_seen_at = db.Column(db.DateTime)
    # Assigned training: the last day (Asia/Ho_Chi_Minh calendar) to complete it, and the rule that assigned it.
    deadline = db.Column(db.Date, index=True)
    rule_id = db.Column(db.Integer, db.ForeignKey("assignment_rules.id", ondelete="SET NULL"), index=True)

    user = db.relationship("User")
    course = db.relationship("Course")
    locality = db.relationship("Locality")
    last_lesson = db.relationship("Lesson")
    progress = db.relationship("LessonProgress", back_populates="enrollment", cascade="all, delete-orphan")

    def can_view(self, user) -> bool:
        return bool(user and user.is_authenticated and (user.id == self.user_id or user.is_admin))


class LessonProgress(IdMixin, db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (db.UniqueConstraint("enrollment_id", "lesson_id"),)

    enrollment_id = db.Column(db.Integer, db.ForeignKey("enrollments.id", ondelete="CASCADE"), nullable=False, index=True)
    lesson_id = db.Column(db.Integer, db.ForeignKey("lessons.id", ondelete="CASCADE"), nullable=False, index=True)
    first_seen_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    completed_at = db.Column(db.DateTime)

    enrollment = db.relationship("Enrollment", back_populates="progress")
    lesson = db.relationship("Lesson")


class OfflineProgressRecord(IdMixin, db.Model):
    """One "done" (or "not done") a learner made without a network, as the phone sent it later.

    The phone names each record with its own id (a UUID made when the button was pressed) and may
    send it again (a retry after a cut connection, a second tab, a replayed queue): the unique
    `client_id` makes the second arrival a no-op, so nothing is counted twice.
    """

    __tablename__ = "offline_progress_records"

    client_id = db.Column(db.String(64), nullable=False, unique=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    lesson_id = db.Column(db.Integer, db.ForeignKey("lessons.id", ondelete="CASCADE"), nullable=False)
    done = db.Column(db.Boolean, nullable=False, default=True)
    done_at = db.Column(db.DateTime, nullable=False)  # when the learner pressed the button (phone's clock, bounded)
    received_at = db.Column(db.DateTime, nullable=False, default=utcnow)
