"""Certificates: serials, issuing once, the public verification page and JSON, listings, locality."""

import random
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from lms.certificates import serial as serials
from lms.certificates.models import Certificate
from lms.certificates.operations import issue_for_enrollment
from lms.certificates.queries import lookup
from lms.certificates.tasks import issue_certificate
from lms.core.db import utcnow
from lms.core.outbox import dispatch_ready
from lms.enrollment import operations as enrollment_ops
from lms.quizzes import operations as quiz_ops
from lms.quizzes.models import Quiz
from tests.conftest import text_of

TITLE = "Khóa học thử nghiệm Dịch vụ công"
CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def count_certificates(db_session, **where):
    statement = select(func.count(Certificate.id))
    for column, value in where.items():
        statement = statement.where(getattr(Certificate, column) == value)
    return db_session.scalar(statement)


# ---------------------------------------------------------------- serials

def test_new_serials_are_12_crockford_symbols_with_a_valid_check_symbol():
    made = {serials.new_serial() for _ in range(500)}
    assert len(made) == 500  # no collisions among a few hundred
    for serial in made:
        assert len(serial) == 12 and set(serial) <= CROCKFORD
        assert serials.is_well_formed(serial)
        assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", serials.display(serial))


def test_every_single_character_substitution_is_detected():
    rng = random.Random(2025)
    for _ in range(25):
        serial = serials.new_serial()
        for position in range(12):
            for symbol in sorted(CROCKFORD - {serial[position]}):
                typo = serial[:position] + symbol + serial[position + 1:]
                assert not serials.is_well_formed(typo), (serial, typo)
        assert lookup(serial[:-1])[0] == "malformed"  # one symbol short
        assert lookup(serial + rng.choice(sorted(CROCKFORD)))[0] == "malformed"


def serial_with(body="0A1B0C1D0E1"):
    """A valid serial whose body contains the confusable symbols 0 and 1."""
    return body + serials._check_symbol(body)


@pytest.mark.parametrize("typed", [
    lambda s: s.lower(),
    lambda s: serials.display(s),
    lambda s: serials.display(s).lower(),
    lambda s: " " + " ".join(serials.display(s).split("-")) + " ",
    lambda s: s[:-1].replace("0", "O") + s[-1],
    lambda s: s[:-1].replace("0", "o").replace("1", "I") + s[-1],
    lambda s: s[:-1].replace("1", "l") + s[-1],
])
def test_typed_forms_normalise_to_the_same_serial(typed):
    serial = serial_with()
    assert serials.is_well_formed(serial)
    assert serials.normalise(typed(serial)) == serial


# ---------------------------------------------------------------- issuing once

def test_issuing_twice_makes_exactly_one_certificate(db_session, create_course, create_user, completed_enrollment):
    course = create_course()
    user = create_user("Trần Thị Hoà")
    enrollment = completed_enrollment(user, course)
    db_session.commit()

    first = issue_certificate.run(enrollment.id)
    second = issue_certificate.run(enrollment.id)
    direct = [issue_for_enrollment(enrollment), issue_for_enrollment(enrollment)]

    assert first == second and serials.is_well_formed(first)
    assert {c.serial for c in direct} == {first}
    assert count_certificates(db_session, user_id=user.id) == 1
    certificate = db_session.scalar(select(Certificate))
    assert (certificate.holder_name, certificate.course_title, float(certificate.hours)) == ("Trần Thị Hoà", TITLE, 2.0)
    assert certificate.enrollment_id == enrollment.id
    assert certificate.expires_at.year == certificate.issued_at.year + 1  # valid_months: 12


def test_completing_the_course_issues_one_certificate_through_the_outbox(db_session, create_course, create_user):
    course = create_course()
    db_session.commit()
    dispatch_ready()  # the new course's search indexing (lms.search.hooks), before the work under test
    user = create_user()
    enrollment = enrollment_ops.enrol(user, course)
    for lesson in course.active_lessons():
        enrollment_ops.mark_done(enrollment, lesson)
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    quiz_ops.submit_attempt(quiz, user, {q.id: q.answer for q in quiz.active_questions()})
    assert enrollment.completed_at is not None
    assert count_certificates(db_session) == 0  # not before the commit
    db_session.commit()

    assert dispatch_ready() == 1
    assert count_certificates(db_session, user_id=user.id, course_id=course.id) == 1
    issue_certificate.run(enrollment.id)
    assert count_certificates(db_session) == 1


def test_an_incomplete_enrollment_gets_no_certificate(db_session, create_course, create_user):
    course = create_course()
    enrollment = enrollment_ops.enrol(create_user(), course)
    enrollment_ops.mark_done(enrollment, course.active_lessons()[0])
    db_session.commit()

    assert issue_certificate.run(enrollment.id) is None
    assert issue_for_enrollment(enrollment) is None
    assert count_certificates(db_session) == 0


# ---------------------------------------------------------------- public verification

@pytest.fixture()
def certificate(db_session, create_course, create_user, completed_enrollment):
    """Issued to a learner with an e-mail and a phone; issued late on 31/03/2025 UTC = 01/04/2025 in Vietnam."""
    user = create_user("Trần Thị Hoà", email="hoa.tran@example.vn")
    user.phone = "0912345678"
    certificate = issue_for_enrollment(completed_enrollment(user, create_course()))
    certificate.issued_at = datetime(2025, 3, 31, 18, 30)
    certificate.expires_at = datetime(2030, 6, 30, 20, 0)
    db_session.commit()
    return certificate


def status_badge(response) -> str:
    """The status shown at the top of the verification result."""
    match = re.search(r'verify-result[^"]*">\s*<h2>\s*<span class="badge \w+">([^<]+)</span>', response.get_data(as_text=True))
    return match.group(1).strip()


def assert_no_contact_details(body):
    assert "hoa.tran@example.vn" not in body and "0912345678" not in body and "0912 345 678" not in body


@pytest.mark.usefixtures("english")
def test_verify_page_shows_the_public_facts_only(app, client, certificate):
    response = client.get(f"/verify/{certificate.serial}")
    html, page = response.get_data(as_text=True), text_of(response)

    assert response.status_code == 200
    assert status_badge(response) == "Valid" and serials.display(certificate.serial) in page
    assert "Trần Thị Hoà" in page and TITLE in page
    assert re.search(r"Hours</dt>\s*<dd>2</dd>", html)
    assert "01/04/2025" in page and "31/03/2025" not in page  # Asia/Ho_Chi_Minh, dd/mm/yyyy
    assert "01/07/2030" in page
    assert app.config["LMS_ISSUING_AUTHORITY"] in page
    assert_no_contact_details(html)


def test_verify_json_has_the_same_public_fields(app, client, certificate):
    response = client.get(f"/verify/{certificate.serial}.json")

    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["outcome"] == "found"
    assert body["certificate"] == {
        "serial": serials.display(certificate.serial), "status": "valid", "holder_name": "Trần Thị Hoà",
        "course": TITLE, "hours": 2.0, "issued_on": "01/04/2025", "expires_on": "01/07/2030",
        "issuing_authority": app.config["LMS_ISSUING_AUTHORITY"], "revoked_reason": None,
        "assisted": False,  # completed with a community digital team's help (lms.community): shown publicly
        "kind": "course", "replaced_by": None, "pdf_url": None, "credential_url": None,
        "credential_jwt_url": None,
    }
    assert_no_contact_details(response.get_data(as_text=True))


@pytest.mark.usefixtures("english")
def test_verify_accepts_the_serial_as_people_type_it(client, certificate):
    typed = serials.display(certificate.serial).lower().replace("-", " ")
    response = client.get("/verify", query_string={"serial": typed}, follow_redirects=True)
    assert response.status_code == 200 and "Trần Thị Hoà" in text_of(response)
    assert client.get(f"/verify/{serials.display(certificate.serial).lower()}.json").get_json()["outcome"] == "found"


@pytest.mark.usefixtures("english")
def test_a_mistyped_serial_is_told_apart_from_an_unknown_one(client, certificate):
    serial = certificate.serial
    typo = serial[:3] + ("X" if serial[3] != "X" else "Y") + serial[4:]

    malformed = client.get(f"/verify/{typo}")
    assert malformed.status_code == 400
    assert "check it for a typing mistake" in text_of(malformed) and "Trần Thị Hoà" not in text_of(malformed)
    malformed_json = client.get(f"/verify/{typo}.json")
    assert malformed_json.status_code == 400 and malformed_json.get_json()["outcome"] == "malformed"
    assert malformed_json.get_json()["certificate"] is None

    unknown_serial = serial_with("ZZZZZZZZZZZ")
    unknown = client.get(f"/verify/{unknown_serial}")
    assert unknown.status_code == 404 and "It may be forged" in text_of(unknown)
    unknown_json = client.get(f"/verify/{unknown_serial}.json")
    assert unknown_json.status_code == 404 and unknown_json.get_json()["outcome"] == "unknown"
    assert "may be forged" in unknown_json.get_json()["message"]


@pytest.mark.usefixtures("english")
def test_a_revoked_certificate_shows_it_and_why(client, db_session, certificate):
    certificate.revoked_at = utcnow()
    certificate.revoked_reason = "Gian lận khi làm bài kiểm tra"
    db_session.commit()

    response = client.get(f"/verify/{certificate.serial}")
    body = client.get(f"/verify/{certificate.serial}.json").get_json()["certificate"]

    assert status_badge(response) == "Revoked" and "Gian lận khi làm bài kiểm tra" in text_of(response)
    assert body["status"] == "revoked" and body["revoked_reason"] == "Gian lận khi làm bài kiểm tra"


@pytest.mark.usefixtures("english")
def test_an_expired_certificate_shows_it(client, db_session, certificate):
    certificate.expires_at = utcnow() - timedelta(days=1)
    db_session.commit()

    response = client.get(f"/verify/{certificate.serial}")
    body = client.get(f"/verify/{certificate.serial}.json").get_json()["certificate"]

    assert status_badge(response) == "Expired" and "Trần Thị Hoà" in text_of(response)
    assert body["status"] == "expired" and body["revoked_reason"] is None


# ---------------------------------------------------------------- the learner's own list

@pytest.mark.usefixtures("english")
def test_my_certificates_lists_only_my_own(client, db_session, create_course, create_user, completed_enrollment, login):
    course = create_course()
    mine_user, other_user = create_user("Trần Thị Hoà"), create_user("Lê Văn Khác")
    mine = issue_for_enrollment(completed_enrollment(mine_user, course))
    theirs = issue_for_enrollment(completed_enrollment(other_user, course))
    db_session.commit()
    login(mine_user)

    page = text_of(client.get("/my/certificates"))

    assert serials.display(mine.serial) in page and TITLE in page
    assert serials.display(theirs.serial) not in page
    assert page.count(TITLE) == 1


@pytest.mark.usefixtures("english")
def test_my_certificates_invites_to_complete_a_course_when_empty(client, create_user, login):
    login(create_user())
    assert "You have no certificate yet" in text_of(client.get("/my/certificates"))


def test_anonymous_visitors_must_log_in_to_see_their_certificates(client):
    response = client.get("/my/certificates")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/my/certificates"


# ---------------------------------------------------------------- locality at enrolment

def test_the_certificate_keeps_the_locality_of_the_enrolment_after_the_learner_moves(
        db_session, create_course, create_user, commune):
    vung_tau, ba_ria = commune("26506"), commune("26560")
    user = create_user(locality=vung_tau)
    course = create_course()
    enrollment = enrollment_ops.enrol(user, course)
    user.locality = ba_ria  # moves before finishing
    enrollment.completed_at = utcnow()
    db_session.commit()

    issue_certificate.run(enrollment.id)

    certificate = db_session.scalar(select(Certificate).where(Certificate.user_id == user.id))
    assert certificate.locality_id == vung_tau.id and enrollment.locality_id == vung_tau.id
    assert user.locality_id == ba_ria.id
