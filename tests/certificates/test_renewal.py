"""Renewal after expiry: quiz attempts start afresh, and a program certificate renews like a course one."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.certificates.cli import check_credential
from lms.certificates.models import Certificate
from lms.core.db import utcnow
from lms.core.outbox import dispatch_ready
from lms.enrollment import operations as enrollment_ops
from lms.programs.models import Program
from lms.programs.operations import import_program
from lms.programs.source import read_program
from lms.quizzes import operations as quiz_ops
from lms.quizzes import queries as quiz_queries
from lms.quizzes.models import Quiz
from tests.certificates.test_rules import finish_lessons, take_quiz, write_program
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")


def expire(db_session, certificate):
    certificate.expires_at = utcnow() - timedelta(days=1)
    db_session.commit()


def test_attempts_made_before_a_renewal_do_not_count_against_the_limit(
        client, db_session, create_course, create_user, login):
    course = create_course()
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    quiz.max_attempts = 2
    user = create_user()
    enrollment = enrollment_ops.enrol(user, course)
    finish_lessons(enrollment, course)
    take_quiz(db_session, course, user, right=False)
    take_quiz(db_session, course, user, right=True)  # the last allowed attempt
    db_session.commit()
    dispatch_ready()
    first = db_session.scalar(select(Certificate).where(Certificate.user_id == user.id))
    assert quiz_queries.attempts_left(quiz, user) == 0
    expire(db_session, first)

    login(user)
    client.post(f"/my/certificates/{first.id}/renew")
    assert quiz_queries.attempts_left(quiz, user) == 2
    finish_lessons(enrollment, course)
    take_quiz(db_session, course, user, right=False)
    assert quiz_queries.attempts_left(quiz, user) == 1
    take_quiz(db_session, course, user, right=True)
    db_session.commit()
    dispatch_ready()

    generations = db_session.scalars(select(Certificate).where(Certificate.user_id == user.id)
                                     .order_by(Certificate.generation)).all()
    assert [(c.generation, c.status()) for c in generations] == [(1, "expired"), (2, "valid")]
    with pytest.raises(quiz_ops.QuizError):  # the limit still holds within the new round
        take_quiz(db_session, course, user)


def test_an_expired_program_certificate_is_renewed_by_completing_its_courses_again(
        app, client, db_session, tmp_path, create_course, create_user, login):
    course = create_course()
    path = write_program(tmp_path, "---\ntitle: Công dân số\nhours: 4\nvalid_months: 12\nrequired: [mini-course]\n---\n")
    import_program(read_program(path))
    program = db_session.scalar(select(Program).where(Program.slug == "e-citizen"))
    user = create_user()
    enrollment = enrollment_ops.enrol(user, course)
    finish_lessons(enrollment, course)
    take_quiz(db_session, course, user)
    db_session.commit()
    dispatch_ready()
    first = db_session.scalar(select(Certificate).where(Certificate.program_id == program.id))
    expire(db_session, first)
    first_credential = json.loads(first.credential_json)

    login(user)
    page = text_of(client.get("/my/certificates"))
    assert page.count("Renew: take the program's courses again") == 1
    response = client.post(f"/my/certificates/{first.id}/renew")
    assert response.headers["Location"].endswith("/programs/e-citizen")
    db_session.refresh(enrollment)
    assert enrollment.completed_at is None and enrollment.restarted_at is not None
    assert "Renew: take the program" not in text_of(client.get("/my/certificates"))  # nothing to renew twice

    finish_lessons(enrollment, course)
    take_quiz(db_session, course, user)
    db_session.commit()
    dispatch_ready()

    old, new = db_session.scalars(select(Certificate).where(Certificate.program_id == program.id)
                                  .order_by(Certificate.generation)).all()
    assert (old.generation, new.generation) == (1, 2) and old.serial != new.serial
    assert new.status() == "valid" and new.pdf_key and new.expires_at > utcnow() + timedelta(days=300)
    assert client.get(f"/verify/{old.serial}.json").get_json()["certificate"]["status"] == "expired"
    assert client.get(f"/verify/{new.serial}.json").get_json()["certificate"]["status"] == "valid"
    ok, lines = check_credential(first_credential)
    assert ok is False and any(line.startswith("  expired on") for line in lines)
    assert check_credential(json.loads(new.credential_json))[0] is True


def test_a_valid_certificate_cannot_be_renewed(client, db_session, create_course, create_user, login):
    course = create_course()
    user = create_user()
    enrollment = enrollment_ops.enrol(user, course)
    finish_lessons(enrollment, course)
    take_quiz(db_session, course, user)
    db_session.commit()
    dispatch_ready()
    certificate = db_session.scalar(select(Certificate).where(Certificate.user_id == user.id))
    login(user)
    page = text_of(client.post(f"/my/certificates/{certificate.id}/renew", follow_redirects=True))
    assert "This certificate cannot be renewed: it has not expired" in page
    db_session.refresh(enrollment)
    assert enrollment.completed_at is not None and enrollment.restarted_at is None
