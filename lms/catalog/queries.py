from sqlalchemy import select

from lms.catalog.models import Course
from lms.core.text import like_pattern
from lms.extensions import db


def published_courses(query: str | None = None):
    statement = select(Course).where(Course.status == "published").order_by(Course.title_folded)
    if query and query.strip():
        statement = statement.where(Course.search_text.like(like_pattern(query), escape="\\"))
    return db.session.scalars(statement).all()


def published_courses_by_id(ids) -> list[Course]:
    if not ids:
        return []
    return db.session.scalars(select(Course).where(Course.status == "published", Course.id.in_(ids))).all()


def course_by_slug(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def code_taken_by(slug: str, code: str) -> Course | None:
    """The other course (not `slug`) that already uses the course code `code`, if any."""
    return db.session.scalar(select(Course).where(Course.code == code, Course.slug != slug))
