"""Completion rules per course and per program, renewal, and issuing once whatever happens."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.catalog.operations import import_course
from lms.catalog.source import read_course
from lms.certificates import operations as certificate_ops
from lms.certificates.models import Certificate
from lms.certificates.tasks import issue_certificate, issue_program_certificate
from lms.completion import rules as completion_rules
from lms.completion.operations import check_completion
from lms.core.db import utcnow
from lms.core.frontmatter import SourceError
from lms.core.models import OutboxMessage
from lms.core.outbox import dispatch_ready
from lms.enrollment import operations as enrollment_ops
from lms.enrollment.models import LessonProgress
from lms.programs.models import Program
from lms.programs.operations import check_programs_for, import_program
from lms.programs.source import read_program
from lms.quizzes import operations as quiz_ops
from lms.quizzes.models import Quiz
from tests.conftest import FIXTURE_COURSES, ROOT


def certificates(db_session, **where):
    statement = select(Certificate)
    for column, value in where.items():
        statement = statement.where(getattr(Certificate, column) == value)
    return db_session.scalars(statement.order_by(Certificate.generation)).all()


def finish_lessons(enrollment, course):
    for lesson in course.active_lessons():
        enrollment_ops.mark_done(enrollment, lesson)


def take_quiz(db_session, course, user, right=True):
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    return quiz_ops.submit_attempt(quiz, user, {q.id: (q.answer if right else []) for q in quiz.active_questions()})


def test_a_minimum_score_above_the_pass_mark_holds_completion_back(db_session, create_course, create_user):
    course = create_course()
    course.min_score = 100
    db_session.scalar(select(Quiz).where(Quiz.course_id == course.id)).pass_mark = 0
    user = create_user()
    enrollment = enrollment_ops.enrol(user, course)
    finish_lessons(enrollment, course)
    take_quiz(db_session, course, user, right=False)

    assert enrollment.completed_at is None and completion_rules.unmet_rules(enrollment) == ["min_score"]
    take_quiz(db_session, course, user, right=True)
    assert enrollment.completed_at is not None


def test_a_minimum_study_time_counts_time_from_opening_to_finishing_each_lesson(db_session, create_course, create_user):
    course = create_course()
    course.min_study_minutes = 30
    user = create_user()
    enrollment = enrollment_ops.enrol(user, course)
    take_quiz(db_session, course, user)
    finish_lessons(enrollment, course)
    assert enrollment.completed_at is None and completion_rules.unmet_rules(enrollment) == ["min_study_minutes"]

    rows = db_session.scalars(select(LessonProgress).where(LessonProgress.enrollment_id == enrollment.id)).all()
    for row in rows:
        row.first_seen_at = row.completed_at - timedelta(days=3)  # left open for days: capped at an hour each
    db_session.flush()
    assert completion_rules.study_minutes(enrollment) == 60 * len(rows)
    assert check_completion(enrollment) is True


def test_course_front_matter_accepts_the_completion_rules(tmp_path):
    import shutil

    folder = tmp_path / "mini-course"
    shutil.copytree(FIXTURE_COURSES / "mini-course", folder)
    course_file = folder / "course.md"
    course_file.write_text(course_file.read_text(encoding="utf-8").replace(
        "valid_months: 12", "valid_months: 12\nmin_score: 80\nmin_study_minutes: 45"), encoding="utf-8")
    meta = read_course(folder).meta
    assert (meta["min_score"], meta["min_study_minutes"]) == (80, 45)
    course_file.write_text(course_file.read_text(encoding="utf-8").replace("min_score: 80", "min_score: 180"), encoding="utf-8")
    with pytest.raises(SourceError, match="min_score"):
        read_course(folder)


def test_reimporting_the_course_and_retrying_never_makes_a_second_certificate(db_session, create_course, create_user):
    course = create_course()
    user = create_user()
    enrollment = enrollment_ops.enrol(user, course)
    finish_lessons(enrollment, course)
    take_quiz(db_session, course, user)
    db_session.commit()
    dispatch_ready()
    import_course(read_course(FIXTURE_COURSES / "mini-course"), force=True)
    db_session.commit()
    for _ in range(3):
        issue_certificate.run(enrollment.id)
    assert len(certificates(db_session, user_id=user.id)) == 1


def test_a_lost_race_on_the_unique_constraint_returns_the_winners_certificate(
        db_session, create_course, create_user, completed_enrollment, monkeypatch):
    enrollment = completed_enrollment(create_user(), create_course())
    winner = certificate_ops.issue_for_enrollment(enrollment)
    db_session.commit()
    # The second worker read "no certificate yet" just before the first one committed.
    monkeypatch.setattr(certificate_ops, "certificate_for", lambda user_id, course_id: None)

    loser = certificate_ops.issue_for_enrollment(enrollment)

    assert loser.id == winner.id
    assert db_session.scalar(select(func.count(Certificate.id))) == 1


def test_renewal_by_completing_again_after_expiry_makes_the_next_generation(
        client, db_session, create_course, create_user, login):
    course = create_course()
    user = create_user()
    enrollment = enrollment_ops.enrol(user, course)
    finish_lessons(enrollment, course)
    take_quiz(db_session, course, user)
    db_session.commit()
    dispatch_ready()
    first, = certificates(db_session, user_id=user.id)
    first.expires_at = utcnow() - timedelta(days=1)
    db_session.commit()

    login(user)
    response = client.post(f"/my/certificates/{first.id}/renew")
    assert response.status_code == 303 and enrollment.completed_at is None
    assert issue_certificate.run(enrollment.id) is None  # nothing to issue until completed again
    finish_lessons(enrollment, course)
    assert enrollment.completed_at is None  # the quiz must be passed again too
    take_quiz(db_session, course, user)
    db_session.commit()
    dispatch_ready()
    issue_certificate.run(enrollment.id)  # a duplicate message after the renewal

    old, new = certificates(db_session, user_id=user.id)
    assert (old.generation, new.generation) == (1, 2)
    assert old.status() == "expired" and new.status() == "valid" and new.pdf_key


def write_program(tmp_path, text):
    folder = tmp_path / "programs"
    folder.mkdir(exist_ok=True)
    path = folder / "e-citizen.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_program_certificate_needs_the_required_courses_and_n_optional_ones(db_session, tmp_path, create_course,
                                                                               create_user):
    mini, citizen = create_course(), create_course(ROOT / "courses" / "ky-nang-so-cong-dan")
    path = write_program(tmp_path, "---\ntitle: Công dân số\nhours: 6\nvalid_months: 24\nrequired: [mini-course]\n"
                                   "optional: [ky-nang-so-cong-dan]\noptional_required: 1\n---\n")
    assert import_program(read_program(path)) == "created"
    assert import_program(read_program(path)) == "unchanged"
    program = db_session.scalar(select(Program).where(Program.slug == "e-citizen"))
    user = create_user()

    enrollment = enrollment_ops.enrol(user, mini)
    finish_lessons(enrollment, mini)
    take_quiz(db_session, mini, user)
    assert enrollment.completed_at is not None
    db_session.commit()
    dispatch_ready()
    assert certificates(db_session, program_id=program.id) == []  # no optional course yet

    other = enrollment_ops.enrol(user, citizen)
    other.completed_at = utcnow()  # completing it by hand: the real course is long
    check_programs_for(user.id, citizen.id)
    db_session.commit()
    assert dispatch_ready() == 1
    issue_program_certificate.run(user.id, program.id)  # duplicated message

    issued, = certificates(db_session, program_id=program.id)
    assert issued.course_id is None and issued.course_title == "Công dân số" and float(issued.hours) == 6
    assert issued.expires_at.year == issued.issued_at.year + 2 and issued.pdf_key
    assert len(certificates(db_session, user_id=user.id, course_id=mini.id)) == 1


def test_the_shipped_program_imports_through_the_cli_idempotently(app, db_session, create_course):
    create_course(ROOT / "courses" / "ky-nang-so-cong-dan")
    create_course(ROOT / "courses" / "an-toan-thong-tin-can-bo")
    db_session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["programs", "import", str(ROOT / "programs")])
    second = runner.invoke(args=["programs", "import", str(ROOT / "programs")])
    assert first.exit_code == 0 and "created   cong-dan-so" in first.output
    assert second.exit_code == 0 and "unchanged cong-dan-so" in second.output
    program = db_session.scalar(select(Program).where(Program.slug == "cong-dan-so"))
    assert [(link.course.slug, link.required) for link in program.courses] == [
        ("ky-nang-so-cong-dan", True), ("an-toan-thong-tin-can-bo", False)]


def test_a_program_naming_an_unknown_course_is_refused_clearly(app, db_session, tmp_path):
    write_program(tmp_path, "---\ntitle: X\nrequired: [khong-co]\n---\n")
    # Other suites' real servers may have left committed messages (e.g. search indexing): count the new ones.
    before = db_session.scalar(select(func.count(OutboxMessage.id)))
    result = app.test_cli_runner().invoke(args=["programs", "import", str(tmp_path / "programs")])
    assert result.exit_code == 1 and "unknown course(s) khong-co" in result.output
    assert db_session.scalar(select(func.count(OutboxMessage.id))) == before
