from celery import shared_task
from sqlalchemy import select

from lms.core.db import utcnow
from lms.extensions import db
from lms.notifications import mail
from lms.notifications.models import DirectMessage, Notification
from lms.privacy.queries import consent_withdrawn


@shared_task(name="notifications.send_email")
def send_email(notification_id: int):
    """Send the e-mail copy of a notification once, however often the message is delivered.

    The row is locked while sending (SELECT … FOR UPDATE on PostgreSQL), so a duplicate run
    waits and then finds it already sent.
    """
    notification = db.session.scalar(select(Notification).where(Notification.id == notification_id)
                                     .with_for_update())
    if notification is None or notification.email_status != "pending" or not notification.user.email:
        db.session.rollback()
        return "skipped"
    if consent_withdrawn(notification.user_id):  # withdrawn after it was queued: no e-mail after all
        notification.email_status = "none"
        db.session.commit()
        return "skipped"
    try:
        mail.send(notification, notification.user.email)
    except OSError as error:
        notification.email_error = f"{type(error).__name__}: {error}"[:2000]
        db.session.commit()
        raise
    notification.email_status, notification.emailed_at, notification.email_error = "sent", utcnow(), None
    db.session.commit()
    return "sent"


@shared_task(name="notifications.deliver_many")
def deliver_many(message_ids: list[int]):
    """Send a chunk of direct messages (bulk senders queue them so). Each is sent once: a message
    already sent is skipped, so a rerun after a failure part-way sends only the rest."""
    results = [deliver.run(message_id) for message_id in message_ids]
    return results.count("sent")


@shared_task(name="notifications.deliver")
def deliver(message_id: int):
    """Send a direct e-mail or SMS once; the row is locked meanwhile, so a duplicate run finds it sent.

    Once sent, the body is blanked: it may hold a one-time code or a link that must not stay around.
    """
    from lms.notifications import sms

    message = db.session.scalar(select(DirectMessage).where(DirectMessage.id == message_id).with_for_update())
    if message is None or message.status != "pending":
        db.session.rollback()
        return "skipped"
    try:
        if message.channel == "sms":
            sms.send(message.to, message.body)
        else:
            mail.send_direct(message.to, message.subject, message.body, message.id)
    except OSError as error:
        message.error = f"{type(error).__name__}: {error}"[:2000]
        db.session.commit()
        raise
    message.status, message.sent_at, message.error, message.body = "sent", utcnow(), None, ""
    db.session.commit()
    return "sent"
