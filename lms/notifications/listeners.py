"""Notifications are asked for through events, so no feature imports this one's operations."""

from lms.core.signals import direct_message_requested, notification_requested, notifications_requested
from lms.notifications.operations import notify, notify_many, send_direct


@notification_requested.connect
def _notify(user, *, kind, subject, body, dedupe_key, link=None, **_):
    return notify(user, kind, subject, body, dedupe_key=dedupe_key, link=link)


@notifications_requested.connect
def _notify_many(_sender, *, items, **__):
    return notify_many(items)


@direct_message_requested.connect
def _send_direct(user, *, channel, to, body, purpose, subject="", **_):
    return send_direct(channel, to, body, purpose=purpose, subject=subject, user=user)
