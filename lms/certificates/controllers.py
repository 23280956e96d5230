from flask import jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.certificates import operations
from lms.certificates.models import Certificate
from lms.certificates.serial import display
from lms.core.permissions import login_required
from lms.core.templating import format_date
from lms.extensions import db


def verify_form():
    serial = request.args.get("serial", "").strip()
    if serial:
        return redirect(url_for("certificates.verify", serial=serial))
    return render_template("certificates/verify.html", outcome=None, certificate=None, serial="")


def _public_view(certificate: Certificate) -> dict:
    """What anyone may see of a certificate: no e-mail, phone or birth date."""
    return {
        "serial": display(certificate.serial),
        "status": certificate.status(),
        "holder_name": certificate.holder_name,
        "course": certificate.course_title,
        "hours": float(certificate.hours),
        "issued_on": format_date(certificate.issued_at),
        "expires_on": format_date(certificate.expires_at) if certificate.expires_at else None,
        "issuing_authority": certificate.issuing_authority,
        "revoked_reason": certificate.revoked_reason if certificate.revoked_at else None,
    }


def verify(serial):
    as_json = serial.endswith(".json")
    if as_json:
        serial = serial[: -len(".json")]
    outcome, certificate = operations.lookup(serial)
    messages = {
        "malformed": _("This serial is not valid: check it for a typing mistake (the last character is a check character)."),
        "unknown": _("No certificate has this serial. It may be forged — contact the issuing authority."),
    }
    status = 200 if certificate else (400 if outcome == "malformed" else 404)
    if as_json:
        body = {"outcome": outcome, "certificate": _public_view(certificate) if certificate else None}
        if certificate is None:
            body["message"] = messages[outcome]
        return jsonify(body), status
    return render_template("certificates/verify.html", outcome=outcome, serial=serial,
                           certificate=_public_view(certificate) if certificate else None,
                           message=messages.get(outcome)), status


@login_required
def my_certificates():
    certificates = db.session.scalars(db.select(Certificate).where(Certificate.user_id == current_user.id)
                                      .order_by(Certificate.issued_at.desc())).all()
    return render_template("certificates/mine.html", certificates=certificates, display=display)
