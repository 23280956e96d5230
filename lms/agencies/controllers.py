from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.agencies import operations, queries
from lms.agencies.forms import AgencyForm, AgencyImportForm
from lms.agencies.models import Agency
from lms.core.lifecycle import discard, get_or_404, view
from lms.core.permissions import role_required
from lms.core.signals import answer, file_import_requested
from lms.extensions import db
from lms.localities.models import CURRENT_SCHEME, Locality


@view
@role_required("admin")
def index():
    q = request.args.get("q", "").strip()
    agencies = queries.search(q, limit=500) if q else queries.tree()
    return render_template("agencies/index.html", agencies=agencies, q=q, import_form=AgencyImportForm())


def _locality(code: str):
    return db.session.scalar(select(Locality).where(Locality.scheme == CURRENT_SCHEME, Locality.code == code.strip())
                             .order_by(Locality.level.desc())) if code else None


@view
@role_required("admin")
def edit(agency_id=None):
    agency = get_or_404(Agency, agency_id) if agency_id else None
    form = AgencyForm(obj=agency) if agency else AgencyForm()
    if agency and request.method == "GET":
        form.parent_code.data = agency.parent.code if agency.parent else ""
        form.locality_code.data = agency.locality.code if agency.locality else ""
    if form.validate_on_submit():
        parent = queries.by_code(form.parent_code.data) if form.parent_code.data else None
        locality = _locality(form.locality_code.data)
        if form.parent_code.data and parent is None:
            form.parent_code.errors.append(_("No agency has this code."))
        elif form.locality_code.data and locality is None:
            form.locality_code.errors.append(_("No province, commune or ward has this code."))
        else:
            try:
                saved = operations.save_agency(agency, code=form.code.data, name=form.name.data, kind=form.kind.data,
                                               parent=parent, locality=locality, actor=current_user)
            except operations.AgencyError as error:
                discard()
                form.code.errors.append(str(error))
            else:
                flash(_("Agency “%(name)s” saved.", name=saved.name), "success")
                return redirect(url_for("agencies.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("agencies/edit.html", form=form, agency=agency), status


@view
@role_required("admin")
def import_csv():
    """Imports keeps the CSV and queues its job; the worker hands it back (agencies.listeners)."""
    form = AgencyImportForm()
    if not form.validate_on_submit():
        flash(_("Choose a CSV file."), "error")
        return redirect(url_for("agencies.index")), 303
    data = form.file.data.read()
    filename = (form.file.data.filename or "agencies.csv").rsplit("/", 1)[-1][-200:]
    try:
        job = answer(file_import_requested, current_user, data=data, filename=filename, kind="agencies")
    except ValueError as error:  # imports refused the file: its message is for the user
        flash(str(error), "error")
        return render_template("agencies/index.html", agencies=queries.tree(), q="", import_form=form), 400
    return redirect(url_for("imports.status", job_id=job.id), 303)
