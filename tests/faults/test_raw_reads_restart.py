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
