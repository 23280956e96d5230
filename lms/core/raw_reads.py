"""The light pages' reads (their person, the lesson row, the library rows) on a DB-API connection of their own,
in autocommit, with each statement compiled once per dialect to SQL text.

Through the ORM session the same statement paid for the Session (its transaction state machine, a pooled
connection checked out, BEGIN, and COMMIT at the end) and for SQLAlchemy's execute (parameters, result
metadata, rows) — about a third of a lesson view's CPU, several times what the database took to answer
(docs/performance.md, "2026-12-06 (second): the light pages' reads"). Here a read is: the thread's connection,
one `execute`, the column types' result processors, named tuples.

The same compiled statements also run inside a transaction someone else holds (`rows_in`): the autosave's reads
and its upsert, on the connection of its one transaction.

What makes it safe:
- every statement runs on its own in autocommit: it sees what was committed before it started; the rows read
  below Flask may be a process's kept copy instead, dropped by PostgreSQL's change feed at every change that
  concerns them (lms.core.change_feed);
- the connection is the thread's own of the app's engine (lms.core.thread_connections): made as the engine
  makes its connections, one per thread and per process, closed when the thread ends;
- a connection the database dropped (a restart, PgBouncer, an idle timeout) is replaced and the read
  retried once; a second failure is raised as SQLAlchemy's error, which the error pages answer with 503;
- when the request's session already holds a transaction or unflushed changes, or is bound to one
  connection (the tests' rolled-back transaction), the read goes through the session as before, so that
  a request always reads what it wrote itself.
"""

from collections import namedtuple
from functools import cache

from flask import current_app, has_request_context, request
from sqlalchemy.exc import DBAPIError

from lms.core import change_feed, thread_connections
from lms.core.db import (
    core_rows,
    existing_session,
    flushed_session_connection,
    session_bound_to_connection,
    session_is_idle,
)
from lms.extensions import db


class _Compiled:
    """One statement for one dialect: its SQL text, how to order and convert the values, how to read a row."""

    def __init__(self, statement, dialect, column_keys=None):
        compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
        if "POSTCOMPILE" in compiled.string:  # expanding IN (…) lists are rendered per execution: not for here
            raise ValueError("raw_reads: a statement with expanding parameters")
        self.sql = compiled.string
        self.defaults = dict(compiled.construct_params(_check=False))  # literals of the statement, None elsewhere
        if column_keys:  # an INSERT: the columns it does not name take their defaults, as Connection.execute gives them
            for column in statement.table.columns:
                if column.key in self.defaults and column.key not in column_keys and column.default is not None:
                    if not column.default.is_scalar:
                        raise ValueError(f"raw_reads: {column.key}'s default is computed per row")
                    self.defaults[column.key] = column.default.arg
        self.order = tuple(compiled.positiontup) if compiled.positional else None
        self.binds = tuple((name, processor) for name, processor in compiled._bind_processors.items())
        columns = list(statement.exported_columns)  # a SELECT's columns, or an INSERT's RETURNING
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
def _compiled(statement, dialect_name: str, dialect, column_keys: tuple | None = None) -> _Compiled:
    # The statements given here are built once (functools.cache in the queries modules): the object is its key.
    return _Compiled(statement, dialect, column_keys)


def _execute(proxy, compiled: _Compiled, values: dict) -> list:
    return _run(proxy.dbapi_connection, compiled, values)


def _run(dbapi_connection, compiled: _Compiled, values: dict) -> list:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(compiled.sql, compiled.parameters(values))
        return compiled.rows(cursor.fetchall())
    finally:
        cursor.close()


def rows_in(connection, statement, values: dict, column_keys: tuple | None = None) -> list:
    """The rows of a Core `statement` (built once) run on `connection`'s DB-API connection, inside the transaction
    `connection` holds: the autosave's reads and upsert (lms/quizzes/autosave.py, operations.store_answers), without
    Connection.execute's per-execution work (about a sixth of an autosave's CPU). `column_keys`: an INSERT's
    columns. A driver error is raised as SQLAlchemy's; the caller's transaction then rolls back as before."""
    dialect = connection.dialect
    compiled = _compiled(statement, dialect.name, dialect, column_keys)
    dbapi_connection = connection.connection.dbapi_connection
    try:
        return _run(dbapi_connection, compiled, values)
    except dialect.loaded_dbapi.Error as error:
        invalidated = dialect.is_disconnect(error, dbapi_connection, None)
        if invalidated:
            connection.invalidate()  # as Connection.execute does on a lost connection: nothing uses it again
        raise _wrapped(error, compiled, values, dialect, invalidated) from error


def session_rows(statement, values: dict, column_keys: tuple | None = None) -> list:
    """`core_rows` for a statement built once per process (functools.cache) without expanding parameters, as a list
    of named tuples: run on the DB-API cursor of the session's connection (`rows_in`), without
    Connection.execute's per-execution work — about half of a quiz start's CPU on exam day (docs/performance.md,
    "(eighth)"). Pending changes are flushed first, as Session.execute would. `column_keys`: an INSERT's columns
    (the others take their scalar defaults, as Connection.execute gives them)."""
    return rows_in(flushed_session_connection(), statement, values, column_keys)


# Rows read below Flask (lms/core/fast_pages.py) for a request it then handed to Flask (a page not kept yet, a
# visit to write): Flask's read of the same statement with the same values takes them instead of asking the
# database again a moment later. Kept in the request's WSGI environ: nothing outlives the request.
_HANDED = "lms.rows_read_below_flask"


def rows(statement, values: dict, below_flask_environ=None) -> list:
    """The rows of a Core `statement` (built once) as named tuples, read in autocommit on this thread's
    connection; through the session when the request already began a transaction (see the module).
    `below_flask_environ`: the WSGI environ of a request read in front of Flask; the rows are kept there for Flask."""
    if below_flask_environ is not None:  # kept between requests while the database says nothing changed them
        found = change_feed.read_through(current_app, below_flask_environ, statement, values, _read)
        _hand(below_flask_environ, statement, values, found)
        return found
    if has_request_context():
        handed = request.environ.get(_HANDED)
        kept = handed.pop(id(statement), None) if handed else None
        if kept is not None and kept[0] is statement and kept[1] == values:
            return kept[2]
    return _read(statement, values)


def hand_to_flask(environ, statement, values: dict, row_values: list) -> None:
    """Rows of `statement` with `values` read below Flask as part of a larger statement (`row_values`: each row's
    values in the statement's column order), kept in the request's environ for Flask as `rows` would keep them."""
    dialect = db.engine.dialect
    make = _compiled(statement, dialect.name, dialect).row._make
    _hand(environ, statement, values, [make(row) for row in row_values])


def _hand(environ, statement, values: dict, found: list) -> None:
    environ.setdefault(_HANDED, {})[id(statement)] = (statement, dict(values), found)


def _read(statement, values: dict) -> list:
    session = existing_session()
    if session is None:
        if session_bound_to_connection():
            return core_rows(statement, values).all()
    elif session.bind is not None or not session_is_idle(session):
        return core_rows(statement, values).all()
    engine = db.engine
    dialect = engine.dialect
    compiled = _compiled(statement, dialect.name, dialect)
    proxy = thread_connections.connection(engine)
    try:
        return _execute(proxy, compiled, values)
    except dialect.loaded_dbapi.Error as error:
        if not dialect.is_disconnect(error, proxy.dbapi_connection, None):
            raise _wrapped(error, compiled, values, dialect, False) from error
    thread_connections.drop(engine)  # the database dropped it (restarted, a proxy's timeout): a new one, once
    proxy = thread_connections.connection(engine)
    try:
        return _execute(proxy, compiled, values)
    except dialect.loaded_dbapi.Error as error:
        invalidated = dialect.is_disconnect(error, proxy.dbapi_connection, None)
        if invalidated:
            thread_connections.drop(engine)
        raise _wrapped(error, compiled, values, dialect, invalidated) from error


def first(statement, values: dict):
    """The first row of `rows`, or None."""
    found = rows(statement, values)
    return found[0] if found else None


def session_first(statement, values: dict):
    """The first row of `session_rows`, or None."""
    found = session_rows(statement, values)
    return found[0] if found else None


def _wrapped(error, compiled: _Compiled, values: dict, dialect, invalidated: bool):
    # SQLAlchemy's own exception (OperationalError…): lms.core.errors answers a database away with 503.
    return DBAPIError.instance(compiled.sql, values, error, dialect.loaded_dbapi.Error,
                               connection_invalidated=invalidated, dialect=dialect)
