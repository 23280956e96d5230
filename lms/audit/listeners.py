"""Writes the audit log from the `privileged_action` signal (lms.core.audit.record)."""

from flask import has_request_context, request

from lms.core.models import AuditEvent
from lms.core.signals import privileged_action
from lms.extensions import db


def _via() -> str:
    """web, api, worker (a Celery task or the embedded runner) or cli (a `flask …` command)."""
    import click
    from celery import current_task

    if has_request_context():
        return "api" if request.path.startswith("/api/") else "web"
    if current_task:
        return "worker"
    return "cli" if click.get_current_context(silent=True) is not None else "worker"


def _current_actor():
    """The logged-in user of the request, for operations that do not take an actor."""
    from flask_login import current_user

    return current_user if has_request_context() and current_user.is_authenticated else None


@privileged_action.connect
def write_event(_sender, actor, action, obj, before, after, summary):
    actor = actor if actor is not None else _current_actor()
    object_id = getattr(obj, "id", None)
    event = AuditEvent(
        actor_id=getattr(actor, "id", None) if getattr(actor, "is_authenticated", True) else None,
        action=action[:80], object_type=type(obj).__name__[:40], object_id=str(object_id or "")[:64] or None,
        summary=summary or {}, before=before, after=after, via=_via(),
        # remote_addr is the client's address: ProxyFix rewrites it only for LMS_TRUSTED_PROXIES.
        ip=(request.remote_addr or "")[:64] or None if has_request_context() else None,
    )
    db.session.add(event)
