"""Data rights beyond the basics: accounts made before consent are asked at their next login; a
withdrawn consent stops optional processing; results go to a receiver (VNeID, personnel records)
only with consent, through the outbox, once."""

import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select, update

from lms.accounts.models import unusable_password_hash
from lms.core import outbox
from lms.core.db import utcnow
from lms.core.models import OutboxMessage
from lms.notifications.models import Notification
from lms.privacy.models import ConsentRecord, NoticeReview
from lms.privacy.operations import record_consent
from lms.privacy.queries import consent_log
from lms.sharing.models import ResultDelivery
from tests.conftest import text_of
from tests.identity.conftest import PASSWORD

# ---------------------------------------------------------------- accounts made before consent existed


@pytest.fixture()
def old_account(create_user, db_session):
    user = create_user("Lý Thị Cũ", email="cu@example.vn")
    db_session.add(NoticeReview(user_id=user.id))  # as migration 0013_rights lists it
    db_session.flush()
    return user


def test_an_old_account_accepts_the_notice_once_then_goes_where_it_was_going(en, db_session, old_account):
    en.post("/login", data={"login": "cu@example.vn", "password": PASSWORD})
    asked = en.get("/profile/privacy")
    assert asked.status_code == 302 and "/privacy/review?next=/profile/privacy" in asked.headers["Location"]
    page = en.get("/privacy/review?next=/profile/privacy")
    assert "Before you continue: our privacy notice" in text_of(page) and "Version 1" in text_of(page)
    refused = en.post("/privacy/review?next=/profile/privacy", data={})
    assert refused.status_code == 400 and "Tick the box to accept the notice, or log out." in text_of(refused)
    assert consent_log(old_account) == []
    accepted = en.post("/privacy/review?next=/profile/privacy", data={"consent": "y"})
    assert accepted.status_code == 302 and accepted.headers["Location"].endswith("/profile/privacy")
    assert [(c.via, c.action, c.notice_version) for c in consent_log(old_account)] == [("login", "given", 1)]
    assert consent_log(old_account)[0].at is not None
    assert db_session.get(NoticeReview, old_account.id) is None
    assert en.get("/profile/privacy").status_code == 200
    en.post("/logout")
    en.post("/login", data={"login": "cu@example.vn", "password": PASSWORD})
    assert en.get("/profile").status_code == 200  # asked once per account, not once per login


def test_an_old_account_may_still_read_the_notice_and_log_out(en, old_account):
    en.post("/login", data={"login": "cu@example.vn", "password": PASSWORD})
    assert en.get("/privacy").status_code == 200
    assert en.post("/logout").status_code == 302
    assert en.get("/courses").status_code == 200


def test_an_account_with_consent_is_not_asked(en, create_user):
    create_user(email="moi@example.vn")
    en.post("/login", data={"login": "moi@example.vn", "password": PASSWORD})
    assert en.get("/profile").status_code == 200


# ---------------------------------------------------------------- withdrawing consent acts


def test_after_withdrawal_notifications_stay_in_the_account_but_no_email_is_sent(en, db_session, create_user):
    from lms.notifications.operations import notify, notify_many

    user = create_user(email="rut@example.vn")
    en.post("/login", data={"login": "rut@example.vn", "password": PASSWORD})
    before = notify(user, "class", "Trước", "…", "rights:before")
    assert before.email_status in ("pending", "sent")
    response = en.post("/profile/privacy/consent", data={"action": "withdrawn"}, follow_redirects=True)
    assert "no e-mail from the platform" in text_of(response) and "public task" in text_of(response)
    assert notify(user, "class", "Sau", "…", "rights:after").email_status == "none"
    assert notify_many([{"user": user, "kind": "reminder", "subject": "Nhắc", "body": "…",
                         "dedupe_key": "rights:many"}]) == 1
    reminder = db_session.scalar(select(Notification).where(Notification.dedupe_key == "rights:many"))
    assert reminder.email_status == "none"
    en.post("/profile/privacy/consent", data={"action": "given"})
    assert notify(user, "class", "Lại", "…", "rights:again").email_status in ("pending", "sent")


def test_an_unknown_consent_purpose_is_refused(en, create_user):
    create_user(email="x@example.vn")
    en.post("/login", data={"login": "x@example.vn", "password": PASSWORD})
    assert en.post("/profile/privacy/consent", data={"action": "given", "purpose": "ads"}).status_code == 400


# ---------------------------------------------------------------- results sharing


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - the name http.server calls
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append({"auth": self.headers.get("Authorization"),
                                    "key": self.headers.get("Idempotency-Key"), "body": body})
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args):
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Receiver:
    """A receiver on 127.0.0.1 that can be down (nothing listens) and come up on the same port."""

    def __init__(self):
        self.port, self.server = _free_port(), None
        _Receiver.received = []

    @property
    def received(self):
        return _Receiver.received

    def up(self):
        self.server = HTTPServer(("127.0.0.1", self.port), _Receiver)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture()
def receiver(app):
    running = Receiver()
    saved = {key: app.config[key] for key in ("LMS_RESULTS_ENDPOINT", "LMS_RESULTS_TOKEN", "LMS_RESULTS_LABEL")}
    app.config.update(LMS_RESULTS_ENDPOINT=f"http://127.0.0.1:{running.port}/results", LMS_RESULTS_TOKEN="tok-123",
                      LMS_RESULTS_LABEL="VNeID")
    yield running
    running.down()
    app.config.update(saved)


def _earn(db_session, create_user, create_course, email, share=True):
    from lms.certificates.models import Certificate
    from lms.enrollment import operations as enrollment_ops

    user = create_user("Đặng Văn Gửi", email=email)
    if share:
        record_consent(user, "account", purpose="results")
    enrollment = enrollment_ops.enrol(user, create_course())
    enrollment.completed_at = utcnow()
    db_session.flush()
    outbox.enqueue("certificates.issue", enrollment_id=enrollment.id)
    db_session.commit()
    outbox.dispatch_ready()  # the tests run background work eagerly, as the worker would
    return user, db_session.scalar(select(Certificate).where(Certificate.user_id == user.id))


def _retry_now(db_session):
    """The outbox's next try, without waiting for its backoff."""
    db_session.execute(update(OutboxMessage).where(OutboxMessage.task == "sharing.deliver", OutboxMessage.state == "queued")
                       .values(due_at=utcnow() - timedelta(minutes=1)))
    db_session.commit()
    return outbox.reconcile()


def test_a_certificate_is_sent_once_with_consent_even_when_the_receiver_was_down(
        en, db_session, receiver, create_user, create_course):
    user, certificate = _earn(db_session, create_user, create_course, "gui@example.vn")  # the receiver is down
    delivery = db_session.scalar(select(ResultDelivery).where(ResultDelivery.user_id == user.id))
    assert delivery.status == "pending" and delivery.attempts == 1 and "unreachable" in delivery.last_error
    receiver.up()
    assert _retry_now(db_session) == 1
    db_session.refresh(delivery)
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert _retry_now(db_session) == 0
    from lms.sharing.tasks import deliver

    assert deliver.run(delivery.delivery_id) == "skipped"  # a duplicate run sends nothing
    assert len(receiver.received) == 1
    sent = receiver.received[0]
    assert sent["auth"] == "Bearer tok-123" and sent["key"] == delivery.delivery_id
    body = sent["body"]
    assert body["delivery_id"] == delivery.delivery_id and body["person"]["email"] == "gui@example.vn"
    assert body["certificate"]["serial"] == certificate.serial
    assert body["certificate"]["verify_url"].endswith(f"/verify/{certificate.serial}")
    assert body["credential"]["type"][-1] in ("OpenBadgeCredential", "AchievementCredential")
    en.post("/login", data={"login": "gui@example.vn", "password": PASSWORD})
    assert "Results sent to VNeID on" in text_of(en.get("/profile/results"))


def test_without_consent_or_after_withdrawal_nothing_is_sent(en, db_session, receiver, create_user, create_course):
    receiver.up()
    _earn(db_session, create_user, create_course, "khong@example.vn", share=False)
    user = create_user(email="rut2@example.vn")
    record_consent(user, "account", purpose="results")
    record_consent(user, "account", action="withdrawn")  # the notice itself: every optional processing stops
    from lms.sharing.queries import may_share

    assert not may_share(user)
    assert db_session.scalar(select(ResultDelivery.id)) is None and receiver.received == []


def test_a_delivery_that_used_its_runs_is_failed_and_an_admin_sends_it_again(
        en, db_session, receiver, create_user, create_course):
    user, _certificate = _earn(db_session, create_user, create_course, "that-bai@example.vn")
    db_session.execute(update(OutboxMessage).where(OutboxMessage.task == "sharing.deliver")
                       .values(runs=outbox.MAX_RUNS, state="running", due_at=utcnow() - timedelta(minutes=1)))
    db_session.commit()
    outbox.reconcile()
    delivery = db_session.scalar(select(ResultDelivery).where(ResultDelivery.user_id == user.id))
    assert delivery.status == "failed"
    create_user("Quản Trị", roles=("admin",), email="qt@example.vn")
    en.post("/login", data={"login": "qt@example.vn", "password": PASSWORD})
    page = text_of(en.get("/admin/result-deliveries"))
    assert "failed" in page and "unreachable" in page
    receiver.up()
    response = en.post(f"/admin/result-deliveries/{delivery.id}/retry", follow_redirects=True)
    assert "The delivery will be sent again." in text_of(response)
    db_session.refresh(delivery)
    assert delivery.status == "delivered" and len(receiver.received) == 1
    again = en.post(f"/admin/result-deliveries/{delivery.id}/retry")
    assert again.status_code == 303 and len(receiver.received) == 1


def test_the_privacy_page_offers_sharing_when_a_receiver_is_configured(en, db_session, receiver, create_user):
    user = create_user(email="trang@example.vn")
    en.post("/login", data={"login": "trang@example.vn", "password": PASSWORD})
    assert "Send my results to VNeID" in text_of(en.get("/profile/privacy"))
    response = en.post("/profile/privacy/consent", data={"action": "given", "purpose": "results"}, follow_redirects=True)
    assert "Your new certificates will be sent to VNeID." in text_of(response)
    assert db_session.scalar(select(ConsentRecord.purpose).where(ConsentRecord.user_id == user.id)
                             .order_by(ConsentRecord.id.desc())) == "results"


def test_imported_people_accept_the_notice_at_their_first_login(en, db_session, create_user):
    from lms.core.signals import people_imported

    imported = create_user("Trần Văn Nhập", email="nhap@example.vn")
    imported.password_hash = unusable_password_hash()  # as an HR import makes them: a link, no consent yet
    already = create_user("Có Đồng Ý", email="codongy@example.vn")
    already.password_hash = unusable_password_hash()
    db_session.add(ConsentRecord(user_id=already.id, notice_version=1, action="given", via="register"))
    member = create_user("Đã Có Mật Khẩu", email="matkhau@example.vn")  # has a password: not this import's
    db_session.flush()
    people_imported.send(None)
    people_imported.send(None)  # a second import lists nobody twice
    listed = set(db_session.scalars(select(NoticeReview.user_id)))
    assert imported.id in listed and already.id not in listed and member.id not in listed
    imported.set_password(PASSWORD)  # the person chose a password through the link
    db_session.flush()
    en.post("/login", data={"login": "nhap@example.vn", "password": PASSWORD})
    asked = en.get("/profile")
    assert asked.status_code == 302 and "/privacy/review" in asked.headers["Location"]
