"""Consent by an SMS code the resident reads back, and the log-in handed over by SMS."""

import logging

import pytest
from sqlalchemy import select

from lms.accounts.models import OneTimeCode, User
from lms.community.models import CommunityResident
from tests.community.test_assisted import team  # noqa: F401 - the team fixture
from tests.conftest import text_of
from tests.identity.conftest import inbox, last_code

pytestmark = pytest.mark.usefixtures("english")
PHONE = "0912345678"


def form(commune_id, **extra):
    return {"full_name": "Nguyễn Thị A", "phone": PHONE, "commune_id": str(commune_id), "hamlet": "Ấp 2",
            "consent_method": "sms", "consent_reference": "", "consent_code": "", **extra}


def test_a_resident_confirms_with_the_code_sent_to_their_phone(client, login, team, db_session, caplog):  # noqa: F811
    login(team["a"])
    caplog.set_level(logging.DEBUG)
    missing = client.post("/community/residents/new", data=form(team["A"].id))
    assert missing.status_code == 400 and "Send the code by SMS, then type the 6 digits" in text_of(missing)

    sent = client.post("/community/residents/new", data=form(team["A"].id, send_code="1"))
    assert sent.status_code == 200 and "…678" in text_of(sent)
    assert db_session.scalar(select(User).where(User.phone == PHONE)) is None  # nothing created before consent
    code = last_code(db_session, PHONE)
    assert code not in caplog.text  # the code is never logged
    row = db_session.scalar(select(OneTimeCode).where(OneTimeCode.purpose == "consent"))
    assert (row.user_id, row.target, row.code_hash != code) == (team["a"].id, PHONE, True)

    wrong = "000000" if code != "000000" else "111111"
    refused = client.post("/community/residents/new", data=form(team["A"].id, consent_code=wrong))
    assert refused.status_code == 400 and "4 tries left" in text_of(refused)
    created = client.post("/community/residents/new", data=form(team["A"].id, consent_code=code))
    assert created.status_code == 303, text_of(created)
    resident = db_session.scalar(select(CommunityResident))
    assert resident.consent_method == "sms" and resident.consent_reference.startswith("SMS …678 #")
    assert code not in resident.consent_reference
    again = client.post("/community/residents/new", data=form(team["A"].id, consent_code=code, phone="0912345679"))
    assert again.status_code == 400 and "not valid any more" in text_of(again)  # one code, one registration


def test_five_wrong_tries_end_a_code_and_sends_are_rate_limited(client, login, team, db_session):  # noqa: F811
    login(team["a"])
    client.post("/community/residents/new", data=form(team["A"].id, send_code="1"))
    code = last_code(db_session, PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post("/community/residents/new", data=form(team["A"].id, consent_code=wrong))
    late = client.post("/community/residents/new", data=form(team["A"].id, consent_code=code))
    assert late.status_code == 400 and "Too many wrong codes" in text_of(late)
    assert db_session.scalar(select(CommunityResident)) is None
    for _ in range(2):
        client.post("/community/residents/new", data=form(team["A"].id, send_code="1"))
    limited = client.post("/community/residents/new", data=form(team["A"].id, send_code="1"))
    assert limited.status_code == 400 and "Too many codes were sent to this number" in text_of(limited)
    assert len(inbox(db_session, PHONE, "sms")) == 3
    other = client.post("/community/residents/new", data=form(team["B"].id, send_code="1"))
    assert other.status_code == 400  # commune B is not the member's: no code is sent
    assert len(inbox(db_session, PHONE, "sms")) == 3


def test_the_log_in_is_handed_over_by_sms(client, login, team, db_session):  # noqa: F811
    login(team["a"])
    client.post("/community/residents/new", data={**form(team["A"].id), "consent_method": "paper",
                                                  "consent_reference": "P-7"})
    resident = db_session.scalar(select(CommunityResident))
    page = client.get(f"/community/residents/{resident.user_id}/handoff")
    assert "Send the log-in by SMS" in text_of(page)
    sent = client.post(f"/community/residents/{resident.user_id}/handoff", follow_redirects=True)
    assert "sent by SMS to …678" in text_of(sent)
    body = inbox(db_session, PHONE, "sms")[-1].body
    assert "/set-password/" in body
    client.post("/logout")
    login(team["a2"])  # not her member: no hand-over
    assert client.post(f"/community/residents/{resident.user_id}/handoff").status_code == 404
    assert len(inbox(db_session, PHONE, "sms")) == 1
