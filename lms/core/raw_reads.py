"""The light pages' reads (their person, the lesson row, the library rows) on a DB-API connection of their own,
in autocommit, with each statement compiled once per dialect to SQL text.

Through the ORM session the same statement paid for the Session (its transaction state machine, a pooled
connection checked out, BEGIN, and COMMIT at the end) and for SQLAlchemy's execute (parameters, result
metadata, rows) — about a third of a lesson view's CPU, several times what the database took to answer
(docs/performance.md, "2026-12-06 (second): the light pages' reads"). Here a read is: the thread's connection,
one `execute`, the column types' result processors, named tuples.

What makes it safe:
- every statement runs on its own in autocommit: it sees what was committed before it started, on every
  request (who someone is and whether their session still counts is never kept between requests);
- the connection comes from the app's engine (`raw_connection()`, then detached from the pool), so it was
  made as the engine makes its connections: the SQLite pragmas of `_install_sqlite_hooks`, psycopg's
  connect arguments (no prepared statements behind PgBouncer) and the dialect's own set-up;
- one connection per thread (gthread workers never share a cursor) and per process (a fork makes its own);
- a connection the database dropped (a restart, PgBouncer, an idle timeout) is replaced and the read
  retried once; a second failure is raised as SQLAlchemy's error, which the error pages answer with 503;
- when the request's session already holds a transaction or unflushed changes, or is bound to one
  connection (the tests' rolled-back transaction), the read goes through the session as before, so that
  a request always reads what it wrote itself.
"""

import contextlib
import os
import threading
import weakref
from collections import namedtuple
from functools import cache

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from lms.core.db import core_rows, existing_session, session_bound_to_connection, session_is_idle
from lms.extensions import db


class _Compiled:
    """One statement for one dialect: its SQL text, how to order and convert the values, how to read a row."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:  # expanding IN (…) lists are rendered per execution: not for here
            raise ValueError("raw_reads: a statement with expanding parameters")
        self.sql = compiled.string
        self.defaults = dict(compiled.construct_params(_check=False))  # literals of the statement, None elsewhere
        self.order = tuple(compiled.positiontup) if compiled.positional else None
        self.binds = tuple((name, processor) for name, processor in compiled._bind_processors.items())
        columns = list(statement.selected_columns)
        self.row = namedtuple("Row", [column.key for column in columns])
        self.results = tuple((index, processor) for index, column in enumerate(columns)
                             if (processor := column.type._cached_result_processor(dialect, None)) is not None)

    def parameters(self, values: dict):
        params = {**self.defaults, **values}
        for name, processor in self.binds:
            if name in params:
                params[name] = processor(params[name])
        return params if self.order is None else tuple(params[name] for name in self.order)

    def rows(self, fetched) -> list:
        make, results = self.row._make, self.results
        if not results:
            return [make(row) for row in fetched]
        out = []
        for row in fetched:
            row = list(row)
            for index, processor in results:
                row[index] = processor(row[index])
            out.append(make(row))
        return out


@cache
def _compiled(statement, dialect_name: str, dialect) -> _Compiled:
    # The statements given here are built once (functools.cache in the queries modules): the object is its key.
    return _Compiled(statement, dialect)


class _Kept:
    """One thread's connection to one engine. Only that thread's locals hold it: when the thread ends they go
    (CPython drops a thread's locals as it exits), and `close`, a weakref.finalize, closes the connection then.
    Threads that come and go (a thread pool, the test suite's crowds) would otherwise each leave a connection
    open: ~100 of them reached PostgreSQL's max_connections."""

    __slots__ = ("engine_id", "pid", "proxy", "close", "__weakref__")

    def __init__(self, engine: Engine, proxy):
        self.engine_id, self.pid, self.proxy = id(engine), os.getpid(), proxy
        self.close = weakref.finalize(self, _close_in, self.pid, proxy)
        self.close.atexit = False  # a process exiting lets its connections go with it


class _Connections(threading.local):
    def __init__(self):
        self.by_engine = {}  # engine → _Kept


_local = _Connections()
_every = weakref.WeakSet()  # every _Kept still held, for engine.dispose(); the lock guards adding and listing
_every_lock = threading.Lock()


def _open(engine: Engine) -> _Kept:
    dialect = engine.dialect
    try:
        proxy = engine.raw_connection()  # the engine's connect events and arguments: pragmas, psycopg settings
    except dialect.loaded_dbapi.Error as error:  # the pool raises the driver's own error: SQLAlchemy's, as Engine.connect
        raise DBAPIError.instance(None, None, error, dialect.loaded_dbapi.Error, dialect=dialect) from error
    proxy.detach()  # ours for this thread now; the pool no longer counts it, and closing it closes it
    connection = proxy.dbapi_connection
    if engine.dialect.name == "postgresql":
        connection.rollback()  # a pre-ping may have left a transaction open; autocommit needs none
        connection.autocommit = True
    elif connection.in_transaction:  # SQLite: isolation_level None (the connect hook) is autocommit already
        connection.rollback()
    kept = _Kept(engine, proxy)
    with _every_lock:
        _every.add(kept)
    return kept


def _connection(engine: Engine):
    kept = _local.by_engine.get(engine)
    if kept is not None and kept.close.alive and kept.pid == os.getpid():
        return kept.proxy
    # The first read of this thread, a connection closed by engine.dispose(), or a forked child (the parent's
    # connection is not ours: replaced here, never closed, see _close_in).
    kept = _local.by_engine[engine] = _open(engine)
    return kept.proxy


def _drop(engine: Engine) -> None:
    kept = _local.by_engine.pop(engine, None)
    if kept is not None:
        kept.close()


@event.listens_for(Engine, "engine_disposed")
def _disposed(engine) -> None:
    # A disposed engine's connections are closed (tests, a forked worker's fresh start): ours with them, in
    # every thread (a thread finds its own closed and opens another).
    with _every_lock:
        mine = [kept for kept in _every if kept.engine_id == id(engine)]
    for kept in mine:
        kept.close()
    _local.by_engine.pop(engine, None)


def _close_in(pid: int, proxy) -> None:
    # Never in a forked child: closing a copy of the parent's socket would end the parent's session too.
    if os.getpid() == pid:
        _close(proxy)


def _close(proxy) -> None:
    # A broken connection may refuse to close, and another thread's sqlite3 connection too: it is let go anyway.
    with contextlib.suppress(Exception):
        proxy.close()


def _execute(proxy, compiled: _Compiled, values: dict) -> list:
    cursor = proxy.dbapi_connection.cursor()
    try:
        cursor.execute(compiled.sql, compiled.parameters(values))
        return compiled.rows(cursor.fetchall())
    finally:
        cursor.close()


def rows(statement, values: dict) -> list:
    """The rows of a Core `statement` (built once) as named tuples, read in autocommit on this thread's
    connection; through the session when the request already began a transaction (see the module)."""
    session = existing_session()
    if session is None:
        if session_bound_to_connection():
            return core_rows(statement, values).all()
    elif session.bind is not None or not session_is_idle(session):
        return core_rows(statement, values).all()
    engine = db.engine
    dialect = engine.dialect
    compiled = _compiled(statement, dialect.name, dialect)
    proxy = _connection(engine)
    try:
        return _execute(proxy, compiled, values)
    except dialect.loaded_dbapi.Error as error:
        if not dialect.is_disconnect(error, proxy.dbapi_connection, None):
            raise _wrapped(error, compiled, values, dialect, False) from error
    _drop(engine)  # the database dropped it (restarted, a proxy's timeout): a new one, once
    proxy = _connection(engine)
    try:
        return _execute(proxy, compiled, values)
    except dialect.loaded_dbapi.Error as error:
        invalidated = dialect.is_disconnect(error, proxy.dbapi_connection, None)
        if invalidated:
            _drop(engine)
        raise _wrapped(error, compiled, values, dialect, invalidated) from error


def first(statement, values: dict):
    """The first row of `rows`, or None."""
    found = rows(statement, values)
    return found[0] if found else None


def _wrapped(error, compiled: _Compiled, values: dict, dialect, invalidated: bool):
    # SQLAlchemy's own exception (OperationalError…): lms.core.errors answers a database away with 503.
    return DBAPIError.instance(compiled.sql, values, error, dialect.loaded_dbapi.Error,
                               connection_invalidated=invalidated, dialect=dialect)
