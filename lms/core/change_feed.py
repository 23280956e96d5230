"""Rows of the pages read most, kept in each process for as long as PostgreSQL says nothing changed them.

A lesson or library page read again below Flask (lms/core/fast_pages.py) costs one statement; on
PostgreSQL that statement's round trip was most of what was left of the page's cost (docs/performance.md,
"(seventh)"). Those rows change rarely: a lesson's text, a person's enrolment, progress or bell. So each
process keeps them, and the database tells every process, on every host, when they change:

- triggers (migration 0018) send a notification on channel `lms_changes` with every committed change to a
  table these rows are read from: `u:<user id>` for a person's own rows (their account, session records,
  role grants, enrolments, lesson progress, notifications), `t:<table>` for content (courses, lessons,
  library, localities), `*` when a person's row cannot be told;
- a thread of each process (each gunicorn worker from its start) LISTENs on a connection of its own (not
  through PgBouncer in transaction mode, which cannot carry LISTEN: `LMS_CHANGE_FEED_URL`) and drops what each
  notification concerns;
- rows are kept only while that thread is listening: before it has (re)connected, after its connection is
  lost, and for tables without the triggers (a database made without migrations), every read goes to the
  database, as before;
- a read that raced a change is not kept: rows are kept only when no notification about them arrived
  between the read's start and its end (`token`);
- a browser that has just written something (this request's statements included an INSERT, UPDATE or
  DELETE) gets a short-lived cookie, and its reads skip the kept rows until it expires: a write on one host
  followed at once by a read on another never waits for the notification to reach that other host.

What a statement must be to be kept (tests/core/test_change_feed.py checks the light pages' statements):
- every table it reads is watched (a statement reading another table is simply never kept);
- it reads a person's tables only for the person named by its `user_id` value (`u:<id>` drops exactly those);
- its answer depends on the database only, not on the clock (no now() in it): time-dependent checks, such as
  a session record's "last seen" being due, are made on the rows each time they are used.
Nothing is kept on SQLite (one file, no notifications, and a read costs no round trip there).
"""

import logging
import os
import threading
import time
from collections import OrderedDict, deque

from sqlalchemy import Table
from sqlalchemy.sql.util import find_tables

from lms.core.metrics import CHANGE_FEED_LISTENING, CHANGE_FEED_NOTIFICATIONS, KEPT_ROWS

log = logging.getLogger(__name__)

CHANNEL = "lms_changes"
WROTE_COOKIE = "lms_wrote"  # "this browser wrote a moment ago": its reads skip the kept rows
WROTE_SECONDS = 3
_MAX_BYTES = 32 * 1024 * 1024  # of text kept a process (a lesson row is its HTML and outline: 5–20 KB)
_ROW_BYTES = 200  # what a row costs beyond its text
_RECENT = 4096  # notifications remembered for the race check; a read that outlived more is not kept
_RETRY_SECONDS = 1.0
_RECHECK_SECONDS = 30.0


class KeptRows:
    """The kept reads of one process: (statement, values) → rows, indexed by person and by table."""

    def __init__(self, size: int = _MAX_BYTES):
        self.size, self.used = size, 0  # bytes, roughly: the rows' text
        self.live = False  # the listener is connected and listening: rows may be kept and read
        self.tables = {}  # table name → "person" or "content": the tables the triggers watch
        self.notifications = 0  # applied since start (the tests wait on it)
        self._lock = threading.Condition()
        self._rows = OrderedDict()  # key → (user id, tables, rows, bytes)
        self._by_user, self._by_table = {}, {}
        self._seq = 0  # notifications and resets applied so far
        self._recent = deque(maxlen=_RECENT)  # (seq, user id or None, table or None); (seq, None, None) = all

    def token(self) -> int:
        """Taken before a read: `put` keeps the rows only if nothing about them changed since."""
        return self._seq

    def get(self, key):
        with self._lock:
            found = self._rows.get(key) if self.live else None
            if found is None:
                return None
            self._rows.move_to_end(key)
            return found[2]

    def put(self, token: int, key, user_id, tables: frozenset, rows: list) -> None:
        with self._lock:
            if not self.live or self._changed_since(token, user_id, tables):
                return
            if key in self._rows:
                self._drop(key)
            cost = _bytes(rows)
            self._rows[key] = (user_id, tables, rows, cost)
            self.used += cost
            self._by_user.setdefault(user_id, set()).add(key)
            for table in tables:
                self._by_table.setdefault(table, set()).add(key)
            while self.used > self.size and self._rows:
                self._drop(next(iter(self._rows)))  # the least recently read

    def _changed_since(self, token: int, user_id, tables: frozenset) -> bool:
        if token == self._seq:
            return False
        if not self._recent or self._recent[0][0] > token + 1:
            return True  # more changes than remembered: assume one was about these rows
        for seq, user, table in reversed(self._recent):  # newest first: only those after the token matter
            if seq <= token:
                return False
            if (user is None and table is None) or (user is not None and user == user_id) or table in tables:
                return True
        return False

    def apply(self, payload: str) -> None:
        """One notification: `u:<id>`, `t:<table>` or `*`."""
        kind, _, name = payload.partition(":")
        with self._lock:
            self._seq += 1
            self.notifications += 1
            if kind == "u" and name.isdigit():
                user_id = int(name)
                self._recent.append((self._seq, user_id, None))
                for key in list(self._by_user.get(user_id, ())):
                    self._drop(key)
            elif kind == "t" and name:
                self._recent.append((self._seq, None, name))
                for key in list(self._by_table.get(name, ())):
                    self._drop(key)
            else:
                self._reset()
            self._lock.notify_all()

    def set_live(self, live: bool, tables: dict | None = None) -> None:
        """Listening (with the watched `tables`) or not: either way, everything kept so far is dropped."""
        with self._lock:
            self._reset()
            self.live = live
            if tables is not None:
                self.tables = tables
            self._lock.notify_all()

    def wait(self, condition, timeout: float) -> bool:
        """Block until `condition(self)` holds (checked at each notification or state change); for the tests."""
        with self._lock:
            return self._lock.wait_for(lambda: condition(self), timeout)

    def _reset(self) -> None:
        self._seq += 1
        self._recent.append((self._seq, None, None))
        self._rows.clear()
        self.used = 0
        self._by_user.clear()
        self._by_table.clear()

    def _drop(self, key) -> None:
        user_id, tables, _, cost = self._rows.pop(key)
        self.used -= cost
        self._by_user.get(user_id, set()).discard(key)
        for table in tables:
            self._by_table.get(table, set()).discard(key)

    def __len__(self) -> int:
        return len(self._rows)


def _bytes(rows: list) -> int:
    return sum(_ROW_BYTES + sum(len(value) for value in row if isinstance(value, (str, bytes))) for row in rows)


def tables_of(statement) -> frozenset:
    """The tables a Core statement reads (joins, subqueries and correlated columns included)."""
    return frozenset(table.name for table in find_tables(statement, include_aliases=True, include_joins=True)
                     if isinstance(table, Table))  # not the subqueries' names


class Listener:
    """The thread that LISTENs for one process and keeps `kept` in step with the database."""

    def __init__(self, url: str, kept: KeptRows):
        self.url, self.kept = url, kept
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lms-change-feed", daemon=True)

    def start(self) -> "Listener":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        import psycopg

        failing = False  # said once per outage, not once a second
        while not self._stopped.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, application_name="lms-change-feed",
                                     connect_timeout=5, keepalives=1, keepalives_idle=10, keepalives_interval=5,
                                     keepalives_count=3) as connection:
                    if failing:
                        log.warning("change feed: connected again")
                    failing = False
                    self._listen(connection)
            except Exception as error:  # noqa: BLE001 - the database away or restarted: read it, and try again
                if not self._stopped.is_set() and not failing:
                    log.warning("change feed: not listening (%s); pages read the database meanwhile", error)
                failing = True
            finally:
                self.kept.set_live(False)
                CHANGE_FEED_LISTENING.set(0)
            self._stopped.wait(_RETRY_SECONDS)

    def _listen(self, connection) -> None:
        tables = watched_tables(connection)
        if not tables:
            log.warning("change feed: the database has no change triggers (migration 0018); nothing is kept")
            self._stopped.wait(60)
            return
        connection.execute(f"LISTEN {CHANNEL}")
        self.kept.set_live(True, tables)  # from here on every change reaches us: what we keep stays true
        CHANGE_FEED_LISTENING.set(1)
        checked = time.monotonic()
        while not self._stopped.is_set():  # notifications wait in the connection between two calls
            for note in connection.notifies(timeout=1.0):
                self.kept.apply(note.payload)
                CHANGE_FEED_NOTIFICATIONS.inc()
            if time.monotonic() - checked > _RECHECK_SECONDS:  # triggers dropped (a schema restored, a downgrade)?
                checked = time.monotonic()
                if watched_tables(connection) != tables:
                    return  # listen again from scratch, dropping everything kept

def watched_tables(connection) -> dict:
    """Table name → "person" or "content", for the tables whose changes are notified (migration 0018's triggers)."""
    found = connection.execute(
        "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE t.tgname IN ('lms_changes_person', 'lms_changes_content') AND NOT t.tgisinternal "
        "AND n.nspname = current_schema()").fetchall()
    return {table: trigger.removeprefix("lms_changes_") for table, trigger in found}


_START_LOCK = threading.Lock()


def kept_rows(app) -> KeptRows | None:
    """This process's kept rows for `app`, listening; None where nothing is kept (SQLite, switched off).
    One listener a process: started on first use, again in a forked child. gunicorn's workers call this as they
    start (gunicorn.conf.py), so that lms_change_feed_listening counts every worker whose feed is connected."""
    if not app.config.get("LMS_CHANGE_FEED_URL"):
        return None
    found = app.extensions.get("lms_kept_rows")
    if found is not None and found[0] == os.getpid():
        return found[1]
    with _START_LOCK:
        found = app.extensions.get("lms_kept_rows")
        if found is None or found[0] != os.getpid():
            kept = KeptRows()
            found = (os.getpid(), kept, Listener(app.config["LMS_CHANGE_FEED_URL"], kept).start())
            app.extensions["lms_kept_rows"] = found
    return found[1]


def stop(app) -> None:
    """Stop this process's listener for `app` (tests; a process ending stops its daemon thread anyway)."""
    found = app.extensions.pop("lms_kept_rows", None)
    if found is not None:
        found[2].stop()
        found[1].set_live(False)


_KEPT, _READ = KEPT_ROWS.labels("kept"), KEPT_ROWS.labels("database")


def read_through(app, environ, statement, values: dict, read) -> list:
    """`read(statement, values)`, or the rows kept for them; rows read are kept when the feed allows it."""
    kept = kept_rows(app)
    if kept is None:
        return read(statement, values)
    key = _key(statement, values)
    if key is None or not kept.live or WROTE_COOKIE in environ.get("HTTP_COOKIE", ""):
        _READ.inc()
        return read(statement, values)
    found = kept.get(key)
    if found is not None:
        _KEPT.inc()
        return found
    _READ.inc()
    token = kept.token()
    found = read(statement, values)
    tables = _tables(statement)
    watched = kept.tables
    # A person's tables are read for the `user_id` value only (None, a visitor's, matches no row of theirs).
    if all(table in watched for table in tables) and (
            "user_id" in values or not any(watched[table] == "person" for table in tables)):
        kept.put(token, key, values.get("user_id"), tables, found)
    return found


def _key(statement, values: dict):
    """What a read is kept under: the statement and its values; None when a value cannot be a key (a list)."""
    key = (statement, tuple(sorted(values.items())))
    try:
        hash(key)
    except TypeError:
        return None
    return key


_TABLES = {}


def _tables(statement) -> frozenset:
    found = _TABLES.get(statement)
    if found is None:
        found = _TABLES[statement] = tables_of(statement)
    return found


_WROTE = "lms.wrote"  # in a request's WSGI environ: one of its statements wrote
_WRITES = ("INSERT", "UPDATE", "DELETE")


def writes(statement: str) -> bool:
    """Whether SQL text changes rows: it starts with INSERT, UPDATE or DELETE, or is a WITH … that holds one."""
    head = statement.lstrip()[:6].upper()
    if head in _WRITES:
        return True
    return head.startswith("WITH") and any(word in statement.upper() for word in _WRITES)


def install(app) -> None:
    """Mark requests that write (the engine's INSERT, UPDATE and DELETE), and give their browser the cookie that
    makes its next reads skip the kept rows for WROTE_SECONDS. Nothing without a change feed."""
    if not app.config.get("LMS_CHANGE_FEED_URL"):
        return
    from flask import has_request_context, request
    from sqlalchemy import event

    from lms.extensions import db

    def mark_write(_connection, _cursor, statement, _parameters, _context, _executemany):
        if has_request_context() and writes(statement):
            request.environ[_WROTE] = True

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", mark_write)

    @app.after_request
    def tell_the_browser_it_wrote(response):
        if request.environ.get(_WROTE):
            response.set_cookie(WROTE_COOKIE, "1", max_age=WROTE_SECONDS, path=request.script_root or "/",
                                secure=app.config.get("SESSION_COOKIE_SECURE", False), httponly=True, samesite="Lax")
        return response
