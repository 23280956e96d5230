from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from lms.agencies import queries as agency_queries
from lms.assignments import operations
from lms.assignments.forms import RuleForm
from lms.assignments.models import AssignmentRule, can_target
from lms.assignments.queries import overdue_clause
from lms.assignments.reminders import overdue_counts_for
from lms.catalog.models import Course
from lms.core.dates import local_today
from lms.core.lifecycle import get_or_404, view
from lms.core.permissions import can, require, role_required
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.localities.models import CURRENT_SCHEME, Locality
from lms.programs.models import Program


@view
@role_required("manager")
def index():
    rules = [r for r in db.session.scalars(select(AssignmentRule).order_by(AssignmentRule.id.desc()))
             if r.can_manage(current_user)]
    today = local_today()
    counts = dict(db.session.execute(select(Enrollment.rule_id, func.count(Enrollment.id)).where(
        Enrollment.rule_id.in_([r.id for r in rules])).group_by(Enrollment.rule_id)).all()) if rules else {}
    overdue = dict(db.session.execute(select(Enrollment.rule_id, func.count(Enrollment.id)).where(
        Enrollment.rule_id.in_([r.id for r in rules]), overdue_clause(today))
        .group_by(Enrollment.rule_id)).all()) if rules else {}
    people_overdue = None if can("administer") else overdue_counts_for(current_user, today)[0]
    return render_template("assignments/index.html", rules=rules, counts=counts, overdue=overdue,
                           people_overdue=people_overdue)


def _targets():
    courses = db.session.scalars(select(Course).where(Course.status == "published").order_by(Course.title))
    programs = db.session.scalars(select(Program).order_by(Program.title))
    return ([(f"course:{c.id}", c.title) for c in courses]
            + [(f"program:{p.id}", _("Program: %(title)s", title=p.title)) for p in programs])


def _locality(code: str):
    return db.session.scalar(select(Locality).where(Locality.scheme == CURRENT_SCHEME, Locality.code == code.strip())
                             .order_by(Locality.level.desc())) if code.strip() else None


@view
@role_required("manager")
def new():
    form = RuleForm()
    form.target.choices = _targets()
    if form.validate_on_submit():
        kind, _sep, raw_id = form.target.data.partition(":")
        target = db.session.get(Course if kind == "course" else Program, int(raw_id))
        locality = _locality(form.locality_code.data or "")
        agency = agency_queries.by_code(form.agency_code.data) if (form.agency_code.data or "").strip() else None
        if (form.locality_code.data or "").strip() and locality is None:
            form.locality_code.errors.append(_("No province, commune or ward has this code."))
        elif (form.agency_code.data or "").strip() and agency is None:
            form.agency_code.errors.append(_("No agency has this code."))
        elif not can_target(current_user, locality, agency):
            flash(_("You can only assign training to people in your own area or agency: this target is outside your "
                    "area."), "error")
            return render_template("assignments/new.html", form=form), 403
        else:
            rule = operations.save_rule(
                actor=current_user, deadline=form.deadline.data, course=target if kind == "course" else None,
                program=target if kind == "program" else None, audience=form.audience.data or None,
                locality=locality, agency=agency, position_contains=form.position_contains.data)
            created = operations.apply_rule(rule)
            flash(_("Assigned “%(title)s”: %(n)d people enrolled now; people who match later are enrolled "
                    "automatically.", title=rule.target_title, n=created), "success")
            return redirect(url_for("assignments.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("assignments/new.html", form=form), status


@view
@role_required("manager")
def deactivate(rule_id):
    rule = get_or_404(AssignmentRule, rule_id)
    require(rule.can_manage(current_user))
    operations.deactivate(rule)
    flash(_("The rule no longer assigns the training to newcomers."), "info")
    return redirect(url_for("assignments.index"), 303)
