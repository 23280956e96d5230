"""Keeping the audit log: the retention purge and the CSV of a filtered view."""

import csv
import datetime as dt
import io
import json

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete

from lms.core.db import utcnow
from lms.core.models import AuditEvent
from lms.extensions import db

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def retention_days() -> int:
    return int(current_app.config.get("LMS_AUDIT_RETENTION_DAYS") or 730)


def purge(now: dt.datetime | None = None) -> int:
    """Delete events older than the retention (LMS_AUDIT_RETENTION_DAYS). Flushes; returns how many."""
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days())
    result = db.session.execute(delete(AuditEvent).where(AuditEvent.at < cutoff))
    return result.rowcount or 0


def _cell(value) -> str:
    """Text for a spreadsheet: JSON for structures, and a leading quote on anything a spreadsheet
    would run as a formula (OWASP CSV injection)."""
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                                                     default=str)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(rows):
    """The CSV (UTF-8 with BOM for Excel), line by line, for a streamed download."""
    out = io.StringIO()
    writer = csv.writer(out)

    def flush():
        value = out.getvalue()
        out.seek(0)
        out.truncate()
        return value

    writer.writerow([_("When (UTC)"), _("Who"), _("E-mail"), _("Action"), _("Object"), _("Object id"), _("Before"),
                     _("After"), _("Details"), _("IP address"), _("From")])
    yield "\ufeff" + flush()
    for event in rows:
        actor = event.actor
        writer.writerow([_cell(value) for value in (
            event.at.isoformat(sep=" ", timespec="seconds"), actor.full_name if actor else "",
            actor.email if actor else "", event.action, event.object_type, event.object_id, event.before,
            event.after, event.summary, event.ip, event.via)])
        yield flush()
