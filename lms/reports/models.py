"""Report tables: the summary the dashboards read, per-locality targets, export jobs.

`ReportSummary` is an additive fact table: rows are sums over (unit recorded, course,
audience, agency recorded, month), and several rows may share a key (one per fact stream), so readers always
SUM. Program certificates have no course: their rows carry the program instead (`program_id`,
`course_id` NULL) and count in `program_certificates` only. It is rebuilt as a whole by
`lms.reports.summary.refresh` (Celery beat, every `LMS_REPORT_REFRESH_SECONDS`), which keeps the
province dashboard a scan of a few thousand rows instead of a million enrolments.
"""

from lms.core.db import IdMixin, TimestampMixin, utcnow
from lms.extensions import db
from lms.targets.models import TARGET_AUDIENCES, LocalityTarget  # noqa: F401  (the one target model, lms.targets)

EXPORT_FORMATS = ("csv", "xlsx")


class _SummaryColumns:
    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id", ondelete="CASCADE"), nullable=False)
    # One subject per row: a course (every course fact) or a program (program certificates).
    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    program_id = db.Column(db.Integer, db.ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    audience = db.Column(db.String(16), nullable=False)
    # The learner's agency recorded at enrolment (officials; None for most residents).
    agency_id = db.Column(db.Integer, db.ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    enrolled = db.Column(db.Integer, nullable=False, default=0)
    completed = db.Column(db.Integer, nullable=False, default=0)
    active = db.Column(db.Integer, nullable=False, default=0)
    # People counted once, at their first enrolment / first completion: additive, for targets.
    learners = db.Column(db.Integer, nullable=False, default=0)
    trained = db.Column(db.Integer, nullable=False, default=0)
    hours = db.Column(db.Numeric(14, 2), nullable=False, default=0)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    passed = db.Column(db.Integer, nullable=False, default=0)
    score_sum = db.Column(db.Numeric(14, 2), nullable=False, default=0)
    certificates = db.Column(db.Integer, nullable=False, default=0)
    # Certificates of whole programs (rows with `program_id`), kept apart from the course certificates.
    program_certificates = db.Column(db.Integer, nullable=False, default=0)
    # Enrolments past their deadline (Asia/Ho_Chi_Minh date at the refresh) and not completed.
    overdue = db.Column(db.Integer, nullable=False, default=0)


class ReportSummary(IdMixin, _SummaryColumns, db.Model):
    __tablename__ = "report_summary"
    __table_args__ = (db.Index("ix_report_summary_locality_course", "locality_id", "course_id"),
                      db.CheckConstraint("(course_id IS NULL) <> (program_id IS NULL)", name="one_subject"))

    # First day of the month of the fact (enrolment month; issue month for certificates).
    period = db.Column(db.Date, nullable=False, index=True)


class ReportSummaryAllTime(IdMixin, _SummaryColumns, db.Model):
    """The same sums without the month: ten times fewer rows, read when no month is filtered."""

    __tablename__ = "report_summary_all_time"
    __table_args__ = (db.Index("ix_report_summary_all_time_locality_course", "locality_id", "course_id"),
                      db.CheckConstraint("(course_id IS NULL) <> (program_id IS NULL)", name="one_subject"))


class ReportRefresh(IdMixin, db.Model):
    """When the summary was last rebuilt (one row per rebuild; the newest wins)."""

    __tablename__ = "report_refreshes"

    finished_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
    rows = db.Column(db.Integer, nullable=False, default=0)
    seconds = db.Column(db.Float, nullable=False, default=0)


class ReportExport(IdMixin, TimestampMixin, db.Model):
    """A large export run by a worker; the file lands in the file store."""

    __tablename__ = "report_exports"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(32), nullable=False)
    format = db.Column(db.String(8), nullable=False)
    params = db.Column(db.JSON, nullable=False, default=dict)
    status = db.Column(db.String(16), nullable=False, default="queued")
    rows_total = db.Column(db.Integer)
    rows_done = db.Column(db.Integer, nullable=False, default=0)
    file_key = db.Column(db.String(300))
    error = db.Column(db.Text)
    finished_at = db.Column(db.DateTime)

    locality = db.relationship("Locality")

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return min(99, 100 * self.rows_done // self.rows_total) if self.rows_total else 0

    def can_view(self, user) -> bool:
        """Its creator, while still in scope: of the locality, or of the agency the list was narrowed to."""
        if not (user and user.is_authenticated and user.id == self.user_id):
            return False
        if user.can_manage_locality(self.locality):
            return True
        from lms.agencies.models import Agency

        agency = str((self.params or {}).get("agency") or "")
        return agency.isdigit() and user.can_manage_agency(db.session.get(Agency, int(agency)))
