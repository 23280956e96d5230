"""The light path of the attempt page (lms/quizzes/quick_page.py, issue 17: 5,000 exam takers open it within a
minute): the learner's own running attempt at its current page is drawn from one narrow statement — no ORM
attempt or quiz — and is the same page the full view draws; everything else is the full view's."""

import datetime as dt
import re

import pytest
from sqlalchemy import update

from lms.core.db import utcnow
from lms.notifications.models import Notification
from lms.quizzes import quick_page
from lms.quizzes.models import Attempt
from tests.conftest import text_of
from tests.quizzes.test_attempts import autosave, by_type, start

pytestmark = pytest.mark.usefixtures("english")

CONTROL = ("begin", "savepoint", "release", "commit", "rollback")


def _taken(monkeypatch) -> list:
    """What each attempt page's light path returned (None: it left the page to the full view)."""
    taken, real = [], quick_page.page
    monkeypatch.setattr(quick_page, "page", lambda *args: taken.append(real(*args)) or taken[-1])
    return taken


def _without_tokens(body: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value=""', body)


def test_a_running_attempt_is_drawn_from_one_attempt_statement(client, setup, statements, monkeypatch):
    quiz, _ = setup("time_limit: 20")
    attempt_id = start(client, quiz)
    client.get(f"/attempts/{attempt_id}")  # a first visit has the stylesheet inline (lms/core/inline_style.py)
    taken = _taken(monkeypatch)
    statements.clear()
    light = client.get(f"/attempts/{attempt_id}")
    work = [s for s in statements if not s.startswith(CONTROL)]
    assert light.status_code == 200 and taken and taken[0] is not None
    # The person, the attempt with its quiz and the bell's count (one statement, not the ORM's attempt then quiz,
    # then the bell), the shown questions, the saved answers.
    assert len(work) == 4, "\n".join(w[:160] for w in work)
    assert "from attempts join quizzes on quizzes.id = attempts.quiz_id" in work[1]
    body = light.get_data(as_text=True)
    assert by_type(quiz)["single"].text_html in body and "Time left:" in body
    # The full view draws the same page.
    monkeypatch.setattr(quick_page, "page", lambda *args: None)
    full = client.get(f"/attempts/{attempt_id}")
    assert _without_tokens(full.get_data(as_text=True)) == _without_tokens(body)


def test_saved_answers_show_on_the_light_page(client, setup, monkeypatch):
    quiz, _ = setup()
    attempt_id = start(client, quiz)
    single = by_type(quiz)["single"]
    assert autosave(client, attempt_id, {"_shown": [single.id], f"q{single.id}": "b"}).status_code == 200
    taken = _taken(monkeypatch)
    body = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert taken[0] is not None
    checked = re.search(rf'<input[^>]*name="q{single.id}"[^>]*value="b"[^>]*>', body).group(0)
    assert "checked" in checked


def test_another_page_someone_else_and_the_finished_are_the_full_views(client, setup, db_session, monkeypatch,
                                                                        create_user, login):
    quiz, _ = setup("layout: per-page")
    attempt_id = start(client, quiz)
    taken = _taken(monkeypatch)
    assert "page 1 of 9" in text_of(client.get(f"/attempts/{attempt_id}"))
    assert "page 3 of 9" in text_of(client.get(f"/attempts/{attempt_id}?page=2"))  # the full view moves there
    assert taken[0] is not None and taken[1] is None
    assert db_session.get(Attempt, attempt_id).page == 2
    assert "page 3 of 9" in text_of(client.get(f"/attempts/{attempt_id}?page=2"))  # the page it is on: light again
    assert taken[2] is not None
    assert client.post(f"/attempts/{attempt_id}/finish").status_code == 303
    review = client.get(f"/attempts/{attempt_id}")
    assert review.status_code == 200 and taken[3] is None and 'class="attempt-form"' not in review.get_data(as_text=True)
    client.post("/logout")
    other = create_user("Lê Văn Khác")
    db_session.commit()
    login(other)
    assert client.get(f"/attempts/{attempt_id}").status_code == 403 and taken[4] is None  # the review is not theirs


def test_an_overdue_attempt_is_closed_by_the_full_view(client, setup, db_session, monkeypatch):
    quiz, _ = setup("time_limit: 20")
    attempt_id = start(client, quiz)
    db_session.execute(update(Attempt).where(Attempt.id == attempt_id).values(deadline=utcnow() - dt.timedelta(hours=1)))
    db_session.commit()
    taken = _taken(monkeypatch)
    response = client.get(f"/attempts/{attempt_id}", follow_redirects=True)
    assert taken[0] is None and "Time is up" in text_of(response)
    db_session.expire_all()
    assert db_session.get(Attempt, attempt_id).submitted_at is not None


def test_someone_elses_running_attempt_is_refused(client, setup, db_session, monkeypatch, create_user, login):
    quiz, _ = setup()
    attempt_id = start(client, quiz)
    client.post("/logout")
    other = create_user("Lê Văn Khác")
    db_session.commit()
    login(other)
    taken = _taken(monkeypatch)
    response = client.get(f"/attempts/{attempt_id}")
    assert response.status_code == 403 and taken == [None]  # the full view refuses it, as before
    assert by_type(quiz)["single"].text_html not in response.get_data(as_text=True)


def test_the_light_page_shows_the_bells_count_read_with_the_attempt(client, setup, db_session, monkeypatch):
    quiz, learner = setup()
    attempt_id = start(client, quiz)
    for n in range(3):
        db_session.add(Notification(user_id=learner.id, kind="test", subject=f"Tin {n}", dedupe_key=f"quiz-bell-{n}"))
    db_session.commit()
    client.get(f"/attempts/{attempt_id}")  # the first visit: the stylesheet inline and the welcome message
    taken = _taken(monkeypatch)
    body = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert taken and taken[0] is not None
    assert re.search(r'<span class="bell-count"[^>]*>3</span>', body)
    monkeypatch.setattr(quick_page, "page", lambda *args: None)
    full = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert _without_tokens(full) == _without_tokens(body)
