"""Reads: which receiver results go to, whether a person's results may be shared, the deliveries."""

from flask import current_app
from sqlalchemy import select

from lms.extensions import db
from lms.privacy.queries import consent_withdrawn, has_consent
from lms.sharing.models import ResultDelivery


def receiver() -> str | None:
    """The configured receiver's label, or None when no endpoint is configured (nothing is sent)."""
    config = current_app.config
    return (config.get("LMS_RESULTS_LABEL") or "VNeID") if config.get("LMS_RESULTS_ENDPOINT") else None


def may_share(user) -> bool:
    """Only with the person's own consent to share results, and not after they withdrew consent."""
    return has_consent(user, "results") and not consent_withdrawn(user.id)


def deliveries_of(user_id: int) -> list[ResultDelivery]:
    return db.session.scalars(select(ResultDelivery).where(ResultDelivery.user_id == user_id)
                              .order_by(ResultDelivery.id.desc())).all()


def latest_deliveries(limit: int = 500) -> list[ResultDelivery]:
    """For the administrator: the undelivered first, newest first."""
    return db.session.scalars(select(ResultDelivery).order_by(ResultDelivery.status == "delivered",
                                                              ResultDelivery.id.desc()).limit(limit)).all()
