"""The library pages kept once rendered (lms.core.page_cache.render_page, as the lesson page): each person
sees their own name, CSRF token and bell count, a kept page is byte for byte a full render, and a
librarian's tools are never kept."""

import re

import pytest
from flask import current_app

from lms.extensions import db
from lms.notifications.models import Notification
from tests.catalog.conftest import english  # noqa: F401 - the fixture, used by name below
from tests.library.test_library_pages import PAGES, _item

pytestmark = pytest.mark.usefixtures("english")

_TOKENS = re.compile(r'name="csrf_token" value="[^"]*"')


def _view(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _login(client, login, user) -> None:
    login(user)
    client.get("/")  # shows (and so empties) the welcome message: a page with a message is never kept


def _kept() -> int:
    cache = current_app.extensions.get("lms_page_cache")
    return len(cache) if cache is not None else 0


def test_kept_library_pages_are_the_full_render_with_this_persons_parts(client, db_session, create_user, login):
    _item(db_session)
    first = create_user("Nguyễn Văn An")
    db.session.add(Notification(user_id=first.id, kind="test", subject="Tin", dedupe_key="lib-first"))
    db.session.commit()  # a bell on both pages: the same kept page (with or without a bell are two)
    _login(client, login, first)
    for path in PAGES:
        _view(client, path)
    client.post("/logout")
    second = create_user("Trần <Thị> Bình")
    _login(client, login, second)
    for n in (1, 2, 3):
        db.session.add(Notification(user_id=second.id, kind="test", subject=f"Tin {n}", dedupe_key=f"lib-{n}"))
    db.session.commit()
    before = _kept()
    kept = {path: _view(client, path) for path in PAGES}
    assert _kept() == before  # the first person's pages, filled with the second's parts
    current_app.extensions["lms_page_cache"].clear()
    current_app.extensions["lms_library_parts"].clear()
    for path, page in kept.items():
        rendered = _view(client, path)
        assert _TOKENS.sub("", page) == _TOKENS.sub("", rendered), path
        assert "Trần &lt;Thị&gt; Bình" in page and "Nguyễn Văn An" not in page
        assert '<span class="bell-count" aria-label="3 unread">3</span>' in page
        assert "lmsslot" not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', kept["/library"]).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_a_visitor_sees_no_ones_name_on_a_kept_page(client, db_session, create_user, login):
    _item(db_session)
    login(create_user("Lê Thị Chuông"))
    for path in PAGES:
        _view(client, path)
    client.post("/logout")
    for path in PAGES:
        assert "Lê Thị Chuông" not in _view(client, path)
        assert "bell-count" not in _view(client, path)


def test_a_librarians_tools_are_drawn_per_request(client, db_session, create_user, login):
    _item(db_session)
    login(create_user(roles=("librarian",)))
    before = _kept()
    page = _view(client, "/library/so-tay")
    assert "Edit or replace the file" in page and _kept() == before
    assert "Edit or replace the file" in _view(client, "/library/so-tay")


def test_a_renamed_collection_shows_on_the_kept_listing_and_item_pages(client, db_session, create_user, login):
    """The listing's filter and the item page show the collections' titles: a rename is a new page key, although no
    item changed (the listing was keyed on the number of collections only)."""
    from lms.library.models import LibraryCollection

    _item(db_session)
    db.session.commit()
    _login(client, login, create_user("Lê Văn Đọc"))
    for path in PAGES:
        assert "Cẩm nang dịch vụ công" in _view(client, path)
        assert "Cẩm nang dịch vụ công" in _view(client, path)  # kept now
    kept = _kept()
    db.session.scalar(db.select(LibraryCollection)).title = "Cẩm nang thủ tục trực tuyến"
    db.session.commit()
    for path in PAGES:
        page = _view(client, path)
        assert "Cẩm nang thủ tục trực tuyến" in page and "Cẩm nang dịch vụ công" not in page, path
    assert _kept() > kept  # new pages kept under the new keys
