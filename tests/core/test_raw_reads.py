"""The light pages' reads on their own autocommit connection (lms.core.raw_reads), against a committed database
of their own: the suite's app reads through its rolled-back test transaction, where raw_reads goes through the
session instead (a request must read what it wrote).

What another connection commits is seen by the next light page; an ended session or a deactivated account is
refused on it; and those pages take nothing from the engine's pool (no BEGIN, no COMMIT).
"""

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text

from lms import create_app
from lms.extensions import db
from tests.conftest import _TMP, FIXTURE_COURSES, TEST_DB_URL, text_of
from tests.core.conftest import _overrides, sibling_database

NAME = "Lê Thị Đọc Nhanh"
PASSWORD = "mat-khau-123"


def prepare(url: str):
    """An app on `url` (an empty database) with the schema, a learner enrolled in the fixture course, and a
    logged-in client: (app, client, lesson path, lesson id, user id)."""
    from lms.accounts.operations import create_user
    from lms.catalog.operations import import_course
    from lms.catalog.queries import course_by_slug
    from lms.catalog.source import read_course

    app = create_app(_overrides(SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        db.create_all()
        user = create_user(NAME, PASSWORD, email="doc.nhanh@example.vn")
        source = read_course(Path(FIXTURE_COURSES / "mini-course"))
        import_course(source)
        db.session.flush()
        course = course_by_slug(source.slug)
        lesson = course.active_lessons()[0]
        path, lesson_id, user_id = f"/courses/{course.slug}/lessons/{lesson.id}", lesson.id, user.id
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    log_in(client)
    assert client.post(f"/courses/{path.split('/')[2]}/enrol").status_code in (302, 303)
    return app, client, path, lesson_id, user_id


def log_in(client) -> None:
    response = client.post("/login", data={"login": "doc.nhanh@example.vn", "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def database_url():
    """A database of this module's own: a file beside the suite's, or a sibling PostgreSQL database."""
    if not TEST_DB_URL:
        yield f"sqlite:///{_TMP}/raw-reads-{uuid.uuid4().hex[:8]}.sqlite3"
        return
    with sibling_database(TEST_DB_URL, "raw_reads") as url:
        yield url


@pytest.fixture(scope="module")
def prepared(database_url):
    app, client, path, lesson_id, user_id = prepare(database_url)
    yield app, client, path, lesson_id, user_id
    dispose(app)


def commit_elsewhere(url: str, statement: str, **values) -> None:
    """Change the database through a connection of another engine, as another process would."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), values)
    finally:
        engine.dispose()


def engine_statements(app, client, path):
    """(the statements the app's engine ran for one GET of `path`, the response)."""
    statements = []

    def record(_connection, _cursor, statement, *_rest):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements, response


def test_a_lesson_view_takes_nothing_from_the_pool_and_sees_another_connections_commit(prepared, database_url):
    app, client, path, lesson_id, _user_id = prepared
    client.get(path)  # the first visit writes (lesson_viewed): through the session, committed by @view
    statements, response = engine_statements(app, client, path)
    assert NAME in text_of(response)
    assert statements == []  # no BEGIN, no SELECT, no COMMIT through the engine: the reads went raw

    commit_elsewhere(database_url, "UPDATE lessons SET title = :title WHERE id = :id", title="Bài mới sửa", id=lesson_id)
    assert "Bài mới sửa" in text_of(client.get(path))


def test_the_library_pages_read_raw_too(prepared):
    app, client, _path, _lesson_id, _user_id = prepared
    from lms.library.models import LibraryItem

    with app.app_context():  # committed on the pool's connection: another one than the raw reads'
        db.session.add(LibraryItem(slug="so-tay", kind="article", title="Sổ tay thô", title_folded="so tay tho",
                                   status="published", licence="CC BY 4.0"))
        db.session.commit()
        db.session.remove()
    client.get("/library")
    statements, response = engine_statements(app, client, "/library")
    assert "Sổ tay thô" in text_of(response) and NAME in text_of(response)
    assert statements == []
    statements, response = engine_statements(app, client, "/library/so-tay")
    assert "Sổ tay thô" in text_of(response)


@pytest.mark.parametrize("change", [
    "UPDATE session_records SET ended_at = CURRENT_TIMESTAMP WHERE user_id = :user_id AND ended_at IS NULL",
    "UPDATE users SET is_active = false WHERE id = :user_id",
    "UPDATE users SET session_version = session_version + 1 WHERE id = :user_id",
])
def test_an_ended_session_or_deactivated_account_is_refused_on_the_next_light_page(prepared, database_url, change):
    app, client, path, _lesson_id, user_id = prepared
    try:
        log_in(client)
        assert NAME in text_of(client.get(path))
        assert NAME in text_of(client.get("/library"))
        commit_elsewhere(database_url, change, user_id=user_id)
        assert NAME not in text_of(client.get(path))  # a visitor now: the lesson is public, the person gone
        assert NAME not in text_of(client.get("/library"))
    finally:
        commit_elsewhere(database_url, "UPDATE users SET is_active = true WHERE id = :user_id", user_id=user_id)


def test_a_request_that_wrote_reads_its_own_writes_through_the_session(prepared):
    """raw_reads goes through the session once the request holds a transaction or pending changes."""
    from lms.accounts.models import User
    from lms.accounts.viewer import statement
    from lms.core import raw_reads

    app, *_rest, user_id = prepared
    with app.test_request_context("/"):
        db.session.get(User, user_id).full_name = "Tên chưa lưu"  # pending, never committed
        rows = raw_reads.rows(statement(), {"key": "none", "user_id": user_id})
        assert rows[0].full_name == "Tên chưa lưu"
        db.session.rollback()
        rows = raw_reads.rows(statement(), {"key": "none", "user_id": user_id})
        assert rows[0].full_name == NAME and rows[0].last_seen_at is None


def test_each_thread_reads_on_its_own_connection(prepared):
    import threading

    from lms.accounts.viewer import statement
    from lms.core import raw_reads, thread_connections

    app, *_rest, user_id = prepared
    seen, errors = [], []

    def read():
        try:
            with app.test_request_context("/"):
                for _ in range(20):
                    assert raw_reads.first(statement(), {"key": "none", "user_id": user_id}).full_name == NAME
                engine = db.engine
                # The connection itself, not its id(): a thread that ended lets its connection be closed, and a
                # freed object's id can be given again.
                seen.append(thread_connections.connection(engine).dbapi_connection)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len({id(connection) for connection in seen}) == 4


def test_a_thread_that_ended_leaves_no_connection_open(prepared):
    """Threads that come and go (a pool of them, a crowd in a test) each read on a connection of their own;
    once a thread has ended its connection is closed (its locals go with it), so they never pile up to the
    database's max_connections."""
    import threading

    from lms.accounts.viewer import statement
    from lms.core import raw_reads, thread_connections

    app, *_rest, user_id = prepared
    made = []

    def read(together):
        with app.test_request_context("/"):
            raw_reads.first(statement(), {"key": "none", "user_id": user_id})
            made.append(thread_connections.connection(db.engine))
            db.session.remove()
        together.wait()  # no thread of a wave ends before all five have their connection

    for _ in range(3):  # three waves of five threads, one after the other
        together = threading.Barrier(5)
        wave = [threading.Thread(target=read, args=(together,)) for _ in range(5)]
        for thread in wave:
            thread.start()
        for thread in wave:
            thread.join()
    assert len(made) == 15 and len(set(map(id, made))) == 15
    # Every thread has ended: all fifteen are closed, none is still kept.
    assert not [proxy for proxy in thread_connections.held() if proxy in made]
    assert all(proxy.dbapi_connection is None or proxy.dbapi_connection.closed for proxy in made)


def test_the_raw_rows_equal_the_sessions_rows(prepared):
    """The same statement, compiled once to SQL text here, gives what SQLAlchemy's execute gives: values
    converted by the column types (dates, booleans, JSON), in the same names."""
    from lms.accounts.viewer import statement
    from lms.catalog.queries import _lesson_page_statement
    from lms.core import raw_reads
    from lms.core.db import core_rows

    app, client, path, lesson_id, user_id = prepared
    slug = path.split("/")[2]
    with app.test_request_context("/"):
        for built, values in ((statement(), {"key": "none", "user_id": user_id}),
                              (_lesson_page_statement(), {"slug": slug, "lesson_id": lesson_id, "user_id": user_id})):
            raw = raw_reads.rows(built, values)
            through_session = [row._asdict() for row in core_rows(built, values).all()]
            db.session.rollback()
            assert [row._asdict() for row in raw] == through_session and raw


def test_no_raw_connection_is_left_checked_out_of_the_pool(prepared):
    app, client, path, *_rest = prepared
    client.get(path)
    with app.app_context():
        assert db.engine.pool.checkedout() == 0


def test_a_light_page_makes_no_orm_session(prepared):
    """Nothing on a light page that only reads needs a Session: none is made (nor closed at teardown)."""
    from sqlalchemy.orm import Session

    _app, client, path, *_rest = prepared
    log_in(client)
    client.get(path)
    made = []

    def began(*_args):
        made.append("begin")

    event.listen(Session, "after_begin", began)
    original = Session.__init__

    def counting_init(self, *args, **kwargs):
        made.append("session")
        original(self, *args, **kwargs)

    Session.__init__ = counting_init
    try:
        response = client.get(path)
    finally:
        Session.__init__ = original
        event.remove(Session, "after_begin", began)
    assert NAME in text_of(response) and made == []


def test_a_lesson_view_reads_its_person_and_its_lesson_in_one_statement(prepared, monkeypatch):
    """The lesson's row comes in the person's statement (lms.core.page_rows): one raw read a view;
    what the page shows and the checks on the person are those of two reads."""
    from lms.core import raw_reads

    app, client, path, lesson_id, _user_id = prepared
    client.get(path)
    executed = []
    execute = raw_reads._execute
    monkeypatch.setattr(raw_reads, "_execute", lambda proxy, compiled, values: executed.append(compiled.sql)
                        or execute(proxy, compiled, values))
    response = client.get(path)
    assert response.status_code == 200 and NAME in text_of(response)
    assert len(executed) == 1 and "lessons" in executed[0] and "session_records" in executed[0], executed
    executed.clear()
    assert client.get(path.rsplit("/", 1)[0] + "/999999").status_code == 404  # no such lesson: the usual 404
    assert client.get("/library").status_code == 200 and len(executed) >= 2  # other pages read as before


def test_a_library_item_view_reads_its_person_and_its_item_in_one_statement(prepared, monkeypatch):
    from lms.core import raw_reads
    from lms.library.models import LibraryItem

    app, client, _path, _lesson_id, _user_id = prepared
    with app.app_context():
        db.session.add(LibraryItem(slug="so-tay-mot", kind="article", title="Sổ tay một", title_folded="so tay mot",
                                   status="published", licence="CC BY 4.0"))
        db.session.commit()
        db.session.remove()
    client.get("/library/so-tay-mot")
    executed = []
    execute = raw_reads._execute
    monkeypatch.setattr(raw_reads, "_execute", lambda proxy, compiled, values: executed.append(compiled.sql)
                        or execute(proxy, compiled, values))
    response = client.get("/library/so-tay-mot")
    assert "Sổ tay một" in text_of(response) and NAME in text_of(response)
    assert len(executed) == 1 and "library_items" in executed[0] and "session_records" in executed[0], executed
    assert client.get("/library/khong-co").status_code == 404
