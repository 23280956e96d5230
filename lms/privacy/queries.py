"""Reads about consent, for this feature and for the others that must respect it (notifications,
results sharing): what a person agreed to is asked here, never guessed."""

from sqlalchemy import select

from lms.extensions import db
from lms.privacy.models import ConsentRecord, NoticeReview


def _last_word(user_id: int, purpose: str) -> str | None:
    return db.session.scalar(select(ConsentRecord.action).where(
        ConsentRecord.user_id == user_id, ConsentRecord.purpose == purpose)
        .order_by(ConsentRecord.id.desc()).limit(1))


def has_consent(user, purpose: str = "account") -> bool:
    """True when the person's last word on `purpose` was "given"."""
    return _last_word(user.id, purpose) == "given"


def consent_withdrawn(user_id: int) -> bool:
    """True when the person withdrew their consent to the notice (and has not given it again).
    Someone who never answered (an imported official) has not withdrawn anything."""
    return _last_word(user_id, "account") == "withdrawn"


def withdrawn_among(user_ids) -> set[int]:
    """Of these people, those who withdrew their consent to the notice (one query for a batch)."""
    ids = list(set(user_ids))
    if not ids:
        return set()
    latest = (select(ConsentRecord.user_id, db.func.max(ConsentRecord.id).label("last_id"))
              .where(ConsentRecord.user_id.in_(ids), ConsentRecord.purpose == "account")
              .group_by(ConsentRecord.user_id).subquery())
    rows = db.session.execute(select(ConsentRecord.user_id).join(latest, ConsentRecord.id == latest.c.last_id)
                              .where(ConsentRecord.action == "withdrawn"))
    return {row[0] for row in rows}


def must_review_notice(user_id: int) -> bool:
    return db.session.get(NoticeReview, user_id) is not None
