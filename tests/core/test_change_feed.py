"""The rows of the light pages kept per process while PostgreSQL says nothing changed them (lms.core.change_feed).

The kept map's rules are checked on their own (any database); the feed itself against a PostgreSQL database of
this module's own, with migration 0018's triggers, a real listener thread and real commits from elsewhere. Where
a test needs a notification to arrive late, it holds the listener's notifications back itself and lets them go
when the test says so: the interleaving is made, not waited for.
"""

import contextlib
import threading

import psycopg
import pytest
from psycopg import sql

from lms import create_app
from lms.config import load_config
from lms.core import change_feed, raw_reads
from lms.core.change_feed import KeptRows
from tests import change_triggers
from tests.conftest import TEST_DB_URL, text_of
from tests.core.conftest import _overrides, sibling_database
from tests.core.test_raw_reads import NAME, commit_elsewhere, dispose, prepare

KEY = "a-long-random-secret-key-for-the-configuration-test"
WAIT = 10.0  # seconds a notification may take to reach the listener on a busy machine


# ------------------------------------------------------------------ the kept map (no database)

def _live(tables=("lessons", "users")) -> KeptRows:
    kept = KeptRows(size=3 * 210)  # three rows of ten characters
    kept.set_live(True, {name: "content" if name == "lessons" else "person" for name in tables})
    return kept


def test_a_notification_drops_the_rows_of_its_person_or_table_only():
    kept = _live()
    kept.put(kept.token(), "ann's lesson", 1, frozenset({"lessons", "users"}), ["a"])
    kept.put(kept.token(), "bob's lesson", 2, frozenset({"lessons", "users"}), ["b"])
    kept.put(kept.token(), "a visitor's page", None, frozenset({"library_items"}), ["v"])
    kept.apply("u:1")
    assert (kept.get("ann's lesson"), kept.get("bob's lesson"), kept.get("a visitor's page")) == (None, ["b"], ["v"])
    kept.apply("t:lessons")
    assert (kept.get("bob's lesson"), kept.get("a visitor's page")) == (None, ["v"])
    kept.apply("*")
    assert kept.get("a visitor's page") is None and len(kept) == 0


def test_rows_read_while_a_change_about_them_arrived_are_not_kept():
    kept = _live()
    token = kept.token()
    kept.apply("u:7")  # arrives while the read runs: the read may predate the change
    kept.put(token, "seven's lesson", 7, frozenset({"lessons"}), ["old"])
    assert kept.get("seven's lesson") is None
    kept.put(token, "eight's lesson", 8, frozenset({"lessons"}), ["fine"])  # the change was not about these
    assert kept.get("eight's lesson") == ["fine"]
    token = kept.token()
    kept.apply("t:lessons")
    kept.put(token, "nine's lesson", 9, frozenset({"lessons"}), ["old"])
    assert kept.get("nine's lesson") is None


def test_nothing_is_kept_or_given_while_the_feed_is_not_listening():
    kept = _live()
    kept.put(kept.token(), "key", 1, frozenset({"lessons"}), ["row"])
    token = kept.token()
    kept.set_live(False)  # the listening connection lost: notifications may be missed from here on
    assert kept.get("key") is None and len(kept) == 0
    kept.put(token, "key", 1, frozenset({"lessons"}), ["row"])
    assert len(kept) == 0
    kept.set_live(True)
    kept.put(token, "key", 1, frozenset({"lessons"}), ["row"])  # read before the feed was back
    assert len(kept) == 0


def test_the_map_is_bounded_and_a_read_older_than_what_it_remembers_is_not_kept():
    kept = _live()
    for key in range(5):
        kept.put(kept.token(), key, key, frozenset({"lessons"}), [(f"row {key:5}",)])
    assert len(kept) == 3 and kept.get(0) is None and kept.get(4) == [("row     4",)]
    kept.put(kept.token(), "large", 5, frozenset({"lessons"}), [("x" * 300,)])
    assert len(kept) == 1 and kept.get("large") and kept.used == 500  # the older rows made room
    kept.put(kept.token(), "too large", 6, frozenset({"lessons"}), [("x" * 700,)])
    assert kept.get("too large") is None
    token = kept.token()
    for user in range(5000):  # more notifications than remembered, none about user 99
        kept.apply(f"u:{1000 + user}")
    kept.put(token, "late", 99, frozenset({"lessons"}), ["row"])
    assert kept.get("late") is None


def test_what_counts_as_a_write_for_the_browsers_cookie():
    assert change_feed.writes("INSERT INTO lesson_progress (enrollment_id) VALUES (%(a)s)")
    assert change_feed.writes("\n  update users SET text_size = %(size)s")
    assert change_feed.writes("DELETE FROM notifications WHERE id = 1")
    assert change_feed.writes("WITH gone AS (DELETE FROM x RETURNING id) SELECT count(*) FROM gone")
    assert not change_feed.writes("SELECT users.id FROM users WHERE users.id = %(id)s")
    assert not change_feed.writes("WITH page AS (SELECT 1) SELECT * FROM page")


def test_the_feed_listens_to_postgresql_itself_never_through_pgbouncer(monkeypatch):
    for name in ("LMS_CHANGE_FEED", "LMS_CHANGE_FEED_URL", "LMS_PGBOUNCER"):
        monkeypatch.delenv(name, raising=False)
    url = "postgresql://lms@db.example:5432/lms"

    def feed(**environment):
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        return load_config("/tmp", {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": KEY})["LMS_CHANGE_FEED_URL"]

    assert feed() == url
    assert feed(LMS_PGBOUNCER="1") == ""  # transaction pooling cannot carry LISTEN: nothing kept
    assert feed(LMS_CHANGE_FEED_URL="postgresql://lms@db.example:5433/lms") == "postgresql://lms@db.example:5433/lms"
    assert feed(LMS_CHANGE_FEED="0") == ""
    assert load_config("/tmp", {"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db", "SECRET_KEY": KEY})[
        "LMS_CHANGE_FEED_URL"] == ""
    assert load_config("/tmp", {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})["LMS_CHANGE_FEED_URL"] == ""


# ------------------------------------------------------------------ the feed on PostgreSQL

@pytest.fixture(scope="module")
def feed_url():
    """A PostgreSQL database of this module's own, its schema made by the models, with migration 0018's triggers."""
    if not TEST_DB_URL:  # every test of the feed asks for this database: the PostgreSQL pass runs them
        pytest.skip("the change feed is PostgreSQL's (LISTEN/NOTIFY)")
    with sibling_database(TEST_DB_URL, "change_feed") as url:
        yield url


@pytest.fixture(scope="module")
def prepared_feed(feed_url):
    """The learner, the course and the triggers, once for the module: (lesson path, lesson id, user id)."""
    from lms.extensions import db

    app, _client, path, lesson_id, user_id = prepare(feed_url)
    with app.app_context(), db.engine.begin() as connection:
        change_triggers.install(connection)
    dispose(app)
    return path, lesson_id, user_id


@pytest.fixture()
def feed(feed_url, prepared_feed):
    """(app, client, lesson path, lesson id, user id, the process's KeptRows): an app of its own, listening."""
    from tests.core.test_raw_reads import log_in

    path, lesson_id, user_id = prepared_feed
    app = create_app(_overrides(SQLALCHEMY_DATABASE_URI=feed_url, LMS_CHANGE_FEED_URL=_libpq(feed_url)))
    client = app.test_client()
    client.set_cookie("css", app.extensions["lms_inline_style"]("").fingerprint)  # a returning browser
    log_in(client)
    client.get(path)  # the listener starts on the first read below Flask
    kept = change_feed.kept_rows(app)
    assert kept.wait(lambda rows: rows.live, WAIT), "the change feed never started listening"
    forget_writes(client)
    settle(kept, feed_url)
    yield app, client, path, lesson_id, user_id, kept
    change_feed.stop(app)
    dispose(app)


def settle(kept, feed_url) -> None:
    """Wait until the notifications of everything committed so far have been applied: a change of our own is
    committed last and waited for (notifications arrive in commit order). It concerns no row a test reads."""
    heard = []
    real = kept.apply
    kept.apply = lambda payload: (heard.append(payload), real(payload))
    try:
        commit_elsewhere(feed_url, "UPDATE library_files SET id = id WHERE id < 0")
        assert kept.wait(lambda _rows: "t:library_files" in heard, WAIT), heard
    finally:
        kept.apply = real


def forget_writes(client) -> None:
    """Drop the cookie of a write a moment ago, as the browser does when it expires (seconds later)."""
    assert client.get_cookie(change_feed.WROTE_COOKIE, domain="lms.test") is not None  # the log-in wrote
    client.delete_cookie(change_feed.WROTE_COOKIE, domain="lms.test")


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture()
def reads(monkeypatch):
    """The statements read from the database below Flask (the kept ones are not)."""
    done = []
    real = raw_reads._read

    def counted(statement, values):
        done.append(statement)
        return real(statement, values)

    monkeypatch.setattr(raw_reads, "_read", counted)
    return done


def test_a_lesson_read_again_comes_from_the_process_and_a_commit_elsewhere_reaches_it(feed, reads, feed_url):
    app, client, path, lesson_id, _user_id, kept = feed
    client.get(path)  # read from the database, and kept
    before, answered = len(reads), app.extensions["lms_fast_pages"].answered
    for _ in range(3):
        assert NAME in text_of(client.get(path))
    assert app.extensions["lms_fast_pages"].answered == answered + 3  # below Flask
    assert len(reads) == before, "the lesson read again went to the database"

    seen = kept.notifications
    commit_elsewhere(feed_url, "UPDATE lessons SET title = :title WHERE id = :id", title="Bài đã sửa nơi khác",
                     id=lesson_id)
    assert kept.wait(lambda rows: rows.notifications > seen, WAIT)
    assert "Bài đã sửa nơi khác" in text_of(client.get(path))
    assert len(reads) == before + 1  # read once after the change, then kept again
    client.get(path)
    assert len(reads) == before + 1


@pytest.mark.parametrize("change, what", [
    ("UPDATE users SET full_name = full_name WHERE id = :user_id", "u"),
    ("UPDATE session_records SET last_seen_at = last_seen_at WHERE user_id = :user_id", "u"),
    ("UPDATE lesson_progress SET completed_at = completed_at WHERE enrollment_id IN "
     "(SELECT id FROM enrollments WHERE user_id = :user_id)", "u"),
    ("INSERT INTO notifications (user_id, kind, subject, body, dedupe_key, created_at, email_status) VALUES "
     "(:user_id, 'test', 'Chuông', '', 'feed-' || gen_random_uuid(), CURRENT_TIMESTAMP, 'none')", "u"),
    ("UPDATE courses SET title = title WHERE id > :user_id - :user_id", "t:courses"),
])
def test_each_watched_table_notifies_whose_rows_changed(feed, feed_url, change, what):
    _app, _client, _path, _lesson_id, user_id, kept = feed
    expected = f"u:{user_id}" if what == "u" else what
    heard = []
    real = kept.apply
    kept.apply = lambda payload: (heard.append(payload), real(payload))
    commit_elsewhere(feed_url, change, user_id=user_id)
    assert kept.wait(lambda _rows: expected in heard, WAIT), heard


def test_the_browser_that_wrote_reads_the_database_while_its_cookie_lasts(feed, reads, feed_url):
    app, client, path, lesson_id, _user_id, kept = feed
    client.get(path)
    held, arrived = [], threading.Event()  # the listener's notifications, held back: not at this host yet
    real = kept.apply
    kept.apply = lambda payload: (held.append(payload), arrived.set())
    commit_elsewhere(feed_url, "UPDATE lessons SET title = 'Sửa lúc chưa báo' WHERE id = :id", id=lesson_id)
    assert arrived.wait(WAIT)
    assert "Sửa lúc chưa báo" not in text_of(client.get(path))  # the kept row: the change has not reached us

    response = client.post("/text-size", data={"size": "large"})  # a write: this browser's cookie
    cookie = response.headers.get("Set-Cookie", "")
    assert change_feed.WROTE_COOKIE in " ".join(response.headers.getlist("Set-Cookie")), cookie
    assert f"Max-Age={change_feed.WROTE_SECONDS}" in " ".join(response.headers.getlist("Set-Cookie"))
    before = len(reads)
    assert "Sửa lúc chưa báo" in text_of(client.get(path))  # with the cookie: the database, not the kept row
    assert len(reads) > before

    forget_writes(client)
    kept.apply = real
    for payload in held:
        kept.apply(payload)
    assert "Sửa lúc chưa báo" in text_of(client.get(path))


def test_a_lost_listening_connection_keeps_nothing_until_it_is_back(feed, reads, feed_url):
    app, client, path, _lesson_id, _user_id, kept = feed
    client.get(path)
    assert len(kept) >= 1
    with psycopg.connect(_libpq(feed_url), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = 'lms-change-feed' AND datname = current_database()")
    assert kept.wait(lambda rows: not rows.live, WAIT), "the listener did not notice its connection ended"
    assert len(kept) == 0
    assert kept.wait(lambda rows: rows.live, WAIT), "the listener did not listen again"
    before = len(reads)
    assert NAME in text_of(client.get(path))
    assert NAME in text_of(client.get(path))
    assert len(reads) == before + 1  # read once after the feed was back, then kept


def test_a_read_that_a_change_overtook_is_not_kept(feed, monkeypatch):
    app, client, path, _lesson_id, user_id, kept = feed
    kept.apply("*")
    real = raw_reads._read
    overtaken = threading.Event()

    def read_then_change(statement, values):
        found = real(statement, values)
        if not overtaken.is_set():
            overtaken.set()
            kept.apply(f"u:{user_id}")  # a change about this person arrives before the rows are kept
        return found

    monkeypatch.setattr(raw_reads, "_read", read_then_change)
    assert NAME in text_of(client.get(path))
    assert overtaken.is_set() and len(kept) == 0


@pytest.mark.parametrize("filters", [{}, {"collection": "cam-nang"}, {"kind": "document"}, {"audience": "citizen"},
                                     {"locality_id": 5}])
def test_every_statement_read_below_flask_is_watched_by_the_migration(app, filters):
    """A statement reading a table without a trigger would never be kept (read_through refuses it): the feed
    would silently give nothing. Every light page's statement, with each listing filter, is watched."""
    from lms.accounts import viewer
    from lms.catalog.queries import _lesson_page_statement
    from lms.library.queries import NEWEST_FIRST_BY_NAME, _item_head_statement, browse_read

    migration = change_triggers.migration()
    watched = {*migration.PERSON_TABLES, *migration.CONTENT_TABLES}
    with app.app_context():
        listing = browse_read(**filters)[0]
        statements = [viewer._with_page(_lesson_page_statement()), _lesson_page_statement(),
                      viewer._with_page(_item_head_statement()), _item_head_statement(), listing,
                      viewer._with_rows(listing, NEWEST_FIRST_BY_NAME)]
        for statement in statements:
            assert change_feed.tables_of(statement) <= watched, change_feed.tables_of(statement) - watched
            assert "user_id" in statement.compile().params  # a person's tables read for that person only


# ------------------------------------------------------------------ /metrics of real gunicorn workers

WORKERS = 2


@pytest.fixture()
def served(feed_url, prepared_feed, tmp_path):
    """gunicorn with two workers on the feed's database, adding up their figures in one directory as deploy/ has
    them (PROMETHEUS_MULTIPROC_DIR); nothing read from it yet."""
    from tests.app_processes import AppProcesses

    metrics = tmp_path / "metrics"
    metrics.mkdir()
    with AppProcesses(feed_url, env={"LMS_CHANGE_FEED_URL": _libpq(feed_url),
                                     "PROMETHEUS_MULTIPROC_DIR": str(metrics)}) as web:
        web.start_web(workers=WORKERS, access_log=False, healthy=False)  # no runner: /healthz answers 503
        yield web


def test_metrics_count_the_web_processes_listening_from_their_start_until_their_connection_is_lost(served, feed_url):
    """lms_change_feed_listening on /metrics is the number of gunicorn workers whose listener is connected: all of
    them once they started (before any page was read), none while the database refuses their connections."""
    from tests.processes import wait_until

    def counted(number: int):
        return lambda: _feed_connections(feed_url) == number and _gauge(served, "lms_change_feed_listening") == number

    # A worker boots (imports the app) after gunicorn answers: on a busy machine that takes seconds.
    wait_until(counted(WORKERS), 6 * WAIT, interval=0.2, what=f"{WORKERS} workers listening, and /metrics saying so")
    with _connections_refused(feed_url):
        with psycopg.connect(_admin(feed_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE application_name = 'lms-change-feed' AND datname = %s", (_name(feed_url),))
        wait_until(counted(0), WAIT, interval=0.1, what="/metrics to say that no worker listens")
    wait_until(counted(WORKERS), WAIT, interval=0.1, what="the workers to listen again, and /metrics to say so")


def _gauge(web, name: str) -> float | None:
    """The value of an unlabelled sample of /metrics (prometheus_client's own parser); None when it has none."""
    from prometheus_client.parser import text_string_to_metric_families

    status, body = web.get("/metrics")
    assert status == 200, body[-2000:]
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == name and not sample.labels:
                return sample.value
    return None


def _name(url: str) -> str:
    return url.rpartition("/")[2]


def _admin(url: str) -> str:
    return _libpq(url).rpartition("/")[0] + "/postgres"


def _feed_connections(url: str) -> int:
    """The listeners' connections to the feed's database, as PostgreSQL sees them."""
    with psycopg.connect(_admin(url), autocommit=True) as admin:
        return admin.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lms-change-feed' "
                             "AND datname = %s", (_name(url),)).fetchone()[0]


@contextlib.contextmanager
def _connections_refused(url: str):
    """The database refuses every new connection (the listeners' reconnections included) until the block ends."""
    with psycopg.connect(_admin(url), autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(sql.Identifier(_name(url))))
        try:
            yield
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(
                sql.Identifier(_name(url))))
