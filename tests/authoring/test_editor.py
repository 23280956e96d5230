"""The browser editor end to end: from nothing to a published course, both ways with git."""

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from lms.authoring import operations as ops
from lms.catalog.export import export_course
from lms.catalog.models import CourseOwner, Lesson, LessonRevision
from lms.catalog.operations import import_course
from lms.catalog.queries import course_by_slug
from lms.catalog.source import read_course
from lms.enrollment.models import Enrollment, LessonProgress
from lms.quizzes.models import Quiz
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture()
def owner(trainer, login):
    login(trainer)
    return trainer


@pytest.fixture()
def owned(create_course, owner, db_session):
    course = create_course()
    course.owners.append(CourseOwner(user=owner))
    db_session.flush()
    return course


def _lesson(db_session, lesson_id):
    db_session.expire_all()
    return db_session.scalar(select(Lesson).where(Lesson.id == lesson_id).options(undefer(Lesson.body_md)))


def test_from_an_empty_editor_to_a_published_course_and_a_git_folder(client, owner, db_session, tmp_path, create_user, login):
    response = client.post("/author/courses", data={"title": "Kỹ năng số cơ bản"})
    assert response.headers["Location"].endswith("/author/courses/ky-nang-so-co-ban")
    course = course_by_slug("ky-nang-so-co-ban")
    assert course.status == "draft" and [o.user_id for o in course.owners] == [owner.id]

    client.post("/author/courses/ky-nang-so-co-ban/modules", data={"title": "Điện thoại an toàn"})
    module = course.modules[0]
    response = client.post(f"/author/courses/ky-nang-so-co-ban/modules/{module.id}/lessons", data={"title": "Khóa màn hình"})
    lesson_id = int(response.headers["Location"].rsplit("/", 1)[1])
    editor = client.get(f"/author/courses/ky-nang-so-co-ban/lessons/{lesson_id}").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', editor).group(1)
    client.post("/author/courses/ky-nang-so-co-ban/assets", data={"file": (__import__("io").BytesIO(PNG), "Màn hình khóa.png")},
                content_type="multipart/form-data")
    saved = client.post(f"/author/courses/ky-nang-so-co-ban/lessons/{lesson_id}", data={
        "title": "Khóa màn hình", "minutes": "5", "version": version,
        "body": "Đặt **mã khóa** 6 số.\n\n![Màn hình khóa](../assets/man-hinh-khoa.png)"})
    assert saved.status_code == 302
    lesson = _lesson(db_session, lesson_id)
    assert '<strong>mã khóa</strong>' in lesson.body_html
    assert 'src="/courses/ky-nang-so-co-ban/assets/man-hinh-khoa.png"' in lesson.body_html

    # A learner cannot see the draft; after publishing they can.
    assert client.post("/author/courses/ky-nang-so-co-ban/status", data={"status": "published"}).status_code == 302
    client.post("/logout")
    login(create_user("Học viên"))
    assert "Kỹ năng số cơ bản" in text_of(client.get("/courses"))
    page = client.get(f"/courses/ky-nang-so-co-ban/lessons/{lesson_id}").get_data(as_text=True)
    assert "<strong>mã khóa</strong>" in page
    assert client.get("/courses/ky-nang-so-co-ban/assets/man-hinh-khoa.png").data == PNG

    # The browser's course is a valid folder: export, check, import again unchanged.
    folder = export_course(course_by_slug("ky-nang-so-co-ban"), tmp_path)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "01-dien-thoai-an-toan/01-khoa-man-hinh.md", "01-dien-thoai-an-toan/module.md", "assets/man-hinh-khoa.png", "course.md"]
    assert (folder / "01-dien-thoai-an-toan" / "01-khoa-man-hinh.md").read_text(encoding="utf-8") == (
        "---\ntitle: Khóa màn hình\nminutes: 5\n---\nĐặt **mã khóa** 6 số.\n\n![Màn hình khóa](../assets/man-hinh-khoa.png)\n")
    source = read_course(folder)
    assert import_course(source) == "updated"
    assert _lesson(db_session, lesson_id).key == "dien-thoai-an-toan/khoa-man-hinh"  # same lesson, not a new one


def test_stale_save_is_refused_and_the_trainers_text_is_kept(client, owned, db_session):
    lesson = owned.active_lessons()[0]
    url = f"/author/courses/{owned.slug}/lessons/{lesson.id}"
    opened = lesson.version
    # Someone else saves first (another tab, another trainer).
    assert client.post(url, data={"title": "Bản của đồng nghiệp", "body": "Nội dung của đồng nghiệp.",
                                  "version": str(opened)}).status_code == 302

    response = client.post(url, data={"title": "Bản của tôi", "body": "Nội dung CỦA TÔI <không mất>.", "version": str(opened)})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved this lesson after you opened it" in text_of(response)
    assert "Nội dung CỦA TÔI &lt;không mất&gt;." in page  # my text is still in the textarea
    assert "Nội dung của đồng nghiệp." in page  # and theirs is shown to compare
    stored = _lesson(db_session, lesson.id)
    assert stored.body_md == "Nội dung của đồng nghiệp." and stored.version == opened + 1
    # Saving again from the conflict page is a deliberate overwrite.
    new_version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    assert int(new_version) == opened + 1
    assert client.post(url, data={"title": "Bản của tôi", "body": "Nội dung CỦA TÔI.", "version": new_version}).status_code == 302
    assert _lesson(db_session, lesson.id).body_md == "Nội dung CỦA TÔI."


def test_preview_without_js_and_as_json_uses_the_server_renderer(client, owned, db_session):
    lesson = owned.active_lessons()[0]
    response = client.post(f"/author/courses/{owned.slug}/lessons/{lesson.id}", data={
        "title": "T", "body": "## Tiêu đề\n\n<script>alert(1)</script>![a](../assets/so-do.svg)", "version": "1", "preview": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and re.search(r'<h2 id="[^"]*">Tiêu đề</h2>', page)
    assert "<script>alert" not in page and "/courses/mini-course/assets/so-do.svg" in page
    assert _lesson(db_session, lesson.id).version == 1  # not saved

    payload = {"markdown": "**đậm** [x](javascript:alert(1))", "slug": owned.slug}
    data = client.post("/author/preview.json", json=payload).get_json()
    assert "<strong>đậm</strong>" in data["html"] and "javascript" not in data["html"]


def test_revision_history_diff_and_revert(client, owned, db_session):
    lesson = owned.active_lessons()[0]
    url = f"/author/courses/{owned.slug}/lessons/{lesson.id}"
    original = _lesson(db_session, lesson.id).body_md
    client.post(url, data={"title": "Tiêu đề mới", "body": "Dòng mới <img src=x onerror=alert(1)>", "version": "1"})

    history = text_of(client.get(f"{url}/history"))
    assert "Tiêu đề mới" in history and "import from files" in history
    first = db_session.scalar(select(LessonRevision).where(LessonRevision.lesson_id == lesson.id, LessonRevision.version == 1))
    diff = client.get(f"{url}/revisions/{first.id}").get_data(as_text=True)
    assert "diff_sub" in diff or "diff_chg" in diff
    assert "onerror=alert" not in diff.replace("onerror=alert(1)&gt;", "")  # shown as text only
    assert "<img src=x" not in diff

    assert client.post(f"{url}/revisions/{first.id}/revert", data={"version": "2"}).status_code == 302
    reverted = _lesson(db_session, lesson.id)
    assert reverted.body_md == original and reverted.version == 3
    assert [r.origin for r in reverted.revisions] == ["revert", "browser", "import"]
    # A revert from a stale history page is refused too.
    client.post(f"{url}/revisions/{first.id}/revert", data={"version": "2"})
    assert _lesson(db_session, lesson.id).version == 3


def test_reordering_modules_and_lessons_shows_in_the_course_and_the_export(client, owned, db_session, tmp_path):
    first, second = owned.active_lessons()
    client.post(f"/author/courses/{owned.slug}/lessons/{first.id}/move", data={"direction": "down"})
    modules = [m for m in owned.modules]
    client.post(f"/author/courses/{owned.slug}/modules/{modules[1].id}/move", data={"direction": "up"})
    db_session.expire_all()
    course = course_by_slug(owned.slug)
    assert [m.key for m in course.modules] == ["kiem-tra", "bai-mo-dau"]
    assert [lsn.key for lsn in course.active_lessons()] == ["dang-nhap-vneid", "bai-mo-dau/gioi-thieu"]
    folder = export_course(course, tmp_path)
    assert (folder / "02-bai-mo-dau" / "01-dang-nhap.md").is_file() and (folder / "02-bai-mo-dau" / "02-gioi-thieu.md").is_file()
    assert (folder / "01-kiem-tra" / "quiz.md").is_file()
    again = read_course(folder)
    assert [lsn.key for m in again.modules for lsn in m.lessons] == ["dang-nhap-vneid", "bai-mo-dau/gioi-thieu"]


def test_moving_a_removed_lesson_says_so_and_changes_nothing(client, owned, db_session, create_user):
    # Found by the bad-input run: a lesson archived by one request, moved by another, answered 500.
    first, _second = owned.active_lessons()
    enrollment = Enrollment(user_id=create_user("Lê Văn Học").id, course_id=owned.id)
    db_session.add(enrollment)
    db_session.flush()
    db_session.add(LessonProgress(enrollment_id=enrollment.id, lesson_id=first.id))
    ops.archive_lesson(first)  # opened by a learner: archived, not deleted
    positions = {lesson.id: lesson.position for lesson in owned.lessons}
    answer = client.post(f"/author/courses/{owned.slug}/lessons/{first.id}/move", data={"direction": "down"},
                         follow_redirects=True)
    assert answer.status_code == 200 and "cannot be moved" in answer.get_data(as_text=True)
    db_session.expire_all()
    assert {lesson.id: lesson.position for lesson in course_by_slug(owned.slug).lessons} == positions


@pytest.mark.parametrize(("name", "data", "message"), [
    ("virus.exe", b"MZ...", "This kind of file cannot be uploaded"),
    ("anh.png", b"GIF89a not a png", "does not match its extension .png"),
    ("trong.pdf", b"", "The file is empty"),
    ("lon.pdf", b"%PDF" + b"0" * (2 * 1024 * 1024), "too large"),
])
def test_uploads_are_type_and_size_checked(client, owned, app, monkeypatch, name, data, message):
    import io

    monkeypatch.setitem(app.config, "LMS_UPLOAD_MAX_BYTES", 1024 * 1024)
    response = client.post(f"/author/courses/{owned.slug}/assets", data={"file": (io.BytesIO(data), name)},
                           headers={"Accept": "application/json"}, content_type="multipart/form-data")
    assert response.status_code == 400 and message in response.get_json()["message"]
    assert client.get(f"/courses/{owned.slug}/assets/{name}").status_code == 404


def test_upload_answers_the_markdown_to_insert(client, owned):
    import io

    response = client.post(f"/author/courses/{owned.slug}/assets", data={"file": (io.BytesIO(b"%PDF-1.4"), "Hướng dẫn nộp.pdf")},
                           headers={"Accept": "application/json"}, content_type="multipart/form-data")
    assert response.get_json() == {"name": "huong-dan-nop.pdf", "markdown": "[Hướng dẫn nộp](../assets/huong-dan-nop.pdf)"}
    served = client.get(f"/courses/{owned.slug}/assets/huong-dan-nop.pdf")
    assert served.mimetype == "application/pdf" and served.data == b"%PDF-1.4"


def test_quiz_is_edited_as_its_file_and_errors_keep_the_old_quiz(client, owned, db_session, tmp_path):
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == owned.id))
    url = f"/author/courses/{owned.slug}/quizzes/{quiz.id}"
    assert "## Số định danh cá nhân có bao nhiêu chữ số?" in client.get(url).get_data(as_text=True)
    good = quiz.source_text.replace("- [ ] 15", "- [ ] 16")
    assert client.post(url, data={"text": good}).status_code == 302
    db_session.expire_all()
    assert [o["md"] for o in quiz.active_questions()[0].options] == ["9", "12", "16"]
    assert (export_course(owned, tmp_path) / "02-kiem-tra" / "quiz.md").read_text(encoding="utf-8") == good

    bad = good.replace("type: single", "type: singel")
    response = client.post(url, data={"text": bad})
    assert response.status_code == 400 and "quiz.md:8: unknown question type `singel`" in text_of(response)
    assert "type: singel" in response.get_data(as_text=True)  # the trainer's text stays in the form
    db_session.expire_all()
    assert quiz.source_text == good


def test_import_of_a_changed_folder_wins_but_keeps_the_browser_text_in_history(client, owned, db_session, course_copy):
    lesson = owned.active_lessons()[0]
    client.post(f"/author/courses/{owned.slug}/lessons/{lesson.id}", data={"title": "T", "body": "Sửa trên web.", "version": "1"})
    folder = course_copy()
    (folder / "01-bai-mo-dau" / "01-gioi-thieu.md").write_text("---\ntitle: Giới thiệu\n---\nSửa trong git.\n", encoding="utf-8")

    assert import_course(read_course(folder)) == "updated"
    stored = _lesson(db_session, lesson.id)
    assert stored.body_md == "Sửa trong git." and stored.version == 3
    assert [(r.origin, r.body_md) for r in stored.revisions][:2] == [("import", "Sửa trong git."), ("browser", "Sửa trên web.")]


def test_an_owner_gives_a_trainer_access(client, owned, create_user, db_session):
    colleague = create_user("Đồng nghiệp", roles=("trainer",), email="dongnghiep@example.vn")
    learner = create_user("Học viên", email="hocvien@example.vn")
    client.post(f"/author/courses/{owned.slug}/owners", data={"login": "hocvien@example.vn"})
    response = client.post(f"/author/courses/{owned.slug}/owners", data={"login": "dongnghiep@example.vn"}, follow_redirects=True)
    assert "Đồng nghiệp can now edit this course." in text_of(response)
    db_session.expire_all()
    assert owned.can_manage(colleague) and not owned.can_manage(learner)


def test_a_quiz_added_in_the_browser_is_a_quiz_file_in_the_export(client, owned, db_session, tmp_path):
    module = owned.modules[0]
    response = client.post(f"/author/courses/{owned.slug}/modules/{module.id}/quizzes", data={"title": "Ôn tập chương 1"})
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == owned.id, Quiz.module_id == module.id))
    assert response.headers["Location"].endswith(f"/quizzes/{quiz.id}")
    assert quiz.title == "Ôn tập chương 1" and quiz.source_name == "quiz.md" and len(quiz.active_questions()) == 1
    folder = export_course(owned, tmp_path)
    assert (folder / "01-bai-mo-dau" / "quiz.md").read_text(encoding="utf-8").startswith("---\ntitle: Ôn tập chương 1\n")
    source = read_course(folder)
    assert [q.title for q in source.modules[0].quizzes] == ["Ôn tập chương 1"]


def test_removing_a_lesson_archives_it_when_learners_opened_it(client, owned, db_session, create_user):
    from lms.enrollment import operations as enrollment_ops

    opened, untouched = owned.active_lessons()
    enrollment_ops.mark_done(enrollment_ops.enrol(create_user("Học viên"), owned), opened)
    opened_id, untouched_id = opened.id, untouched.id
    client.post(f"/author/courses/{owned.slug}/lessons/{opened_id}/archive")
    client.post(f"/author/courses/{owned.slug}/lessons/{untouched_id}/archive")
    db_session.expire_all()
    assert db_session.get(Lesson, opened_id).archived_at is not None
    assert db_session.get(Lesson, untouched_id) is None
    assert course_by_slug(owned.slug).active_lessons() == []


def _opened(page: str) -> str:
    return re.search(r'name="opened" type="hidden" value="([0-9a-f]+)"', page).group(1)


def test_course_module_and_quiz_pages_refuse_stale_saves_too(client, owned, db_session):
    module = owned.modules[0]
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == owned.id))
    course_url = f"/author/courses/{owned.slug}"
    module_url = f"{course_url}/modules/{module.id}"
    quiz_url = f"{course_url}/quizzes/{quiz.id}"
    opened = {url: _opened(client.get(url).get_data(as_text=True)) for url in (course_url, module_url, quiz_url)}
    # Someone else saves each page first.
    assert client.post(course_url, data={"title": "Tên của đồng nghiệp", "code": "TEST-101", "opened": opened[course_url]}
                       ).status_code == 302
    assert client.post(module_url, data={"title": "Chương của đồng nghiệp", "opened": opened[module_url]}).status_code == 302
    theirs = quiz.source_text.replace("- [ ] 15", "- [ ] 16")
    assert client.post(quiz_url, data={"text": theirs, "opened": opened[quiz_url]}).status_code == 302

    mine = {course_url: {"title": "Tên CỦA TÔI", "code": "TEST-101"}, module_url: {"title": "Chương CỦA TÔI"},
            quiz_url: {"text": theirs.replace("- [ ] 16", "- [ ] 17 CỦA TÔI")}}
    for url, data in mine.items():
        response = client.post(url, data={**data, "opened": opened[url]})
        assert response.status_code == 409, url
        assert "Someone else saved this page after you opened it" in text_of(response)
        assert "CỦA TÔI" in response.get_data(as_text=True)  # kept on the page
    db_session.expire_all()
    assert owned.title == "Tên của đồng nghiệp" and module.title == "Chương của đồng nghiệp" and quiz.source_text == theirs


def test_a_failed_upload_never_redirects_off_site(client, owned):
    import io

    response = client.post(f"/author/courses/{owned.slug}/assets",
                           data={"file": (io.BytesIO(b"MZ"), "x.exe"), "next": "//evil.example/"},
                           content_type="multipart/form-data")
    assert response.headers["Location"].endswith(f"/author/courses/{owned.slug}")


def test_with_csrf_on_the_editor_forms_and_the_js_preview_carry_the_token(client, owned, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    lesson = owned.active_lessons()[0]
    page = client.get(f"/author/courses/{owned.slug}/lessons/{lesson.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert page.count('name="csrf_token"') >= 3  # the lesson form, remove-lesson and upload forms

    refused = client.post("/author/preview.json", json={"markdown": "**a**"})
    assert refused.status_code == 400
    allowed = client.post("/author/preview.json", json={"markdown": "**a**"}, headers={"X-CSRFToken": token})
    assert allowed.get_json()["html"] == "<p><strong>a</strong></p>"


@pytest.mark.parametrize("kind", ["lessons", "quizzes"])
def test_a_lesson_or_quiz_without_a_title_is_refused_with_a_message(client, owned, db_session, kind):
    module = owned.modules[0]
    before = (len(owned.active_lessons()), db_session.scalar(select(func.count(Quiz.id))))
    response = client.post(f"/author/courses/{owned.slug}/modules/{module.id}/{kind}", data={"title": "  "},
                           follow_redirects=True)
    assert response.status_code == 200 and "Enter a title." in text_of(response)
    db_session.expire_all()
    assert (len(course_by_slug(owned.slug).active_lessons()), db_session.scalar(select(func.count(Quiz.id)))) == before
