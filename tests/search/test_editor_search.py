"""A course made in the browser editor is found by the words of its lessons once published."""

import re

import pytest

from lms.search.queries import search

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture()
def english(client):
    client.post("/language", data={"lang": "en"})


def test_a_course_written_in_the_editor_is_found_by_its_lesson_text(client, db_session, create_user, login):
    login(create_user("Trần Văn Minh", roles=("trainer",), audience="official"))
    client.post("/author/courses", data={"title": "Mạng xã hội an toàn"})
    client.post("/author/courses/mang-xa-hoi-an-toan/modules", data={"title": "Tin nhắn"})
    from lms.catalog.queries import course_by_slug

    course = course_by_slug("mang-xa-hoi-an-toan")
    response = client.post(f"/author/courses/mang-xa-hoi-an-toan/modules/{course.modules[0].id}/lessons",
                           data={"title": "Cài đặt riêng tư"})
    lesson_id = int(response.headers["Location"].rsplit("/", 1)[1])
    editor = client.get(f"/author/courses/mang-xa-hoi-an-toan/lessons/{lesson_id}").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', editor).group(1)
    saved = client.post(f"/author/courses/mang-xa-hoi-an-toan/lessons/{lesson_id}", data={
        "title": "Cài đặt riêng tư", "minutes": "5", "version": version,
        "body": "Trong **Zalo**, mở Cài đặt → Quyền riêng tư và tắt hiện ngày sinh."})
    assert saved.status_code == 302
    assert not any(hit.kind == "lesson" for hit in search("zalo quyen rieng tu").hits)  # still a draft

    assert client.post("/author/courses/mang-xa-hoi-an-toan/status", data={"status": "published"}).status_code == 302
    hits = search("zalo quyen rieng tu").hits
    assert [hit.url for hit in hits if hit.kind == "lesson"] == [f"/courses/mang-xa-hoi-an-toan/lessons/{lesson_id}"]
    assert "<mark>Zalo</mark>" in str(hits[0].snippet)
