"""This thread's own DB-API connection of an engine, in autocommit: the light pages' reads (lms.core.raw_reads)
and the autosave answered below Flask (lms/quizzes/fast_save.py) use it instead of a pooled connection.

- It comes from the engine (`raw_connection()`, then detached from the pool), so it was made as the engine
  makes its connections: the SQLite pragmas of `_install_sqlite_hooks`, psycopg's connect arguments (no
  prepared statements behind PgBouncer) and the dialect's own set-up. The pool neither counts nor pings it.
- One per thread (gthread workers never share a cursor) and per engine, shared by both users: a request's
  light reads and an autosave never run at once in one thread.
- Closed when its thread ends (only that thread's locals hold it; a weakref.finalize closes it as they go)
  and when its engine is disposed. Threads that come and go (a thread pool, the test suite's crowds) would
  otherwise each leave one open: ~100 of them reached PostgreSQL's max_connections.
- Per process: a forked child opens its own; the parent's copy is never closed there (`_close_in`).
- After a connection error the user calls `drop`: the next `connection` opens another.
"""

import contextlib
import os
import threading
import weakref

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError


class _Kept:
    """One thread's connection to one engine; `core` is the same connection as a SQLAlchemy Core Connection,
    made when first asked for (`transaction`)."""

    __slots__ = ("engine_id", "pid", "proxy", "core", "close", "__weakref__")

    def __init__(self, engine: Engine, proxy):
        self.engine_id, self.pid, self.proxy, self.core = id(engine), os.getpid(), proxy, None
        self.close = weakref.finalize(self, _close_in, self.pid, proxy)
        self.close.atexit = False  # a process exiting lets its connections go with it


class _Connections(threading.local):
    def __init__(self):
        self.by_engine = {}  # engine → _Kept


_local = _Connections()
_every = weakref.WeakSet()  # every _Kept still held, for engine.dispose(); the lock guards adding and listing
_every_lock = threading.Lock()


def connection(engine: Engine):
    """This thread's connection of `engine` (a detached PoolProxiedConnection; `.dbapi_connection` is the
    driver's), in autocommit: opened on first use, after `drop`, after engine.dispose() and in a forked child."""
    return _kept(engine).proxy


def drop(engine: Engine) -> None:
    """Close this thread's connection of `engine` (after a connection error): the next use opens another."""
    kept = _local.by_engine.pop(engine, None)
    if kept is not None:
        kept.close()


@contextlib.contextmanager
def transaction(engine: Engine):
    """One transaction on this thread's connection, as a Core Connection: yields (connection, transaction);
    committed when the block ends unless rolled back in it, rolled back when it raises. SQLite begins it through
    the engine's `begin` hook (BEGIN IMMEDIATE outside a request); on PostgreSQL autocommit is off until it ends.
    After any failure the connection is dropped: the next use opens another."""
    kept = _core(engine)
    switch = engine.dialect.name == "postgresql"
    try:
        if switch:
            kept.proxy.dbapi_connection.autocommit = False
        with kept.core.begin() as began:
            yield kept.core, began
        if switch:
            kept.proxy.dbapi_connection.autocommit = True
    except BaseException:
        drop(engine)
        raise


@contextlib.contextmanager
def autocommit(engine: Engine):
    """This thread's connection as a Core Connection, in autocommit: each statement run on its DB-API cursor
    (lms.core.raw_reads.rows_in) commits on its own — no BEGIN, no COMMIT (the one-answer autosave: a read,
    then one upsert that locks what it needs itself). After any failure the connection is dropped, and so is one
    left in a transaction: a statement run through Connection.execute begins one, which on SQLite would hold the
    database's write lock for good."""
    kept = _core(engine)
    try:
        yield kept.core
    except BaseException:
        drop(engine)
        raise
    if kept.core.in_transaction():
        drop(engine)
        raise RuntimeError("thread_connections.autocommit: a statement began a transaction (Connection.execute); "
                           "run statements on the DB-API cursor (lms.core.raw_reads.rows_in)")


def _core(engine: Engine) -> _Kept:
    kept = _kept(engine)
    if kept.core is None:
        kept.core = Connection(engine, connection=kept.proxy)  # no checkout, no pre-ping: the connection is ours
    return kept


def _kept(engine: Engine) -> _Kept:
    kept = _local.by_engine.get(engine)
    if kept is not None and kept.close.alive and kept.pid == os.getpid():
        return kept
    # The first use in this thread, a connection closed by engine.dispose(), or a forked child (the parent's
    # connection is not ours: replaced here, never closed, see _close_in).
    kept = _local.by_engine[engine] = _open(engine)
    return kept


def _open(engine: Engine) -> _Kept:
    dialect = engine.dialect
    try:
        proxy = engine.raw_connection()  # the engine's connect events and arguments: pragmas, psycopg settings
    except dialect.loaded_dbapi.Error as error:  # the pool raises the driver's own error: SQLAlchemy's, as Engine.connect
        raise DBAPIError.instance(None, None, error, dialect.loaded_dbapi.Error, dialect=dialect) from error
    proxy.detach()  # ours for this thread now; the pool no longer counts it, and closing it closes it
    dbapi_connection = proxy.dbapi_connection
    if dialect.name == "postgresql":
        dbapi_connection.rollback()  # a pre-ping may have left a transaction open; autocommit needs none
        dbapi_connection.autocommit = True
    elif dbapi_connection.in_transaction:  # SQLite: isolation_level None (the connect hook) is autocommit already
        dbapi_connection.rollback()
    kept = _Kept(engine, proxy)
    with _every_lock:
        _every.add(kept)
    return kept


def held() -> list:
    """Every connection still kept open, in any thread of this process (tests)."""
    with _every_lock:
        return [kept.proxy for kept in _every if kept.close.alive]


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
