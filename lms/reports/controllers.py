from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from lms.catalog.models import Course
from lms.core.permissions import require, role_required
from lms.extensions import db
from lms.localities import queries as locality_queries
from lms.localities.models import Locality
from lms.reports import queries


@role_required("manager")
def index():
    scopes = current_user.manager_scopes()
    if current_user.is_admin:
        home = locality_queries.home_area()
        scopes = [home] if home else scopes
    if len(scopes) == 1:
        return redirect(url_for("reports.locality", locality_id=scopes[0].id))
    return render_template("reports/index.html", scopes=scopes)


@role_required("manager")
def locality(locality_id):
    unit = db.session.get(Locality, locality_id)
    if unit is None:
        abort(404)
    require(current_user.can_manage_locality(unit))
    mode = request.args.get("mode", "current")
    if mode not in queries.MODES:
        mode = "current"
    course_id = request.args.get("course", type=int)
    rows = queries.coverage(unit, mode, course_id)
    courses = db.session.scalars(select(Course).where(Course.status == "published").order_by(Course.title_folded)).all()
    return render_template("reports/locality.html", unit=unit, rows=rows, total=queries.totals(rows), mode=mode,
                           courses=courses, course_id=course_id)
