from functools import cache

from sqlalchemy import bindparam, func, select

from lms.core import raw_reads
from lms.extensions import db
from lms.notifications.models import Notification


@cache
def _unread_count_statement():
    # Built once: on every page the bell asks, and building a select (and its cache key) costs more
    # than SQLite takes to answer it.
    return select(func.count(Notification.id).label("unread")).where(Notification.user_id == bindparam("user_id"),
                                                      Notification.read_at.is_(None))


def unread_count_of(user_id):
    """The bell's count for `user_id` (a column or a bindparam) as a scalar subquery, for a page that
    fetches it in the same statement as its own row (the lesson page)."""
    notification = Notification.__table__.c  # table columns: the caller's statement stays plain Core
    return (select(func.count(notification.id))
            .where(notification.user_id == user_id, notification.read_at.is_(None)).scalar_subquery())


def unread_count(user_id: int) -> int:
    return raw_reads.session_rows(_unread_count_statement(), {"user_id": user_id})[0][0] or 0  # on the DB-API cursor: no ORM work


def recent(user_id: int, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.id.desc()).limit(limit)))
