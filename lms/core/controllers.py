import mimetypes

from flask import abort, current_app, jsonify, send_file
from sqlalchemy import text

from lms.core import outbox
from lms.core.files import get_store
from lms.core.lifecycle import discard, found, view
from lms.core.models import WorkerMark
from lms.core.runner import heartbeat_age_seconds
from lms.core.signals import health_checked
from lms.extensions import db

# Files that browsers may show inline; everything else downloads as an attachment.
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml", "application/pdf",
                "audio/mpeg", "audio/ogg", "audio/wav", "video/mp4", "video/webm", "text/plain"}


@view
def healthz():
    database = "ok"
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means the database does not answer
        discard()
        database = "error"
    queue = queue_status(database == "ok")
    # Features report their own parts (certificates: "signing", as without a usable key certificates are
    # issued but never rendered); operators must see them here.
    parts = dict(part for _, part in health_checked.send(current_app._get_current_object()))
    healthy = database == "ok" and queue in ("ok", "eager") and all(state == "ok" for state in parts.values())
    body = {"status": "ok" if healthy else "error", "database": database, "queue": queue, **parts}
    if database == "ok":
        body["outbox"] = outbox.stats()
        repair = db.session.get(WorkerMark, "repair.last")
        body["repair"] = dict(repair.detail, at=repair.at.isoformat() + "Z") if repair else None
    return jsonify(body), 200 if healthy else 503


def queue_status(database_ok: bool) -> str:
    """'eager' (tests), the embedded runner's heartbeat, or whether the broker answers."""
    if outbox.mode() == "eager":
        return "eager"
    if outbox.mode() == "runner":
        age = heartbeat_age_seconds() if database_ok else None
        return "ok" if age is not None and age < 60 else "error"
    celery_app = current_app.extensions["celery"]
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception:  # noqa: BLE001
        return "error"


def send_stored(key: str, download_name: str | None = None):
    """Serve a file from the store; sandboxed so an uploaded SVG or HTML can never run script here."""
    try:
        path = found(get_store().local_path(key))
    except ValueError:  # a key that cannot name a stored file
        abort(404)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = send_file(path, mimetype=mimetype, as_attachment=mimetype not in INLINE_TYPES,
                         download_name=download_name or path.name, max_age=3600, conditional=True)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; sandbox"
    return response
