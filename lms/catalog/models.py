"""Courses, modules and lessons.

A lesson's `key` is its stable identity within the course (module folder + file name without
numeric prefixes, or an explicit `id:`), so re-numbering files never loses progress.
"""

from lms.core.db import IdMixin, TimestampMixin, utcnow
from lms.extensions import db

COURSE_STATUSES = ("draft", "published", "archived")


class Course(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "courses"

    slug = db.Column(db.String(120), nullable=False, unique=True)
    code = db.Column(db.String(40), nullable=False, unique=True)
    title = db.Column(db.String(200), nullable=False)
    title_folded = db.Column(db.String(200), nullable=False, index=True)
    description_md = db.Column(db.Text, nullable=False, default="")
    description_html = db.Column(db.Text, nullable=False, default="")
    program = db.Column(db.String(60))
    audience = db.Column(db.JSON, nullable=False, default=list)
    language = db.Column(db.String(8), nullable=False, default="vi")
    hours = db.Column(db.Numeric(6, 2), nullable=False, default=0)
    passing_score = db.Column(db.Integer, nullable=False, default=70)
    certificate = db.Column(db.Boolean, nullable=False, default=True)
    valid_months = db.Column(db.Integer)
    tags = db.Column(db.JSON, nullable=False, default=list)
    search_text = db.Column(db.Text, nullable=False, default="")
    status = db.Column(db.String(16), nullable=False, default="published", index=True)
    source_path = db.Column(db.String(500))
    source_hash = db.Column(db.String(64))
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    modules = db.relationship("Module", back_populates="course", order_by="Module.position",
                              cascade="all, delete-orphan")
    lessons = db.relationship("Lesson", back_populates="course", order_by="[Lesson.module_position, Lesson.position]",
                              cascade="all, delete-orphan", viewonly=False)

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    def can_view(self, user) -> bool:
        return self.is_published or self.can_manage(user)

    def can_manage(self, user) -> bool:
        if not (user and user.is_authenticated):
            return False
        return user.is_admin or (user.has_role("trainer") and self._trainer_may_manage(user))

    def _trainer_may_manage(self, user) -> bool:
        # Until courses have owners, every trainer manages every course; an owners column
        # narrows this one method.
        return True

    def can_enrol(self, user) -> bool:
        if not (self.is_published and user and user.is_authenticated):
            return False
        return not self.audience or user.audience in self.audience or user.is_admin

    def active_lessons(self):
        return [lesson for lesson in self.lessons if lesson.archived_at is None]


class Module(IdMixin, db.Model):
    __tablename__ = "modules"
    __table_args__ = (db.UniqueConstraint("course_id", "key"),)

    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True)
    key = db.Column(db.String(120), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)
    title = db.Column(db.String(200), nullable=False)
    intro_md = db.Column(db.Text, nullable=False, default="")
    intro_html = db.Column(db.Text, nullable=False, default="")
    archived_at = db.Column(db.DateTime)

    course = db.relationship("Course", back_populates="modules")
    lessons = db.relationship("Lesson", back_populates="module", order_by="Lesson.position")


class Lesson(IdMixin, db.Model):
    __tablename__ = "lessons"
    __table_args__ = (db.UniqueConstraint("course_id", "key"),)

    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True)
    module_id = db.Column(db.Integer, db.ForeignKey("modules.id"), nullable=False, index=True)
    key = db.Column(db.String(240), nullable=False)
    module_position = db.Column(db.Integer, nullable=False, default=0)
    position = db.Column(db.Integer, nullable=False, default=0)
    title = db.Column(db.String(200), nullable=False)
    minutes = db.Column(db.Integer)
    # Deferred: lesson lists (course page, pager) never need the bodies.
    body_md = db.deferred(db.Column(db.Text, nullable=False, default=""))
    body_html = db.deferred(db.Column(db.Text, nullable=False, default=""))
    renderer_version = db.Column(db.Integer, nullable=False, default=0)
    archived_at = db.Column(db.DateTime)

    course = db.relationship("Course", back_populates="lessons")
    module = db.relationship("Module", back_populates="lessons")

    def can_view(self, user) -> bool:
        if self.archived_at is not None:
            return self.course.can_manage(user)
        return self.course.can_view(user)
