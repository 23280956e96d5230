"""Sending e-mail: SMTP when SMTP_HOST is set, otherwise the database mailbox (/dev/mailbox)."""

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app

from lms.extensions import db
from lms.notifications.models import MailboxMessage


def send(notification, to: str) -> None:
    config = current_app.config
    if not config.get("SMTP_HOST"):
        db.session.add(MailboxMessage(notification_id=notification.id, to=to, subject=notification.subject,
                                      body=_body(notification)))
        db.session.flush()
        return
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = notification.subject
    # A stable id per notification lets mail systems drop a duplicate if one ever slips through.
    message["Message-ID"] = make_msgid(idstring=f"n{notification.id}", domain=config["MAIL_DOMAIN"])
    message["X-LMS-Dedupe-Key"] = notification.dedupe_key
    message.set_content(_body(notification))
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=20) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
        smtp.send_message(message)


def send_direct(to: str, subject: str, body: str, message_id: int) -> None:
    """An e-mail to an address (a reset link, a verification link): SMTP or the local mailbox."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        db.session.add(MailboxMessage(to=to, subject=subject, body=body))
        db.session.flush()
        return
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(idstring=f"d{message_id}", domain=config["MAIL_DOMAIN"])
    message.set_content(body)
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=20) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
        smtp.send_message(message)


def _body(notification) -> str:
    body = notification.body or ""
    if notification.link:
        body += f"\n\n{notification.link}"
    return body
