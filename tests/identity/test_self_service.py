"""A person changes their own password, name, commune, e-mail and phone; imported people get their link."""

import json
import threading
import unicodedata
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.accounts.operations import unusable_password_hash
from lms.core.models import AuditEvent
from lms.notifications.models import DirectMessage
from lms.notifications.tasks import deliver
from tests.conftest import text_of
from tests.identity.conftest import NEW_PASSWORD, PASSWORD, inbox, last_code, last_link


@pytest.fixture()
def me(create_user, en):
    user = create_user("Trần Thị Hoà", email="hoa@example.vn")
    response = en.post("/login", data={"login": "hoa@example.vn", "password": PASSWORD})
    assert response.status_code == 302
    return user


def test_profile_links_to_every_setting(en, me):
    page = en.get("/profile").get_data(as_text=True)
    for path in ("/profile/edit", "/profile/email", "/profile/phone", "/profile/password"):
        assert f'href="{path}"' in page


def test_change_password_needs_the_current_one_and_ends_other_sessions(en, me, db_session):
    other = en.application.test_client()
    other.post("/login", data={"login": "hoa@example.vn", "password": PASSWORD})
    assert other.get("/profile").status_code == 200
    wrong = en.post("/profile/password", data={"current": "not-my-password", "password": NEW_PASSWORD,
                                               "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400 and "This is not your current password." in text_of(wrong)
    assert me.check_password(PASSWORD)
    response = en.post("/profile/password", data={"current": PASSWORD, "password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert me.check_password(NEW_PASSWORD)
    assert en.get("/profile").status_code == 200  # this browser stays logged in
    assert other.get("/profile").status_code == 302  # the other one is logged out
    assert db_session.scalar(select(AuditEvent.action).where(AuditEvent.action == "account.password_changed"))


def test_edit_name_in_nfc_and_commune_with_the_registration_picker(en, me, db_session, commune):
    decomposed = unicodedata.normalize("NFD", "Trần  Thị Hoà Bình")
    search = en.post("/profile/edit", data={"full_name": decomposed, "locality_q": "vung tau", "search": "1",
                                            "locality_id": ""})
    assert search.status_code == 200 and "Phường Vũng Tàu" in text_of(search)
    target = commune()
    response = en.post("/profile/edit", data={"full_name": decomposed, "locality_id": target.id, "submit": "1"})
    assert response.status_code == 302
    assert me.full_name == "Trần Thị Hoà Bình" and unicodedata.is_normalized("NFC", me.full_name)
    assert me.locality_id == target.id


@pytest.mark.parametrize("data, message", [
    ({"full_name": "", "locality_id": "1"}, "Enter your full name."),
    ({"full_name": "A" * 500, "locality_id": "1"}, "Your name must be between 2 and 160 characters."),
    ({"full_name": "Trần Hoà", "locality_id": "999999999"}, "Choose your commune or ward from the list."),
])
def test_edit_profile_bad_input(en, me, data, message):
    response = en.post("/profile/edit", data={**data, "submit": "1"})
    assert response.status_code == 400 and message in text_of(response)
    assert me.full_name == "Trần Thị Hoà"


def test_new_email_is_used_only_after_its_link_is_opened(en, me, db_session):
    response = en.post("/profile/email", data={"email": "Hoa.Moi@Example.vn"})
    assert response.status_code == 302
    assert me.email == "hoa@example.vn"
    link = last_link(db_session, "hoa.moi@example.vn", "/profile/email/")
    assert en.get(link).status_code == 302
    assert me.email == "hoa.moi@example.vn"
    assert en.post("/login", data={"login": "hoa.moi@example.vn", "password": PASSWORD}).status_code == 302


def test_an_email_of_another_account_is_refused(en, me, create_user):
    create_user(email="taken@example.vn")
    response = en.post("/profile/email", data={"email": "taken@example.vn"})
    assert response.status_code == 400 and "already registered" in text_of(response)


def test_a_forged_email_link_is_refused(en, me):
    response = en.get("/profile/email/not-a-real-token")
    assert response.status_code == 400 and "not valid any more" in text_of(response)


@pytest.mark.parametrize("typed", ["0912 345 678", "+84 912 345 678", "84912345678", "0912.345.678"])
def test_new_phone_in_any_vietnamese_form_is_confirmed_by_code(en, me, db_session, typed):
    response = en.post("/profile/phone", data={"phone": typed})
    assert response.status_code == 302 and response.headers["Location"].endswith("/profile/phone/confirm")
    assert me.phone is None
    code = last_code(db_session, "0912345678")
    response = en.post("/profile/phone/confirm", data={"code": code})
    assert response.status_code == 302 and me.phone == "0912345678"


def test_wrong_phone_code_and_bad_numbers(en, me, db_session):
    assert "10-digit mobile number" in text_of(en.post("/profile/phone", data={"phone": "12345"}))
    en.post("/profile/phone", data={"phone": "0912345678"})
    code = last_code(db_session, "0912345678")
    response = en.post("/profile/phone/confirm", data={"code": "12ab"})
    assert response.status_code == 400 and "The code has 6 digits." in text_of(response)
    wrong = "000000" if code != "000000" else "111111"
    response = en.post("/profile/phone/confirm", data={"code": wrong})
    assert response.status_code == 400 and "4 tries left" in text_of(response)
    assert me.phone is None


# ---------------------------------------------------------------- imported people

@pytest.fixture()
def imported(db_session, commune):
    user = User(full_name="Phạm Văn Công", full_name_folded="pham van cong", email="cong@example.vn",
                password_hash=unusable_password_hash(), locality=commune())
    phone_only = User(full_name="Đỗ Thị Lan", full_name_folded="do thi lan", phone="0911222333",
                      password_hash=unusable_password_hash(), locality=commune())
    db_session.add_all([user, phone_only])
    db_session.flush()
    return user, phone_only


def test_imported_people_get_their_link_by_email_or_sms_once(app, db_session, imported):
    from lms.accounts.tasks import invite_imported

    assert invite_imported.run() == 2
    assert invite_imported.run() == 0
    by_email = [m for m in db_session.scalars(select(DirectMessage).where(DirectMessage.purpose == "set-password"))]
    assert {m.channel for m in by_email} == {"email", "sms"}
    for message in by_email:
        deliver.run(message.id)
    assert "/set-password/" in inbox(db_session, "cong@example.vn", "email")[0].body
    assert "/set-password/" in inbox(db_session, "0911222333", "sms")[0].body


def test_a_manager_of_their_commune_can_resend_the_link_others_cannot(client, db_session, create_user, login,
                                                                       imported, commune):
    person, _ = imported
    outsider = create_user(roles=("manager",), manager_of=commune("26740"))
    login(outsider)
    assert client.post(f"/admin/users/{person.id}/set-password-link").status_code == 403
    client.post("/logout")
    manager = create_user(roles=("manager",), manager_of=commune())
    login(manager)
    response = client.post(f"/admin/users/{person.id}/set-password-link", data={"next": "/"})
    assert response.status_code == 302
    assert "/set-password/" in inbox(db_session, "cong@example.vn", "email")[-1].body


# ---------------------------------------------------------------- the SMS gateway adapter

class _Gateway(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # noqa: N802 - the name http.server calls
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers.get("Authorization"), json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def gateway(app):
    _Gateway.received, _Gateway.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    saved = {key: app.config[key] for key in ("SMS_BACKEND", "SMS_HTTP_URL", "SMS_HTTP_TOKEN", "SMS_SENDER")}
    app.config.update(SMS_BACKEND="http", SMS_HTTP_URL=f"http://127.0.0.1:{server.server_port}/send",
                      SMS_HTTP_TOKEN="tok", SMS_SENDER="TTCDS")
    yield _Gateway
    app.config.update(saved)
    server.shutdown()


def test_http_gateway_gets_the_sms_and_a_refusal_is_retried(app, db_session, gateway, caplog):
    from lms.notifications.operations import send_direct

    caplog.set_level("DEBUG")
    message = send_direct("sms", "0911222333", "123456 là mã của bạn", purpose="test")
    gateway.status = 503
    with pytest.raises(OSError):
        deliver.run(message.id)
    assert message.status == "pending" and "503" in message.error
    gateway.status = 200
    assert deliver.run(message.id) == "sent"
    assert deliver.run(message.id) == "skipped"
    assert [r[1] for r in gateway.received][-1] == {"to": "0911222333", "from": "TTCDS", "text": "123456 là mã của bạn"}
    assert gateway.received[-1][0] == "Bearer tok"
    assert message.body == "" and "123456" not in caplog.text
    assert inbox(db_session, "0911222333") == []  # the gateway, not the mailbox


def test_a_big_import_queues_its_invitations_in_chunks_and_invites_everyone_once(app, db_session, commune):
    from lms.accounts.tasks import invite_imported
    from lms.core.models import OutboxMessage
    from lms.notifications.operations import DELIVERY_CHUNK
    from lms.notifications.tasks import deliver_many

    count = DELIVERY_CHUNK * 2 + 37
    db_session.add_all([User(full_name=f"Người {n}", full_name_folded=f"nguoi {n}", email=f"p{n}@example.vn",
                             password_hash=unusable_password_hash(), locality=commune()) for n in range(count)])
    db_session.flush()
    assert invite_imported.run() == count
    assert invite_imported.run() == 0
    chunks = db_session.scalars(select(OutboxMessage).where(OutboxMessage.task == "notifications.deliver_many")).all()
    assert sorted(len(m.kwargs["message_ids"]) for m in chunks) == [37, DELIVERY_CHUNK, DELIVERY_CHUNK]
    assert db_session.scalar(select(OutboxMessage.id).where(OutboxMessage.task == "notifications.deliver")) is None
    ids = [i for m in chunks for i in m.kwargs["message_ids"]]
    # The tests run background work eagerly after each commit: the chunks were already sent.
    assert {m.state for m in chunks} == {"done"}
    assert [deliver_many.run(m.kwargs["message_ids"]) for m in chunks] == [0, 0, 0]  # a rerun sends nobody twice
    sent = db_session.scalars(select(DirectMessage).where(DirectMessage.id.in_(ids))).all()
    assert len({m.to for m in sent}) == count and {m.status for m in sent} == {"sent"}
