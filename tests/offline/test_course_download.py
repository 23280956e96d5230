"""Issue 16: "Download for offline learning" stores — and weighs before — the lessons, their pictures,
the library items they link and those items' files (a PDF). The size shown first is compared with
the bytes the download really costs over the network (pages compressed as the server sends them)."""

import pytest
from sqlalchemy import select

from lms.core.markdown import render
from lms.library.models import LibraryItem
from tests.library.test_library import _upload

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture()
def course_with_a_pdf(client, db_session, create_user, login, create_course):
    login(create_user(roles=("librarian",)))
    lines = [f"Dòng {n}: hướng dẫn nộp hồ sơ trực tuyến trên Cổng dịch vụ công quốc gia" for n in range(400)]
    assert _upload(client, lines).status_code == 303
    item = db_session.scalar(select(LibraryItem))
    course = create_course()
    lesson = course.active_lessons()[1]
    lesson.body_md = f"Đọc cẩm nang [[library:{item.slug}]] trước khi nộp hồ sơ.\n"
    lesson.body_html = render(lesson.body_md)
    db_session.commit()
    return course, item


def wire_bytes(client, url) -> int:
    response = client.get(url, headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200, url
    return len(response.get_data())


def test_the_size_counts_the_pictures_and_the_library_files_and_is_close_to_the_real_download(
        client, course_with_a_pdf):
    course, item = course_with_a_pdf
    manifest = client.get(f"/courses/{course.slug}/offline.json").get_json()
    pdf = item.current_file()
    assert f"/library/{item.slug}" in manifest["urls"] and f"/library/{item.slug}/file" in manifest["urls"]
    assert any(url.endswith("/assets/so-do.svg") for url in manifest["urls"])  # the first lesson's picture
    files = [url for url in manifest["urls"] if url.endswith("/file") or "/assets/" in url]
    assert manifest["file_bytes"] >= pdf.size + sum(wire_bytes(client, url) for url in files if "/assets/" in url)
    real = sum(wire_bytes(client, url) for url in manifest["urls"])
    assert pdf.size > 10_000 and abs(manifest["bytes"] - real) <= 0.25 * real, (manifest["bytes"], real)
