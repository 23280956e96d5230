"""Rendered parts of the library pages, kept per process under a version read from the database.

An item's part (breadcrumb, title, media, body, metadata) is the same for every reader of a language; a
listing page's part (filter form, count, cards, pager) the same for every reader of a language and
filters. Rendering them was most of a page's CPU (docs/performance.md, "Library pages"). Each part is
kept under a key holding the version of what it shows, read from the database by the request's first
statement: the item's `updated_at` (and its locality's name); for a listing page, its (id, updated_at)
pairs, the number of matches and of collections. An edit on any host changes the key, so every host
shows it at once (the app stays stateless across hosts) and nothing is ever invalidated by hand.

That holds because the library's operations move `updated_at` on every change a part shows — fields,
collections, files, archiving — and not on a download (the count is drawn per request), and because
collections are only ever added, never renamed or reordered.
"""

from flask import current_app, render_template, request
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy.orm import selectinload, undefer

from lms.core.inputs import id_in_range
from lms.core.page_cache import app_cache
from lms.extensions import db
from lms.library import queries
from lms.library.models import ITEM_KINDS, LibraryItem
from lms.search.queries import AUDIENCES


def _cached(key: tuple, template: str, context) -> Markup:
    """templates/<template> rendered with context() — no request context processors: nothing per person
    can leak into a shared part — kept under `key` + language + script root."""
    parts = app_cache("lms_library_parts")
    key = (*key, str(get_locale()), request.script_root)
    part = parts.get(key)
    if part is None:
        # An autoescaped template's output is already safe HTML: Markup only stops Jinja escaping it again.
        part = Markup(current_app.jinja_env.get_template(template).render(**context()))  # nosec B704
        if not current_app.jinja_env.auto_reload:  # flask --debug: template edits show at once
            parts.put(key, part)
    return part


def item_key(head) -> tuple:
    """What the item page's shared part shows, for the row of queries.item_head (with the language and script
    root, it is the part)."""
    return "item", head.id, head.updated_at, head.locality_name, head.collections


def item_part(head) -> Markup:
    """The item page's shared part, for the row of queries.item_head."""
    def context():
        item = db.session.get(LibraryItem, head.id, options=[
            undefer(LibraryItem.body_html), selectinload(LibraryItem.files), selectinload(LibraryItem.collections)])
        return {"item": item, "main": item.current_file(), "captions": item.current_file("captions"),
                "locality_name": head.locality_name}

    return _cached(item_key(head), "library/_item.html", context)


def listing_filters(args) -> tuple[dict, int]:
    """The listing's filters and page number from the query string `args` (unknown values: no filter)."""
    kind, audience = args.get("kind"), args.get("audience")
    return ({"collection": args.get("collection") or None, "kind": kind if kind in ITEM_KINDS else None,
             "audience": audience if audience in AUDIENCES else None,
             "locality_id": id_in_range(args.get("locality", type=int))},
            max(args.get("page", 1, type=int), 1))


def listing_part(filters: dict, page: int, user_id: int | None = None):
    """(key, unread, part) for the listing's filter form, count, cards and pager of these filters and page: `key`
    holds the version of what the part shows (with the language and script root, it is the part), `part()` gives
    the part itself — a whole page cached under `key` never needs it — and `unread` is the viewer's unread
    notifications read with them (None when the page is empty: the bell then asks for itself)."""
    rows = queries.browse_page(page=page, user_id=user_id, **filters)
    total = rows[0].total if rows else queries.count_published(**filters)

    def context():
        return {"items": queries.items_by_id([row.id for row in rows]), "total": total, "page": page,
                "pages": max(1, -(-total // queries.PAGE_SIZE)), "collections": queries.collections(),
                "filters": filters, "query": "", "results": None}

    if not rows:  # past the last match or nothing matches: rare, and its key would need the collections read
        listing = render_listing(**context())
        return listing, None, lambda: listing
    key = listing_key(filters, page, rows)
    return key, rows[0].unread, lambda: _cached(key, "library/_listing.html", context)


def listing_key(filters: dict, page: int, rows) -> tuple:
    """What a listing page's part shows, for the (non-empty) rows of queries.browse_page (with the language and
    script root, it is the part)."""
    return ("listing", tuple(filters.items()), page, rows[0].total, rows[0].collections,
            tuple((row.id, row.updated_at) for row in rows))


def render_listing(**context) -> Markup:
    """The listing part without the cache (search results, empty pages), with the request's context."""
    return Markup(render_template("library/_listing.html", **context))  # nosec B704 - autoescaped template output
