"""A light page's own connection (lms.core.raw_reads) across a PostgreSQL restart: the first read after it
finds the connection dropped, takes a new one and answers; while the database is down the page is a 503
(the database is away), never a 500; and after it is back the next view answers again."""

from tests.conftest import text_of
from tests.core.test_raw_reads import NAME, dispose, prepare
from tests.services import PrivatePostgres


def test_a_database_restart_between_two_light_page_views_is_answered_after_recovery():
    with PrivatePostgres() as cluster:
        app, client, path, _lesson_id, _user_id = prepare(cluster.create_database("lms"))
        try:
            client.get(path)  # the first visit writes; the next ones only read, on the raw connection
            assert NAME in text_of(client.get(path))

            cluster.stop("fast")  # every connection of the old server is gone, the raw one too
            cluster.start()
            response = client.get(path)
            assert response.status_code == 200 and NAME in text_of(response)
            assert "/library" in response.get_data(as_text=True)

            cluster.stop("immediate")  # a crash, and no server for a moment
            down = client.get(path)
            assert down.status_code == 503 and NAME not in text_of(down)
            cluster.start()
            for _ in range(3):  # no lingering broken connection: every later view answers
                again = client.get(path)
                assert again.status_code == 200 and NAME in text_of(again)
        finally:
            dispose(app)


def test_an_autosave_below_flask_across_a_database_restart_goes_to_flask_once_then_below_flask_again():
    """The autosave below Flask runs on the same thread's connection (lms.core.thread_connections): after a restart
    the save that finds it dropped is answered by Flask (its own pooled connection), the connection is dropped, and
    the next save is answered below Flask again on a new one."""
    from tests.quizzes.test_autosave_own_connection import _quiz, save

    with PrivatePostgres() as cluster:
        app, client, *_rest = prepare(cluster.create_database("lms"))
        try:
            layer = app.extensions["lms_fast_save"]
            quiz_id, question_id, option = _quiz(app)
            attempt_id = int(client.post(f"/quizzes/{quiz_id}/start").headers["Location"].rsplit("/", 1)[1])
            assert save(client, attempt_id, question_id, option, 1000).status_code == 200
            answered = layer.answered
            assert answered >= 1

            cluster.stop("fast")
            cluster.start()
            statuses = [save(client, attempt_id, question_id, option, 1001 + n).status_code for n in range(3)]
            assert statuses == [200, 200, 200]
            assert layer.answered == answered + 2  # the first went to Flask, the next two were answered below it
        finally:
            dispose(app)
