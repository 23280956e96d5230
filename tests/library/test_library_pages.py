"""The library pages' cost and their cached parts (lms/library/pages.py): few statements a view, and a
change — through the browser, or straight in the database as another app host would make it — shows on
the next view; downloads count without making a new version."""

import re

import pytest
from sqlalchemy import select, update

from lms.library import operations
from lms.library.models import LibraryItem
from tests.catalog.test_pages import count_queries
from tests.conftest import text_of


def _item(db_session, slug="so-tay", title="Sổ tay dịch vụ công", collections=("Cẩm nang dịch vụ công",), **fields):
    item = LibraryItem(slug=slug, kind="article", title="")
    operations.apply_fields(item, {"title": title, "licence": "CC BY 4.0", "status": "published",
                                   "summary": "Tóm tắt", "body_md": "Nội dung hướng dẫn.", **fields})
    operations.set_collections(item, list(collections))
    db_session.add(item)
    db_session.flush()
    return item


PAGES = ("/library", "/library?collection=cam-nang-dich-vu-cong", "/library/so-tay")


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "learner"])
def test_each_library_page_costs_one_statement_of_its_own(client, db_session, create_user, login, signed_in):
    _item(db_session)
    _item(db_session, slug="canh-bao", title="Cảnh báo lừa đảo", collections=("Cảnh báo lừa đảo mới",))
    if signed_in:
        login(create_user())
    # The user is the common request path's statement; the page adds one, which also brings the bell's count,
    # but for an item page, whose row comes in the user's statement (lms.core.page_rows), and for a listing read
    # in front of Flask on PostgreSQL, whose rows come joined to the user's (lms/library/fast_pages.py).
    joined = db_session.get_bind().dialect.name == "postgresql"
    for path in PAGES:
        own = 1 if signed_in and not path.startswith("/library/") and not joined else 0
        client.get(path)  # the first view renders and keeps the shared part
        count, response = count_queries(client, path)
        assert "Sổ tay dịch vụ công" in text_of(response)
        assert count == own + 1, path


def test_an_item_used_by_a_lesson_adds_one_statement(client, db_session, create_course, commit_and_index):
    item = _item(db_session)
    lesson = create_course().active_lessons()[0]
    lesson.body_md = f"Đọc thêm [[library:{item.slug}]]."
    title = lesson.title
    commit_and_index()  # the indexer's pass over the course records which lessons use which item
    client.get("/library/so-tay")
    count, response = count_queries(client, "/library/so-tay")
    assert count == 2 and title in text_of(response)


def test_an_edit_in_the_browser_shows_at_once(client, db_session, create_user, login):
    item = _item(db_session)
    assert "Sổ tay dịch vụ công" in text_of(client.get("/library/so-tay"))
    assert "Sổ tay dịch vụ công" in text_of(client.get("/library"))
    login(create_user(roles=("librarian",)))
    form = {"title": "Sổ tay mới", "kind": "article", "licence": "CC BY 4.0", "status": "published",
            "summary": "Tóm tắt", "collections": "Cẩm nang dịch vụ công; Văn bản pháp luật", "locality_id": "",
            "body_md": "Nội dung đã sửa."}
    assert client.post(f"/library/{item.slug}/edit", data=form).status_code == 303
    client.post("/logout")
    page = text_of(client.get("/library/so-tay"))
    assert "Sổ tay mới" in page and "Nội dung đã sửa." in page and "Văn bản pháp luật" in page
    assert "Sổ tay dịch vụ công" not in page
    listing = text_of(client.get("/library"))
    assert "Sổ tay mới" in listing and "Sổ tay dịch vụ công" not in listing


def test_a_change_made_by_another_host_shows_at_once(client, db_session):
    """Another host's edit reaches this process only through the database: the row's new updated_at."""
    item = _item(db_session)
    _item(db_session, slug="canh-bao", title="Cảnh báo lừa đảo")
    for path in PAGES:
        client.get(path)
    later = item.updated_at.replace(year=item.updated_at.year + 1)
    db_session.execute(update(LibraryItem).where(LibraryItem.id == item.id)
                       .values(title="Tên do máy khác sửa", updated_at=later))
    assert "Tên do máy khác sửa" in text_of(client.get("/library/so-tay"))
    assert "Tên do máy khác sửa" in text_of(client.get("/library"))
    db_session.execute(update(LibraryItem).where(LibraryItem.id == item.id)
                       .values(status="archived", updated_at=later.replace(month=1, day=2)))
    assert client.get("/library/so-tay").status_code == 403
    listing = text_of(client.get("/library"))
    assert "Tên do máy khác sửa" not in listing and "Cảnh báo lừa đảo" in listing


def test_downloads_count_on_a_cached_page_without_a_new_version(client, db_session):
    item = _item(db_session, slug="link", title="Cổng dịch vụ công", kind="link", url="https://dichvucong.gov.vn")
    client.get("/library/link")
    version = item.updated_at
    for _ in range(2):
        assert client.get("/library/link/file").status_code == 302
    html = client.get("/library/link").get_data(as_text=True)
    assert re.search(r'<dd class="downloads">2</dd>', html)
    db_session.expire_all()
    assert db_session.get(LibraryItem, item.id).updated_at == version


def test_files_and_collections_make_a_new_version_an_unchanged_save_does_not(db_session):
    item = _item(db_session)
    version = item.updated_at
    operations.set_collections(item, ["Cẩm nang dịch vụ công"])
    db_session.flush()
    assert item.updated_at == version
    operations.set_collections(item, ["Văn bản pháp luật"])
    db_session.flush()
    assert item.updated_at > version
    version = item.updated_at
    operations.attach_file(item, "so-tay.txt", "Nội dung".encode())
    db_session.flush()
    assert item.updated_at > version


def test_the_shared_part_follows_the_language(client, db_session):
    _item(db_session)
    assert "<dt>Licence</dt>" not in client.get("/library/so-tay").get_data(as_text=True)
    client.post("/language", data={"lang": "en"})
    assert "<dt>Licence</dt>" in client.get("/library/so-tay").get_data(as_text=True)
    assert "1 item" in text_of(client.get("/library?collection=cam-nang-dich-vu-cong"))


def test_a_page_past_the_last_and_an_unknown_collection(client, db_session):
    _item(db_session)
    assert "Sổ tay" not in text_of(client.get("/library?page=5"))
    assert "Sổ tay" not in text_of(client.get("/library?collection=khong-co"))
    assert db_session.scalar(select(LibraryItem.title)) == "Sổ tay dịch vụ công"


def test_the_listing_filters_by_kind_audience_and_locality(client, db_session, commune):
    from lms.localities.models import Locality

    home = commune()
    other = db_session.scalar(select(Locality).where(Locality.level == "commune", Locality.id != home.id))
    _item(db_session, slug="cho-can-bo", title="Cho cán bộ", audience=["official"])
    _item(db_session, slug="cua-xa", title="Của xã", locality_id=home.id, kind="link", url="https://example.vn")
    _item(db_session, slug="xa-khac", title="Của xã khác", locality_id=other.id)
    everyone = text_of(client.get("/library"))
    assert all(title in everyone for title in ("Cho cán bộ", "Của xã", "Của xã khác"))
    residents = text_of(client.get("/library?audience=citizen"))
    assert "Cho cán bộ" not in residents and "Của xã" in residents
    links = text_of(client.get("/library?kind=link"))
    assert "Của xã" in links and "Cho cán bộ" not in links and "Của xã khác" not in links
    here = text_of(client.get(f"/library?locality={home.id}&page=1"))
    assert "Của xã" in here and "Cho cán bộ" in here and "Của xã khác" not in here


def test_a_kept_page_is_filled_without_looking_its_part_up(client, db_session, monkeypatch):
    """The part's key stands for the part in the page's key (lms.core.page_cache.render_page's `drawn`)."""
    from lms.library import pages

    _item(db_session)
    for path in PAGES * 2:  # the first view also gives the stylesheet's cookie: the second is the usual page
        client.get(path)
    looked_up = []
    cached = pages._cached
    monkeypatch.setattr(pages, "_cached", lambda *args: looked_up.append(args[0]) or cached(*args))
    for path in PAGES:
        assert "Sổ tay dịch vụ công" in text_of(client.get(path))
    assert looked_up == []
    client.post("/language", data={"lang": "en"})  # another language: another page, drawn with its part
    assert "1 item" in text_of(client.get("/library"))
    assert [key[0] for key in looked_up] == ["listing"]
