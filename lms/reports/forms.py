"""Report inputs: the filter query string (GET, shared by pages, exports and the API) and the
targets form."""

import re
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import DataRequired, NumberRange, Optional

from lms.accounts.scope import Scope
from lms.agencies.models import Agency
from lms.catalog.models import Course
from lms.extensions import db
from lms.programs.models import Program
from lms.reports.queries import AUDIENCES, MODES, ReportFilter

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ReportInputError(ValueError):
    """A filter value we cannot use; the message is shown to the user (or API client)."""


def _month(value: str | None, name: str) -> date | None:
    if not value:
        return None
    match = MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise ReportInputError(_("The month “%(name)s” must look like 2025-07.", name=name))
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_choices(selected: date | None = None, count: int = 36) -> list[tuple[str, str]]:
    """(value "2025-07", label "07/2025") for the last `count` months, newest first, plus `selected` if older.

    A list to pick from, not <input type=month>: Chromium shows an empty one as "--------- ----" in Vietnamese.
    """
    from lms.assignments.reminders import local_today

    today = local_today()
    months: list[date] = []
    year, month = today.year, today.month
    for _step in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    if selected and selected not in months:
        months.append(selected)
    return [(m.strftime("%Y-%m"), m.strftime("%m/%Y")) for m in months]


def parse_filters(args) -> tuple[str, ReportFilter]:
    """(mode, filters) from a query string. An unknown mode falls back to current boundaries."""
    mode = args.get("mode", "current")
    if mode not in MODES:
        mode = "current"
    course = args.get("course") or None
    if course is not None and not course.isdigit():
        raise ReportInputError(_("Unknown course."))
    audience = args.get("audience") or None
    if audience is not None and audience not in AUDIENCES:
        raise ReportInputError(_("Unknown audience."))
    program = (args.get("program") or "").strip() or None
    agency = (args.get("agency") or "").strip() or None
    if agency is not None and (not agency.isdigit() or db.session.get(Agency, int(agency)) is None):
        raise ReportInputError(_("Unknown agency."))
    month_from, month_to = _month(args.get("from"), "from"), _month(args.get("to"), "to")
    if month_from and month_to and month_from > month_to:
        raise ReportInputError(_("The first month must not be after the last month."))
    return mode, ReportFilter(course_id=int(course) if course else None, program=program, audience=audience,
                              month_from=month_from, month_to=month_to, agency_id=int(agency) if agency else None)


def filter_choices(user=None) -> dict:
    """Choices of the filter form: programs as (slug, title) — old `Course.program` values that
    are no program slug still listed — and the agencies the viewer may pick."""
    courses = db.session.scalars(select(Course).where(Course.status == "published").order_by(Course.title_folded)).all()
    programs = [(p.slug, p.title) for p in db.session.scalars(select(Program).order_by(Program.title))]
    slugs = {slug for slug, _title in programs}
    programs += [(name, name) for name in sorted({c.program for c in courses if c.program} - slugs)]
    query = select(Agency).order_by(Agency.path)
    scope = Scope.of(user)
    if user is not None and not scope.everything and not scope.localities:
        query = query.where(scope.agency_clause(Agency))
    return {"courses": courses, "programs": programs, "agencies": db.session.scalars(query).all()}


class TargetForm(FlaskForm):
    audience = SelectField(_l("Who"), choices=[("citizen", _l("Residents reached (enrolled at least once)")),
                                               ("official", _l("Officials trained (completed at least one course)"))])
    population = IntegerField(_l("Reference population"), validators=[DataRequired(), NumberRange(min=1, max=50_000_000)])
    target_percent = IntegerField(_l("Target share (%)"), validators=[DataRequired(), NumberRange(min=1, max=100)])
    counts = SelectField(_l("Who counts"), choices=[("all", _l("Assisted and self-learners")),
                                                    ("assisted", _l("Assisted residents only")),
                                                    ("self", _l("Self-learners only"))], default="all")
    completed = IntegerField(_l("People completing a course (optional)"),
                             validators=[Optional(), NumberRange(min=0, max=50_000_000)])
    due_on = DateField(_l("By (date)"), validators=[DataRequired()])
