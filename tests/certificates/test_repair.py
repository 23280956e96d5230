"""The completion repair sweep: earned certificates that do not exist, or have no files, are queued
(once) and issued; what it found is on /healthz and the background-work page."""

from datetime import timedelta

from sqlalchemy import func, select, update

from lms.certificates.models import Certificate
from lms.certificates.repair import sweep
from lms.core import outbox
from lms.core.db import utcnow
from lms.core.models import OutboxMessage
from lms.enrollment.models import Enrollment


def _lost_completion(db_session, create_user, create_course, completed_enrollment, name="Lê Thị Mất"):
    """A completion whose certificate message was lost: completed 10 minutes ago, nothing queued."""
    enrollment = completed_enrollment(create_user(name), create_course())
    enrollment.completed_at = utcnow() - timedelta(minutes=10)
    db_session.info.pop("lms_outbox_pending", None)
    db_session.execute(update(OutboxMessage).values(state="failed"))
    db_session.commit()
    return enrollment


def test_a_completion_without_its_certificate_is_found_and_issued(
        app, db_session, create_user, create_course, completed_enrollment):
    enrollment = _lost_completion(db_session, create_user, create_course, completed_enrollment)
    assert db_session.scalar(select(func.count(Certificate.id)).where(Certificate.user_id == enrollment.user_id)) == 0

    findings = sweep()
    db_session.commit()
    outbox.dispatch_ready()  # eager in tests: the queued issue runs now
    assert findings["course_certificates_missing"] == 1 and findings["queued"] >= 1
    certificate = db_session.scalar(select(Certificate).where(Certificate.user_id == enrollment.user_id))
    assert certificate is not None and certificate.holder_name == "Lê Thị Mất" and certificate.pdf_key

    again = sweep()
    assert again["course_certificates_missing"] == 0 and again["queued"] == 0


def test_a_fresh_completion_is_left_to_its_own_message(app, db_session, create_user, create_course,
                                                        completed_enrollment):
    completed_enrollment(create_user(), create_course())  # completed just now: its message is in flight
    db_session.info.pop("lms_outbox_pending", None)
    db_session.commit()
    assert sweep()["course_certificates_missing"] == 0


def test_work_already_pending_is_not_queued_twice(app, db_session, create_user, create_course, completed_enrollment):
    enrollment = _lost_completion(db_session, create_user, create_course, completed_enrollment)
    outbox.enqueue("certificates.issue", enrollment_id=enrollment.id)
    db_session.info.pop("lms_outbox_pending", None)
    db_session.commit()
    findings = sweep()
    assert findings["course_certificates_missing"] == 1 and findings["queued"] == 0
    pending = db_session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.task == "certificates.issue", OutboxMessage.state == "queued"))
    assert pending == 1


def test_a_certificate_without_its_pdf_is_rendered(app, db_session, issued):
    certificate, _user = issued("Đỗ Văn Tệp")
    db_session.execute(update(Certificate).where(Certificate.id == certificate.id).values(
        pdf_key=None, issued_at=utcnow() - timedelta(minutes=10)))
    db_session.execute(update(OutboxMessage).values(state="done"))
    db_session.commit()
    findings = sweep()
    db_session.commit()
    outbox.dispatch_ready()
    assert findings["files_missing"] == 1
    db_session.expire_all()
    assert db_session.get(Certificate, certificate.id).pdf_key


def test_findings_are_on_healthz_and_the_admin_page(app, db_session, client, login, create_user, create_course,
                                                    completed_enrollment):
    _lost_completion(db_session, create_user, create_course, completed_enrollment)
    sweep()
    db_session.commit()
    body = client.get("/healthz").get_json()
    assert body["repair"]["course_certificates_missing"] == 1 and body["repair"]["at"].endswith("Z")

    admin = create_user("Quản Trị Viên", roles=("admin",), audience="official")
    login(admin)
    client.post("/language", data={"lang": "en"})
    page = client.get("/admin/background").get_data(as_text=True)
    assert "Course certificates earned but missing" in page and "Failed tasks" in page
    learner = create_user("Người Học")
    client.post("/logout")
    login(learner)
    assert client.get("/admin/background").status_code == 403


def test_program_completions_without_their_certificate_are_found(app, db_session, create_user):
    from lms.catalog.models import Course
    from lms.programs.models import Program, ProgramCourse

    courses = [Course(slug=f"repair-{n}", code=f"REPAIR-{n}", title=f"Khoá {n}", title_folded=f"khoa {n}",
                      certificate=False) for n in (1, 2)]
    program = Program(slug="repair-program", title="Chương trình sửa", certificate=True,
                      courses=[ProgramCourse(course=c, required=True, position=i) for i, c in enumerate(courses)])
    db_session.add(program)
    user, other = create_user("Hoàn Thành"), create_user("Chưa Xong")
    db_session.flush()
    for course in courses:
        db_session.add(Enrollment(user_id=user.id, course_id=course.id, completed_at=utcnow()))
    db_session.add(Enrollment(user_id=other.id, course_id=courses[0].id, completed_at=utcnow()))
    db_session.info.pop("lms_outbox_pending", None)
    db_session.commit()
    findings = sweep()
    assert findings["program_certificates_missing"] == 1
    queued = db_session.scalars(select(OutboxMessage.kwargs).where(OutboxMessage.task == "certificates.issue_program",
                                                                   OutboxMessage.state == "queued")).all()
    assert {"user_id": user.id, "program_id": program.id} in queued
    assert not any(k["user_id"] == other.id for k in queued)
