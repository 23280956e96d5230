"""Fixtures for the quiz tests: the mini-course quiz, an enrolled learner, English pages."""

import shutil

import pytest
from sqlalchemy import select

from lms.enrollment import operations as enrollment_ops
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
