"""`notify_many`, the batch form the reminder job uses: same outcome as `notify` one by one."""

from sqlalchemy import select

from lms.core.models import OutboxMessage
from lms.notifications import operations
from lms.notifications.models import Notification


def item(user, key, kind="deadline"):
    return {"user": user, "kind": kind, "subject": f"Nhắc {key}", "body": "…", "dedupe_key": key, "link": None}


def test_batch_skips_used_keys_respects_preferences_and_queues_emails(db_session, create_user):
    wants, declines = create_user(email="a@x.vn"), create_user(email="b@x.vn")
    operations.set_preferences(declines, {"deadline": False})
    operations.notify(wants, "deadline", "Cũ", "", dedupe_key="k1")
    before = db_session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc())) or 0
    made = operations.notify_many([item(wants, "k1"), item(wants, "k2"), item(declines, "k3"), item(wants, "k2")])
    assert made == 2
    status = {key: value for key, value in db_session.execute(select(Notification.dedupe_key, Notification.email_status))}
    assert status == {"k1": "pending", "k2": "pending", "k3": "none"}
    queued = db_session.scalars(select(OutboxMessage.kwargs).where(OutboxMessage.id > before)).all()
    k2 = db_session.scalar(select(Notification.id).where(Notification.dedupe_key == "k2"))
    assert queued == [{"notification_id": k2}]
    assert operations.notify_many([item(wants, "k2"), item(declines, "k3")]) == 0


def test_a_key_taken_concurrently_falls_back_to_one_by_one(db_session, create_user, monkeypatch):
    user = create_user(email="a@x.vn")
    operations.notify(user, "deadline", "Đã có", "", dedupe_key="taken")
    real_scalars = db_session.scalars
    calls = []

    def blind_first_lookup(statement, *args, **kwargs):
        # The batch's first lookup does not see "taken" (as if another worker inserted it just after).
        if not calls and "dedupe_key" in str(statement):
            calls.append(1)
            return real_scalars(statement.where(Notification.id < 0), *args, **kwargs)
        return real_scalars(statement, *args, **kwargs)

    monkeypatch.setattr(db_session, "scalars", blind_first_lookup)
    assert operations.notify_many([item(user, "taken"), item(user, "new")]) == 1
    keys = sorted(db_session.execute(select(Notification.dedupe_key)).scalars())
    assert keys == ["new", "taken"]
