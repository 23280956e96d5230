"""Kept pages answered below Flask (lms/core/fast_pages.py): the lesson page read again is answered by the
layer with exactly Flask's answer — status, headers and bytes — and every unusual request is Flask's.

Each comparison sends one request twice: through the app as served (the layer answers) and with the layer's
routes taken away (Flask answers). Both see the same database and the same kept page."""

import gzip

import pytest
from sqlalchemy import update

from lms.accounts.models import SessionRecord, User
from lms.catalog.models import Lesson
from lms.core.db import utcnow
from tests.below_flask import REQUEST_ID, assert_same, both, headers
from tests.catalog.test_pages import enrol, lesson_url
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture()
def reader(returning_browser, create_course, create_user, login, db_session):
    """(course, first lesson's URL, learner): enrolled, the lesson opened once (its visit written) and
    read once more (the page kept by render_page)."""
    learner = create_user("Lê Thị Đọc Nhanh")
    login(learner)
    course = create_course()
    url = lesson_url(course, course.active_lessons()[0])
    enrol(returning_browser, course)
    returning_browser.get(url)  # the visit (a write) and the enrolment's message: Flask
    returning_browser.get(url)  # kept
    return course, url, learner


def test_a_lesson_read_again_is_answered_below_flask_with_flasks_answer(
        reader, returning_browser, fast_pages_answered, monkeypatch):
    course, url, learner = reader
    served, flasks = both(returning_browser, monkeypatch, url)
    assert fast_pages_answered() == 1  # the first answered below Flask, the second by Flask
    assert_same(served, flasks)
    page = text_of(served)
    assert "Lê Thị Đọc Nhanh" in page and course.title in page
    assert served.headers["X-Request-ID"] == REQUEST_ID and served.headers["X-Lesson-Version"]
    assert "Cookie" in served.headers["Vary"] and "Content-Security-Policy" in served.headers


@pytest.mark.parametrize("encoding", ["gzip", "br", "gzip, deflate, br", "identity"])
def test_compressed_as_flask_compresses(reader, returning_browser, fast_pages_answered, monkeypatch, encoding):
    _, url, _ = reader
    served, flasks = both(returning_browser, monkeypatch, url, **{"Accept-Encoding": encoding})
    assert fast_pages_answered() == 1
    assert headers(served) == headers(flasks)
    assert served.headers.get("Content-Encoding") == flasks.headers.get("Content-Encoding")
    if encoding == "gzip":  # gzip stamps the time: the same page inside
        assert gzip.decompress(served.get_data()) == gzip.decompress(flasks.get_data())
    else:
        assert served.get_data() == flasks.get_data()


def test_the_persons_text_size_and_language_are_kept_apart(
        reader, returning_browser, fast_pages_answered, monkeypatch, db_session):
    _, url, learner = reader
    db_session.execute(update(User).where(User.id == learner.id).values(text_size="larger"))
    db_session.commit()
    returning_browser.get(url)  # Flask keeps the larger-text page
    served, flasks = both(returning_browser, monkeypatch, url)
    assert fast_pages_answered() == 1 and 'larger' in served.get_data(as_text=True)
    assert_same(served, flasks)
    with returning_browser.session_transaction() as session:
        session["lang"] = "vi"
    returning_browser.get(url)
    served, flasks = both(returning_browser, monkeypatch, url)
    assert fast_pages_answered() == 2
    assert_same(served, flasks)
    assert 'lang="vi"' in served.get_data(as_text=True)


def test_a_visitor_reads_a_kept_lesson_below_flask(returning_browser, create_course, fast_pages_answered, monkeypatch):
    course = create_course()
    url = lesson_url(course, course.active_lessons()[0])
    returning_browser.get(url)
    returning_browser.get(url)
    served, flasks = both(returning_browser, monkeypatch, url, **{"Cookie": "text_size=large"})
    assert fast_pages_answered() >= 1
    assert_same(served, flasks)
    assert "Log in" in text_of(served)


def _unusual(case, returning_browser, db_session, learner, url, monkeypatch, app):
    """Make the reader's next view of `url` unusual in one way; returns the URL to ask for."""
    if case == "query string":
        return url + "?from=search"
    if case == "first visit":  # a returning_browser without the current stylesheet gets it inline (lms.core.inline_style)
        from lms.core.inline_style import build

        style = build("body{margin:0}", "/static/css/app.0123abcd.css", "0123abcd")
        monkeypatch.setitem(app.extensions, "lms_inline_style", lambda _root: style)
    elif case == "flashed message":
        with returning_browser.session_transaction() as session:
            session["_flashes"] = [("info", "Xin chào")]
    elif case == "assisted session":
        with returning_browser.session_transaction() as session:
            session["assist"] = 1
    elif case == "last seen due":
        db_session.execute(update(SessionRecord).where(SessionRecord.user_id == learner.id)
                           .values(last_seen_at=utcnow().replace(year=2001)))
    elif case == "another browser":
        return url, {"User-Agent": "another browser/1"}
    elif case == "page edited":
        db_session.execute(update(Lesson).where(Lesson.id == int(url.rsplit("/", 1)[1]))
                           .values(body_html="<p>Nội dung mới về lừa đảo qua điện thoại</p>"))
    db_session.commit()
    return url


@pytest.mark.parametrize("case", ["query string", "first visit", "flashed message", "assisted session",
                                  "last seen due", "another browser", "page edited"])
def test_anything_unusual_is_answered_by_flask(
        reader, returning_browser, fast_pages_answered, db_session, case, monkeypatch, app):
    _, url, learner = reader
    target = _unusual(case, returning_browser, db_session, learner, url, monkeypatch, app)
    target, headers = target if isinstance(target, tuple) else (target, {})
    response = returning_browser.get(target, headers=headers)
    assert response.status_code == 200 and fast_pages_answered() == 0
    page = text_of(response)
    assert "Lê Thị Đọc Nhanh" in page
    if case == "page edited":
        assert "Nội dung mới về lừa đảo qua điện thoại" in page
        assert text_of(returning_browser.get(url)).count("Nội dung mới") == 1
        assert fast_pages_answered() == 1  # kept again, answered below Flask
    if case == "last seen due":
        db_session.expire_all()
        record = db_session.query(SessionRecord).filter_by(user_id=learner.id).one()
        assert record.last_seen_at.year > 2001  # Flask wrote it


@pytest.mark.parametrize("case", ["ended session record", "new session version", "inactive account"])
def test_a_session_that_no_longer_counts_gets_flasks_answer(reader, returning_browser, fast_pages_answered, db_session, case):
    _, url, learner = reader
    values = {"ended session record": (SessionRecord, {"ended_at": utcnow()}),
              "new session version": (User, {"session_version": User.session_version + 1}),
              "inactive account": (User, {"is_active": False})}[case]
    model, change = values
    key = SessionRecord.user_id if model is SessionRecord else User.id
    db_session.execute(update(model).where(key == learner.id).values(**change))
    db_session.commit()
    page = text_of(returning_browser.get(url))
    assert fast_pages_answered() == 0
    assert "Lê Thị Đọc Nhanh" not in page and "Log in" in page


def test_staff_and_the_last_lesson_are_drawn_by_flask(returning_browser, create_course, create_user, login, fast_pages_answered):
    course = create_course()
    first, last = course.active_lessons()[0], course.active_lessons()[-1]
    login(create_user("Trần Giảng Viên", roles=("trainer",)))
    for _ in range(3):
        assert "Trần Giảng Viên" in text_of(returning_browser.get(lesson_url(course, first)))
    assert fast_pages_answered() == 0
    returning_browser.post("/logout")
    login(create_user("Học Viên Cuối"))
    enrol(returning_browser, course)
    for _ in range(3):
        assert "Học Viên Cuối" in text_of(returning_browser.get(lesson_url(course, last)))
    assert fast_pages_answered() == 0


def test_head_and_other_methods_are_flasks(reader, returning_browser, fast_pages_answered):
    _, url, _ = reader
    assert returning_browser.head(url).status_code == 200
    assert returning_browser.post(url).status_code == 405
    assert fast_pages_answered() == 0
