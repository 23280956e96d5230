"""CSV and XLSX of report tables, streamed.

The coverage table is small (one row per unit) and is written in the request. The learner
list can be a million rows: it is read with a server-side cursor (`yield_per`) and written
row by row — CSV to the response or a file, XLSX through XlsxWriter's `constant_memory`
mode — so memory stays flat whatever the size. Big lists run as a Celery job (tasks.py).
"""

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from lms.accounts.models import User
from lms.catalog.models import Course
from lms.core import spreadsheets
from lms.core.templating import format_date
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.localities.models import Locality
from lms.reports.queries import ReportFilter, scope_condition

# Lists above this many rows are exported by a worker instead of in the request.
INLINE_LIMIT = 20_000


def coverage_table(rows, total, mode: str) -> tuple[list[str], list[list]]:
    header = [_("Unit"), _("Unit code"), _("Enrolled"), _("Active in the last 30 days"), _("Completed"),
              _("Completion (%)"), _("Quiz attempts"), _("Passed (%)"), _("Average score"), _("Certificates"),
              _("Overdue required training"), _("Training hours"), _("Program certificates")]

    def line(label, code, row):
        return [label, code, row.enrolled, row.active, row.completed, row.completion_rate, row.attempts, row.pass_rate,
                row.average_score if row.average_score is not None else "", row.certificates, row.overdue,
                float(row.hours), row.program_certificates]

    body = [line(row.locality.name if row.locality.is_current else f"{row.locality.name} ({_('former unit')})",
                 f"{row.locality.scheme}/{row.locality.code}", row) for row in rows]
    body.append(line(_("Total"), "", total))
    return header, body


def csv_chunks(header, rows):
    return spreadsheets.csv_chunks(header, rows)


def write_xlsx(path: str, header, rows) -> None:
    spreadsheets.write_xlsx(path, header, rows, _("Report"))


def xlsx_bytes(header, rows) -> bytes:
    return spreadsheets.xlsx_bytes(header, rows, _("Report"))


def learner_header() -> list[str]:
    return [_("Full name"), _("Audience"), _("Unit as recorded"), _("Current unit"), _("Course code"), _("Enrolled on"),
            _("Completed on"), _("Last seen on"), _("Deadline")]


def _learner_query(scope: Locality, filters: ReportFilter):
    recorded, current = aliased(Locality), aliased(Locality)
    query = (select(User.full_name, User.audience, recorded.name, current.name, Course.code, Enrollment.enrolled_at,
                    Enrollment.completed_at, Enrollment.last_seen_at, Enrollment.deadline)
             .join(User, User.id == Enrollment.user_id)
             .join(Course, Course.id == Enrollment.course_id)
             .join(recorded, recorded.id == Enrollment.locality_id)
             .outerjoin(current, current.id == recorded.current_id)
             .where(scope_condition(recorded, scope)))
    query = filters.narrow(query, Enrollment.course_id, User.audience, Enrollment.agency_id)
    if filters.month_from:
        query = query.where(Enrollment.enrolled_at >= filters.month_from)
    if filters.month_to:
        next_month = filters.month_to.replace(year=filters.month_to.year + filters.month_to.month // 12,
                                              month=filters.month_to.month % 12 + 1)
        query = query.where(Enrollment.enrolled_at < next_month)
    return query


def count_learners(scope: Locality, filters: ReportFilter) -> int:
    return db.session.scalar(select(func.count()).select_from(_learner_query(scope, filters).subquery()))


def learner_rows(scope: Locality, filters: ReportFilter):
    """Rows of the learner list, fetched in batches from a server-side cursor.

    The unit is kept by id and loaded again when the first row is pulled: a streamed response
    pulls its rows after the view returned and the request's session (which loaded `scope`)
    was closed, so `scope` itself can no longer be read then.
    """
    return _learner_rows(scope.id, filters)


def _learner_rows(scope_id: int, filters: ReportFilter):
    scope = db.session.get(Locality, scope_id)
    result = db.session.execute(_learner_query(scope, filters).order_by(Enrollment.id).execution_options(
        yield_per=2000, stream_results=True))
    for name, audience, recorded, current, code, enrolled, completed, seen, deadline in result:
        yield [name, audience, recorded, current or "", code, format_date(enrolled), format_date(completed), format_date(seen),
               format_date(deadline)]
