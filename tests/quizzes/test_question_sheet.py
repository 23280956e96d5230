"""The attempt page's question sheet (lms/quizzes/sheet.py): an unanswered question's fields are
rendered once and reused; what the learner sees is the same as a full render, edits show at once,
and an answered question is drawn with its answer."""

import re

import pytest

from lms.core.page_cache import app_cache
from lms.extensions import db
from tests.quizzes.test_answer_versions import answer_of, save
from tests.quizzes.test_attempts import by_type, start

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture()
def kept(app, monkeypatch):
    """Templates as in production (no reload): the sheet keeps its copies."""
    monkeypatch.setattr(app.jinja_env, "auto_reload", False)
    with app.app_context():
        app_cache("lms_question_sheet").clear()
    return app


def fieldsets(html: str) -> list[str]:
    return re.findall(r'<fieldset class="question.*?</fieldset>', html, flags=re.S)


def test_a_kept_sheet_is_what_a_full_render_gives(client, setup, kept, monkeypatch):
    quiz, _ = setup()
    attempt_id = start(client, quiz)
    first = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    with kept.app_context():
        assert len(app_cache("lms_question_sheet")) == len(fieldsets(first)) > 3
    again = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    monkeypatch.setattr(kept.jinja_env, "auto_reload", True)  # the sheet renders every question again
    full = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert fieldsets(first) == fieldsets(again) == fieldsets(full)


def test_an_answered_question_shows_its_answer_and_an_edit_shows_at_once(client, setup, kept, db_session):
    quiz, _ = setup()
    attempt_id = start(client, quiz)
    questions = by_type(quiz)
    single, short = questions["single"], questions["short"]
    client.get(f"/attempts/{attempt_id}")  # every question kept unanswered
    option = single.options[1]["id"]
    assert answer_of(save(client, attempt_id, single.id, option, version=1000), single.id)["state"] == "saved"
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    mine = next(f for f in fieldsets(html) if f'id="question-{single.id}"' in f)
    assert re.search(rf'value="{option}"\s+checked', mine) and 'data-version="1000"' in mine
    short.text_html = "<p>Edited question text</p>"
    db_session.commit()
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    edited = next(f for f in fieldsets(html) if f'id="question-{short.id}"' in f)
    assert "Edited question text" in edited
    db.session.remove()
