"""Read-only agency queries."""

from sqlalchemy import select

from lms.agencies.models import Agency
from lms.core.text import like_pattern
from lms.extensions import db


def tree(root: Agency | None = None) -> list[Agency]:
    """Agencies in tree order (path order puts every office under its parent)."""
    query = select(Agency)
    if root is not None:
        query = query.where(Agency.path.startswith(root.path))
    return list(db.session.scalars(query.order_by(Agency.path)))


def search(text: str, limit: int = 50) -> list[Agency]:
    return list(db.session.scalars(select(Agency).where(Agency.name_folded.like(like_pattern(text), escape="\\"))
                                   .order_by(Agency.path).limit(limit)))


def by_code(code: str) -> Agency | None:
    return db.session.scalar(select(Agency).where(Agency.code == (code or "").strip().upper()))
