"""`notify` — the one call other features use — and preferences. Each flushes; the caller commits."""

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lms.core.db import utcnow
from lms.core.outbox import enqueue, enqueue_many
from lms.extensions import db
from lms.notifications.models import DirectMessage, Notification, NotificationPreference
from lms.privacy.queries import consent_withdrawn, withdrawn_among


def wants_email(user, kind: str) -> bool:
    """The person's preference for `kind`; never after they withdrew their consent (docs/privacy.md):
    e-mail is optional processing, the notification itself stays in their account."""
    if consent_withdrawn(user.id):
        return False
    preference = db.session.scalar(select(NotificationPreference.email).where(
        NotificationPreference.user_id == user.id, NotificationPreference.kind == kind))
    return preference is None or bool(preference)


def notify(user, kind: str, subject: str, body: str, dedupe_key: str, link: str | None = None) -> Notification:
    """Tell `user` something in the app and, if they want it and have an address, by e-mail.

    Idempotent by `dedupe_key` (e.g. "class:12:enrolled:34"): a second call returns the first
    notification and queues nothing.
    """
    existing = db.session.scalar(select(Notification).where(Notification.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    notification = Notification(user_id=user.id, kind=kind, subject=subject[:255], body=body, link=link,
                                dedupe_key=dedupe_key[:200])
    notification.email_status = "pending" if (user.email and wants_email(user, kind)) else "none"
    try:
        with db.session.begin_nested():
            db.session.add(notification)
            db.session.flush()
    except IntegrityError:  # a concurrent caller won the race on the unique key
        return db.session.scalar(select(Notification).where(Notification.dedupe_key == dedupe_key))
    if notification.email_status == "pending":
        enqueue("notifications.send_email", notification_id=notification.id)
    return notification


def notify_many(items: list[dict]) -> int:
    """`notify` for a batch of {user, kind, subject, body, dedupe_key, link}: a constant number of
    statements per batch (the reminder job sends tens of thousands). Keys already used are skipped;
    returns how many notifications were made. If a concurrent caller used one of the keys in the
    meantime, the batch falls back to `notify` one by one, which handles that race."""
    keys = [item["dedupe_key"][:200] for item in items]
    done = set(db.session.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.in_(keys))))
    fresh, seen = [], set()
    for item, key in zip(items, keys, strict=True):
        if key not in done and key not in seen:
            seen.add(key)
            fresh.append((item, key))
    if not fresh:
        return 0
    preferences = select(NotificationPreference.user_id, NotificationPreference.kind).where(
        NotificationPreference.user_id.in_({item["user"].id for item, _key in fresh}),
        NotificationPreference.email.is_(False))
    opted_out = {tuple(row) for row in db.session.execute(preferences)}
    withdrawn = withdrawn_among(item["user"].id for item, _key in fresh)
    rows = [Notification(user_id=item["user"].id, kind=item["kind"], subject=item["subject"][:255], body=item["body"],
                         link=item.get("link"), dedupe_key=key,
                         email_status="pending" if item["user"].email and (item["user"].id, item["kind"]) not in opted_out
                         and item["user"].id not in withdrawn else "none") for item, key in fresh]
    try:
        with db.session.begin_nested():
            db.session.add_all(rows)
            db.session.flush()
    except IntegrityError:
        made = 0
        for item, _key in fresh:
            before = db.session.scalar(select(Notification.id).where(Notification.dedupe_key == _key))
            if before is None:
                notify(item["user"], item["kind"], item["subject"], item["body"], _key, item.get("link"))
                made += 1
        return made
    enqueue_many("notifications.send_email", [{"notification_id": n.id} for n in rows if n.email_status == "pending"])
    return len(rows)


def set_preferences(user, email_by_kind: dict) -> None:
    for kind, wanted in email_by_kind.items():
        preference = db.session.scalar(select(NotificationPreference).where(
            NotificationPreference.user_id == user.id, NotificationPreference.kind == kind))
        if preference is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, email=bool(wanted)))
        else:
            preference.email = bool(wanted)
    db.session.flush()


def mark_read(user, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) unread notification of `user` as read."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    return db.session.execute(query.values(read_at=utcnow())).rowcount


def send_direct(channel: str, to: str, body: str, *, purpose: str, subject: str = "", user=None,
                batch: list | None = None) -> DirectMessage:
    """Queue an e-mail or SMS to an address (sent after the caller commits, retried by the outbox).

    With `batch` (a list), the message id is appended to it instead of getting an outbox message of
    its own; the caller then queues the list with `deliver_in_chunks` — a bulk sender (the invitations
    after an HR import of 20,000 people) must not flood the outbox with one message per person.
    """
    message = DirectMessage(channel=channel, to=to, subject=subject[:255], body=body, purpose=purpose,
                            user_id=getattr(user, "id", None))
    db.session.add(message)
    db.session.flush()
    if batch is None:
        enqueue("notifications.deliver", message_id=message.id)
    else:
        batch.append(message.id)
    return message


DELIVERY_CHUNK = 100  # direct messages per outbox message when sending in bulk


def deliver_in_chunks(message_ids: list[int], chunk: int = DELIVERY_CHUNK) -> int:
    """Queue the sending of these direct messages, `chunk` per outbox message. Returns how many were queued."""
    chunks = [message_ids[start:start + chunk] for start in range(0, len(message_ids), chunk)]
    enqueue_many("notifications.deliver_many", [{"message_ids": ids} for ids in chunks])
    return len(chunks)
