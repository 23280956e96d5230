"""The privacy notice, consent and data requests. Each flushes; the caller commits."""

from datetime import timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import delete, func, insert, literal, select

from lms.core import audit
from lms.core.db import utcnow
from lms.core.outbox import enqueue
from lms.extensions import db
from lms.privacy.models import ConsentRecord, DataRequest, NoticeReview, PrivacyNotice
from lms.privacy.queries import DEFAULT_VERSION, current_notice, open_request

EXPORT_DAYS = 3  # Decree 13, Art. 14: a copy of the data within 72 hours


def publish_notice(body_vi: str, body_en: str, actor) -> PrivacyNotice:
    latest = db.session.scalar(select(func.max(PrivacyNotice.version))) or DEFAULT_VERSION
    notice = PrivacyNotice(version=latest + 1, body_vi=body_vi.strip(), body_en=body_en.strip(),
                           published_by_id=actor.id)
    db.session.add(notice)
    audit.record(actor, "privacy.notice_published", notice, version=notice.version)
    db.session.flush()
    return notice


def record_consent(user, via: str, action: str = "given", purpose: str = "account") -> ConsentRecord:
    record = ConsentRecord(user_id=user.id, notice_version=current_notice()["version"], action=action, via=via,
                           purpose=purpose, ip=request.remote_addr if has_request_context() else None)
    db.session.add(record)
    if purpose == "account" and action == "given":  # the notice was seen and accepted: nothing left to ask
        db.session.execute(delete(NoticeReview).where(NoticeReview.user_id == user.id))
    db.session.flush()
    return record


def ask_accounts_without_consent() -> None:
    """List the accounts still waiting for their first password that never accepted the notice (people
    made by an HR import, who neither register nor sign in by SSO first) to see it at their first
    login — set-based, once per import."""
    from lms.accounts.models import UNUSABLE_PASSWORD_PREFIX, User

    never_consented = ~select(ConsentRecord.id).where(ConsentRecord.user_id == User.id,
                                                       ConsentRecord.purpose == "account").exists()
    not_listed = ~select(NoticeReview.user_id).where(NoticeReview.user_id == User.id).exists()
    db.session.execute(insert(NoticeReview).from_select(
        ["user_id", "since"], select(User.id, literal(utcnow())).where(
        User.password_hash.startswith(UNUSABLE_PASSWORD_PREFIX, autoescape=True), never_consented, not_listed)))
    db.session.flush()


def request_export(user) -> DataRequest:
    data_request = DataRequest(user_id=user.id, kind="export", due_at=utcnow() + timedelta(days=EXPORT_DAYS))
    db.session.add(data_request)
    db.session.flush()
    enqueue("privacy.build_export", request_id=data_request.id)
    return data_request


def request_deletion(user) -> DataRequest:
    existing = open_request(user, "deletion")
    if existing is not None:
        return existing
    grace = timedelta(days=current_app.config["LMS_DELETION_GRACE_DAYS"])
    data_request = DataRequest(user_id=user.id, kind="deletion", due_at=utcnow() + grace)
    db.session.add(data_request)
    audit.record(user, "privacy.deletion_requested", user, due=data_request.due_at.isoformat())
    db.session.flush()
    return data_request


def cancel_deletion(user) -> bool:
    data_request = open_request(user, "deletion")
    if data_request is None:
        return False
    data_request.status, data_request.completed_at = "cancelled", utcnow()
    audit.record(user, "privacy.deletion_cancelled", user)
    db.session.flush()
    return True
