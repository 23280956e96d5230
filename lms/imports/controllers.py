
from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.core import audit
from lms.core.files import get_store
from lms.core.lifecycle import get_or_404, view
from lms.core.outbox import enqueue
from lms.core.permissions import require, role_required
from lms.extensions import db
from lms.imports import jobs
from lms.imports.forms import UploadForm, mapping_form
from lms.imports.mapping import FIELDS
from lms.imports.models import ImportJob
from lms.imports.reader import FileFormatError, sniff


@view
@role_required("admin")
def index():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        filename = (upload.filename or "import.csv").rsplit("/", 1)[-1][-200:]
        try:
            sniff(data, filename)  # size, zip directory, UTF-8: the reading itself is the worker's
        except FileFormatError as error:
            form.file.errors.append(str(error))
        else:
            job = jobs.store_upload(data, filename, "people", current_user, default_audience=form.default_audience.data)
            jobs.queue_check(job)
            return redirect(url_for("imports.preview", job_id=job.id))
    recent = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(20)).all()
    status = 400 if form.is_submitted() else 200
    return render_template("imports/index.html", form=form, jobs=recent), status


def _load(job_id) -> ImportJob:
    job = get_or_404(ImportJob, job_id)
    require(job.can_view(current_user))
    return job


@view
@role_required("admin")
def preview(job_id):
    job = _load(job_id)
    if job.kind != "people" or job.status not in ("ready", "checking"):
        return redirect(url_for("imports.status", job_id=job.id))
    if job.status == "ready" and job.headers is None:  # uploaded before files were checked in the worker
        jobs.queue_check(job)
    if job.status == "checking":
        return redirect(url_for("imports.status", job_id=job.id))
    form = mapping_form(job.headers, job.mapping, FIELDS, formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        job.mapping = {name: getattr(form, f"map_{name}").data for name in FIELDS if getattr(form, f"map_{name}").data}
        complete = "full_name" in job.mapping and ({"email", "phone"} & set(job.mapping))
        if form.run.data and complete:
            job.status = "queued"
            enqueue("imports.run", job_id=job.id)
            audit.record(current_user, "import.people.run", job, mapping=job.mapping)
            return redirect(url_for("imports.status", job_id=job.id))
        if not form.run.data:
            jobs.queue_check(job)  # the dry run again, with these columns, in the worker
            return redirect(url_for("imports.preview", job_id=job.id), 303)
    missing = []
    if "full_name" not in job.mapping:
        missing.append(_("Choose the column with the full name."))
    if not ({"email", "phone"} & set(job.mapping)):
        missing.append(_("Choose the column with the e-mail address or the phone number."))
    return render_template("imports/preview.html", job=job, form=form, plan=job.preview or {}, missing=missing,
                           headers=job.headers, fields=FIELDS, samples=job.samples or []), \
        400 if missing and request.method == "POST" else 200


@view
@role_required("admin")
def status(job_id):
    job = _load(job_id)
    if job.status == "ready" and job.kind == "people":
        return redirect(url_for("imports.preview", job_id=job.id))
    return render_template("imports/status.html", job=job)


@view
@role_required("admin")
def retry(job_id):
    job = _load(job_id)
    if jobs.retry_import(job):
        flash(_("The import was queued again; it goes on from where it stopped."), "info")
    return redirect(url_for("imports.status", job_id=job.id), 303)


@view
@role_required("admin")
def errors_file(job_id):
    job = _load(job_id)
    path = get_store().local_path(job.errors_key) if job.errors_key else None
    if path is None:
        flash(_("This import has no rows with errors."), "info")
        return redirect(url_for("imports.status", job_id=job.id))
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=f"import-{job.id}-errors.csv")
