"""Builds and stores the search rows of one course (with its lessons) or one library item.

Runs in the worker (lms.search.tasks), queued through the outbox whenever content changes
(lms.search.hooks). Idempotent: running it twice leaves the same rows.
"""

from sqlalchemy import delete, select
from sqlalchemy.orm import undefer

from lms.catalog.models import Course, Lesson
from lms.core.text import fold
from lms.extensions import db
from lms.search.backends import backend
from lms.search.models import SearchDocument
from lms.search.signals import course_indexed
from lms.search.text import plain_text

MAX_BODY = 400_000  # characters kept per row: a 200-page PDF fits, a runaway file does not


def _audiences(values) -> str:
    values = [v for v in (values or []) if v]
    return f"|{'|'.join(values)}|" if values else ""


def course_documents(course: Course) -> list[dict]:
    visible = course.status == "published"
    audiences = _audiences(course.audience)
    docs = [dict(kind="course", ref_id=course.id, course_id=course.id, title=course.title,
                 body=" ".join([course.code, *course.tags, plain_text(course.description_md)]),
                 url=f"/courses/{course.slug}", context=course.code, visible=visible, audiences=audiences)]
    lessons = db.session.scalars(select(Lesson).options(undefer(Lesson.body_md))
                                 .where(Lesson.course_id == course.id, Lesson.archived_at.is_(None))).all()
    for lesson in lessons:
        docs.append(dict(kind="lesson", ref_id=lesson.id, course_id=course.id, title=lesson.title,
                         body=plain_text(lesson.body_md), url=f"/courses/{course.slug}/lessons/{lesson.id}",
                         context=course.title, visible=visible, audiences=audiences))
    return docs


def index_course(course_id: int) -> int:
    """(Re)write the rows of a course and its lessons; a deleted course loses its rows."""
    course = db.session.get(Course, course_id)
    docs = course_documents(course) if course is not None else []
    stale = select(SearchDocument.id).where(SearchDocument.course_id == course_id)
    count = store(docs, stale)
    if course is not None:
        course_indexed.send(course)
    return count


def index_library_item(item_id: int) -> int:
    from lms.library.search import item_document

    document = item_document(item_id)
    stale = select(SearchDocument.id).where(SearchDocument.kind == "library", SearchDocument.ref_id == item_id)
    return store([document] if document else [], stale)


def store(docs: list[dict], stale_query) -> int:
    """Upsert `docs` by (kind, ref_id); rows matched by `stale_query` and not in `docs` are removed."""
    existing = {(row.kind, row.ref_id): row for row in db.session.scalars(
        select(SearchDocument).where(SearchDocument.id.in_(stale_query)))}
    wanted = set()
    for doc in docs:
        doc = dict(doc, body=doc["body"][:MAX_BODY])
        doc.update(title_folded=fold(doc["title"])[:300], body_folded=fold(doc["body"]), title=doc["title"][:300])
        key = (doc["kind"], doc["ref_id"])
        wanted.add(key)
        row = existing.get(key) or db.session.scalar(
            select(SearchDocument).where(SearchDocument.kind == key[0], SearchDocument.ref_id == key[1]))
        if row is None:
            row = SearchDocument(**doc)
            db.session.add(row)
        else:
            for name, value in doc.items():
                setattr(row, name, value)
        existing[key] = row
    gone = [row.id for key, row in existing.items() if key not in wanted and row.id is not None]
    engine = backend()
    if gone:
        engine.unsync(gone)
        db.session.execute(delete(SearchDocument).where(SearchDocument.id.in_(gone)))
    db.session.flush()
    engine.sync([existing[key].id for key in wanted])
    return len(wanted)


def reindex_everything() -> dict:
    """`flask search reindex`: every course and library item, e.g. after restoring a backup."""
    from lms.library.models import LibraryItem

    counts = {"courses": 0, "library": 0}
    for course_id in db.session.scalars(select(Course.id)).all():
        index_course(course_id)
        counts["courses"] += 1
    for item_id in db.session.scalars(select(LibraryItem.id)).all():
        index_library_item(item_id)
        counts["library"] += 1
    backend().rebuild_vocabulary()  # rows restored from a backup bring vectors the vocabulary never saw
    return counts
