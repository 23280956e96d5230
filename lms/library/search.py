"""What the search index holds for a library item, and which lessons use which item."""

import re

from sqlalchemy import delete, select
from sqlalchemy.orm import undefer

from lms.catalog.models import Lesson
from lms.extensions import db
from lms.library.models import LibraryFile, LibraryItem, LibraryUsage
from lms.search.signals import course_indexed

# [[library:slug]], [[library:slug|label]] and the embedding form ![[library:slug]].
REFERENCE = re.compile(r"!?\[\[library:([a-z0-9][a-z0-9-]*)(?:\|[^\]]*)?\]\]")


def item_document(item_id: int) -> dict | None:
    item = db.session.get(LibraryItem, item_id, options=[undefer(LibraryItem.body_md)])
    if item is None:
        return None
    from lms.search.text import plain_text

    file_texts = db.session.scalars(select(LibraryFile.text).where(
        LibraryFile.item_id == item.id, LibraryFile.is_current.is_(True))).all()
    body = " ".join(part for part in [item.summary, plain_text(item.body_md), item.topic, item.agency,
                                      *(c.title for c in item.collections), *file_texts] if part)
    context = ", ".join(c.title for c in item.collections) or item.topic
    audiences = [a for a in (item.audience or []) if a]
    return dict(kind="library", ref_id=item.id, course_id=None, title=item.title, body=body,
                url=f"/library/{item.slug}", context=context, visible=item.is_published,
                audiences=f"|{'|'.join(audiences)}|" if audiences else "")


@course_indexed.connect
def record_usages(course, **_):
    """Rewrite the usage rows of one course from its lessons' Markdown."""
    db.session.execute(delete(LibraryUsage).where(LibraryUsage.course_id == course.id))
    lessons = db.session.scalars(select(Lesson).options(undefer(Lesson.body_md))
                                 .where(Lesson.course_id == course.id, Lesson.archived_at.is_(None))).all()
    for lesson in lessons:
        for slug in sorted(set(REFERENCE.findall(lesson.body_md or ""))):
            db.session.add(LibraryUsage(item_slug=slug, lesson_id=lesson.id, course_id=course.id))
    db.session.flush()
