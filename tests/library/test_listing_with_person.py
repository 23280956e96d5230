"""The listing's rows read in the signed-in person's statement (lms.accounts.viewer.PAGE_ROWS): the same items
in the same order as a visitor sees, each once whatever the person's grants, on every page and filter."""

import datetime
import re

from lms.library import operations, queries
from lms.library.models import LibraryItem
from tests.catalog.test_pages import count_queries

SLUG = re.compile(r'<h2[^>]*>\s*<a href="/library/([a-z0-9-]+)"')


def _items(db_session, count=30):
    """`count` published items; several share a date and some have none, so the order leans on the id too."""
    for number in range(count):
        item = LibraryItem(slug=f"muc-{number:02d}", kind="article", title="")
        published = None if number % 7 == 0 else datetime.date(2025, 1 + number % 3, 1)
        operations.apply_fields(item, {"title": f"Mục số {number:02d}", "licence": "CC BY 4.0", "status": "published",
                                       "summary": "Tóm tắt", "body_md": "Nội dung.", "published_on": published,
                                       "audience": ["official"] if number % 2 else []})
        operations.set_collections(item, ["Cẩm nang dịch vụ công" if number % 3 else "Văn bản pháp luật"])
        db_session.add(item)
    db_session.flush()


def _slugs(client, path):
    html = client.get(path).get_data(as_text=True)
    return SLUG.findall(html)


def _expected(db_session, **filters):
    """Every page of the listing, in the visitor's statement (no person)."""
    pages, page = [], 1
    while rows := queries.browse_page(page=page, **filters):
        pages.append([db_session.get(LibraryItem, row.id).slug for row in rows])
        page += 1
    return pages


PATHS = [("/library?page={page}", {}), ("/library?collection=cam-nang-dich-vu-cong&page={page}",
                                        {"collection": "cam-nang-dich-vu-cong"}),
         ("/library?audience=citizen&page={page}", {"audience": "citizen"})]


def test_a_person_with_several_grants_sees_the_visitors_listing(client, db_session, create_user, login):
    _items(db_session)
    assert SLUG.findall(client.get("/library").get_data(as_text=True)), "the pattern finds the cards"
    login(create_user(roles=("librarian", "trainer", "digital_team")))
    for path, filters in PATHS:
        expected = _expected(db_session, **filters)
        assert len(expected) >= 1 and sum(map(len, expected)) > 5
        for page, slugs in enumerate(expected, start=1):
            client.get(path.format(page=page))  # keeps the shared part
            count, response = count_queries(client, path.format(page=page))
            assert count == 1, path
            assert SLUG.findall(response.get_data(as_text=True)) == slugs, path.format(page=page)


def test_the_order_is_newest_first_then_by_id(client, db_session, create_user, login):
    _items(db_session)
    login(create_user(roles=("librarian", "trainer")))
    items = db_session.query(LibraryItem).all()
    newest = sorted(items, key=lambda item: (item.published_on is not None, item.published_on or datetime.date.min,
                                             item.id), reverse=True)
    shown = _slugs(client, "/library") + _slugs(client, "/library?page=2")
    assert shown == [item.slug for item in newest]


def test_a_page_past_the_last_and_a_search_signed_in(client, db_session, create_user, login):
    _items(db_session, count=3)
    login(create_user())
    assert _slugs(client, "/library?page=4") == []
    assert client.get("/library?page=4").status_code == 200
    assert client.get("/library?q=muc").status_code == 200
    assert _slugs(client, "/library?kind=article") == ["muc-02", "muc-01", "muc-00"]
