"""The person of a request on the pages every learner opens most (a lesson, the library), from one Core row.

Loading the ORM `User` with its role grants was a quarter of a lesson view's CPU (docs/performance.md,
"2026-12-06: the shared request path"). An endpoint marked `@light_viewer` (lms.core.lifecycle) gets a
`Viewer` instead: the user columns those pages read, the roles of the grants, and the browser's session
record, in one statement; the user loader makes the same checks on it as on the ORM path (active account,
session version, session record not ended, "last seen"), every request, on rows read from the database. Flask's
user loader reads them every request; the pages answered below Flask may use rows their process kept, which
PostgreSQL's change feed drops at every change to the account, its grants or its session records
(lms.core.change_feed), so a log-out, a password change or a deactivation counts on every host at once.

The row is read by lms.core.raw_reads (the thread's own connection, in autocommit): no Session, no BEGIN/COMMIT,
and still what the database holds at this request (below Flask, possibly the process's kept copy of it, which the
database's change feed keeps to that).

Anything else asked of a `Viewer` (a grant's locality, a manager's scope, a relationship) is answered by
the ORM `User`, loaded then, once a request.
"""

from collections import namedtuple
from functools import cache

from flask import request
from sqlalchemy import and_, bindparam, select, true

from lms.accounts.models import PersonMixin, RoleGrant, SessionRecord, User
from lms.core import page_rows, raw_reads
from lms.extensions import db

# What a light page reads of its person; the rest comes from the ORM User when asked for.
COLUMNS = ("id", "full_name", "email", "phone", "audience", "locality_id", "agency_id", "locale", "text_size",
           "is_active", "session_version")

@cache
def statement():
    """The user's columns, each role grant's role, the live session record's last_seen_at: one row a grant
    (one row for a learner, who has none). Built once, on first use (the mappers are complete by then),
    and run with new values."""
    # The tables, not the mapped classes: a Core statement skips the ORM's result machinery.
    users, records, grants = User.__table__, SessionRecord.__table__, RoleGrant.__table__
    record = and_(records.c.key == bindparam("key"), records.c.user_id == users.c.id, records.c.ended_at.is_(None))
    return (select(*(users.c[name] for name in COLUMNS), grants.c.role, records.c.last_seen_at)
            .select_from(users).outerjoin(records, record).outerjoin(grants, grants.c.user_id == users.c.id)
            .where(users.c.id == bindparam("user_id")))


@cache
def _with_page(page):
    """statement() and `page` (whose first column is never null in a row) side by side in one statement: the
    person's rows, each with the page's row, or with nulls when the page has none."""
    person, found = statement().subquery("person"), page.subquery("page")
    columns = [found.c[column.key].label(f"page_{index}") for index, column in enumerate(page.selected_columns)]
    return select(*person.c, *columns).select_from(person.outerjoin(found, true()))


@cache
def _with_rows(page, order: tuple):
    """statement() and the rows of `page` side by side in one statement: each person row with each of the page's
    rows (nulls when it has none), in the page's order — `order`: (column name, descending, nulls last), applied again
    outside the subquery, whose own ORDER BY a join need not keep."""
    person, found = statement().subquery("person"), page.subquery("page")
    columns = [found.c[column.key].label(f"page_{index}") for index, column in enumerate(page.selected_columns)]
    ordering = []
    for name, descending, nulls_last in order:
        column = found.c[name].desc() if descending else found.c[name].asc()
        ordering.append(column.nulls_last() if nulls_last else column)
    return select(*person.c, *columns).select_from(person.outerjoin(found, true())).order_by(*ordering)


def person_and_rows(environ, person_ids: tuple[int, str, str], page, values: dict, order: tuple):
    """(Viewer, the page's rows) read in one statement, for a page of several rows answered below Flask (a
    library listing on PostgreSQL, where a statement costs a round trip); None as `load_below_flask`."""
    user_id, _, key = person_ids
    rows = raw_reads.rows(_with_rows(page, order), {**values, "key": key, "user_id": user_id}, environ)
    if not rows or any(row.role is not None for row in rows):
        return None  # no such person, or staff (one row a grant): Flask reads them itself
    width = len(page.selected_columns)
    page_rows = [row[-width:] for row in rows if row[-width] is not None]
    person_values = {"key": key, "user_id": user_id}
    # Should Flask answer, its user loader and the view take these rows instead of reading them again.
    raw_reads.hand_to_flask(environ, statement(), person_values, [rows[0][:-width]])
    raw_reads.hand_to_flask(environ, page, {**values, "user_id": user_id}, page_rows)
    found = person_from(rows[:1], person_ids)
    return (found[0], [_page_row_type(page)._make(row) for row in page_rows]) if found is not None else None


@cache
def _page_row_type(page):
    return namedtuple("Row", [column.key for column in page.selected_columns])


def load(user_id: int, key: str):
    """(Viewer, the session record's last_seen_at or None when it is ended or missing), or None without the user."""
    read = page_rows.read_for(request.endpoint, request.view_args)  # the page's own row, read with the person
    if read is None:
        rows = raw_reads.rows(statement(), {"key": key, "user_id": user_id})
    else:
        rows = raw_reads.rows(_with_page(read[0]), {**read[1], "key": key, "user_id": user_id})
    if not rows:
        return None
    first = rows[0]
    if read is not None:  # kept for page_rows.row: the values it will be asked with (user_id, the person's)
        width = len(read[0].selected_columns)
        values = first[-width:]
        page_rows.keep(read[0], {**read[1], "user_id": user_id},
                       _page_row_type(read[0])._make(values) if values[0] is not None else None)
    return Viewer({name: getattr(first, name) for name in COLUMNS},
                  frozenset(row.role for row in rows if row.role is not None)), first.last_seen_at


def reader_below_flask(environ, person_ids: tuple[int, str, str] | None, page, values: dict):
    """(person or None for a visitor, `page`'s row or None) for a page answered below Flask, read as Flask's user
    loader and view read them (kept in `environ` for them should Flask answer); None when Flask must answer."""
    if person_ids is None:
        rows = raw_reads.rows(page, {**values, "user_id": None}, environ)
        return None, rows[0] if rows else None
    return load_below_flask(environ, person_ids, page, values)


def load_below_flask(environ, person_ids: tuple[int, str, str], page=None, values: dict | None = None):
    """(Viewer, the page's row or None) for a page answered below Flask (lms/core/fast_pages.py), read in one
    statement as `load` reads them (`page`: a Core statement registered with page_rows, or None for a page without
    a row of its own); None when the user loader would refuse the person or do more than read (`person_from`)."""
    read = person_read(person_ids, page, values)
    return person_from(raw_reads.rows(*read, environ), person_ids, page)  # should Flask answer, it takes these rows


def person_read(person_ids: tuple[int, str, str], page=None, values: dict | None = None) -> tuple:
    """(statement, values) reading the person of `person_ids` (with `page`'s row, as `load` reads them)."""
    user_id, _, key = person_ids
    return statement() if page is None else _with_page(page), {**(values or {}), "key": key, "user_id": user_id}


def person_from(rows: list, person_ids: tuple[int, str, str], page=None):
    """(Viewer, the page's row or None) from the rows of `person_read`; None when the user loader would refuse
    the person or do more than read: no such user, inactive, another session version, the session record ended
    or its "last seen" due (a write), or a person holding a role (staff menus and scopes are drawn by Flask)."""
    from lms.accounts.sessions import TOUCH_EVERY
    from lms.core.db import utcnow

    if not rows:
        return None
    first = rows[0]
    if (first.last_seen_at is None or first.last_seen_at < utcnow() - TOUCH_EVERY or not first.is_active
            or str(first.session_version) != person_ids[1] or any(row.role is not None for row in rows)):
        return None
    person = Viewer({name: getattr(first, name) for name in COLUMNS}, frozenset())
    if page is None:
        return person, None
    found = first[-len(page.selected_columns):]
    return person, _page_row_type(page)._make(found) if found[0] is not None else None


class Viewer(PersonMixin):
    """The user columns of COLUMNS and the roles, as plain values; other attributes from the ORM User."""

    def __init__(self, values: dict, roles: frozenset):
        self.__dict__.update(values)
        self._active = self.__dict__.pop("is_active")  # UserMixin's is_active is a property
        self.roles = roles
        self._user = None

    @property
    def is_active(self) -> bool:
        return self._active

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def orm_user(self) -> User:
        """The ORM User of this request (loaded on first use): for relationships, scopes, writes."""
        if self._user is None:
            self._user = db.session.get(User, self.id)
        return self._user

    def __getattr__(self, name):
        # Only for names not set above: grants, locality, agency, manager_scopes(), password_hash…
        if name.startswith("__") or name == "_user":
            raise AttributeError(name)
        return getattr(self.orm_user(), name)

    def __repr__(self) -> str:
        return f"<Viewer {self.id}>"
