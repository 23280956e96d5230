"""Issue 12, finding 7, the third way to confirm an official: a verified e-mail address in an official
domain (LMS_OFFICIAL_EMAIL_DOMAINS, default *.gov.vn). Registering with one sends the link; opening it
confirms the person at once, recorded in the audit log. Other domains stay a manager's decision."""

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.core.models import AuditEvent
from tests.conftest import text_of
from tests.identity.conftest import last_link


def _register(client, ward, email, audience="official"):
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client.post("/register", data={
        "full_name": "Cán Bộ Xã", "login": email, "password": "mot-mat-khau-dai-2025",
        "confirm": "mot-mat-khau-dai-2025", "audience": audience, "locality_id": str(ward.id), "consent": "y",
        "submit": "1"}, follow_redirects=True)


def test_a_verified_gov_vn_address_confirms_the_official_and_is_audited(client, commune, db_session):
    page = text_of(_register(client, commune(), "Can.Bo@SoNoiVu.HaNoi.gov.vn"))
    assert "Open it to confirm your official e-mail address" in page
    person = db_session.scalar(select(User).where(User.email == "can.bo@sonoivu.hanoi.gov.vn"))
    assert person.audience == "citizen" and person.audience_requested == "official"  # not before the link

    page = text_of(client.get(last_link(db_session, person.email, "/profile/email/"), follow_redirects=True))
    assert "you are now confirmed as a civil servant" in page
    db_session.refresh(person)
    assert person.audience == "official" and person.audience_requested is None
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "audience.confirm_by_email"))
    assert event.actor_id == person.id and event.object_id == str(person.id)
    assert event.before == {"audience": "citizen", "requested": "official"}
    assert event.after["audience"] == "official" and event.after["email_domain"] == "sonoivu.hanoi.gov.vn"


def test_a_resident_who_verifies_a_gov_vn_address_later_is_confirmed_too(client, login, create_user, db_session):
    person = create_user("Người Dân", email="dan@example.vn")
    login(person)
    assert client.post("/profile/email", data={"email": "dan@ubnd.gov.vn"}).status_code == 302
    client.get(last_link(db_session, "dan@ubnd.gov.vn", "/profile/email/"))
    db_session.refresh(person)
    assert person.email == "dan@ubnd.gov.vn" and person.audience == "official"


@pytest.mark.parametrize("email", ["fake@gov.vn.example.com", "someone@notgov.vn", "x@example.vn"])
def test_other_domains_stay_a_managers_decision(client, commune, db_session, email):
    page = text_of(_register(client, commune(), email))
    assert "A manager of your commune or agency will confirm" in page
    person = db_session.scalar(select(User).where(User.email == email))
    assert person.audience == "citizen" and person.audience_requested == "official"
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "audience.confirm_by_email")) is None


def test_a_cio_request_is_not_confirmed_by_the_domain(client, login, create_user, db_session):
    person = create_user("Trưởng Phòng", email="cio@example.vn")
    person.audience_requested = "cio"  # set by a manager's form, not offered at registration
    db_session.commit()
    login(person)
    assert client.post("/profile/email", data={"email": "cio@so.tinh.gov.vn"}).status_code == 302
    client.get(last_link(db_session, "cio@so.tinh.gov.vn", "/profile/email/"))
    db_session.refresh(person)
    assert person.email == "cio@so.tinh.gov.vn"
    assert person.audience == "citizen" and person.audience_requested == "cio"
