"""Certificate work for the worker. Every task takes ids, is idempotent and commits itself.

A failed run is retried by the outbox (lms.core.outbox), with backoff, also when the database was
away or the worker was killed — so these tasks have no Celery retry policy of their own.
"""

from celery import shared_task

from lms.certificates import badges, pdf
from lms.certificates.models import Certificate
from lms.certificates.operations import issue_for_enrollment, issue_for_program
from lms.core.files import get_store
from lms.enrollment.models import Enrollment
from lms.extensions import db


def pdf_key(certificate: Certificate) -> str:
    return f"certificates/{certificate.serial}.pdf"


def render_files(certificate: Certificate) -> bool:
    """Write the PDF to the file store and the signed credential to the row, unless already done.

    Both are deterministic for a certificate, so two workers doing it at once write the same bytes.
    """
    store = get_store()
    if certificate.holder_erased_at is not None:  # the holder's account was deleted: nothing with the name again
        return False
    if certificate.pdf_key and store.local_path(certificate.pdf_key) and certificate.credential_json:
        return False
    key = pdf_key(certificate)
    store.put(key, pdf.render(certificate))
    certificate.pdf_key = key
    certificate.credential_json = badges.signed_credential(certificate)
    db.session.flush()
    return True


def _issue_then_render(certificate: Certificate | None) -> str | None:
    if certificate is None:
        db.session.rollback()
        return None
    db.session.commit()  # the certificate exists even if rendering fails below and is retried
    render_files(certificate)
    db.session.commit()
    return certificate.serial


@shared_task(name="certificates.issue")
def issue_certificate(enrollment_id: int):
    """Issue (once) and render the certificate for a completed enrollment."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None:
        return None
    return _issue_then_render(issue_for_enrollment(enrollment))


@shared_task(name="certificates.issue_program")
def issue_program_certificate(user_id: int, program_id: int):
    from lms.accounts.models import User
    from lms.programs.models import Program

    user, program = db.session.get(User, user_id), db.session.get(Program, program_id)
    if user is None or program is None:
        return None
    return _issue_then_render(issue_for_program(user, program))


@shared_task(name="certificates.render")
def render_certificate(certificate_id: int):
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        return None
    render_files(certificate)
    db.session.commit()
    return certificate.serial


@shared_task(name="certificates.repair")
def repair_completions():
    """Queue certificates earned but missing, and files never rendered (every 5 minutes)."""
    from lms.certificates.repair import sweep

    findings = sweep()
    db.session.commit()
    return findings
