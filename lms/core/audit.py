"""Audit of privileged actions. Operations call `record`; it only adds to the session."""

from flask import has_request_context, request

from lms.core.models import AuditEvent
from lms.extensions import db


def record(actor, action: str, obj, **summary) -> AuditEvent:
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=type(obj).__name__,
        object_id=str(getattr(obj, "id", "") or ""),
        summary=summary,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
