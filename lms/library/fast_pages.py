"""The library's listing and item pages answered below Flask when nothing about the view is unusual
(lms/core/fast_pages.py).

The same reads, checks and page keys as the views (controllers.index, controllers.show) for a visitor or a
signed-in reader who holds no role (so may add and manage nothing): a listing page with matches (no search
words: `q` is the search's, drawn per request), or a published item that no lesson uses (the lessons that
use one are looked up through the ORM by the view). Everything else is the views'.
"""

from lms.accounts.viewer import load_below_flask, person_and_rows, reader_below_flask
from lms.core import fast_pages, raw_reads
from lms.library import pages, queries


@fast_pages.page(r"/library", "library.index", query=True)
def listing(visit: fast_pages.Visit):
    args = visit.request.args
    if args.get("q", "").strip():
        return None  # search results: drawn per request
    filters, page = pages.listing_filters(args)
    environ, ids = visit.request.environ, visit.person_ids
    read = queries.browse_read(page=page, user_id=ids and ids[0], **filters)
    person = None
    if ids is not None and visit.database == "postgresql":  # the person and the listing in one statement
        found = person_and_rows(environ, ids, read[0], read[1], queries.NEWEST_FIRST_BY_NAME)
        if found is None:
            return None
        person, rows = found
    else:  # on SQLite two statements cost less than their join (docs/performance.md, "(fourth) — listing")
        if ids is not None:
            found = load_below_flask(environ, ids)
            if found is None:
                return None
            person = found[0]
        rows = raw_reads.rows(*read, environ)
    if not rows:
        return None
    body = visit.kept_page("library/index.html", (pages.listing_key(filters, page, rows), False), person,
                           rows[0].unread or 0)
    return (body, {}) if body is not None else None


@fast_pages.page(r"/library/(?P<slug>(?!new$)[a-z0-9][a-z0-9-]{0,199})", "library.show")
def item(visit: fast_pages.Visit, slug: str):
    found = reader_below_flask(visit.request.environ, visit.person_ids, queries._item_head_statement(), {"slug": slug})
    if found is None:
        return None
    person, head = found
    if head is None or head.status != "published" or head.used:
        return None
    key = (pages.item_key(head), head.downloads, ())
    body = visit.kept_page("library/item.html", key, person, head.unread or 0)
    return (body, {}) if body is not None else None
