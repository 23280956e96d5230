"""Telling people things, for every feature, without importing the notifications feature.

Each function sends an event of lms.core.signals; lms.notifications.listeners makes the
notification or queues the message in the caller's transaction, exactly as a direct call did.
"""

from lms.core.signals import direct_message_requested, direct_messages_batched, notification_requested, notifications_requested


def notify(user, kind: str, subject: str, body: str, dedupe_key: str, link: str | None = None) -> None:
    """Tell `user` something in the app (and by e-mail if they want); idempotent by `dedupe_key`."""
    notification_requested.send(user, kind=kind, subject=subject, body=body, dedupe_key=dedupe_key, link=link)


def notify_many(items: list[dict]) -> int:
    """`notify` for a batch of {user, kind, subject, body, dedupe_key, link}; how many were new."""
    return sum(made or 0 for _receiver, made in notifications_requested.send(None, items=items))


def send_direct(channel: str, to: str, body: str, *, purpose: str, subject: str = "", user=None,
                batch: list | None = None) -> None:
    """Queue an e-mail or SMS to an address (sent after the caller commits, retried by the outbox).
    With `batch` (a list) the message's id is appended to it instead; queue the list with `deliver_in_chunks`."""
    direct_message_requested.send(user, channel=channel, to=to, body=body, purpose=purpose, subject=subject,
                                  batch=batch)


def deliver_in_chunks(message_ids: list[int]) -> int:
    """Queue the sending of direct messages made with `batch=`, many per outbox message; how many were queued."""
    return sum(queued or 0 for _receiver, queued in direct_messages_batched.send(None, message_ids=message_ids))
