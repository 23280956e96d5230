"""Rebuilding the report summary (see `lms.reports.models.ReportSummary`).

Chosen over incremental upkeep because the facts change in many places (enrolment,
progress, quizzes, certificates, revocations, lineage reloads) and a rebuild from the base
tables cannot drift: one INSERT … SELECT per fact stream, in one transaction, so readers see the
old summary until the new one commits. A Celery beat entry runs it every
`LMS_REPORT_REFRESH_SECONDS` (default 300); `flask reports refresh` runs it by hand.
"""

import time
from datetime import timedelta

from sqlalchemy import Date, case, cast, delete, func, insert, select, text

from lms.accounts.models import User
from lms.assignments.queries import overdue_clause
from lms.catalog.models import Course
from lms.certificates.models import Certificate
from lms.core.dates import local_today
from lms.core.db import utcnow
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.programs.models import ProgramCourse
from lms.quizzes.models import Attempt
from lms.reports.models import ReportRefresh, ReportSummary, ReportSummaryAllTime

ACTIVE_DAYS = 30


def month_of(column):
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return func.date(column, "start of month")


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def refresh(now=None) -> int:
    """Rebuild the summary; flushes, the caller commits. Returns the number of rows written.
    `now` (UTC) is the clock for "active" and "overdue"; tests and catch-up runs may choose it."""
    started = time.monotonic()
    now = now or utcnow()
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    if postgresql:
        # Two overlapping rebuilds would each keep the other's new rows (READ COMMITTED): take turns.
        # EXCLUSIVE still lets dashboards read the old summary meanwhile.
        db.session.execute(text("LOCK TABLE report_summary, report_summary_all_time IN EXCLUSIVE MODE"))
    db.session.execute(delete(ReportSummary))
    _insert_enrolments(now)
    _insert_attempts()
    _insert_course_certificates()
    _insert_program_certificates()
    _rebuild_all_time()
    if postgresql:
        # Fresh statistics, or the planner guesses the sizes of the tables it just refilled.
        db.session.execute(text("ANALYZE report_summary"))
        db.session.execute(text("ANALYZE report_summary_all_time"))
    rows = db.session.scalar(select(func.count(ReportSummary.id)))
    db.session.add(ReportRefresh(finished_at=utcnow(), rows=rows, seconds=time.monotonic() - started))
    db.session.flush()
    return rows


_KEY = ["locality_id", "course_id", "audience", "agency_id", "period"]


def _insert_enrolments(now) -> None:
    today = local_today(now)
    first = (select(Enrollment.user_id, func.min(Enrollment.id).label("first_id"))
             .group_by(Enrollment.user_id).subquery("first_enrolment"))
    first_done = (select(Enrollment.user_id, func.min(Enrollment.id).label("first_id"))
                  .where(Enrollment.completed_at.is_not(None)).group_by(Enrollment.user_id).subquery("first_completion"))
    period = month_of(Enrollment.enrolled_at)
    enrolments = (
        select(Enrollment.locality_id, Enrollment.course_id, User.audience, Enrollment.agency_id, period,
               func.count(Enrollment.id), func.count(Enrollment.completed_at), _count_if(overdue_clause(today)),
               _count_if(Enrollment.last_seen_at >= now - timedelta(days=ACTIVE_DAYS)),
               _count_if(Enrollment.id == first.c.first_id),
               _count_if(Enrollment.id == first_done.c.first_id),
               func.coalesce(func.sum(case((Enrollment.completed_at.is_not(None), Course.hours), else_=0)), 0))
        .join(User, User.id == Enrollment.user_id)
        .join(Course, Course.id == Enrollment.course_id)
        .join(first, first.c.user_id == Enrollment.user_id)
        .outerjoin(first_done, first_done.c.user_id == Enrollment.user_id)
        .where(Enrollment.locality_id.is_not(None))
        .group_by(Enrollment.locality_id, Enrollment.course_id, User.audience, Enrollment.agency_id, period)
    )
    db.session.execute(insert(ReportSummary).from_select(
        [*_KEY, "enrolled", "completed", "overdue", "active", "learners", "trained", "hours"], enrolments))


def _insert_attempts() -> None:
    period = month_of(Enrollment.enrolled_at)
    attempts = (
        select(Enrollment.locality_id, Enrollment.course_id, User.audience, Enrollment.agency_id, period,
               func.count(Attempt.id), _count_if(Attempt.passed.is_(True)), func.coalesce(func.sum(Attempt.score), 0))
        .join(Enrollment, Enrollment.id == Attempt.enrollment_id)
        .join(User, User.id == Enrollment.user_id)
        .where(Attempt.submitted_at.is_not(None), Enrollment.locality_id.is_not(None))
        .group_by(Enrollment.locality_id, Enrollment.course_id, User.audience, Enrollment.agency_id, period)
    )
    db.session.execute(insert(ReportSummary).from_select([*_KEY, "attempts", "passed", "score_sum"], attempts))


def _insert_course_certificates() -> None:
    issued = month_of(Certificate.issued_at)
    certificates = (
        select(Certificate.locality_id, Certificate.course_id, User.audience, Enrollment.agency_id, issued,
               func.count(Certificate.id))
        .join(User, User.id == Certificate.user_id)
        # The agency of the enrolment the certificate came from (none for a certificate without one).
        .outerjoin(Enrollment, Enrollment.id == Certificate.enrollment_id)
        .where(Certificate.course_id.is_not(None), Certificate.revoked_at.is_(None), Certificate.locality_id.is_not(None))
        .group_by(Certificate.locality_id, Certificate.course_id, User.audience, Enrollment.agency_id, issued)
    )
    db.session.execute(insert(ReportSummary).from_select([*_KEY, "certificates"], certificates))


def _insert_program_certificates() -> None:
    """Program certificates: rows of the program (no course), counted in `program_certificates`.

    A program certificate comes from no single enrolment; it counts with the agency recorded on the
    holder's latest enrolment in one of the program's courses, like a course certificate counts
    with the agency of its enrolment."""
    agency = (select(Enrollment.agency_id)
              .join(ProgramCourse, ProgramCourse.course_id == Enrollment.course_id)
              .where(Enrollment.user_id == Certificate.user_id, ProgramCourse.program_id == Certificate.program_id)
              .order_by(Enrollment.id.desc()).limit(1)
              .correlate(Certificate).scalar_subquery())
    each = (select(Certificate.locality_id, Certificate.program_id, User.audience, agency.label("agency_id"),
                   month_of(Certificate.issued_at).label("period"))
            .join(User, User.id == Certificate.user_id)
            .where(Certificate.program_id.is_not(None), Certificate.revoked_at.is_(None),
                   Certificate.locality_id.is_not(None))
            .subquery("program_certificate"))
    key = [each.c.locality_id, each.c.program_id, each.c.audience, each.c.agency_id, each.c.period]
    db.session.execute(insert(ReportSummary).from_select(
        ["locality_id", "program_id", "audience", "agency_id", "period", "program_certificates"],
        select(*key, func.count()).group_by(*key)))


SUMS = ["enrolled", "completed", "overdue", "active", "learners", "trained", "hours", "attempts", "passed", "score_sum",
        "certificates", "program_certificates"]


def _rebuild_all_time() -> None:
    key = ["locality_id", "course_id", "program_id", "audience", "agency_id"]
    db.session.execute(delete(ReportSummaryAllTime))
    db.session.execute(insert(ReportSummaryAllTime).from_select(
        [*key, *SUMS],
        select(*(getattr(ReportSummary, name) for name in key), *(func.sum(getattr(ReportSummary, name)) for name in SUMS))
        .group_by(*(getattr(ReportSummary, name) for name in key))))


def last_refresh():
    return db.session.scalar(select(ReportRefresh).order_by(ReportRefresh.finished_at.desc()).limit(1))


