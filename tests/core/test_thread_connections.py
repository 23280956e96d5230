"""This thread's own connection of the engine (lms.core.thread_connections), shared by the light reads and the
autosave below Flask: a transaction on it commits or rolls back and leaves it in autocommit, a failure drops it,
a forked child opens its own, and it takes nothing from the pool. (Threads ending: tests/core/test_raw_reads.py.)"""

import os

import pytest
from sqlalchemy import text

from lms.core import thread_connections
from lms.extensions import db
from tests.core.test_raw_reads import NAME, commit_elsewhere, database_url, prepared  # noqa: F401 - fixtures


def name_of(url: str, user_id: int) -> str:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT full_name FROM users WHERE id = :id"), {"id": user_id}).scalar()
    finally:
        engine.dispose()


def rename(connection, user_id: int, name: str) -> None:
    connection.execute(text("UPDATE users SET full_name = :name WHERE id = :id"), {"name": name, "id": user_id})


def autocommit_of(proxy) -> bool:
    """psycopg's autocommit; for sqlite3, isolation_level None (the connect hook) and no transaction open."""
    connection = proxy.dbapi_connection
    if hasattr(connection, "pgconn"):
        return connection.autocommit
    return connection.isolation_level is None and not connection.in_transaction


@pytest.fixture()
def engine(prepared):  # noqa: F811 - the fixture imported above
    app, *_rest, user_id = prepared
    with app.app_context():
        yield db.engine
    commit_elsewhere(_url(app), "UPDATE users SET full_name = :name WHERE id = :id", name=NAME, id=user_id)


def _url(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"]


def test_a_transaction_commits_on_the_threads_connection_and_leaves_it_in_autocommit(prepared, engine):  # noqa: F811
    app, *_rest, user_id = prepared
    proxy = thread_connections.connection(engine)
    with thread_connections.transaction(engine) as (connection, _transaction):
        assert connection.connection is proxy  # the same connection, no other taken
        rename(connection, user_id, "Tên trong giao dịch")
        if engine.dialect.name == "postgresql":
            assert name_of(_url(app), user_id) == NAME  # not committed yet: another connection does not see it
    assert name_of(_url(app), user_id) == "Tên trong giao dịch"
    assert thread_connections.connection(engine) is proxy and autocommit_of(proxy)
    assert engine.pool.checkedout() == 0


def test_a_rolled_back_transaction_keeps_the_connection(prepared, engine):  # noqa: F811
    app, *_rest, user_id = prepared
    proxy = thread_connections.connection(engine)
    with thread_connections.transaction(engine) as (connection, transaction):
        rename(connection, user_id, "Tên bỏ đi")
        transaction.rollback()
    assert name_of(_url(app), user_id) == NAME
    assert thread_connections.connection(engine) is proxy and autocommit_of(proxy)


def test_a_failure_rolls_back_and_drops_the_connection(prepared, engine):  # noqa: F811
    app, *_rest, user_id = prepared
    proxy = thread_connections.connection(engine)
    with pytest.raises(RuntimeError), thread_connections.transaction(engine) as (connection, _transaction):
        rename(connection, user_id, "Tên lỗi")
        raise RuntimeError("a fault in the middle")
    assert name_of(_url(app), user_id) == NAME
    again = thread_connections.connection(engine)
    assert again is not proxy and autocommit_of(again)
    assert proxy not in thread_connections.held()


def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_open(prepared, engine):  # noqa: F811
    proxy = thread_connections.connection(engine)
    parents = proxy.dbapi_connection
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: exits at once, whatever happens
        code = 1
        try:
            mine = thread_connections.connection(engine)
            cursor = mine.dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            code = 0 if mine is not proxy and mine.dbapi_connection is not parents else 2
        finally:
            os.write(write, bytes([code]))
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.read(read, 1) == b"\x00" and status == 0
    os.close(read)
    cursor = thread_connections.connection(engine).dbapi_connection.cursor()
    cursor.execute("SELECT 1")  # the parent's session was not ended by the child
    assert cursor.fetchall()[0][0] == 1 and thread_connections.connection(engine) is proxy
