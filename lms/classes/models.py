"""Trainer-led, in-person classes of a course: sessions, a roster and attendance per session."""

from lms.accounts.scope import Scope
from lms.core.db import IdMixin, TimestampMixin, utcnow
from lms.extensions import db

ATTENDANCE = ("present", "absent", "excused")


class TrainingClass(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "training_classes"

    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True)
    title = db.Column(db.String(200), nullable=False)
    trainer_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id"), index=True)
    place = db.Column(db.String(255))

    course = db.relationship("Course")
    trainer = db.relationship("User")
    locality = db.relationship("Locality")
    sessions = db.relationship("ClassSession", back_populates="training_class", order_by="ClassSession.starts_at",
                               cascade="all, delete-orphan")
    members = db.relationship("ClassMember", back_populates="training_class", cascade="all, delete-orphan")

    def can_manage(self, user) -> bool:
        return bool(user and user.is_authenticated and (user.is_admin or (self.trainer_id == user.id
                                                                          and user.has_role("trainer"))))

    def is_member(self, user) -> bool:
        return bool(user and user.is_authenticated and any(m.user_id == user.id for m in self.members))

    def can_view(self, user) -> bool:
        if not (user and user.is_authenticated):
            return False
        if self.can_manage(user) or self.is_member(user):
            return True
        return self.locality is not None and Scope.of(user).covers_locality(self.locality)


class ClassSession(IdMixin, db.Model):
    __tablename__ = "class_sessions"

    class_id = db.Column(db.Integer, db.ForeignKey("training_classes.id", ondelete="CASCADE"), nullable=False, index=True)
    starts_at = db.Column(db.DateTime, nullable=False)  # naive UTC
    hours = db.Column(db.Numeric(4, 1), nullable=False, default=2)
    topic = db.Column(db.String(200))

    training_class = db.relationship("TrainingClass", back_populates="sessions")
    attendance = db.relationship("Attendance", back_populates="session", cascade="all, delete-orphan")


class ClassMember(IdMixin, db.Model):
    __tablename__ = "class_members"
    __table_args__ = (db.UniqueConstraint("class_id", "user_id"),)

    class_id = db.Column(db.Integer, db.ForeignKey("training_classes.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    added_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    training_class = db.relationship("TrainingClass", back_populates="members")
    user = db.relationship("User")


class Attendance(IdMixin, db.Model):
    __tablename__ = "class_attendance"
    __table_args__ = (db.UniqueConstraint("session_id", "user_id"),)

    session_id = db.Column(db.Integer, db.ForeignKey("class_sessions.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    status = db.Column(db.String(16), nullable=False)
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    session = db.relationship("ClassSession", back_populates="attendance")
