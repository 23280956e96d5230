"""Programs: a set of courses (required ones plus N optional) with a certificate of its own."""

from lms.core.db import IdMixin, utcnow
from lms.extensions import db


class Program(IdMixin, db.Model):
    __tablename__ = "programs"

    slug = db.Column(db.String(120), nullable=False, unique=True)
    title = db.Column(db.String(200), nullable=False)
    certificate = db.Column(db.Boolean, nullable=False, default=True)
    hours = db.Column(db.Numeric(6, 2), nullable=False, default=0)
    valid_months = db.Column(db.Integer)
    optional_required = db.Column(db.Integer, nullable=False, default=0)
    description = db.Column(db.Text, nullable=False, default="")
    # Audiences the program is meant for (empty: everyone), like Course.audience.
    audience = db.Column(db.JSON, nullable=False, default=list)
    # Whether quiz attempts taken in a community team's assisted session (lms.community) count toward completing
    # the program's courses (and so their certificates). False: the learner must pass the quiz on their own.
    assisted_attempts_count = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    source_hash = db.Column(db.String(64))
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    courses = db.relationship("ProgramCourse", back_populates="program", order_by="ProgramCourse.position",
                              cascade="all, delete-orphan")

    def can_view(self, user) -> bool:
        return True

    def can_manage(self, user) -> bool:
        return bool(user and user.is_authenticated and user.is_admin)

    def can_enrol(self, user) -> bool:
        if not (user and user.is_authenticated):
            return False
        return not self.audience or user.audience in self.audience or user.is_admin


class ProgramCourse(IdMixin, db.Model):
    __tablename__ = "program_courses"
    __table_args__ = (db.UniqueConstraint("program_id", "course_id"),)

    program_id = db.Column(db.Integer, db.ForeignKey("programs.id", ondelete="CASCADE"), nullable=False, index=True)
    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True)
    required = db.Column(db.Boolean, nullable=False, default=True)
    position = db.Column(db.Integer, nullable=False, default=0)

    program = db.relationship("Program", back_populates="courses")
    course = db.relationship("Course")


class Prerequisite(IdMixin, db.Model):
    """"Complete X before enrolling in Y": Y and X are each a course or a program (one of the two ids)."""

    __tablename__ = "prerequisites"

    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    program_id = db.Column(db.Integer, db.ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    requires_course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"))
    requires_program_id = db.Column(db.Integer, db.ForeignKey("programs.id", ondelete="CASCADE"))

    requires_course = db.relationship("Course", foreign_keys=[requires_course_id])
    requires_program = db.relationship("Program", foreign_keys=[requires_program_id])
