"""Notifications are asked for through events, so no feature imports this one's operations."""

from sqlalchemy import delete

from lms.core.signals import (
    direct_message_requested,
    direct_messages_batched,
    notification_requested,
    notifications_requested,
    personal_data_erased,
    unread_count_column_asked,
)
from lms.extensions import db
from lms.notifications.models import DirectMessage, Notification, NotificationPreference
from lms.notifications.operations import deliver_in_chunks, notify, notify_many, send_direct
from lms.notifications.queries import unread_count_of


@notification_requested.connect
def _notify(user, *, kind, subject, body, dedupe_key, link=None, **_):
    return notify(user, kind, subject, body, dedupe_key=dedupe_key, link=link)


@notifications_requested.connect
def _notify_many(_sender, *, items, **__):
    return notify_many(items)


@direct_message_requested.connect
def _send_direct(user, *, channel, to, body, purpose, subject="", batch=None, **_):
    return send_direct(channel, to, body, purpose=purpose, subject=subject, user=user, batch=batch)


@direct_messages_batched.connect
def _deliver_in_chunks(_sender, *, message_ids, **__):
    return deliver_in_chunks(message_ids)


@personal_data_erased.connect
def _erase(user, **_):
    for model in (Notification, NotificationPreference, DirectMessage):
        db.session.execute(delete(model).where(model.user_id == user.id))


@unread_count_column_asked.connect
def _unread_count_column(user_id, **_):
    return unread_count_of(user_id)
