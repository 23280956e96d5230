"""The catalogue's search box uses the one search: a course is found by words inside its lessons,
typed without diacritics, and the matching lessons are listed with their snippets; drafts never leak."""

from tests.conftest import text_of

SCAM = "Kẻ gian giả danh ngân hàng, nhắn tin qua Zalo và đòi mã OTP để chuyển tiền."


def test_the_catalogue_box_finds_courses_by_their_lesson_text(client, db_session, create_course, commit_and_index):
    course = create_course()
    lesson = course.active_lessons()[0]
    lesson.body_md = f"## Cảnh báo\n\n{SCAM}"
    lesson.version += 1
    commit_and_index()
    lesson_url = f"/courses/{course.slug}/lessons/{lesson.id}"

    for query in ("zalo", "otp", "gia danh ngan hang", "GIẢ DANH"):
        response = client.get("/courses", query_string={"q": query})
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and course.title in text_of(response), query
        assert f'href="{lesson_url}"' in html, query
    html = client.get("/courses?q=zalo").get_data(as_text=True)
    assert "<mark>Zalo</mark>" in html and "/search?q=zalo" in html
    # The course code and tags still find it, as before.
    assert course.title in text_of(client.get("/courses", query_string={"q": course.code}))
    assert course.title not in text_of(client.get("/courses?q=bitcoin+metaverse"))

    course.status = "draft"
    commit_and_index()
    html = client.get("/courses?q=zalo").get_data(as_text=True)
    assert course.title not in html and lesson_url not in html
