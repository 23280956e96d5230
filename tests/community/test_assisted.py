"""Community digital teams: scope, consent, assisted sessions and what they carry into the report."""

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.community import operations as ops
from lms.community import queries
from lms.community.models import AssistedSession, CommunityResident
from lms.community.queries import report
from lms.enrollment.models import Enrollment, LessonProgress
from lms.practice.models import PracticeRun
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")
COMMUNE_A, COMMUNE_B = "26506", "26503"


@pytest.fixture()
def team(create_user, commune, db_session):
    """A manager of commune A; a member in A (two of them) and one in B, made by their managers."""
    a, b = commune(COMMUNE_A), commune(COMMUNE_B)
    manager_a = create_user("Quản Lý A", roles=["manager"], manager_of=a)
    manager_b = create_user("Quản Lý B", roles=["manager"], manager_of=b, locality=b)
    members = {"a": create_user("Tổ Viên A", locality=a), "a2": create_user("Tổ Viên A Hai", locality=a),
               "b": create_user("Tổ Viên B", locality=b)}
    ops.grant_team_role(manager_a, members["a"], a)
    ops.grant_team_role(manager_a, members["a2"], a)
    ops.grant_team_role(manager_b, members["b"], b)
    with pytest.raises(ops.CommunityError):
        ops.grant_team_role(manager_a, members["b"], b)  # not manager A's commune
    db_session.flush()
    return {"A": a, "B": b, "manager_a": manager_a, **members}


def register(client, commune_id, consent="PĐY-2025-0142", name="Nguyễn Thị A", phone="0912345678"):
    return client.post("/community/residents/new", data={
        "full_name": name, "phone": phone, "commune_id": str(commune_id), "hamlet": "Khu phố 3",
        "consent_method": "paper", "consent_reference": consent})


def test_a_resident_is_registered_only_with_consent_and_only_in_the_members_commune(client, login, team, db_session):
    login(team["a"])
    refused = register(client, team["A"].id, consent="")
    assert refused.status_code == 400
    assert "Record the resident's consent" in text_of(refused), refused.get_data(as_text=True)[-3000:]
    assert db_session.scalar(select(User).where(User.phone == "0912345678")) is None
    other = register(client, team["B"].id)
    assert other.status_code == 400  # commune B is not one of the choices of a member of A
    with pytest.raises(ops.CommunityError):
        ops.register_resident(team["a"], full_name="X", phone="0912000000", commune=team["B"], hamlet="",
                              consent_method="paper", consent_reference="P-1")

    created = register(client, team["A"].id)
    assert created.status_code == 303 and created.location.endswith("/handoff")
    resident = db_session.scalar(select(CommunityResident))
    assert (resident.user.full_name, resident.hamlet, resident.consent_reference) == (
        "Nguyễn Thị A", "Khu phố 3", "PĐY-2025-0142")
    assert resident.user.must_set_password  # no password a member knows; the resident sets their own
    handoff = client.get(created.location)
    assert "/set-password/" in handoff.get_data(as_text=True) and "<svg" in handoff.get_data(as_text=True)


def test_members_see_only_their_residents_and_cannot_assist_across_communes(client, login, team, db_session):
    resident = ops.register_resident(team["a"], full_name="Nguyễn Thị A", phone="0912345678", commune=team["A"],
                                     hamlet="", consent_method="paper", consent_reference="P-1")
    db_session.flush()
    login(team["a2"])  # same commune, did not register or assist her
    assert "Nguyễn Thị A" not in text_of(client.get("/community"))
    assert client.get(f"/community/residents/{resident.user_id}/handoff").status_code == 404
    assert client.post(f"/community/residents/{resident.user_id}/assist").status_code == 404
    with pytest.raises(ops.CommunityError):
        ops.start_session(team["b"], resident)  # a member of commune B
    assert db_session.scalar(select(AssistedSession)) is None


def test_an_assisted_session_records_for_the_resident_and_the_report_tells_it_apart(
        client, login, team, db_session, practice_course, simulation_lesson, create_user):
    resident = ops.register_resident(team["a"], full_name="Nguyễn Thị A", phone="0912345678", commune=team["A"],
                                     hamlet="Khu phố 3", consent_method="paper", consent_reference="P-1")
    self_learner = create_user("Tự Học", locality=team["A"])
    db_session.add(Enrollment(user_id=self_learner.id, course_id=practice_course.id, locality_id=team["A"].id))
    db_session.flush()
    login(team["a"])
    assert client.post(f"/community/residents/{resident.user_id}/assist").status_code == 303
    page = text_of(client.get("/courses"))
    assert "Assisting: Nguyễn Thị A" in page and "End the assisted session" in page
    assert client.post("/profile", data={"full_name": "Đổi Tên"}).status_code == 303  # refused while assisting
    assert db_session.get(User, resident.user_id).full_name == "Nguyễn Thị A"

    slug, lesson = practice_course.slug, simulation_lesson
    client.post(f"/courses/{slug}/enrol")
    base = f"/courses/{slug}/lessons/{lesson.id}/practice"
    client.post(f"{base}/start")
    for position, answer in enumerate([{"choice": "1"}, {"value": "482913"}, {"choice": "0"}]):
        client.post(f"{base}/answer", data={"step": str(position), **answer})
        client.post(f"{base}/next", data={"step": str(position)})
    run = db_session.scalar(select(PracticeRun).where(PracticeRun.user_id == resident.user_id))
    assert run is not None and run.finished_at is not None  # the resident's record, not the member's
    enrollment = db_session.scalar(select(Enrollment).where(Enrollment.user_id == resident.user_id))
    done = db_session.scalar(select(LessonProgress.completed_at).where(LessonProgress.enrollment_id == enrollment.id))
    assert queries.was_assisted(resident.user_id, run.finished_at) and queries.was_assisted(resident.user_id, done)

    from lms.core.db import utcnow
    from lms.quizzes.models import Attempt, Quiz

    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == practice_course.id, Quiz.key.not_like("bank/%")))
    attempt = Attempt(quiz_id=quiz.id, user_id=resident.user_id, enrollment_id=enrollment.id, submitted_at=utcnow(),
                      score=100, passed=True)
    db_session.add(attempt)
    db_session.flush()
    assert "Taken with help from a community digital team" in text_of(client.get(f"/attempts/{attempt.id}"))

    ended = client.post("/community/assist/end")
    assert ended.status_code == 303
    page = text_of(client.get("/community"))
    assert "Assisting:" not in page and "Nguyễn Thị A" in page  # the member is back, with her in "my residents"
    assert db_session.scalar(select(AssistedSession.ended_at)) is not None
    assert not queries.was_assisted(resident.user_id, db_session.scalar(select(AssistedSession.ended_at)).replace(year=2100))

    from lms.community.queries import assisted_attempts

    assert assisted_attempts(resident.user_id, practice_course.id) == 1
    assert assisted_attempts(self_learner.id, practice_course.id) == 0
    from lms.certificates.models import Certificate
    from lms.certificates.serial import new_serial

    certificate = Certificate(serial=new_serial(), user_id=resident.user_id, course_id=practice_course.id, generation=1,
                              enrollment_id=enrollment.id, holder_name="Nguyễn Thị A", course_title=practice_course.title,
                              hours=1, issuing_authority="UBND", issued_at=utcnow())
    db_session.add(certificate)
    db_session.flush()
    admin = create_user("Quản Trị", roles=["admin"])
    client.post("/logout")
    login(admin)
    record = text_of(client.get(f"/admin/certificates/{certificate.id}"))
    assert "1 quiz attempt taken with help from a community digital team" in record
    # The same rule puts the respectful mark on the PDF and on the public verification page.
    import io

    from pypdf import PdfReader

    from lms.certificates.pdf import render
    from lms.certificates.serial import display

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(render(certificate))).pages)
    assert "Hoàn thành với sự hỗ trợ của Tổ công nghệ số cộng đồng" in " ".join(text.split())
    verify = text_of(client.get(f"/verify/{display(certificate.serial)}"))
    assert "Completed with support from the community digital technology team" in verify
    alone = Certificate(serial=new_serial(), user_id=self_learner.id, course_id=practice_course.id, generation=1,
                        holder_name="Tự Học", course_title=practice_course.title, hours=1, issuing_authority="UBND",
                        issued_at=utcnow())
    db_session.add(alone)
    db_session.flush()
    assert "Hoàn thành với sự hỗ trợ" not in " ".join(PdfReader(io.BytesIO(render(alone))).pages[0].extract_text().split())
    assert "community digital technology team" not in text_of(client.get(f"/verify/{display(alone.serial)}"))

    result = report([team["A"]])
    rows = {(row.hamlet): row for row in result.rows}
    assert (rows["Khu phố 3"].registered, rows["Khu phố 3"].assisted, rows["Khu phố 3"].simulations_assisted) == (1, 1, 1)
    assert rows[""].self_learners == 1 and rows[""].simulations_self == 0
    assert ("Tổ Viên A", team["A"].name, 1, 1, 1) in result.members

    client.post("/logout")
    login(team["manager_a"])
    page = text_of(client.get("/community/team"))
    assert "Khu phố 3" in page and "Tổ Viên A" in page
