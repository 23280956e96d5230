"""Issue 16 through the test client: the course page's main button is the next thing to do (lesson,
then quiz); the last lesson's done button leads to the quiz; the catalogue lists the viewer's audience
first with its label; the text size setting."""

import re

import pytest
from sqlalchemy import select

from lms.quizzes.models import Quiz
from tests.catalog.test_pages import enrol, lesson_url
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture()
def learner(create_user, login):
    user = create_user("Trần Thị Hoà")
    login(user)
    return user


def main_button(html: str) -> str:
    return re.search(r'<div class="actions"><a class="button" href="([^"]+)"', html).group(1)


def test_course_page_leads_to_the_quiz_once_every_lesson_is_read(client, create_course, learner, db_session):
    course = create_course()
    enrol(client, course)
    first, last = course.active_lessons()
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    assert main_button(client.get(f"/courses/{course.slug}").get_data(as_text=True)) == lesson_url(course, first)

    marked = client.post(f"{lesson_url(course, first)}/done", data={"done": "1", "next_lesson": str(last.id)})
    assert marked.headers["Location"].endswith(lesson_url(course, last))
    last_page = client.get(lesson_url(course, last)).get_data(as_text=True)
    assert "Mark as done and take the quiz" in last_page and f'name="then_quiz" value="{quiz.id}"' in last_page

    done = client.post(f"{lesson_url(course, last)}/done", data={"done": "1", "then_quiz": str(quiz.id)})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/quizzes/{quiz.id}")
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert main_button(page) == f"/quizzes/{quiz.id}"
    assert "You have read every lesson. Next: the quiz." in text_of(client.get(f"/courses/{course.slug}"))


def test_the_next_link_of_an_unread_lesson_says_it_does_not_mark_it(client, create_course, learner):
    course = create_course()
    enrol(client, course)
    first, _last = course.active_lessons()
    assert "Skip for now (not marked done)" in text_of(client.get(lesson_url(course, first)))


def test_catalogue_lists_the_residents_courses_first_with_their_audience(client, create_course, course_copy):
    create_course(course_copy("a-cho-can-bo", code="CB-1", title="A cho cán bộ", audience="[official]"))
    create_course(course_copy("z-cho-dan", code="ND-1", title="Z cho người dân", audience="[citizen]"))
    page = client.get("/courses").get_data(as_text=True)
    assert page.index("Z cho người dân") < page.index("A cho cán bộ")
    assert "For:" in text_of(client.get("/courses"))


def test_text_size_is_kept_in_a_cookie_and_bad_values_are_refused(client):
    chosen = client.post("/text-size", data={"size": "larger", "next": "/verify"})
    assert chosen.status_code == 303 and chosen.headers["Location"].endswith("/verify")
    assert "text_size=larger" in chosen.headers["Set-Cookie"] and "Max-Age=31536000" in chosen.headers["Set-Cookie"]
    assert '<html lang="en" class="text-larger">' in client.get("/verify").get_data(as_text=True)

    refused = client.post("/text-size", data={"size": "huge", "next": "https://evil.example/"})
    assert refused.status_code == 303 and "evil.example" not in refused.headers["Location"]
    assert "Set-Cookie" not in refused.headers or "text_size" not in refused.headers["Set-Cookie"]
    assert "Choose one of the text sizes offered." in text_of(client.get("/courses"))
