"""Fixtures for the quiz tests: the mini-course quiz, an enrolled learner, English pages."""

import shutil

import pytest
from sqlalchemy import event, select

from lms.core import raw_reads
from lms.enrollment import operations as enrollment_ops
from lms.extensions import db
from lms.quizzes.models import Quiz
from tests.conftest import FIXTURE_COURSES


@pytest.fixture()
def english(client):
    """Show pages in English so messages are stable whatever catalogues are compiled."""
    client.post("/language", data={"lang": "en"})


@pytest.fixture()
def quiz_course(tmp_path, create_course):
    """Import a copy of the mini-course whose quiz front matter is changed by `replace` pairs."""

    def make(*replacements):
        folder = tmp_path / "mini-course"
        shutil.copytree(FIXTURE_COURSES / "mini-course", folder)
        quiz_file = folder / "02-kiem-tra" / "quiz.md"
        text = quiz_file.read_text(encoding="utf-8")
        for old, new in replacements:
            assert old in text
            text = text.replace(old, new)
        quiz_file.write_text(text, encoding="utf-8")
        return create_course(folder)

    return make


@pytest.fixture()
def course(create_course):
    return create_course()


@pytest.fixture()
def quiz(db_session, course):
    return db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))


@pytest.fixture()
def learner(create_user, login, course, db_session):
    """A citizen enrolled in the course and logged in; the setup is committed (savepoint)."""
    user = create_user("Trần Thị Hoà")
    enrollment_ops.enrol(user, course)
    db_session.commit()
    login(user)
    return user


ALL_TYPES = """---
title: Mọi loại câu hỏi
pass: 60
attempts: 2
{extra}
---

## Đọc kỹ trước khi làm bài
type: description

## Số định danh cá nhân có bao nhiêu chữ số?
type: single
- [ ] 9
- [x] 12
- [ ] 15
> Gồm 12 chữ số.

## Màu nào nằm giữa cam và xanh lá?
type: multiple
- [50%] vàng
  > đúng một nửa
- [-100%] đỏ
- [50%] vàng nhạt
- [-100%] xanh dương

## Cổng Dịch vụ công quốc gia cho phép nộp hồ sơ trực tuyến.
type: true-false
answer: true

## Tên miền của Cổng Dịch vụ công quốc gia là gì?
type: short
diacritics: optional
answer: dichvucong.gov.vn | Cổng dịch vụ công | *.dichvucong.gov.vn

## 15 % của 200 000 đồng là bao nhiêu đồng?
type: numeric
answer: 30000 ± 5 | 29000..29100

## Ghép thủ tục với cơ quan giải quyết
type: matching
- Cấp căn cước = Công an
- Đăng ký khai sinh = UBND cấp xã
- = Toà án

## Sắp xếp các bước nộp hồ sơ trực tuyến
type: ordering
1. Đăng nhập
2. Chọn thủ tục
3. Điền tờ khai
4. Nộp và theo dõi

## Hãy mô tả cách bạn bảo vệ mật khẩu của mình.
type: essay
points: 2
"""


@pytest.fixture()
def all_types_course(tmp_path, create_course):
    """The mini-course with a quiz holding every question type; `extra` adds front-matter lines."""

    def make(extra=""):
        folder = tmp_path / "mini-course"
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(FIXTURE_COURSES / "mini-course", folder)
        (folder / "02-kiem-tra" / "quiz.md").write_text(ALL_TYPES.replace("{extra}", extra), encoding="utf-8")
        return create_course(folder)

    return make


@pytest.fixture()
def setup(all_types_course, db_session, create_user, login):
    def make(extra=""):
        """The all-types quiz (front matter `extra`), a learner enrolled and logged in."""
        from lms.enrollment import operations as enrollment_ops

        course = all_types_course(extra)
        quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))
        user = create_user("Trần Thị Hoà")
        enrollment_ops.enrol(user, course)
        db_session.commit()
        login(user)
        return quiz, user

    return make


@pytest.fixture()
def statements(app, monkeypatch):
    """The SQL the app sends from here on, lowercased, one line each (statement counts of the light paths): through
    SQLAlchemy, and on the DB-API cursor (lms.core.raw_reads, which SQLAlchemy's events do not see)."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()).lower())

    real_run = raw_reads._run

    def run(dbapi_connection, compiled, values):
        seen.append(" ".join(compiled.sql.split()).lower())
        return real_run(dbapi_connection, compiled, values)

    monkeypatch.setattr(raw_reads, "_run", run)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)
