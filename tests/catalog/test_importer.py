"""Importing course folders (COURSE_FORMAT.md): structure, idempotence, identity, errors, CLI, assets."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.catalog.models import Course, Lesson, Module
from lms.catalog.operations import import_course
from lms.catalog.queries import course_by_slug
from lms.catalog.source import read_course
from lms.core.frontmatter import SourceError
from lms.enrollment import operations as enrollment_ops
from lms.enrollment.models import LessonProgress
from lms.quizzes.models import Question, Quiz
from tests.conftest import FIXTURE_COURSES

from .conftest import set_front_matter


def lesson_by_key(db_session, course, key):
    return db_session.scalar(select(Lesson).where(Lesson.course_id == course.id, Lesson.key == key))


def snapshot(db_session, course):
    """Everything an unchanged re-import must leave alone."""
    db_session.expire_all()
    return {
        "course": (course.id, course.updated_at, course.source_hash),
        "modules": db_session.execute(select(Module.id, Module.key, Module.position).order_by(Module.id)
                                      .where(Module.course_id == course.id)).all(),
        "lessons": db_session.execute(select(Lesson.id, Lesson.key, Lesson.position, Lesson.body_html)
                                      .where(Lesson.course_id == course.id).order_by(Lesson.id)).all(),
        "questions": db_session.execute(select(Question.id, Question.key, Question.answer).join(Quiz)
                                        .where(Quiz.course_id == course.id).order_by(Question.id)).all(),
    }


# ---------------------------------------------------------------- structure

def test_import_creates_course_modules_lessons_and_quiz_in_order(create_course, db_session):
    course = create_course()

    assert course.title == "Khóa học thử nghiệm Dịch vụ công"
    assert course.code == "TEST-101" and course.status == "published"
    assert course.audience == ["citizen", "official"] and float(course.hours) == 2
    assert course.tags == ["dịch vụ công", "thử nghiệm"] and course.valid_months == 12
    assert "<strong>thử nghiệm</strong>" in course.description_html
    assert [(m.key, m.position, m.title) for m in course.modules] == [
        ("bai-mo-dau", 1, "Mở đầu"), ("kiem-tra", 2, "Kiem tra")]
    assert [(lesson.key, lesson.title, lesson.minutes) for lesson in course.active_lessons()] == [
        ("bai-mo-dau/gioi-thieu", "Giới thiệu Cổng Dịch vụ công", 5),
        ("dang-nhap-vneid", "Đăng nhập bằng VNeID", None),  # the explicit `id:` wins over the file name
    ]
    assert all(lesson.module.key == "bai-mo-dau" for lesson in course.active_lessons())

    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    assert (quiz.key, quiz.title, quiz.pass_mark, quiz.max_attempts) == ("kiem-tra/quiz", "Bài kiểm tra", 50, 3)
    assert quiz.module.key == "kiem-tra"
    questions = quiz.active_questions()
    assert [q.type for q in questions] == ["single", "multiple"]
    assert questions[0].answer == ["b"] and questions[1].answer == ["a", "b"]
    assert [o["md"] for o in questions[0].options] == ["9", "12", "15"]
    assert "12 chữ số" in questions[0].feedback_html


def test_lesson_links_to_assets_point_at_the_served_url(create_course):
    course = create_course()
    first = course.active_lessons()[0]
    assert 'src="/courses/mini-course/assets/so-do.svg"' in first.body_html
    assert "<script" not in first.body_html and "onerror" not in first.body_html


# ---------------------------------------------------------------- idempotence and identity

def test_importing_the_unchanged_folder_again_changes_nothing(create_course, db_session):
    course = create_course()
    before = snapshot(db_session, course)

    assert import_course(read_course(FIXTURE_COURSES / "mini-course")) == "unchanged"
    db_session.flush()

    assert snapshot(db_session, course) == before
    assert db_session.scalar(select(func.count(Course.id)).where(Course.slug == "mini-course")) == 1


def test_renumbered_lesson_file_keeps_its_identity_and_the_learners_progress(
        create_course, course_copy, create_user, db_session):
    folder = course_copy()
    course = create_course(folder)
    lesson = lesson_by_key(db_session, course, "bai-mo-dau/gioi-thieu")
    enrollment = enrollment_ops.enrol(create_user(), course)
    enrollment_ops.mark_done(enrollment, lesson)
    lesson_id = lesson.id

    module = folder / "01-bai-mo-dau"
    (module / "01-gioi-thieu.md").rename(module / "05-gioi-thieu.md")
    assert import_course(read_course(folder)) == "updated"
    db_session.flush()
    db_session.expire_all()

    moved = lesson_by_key(db_session, course, "bai-mo-dau/gioi-thieu")
    assert moved.id == lesson_id and moved.archived_at is None
    assert [lsn.key for lsn in course.active_lessons()] == ["dang-nhap-vneid", "bai-mo-dau/gioi-thieu"]
    progress = db_session.scalar(select(LessonProgress).where(LessonProgress.enrollment_id == enrollment.id))
    assert progress.lesson_id == lesson_id and progress.completed_at is not None


def test_removed_lessons_are_archived_when_touched_and_deleted_when_not(
        create_course, course_copy, create_user, db_session):
    folder = course_copy()
    course = create_course(folder)
    touched = lesson_by_key(db_session, course, "bai-mo-dau/gioi-thieu")
    untouched_id = lesson_by_key(db_session, course, "dang-nhap-vneid").id
    enrollment = enrollment_ops.enrol(create_user(), course)
    db_session.add(LessonProgress(enrollment=enrollment, lesson=touched))  # opened, not finished
    touched_id = touched.id

    module = folder / "01-bai-mo-dau"
    (module / "01-gioi-thieu.md").unlink()
    (module / "02-dang-nhap.md").unlink()
    (module / "03-bai-moi.md").write_text("---\ntitle: Bài mới\n---\nNội dung mới.\n", encoding="utf-8")
    assert import_course(read_course(folder)) == "updated"
    db_session.flush()
    db_session.expire_all()

    archived = db_session.get(Lesson, touched_id)
    assert archived is not None and archived.archived_at is not None
    assert db_session.get(Lesson, untouched_id) is None
    assert [lsn.key for lsn in course.active_lessons()] == ["bai-mo-dau/bai-moi"]
    assert db_session.scalar(select(func.count(LessonProgress.id)).where(
        LessonProgress.enrollment_id == enrollment.id, LessonProgress.lesson_id == touched_id)) == 1


# ---------------------------------------------------------------- errors with file:line

def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _break_yaml(folder):
    _write(folder / "01-bai-mo-dau" / "01-gioi-thieu.md", "---\ntitle: Giới thiệu\nminutes: 5: 3\n---\nXin chào.\n")
    return "01-bai-mo-dau/01-gioi-thieu.md", 3, "not valid YAML"


def _unknown_key(folder):
    _write(folder / "01-bai-mo-dau" / "01-gioi-thieu.md", "---\ntitle: Giới thiệu\nminuts: 5\n---\nXin chào.\n")
    return "01-bai-mo-dau/01-gioi-thieu.md", 3, "did you mean `minutes`"


def _bad_number(folder):
    set_front_matter(folder / "course.md", hours="hai")
    return "course.md", 6, "`hours` must be a number"


def _unknown_audience(folder):
    set_front_matter(folder / "course.md", audience="[citizen, farmer]")
    return "course.md", 5, "unknown audience farmer"


def _two_correct_single(folder):
    quiz = folder / "02-kiem-tra" / "quiz.md"
    _write(quiz, quiz.read_text(encoding="utf-8").replace("- [ ] 9", "- [x] 9"))
    return "02-kiem-tra/quiz.md", 7, "exactly one correct option"


def _unknown_question_type(folder):
    quiz = folder / "02-kiem-tra" / "quiz.md"
    _write(quiz, quiz.read_text(encoding="utf-8").replace("type: single", "type: singel"))
    return "02-kiem-tra/quiz.md", 8, "unknown question type `singel`"


def _not_utf8(folder):
    text = "---\ntitle: Dang nhap\n---\nDong mot.\nXin chào.\n"
    (folder / "01-bai-mo-dau" / "02-dang-nhap.md").write_bytes(text.encode("cp1258"))
    return "01-bai-mo-dau/02-dang-nhap.md", 5, "not UTF-8"


BREAKAGES = [_break_yaml, _unknown_key, _bad_number, _unknown_audience, _two_correct_single, _unknown_question_type, _not_utf8]


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda f: f.__name__.strip("_"))
def test_source_error_names_the_file_and_line(course_copy, breakage):
    folder = course_copy()
    relative, line, message = breakage(folder)

    with pytest.raises(SourceError) as caught:
        read_course(folder)

    assert caught.value.where == f"{folder / relative}:{line}"
    assert message in caught.value.message


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda f: f.__name__.strip("_"))
def test_cli_import_keeps_the_previous_version_and_imports_the_other_courses(
        app, create_course, course_copy, db_session, breakage):
    broken = course_copy()
    course = create_course(broken)
    before = snapshot(db_session, course)
    db_session.commit()  # the CLI's rollback of the failed course must not undo the setup
    course_copy("khoa-hai", code="KHOA-2", title="Khóa học thứ hai")
    set_front_matter(broken / "course.md", title="Tiêu đề mới không được áp dụng")
    breakage(broken)

    result = app.test_cli_runner().invoke(args=["courses", "import", str(broken.parent)])

    assert result.exit_code == 1
    assert "failed    mini-course" in result.output and "created   khoa-hai" in result.output
    assert "1 created, 0 updated, 0 unchanged, 1 failed" in result.output
    assert str(broken) in result.output  # the error names the file
    after = snapshot(db_session, course)
    assert after == before and course.title == "Khóa học thử nghiệm Dịch vụ công"
    other = course_by_slug("khoa-hai")
    assert other.title == "Khóa học thứ hai" and len(other.active_lessons()) == 2


def test_cli_import_counts_created_updated_and_unchanged(app, create_course, course_copy, db_session):
    first = course_copy()
    create_course(first)
    db_session.commit()
    second = course_copy("khoa-hai", code="KHOA-2")
    create_course(second)
    db_session.commit()
    set_front_matter(second / "course.md", title="Khóa học hai, bản mới")
    course_copy("khoa-ba", code="KHOA-3")

    result = app.test_cli_runner().invoke(args=["courses", "import", str(first.parent)])

    assert result.exit_code == 0, result.output
    assert "1 created, 1 updated, 1 unchanged, 0 failed" in result.output
    assert course_by_slug("khoa-hai").title == "Khóa học hai, bản mới"
    assert course_by_slug("khoa-ba") is not None


def test_cli_check_prints_file_line_errors_and_exits_1(app, course_copy):
    broken = course_copy()
    relative, line, _ = _unknown_key(broken)
    course_copy("khoa-hai", code="KHOA-2")

    result = app.test_cli_runner().invoke(args=["courses", "check", str(broken.parent)])

    assert result.exit_code == 1
    assert f"{broken / relative}:{line}: error: unknown front-matter key `minuts`" in result.output
    assert "1 ok, 1 with errors" in result.output


def test_cli_check_passes_on_the_fixture_folder(app):
    result = app.test_cli_runner().invoke(args=["courses", "check", str(FIXTURE_COURSES)])
    assert result.exit_code == 0
    assert "1 ok, 0 with errors" in result.output and "error:" not in result.output


# ---------------------------------------------------------------- assets

def test_assets_are_copied_to_the_store_and_served_sandboxed(app, client, create_course):
    create_course()
    source = (FIXTURE_COURSES / "mini-course" / "assets" / "so-do.svg").read_bytes()
    stored = Path(app.config["LMS_FILE_STORE"]) / "courses" / "mini-course" / "assets" / "so-do.svg"
    assert stored.read_bytes() == source

    response = client.get("/courses/mini-course/assets/so-do.svg")

    assert response.status_code == 200 and response.data == source
    assert response.mimetype == "image/svg+xml"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", [
    "../assets/so-do.svg",
    "../../mini-course/assets/so-do.svg",
    "..%2f..%2f..%2fcourse.md",
    "../../../../../../etc/passwd",
    "khong-co.svg",
])
def test_asset_path_traversal_and_missing_files_are_refused(client, create_course, path):
    create_course()
    response = client.get(f"/courses/mini-course/assets/{path}")
    assert response.status_code == 404
    assert b"<svg" not in response.data and b"root:" not in response.data


# ---------------------------------------------------------------- the checker: links, duplicates, all errors at once

def test_check_reports_broken_links_and_images_with_file_line_and_a_guess(app, course_copy):
    folder = course_copy()
    lesson = folder / "01-bai-mo-dau" / "01-gioi-thieu.md"
    _write(lesson, "---\ntitle: Giới thiệu\n---\nDòng một.\n\n![Sơ đồ](../assets/so-doo.svg)\n"
                   "[Tài liệu](../assets/khong-co.pdf) và [web](https://dichvucong.gov.vn) [mục](#muc)\n"
                   "```\n![trong code](khong-kiem-tra.png)\n```\n<img src=\"../../ngoai.png\">\n")
    _write(folder / "01-bai-mo-dau" / "02-dang-nhap.md", "---\ntitle: Đăng nhập\nminuts: 3\n---\nA.\n")

    result = app.test_cli_runner().invoke(args=["courses", "check", str(folder)])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{lesson}:6: error: broken link `../assets/so-doo.svg`: no file assets/so-doo.svg in the course" \
           " — did you mean `../assets/so-do.svg`?" in lines
    assert any(line.startswith(f"{lesson}:7: error: broken link `../assets/khong-co.pdf`") for line in lines)
    assert f"{lesson}:11: error: the link `../../ngoai.png` points outside the course folder" in lines
    assert not any("dichvucong" in line or "#muc" in line or "khong-kiem-tra" in line for line in lines)
    # Every problem is listed, not only the first one.
    assert any("02-dang-nhap.md:3: error: unknown front-matter key `minuts`" in line for line in lines)
    assert "0 ok, 1 with errors" in result.output


def test_check_reports_duplicate_lesson_ids_module_ids_and_course_codes(app, course_copy):
    first = course_copy()
    _write(first / "01-bai-mo-dau" / "03-trung.md", "---\ntitle: Trùng\nid: dang-nhap-vneid\n---\nA.\n")
    (first / "03-bai-mo-dau").mkdir()
    _write(first / "03-bai-mo-dau" / "01-khac.md", "---\ntitle: Khác\n---\nB.\n")
    course_copy("khoa-hai")  # same code TEST-101, checked first

    result = app.test_cli_runner().invoke(args=["courses", "check", str(first.parent)])

    assert result.exit_code == 1
    assert f"{first / '01-bai-mo-dau' / '03-trung.md'}:3: error: lesson id `dang-nhap-vneid` is also used by" in result.output
    assert f"{first / '03-bai-mo-dau'}: error: module id `bai-mo-dau` is also used by" in result.output
    assert f"{first / 'course.md'}:3: error: duplicate course code `TEST-101` (also used by" in result.output


def test_importer_refuses_a_course_with_a_broken_link(course_copy):
    folder = course_copy()
    _write(folder / "01-bai-mo-dau" / "02-dang-nhap.md", "---\ntitle: Đăng nhập\n---\n![x](hinh.png)\n")
    with pytest.raises(SourceError) as caught:
        read_course(folder)
    assert caught.value.where.endswith("02-dang-nhap.md:4") and "broken link `hinh.png`" in caught.value.message


def test_unknown_audience_value_gets_a_guess(course_copy):
    folder = course_copy()
    set_front_matter(folder / "course.md", audience="[citzen]")
    with pytest.raises(SourceError) as caught:
        read_course(folder)
    assert caught.value.where.endswith("course.md:5") and "did you mean `citizen`?" in caught.value.message
