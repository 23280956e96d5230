from functools import cache

from sqlalchemy import String, bindparam, cast, exists, func, or_, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from lms.catalog.models import Course, Lesson
from lms.core import page_rows, raw_reads
from lms.core.signals import answer, unread_count_column_asked
from lms.extensions import db
from lms.library.models import LibraryCollection, LibraryItem, LibraryUsage, item_collections
from lms.localities.models import Locality

PAGE_SIZE = 24


def item_by_slug(slug: str) -> LibraryItem | None:
    return db.session.scalar(select(LibraryItem).where(LibraryItem.slug == slug))


def collections():
    return db.session.scalars(select(LibraryCollection).order_by(LibraryCollection.position,
                                                                 LibraryCollection.title)).all()


# The library pages' statements are built once and run with new values (bindparams): building a select
# and its cache key on every view costs more CPU than the database takes to answer it (docs/performance.md).
class _Joined(FunctionElement):
    """The texts of a column joined into one (each database's aggregate), with no bound separator: a statement read
    by lms.core.raw_reads has no parameter rendered per execution (func.aggregate_strings binds its separator so)."""

    inherit_cache = True
    type = String()


@compiles(_Joined, "postgresql")
def _joined_postgresql(element, compiler, **kw):
    return f"string_agg({compiler.process(element.clauses, **kw)}, chr(30))"


@compiles(_Joined)
def _joined_sqlite(element, compiler, **kw):
    return f"group_concat({compiler.process(element.clauses, **kw)}, char(30))"


def _collections_shown():
    """Every collection's slug, title and place, as one text: the listing's filter and an item page show them, so their
    cached parts are keyed on it (a collection renamed is a new key). A handful of rows: one aggregate."""
    shown = (LibraryCollection.slug + "/" + LibraryCollection.title + "/" + cast(LibraryCollection.position, String))
    return select(_Joined(shown)).scalar_subquery().label("collections")


def _unread():
    """The bell's count for the viewer (bindparam user_id; NULL for a visitor: 0), fetched with the page's own
    row as the lesson page does, instead of a statement of its own."""
    return answer(unread_count_column_asked, bindparam("user_id")).label("unread")


@cache
def _item_head_statement():
    used = exists().where(LibraryUsage.item_slug == LibraryItem.slug)
    return (select(LibraryItem.id, LibraryItem.title, LibraryItem.status, LibraryItem.locality_id,
                   LibraryItem.updated_at, LibraryItem.downloads, Locality.name.label("locality_name"),
                   used.label("used"), _collections_shown(), _unread())
            .outerjoin(Locality, Locality.id == LibraryItem.locality_id)
            .where(LibraryItem.slug == bindparam("slug")))


def item_head(slug: str, user_id: int | None = None):
    """The row every view of an item page reads: visibility, what its cached part is keyed on (id,
    updated_at, the locality's name), the download count, whether any lesson uses it and the viewer's
    unread notifications; None when absent."""
    return page_rows.row(_item_head_statement(), {"slug": slug, "user_id": user_id})  # read with the person


@page_rows.reads_with_person("library.show")
def _item_head_read(view_args: dict):
    # The item page's row, read in the signed-in person's statement (lms.core.page_rows).
    slug = view_args.get("slug") if view_args else None
    return (_item_head_statement(), {"slug": slug}) if isinstance(slug, str) else None


def _filters(collection: bool, kind: bool, audience: bool, locality: bool) -> list:
    where = [LibraryItem.status == "published"]
    if kind:
        where.append(LibraryItem.kind == bindparam("kind"))
    if locality:
        where.append(or_(LibraryItem.locality_id.is_(None), LibraryItem.locality_id == bindparam("locality_id")))
    if collection:
        where.append(LibraryItem.id.in_(select(item_collections.c.item_id).join(LibraryCollection).where(
            LibraryCollection.slug == bindparam("collection"))))
    if audience:
        # JSON lists as text read the same on both databases: '[]' or '["citizen", "official"]'.
        as_text = func.replace(cast(LibraryItem.audience, String), " ", "")
        where.append(or_(as_text == "[]", as_text.like(bindparam("audience_pattern"))))
    return where


NEWEST_FIRST = (LibraryItem.published_on.desc().nulls_last(), LibraryItem.id.desc())
# The same order by column name (descending, nulls last), for a statement joining the listing's rows to others.
NEWEST_FIRST_BY_NAME = (("published_on", True, True), ("id", True, False))


# Read only to key the cached listing part, never shown: as the driver gives it (text on SQLite), without a
# DateTime conversion a row.
_VERSION = type_coerce(LibraryItem.updated_at, String).label("updated_at")


@cache
def _page_statement(*shape: bool):
    """One page of the listing as (id, updated_at, total matches, collections shown, unread) rows: enough to key
    the cached listing, and the viewer's bell; one statement per combination of filters used (at most 16)."""
    # The total as a subquery on the same filters, not `count(*) OVER ()`: the window made SQLite sort every
    # match's whole row (2.0 ms at 2,000 items against 1.0 ms for a count on the status index + the page).
    total = select(func.count(LibraryItem.id)).where(*_filters(*shape)).scalar_subquery()
    return (select(LibraryItem.id, _VERSION, total.label("total"),
                   _collections_shown(), _unread(),
                   LibraryItem.published_on)
            .where(*_filters(*shape)).order_by(*NEWEST_FIRST)
            .limit(bindparam("limit")).offset(bindparam("offset")))


def _values(collection, kind, audience, locality_id, page) -> tuple[tuple, dict]:
    shape = (bool(collection), bool(kind), bool(audience), bool(locality_id))
    values = {"collection": collection, "kind": kind, "audience_pattern": f'%"{audience}"%',
              "locality_id": locality_id, "limit": PAGE_SIZE, "offset": (max(1, page) - 1) * PAGE_SIZE}
    return shape, {name: value for name, value in values.items() if value is not None}


def browse_page(collection: str | None = None, kind: str | None = None, audience: str | None = None,
                locality_id: int | None = None, page: int = 1, user_id: int | None = None):
    """Published items of one listing page, newest first, as (id, updated_at, total, collections, unread)
    rows; empty when the page is past the last match."""
    return raw_reads.rows(*browse_read(collection, kind, audience, locality_id, page, user_id))


def browse_read(collection: str | None = None, kind: str | None = None, audience: str | None = None,
                locality_id: int | None = None, page: int = 1, user_id: int | None = None) -> tuple:
    """(statement, values) of browse_page: for the listing read in front of Flask (lms/library/fast_pages.py)."""
    shape, values = _values(collection, kind, audience, locality_id, page)
    return _page_statement(*shape), {**values, "user_id": user_id}


def count_published(collection: str | None = None, kind: str | None = None, audience: str | None = None,
                    locality_id: int | None = None) -> int:
    """How many published items the listing's filters match (for a page past the last match)."""
    shape, values = _values(collection, kind, audience, locality_id, 1)
    return db.session.scalar(select(func.count(LibraryItem.id)).where(*_filters(*shape)), values) or 0


def items_by_id(ids) -> list[LibraryItem]:
    """The items of a listing page, in the order of `ids`."""
    found = {item.id: item for item in db.session.scalars(select(LibraryItem).where(LibraryItem.id.in_(ids)))}
    return [found[item_id] for item_id in ids if item_id in found]


@cache
def _lessons_using_statement():
    return (select(Course, Lesson.id.label("lesson_id"), Lesson.title.label("lesson_title"))
            .select_from(LibraryUsage).join(Lesson, Lesson.id == LibraryUsage.lesson_id)
            .join(Course, Course.id == Lesson.course_id)
            .where(LibraryUsage.item_slug == bindparam("slug"), Lesson.archived_at.is_(None))
            .order_by(Course.title_folded, Lesson.module_position, Lesson.position).limit(100))


def lessons_using(slug: str, user):
    """(course, lesson id, lesson title) rows of the published courses whose lessons link or embed the item."""
    rows = db.session.execute(_lessons_using_statement(), {"slug": slug}).all()
    return [row for row in rows if row.Course.can_view(user)]


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
