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
    # Completion rules beyond "every lesson done, every quiz passed" (both optional).
    min_score = db.Column(db.Integer)
    min_study_minutes = db.Column(db.Integer)
    tags = db.Column(db.JSON, nullable=False, default=list)
    search_text = db.Column(db.Text, nullable=False, default="")
    status = db.Column(db.String(16), nullable=False, default="published", index=True)
    source_path = db.Column(db.String(500))
    source_hash = db.Column(db.String(64))
    # course.md's front matter as read, so keys this version does not map survive an export.
    front_matter = db.Column(db.JSON, nullable=False, default=dict)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    modules = db.relationship("Module", back_populates="course", order_by="Module.position",
                              cascade="all, delete-orphan")
    lessons = db.relationship("Lesson", back_populates="course", order_by="[Lesson.module_position, Lesson.position]",
                              cascade="all, delete-orphan", viewonly=False)

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    owners = db.relationship("CourseOwner", back_populates="course", cascade="all, delete-orphan")

    def can_view(self, user) -> bool:
        return self.is_published or self.can_manage(user)

    def can_manage(self, user) -> bool:
        """Admins manage every course; a trainer only the courses they own or were given."""
        if not (user and user.is_authenticated):
            return False
        if user.is_admin:
            return True
        return user.has_role("trainer") and any(owner.user_id == user.id for owner in self.owners)

    def can_share(self, user) -> bool:
        return self.can_manage(user)

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
    # The folder name without its numeric prefix; export writes `NN-<folder_stem>`.
    folder_stem = db.Column(db.String(200))
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
    # The file name without prefix and `.md`; export writes `NN-<file_stem>.md`.
    file_stem = db.Column(db.String(200))
    # Bumped on every change of title/minutes/body: the editor's stale-save guard.
    version = db.Column(db.Integer, nullable=False, default=1)
    archived_at = db.Column(db.DateTime)
    # "page" or "simulation" (issue 15, lms/practice): a simulation keeps its `*.sim.md` file verbatim
    # (export writes it back byte for byte) and its parsed steps with their HTML (`simulation`).
    kind = db.Column(db.String(16), nullable=False, default="page", server_default="page")
    source_text = db.deferred(db.Column(db.Text))
    simulation = db.deferred(db.Column(db.JSON))

    course = db.relationship("Course", back_populates="lessons")
    module = db.relationship("Module", back_populates="lessons")
    revisions = db.relationship("LessonRevision", back_populates="lesson", order_by="LessonRevision.id.desc()",
                                cascade="all, delete-orphan")

    @property
    def is_simulation(self) -> bool:
        return self.kind == "simulation"

    def can_view(self, user) -> bool:
        if self.archived_at is not None:
            return self.course.can_manage(user)
        return self.course.can_view(user)


class CourseOwner(IdMixin, db.Model):
    """Trainers who may edit a course (its creator, and whoever an owner or admin gave it to)."""

    __tablename__ = "course_owners"
    __table_args__ = (db.UniqueConstraint("course_id", "user_id"),)

    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    course = db.relationship("Course", back_populates="owners")
    user = db.relationship("User")


REVISION_ORIGINS = ("browser", "import", "revert")


class LessonRevision(IdMixin, db.Model):
    """Every saved state of a lesson (browser save, import, revert), for history, diff and revert."""

    __tablename__ = "lesson_revisions"

    lesson_id = db.Column(db.Integer, db.ForeignKey("lessons.id", ondelete="CASCADE"), nullable=False, index=True)
    version = db.Column(db.Integer, nullable=False)
    title = db.Column(db.String(200), nullable=False)
    minutes = db.Column(db.Integer)
    body_md = db.Column(db.Text, nullable=False, default="")
    origin = db.Column(db.String(16), nullable=False, default="browser")
    author_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    lesson = db.relationship("Lesson", back_populates="revisions")
    author = db.relationship("User")
