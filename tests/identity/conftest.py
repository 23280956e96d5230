"""Helpers of the identity tests: what the local mailbox received, and an English client."""

import re

import pytest
from sqlalchemy import select

from lms.notifications.models import MailboxMessage

PASSWORD = "mat-khau-123"
NEW_PASSWORD = "mat-khau-moi-456"


@pytest.fixture()
def en(client):
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def inbox(db_session, to: str, channel: str | None = None) -> list[MailboxMessage]:
    query = select(MailboxMessage).where(MailboxMessage.to == to).order_by(MailboxMessage.id)
    if channel:
        query = query.where(MailboxMessage.channel == channel)
    return list(db_session.scalars(query))


def last_link(db_session, to: str, path: str) -> str:
    """The path of the last link to `path…` sent to `to` (the mailbox shows the absolute URL)."""
    bodies = [message.body for message in inbox(db_session, to, "email")]
    assert bodies, f"no e-mail to {to}"
    match = re.search(rf"https?://[^/\s]+({re.escape(path)}[^\s]+)", bodies[-1])
    assert match, bodies[-1]
    return match.group(1)


def last_code(db_session, to: str) -> str:
    messages = inbox(db_session, to, "sms")
    assert messages, f"no SMS to {to}"
    return re.search(r"\b(\d{6})\b", messages[-1].body).group(1)
