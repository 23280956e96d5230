"""The autosave below Flask (lms/quizzes/fast_save.py) on a committed database of its own: the save is stored on
the thread's own connection (lms.core.thread_connections, the one the light reads use), nothing is taken from
the pool, and after that connection broke the save goes to Flask once and the next one is answered below Flask
again on a new connection. (The suite's app saves in its rolled-back test transaction instead.)"""

from sqlalchemy import event, select, text

from lms.core import thread_connections
from lms.extensions import db
from tests.core.test_raw_reads import database_url, prepared  # noqa: F401 - fixtures


def _quiz(app):
    from lms.quizzes.models import Question, Quiz

    with app.app_context():
        quiz_id = db.session.scalar(select(Quiz.id))
        question = db.session.scalars(select(Question).where(Question.quiz_id == quiz_id,
                                                             Question.type == "single")).first()
        found = quiz_id, question.id, question.options[0]["id"]
        db.session.remove()
    return found


def _saved(url, attempt_id, question_id):
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version FROM attempt_answers WHERE attempt_id = :a "
                                           "AND question_id = :q"), {"a": attempt_id, "q": question_id}).scalar()
    finally:
        engine.dispose()


def save(client, attempt_id, question_id, option, version):
    return client.post(f"/attempts/{attempt_id}/save", headers={"Accept": "application/json"},
                       data={"shown": str(question_id), f"q{question_id}": option, f"v{question_id}": str(version)})


def test_a_save_below_flask_uses_the_threads_own_connection_and_recovers_after_it_broke(prepared, database_url):  # noqa: F811
    app, client, *_rest = prepared
    layer = app.extensions["lms_fast_save"]
    quiz_id, question_id, option = _quiz(app)
    started = client.post(f"/quizzes/{quiz_id}/start")
    assert started.status_code == 303
    attempt_id = int(started.headers["Location"].rsplit("/", 1)[1])

    before, checkouts = layer.answered, []
    with app.app_context():
        engine = db.engine

    def counted(*_args):
        checkouts.append(1)

    event.listen(engine.pool, "checkout", counted)
    try:
        saves = [save(client, attempt_id, question_id, option, 1000 + n) for n in range(2)]
    finally:
        event.remove(engine.pool, "checkout", counted)
    assert [r.status_code for r in saves] == [200, 200] and layer.answered == before + 2
    assert checkouts == []  # nothing from the pool
    assert _saved(database_url, attempt_id, question_id) == 1001  # committed
    with app.app_context():
        proxy = thread_connections.connection(engine)
        assert proxy in thread_connections.held()

        proxy.dbapi_connection.close()  # the database dropped it under us
        broken = save(client, attempt_id, question_id, option, 1002)
        assert broken.status_code == 200 and layer.answered == before + 2  # Flask answered it
        assert proxy not in thread_connections.held()  # dropped
        again = save(client, attempt_id, question_id, option, 1003)
        assert again.status_code == 200 and layer.answered == before + 3  # below Flask, on a new connection
        assert thread_connections.connection(engine) is not proxy
    assert _saved(database_url, attempt_id, question_id) == 1003


def test_a_save_not_stored_leaves_no_transaction_open_on_the_threads_connection(prepared, database_url):  # noqa: F811
    """A replayed older change stores nothing; what the server holds is read on the cursor too. Through
    Connection.execute it began a transaction on the autocommit connection that nothing ended: on SQLite the
    database's write lock, held until the process ended (every other write: "database is locked")."""
    from sqlalchemy import create_engine

    app, client, *_rest = prepared
    quiz_id, question_id, option = _quiz(app)
    started = client.post(f"/quizzes/{quiz_id}/start")
    attempt_id = int(started.headers["Location"].rsplit("/", 1)[1])
    assert save(client, attempt_id, question_id, option, 2000).status_code == 200
    older = save(client, attempt_id, question_id, option, 1999)
    assert older.status_code == 200
    assert older.get_json()["answers"][str(question_id)] == {"state": "kept", "version": 2000}
    with app.app_context():
        dbapi_connection = thread_connections.connection(db.engine).dbapi_connection
        if database_url.startswith("sqlite"):
            assert not dbapi_connection.in_transaction
        else:
            from psycopg.pq import TransactionStatus

            assert dbapi_connection.info.transaction_status == TransactionStatus.IDLE
    # Another connection writes at once, without waiting for a lock.
    other = create_engine(database_url, connect_args={"timeout": 0} if database_url.startswith("sqlite") else {})
    try:
        with other.begin() as connection:
            changed = connection.execute(text("UPDATE attempt_answers SET saved_at = saved_at WHERE attempt_id = :a"),
                                         {"a": attempt_id}).rowcount
    finally:
        other.dispose()
    assert changed == 1
    assert save(client, attempt_id, question_id, option, 2001).get_json()["answers"][str(question_id)] == {
        "state": "saved", "version": 2001}
