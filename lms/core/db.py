"""Shared model pieces."""

from datetime import UTC, datetime

from lms.extensions import db


def utcnow() -> datetime:
    """Naive UTC: SQLite has no time zones, so every timestamp is stored as naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


class IdMixin:
    id = db.Column(db.Integer, primary_key=True)


class TimestampMixin:
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def upsert(model, dialect: str | None = None):
    """INSERT … ON CONFLICT for the running database (PostgreSQL in production, SQLite embedded).

    One statement instead of read-then-write: no race between two requests, one round trip.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if (dialect or dialect_name()) == "postgresql" else sqlite).insert(model)
