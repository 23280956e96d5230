"""Catalogue, course and lesson pages, progress and "my learning", seen through the test client."""

import re

import pytest
from flask import g
from sqlalchemy import event, func, select

from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.offline import REGISTRATION
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")

TITLE = "Khóa học thử nghiệm Dịch vụ công"


@pytest.fixture()
def learner(create_user, login):
    user = create_user("Trần Thị Hoà")
    login(user)
    return user


@pytest.fixture()
def second_course(create_course, course_copy):
    folder = course_copy("an-toan", code="AT-1", title="An toàn thông tin", tags="[bảo mật]")
    course_md = folder / "course.md"
    course_md.write_text(course_md.read_text(encoding="utf-8").replace(
        "Mô tả khóa học **thử nghiệm**.", "Bảo vệ tài khoản và dữ liệu cá nhân."), encoding="utf-8")
    return create_course(folder)


def lesson_url(course, lesson):
    return f"/courses/{course.slug}/lessons/{lesson.id}"


def mark(client, course, lesson, done=True):
    return client.post(f"{lesson_url(course, lesson)}/done", data={"done": "1" if done else "0"})


def enrol(client, course):
    return client.post(f"/courses/{course.slug}/enrol")


# ---------------------------------------------------------------- catalogue and search

def test_catalogue_lists_published_courses(client, create_course, second_course):
    create_course()
    page = text_of(client.get("/courses"))
    assert TITLE in page and "An toàn thông tin" in page
    assert "TEST-101" in page and "AT-1" in page


@pytest.mark.parametrize("query", ["dich vu cong", "DỊCH VỤ", "thu nghiem", "Thử Nghiệm", "test-101"])
def test_search_folds_case_and_diacritics(client, create_course, second_course, query):
    create_course()
    page = text_of(client.get("/courses", query_string={"q": query}))
    assert TITLE in page
    assert "An toàn thông tin" not in page
    assert "1 course matches" in page


def test_search_without_match_says_so(client, create_course):
    create_course()
    page = text_of(client.get("/courses", query_string={"q": "lap trinh python"}))
    assert TITLE not in page and "No course found" in page


def test_draft_course_is_hidden_and_closed_to_learners(client, create_course, learner, db_session):
    course = create_course()
    lesson = course.active_lessons()[0]
    course.status = "draft"
    db_session.commit()

    assert TITLE not in text_of(client.get("/courses"))
    assert TITLE not in text_of(client.get("/courses?q=dich vu"))
    for url in (f"/courses/{course.slug}", lesson_url(course, lesson)):
        response = client.get(url)
        assert response.status_code == 403
        assert "You do not have permission" in text_of(response) and lesson.title not in text_of(response)
    assert enrol(client, course).status_code == 403
    assert db_session.scalar(select(func.count(Enrollment.id))) == 0


# ---------------------------------------------------------------- course and lesson pages

def test_course_page_invites_anonymous_visitors_to_log_in(client, create_course):
    course = create_course()
    response = client.get(f"/courses/{course.slug}")
    page = text_of(response)
    assert TITLE in page and "Giới thiệu Cổng Dịch vụ công" in page and "Đăng nhập bằng VNeID" in page
    assert "Log in or register to enrol" in page
    assert f'href="/login?next=/courses/{course.slug}"' in response.get_data(as_text=True)
    assert "Enrol in this course" not in page


def test_lesson_page_drops_the_hostile_markup_of_the_source(client, create_course, learner):
    course = create_course()
    html = client.get(lesson_url(course, course.active_lessons()[0])).get_data(as_text=True)
    assert "Xin chào." in html and "bấm vào" in html
    lowered = html.replace(f"<script>{REGISTRATION}</script>", "").lower()  # the layout's own, CSP-hashed
    assert "<script" not in lowered and "onerror" not in lowered and "javascript:" not in lowered
    images = re.findall(r"<img\b[^>]*>", html)
    assert '<img alt="Sơ đồ" src="/courses/mini-course/assets/so-do.svg">' in images
    assert not any(re.search(r"\son\w+\s*=", tag) for tag in images)  # no event handler survives


# ---------------------------------------------------------------- enrolment, progress, resuming

def test_my_learning_continues_at_the_last_visited_lesson(client, create_course, learner):
    course = create_course()
    enrol(client, course)
    first, second = course.active_lessons()
    client.get(lesson_url(course, first))
    client.get(lesson_url(course, second))

    response = client.get("/my")

    assert "Continue where I left off" in text_of(response)
    assert re.search(rf'href="{lesson_url(course, second)}"[^>]*>\s*Continue where I left off',
                     response.get_data(as_text=True))


def test_my_learning_continues_at_an_unfinished_lesson_after_marking_the_last_one_done(
        client, create_course, learner):
    course = create_course()
    enrol(client, course)
    first, second = course.active_lessons()
    client.get(lesson_url(course, first))
    client.get(lesson_url(course, second))
    mark(client, course, second)

    html = client.get("/my").get_data(as_text=True)

    assert re.search(rf'href="{lesson_url(course, first)}"[^>]*>\s*Continue where I left off', html)
    course_page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert f'href="{lesson_url(course, first)}"' in course_page and "Continue: Giới thiệu" in course_page


def test_progress_is_shown_on_the_course_page_and_my_learning(client, create_course, learner):
    course = create_course()
    enrol(client, course)
    first, second = course.active_lessons()
    assert "Your progress: 0%" in text_of(client.get(f"/courses/{course.slug}"))

    mark(client, course, first)
    assert "Your progress: 50%" in text_of(client.get(f"/courses/{course.slug}"))
    assert "Progress: 50%" in text_of(client.get("/my"))

    mark(client, course, second)
    assert "Your progress: 100%" in text_of(client.get(f"/courses/{course.slug}"))
    assert "Progress: 100%" in text_of(client.get("/my"))


def test_marking_a_lesson_not_done_reduces_progress(client, create_course, learner, db_session):
    course = create_course()
    enrol(client, course)
    first, second = course.active_lessons()
    mark(client, course, first)
    mark(client, course, second)

    response = mark(client, course, first, done=False)

    assert response.headers["Location"].endswith(lesson_url(course, first))
    assert "Progress: 50%" in text_of(client.get("/my"))
    page = client.get(lesson_url(course, first))
    assert "Mark as done" in text_of(page) and "You have finished this lesson" not in text_of(page)
    assert db_session.scalar(select(Enrollment)).completed_at is None


def test_enrolling_twice_keeps_one_enrollment(client, create_course, learner, db_session, commune):
    course = create_course()
    first = enrol(client, course)
    second = enrol(client, course)

    assert first.status_code == second.status_code == 303
    assert second.headers["Location"].endswith(lesson_url(course, course.active_lessons()[0]))
    enrollments = db_session.scalars(select(Enrollment).where(Enrollment.user_id == learner.id)).all()
    assert len(enrollments) == 1
    assert enrollments[0].course_id == course.id and enrollments[0].locality_id == commune("26506").id


def test_citizen_cannot_enrol_in_a_course_for_officials(client, create_course, course_copy, learner, db_session):
    course = create_course(course_copy(audience="[official]"))
    page = text_of(client.get(f"/courses/{course.slug}"))
    assert "Enrol in this course" not in page and "meant for another audience" in page

    response = enrol(client, course)

    assert response.status_code == 303 and response.headers["Location"].endswith(f"/courses/{course.slug}")
    assert "This course is not open to you." in text_of(client.get(response.headers["Location"]))
    assert db_session.scalar(select(func.count(Enrollment.id))) == 0


def test_official_can_enrol_in_a_course_for_officials(client, create_course, course_copy, create_user, login,
                                                     db_session):
    course = create_course(course_copy(audience="[official]"))
    login(create_user("Lê Văn Cán Bộ", audience="official"))
    enrol(client, course)
    assert db_session.scalar(select(func.count(Enrollment.id))) == 1


# ---------------------------------------------------------------- query budget

def statements_of(client, url):
    """The SQL statements (transaction control left out) of one GET, and its response."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        # Savepoints too: the test client commits the test's setup (a savepoint) before each request.
        control = statement.strip().upper()
        if control not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK") and not control.startswith(
                ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")):
            statements.append(" ".join(statement.split()))

    # As a new request in production: a fresh identity map and the user loaded again.
    db.session.expunge_all()
    g.pop("_login_user", None)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200
    return statements, response


def count_queries(client, url):
    statements, response = statements_of(client, url)
    return len(statements), response


def test_my_learning_costs_the_same_queries_for_one_and_three_enrollments(
        client, create_course, course_copy, learner):
    courses = [create_course(), create_course(course_copy("khoa-b", code="KB-1", title="Khóa B")),
               create_course(course_copy("khoa-c", code="KC-1", title="Khóa C"))]
    urls = [(f"/courses/{c.slug}/enrol", f"{lesson_url(c, c.active_lessons()[0])}/done") for c in courses]

    def enrol_and_finish_a_lesson(enrol_url, done_url):
        client.post(enrol_url)
        client.post(done_url, data={"done": "1"})

    enrol_and_finish_a_lesson(*urls[0])
    client.get("/my")  # warm up
    one, response = count_queries(client, "/my")
    assert text_of(response).count("Progress: 50%") == 1

    for pair in urls[1:]:
        enrol_and_finish_a_lesson(*pair)
    three, response = count_queries(client, "/my")

    assert text_of(response).count("Progress: 50%") == 3
    assert "Khóa B" in text_of(response) and "Khóa C" in text_of(response)
    assert three == one
