"""One search over courses, lessons and library items: words inside lesson bodies and PDF text, with
and without diacritics, and never what the person may not see."""

from sqlalchemy import select

from lms.library import operations as library_ops
from lms.library.models import LibraryItem
from lms.search.queries import search
from tests.conftest import text_of
from tests.search.conftest import make_pdf

SCAM = "Cảnh giác lừa đảo qua điện thoại: kẻ gian giả danh công an yêu cầu đọc mã OTP và chuyển tiền qua Zalo."


def _lesson_with(course, body):
    lesson = next(iter(course.active_lessons()))
    lesson.body_md = body
    return lesson


def _item(title, **fields):
    item = LibraryItem(slug=library_ops.unique_slug(title), kind=fields.pop("kind", "article"), title="")
    library_ops.apply_fields(item, dict({"title": title, "licence": "CC BY 4.0", "status": "published"}, **fields))
    return item


def test_words_inside_a_lesson_body_are_found_without_diacritics(db_session, create_course, commit_and_index):
    course = create_course()
    lesson = _lesson_with(course, f"## Tình huống\n\n{SCAM}")
    commit_and_index()

    results = search("lua dao qua dien thoai")
    assert [hit.url for hit in results.hits][:1] == [f"/courses/{course.slug}/lessons/{lesson.id}"]
    assert "<mark>lừa</mark> <mark>đảo</mark> <mark>qua</mark> <mark>điện</mark> <mark>thoại</mark>" \
        in str(results.hits[0].snippet)
    for query in ("lừa đảo qua điện thoại", "OTP", "zalo", "LUA DAO", "dien tho"):
        assert any(hit.kind == "lesson" for hit in search(query).hits), query
    assert search("bitcoin metaverse").total == 0
    # When not every word is there, results with some of them still come (ranked), rather than nothing.
    assert search("chuyen khoan bitcoin").total >= 1


def test_the_editor_changing_a_lesson_reindexes_it(db_session, create_course, commit_and_index):
    course = create_course()
    lesson = _lesson_with(course, "Bài cũ về thư điện tử.")
    commit_and_index()
    assert search("thu dien tu").total >= 1
    lesson.body_md = "Bài mới: cài đặt Zalo an toàn."
    lesson.version += 1
    commit_and_index()
    assert all(hit.kind != "lesson" for hit in search("thu dien tu").hits)
    assert search("cai dat zalo").hits[0].kind == "lesson"


def test_drafts_and_other_audiences_never_show(db_session, create_course, create_user, commit_and_index):
    course = create_course()
    _lesson_with(course, SCAM)
    course.audience = ["official"]
    draft = _item("Bản nháp về lừa đảo qua điện thoại", status="draft")
    officials_only = _item("Quy trình nội bộ xử lý lừa đảo qua điện thoại", audience=["official"])
    public = _item("Cảnh báo lừa đảo qua điện thoại cho người dân")
    db_session.add_all([draft, officials_only, public])
    commit_and_index()

    citizen, official = create_user(audience="citizen"), create_user(audience="official")
    seen_by_citizen = {hit.title.striptags() for hit in search("lua dao dien thoai", citizen).hits}
    seen_by_visitor = {hit.title.striptags() for hit in search("lua dao dien thoai", None).hits}
    seen_by_official = {hit.title.striptags() for hit in search("lua dao dien thoai", official).hits}
    assert seen_by_citizen == seen_by_visitor == {"Cảnh báo lừa đảo qua điện thoại cho người dân"}
    assert {"Quy trình nội bộ xử lý lừa đảo qua điện thoại", "Cảnh báo lừa đảo qua điện thoại cho người dân"} \
        <= seen_by_official
    assert any(hit.kind == "lesson" for hit in search("lua dao dien thoai", official).hits)
    assert "Bản nháp về lừa đảo qua điện thoại" not in seen_by_official

    course.status = "draft"
    commit_and_index()
    assert not any(hit.kind in ("lesson", "course") for hit in search("lua dao dien thoai", official).hits)


def test_filters_by_kind(db_session, create_course, commit_and_index):
    course = create_course()
    _lesson_with(course, SCAM)
    db_session.add(_item("Lừa đảo qua điện thoại: 5 dấu hiệu"))
    commit_and_index()
    assert {hit.kind for hit in search("lua dao", kind="library").hits} == {"library"}
    assert {hit.kind for hit in search("lua dao", kind="lesson").hits} == {"lesson"}


def test_text_inside_an_uploaded_pdf_is_found(db_session, commit_and_index):
    item = _item("Hướng dẫn số 12", kind="document")
    db_session.add(item)
    pdf = make_pdf(["Thủ tục đăng ký khai sinh trực tuyến", "trên Cổng dịch vụ công quốc gia."])
    library_ops.attach_file(item, "huong-dan.pdf", pdf)
    commit_and_index()

    hits = search("dang ky khai sinh truc tuyen").hits
    assert [hit.url for hit in hits] == [f"/library/{item.slug}"]
    assert "<mark>khai</mark> <mark>sinh</mark>" in str(hits[0].snippet)


def test_archived_item_leaves_the_index(db_session, commit_and_index):
    item = _item("Sổ tay chữ ký số")
    db_session.add(item)
    commit_and_index()
    assert search("chu ky so").total == 1
    library_ops.archive(item)
    commit_and_index()
    assert search("chu ky so").total == 0


def test_search_page_for_a_visitor(client, db_session, create_course, commit_and_index):
    course = create_course()
    _lesson_with(course, SCAM)
    commit_and_index()
    response = client.get("/search?q=lua+dao+qua+dien+thoai")
    assert response.status_code == 200
    assert "lừa đảo qua điện thoại" in text_of(response)
    assert "<mark>" in response.get_data(as_text=True)
    assert client.get("/search?q=%00%22*((").status_code == 200
    assert client.get("/search?q=").status_code == 200


def test_rows_follow_the_content(db_session, create_course, commit_and_index):
    from lms.search.models import SearchDocument

    course = create_course()
    commit_and_index()
    lesson_ids = {lesson.id for lesson in course.active_lessons()}
    rows = set(db_session.scalars(select(SearchDocument.ref_id).where(SearchDocument.kind == "lesson")))
    assert lesson_ids <= rows


def test_a_typo_is_corrected_to_a_word_the_index_knows(client, db_session, create_course, commit_and_index):
    course = create_course()
    lesson = _lesson_with(course, "Nhận biết thư giả mạo (phishing) để tránh bị đánh cắp tài khoản.")
    lesson.title = "Cảnh báo lừa đảo qua điện thoại"
    db_session.add(_item("Lừa đảo phishing qua thư điện tử", summary="Nhận biết thư giả mạo."))
    commit_and_index()

    exact = search("lua dao")
    assert exact.total >= 2 and exact.corrected is None
    for typed, meant in (("lu dao", "lua dao"), ("phising", "phishing"), ("lua daoo", "lua dao")):
        results = search(typed)
        assert results.corrected == meant, typed
        assert {hit.url for hit in results.hits} >= {f"/courses/{course.slug}/lessons/{lesson.id}"}, typed
    assert "<mark>phishing</mark>" in str(search("phising").hits[0].title) + str(search("phising").hits[0].snippet)
    assert search("qwxzv").total == 0 and search("qwxzv").corrected is None
    page = text_of(client.get("/search?q=phising"))
    assert "phishing" in page and "phising" in page
