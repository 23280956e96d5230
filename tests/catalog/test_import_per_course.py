"""`courses import` is per course and `courses check` finds what import would refuse (defect 12).

A reused course code made the whole import abort on an IntegrityError (courses after it never
imported) while `courses check` said "ok"; and the checker stopped at the first error of a course.
"""

from pathlib import Path

import pytest
from sqlalchemy import select

from lms.catalog import operations as catalog_ops
from lms.catalog.models import Course
from lms.catalog.queries import course_by_slug

from .conftest import set_front_matter


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


@pytest.fixture()
def folder_with_a_reused_code(create_course, course_copy, db_session):
    """In the database: mini-course (TEST-101) and b-trung (B-1, "Khóa B cũ"). In the folder:
    a-truoc (new), b-trung now claiming TEST-101 with a new title, c-sau (new, after it)."""
    create_course(course_copy("mini-course", parent="before"))
    create_course(course_copy("b-trung", parent="before", code="B-1", title="Khóa B cũ"))
    db_session.commit()  # the CLI's rollback of the failed course must not undo the setup
    first = course_copy("a-truoc", code="A-1", title="Khóa A")
    course_copy("b-trung", code="TEST-101", title="Khóa B mới")
    course_copy("c-sau", code="C-1", title="Khóa C")
    return first.parent


def test_import_goes_on_past_a_reused_code_and_keeps_the_old_version(app, db_session, folder_with_a_reused_code):
    result = app.test_cli_runner().invoke(args=["courses", "import", str(folder_with_a_reused_code)])

    assert result.exit_code == 1, result.output
    course_md = folder_with_a_reused_code / "b-trung" / "course.md"
    assert (f"{course_md}:3: the course code `TEST-101` is already used by the course `mini-course` "
            "(Khóa học thử nghiệm Dịch vụ công); give this course another `code`") in result.output
    assert "created   a-truoc" in result.output and "failed    b-trung" in result.output
    assert "created   c-sau" in result.output
    assert "2 created, 0 updated, 0 unchanged, 1 failed" in result.output
    db_session.expire_all()
    old = course_by_slug("b-trung")
    assert (old.code, old.title) == ("B-1", "Khóa B cũ")
    assert course_by_slug("c-sau").title == "Khóa C" and len(course_by_slug("c-sau").active_lessons()) == 2
    assert course_by_slug("mini-course").code == "TEST-101"


def test_a_constraint_the_checks_missed_fails_that_course_only(app, db_session, folder_with_a_reused_code,
                                                                monkeypatch):
    # A concurrent import took the code between our check and our write: the database refuses it.
    monkeypatch.setattr(catalog_ops, "code_taken_by", lambda slug, code: None)

    result = app.test_cli_runner().invoke(args=["courses", "import", str(folder_with_a_reused_code)])

    assert result.exit_code == 1, result.output
    assert "failed    b-trung" in result.output and "created   c-sau" in result.output
    assert "b-trung: the database refused the course (a value that must be unique is already used" in result.output
    db_session.expire_all()
    assert course_by_slug("b-trung").title == "Khóa B cũ"
    assert db_session.scalar(select(Course.code).where(Course.slug == "c-sau")) == "C-1"


def test_check_finds_a_code_reused_against_the_database(app, db_session, folder_with_a_reused_code):
    result = app.test_cli_runner().invoke(args=["courses", "check", str(folder_with_a_reused_code)])

    assert result.exit_code == 1
    course_md = folder_with_a_reused_code / "b-trung" / "course.md"
    assert (f"{course_md}:3: error: the course code `TEST-101` is already used by the course `mini-course` "
            "(Khóa học thử nghiệm Dịch vụ công); give this course another `code`") in result.output
    assert "2 ok, 1 with errors" in result.output


def test_check_lists_every_error_of_a_badly_broken_course(app, course_copy):
    folder = course_copy()
    course_md = folder / "course.md"
    write(course_md, course_md.read_text(encoding="utf-8")
          .replace("title: Khóa học thử nghiệm Dịch vụ công\n", "")
          .replace("passing_score: 50", "pasing_score: 50"))
    lesson = folder / "01-bai-mo-dau" / "01-gioi-thieu.md"
    write(lesson, "---\ntitle: Giới thiệu\n---\nXin chào.\n\n![Ảnh chụp màn hình](../assets/man-hinh.png)\n")
    quiz = folder / "02-kiem-tra" / "quiz.md"
    write(quiz, quiz.read_text(encoding="utf-8").replace("type: single", "type: singel")
          .replace("- [x] Đọc mã OTP cho người gọi\n- [x] Bấm", "- [ ] Đọc mã OTP cho người gọi\n- [ ] Bấm"))

    result = app.test_cli_runner().invoke(args=["courses", "check", str(folder)])

    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert errors == [
        f"{course_md}:2: error: `title` is required",
        f"{course_md}:6: error: unknown front-matter key `pasing_score` — did you mean `passing_score`?",
        f"{lesson}:6: error: broken link `../assets/man-hinh.png`: no file assets/man-hinh.png in the course",
        f"{quiz}:8: error: unknown question type `singel`; use one of single, multiple, true-false, short, "
        "numeric, matching, ordering, essay, description",
        f"{quiz}:14: error: a multiple-choice question needs at least one correct option `[x]`",
    ], result.output
    assert "0 ok, 1 with errors" in result.output


def test_import_refuses_the_badly_broken_course_naming_its_first_error(app, db_session, course_copy):
    folder = course_copy()
    set_front_matter(folder / "course.md", pasing_score="50")
    quiz = folder / "02-kiem-tra" / "quiz.md"
    write(quiz, quiz.read_text(encoding="utf-8").replace("type: single", "type: singel"))

    result = app.test_cli_runner().invoke(args=["courses", "import", str(folder.parent)])

    assert result.exit_code == 1 and "failed    mini-course" in result.output
    assert "unknown front-matter key `pasing_score`" in result.output
    assert course_by_slug("mini-course") is None
