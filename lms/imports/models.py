"""Bulk imports of people: one row per uploaded file and its run."""

from lms.core.db import IdMixin, TimestampMixin
from lms.extensions import db

# checking: the worker reads the file and makes the dry run; ready: the preview can be shown.
IMPORT_STATUSES = ("checking", "ready", "queued", "running", "done", "failed")
IMPORT_KINDS = ("people", "agencies")


class ImportJob(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "import_jobs"

    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind = db.Column(db.String(16), nullable=False, default="people", server_default="people")
    filename = db.Column(db.String(255), nullable=False)
    file_key = db.Column(db.String(255), nullable=False)
    # {field: column header}; see lms.imports.mapping.FIELDS.
    mapping = db.Column(db.JSON, nullable=False, default=dict)
    default_audience = db.Column(db.String(16), nullable=False, default="official")
    status = db.Column(db.String(16), nullable=False, default="ready")
    total = db.Column(db.Integer, nullable=False, default=0)
    processed = db.Column(db.Integer, nullable=False, default=0)
    created = db.Column(db.Integer, nullable=False, default=0)
    updated = db.Column(db.Integer, nullable=False, default=0)
    failed = db.Column(db.Integer, nullable=False, default=0)
    errors_key = db.Column(db.String(255))
    message = db.Column(db.Text)
    # Written by the worker's check of the file (the request never reads it): the header row, the
    # first rows, and the dry run {"total", "counts", "errors": [[row, message]…], "error_count"}.
    headers = db.Column(db.JSON)
    samples = db.Column(db.JSON)
    preview = db.Column(db.JSON)
    started_at = db.Column(db.DateTime)
    finished_at = db.Column(db.DateTime)

    created_by = db.relationship("User")

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else (100 if self.status == "done" else 0)

    @property
    def is_finished(self) -> bool:
        return self.status in ("done", "failed")

    def can_view(self, user) -> bool:
        return bool(user and user.is_authenticated and user.is_admin)
