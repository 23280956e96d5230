"""Administration: the register (admins, and managers for their localities), revoke, restore, reissue."""


from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.accounts.scope import Scope
from lms.catalog.models import Course
from lms.certificates import operations, queries
from lms.certificates.forms import ReasonForm, ReissueForm
from lms.certificates.models import Certificate
from lms.certificates.serial import display
from lms.core import inputs, spreadsheets
from lms.core.lifecycle import get_or_404, view
from lms.core.permissions import require, role_required
from lms.core.templating import format_date
from lms.extensions import db
from lms.localities.models import Locality
from lms.programs.models import Program

PAGE_SIZE = 100


def _filters():
    locality = None
    if locality_id := request.args.get("locality", type=int):
        locality = get_or_404(Locality, locality_id)
        require(current_user.can_manage_locality(locality))
    status = request.args.get("status")
    return dict(locality=locality, course_id=request.args.get("course", type=int),
                program_id=request.args.get("program", type=int),
                status=status if status in ("revoked", "superseded") else None)


@view
@role_required("manager")
def register():
    filters = _filters()
    if request.args.get("format") == "csv":
        return _csv(queries.register(current_user, **filters))
    page = inputs.page_number()
    rows = db.session.scalars(queries.register(current_user, **filters).limit(PAGE_SIZE + 1)
                              .offset((page - 1) * PAGE_SIZE)).all()
    courses = db.session.scalars(select(Course).order_by(Course.title_folded)).all()
    programs = db.session.scalars(select(Program).order_by(Program.title)).all()
    scopes = list(Scope.of(current_user).localities)
    return render_template("certificates/register.html", rows=rows[:PAGE_SIZE], has_more=len(rows) > PAGE_SIZE,
                           page=page, courses=courses, programs=programs, scopes=scopes, display=display,
                           args={k: v for k, v in request.args.items() if k != "page"}, **filters)


def _csv(statement):
    """Streamed in batches, so a register of any size keeps memory flat."""
    header = ["serial", "holder_name", "kind", "title", "hours", "issued_on", "expires_on", "status",
              "locality", "revoked_reason", "replaced_by"]

    def rows():
        for certificate in db.session.scalars(statement.execution_options(yield_per=500)):
            yield [
                display(certificate.serial), certificate.holder_name, certificate.kind, certificate.course_title,
                f"{certificate.hours.normalize():f}", format_date(certificate.issued_at),
                format_date(certificate.expires_at) if certificate.expires_at else "", certificate.status(),
                certificate.locality.name if certificate.locality else "", certificate.revoked_reason or "",
                display(certificate.superseded_by.serial) if certificate.superseded_by_id else "",
            ]

    return Response(stream_with_context(spreadsheets.csv_chunks(header, rows(), batch=500)), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=certificates.csv"})


def _load(certificate_id) -> Certificate:
    certificate = get_or_404(Certificate, certificate_id)
    require(certificate.can_see_in_register(current_user))
    return certificate


def _detail(certificate, status=200, revoke_form=None, restore_form=None, reissue_form=None):
    return render_template("certificates/detail.html", certificate=certificate, display=display,
                           revoke_form=revoke_form or ReasonForm(prefix="revoke"),
                           restore_form=restore_form or ReasonForm(prefix="restore"),
                           reissue_form=reissue_form or ReissueForm(prefix="reissue", holder_name=certificate.holder_name),
                           can_manage=certificate.can_manage(current_user)), status


@view
@role_required("manager")
def detail(certificate_id):
    return _detail(_load(certificate_id))


def _errors():
    return {
        "reason": _("Give the reason: it is shown on the verification page."),
        "already_revoked": _("This certificate is already revoked."),
        "not_revoked": _("This certificate is not revoked."),
        "name": _("Enter the corrected name."),
        "not_current": _("Only the current certificate can be reissued (not a revoked or replaced one)."),
    }


def _change_status(certificate_id, prefix: str, change, done_message: str):
    """Revoke or restore: both take a reason, are audited by the operation, and answer alike."""
    certificate = _load(certificate_id)
    require(certificate.can_manage(current_user))
    form = ReasonForm(prefix=prefix)
    if not form.validate_on_submit():
        return _detail(certificate, 400, **{f"{prefix}_form": form})
    try:
        change(certificate, current_user, form.reason.data)
    except operations.CertificateError as error:
        flash(_errors()[str(error)], "error")
        return _detail(certificate, 400, **{f"{prefix}_form": form})
    flash(done_message % {"serial": display(certificate.serial)}, "success")
    return redirect(url_for("certificates.admin_detail", certificate_id=certificate.id), 303)


@view
@role_required("admin")
def revoke(certificate_id):
    return _change_status(certificate_id, "revoke", operations.revoke, _("Certificate %(serial)s is revoked."))


@view
@role_required("admin")
def restore(certificate_id):
    return _change_status(certificate_id, "restore", operations.restore, _("Certificate %(serial)s is valid again."))


@view
@role_required("admin")
def reissue(certificate_id):
    certificate = _load(certificate_id)
    require(certificate.can_manage(current_user))
    form = ReissueForm(prefix="reissue")
    if not form.validate_on_submit():
        return _detail(certificate, 400, reissue_form=form)
    try:
        new = operations.reissue(certificate, current_user, form.holder_name.data)
    except operations.CertificateError as error:
        flash(_errors()[str(error)], "error")
        return _detail(certificate, 400, reissue_form=form)
    flash(_("Reissued as %(serial)s; the old serial now points to it.", serial=display(new.serial)), "success")
    return redirect(url_for("certificates.admin_detail", certificate_id=new.id), 303)
