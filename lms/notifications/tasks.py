from celery import shared_task
from sqlalchemy import select

from lms.core.db import utcnow
from lms.extensions import db
from lms.notifications import mail
from lms.notifications.models import Notification


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
    try:
        mail.send(notification, notification.user.email)
    except OSError as error:
        notification.email_error = f"{type(error).__name__}: {error}"[:2000]
        db.session.commit()
        raise
    notification.email_status, notification.emailed_at, notification.email_error = "sent", utcnow(), None
    db.session.commit()
    return "sent"
