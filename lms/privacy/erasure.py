"""Deleting an account after its grace period: personal data erased or pseudonymised.

The user row stays (as “Người dùng đã xoá #id”, no e-mail, phone, password or position) so that
statistics of enrolments and results keep their counts; everything that only served the person
(notifications, messages, codes, linked sign-ins, roles) is deleted. Certificates already issued
stay verifiable by their serial, with the holder's name removed; their PDF and signed credential,
which carry the name, are deleted.
"""

from sqlalchemy import delete, select

from lms.accounts.models import ExternalIdentity, OneTimeCode, RoleGrant, User, unusable_password_hash
from lms.accounts.sessions import end_sessions
from lms.core import audit
from lms.core.db import utcnow
from lms.core.files import get_store
from lms.core.signals import personal_data_erased
from lms.extensions import db
from lms.privacy.models import DataRequest


def erase_certificates(user: User) -> int:
    from lms.certificates.models import Certificate

    certificates = db.session.scalars(select(Certificate).where(Certificate.user_id == user.id)).all()
    store = get_store()
    for certificate in certificates:
        path = store.local_path(certificate.pdf_key) if certificate.pdf_key else None
        if path is not None:
            path.unlink(missing_ok=True)
        certificate.holder_name, certificate.holder_erased_at = "", utcnow()
        certificate.pdf_key = certificate.credential_json = None
    return len(certificates)


def erase_user(user: User) -> None:
    personal_data_erased.send(user)  # notifications delete the person's notices and messages
    for model in (OneTimeCode, ExternalIdentity, RoleGrant):
        db.session.execute(delete(model).where(model.user_id == user.id))
    certificates = erase_certificates(user)
    user.full_name = user.full_name_folded = f"Người dùng đã xoá #{user.id}"
    user.email = user.phone = user.position = user.position_folded = user.locale = None
    user.password_hash, user.is_active, user.agency_id = unusable_password_hash(), False, None
    end_sessions(user)
    audit.record(None, "privacy.account_erased", user, certificates=certificates)
    db.session.flush()


def erase_due(now=None) -> int:
    """Erase the accounts whose deletion grace period ended. Returns how many."""
    now = now or utcnow()
    due = db.session.scalars(select(DataRequest).where(
        DataRequest.kind == "deletion", DataRequest.status == "pending", DataRequest.due_at <= now)).all()
    for data_request in due:
        user = db.session.get(User, data_request.user_id) if data_request.user_id else None
        if user is not None:
            erase_user(user)
        data_request.status, data_request.completed_at = "done", utcnow()
        db.session.flush()
    return len(due)
