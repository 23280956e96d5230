"""Reading the audit log: filters for the admin page and the CSV."""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select

from lms.accounts.models import User
from lms.core.models import AuditEvent
from lms.core.text import fold


@dataclass
class Filters:
    action: str = ""       # a prefix: "import", "role.grant"
    actor: str = ""        # e-mail, phone or words of the name
    object_type: str = ""
    object_id: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    @classmethod
    def from_args(cls, args) -> "Filters":
        def day(name):
            try:
                return dt.date.fromisoformat(args.get(name, "").strip()[:10]) if args.get(name) else None
            except ValueError:
                return None

        text = {name: "".join(ch for ch in args.get(name, "") if ch.isprintable()).strip()[:120]
                for name in ("action", "actor", "object_type", "object_id")}
        return cls(**text, since=day("since"), until=day("until"))

    def as_args(self) -> dict:
        values = {"action": self.action, "actor": self.actor, "object_type": self.object_type,
                  "object_id": self.object_id, "since": self.since.isoformat() if self.since else "",
                  "until": self.until.isoformat() if self.until else ""}
        return {key: value for key, value in values.items() if value}


def events(filters: Filters):
    """The filtered events, newest first (a statement: page it or stream it)."""
    statement = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if filters.action:
        statement = statement.where(AuditEvent.action.startswith(filters.action, autoescape=True))
    if filters.object_type:
        statement = statement.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        statement = statement.where(AuditEvent.object_id == filters.object_id)
    if filters.since:
        statement = statement.where(AuditEvent.at >= dt.datetime.combine(filters.since, dt.time()))
    if filters.until:
        statement = statement.where(AuditEvent.at < dt.datetime.combine(filters.until + dt.timedelta(days=1), dt.time()))
    if filters.actor:
        words = fold(filters.actor)
        people = select(User.id).where(or_(User.email == filters.actor.lower(), User.phone == filters.actor,
                                           User.full_name_folded.contains(words, autoescape=True)))
        statement = statement.where(AuditEvent.actor_id.in_(people))
    return statement


def action_names() -> list[str]:
    from lms.extensions import db

    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
