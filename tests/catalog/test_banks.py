"""Question banks travel with the course folder: `banks/*.gift` ↔ the trainer's uploads."""

import io
import shutil

import pytest
from sqlalchemy import select

from lms.catalog.export import export_course
from lms.catalog.models import CourseOwner
from lms.catalog.operations import import_course
from lms.catalog.queries import course_by_slug
from lms.catalog.source import read_course
from lms.completion.rules import completion_quiz_ids
from lms.quizzes.models import Quiz
from tests.catalog.test_roundtrip import tree
from tests.conftest import FIXTURE_COURSES, text_of

BANK = """// title: Ngân hàng đề thi
$CATEGORY: $course$/Dịch vụ công

::DVC1::Ứng dụng định danh điện tử quốc gia là?{=VNeID ~Zalo}

::DVC2::Cổng Dịch vụ công cho phép nộp hồ sơ trực tuyến.{T}

$CATEGORY: $course$/An toàn thông tin

::ATTT1::Có nên đọc mã OTP cho người gọi điện không?{F}
"""

EXAM = """---
title: Thi cuối khoá
time_limit: 20
bank: [bank/ngan-hang-de-thi]
draw: {Dịch vụ công: 1, An toàn thông tin: 1}
---

## Số định danh cá nhân có bao nhiêu chữ số?
type: single
- [ ] 9
- [x] 12
"""


@pytest.fixture()
def folder_with_bank(tmp_path):
    folder = tmp_path / "courses" / "mini-course"
    shutil.copytree(FIXTURE_COURSES / "mini-course", folder)
    (folder / "banks").mkdir()
    (folder / "banks" / "ngan-hang-de-thi.gift").write_text(BANK, encoding="utf-8")
    (folder / "02-kiem-tra" / "thi.quiz.md").write_text(EXAM, encoding="utf-8")
    return folder


def test_a_bank_file_imports_as_a_bank_and_exports_byte_identical(folder_with_bank, db_session, tmp_path):
    assert import_course(read_course(folder_with_bank)) == "created"
    course = course_by_slug("mini-course")
    bank = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.key == "bank/ngan-hang-de-thi"))
    assert bank.title == "Ngân hàng đề thi" and bank.module_id is None
    assert sorted(q.category for q in bank.active_questions()) == ["An toàn thông tin", "Dịch vụ công", "Dịch vụ công"]
    # Banks never decide completion; the exam drawing from it does.
    assert bank.id not in completion_quiz_ids(course)
    exam = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.title == "Thi cuối khoá"))
    assert len(exam.bank_questions()) == 3

    exported = export_course(course, tmp_path / "out")
    assert tree(exported)["banks/ngan-hang-de-thi.gift"] == BANK.encode()
    assert tree(exported)["02-kiem-tra/thi.quiz.md"] == EXAM.encode()
    assert import_course(read_course(exported)) in ("updated", "unchanged")
    assert tree(export_course(course_by_slug("mini-course"), tmp_path / "again")) == tree(exported)


def test_a_bank_uploaded_in_the_browser_is_exported_and_comes_back_in_another_deployment(
        client, create_course, create_user, login, db_session, tmp_path):
    course = create_course()
    trainer = create_user("Giảng Viên", roles=("trainer",), audience="official", email="gv@example.vn")
    course.owners.append(CourseOwner(user=trainer))
    db_session.flush()
    login(trainer)
    upload = BANK.replace("// title: Ngân hàng đề thi\n", "")
    response = client.post(f"/courses/{course.slug}/quizzes/manage", content_type="multipart/form-data", data={
        "format": "gift", "title": "Ngân hàng đề thi", "file": (io.BytesIO(upload.encode()), "de-thi.gift")})
    assert response.status_code == 303
    exported = export_course(course, tmp_path / "out")
    text = (exported / "banks" / "ngan-hang-de-thi.gift").read_text(encoding="utf-8")
    # The file is the trainer's, with the title kept in a comment Moodle ignores.
    assert text == "// title: Ngân hàng đề thi\n" + upload

    # "Another deployment": the exported folder under a new slug.
    copy = tmp_path / "other" / "khoa-khac"
    shutil.copytree(exported, copy)
    course_md = copy / "course.md"
    course_md.write_text(course_md.read_text(encoding="utf-8").replace("code: TEST-101", "code: KHAC-1"), encoding="utf-8")
    assert import_course(read_course(copy)) == "created"
    other = course_by_slug("khoa-khac")
    bank = db_session.scalar(select(Quiz).where(Quiz.course_id == other.id, Quiz.key == "bank/ngan-hang-de-thi"))
    assert bank.title == "Ngân hàng đề thi" and len(bank.active_questions()) == 3


def test_an_aiken_upload_is_kept_as_gift(client, create_course, create_user, login, db_session):
    course = create_course()
    trainer = create_user("Giảng Viên", roles=("trainer",), audience="official", email="gv@example.vn")
    course.owners.append(CourseOwner(user=trainer))
    db_session.flush()
    login(trainer)
    aiken = "Thủ đô của Việt Nam?\nA. Hà Nội\nB. Huế\nANSWER: A\n"
    client.post(f"/courses/{course.slug}/quizzes/manage", content_type="multipart/form-data", data={
        "format": "aiken", "title": "Ôn tập", "file": (io.BytesIO(aiken.encode()), "on-tap.txt")})
    bank = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.key == "bank/on-tap"))
    assert bank.source_name == "on-tap.gift" and bank.source_text.startswith("// title: Ôn tập\n")
    assert "=Hà Nội" in bank.source_text and "~Huế" in bank.source_text


def test_a_bank_is_edited_in_the_browser_as_its_gift_file(client, folder_with_bank, create_user, login, db_session):
    import_course(read_course(folder_with_bank))
    course = course_by_slug("mini-course")
    trainer = create_user("Giảng Viên", roles=("trainer",), audience="official", email="gv@example.vn")
    course.owners.append(CourseOwner(user=trainer))
    db_session.flush()
    login(trainer)
    bank = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.key == "bank/ngan-hang-de-thi"))
    url = f"/author/courses/{course.slug}/quizzes/{bank.id}"
    assert "::DVC1::" in client.get(url).get_data(as_text=True)
    edited = BANK + "\n::ATTT2::Đường link lạ trong tin nhắn nên làm gì?{=Xoá tin nhắn ~Bấm vào xem}\n"
    assert client.post(url, data={"text": edited}).status_code == 302
    db_session.expire_all()
    assert len(bank.active_questions()) == 4 and bank.title == "Ngân hàng đề thi"
    broken = client.post(url, data={"text": BANK + "\n::X::Câu lỗi{=A ~B"})
    assert broken.status_code == 400 and "ngan-hang-de-thi.gift" in text_of(broken)
    db_session.expire_all()
    assert len(bank.active_questions()) == 4


@pytest.mark.parametrize("name, content, message", [
    ("ghi-chu.txt", "x", "the banks folder holds GIFT files (*.gift) only"),
    ("Ngan_Hang.gift", BANK, "a bank's file name must use only a-z, 0-9 and '-'"),
    ("loi.gift", "::X::Câu lỗi{=A ~B", "loi.gift"),
])
def test_bad_bank_files_are_reported_by_the_checker(app, folder_with_bank, name, content, message):
    (folder_with_bank / "banks" / name).write_text(content, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["courses", "check", str(folder_with_bank.parent)])
    assert result.exit_code == 1 and message in result.output
