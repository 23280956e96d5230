"""Public verification, the holder's certificates and their files."""

import io
import json

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.certificates import badges, operations, queries, signing, vcjwt
from lms.certificates.models import Certificate
from lms.certificates.serial import display
from lms.core.files import get_store
from lms.core.lifecycle import allowed, found, load, save_now, view
from lms.core.permissions import login_required
from lms.core.templating import format_date


@view
def verify_form():
    serial = request.args.get("serial", "").strip()
    if serial:
        return redirect(url_for("certificates.verify", serial=serial))
    return render_template("certificates/verify.html", outcome=None, certificate=None, serial="")


def public_view(certificate: Certificate) -> dict:
    """What anyone may see of a certificate: no e-mail, phone or birth date."""
    replaced_by = certificate.superseded_by
    return {
        "serial": display(certificate.serial),
        "status": certificate.status(),
        "holder_name": certificate.holder_name or None,
        # Only for a holder who deleted their account: the name was removed, the certificate is genuine.
        **({"holder_removed": True} if certificate.holder_erased_at is not None else {}),
        "kind": certificate.kind,
        "course": certificate.course_title,
        "hours": float(certificate.hours),
        "issued_on": format_date(certificate.issued_at),
        "expires_on": format_date(certificate.expires_at) if certificate.expires_at else None,
        "issuing_authority": certificate.issuing_authority,
        "assisted": queries.completed_with_help(certificate),
        "revoked_reason": certificate.revoked_reason if certificate.revoked_at else None,
        "replaced_by": display(replaced_by.serial) if replaced_by else None,
        "pdf_url": url_for("certificates.public_pdf", serial=certificate.serial) if certificate.pdf_key else None,
        "credential_url": (url_for("certificates.public_credential", serial=certificate.serial)
                           if certificate.pdf_key else None),
        "credential_jwt_url": (url_for("certificates.public_jwt", serial=certificate.serial)
                               if certificate.pdf_key else None),
    }


def _rate_limited(as_json: bool):
    """Count the lookup; a 429 response when this IP has made too many."""
    allowed = operations.allow_lookup(request.remote_addr)
    save_now()  # the lookup counts, also when it is refused with a 429
    if allowed:
        return None
    message = _("Too many lookups from your connection. Please wait a few minutes and try again.")
    if as_json:
        return jsonify(outcome="rate_limited", certificate=None, message=message), 429
    return render_template("certificates/verify.html", outcome="rate_limited", serial="", certificate=None,
                           message=message), 429


@view
def verify(serial):
    as_json = serial.endswith(".json")
    if as_json:
        serial = serial[: -len(".json")]
    limited = _rate_limited(as_json)
    if limited is not None:
        return limited
    outcome, certificate = queries.lookup(serial)
    messages = {
        "malformed": _("This serial is not valid: check it for a typing mistake (the last character is a check character)."),
        "unknown": _("No certificate has this serial. It may be forged — contact the issuing authority."),
    }
    status = 200 if certificate else (400 if outcome == "malformed" else 404)
    if as_json:
        body = {"outcome": outcome, "certificate": public_view(certificate) if certificate else None}
        if certificate is None:
            body["message"] = messages[outcome]
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"  # a revocation must show at once
        return response, status
    return render_template("certificates/verify.html", outcome=outcome, serial=serial,
                           certificate=public_view(certificate) if certificate else None,
                           message=messages.get(outcome)), status


def _found_or_404(serial) -> Certificate:
    outcome, certificate = queries.lookup(serial)
    found(certificate)
    return certificate


def _pdf_response(certificate: Certificate):
    path = get_store().local_path(certificate.pdf_key) if certificate.pdf_key else None
    if path is None:
        flash(_("The PDF is still being prepared. Please try again in a minute."), "info")
        return redirect(url_for("certificates.verify", serial=display(certificate.serial)), 303)
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=f"chung-nhan-{certificate.serial}.pdf", max_age=0)


def _credential_response(certificate: Certificate):
    if not certificate.credential_json:
        flash(_("The PDF is still being prepared. Please try again in a minute."), "info")
        return redirect(url_for("certificates.verify", serial=display(certificate.serial)), 303)
    return send_file(io.BytesIO(certificate.credential_json.encode()), mimetype="application/ld+json",
                     as_attachment=True, download_name=f"credential-{certificate.serial}.json", max_age=0)


def _jwt_response(certificate: Certificate):
    """The same credential as a VC-JWT, signed on request (deterministic: the same token every time)."""
    if not certificate.credential_json:
        flash(_("The PDF is still being prepared. Please try again in a minute."), "info")
        return redirect(url_for("certificates.verify", serial=display(certificate.serial)), 303)
    token = vcjwt.encode(certificate.credential_json, _deployment_key())
    return send_file(io.BytesIO(token.encode("ascii")), mimetype="application/jwt", as_attachment=True,
                     download_name=f"credential-{certificate.serial}.jwt", max_age=0)


@view
def public_pdf(serial):
    """The PDF of a certificate, for whoever has its serial (as on the paper it is printed on)."""
    limited = _rate_limited(False)
    return limited or _pdf_response(_found_or_404(serial))


@view
def public_credential(serial):
    limited = _rate_limited(True)
    return limited or _credential_response(_found_or_404(serial))


@view
def public_jwt(serial):
    limited = _rate_limited(True)
    return limited or _jwt_response(_found_or_404(serial))


@view
def public_status(serial):
    """The credential's `credentialStatus` endpoint: its current status, never cached."""
    limited = _rate_limited(True)
    if limited is not None:
        return limited
    outcome, certificate = queries.lookup(serial)
    if certificate is None:
        return jsonify(outcome=outcome, status=None), 400 if outcome == "malformed" else 404
    response = current_app.response_class(json.dumps(badges.status_list(certificate), ensure_ascii=False),
                                          mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Access-Control-Allow-Origin"] = "*"  # wallets and verifiers fetch it from other sites
    return response


def _deployment_key():
    """The signing key, or a 503 that says what the operator must do (never a 500)."""
    try:
        return signing.load_private_key()
    except RuntimeError as error:
        current_app.logger.error("%s", error)
        abort(503)


@view
def issuer_profile():
    return current_app.response_class(json.dumps(badges.issuer_profile(_deployment_key()), ensure_ascii=False),
                                      mimetype="application/ld+json")


@view
def issuer_jwks():
    return jsonify(keys=[signing.jwk(_deployment_key())])


@view
@login_required
def my_certificates():
    certificates = queries.mine(current_user)
    return render_template("certificates/mine.html", certificates=certificates, display=display,
                           renewable=queries.renewable_ids(certificates),
                           base_url=current_app.config["LMS_BASE_URL"])


@view
@login_required
@load(Certificate, "certificate_id")
@allowed("view")
def my_pdf(certificate):
    return _pdf_response(certificate)


@view
@login_required
@load(Certificate, "certificate_id")
@allowed("view")
def my_credential(certificate):
    return _credential_response(certificate)


@view
@login_required
@load(Certificate, "certificate_id")
@allowed("view")
def my_jwt(certificate):
    return _jwt_response(certificate)


@view
@login_required
@load(Certificate, "certificate_id")
@allowed("view")
@allowed("renew")
def renew(certificate):
    """Start the course (or the program's courses) over to renew an expired certificate."""
    if not operations.start_renewal(certificate):
        flash(_("This certificate cannot be renewed: it has not expired, or its renewal has already started."), "error")
        return redirect(url_for("certificates.my_certificates"), 303)
    if certificate.program_id:
        flash(_("Complete the program's courses again to receive a renewed certificate."), "success")
        return redirect(url_for("programs.show", slug=certificate.program.slug), 303)
    flash(_("Complete the course again to receive a renewed certificate."), "success")
    return redirect(url_for("catalog.course", slug=certificate.course.slug), 303)
