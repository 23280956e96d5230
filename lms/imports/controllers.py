import uuid

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.core.files import get_store
from lms.core.lifecycle import view
from lms.core.outbox import enqueue
from lms.core.permissions import require, role_required
from lms.extensions import db
from lms.imports import jobs, operations
from lms.imports.forms import UploadForm, mapping_form
from lms.imports.mapping import FIELDS, detect
from lms.imports.models import ImportJob
from lms.imports.reader import FileFormatError, read_table


@view
@role_required("admin")
def index():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        filename = (upload.filename or "import.csv").rsplit("/", 1)[-1][-200:]
        try:
            headers, _rows = read_table(data, filename)
        except FileFormatError as error:
            form.file.errors.append(str(error))
        else:
            key = f"imports/{uuid.uuid4().hex}/{'people.xlsx' if data[:2] == b'PK' else 'people.csv'}"
            get_store().put(key, data)
            job = ImportJob(created_by_id=current_user.id, filename=filename, file_key=key, mapping=detect(headers),
                            default_audience=form.default_audience.data)
            db.session.add(job)
            db.session.commit()
            return redirect(url_for("imports.preview", job_id=job.id))
    jobs = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(20)).all()
    status = 400 if form.is_submitted() else 200
    return render_template("imports/index.html", form=form, jobs=jobs), status


def _load(job_id) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    if job is None:
        abort(404)
    require(job.can_view(current_user))
    return job


def _table(job):
    path = get_store().local_path(job.file_key)
    if path is None:
        abort(404)
    return read_table(path.read_bytes(), job.filename)


@view
@role_required("admin")
def preview(job_id):
    job = _load(job_id)
    if job.status != "ready":
        return redirect(url_for("imports.status", job_id=job.id))
    headers, rows = _table(job)
    form = mapping_form(headers, job.mapping, FIELDS, formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        job.mapping = {name: getattr(form, f"map_{name}").data for name in FIELDS if getattr(form, f"map_{name}").data}
        if form.run.data and ("full_name" in job.mapping and ({"email", "phone"} & set(job.mapping))):
            job.status = "queued"
            enqueue("imports.run", job_id=job.id)
            db.session.commit()
            return redirect(url_for("imports.status", job_id=job.id))
        db.session.commit()
    missing = []
    if "full_name" not in job.mapping:
        missing.append(_("Choose the column with the full name."))
    if not ({"email", "phone"} & set(job.mapping)):
        missing.append(_("Choose the column with the e-mail address or the phone number."))
    plan = operations.plan_import(headers, rows, job.mapping, job.default_audience)
    db.session.rollback()  # the dry run writes nothing
    return render_template("imports/preview.html", job=db.session.get(ImportJob, job_id), form=form, plan=plan,
                           missing=missing, headers=headers, fields=FIELDS,
                           samples=[r for r in rows if any(r)][:5]), 400 if missing and request.method == "POST" else 200


@view
@role_required("admin")
def status(job_id):
    job = _load(job_id)
    return render_template("imports/status.html", job=job)


@view
@role_required("admin")
def retry(job_id):
    job = _load(job_id)
    if jobs.retry_import(job):
        db.session.commit()
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
