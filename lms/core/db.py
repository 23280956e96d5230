"""Shared model pieces."""

from datetime import UTC, datetime

from lms.extensions import db


def utcnow() -> datetime:
    """Naive UTC: SQLite has no time zones, so every timestamp is stored as naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


class IdMixin:
    id = db.Column(db.Integer, primary_key=True)


class TimestampMixin:
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def existing_session():
    """This scope's (request's) session when something already made it, else None — without making one: a
    light page that reads on lms.core.raw_reads never needs a Session, and making one, then closing it at
    teardown, was ~5 % of its CPU."""
    registry = db.session.registry
    return registry() if registry.has() else None


def session_is_idle(session) -> bool:
    """No transaction begun and nothing pending: committing would do nothing, and a read may skip the session."""
    return session.get_transaction() is None and not (session.new or session.dirty or session.deleted)


def session_bound_to_connection() -> bool:
    """Whether this scope's sessions are made bound to one connection (the tests' rolled-back transaction)."""
    return db.session.session_factory.kw.get("bind") is not None


def core_rows(statement, values: dict):
    """Plain rows of a Core statement (columns, not mapped classes) through the session's connection:
    Session.execute's ORM work (~60 µs a statement, more than SQLite takes to answer a page's query) buys
    nothing for rows of columns. Pending changes are flushed first, as Session.execute would."""
    return flushed_session_connection().execute(statement, values)


def flushed_session_connection():
    """The session's connection (`session_connection`), its pending changes flushed first, as Session.execute
    would before a statement."""
    session = db.session()
    if session.autoflush:
        session.flush()
    return session_connection(session)


_CONNECTION = "lms_connection"  # in Session.info: (the root transaction, its connection)


def session_connection(session):
    """session.connection(), kept beside the transaction it belongs to: asking the session again costs more
    (its transaction state machine) than the light pages' whole statements. A new transaction asks anew."""
    transaction = session.get_transaction()
    kept = session.info.get(_CONNECTION)
    if transaction is not None and kept is not None and kept[0] is transaction:
        return kept[1]
    connection = session.connection()
    session.info[_CONNECTION] = (session.get_transaction(), connection)
    return connection


def upsert(model, dialect: str | None = None):
    """INSERT … ON CONFLICT for the running database (PostgreSQL in production, SQLite embedded).

    One statement instead of read-then-write: no race between two requests, one round trip.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if (dialect or dialect_name()) == "postgresql" else sqlite).insert(model)


# ---------------------------------------------------------------- SQLite: who takes the write lock

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
READ_OPTION = "lms_read"


def sqlite_transaction_writes(connection) -> bool:
    """Whether a SQLite transaction should begin IMMEDIATE (take the write lock up front).

    Page views read (WAL lets them run beside a writer) unless a first try found they write
    (`retry_stale_reads`); everything else — forms, tasks, commands — writes. A poller may ask for
    a read with `begin_read()`.
    """
    from flask import g, has_request_context, request

    if connection.get_execution_options().get(READ_OPTION):
        return False
    if has_request_context() and request.method in SAFE_METHODS:
        return bool(g.get("lms_write_lock"))
    return True


def begin_read() -> None:
    """Start this session's next transaction as a reader (no SQLite write lock); no-op elsewhere."""
    if db.session().get_transaction() is None:
        db.session.connection(execution_options={READ_OPTION: True})


def _stale_snapshot(error) -> bool:
    # SQLITE_BUSY (5) or SQLITE_BUSY_SNAPSHOT (517): a reader tried to write after another commit.
    code = getattr(getattr(error, "orig", None), "sqlite_errorcode", None)
    return code in (5, 517)


def retry_stale_reads(view):
    """Run a page view (GET) again, once, under the write lock when its read turned into a write that
    SQLite refused ("database is locked"): a visit recorded, a counter bumped, an overdue attempt
    finished. Page views that only read never pay for it; writers never see the error.

    The second try gets the cookie session as the request brought it: the first may have taken something
    out of it already (a sign-in's one-time OpenID Connect state, which the second try would then miss)."""
    from functools import wraps

    from flask import current_app, g, request, session
    from sqlalchemy.exc import OperationalError

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except OperationalError as error:
            if request.method not in SAFE_METHODS or g.get("lms_write_lock") or not _stale_snapshot(error):
                raise
            db.session.rollback()
            # The session as the request brought it, opened again from its cookie (a fresh copy): nothing is
            # kept for this on the requests that never retry.
            came = current_app.session_interface.open_session(current_app, request) or {}
            cookie_session = session._get_current_object()
            dict.clear(cookie_session)
            dict.update(cookie_session, came)
            g.lms_write_lock = True
            return view(*args, **kwargs)

    wrapper.lms_retries_stale_reads = True
    return wrapper


def insert_ignoring_conflict(model, values: dict, conflict: tuple[str, ...]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: create the row unless another request already did.

    Two tabs, a double click or a retried request then meet in the unique key instead of failing
    with an IntegrityError (which on PostgreSQL also aborts the whole transaction).
    Returns whether this call inserted it (False: the row was there, or another request won).
    """
    table = model.__table__
    statement = upsert(table).values(**values).on_conflict_do_nothing(index_elements=[table.c[c] for c in conflict])
    # RETURNING, not rowcount: psycopg's rowcount for this statement is not the inserted count on every path.
    return db.session.execute(statement.returning(table.c[conflict[0]])).first() is not None


def lock_for(key: str) -> None:
    """Serialise transactions on `key` until this one ends (PostgreSQL advisory lock). SQLite needs none:
    its writers are already one at a time."""
    if dialect_name() == "postgresql":
        from sqlalchemy import text

        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    db.session.info[_HOLDS] = True


# ---------------------------------------------------------------- slow work outside the transaction

_HOLDS = "lms_transaction_holds"  # this transaction wrote, or holds a lock: it must not end early


def _install_write_tracking() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    @event.listens_for(Session, "after_flush")
    def _flushed(session, _context):
        session.info[_HOLDS] = True

    @event.listens_for(Session, "do_orm_execute")
    def _executed(state):
        if state.is_insert or state.is_update or state.is_delete:
            state.session.info[_HOLDS] = True

    @event.listens_for(Session, "after_transaction_end")
    def _ended(session, transaction):
        if transaction.parent is None:
            session.info.pop(_HOLDS, None)
            session.info.pop(_CONNECTION, None)


_install_write_tracking()


def write_from_here() -> None:
    """The rest of this page view (GET) writes, after something that cannot be done twice (an OpenID Connect
    code is redeemed once): what it has only read so far ends, and its next transaction begins as a writer
    (SQLite: the write lock at its first statement, waited for), so `retry_stale_reads` never has to run the
    view again. A no-op for the lock on PostgreSQL, which has row locks."""
    from flask import g

    release_before_slow_work()
    g.lms_write_lock = True


def release_before_slow_work() -> None:
    """End this request's transaction when it has only read so far, before CPU-heavy work (a scrypt hash:
    a tenth of a second alone, a second or more on a busy machine). Otherwise a form's transaction holds
    SQLite's write lock (taken at its first statement) all that time, every other writer waits behind
    it, and past busy_timeout they answer 503 "database is locked"; on PostgreSQL it holds a pooled
    connection. The next statement begins a new transaction; the view still commits what it writes
    once. A transaction that wrote or took a lock is left as it is (its work must commit together)."""
    session = db.session()
    if session.info.get(_HOLDS) or session.new or session.dirty or session.deleted:
        return
    if session.get_transaction() is not None:
        session.commit()
