"""The lesson page's cost and its caches: a fixed number of queries, and no cached text outliving an edit."""

import pytest

from lms.catalog.models import CourseOwner, Lesson
from lms.core.db import utcnow
from lms.extensions import db
from tests.catalog.test_pages import enrol, lesson_url, mark, statements_of
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")


def test_a_lesson_view_costs_one_query_whatever_the_progress(client, create_course, create_user, login):
    learner = create_user("Trần Thị Hoà")
    login(learner)
    course = create_course()
    lessons = course.active_lessons()
    urls, title = [lesson_url(course, lesson) for lesson in lessons], lessons[0].title
    enrol(client, course)
    client.get(urls[0])  # the visit is written once; later views only read
    before, response = statements_of(client, urls[0])
    assert title in text_of(response)
    for url in urls:
        client.post(f"{url}/done", data={"done": "1"})
    client.get(urls[0])
    after, response = statements_of(client, urls[0])

    # the user (with role grants and session record) and, in the same statement, course + lesson + enrollment
    # + this lesson's progress + the bell's count + the pager's outline as one row (lms.core.page_rows).
    assert len(before) == 1, before
    assert len(after) == 1, after
    assert "You have finished this lesson" in text_of(response)


def test_the_pager_shows_a_renamed_archived_moved_or_added_lesson_at_the_next_view(
        client, db_session, create_course, create_user, login):
    login(create_user("Phạm Văn Đọc"))
    course = create_course()
    first, second = course.active_lessons()[:2]
    assert len(course.active_lessons()) == 2
    url = lesson_url(course, second)

    def pager():
        return text_of(client.get(url))

    page = pager()
    assert "Lesson 2 of 2" in page and f"← {first.title}" in page
    first.title = "Bài mở đầu đã đổi tên"
    db_session.commit()
    assert "← Bài mở đầu đã đổi tên" in pager()
    added = Lesson(course_id=course.id, module_id=second.module_id, module_position=second.module_position,
                   position=second.position + 1, key="them/bai-moi", title="Bài thêm cuối")
    db_session.add(added)
    db_session.commit()
    page = pager()
    assert "Lesson 2 of 3" in page and "Bài thêm cuối →" in page
    added.position, second.position = second.position, second.position + 1  # the new one now comes first
    db_session.commit()
    page = pager()
    assert "Lesson 3 of 3" in page and "← Bài thêm cuối" in page
    first.archived_at = utcnow()
    db_session.commit()
    page = pager()
    assert "Lesson 2 of 2" in page and "Bài mở đầu đã đổi tên" not in page


def test_an_edited_lesson_shows_its_new_text_at_the_next_view(client, create_course, create_user, login):
    trainer = create_user("Giảng Viên", roles=("trainer",))
    course = create_course()
    course.owners.append(CourseOwner(user=trainer))
    db.session.commit()
    lesson = course.active_lessons()[0]
    learner = create_user("Lê Văn Học")
    login(learner)
    enrol(client, course)
    assert "Nội dung mới" not in text_of(client.get(lesson_url(course, lesson)))

    client.post("/logout")
    login(trainer)
    saved = client.post(f"/author/courses/{course.slug}/lessons/{lesson.id}",
                        data={"title": "Tiêu đề mới", "body": "Nội dung mới <script>x()</script>",
                              "version": str(lesson.version)})
    assert saved.status_code == 302

    client.post("/logout")
    login(learner)
    page = client.get(lesson_url(course, lesson))
    assert "Nội dung mới" in text_of(page) and "Tiêu đề mới" in text_of(page)
    assert "x()" not in page.get_data(as_text=True)  # the trainer's script was stripped, not shown


def test_a_reimported_course_shows_the_new_lesson_text(client, create_course, course_copy, create_user, login):
    folder = course_copy()
    course = create_course(folder)
    lesson = course.active_lessons()[0]
    login(create_user("Phạm Thị Đọc"))
    enrol(client, course)
    first = text_of(client.get(lesson_url(course, lesson)))
    source = next(path for path in sorted(folder.rglob("*.md")) if path.name != "course.md"
                  and lesson.title in path.read_text(encoding="utf-8"))
    source.write_text(source.read_text(encoding="utf-8") + "\n\nĐoạn thêm sau khi nhập lại.\n", encoding="utf-8")
    assert "Đoạn thêm sau khi nhập lại." not in first

    create_course(folder)

    assert "Đoạn thêm sau khi nhập lại." in text_of(client.get(lesson_url(course, lesson)))


def test_two_learners_each_see_their_own_progress_and_name(client, create_course, create_user, login):
    course = create_course()
    lesson = course.active_lessons()[0]
    first, second = create_user("Nguyễn Một"), create_user("Trần Hai")
    login(first)
    enrol(client, course)
    mark(client, course, lesson)
    assert "You have finished this lesson" in text_of(client.get(lesson_url(course, lesson)))

    client.post("/logout")
    login(second)
    enrol(client, course)
    page = text_of(client.get(lesson_url(course, lesson)))
    assert "Trần Hai" in page and "Nguyễn Một" not in page, page
    assert "You have finished this lesson" not in page


def test_the_lesson_statement_is_compiled_once():
    from lms.catalog.queries import _lesson_page_statement

    assert _lesson_page_statement()._generate_cache_key() is not None  # None: compiled again on every view
