"""The lesson page kept once rendered (lms/core/page_cache.py): each person still sees their own parts,
and the kept page is byte for byte what a full render gives."""

import re

import pytest
from flask import current_app

from lms.extensions import db
from lms.notifications.models import Notification
from tests.catalog.test_pages import enrol, lesson_url
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")

_TOKENS = re.compile(r'name="csrf_token" value="[^"]*"')


def _kept_pages() -> dict:
    return current_app.extensions.setdefault("lms_page_cache", {})


def _view(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_kept_page_is_the_full_render_with_this_persons_parts(client, create_course, create_user, login):
    course = create_course()
    url = lesson_url(course, course.active_lessons()[0])
    first = create_user("Nguyễn Văn An")
    login(first)
    enrol(client, course)
    _view(client, url)
    client.post("/logout")

    second = create_user("Trần <Thị> Bình")
    login(second)
    enrol(client, course)
    _view(client, url)  # shows the "enrolled" message: not kept
    _view(client, url)
    assert _kept_pages()
    kept = _view(client, url)
    _kept_pages().clear()
    rendered = _view(client, url)

    assert _TOKENS.sub("", kept) == _TOKENS.sub("", rendered)
    assert "Trần &lt;Thị&gt; Bình" in kept and "Nguyễn Văn An" not in kept
    assert f'name="user" value="{second.id}"' in kept
    token = re.search(r'name="csrf_token" value="([^"]+)"', kept).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_the_bell_counts_on_a_kept_page(client, create_course, create_user, login):
    course = create_course()
    url = lesson_url(course, course.active_lessons()[0])
    learner = create_user("Lê Thị Chuông")
    login(learner)
    enrol(client, course)
    _view(client, url)
    assert "bell-count" not in _view(client, url)
    for n in (1, 2):
        db.session.add(Notification(user_id=learner.id, kind="test", subject=f"Tin {n}", dedupe_key=f"bell-{n}"))
    db.session.commit()
    assert '<span class="bell-count" aria-label="2 unread">2</span>' in _view(client, url)
    assert '<span class="bell-count" aria-label="2 unread">2</span>' in _view(client, url)


def test_a_flashed_message_is_shown_and_not_kept(client, create_course, create_user, login):
    course = create_course()
    url = lesson_url(course, course.active_lessons()[0])
    login(create_user("Phạm Văn Nhắn"))
    _view(client, url)
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Một lời nhắn")]
    assert "Một lời nhắn" in text_of(client.get(url))
    assert "Một lời nhắn" not in text_of(client.get(url))


def test_an_anonymous_visitor_gets_the_kept_page_with_a_log_in_link(client, create_course):
    course = create_course()
    url = lesson_url(course, course.active_lessons()[0])
    _view(client, url)  # a first visit: the stylesheet is inlined
    first, second = _view(client, url), _view(client, url)
    assert _TOKENS.sub("", first) == _TOKENS.sub("", second)
    assert f'href="/login?next={url}"' in second.replace("%2F", "/")
