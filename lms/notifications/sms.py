"""Sending SMS through a pluggable sender, chosen by SMS_BACKEND.

- `mailbox` (the default, and the embedded demo): the message lands in /dev/mailbox beside e-mail;
- `http`: a POST of JSON {"to", "from", "text"} to SMS_HTTP_URL with `Authorization: Bearer
  SMS_HTTP_TOKEN` — the shape most brandname gateways accept directly or through a small proxy.
  A non-2xx answer or a network error raises, and the outbox tries again with backoff.

The text of a message may hold a one-time code, so it is never logged: only the number's last
digits and the gateway's status are.
"""

import json
import logging
import urllib.error
import urllib.request

from flask import current_app

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
    payload = json.dumps({"to": to, "from": config.get("SMS_SENDER", ""), "text": text}).encode()
    request = urllib.request.Request(config["SMS_HTTP_URL"], data=payload, method="POST",
                                     headers={"Content-Type": "application/json"})
    if config.get("SMS_HTTP_TOKEN"):
        request.add_header("Authorization", f"Bearer {config['SMS_HTTP_TOKEN']}")
    try:
        with urllib.request.urlopen(request, timeout=float(config.get("SMS_HTTP_TIMEOUT", 10))) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        log.warning("SMS to %s not sent: %s", _masked(to), type(error).__name__)
        raise SmsError(f"gateway unreachable: {type(error).__name__}") from None
    if not 200 <= status < 300:
        log.warning("SMS to %s refused by the gateway: HTTP %s", _masked(to), status)
        raise SmsError(f"gateway answered HTTP {status}")
    log.info("SMS to %s accepted by the gateway", _masked(to))


SENDERS = {"mailbox": send_to_mailbox, "http": send_over_http}


def send(to: str, text: str) -> None:
    backend = current_app.config.get("SMS_BACKEND") or "mailbox"
    if backend not in SENDERS:
        raise SmsError(f"unknown SMS_BACKEND {backend!r} (choose one of {', '.join(SENDERS)})")
    SENDERS[backend](to, text)
