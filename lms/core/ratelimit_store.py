"""A `limits` storage in one small SQLite file, for Flask-Limiter in the embedded default.

Why: without Redis the limits used to live in each gunicorn worker's memory, so two workers let twice
the per-address limit through (and a restart forgot them). The `limits` library has no SQLite
backend, but it takes any class that implements its `Storage` interface and registers a URI scheme;
this is that class, so Flask-Limiter, its strategies (fixed window, the default) and the routes'
`deduct_when` stay exactly as in production — only the counters move to a file all workers share.

The file is separate from the app's database on purpose: a counter write per refused log-in must not
queue behind (or block) the app's own writes on SQLite's one writer lock. Production keeps Redis.

URI: `lms-sqlite:///absolute/path/ratelimits.sqlite3`. Each counter is one row; `incr` is one atomic
UPSERT … RETURNING (SQLite ≥ 3.35), so two workers incrementing at once both see distinct counts.
"""

import random
import sqlite3
import threading
import time

from limits.storage import Storage

PRUNE_CHANCE = 0.001
_SCHEMA = "CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
_INCR = """
INSERT INTO counters (key, count, expires) VALUES (?1, ?2, ?3 + ?4)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN counters.expires <= ?3 THEN ?2 ELSE counters.count + ?2 END,
    expires = CASE WHEN counters.expires <= ?3 THEN ?3 + ?4 ELSE counters.expires END
RETURNING count
"""


BUSY_SECONDS = 5.0
SWITCH_ATTEMPTS = 20


def _write_ahead_log(connection: sqlite3.Connection) -> None:
    """The file in WAL mode (kept in the file once set). Switching needs the file to itself; while another
    connection holds a lock SQLite waits for the busy timeout, but when two connections are opening the file at
    once it refuses at once ("database is locked": the first connections of several workers and threads meet
    there, as a `make test` run under load showed). So the switch is asked only when the file is not in WAL
    mode yet, and asked again a few times."""
    for attempt in range(SWITCH_ATTEMPTS):
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == SWITCH_ATTEMPTS - 1:
                raise
            _pause()


def _pause() -> None:
    time.sleep(0.005 + random.random() * 0.02)  # noqa: S311 - a spread of retries, not a secret


class SQLiteStorage(Storage):
    STORAGE_SCHEME = ["lms-sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.path = (uri or "").split("://", 1)[1] if "://" in (uri or "") else ""
        if not self.path:
            raise ValueError("lms-sqlite:// needs a file path, e.g. lms-sqlite:///srv/lms/instance/ratelimits.sqlite3")
        self._local = threading.local()  # sqlite3 connections stay in the thread that made them

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
            _write_ahead_log(connection)
            connection.execute("PRAGMA synchronous=NORMAL")  # counters, not records: a power cut may lose one
            connection.execute(_SCHEMA)
            self._local.connection = connection
        return connection

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        if random.random() < PRUNE_CHANCE:  # noqa: S311 - when to tidy up, not a secret
            self.prune()
        return self._db().execute(_INCR, (key, amount, time.time(), expiry)).fetchone()[0]

    def decr(self, key: str, amount: int = 1) -> int:
        row = self._db().execute("UPDATE counters SET count = MAX(count - ?2, 0) WHERE key = ?1 RETURNING count",
                                 (key, amount)).fetchone()
        return row[0] if row else 0

    def get(self, key: str) -> int:
        row = self._db().execute("SELECT count FROM counters WHERE key = ? AND expires > ?",
                                 (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._db().execute("SELECT expires FROM counters WHERE key = ? AND expires > ?",
                                 (key, time.time())).fetchone()
        return row[0] if row else time.time()

    def check(self) -> bool:
        try:
            self._db().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._db().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._db().execute("DELETE FROM counters WHERE key = ?", (key,))

    def prune(self) -> int:
        """Drop expired counters: one row per address and limit would otherwise stay for ever."""
        return self._db().execute("DELETE FROM counters WHERE expires <= ?", (time.time(),)).rowcount
