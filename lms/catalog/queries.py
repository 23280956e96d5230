import json
from functools import cache
from typing import NamedTuple

from sqlalchemy import JSON, and_, bindparam, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import undefer
from sqlalchemy.sql.expression import ColumnElement

from lms.catalog.models import Course, Lesson
from lms.core import page_rows
from lms.core.db import core_rows
from lms.core.signals import answer, unread_count_column_asked
from lms.core.text import like_pattern
from lms.enrollment.models import Enrollment, LessonProgress
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


def course_and_lesson(slug: str, lesson_id: int) -> tuple[Course | None, Lesson | None]:
    """The lesson page's course and lesson (with its body) in one query; (None, None) when the lesson is
    not in that course."""
    row = db.session.execute(_course_and_lesson_statement(), {"slug": slug, "lesson_id": lesson_id}).first()
    return (row[0], row[1]) if row else (None, None)


# The lesson page's statements are built once and run with new values: building a select and its cache
# key on every view cost more CPU than SQLite takes to answer it (docs/performance.md, "Lesson page").
@cache
def _course_and_lesson_statement():
    return (select(Course, Lesson).join(Lesson, Lesson.course_id == Course.id)
            .where(Course.slug == bindparam("slug"), Lesson.id == bindparam("lesson_id"))
            .options(undefer(Lesson.body_html)))


@cache
def _lesson_outline_statement():
    lesson = Lesson.__table__.c  # a plain Core statement: no ORM work per execution
    return (select(lesson.id, lesson.title)
            .where(lesson.course_id == bindparam("course_id"), lesson.archived_at.is_(None))
            .order_by(lesson.module_position, lesson.position))


def code_taken_by(slug: str, code: str) -> Course | None:
    """The other course (not `slug`) that already uses the course code `code`, if any."""
    return db.session.scalar(select(Course).where(Course.code == code, Course.slug != slug))


def lesson_outline(course_id: int):
    """The course's active lessons in reading order as (id, title) rows: what the pager needs, without
    loading every lesson as an object on each lesson view."""
    return core_rows(_lesson_outline_statement(), {"course_id": course_id}).all()


class OutlineItem(NamedTuple):
    id: int
    title: str


def lesson_page_row(slug: str, lesson_id: int, user_id: int | None):
    """What the lesson page shows of a course, a lesson, the viewer's enrollment and their progress on
    that lesson, the course's outline (`outline_items(row)`) and the bell's count, as one row of plain
    values (None when the lesson is not in that course): ORM objects for these cost the page more CPU
    than the database took to find them, and a statement of its own for the outline cost more than the
    database took to answer it."""
    values = {"slug": slug, "lesson_id": lesson_id, "user_id": user_id}
    return page_rows.row(_lesson_page_statement(), values)  # read with the person, by the user loader


@page_rows.reads_with_person("catalog.lesson")
def _lesson_page_read(view_args: dict):
    # The lesson page's row, read in the signed-in person's statement (lms.core.page_rows).
    lesson_id = view_args.get("lesson_id") if view_args else None
    if not isinstance(lesson_id, int):
        return None
    return _lesson_page_statement(), {"slug": view_args.get("slug"), "lesson_id": lesson_id}


def outline_items(row) -> list[OutlineItem]:
    """The outline of a lesson_page_row, as lesson_outline gives it: (id, title) in reading order."""
    outline = row.outline
    if isinstance(outline, str):  # SQLite's JSON is text; psycopg decodes PostgreSQL's json itself
        outline = json.loads(outline)
    return [OutlineItem(*item) for item in outline or ()]


class _Outline(ColumnElement):
    """The course's active lessons in reading order, as a JSON array of [id, title], for the row's course
    (a correlated scalar subquery; each database's JSON aggregate)."""

    inherit_cache = True
    _traverse_internals = []  # no state of its own: one cache key, so the statement is compiled once
    type = JSON()


@compiles(_Outline, "postgresql")
def _outline_postgresql(_element, _compiler, **_kw):
    return ("(SELECT json_agg(json_build_array(o.id, o.title) ORDER BY o.module_position, o.position) "
            "FROM lessons AS o WHERE o.course_id = courses.id AND o.archived_at IS NULL)")


@compiles(_Outline)
def _outline_sqlite(_element, _compiler, **_kw):
    # An aggregate over a subquery with ORDER BY keeps its order (SQLite never flattens that subquery).
    return ("(SELECT json_group_array(json_array(id, title)) FROM (SELECT o.id, o.title FROM lessons AS o "
            "WHERE o.course_id = courses.id AND o.archived_at IS NULL ORDER BY o.module_position, o.position))")


@cache
def _lesson_page_statement():
    # Table columns, not the mapped classes': a plain Core statement skips the ORM's per-execution work.
    course, lesson = Course.__table__.c, Lesson.__table__.c
    enrollment, progress = Enrollment.__table__.c, LessonProgress.__table__.c
    enrolled = and_(enrollment.course_id == course.id, enrollment.user_id == bindparam("user_id"))
    seen = and_(progress.enrollment_id == enrollment.id, progress.lesson_id == lesson.id)
    return (select(course.id.label("course_id"), course.slug, course.title.label("course_title"), course.status,
                   lesson.id, lesson.title, lesson.minutes, lesson.body_html, lesson.version, lesson.kind,
                   lesson.archived_at, enrollment.id.label("enrollment_id"), enrollment.last_lesson_id,
                   enrollment.last_seen_at, progress.id.label("progress_id"), progress.completed_at,
                   answer(unread_count_column_asked, bindparam("user_id")).label("unread"), _Outline().label("outline"))
            .select_from(Course.__table__).join(Lesson.__table__, lesson.course_id == course.id)
            .outerjoin(Enrollment.__table__, enrolled).outerjoin(LessonProgress.__table__, seen)
            .where(course.slug == bindparam("slug"), lesson.id == bindparam("lesson_id")))
