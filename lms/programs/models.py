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
    source_hash = db.Column(db.String(64))
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    courses = db.relationship("ProgramCourse", back_populates="program", order_by="ProgramCourse.position",
                              cascade="all, delete-orphan")


class ProgramCourse(IdMixin, db.Model):
    __tablename__ = "program_courses"
    __table_args__ = (db.UniqueConstraint("program_id", "course_id"),)

    program_id = db.Column(db.Integer, db.ForeignKey("programs.id", ondelete="CASCADE"), nullable=False, index=True)
    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True)
    required = db.Column(db.Boolean, nullable=False, default=True)
    position = db.Column(db.Integer, nullable=False, default=0)

    program = db.relationship("Program", back_populates="courses")
    course = db.relationship("Course")
