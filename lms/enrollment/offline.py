"""Progress made without a network (issue 16), sent by the phone when the network returns.

The page keeps each "done" press in the phone's storage with its own id and the time it was
pressed, and posts the queue here as JSON. Each record is answered on its own: applied, already
received (a replay: nothing happens), or refused with the reason; the phone forgets the first two.
"""

import datetime as dt
import re

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from lms.catalog.models import Lesson
from lms.core.lifecycle import view
from lms.core.permissions import login_required
from lms.enrollment import operations
from lms.enrollment.queries import find_enrollment
from lms.extensions import db

MAX_RECORDS = 200  # a course has a few dozen lessons; more in one request is not a phone's queue
CLIENT_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def _when(text) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(text)[:40].replace("Z", "+00:00"))
        if moment.tzinfo is None:
            return None  # the phone sends UTC with its offset; a bare time is ambiguous
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # not a time, or one outside the calendar once in UTC (year 0)
        return None


def _apply(record) -> tuple[str, str | None]:
    """("applied" | "duplicate" | "refused", reason)."""
    if not isinstance(record, dict):
        return "refused", _("Not a progress record.")
    client_id, lesson_id, done_at = record.get("id"), record.get("lesson"), _when(record.get("at"))
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        return "refused", _("The record has no valid id.")
    if done_at is None:
        return "refused", _("The record has no valid time.")
    lesson = db.session.get(Lesson, lesson_id) if isinstance(lesson_id, int) and 0 < lesson_id < 2**31 else None
    if lesson is None or not lesson.can_view(current_user) or lesson.archived_at is not None:
        return "refused", _("This lesson does not exist (any more).")
    if lesson.is_simulation:
        return "refused", _("A practice is done when you finish its steps.")
    enrollment = find_enrollment(current_user, lesson.course)
    if enrollment is None:
        return "refused", _("Enrol in the course first to save your progress.")
    applied = operations.apply_offline_record(current_user, enrollment, lesson, client_id,
                                              record.get("done", True) is not False, done_at)
    return ("applied" if applied else "duplicate"), None


@view
@login_required
def sync_progress():
    payload = request.get_json(silent=True)
    records = payload.get("records") if isinstance(payload, dict) else None
    if not isinstance(records, list) or len(records) > MAX_RECORDS:
        return jsonify(error=_("Send a list of at most %(n)d progress records.", n=MAX_RECORDS)), 400
    results = []
    for record in records:
        status, reason = _apply(record)  # a refused record writes nothing, so it never undoes the others
        results.append({"id": record.get("id") if isinstance(record, dict) else None, "status": status,
                        **({"reason": reason} if reason else {})})
    return jsonify(results=results)
