"""The library's listing and item pages answered below Flask (lms/library/fast_pages.py): a page read again is
answered with Flask's exact answer, for a visitor and a reader without a role, and everything unusual — a
search, a librarian, a draft, an item a lesson uses, a page past the last — is Flask's."""

import pytest
from sqlalchemy import update

from lms.extensions import db
from lms.library.models import LibraryItem
from tests.below_flask import assert_same, both
from tests.catalog.test_pages import statements_of
from tests.conftest import text_of
from tests.library.test_library_pages import _item

PAGES = ("/library", "/library?collection=cam-nang-dich-vu-cong", "/library?audience=citizen&page=1",
         "/library/so-tay")


@pytest.fixture()
def shelf(db_session):
    _item(db_session)
    _item(db_session, slug="canh-bao", title="Cảnh báo lừa đảo", collections=("Cảnh báo lừa đảo mới",))
    db_session.commit()


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "reader"])
@pytest.mark.parametrize("path", PAGES)
def test_a_library_page_read_again_is_answered_below_flask_with_flasks_answer(
        shelf, returning_browser, fast_pages_answered, monkeypatch, create_user, login, signed_in, path):
    if signed_in:
        login(create_user("Đặng Thu Viện"))
    returning_browser.get(path)  # the log-in's message shown: drawn by Flask
    returning_browser.get(path)  # drawn by Flask and kept, with a CSRF token signed for this session
    served, flasks = both(returning_browser, monkeypatch, path)
    assert fast_pages_answered() == 1
    assert_same(served, flasks)
    page = text_of(served)
    assert "Sổ tay dịch vụ công" in page
    assert ("Đặng Thu Viện" in page) is signed_in


def test_rows_read_in_front_of_flask_are_not_read_again_by_flask(
        shelf, returning_browser, fast_pages_answered, create_user, login):
    """A page not kept yet is read in front of Flask, then drawn by Flask with the rows already read."""
    login(create_user())
    returning_browser.get("/library")  # the log-in's message shown: drawn by Flask
    for path in ("/library?kind=article", "/library/canh-bao"):
        statements, response = statements_of(returning_browser, path)  # not kept yet: handed to Flask
        assert len(statements) == len(set(statements)), statements
        assert fast_pages_answered() == 0 and "Cảnh báo lừa đảo" in text_of(response)
    for path in ("/library?kind=article", "/library/canh-bao"):
        statements, response = statements_of(returning_browser, path)  # kept: answered in front of Flask
        # A listing: the person and the listing, joined in one statement on PostgreSQL (two cost less on SQLite).
        listing = 1 if db.engine.dialect.name == "postgresql" else 2
        assert len(statements) == (listing if path.startswith("/library?") else 1), statements
        assert "Cảnh báo lừa đảo" in text_of(response)
    assert fast_pages_answered() == 2


@pytest.mark.parametrize("case", ["search", "librarian", "draft", "used by a lesson", "past the last page"])
def test_unusual_library_pages_are_flasks(shelf, returning_browser, fast_pages_answered, db_session, create_user, login,
                                          create_course, commit_and_index, case):
    path = "/library/so-tay"
    if case == "search":
        path = "/library?q=so+tay"
    elif case == "librarian":
        login(create_user(roles=("librarian",)))
    elif case == "draft":
        login(create_user())
        db_session.execute(update(LibraryItem).where(LibraryItem.slug == "so-tay").values(status="draft"))
    elif case == "used by a lesson":  # the indexer's pass over the course records it
        lesson = create_course().active_lessons()[0]
        lesson.body_md = "Đọc thêm [[library:so-tay]]."
        commit_and_index()
    elif case == "past the last page":
        path = "/library?page=9"
    db_session.commit()
    answers = [returning_browser.get(path) for _ in range(3)]
    assert fast_pages_answered() == 0
    if case == "draft":
        assert {response.status_code for response in answers} == {403}
    else:
        assert {response.status_code for response in answers} == {200}
        assert ("Sổ tay dịch vụ công" in text_of(answers[-1])) is (case != "past the last page")
