from sqlalchemy import String, cast, func, or_, select

from lms.catalog.models import Course, Lesson
from lms.extensions import db
from lms.library.models import LibraryCollection, LibraryItem, LibraryUsage, item_collections

PAGE_SIZE = 24


def item_by_slug(slug: str) -> LibraryItem | None:
    return db.session.scalar(select(LibraryItem).where(LibraryItem.slug == slug))


def collections():
    return db.session.scalars(select(LibraryCollection).order_by(LibraryCollection.position,
                                                                 LibraryCollection.title)).all()


def browse(collection: str | None = None, kind: str | None = None, audience: str | None = None,
           locality_id: int | None = None, page: int = 1, show_hidden: bool = False):
    """Published items, newest first, with the filters of the library page. Returns (items, total)."""
    where = [] if show_hidden else [LibraryItem.status == "published"]
    if kind:
        where.append(LibraryItem.kind == kind)
    if locality_id:
        where.append(or_(LibraryItem.locality_id.is_(None), LibraryItem.locality_id == locality_id))
    if collection:
        where.append(LibraryItem.id.in_(select(item_collections.c.item_id).join(LibraryCollection).where(
            LibraryCollection.slug == collection)))
    if audience:
        # JSON lists as text read the same on both databases: '[]' or '["citizen", "official"]'.
        as_text = func.replace(cast(LibraryItem.audience, String), " ", "")
        where.append(or_(as_text == "[]", as_text.like(f'%"{audience}"%')))
    total = db.session.scalar(select(func.count(LibraryItem.id)).where(*where))
    items = db.session.scalars(select(LibraryItem).where(*where)
                               .order_by(LibraryItem.published_on.desc().nulls_last(), LibraryItem.id.desc())
                               .limit(PAGE_SIZE).offset((max(1, page) - 1) * PAGE_SIZE)).all()
    return items, total


def lessons_using(item: LibraryItem, user):
    """(course, lesson) pairs of the published courses whose lessons link or embed the item."""
    rows = db.session.execute(
        select(Course, Lesson).join(LibraryUsage, LibraryUsage.lesson_id == Lesson.id)
        .join(Course, Course.id == Lesson.course_id)
        .where(LibraryUsage.item_slug == item.slug, Lesson.archived_at.is_(None))
        .order_by(Course.title_folded, Lesson.module_position, Lesson.position).limit(100)).all()
    return [(course, lesson) for course, lesson in rows if course.can_view(user)]


def lookup(slug: str) -> dict | None:
    """For the Markdown renderer: what an embedded item needs (title, kind, files).

    Rendering happens while an import builds a lesson: no autoflush of that half-made lesson."""
    with db.session.no_autoflush:
        return _lookup(slug)


def _lookup(slug: str) -> dict | None:
    item = item_by_slug(slug)
    if item is None:
        return None
    main = item.current_file()
    return {"title": item.title, "kind": item.kind, "summary": item.summary,
            "captions": item.current_file("captions") is not None,
            "image": bool(main and main.content_type.startswith("image/"))}


def count_items() -> int:
    return db.session.scalar(select(func.count(LibraryItem.id))) or 0


def offline_weights(slugs, user) -> dict[str, dict]:
    """For a course's offline copy (lms/offline): per item `user` may read, the bytes of its page text and
    of its current file and captions (None when it has none: a link, an article)."""
    items = db.session.scalars(select(LibraryItem).where(LibraryItem.slug.in_(list(slugs)))).all() if slugs else []
    weights = {}
    for item in items:
        if not item.can_view(user):
            continue
        main, captions = item.current_file(), item.current_file("captions")
        weights[item.slug] = {"page": len((item.body_html or "").encode()) + len(item.summary.encode()),
                              "file": main.size if main else None, "captions": captions.size if captions else None}
    return weights
