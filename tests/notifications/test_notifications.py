"""Notifications: notify() is idempotent by key, e-mail follows preferences, SMTP delivery happens exactly once
even when the task runs twice (a real SMTP server on 127.0.0.1), the demo mailbox, the bell and the list."""

import socket
import time

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from lms.notifications import operations
from lms.notifications.models import MailboxMessage, Notification
from lms.notifications.tasks import send_email
from tests.conftest import text_of


class _Collect:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def smtp(app, monkeypatch):
    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", controller.port)
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", False)
    monkeypatch.setitem(app.config, "MAIL_FROM", "LMS <no-reply@lms.test>")
    yield handler
    controller.stop()


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.05)
    return predicate()


def test_notify_is_idempotent_by_dedupe_key(db_session, create_user):
    user = create_user()
    first = operations.notify(user, "general", "Chào", "Nội dung", dedupe_key="test:1")
    second = operations.notify(user, "general", "Chào lần hai", "Khác", dedupe_key="test:1")
    assert first.id == second.id and second.subject == "Chào"
    assert db_session.scalar(select(func.count(Notification.id)).where(Notification.user_id == user.id)) == 1


def test_smtp_message_arrives_exactly_once_when_the_task_runs_twice(db_session, create_user, smtp):
    user = create_user("Nguyễn Thị Lan", email="lan@example.vn")
    notification = operations.notify(user, "general", "Lịch học tuần này", "Thứ Hai, 8 giờ sáng.", dedupe_key="test:smtp")
    db_session.flush()
    assert notification.email_status == "pending"
    assert send_email.run(notification.id) == "sent"
    assert send_email.run(notification.id) == "skipped"
    assert _wait(lambda: len(smtp.messages) >= 1)
    time.sleep(0.2)
    assert len(smtp.messages) == 1
    recipients, content = smtp.messages[0]
    assert recipients == ["lan@example.vn"]
    assert "X-LMS-Dedupe-Key: test:smtp" in content
    assert notification.email_status == "sent" and notification.emailed_at is not None


def test_smtp_down_keeps_the_notification_pending_for_a_retry(db_session, create_user, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", _free_port())  # nothing listens
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", False)
    user = create_user(email="x@example.vn")
    notification = operations.notify(user, "general", "S", "B", dedupe_key="test:down")
    with pytest.raises(OSError):
        send_email.run(notification.id)
    assert notification.email_status == "pending" and notification.email_error


def test_without_smtp_mail_goes_to_the_mailbox_page_for_admins(client, db_session, create_user, login):
    user = create_user("Trần Văn Học", email="hoc@example.vn")
    notification = operations.notify(user, "general", "Thư thử nghiệm", "Xin chào", dedupe_key="test:mailbox")
    send_email.run(notification.id)
    send_email.run(notification.id)
    assert db_session.scalar(select(func.count(MailboxMessage.id)).where(
        MailboxMessage.notification_id == notification.id)) == 1
    login(user)
    assert client.get("/dev/mailbox").status_code == 403
    client.post("/logout")
    login(create_user(roles=("admin",)))
    page = text_of(client.get("/dev/mailbox"))
    assert "Thư thử nghiệm" in page and "hoc@example.vn" in page


def test_preferences_switch_email_off_per_kind(client, db_session, create_user, login):
    user = create_user()
    login(user)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert 'name="email_class"' in page and "checked" in page
    response = client.post("/notifications/settings", data={"email_general": "y"})  # class, account, import off
    assert response.status_code == 302
    off = operations.notify(user, "class", "Lớp mới", "…", dedupe_key="test:pref:class")
    on = operations.notify(user, "general", "Tin chung", "…", dedupe_key="test:pref:general")
    assert off.email_status == "none" and on.email_status == "pending"


def test_bell_list_and_mark_read(client, db_session, create_user, login):
    user = create_user()
    operations.notify(user, "general", "Thông báo một", "A", dedupe_key="test:bell:1")
    operations.notify(user, "general", "Thông báo hai", "B", dedupe_key="test:bell:2")
    login(user)
    html = client.get("/notifications").get_data(as_text=True)
    assert 'class="bell-count"' in html and ">2</span>" in html
    assert "Thông báo một" in text_of(client.get("/notifications"))
    first = db_session.scalar(select(Notification).where(Notification.dedupe_key == "test:bell:1"))
    client.post("/notifications/read", data={"id": first.id})
    assert first.read_at is not None
    assert ">1</span>" in client.get("/notifications").get_data(as_text=True)
    client.post("/notifications/read", data={})
    assert 'class="bell-count"' not in client.get("/notifications").get_data(as_text=True)
    # Someone else's notification cannot be marked read.
    other = create_user("Người khác")
    theirs = operations.notify(other, "general", "Riêng", "C", dedupe_key="test:bell:other")
    client.post("/notifications/read", data={"id": theirs.id})
    assert theirs.read_at is None
