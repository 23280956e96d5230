from flask import Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.core import inputs, spreadsheets
from lms.core.dates import local_today
from lms.core.lifecycle import view
from lms.core.permissions import login_required, role_required
from lms.hours import queries

PER_PAGE = 100


def _year() -> int:
    year = request.args.get("year", type=int)
    return year if year and 2000 <= year <= 2100 else local_today().year


@view
@login_required
def mine():
    year = _year()
    entries = [e for e in queries.entries_for(select(current_user.id).scalar_subquery()).get(current_user.id, [])
               if e.day.year == year]
    return render_template("hours/mine.html", entries=entries, year=year, total=queries.year_total(entries, year))


@view
@role_required("manager")
def team():
    year = _year()
    fmt = request.args.get("format")
    if fmt not in ("csv", "xlsx"):
        page = inputs.page_number()
        rows = queries.team_rows(current_user, year, page=page, per_page=PER_PAGE)
        return render_template("hours/team.html", rows=rows[:PER_PAGE], year=year, page=page,
                               has_more=len(rows) > PER_PAGE)
    rows = queries.team_rows(current_user, year)
    header = [_("Full name"), _("E-mail"), _("Phone"), _("Agency"), _("Position"), _("Hours in %(year)d", year=year)]
    data = [[u.full_name, u.email or "", u.phone or "", u.agency.name if u.agency else "", u.position or "", float(h)]
            for u, h in rows]
    if fmt == "csv":
        return Response(spreadsheets.csv_text(header, data), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename=training-hours-{year}.csv"})
    return Response(spreadsheets.xlsx_bytes(header, data, str(year)), mimetype=spreadsheets.XLSX_MIMETYPE,
                    headers={"Content-Disposition": f"attachment; filename=training-hours-{year}.xlsx"})
