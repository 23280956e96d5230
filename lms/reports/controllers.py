from flask import Response, flash, redirect, render_template, request, send_file, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from lms.accounts.scope import Scope
from lms.core.files import get_store
from lms.core.lifecycle import discard, found, get_or_404, view
from lms.core.permissions import require, role_required
from lms.core.signals import answer, target_requested
from lms.extensions import db
from lms.localities import queries as locality_queries
from lms.localities.models import Locality
from lms.reports import exports, jobs, operations, queries, summary
from lms.reports.forms import ReportInputError, TargetForm, filter_choices, parse_filters
from lms.reports.models import ReportExport

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _bad_request(message):
    error = BadRequest(description=message)
    error.lms_message = True
    return error


def _authorise(user, unit, filters):
    """The filters this user may see the unit with: a locality manager as asked; a manager of
    agencies only the people of their agencies (the agency filter is forced into their subtree)."""
    scope = Scope.of(user)
    if scope.covers_locality(unit):
        return filters
    require(bool(scope.agencies))
    try:
        return queries.restrict_to_agencies(filters, list(scope.agencies))
    except queries.ScopeError:
        require(False)


def _can_view_unit(unit) -> bool:
    scope = Scope.of(current_user)
    return scope.covers_locality(unit) or bool(scope.agencies)


def _load_scope(locality_id):
    unit = get_or_404(Locality, locality_id)
    require(_can_view_unit(unit))
    try:
        mode, filters = parse_filters(request.args)
    except ReportInputError as error:
        raise _bad_request(str(error)) from None
    return unit, mode, _authorise(current_user, unit, filters)


def _filename(unit, stem, fmt):
    return f"{stem}-{unit.scheme}-{unit.code}.{fmt}"


@view
@role_required("manager")
def index():
    scope = Scope.of(current_user)
    scopes = list(scope.localities)
    if scope.everything:
        home = locality_queries.home_area()
        scopes = [home] if home else current_user.manager_scopes()
    agency_scopes = [(agency, locality_queries.home_area() or agency.locality) for agency in scope.agencies]
    agency_scopes = [(agency, unit) for agency, unit in agency_scopes if unit is not None]
    if len(scopes) == 1 and not agency_scopes:
        return redirect(url_for("reports.locality", locality_id=scopes[0].id))
    if len(agency_scopes) == 1 and not scopes:
        agency, unit = agency_scopes[0]
        return redirect(url_for("reports.locality", locality_id=unit.id, agency=agency.id))
    return render_template("reports/index.html", scopes=scopes, agency_scopes=agency_scopes)


@view
@role_required("manager")
def locality(locality_id):
    unit, mode, filters = _load_scope(locality_id)
    rows = queries.coverage(unit, mode, filters)
    return render_template("reports/locality.html", unit=unit, rows=rows, total=queries.totals(rows), mode=mode,
                           with_targets=any(row.targets for row in rows),
                           filters=filters, params=dict(filters.as_params(), mode=mode),
                           # Unit-wide people counts: not for a manager who sees one agency's people only.
                           progress=queries.target_progress(unit) if current_user.can_manage_locality(unit) else [],
                           refreshed=summary.last_refresh(),
                           can_drill=lambda row: row.locality.id != unit.id and row.locality.level != "commune",
                           can_view_unit=_can_view_unit, agency_required=not current_user.can_manage_locality(unit),
                           **filter_choices(current_user))


@view
@role_required("manager")
def export_table(locality_id, fmt):
    unit, mode, filters = _load_scope(locality_id)
    rows = queries.coverage(unit, mode, filters, with_targets=False)
    header, body = exports.coverage_table(rows, queries.totals(rows), mode)
    name = _filename(unit, f"coverage-{mode}", fmt)
    if fmt == "csv":
        return Response(stream_with_context(exports.csv_chunks(header, body)), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={name}"})
    return Response(exports.xlsx_bytes(header, body), mimetype=XLSX,
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@view
@role_required("manager")
def export_learners(locality_id, fmt):
    """The learner list: streamed in the request when small, otherwise a job with a progress page."""
    unit, mode, filters = _load_scope(locality_id)
    name = _filename(unit, "learners", fmt)
    if request.method == "GET" and fmt == "csv" and exports.count_learners(unit, filters) <= exports.INLINE_LIMIT:
        operations.log_download(current_user, unit, "learners", dict(filters.as_params(), mode=mode))
        return Response(stream_with_context(exports.csv_chunks(exports.learner_header(), exports.learner_rows(unit, filters))),
                        mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"})
    if request.method == "GET":
        return render_template("reports/export_start.html", unit=unit, fmt=fmt, params=dict(filters.as_params(), mode=mode))
    try:
        job = operations.start_export(current_user, unit, "learners", fmt, dict(filters.as_params(), mode=mode))
    except operations.ExportQuotaExceeded as busy:
        discard()
        flash(_("You already have %(n)d export jobs waiting or running. When one is ready, try again.",
                n=busy.args[0]), "error")
        return render_template("reports/export_start.html", unit=unit, fmt=fmt,
                               params=dict(filters.as_params(), mode=mode)), 429
    return redirect(url_for("reports.export_status", export_id=job.id))


@view
@role_required("manager")
def export_community(locality_id, fmt):
    """The community digital teams' report (lms.community) of the communes under a unit the manager oversees:
    a background job like the learner list, so it has the same progress page, audit and quota."""
    unit = get_or_404(Locality, locality_id)
    require(current_user.can_manage_locality(unit))
    try:
        job = operations.start_export(current_user, unit, "community", fmt, {})
    except operations.ExportQuotaExceeded as busy:
        discard()
        flash(_("You already have %(n)d export jobs waiting or running. When one is ready, try again.",
                n=busy.args[0]), "error")
        return redirect(url_for("community.team"), 303)
    return redirect(url_for("reports.export_status", export_id=job.id), 303)


def _load_export(export_id):
    job = get_or_404(ReportExport, export_id)
    require(job.can_view(current_user))
    return job


@view
@role_required("manager")
def export_status(export_id):
    job = _load_export(export_id)
    db.session.refresh(job)
    return render_template("reports/export_status.html", job=job)


@view
@role_required("manager")
def export_retry(export_id):
    job = _load_export(export_id)
    jobs.retry_export(current_user, job)
    return redirect(url_for("reports.export_status", export_id=job.id), 303)


@view
@role_required("manager")
def export_download(export_id):
    job = _load_export(export_id)
    path = found(get_store().local_path(job.file_key) if job.status == "done" and job.file_key else None)
    return send_file(path, mimetype=XLSX if job.format == "xlsx" else "text/csv", as_attachment=True,
                     download_name=_filename(job.locality, job.kind, job.format))


@view
@role_required("admin")
def targets(locality_id):
    unit = get_or_404(Locality, locality_id)
    form = TargetForm()
    if form.validate_on_submit():
        try:
            answer(target_requested, current_user._get_current_object(), unit=unit, audience=form.audience.data,
                   population=form.population.data, target_percent=form.target_percent.data,
                   due_on=form.due_on.data, counts=form.counts.data, completed=form.completed.data)
        except ValueError as error:
            discard()
            form.completed.errors = [*form.completed.errors, str(error)]
        else:
            flash(_("Target saved."), "success")
            return redirect(url_for("reports.locality", locality_id=unit.id))
    status = 400 if form.is_submitted() else 200
    return render_template("reports/targets.html", unit=unit, form=form,
                           progress=queries.target_progress(unit)), status
