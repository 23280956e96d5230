"""Sending SMS through a pluggable sender, chosen by SMS_BACKEND.

- `mailbox` (the default, and the embedded demo): the message lands in /dev/mailbox beside e-mail;
- `http`: a POST of JSON {"to", "from", "text"} to SMS_HTTP_URL with `Authorization: Bearer
  SMS_HTTP_TOKEN` — the shape most brandname gateways accept directly or through a small proxy.
  A non-2xx answer or a network error raises, and the outbox tries again with backoff.

The text of a message may hold a one-time code, so it is never logged: only the number's last
digits and the gateway's status are.
"""

import logging

from flask import current_app

from lms.core.http import post_json
from lms.extensions import db
from lms.notifications.models import MailboxMessage

log = logging.getLogger(__name__)


class SmsError(OSError):
    """The gateway refused or could not be reached; the outbox retries."""


def _masked(number: str) -> str:
    return "…" + number[-3:]


def send_to_mailbox(to: str, text: str) -> None:
    db.session.add(MailboxMessage(channel="sms", to=to, subject="SMS", body=text))
    db.session.flush()


def send_over_http(to: str, text: str) -> None:
    config = current_app.config
    try:
        post_json(config["SMS_HTTP_URL"], {"to": to, "from": config.get("SMS_SENDER", ""), "text": text},
                  token=config.get("SMS_HTTP_TOKEN", ""), timeout=config.get("SMS_HTTP_TIMEOUT", 10),
                  error_class=SmsError)
    except SmsError as error:
        log.warning("SMS to %s not sent: %s", _masked(to), error)
        raise SmsError(f"gateway {error}") from None
    log.info("SMS to %s accepted by the gateway", _masked(to))


SENDERS = {"mailbox": send_to_mailbox, "http": send_over_http}


def send(to: str, text: str) -> None:
    backend = current_app.config.get("SMS_BACKEND") or "mailbox"
    if backend not in SENDERS:
        raise SmsError(f"unknown SMS_BACKEND {backend!r} (choose one of {', '.join(SENDERS)})")
    SENDERS[backend](to, text)
