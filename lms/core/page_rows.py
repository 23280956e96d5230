"""A light page's own row, read in the same statement as the request's person: one statement a request
instead of two (docs/performance.md, "2026-12-06 (third) — light").

A feature whose page reads one row registers how to read it for its endpoint (`@reads_with_person("…")`:
a function of the view's arguments giving the page's Core statement and its values but user_id, or None).
The user loader (lms.accounts.viewer) reads that row with the person and keeps it for this request (`keep`);
the page asks for it with `row(statement, values)` and reads it itself when it was not read with the person
(a visitor, another endpoint, other values).

The registry lives here, in core, so that the features registering into it (catalog, library) and the one
reading it (accounts) do not reach into each other.
"""

from flask import g

from lms.core import raw_reads

_READS = {}  # endpoint → view_args → (the page's Core statement, its values but user_id) or None


def reads_with_person(endpoint: str):
    """Decorator: the function gives the row of `endpoint`'s page to read in the person's statement."""

    def register(read):
        _READS[endpoint] = read
        return read

    return register


def read_for(endpoint: str | None, view_args: dict | None):
    """(the page's Core statement, its values but user_id) for this request, or None (no row of its own)."""
    read = _READS.get(endpoint)
    return read(view_args) if read is not None else None


def keep(statement, values: dict, found) -> None:
    """The row of `statement` with `values` (user_id included), read with the person: `row` gives it."""
    g.lms_page_row = (statement, values, found)


def row(statement, values: dict):
    """The first row of `statement` with `values`: the one read with this request's person when it was, else
    read now (lms.core.raw_reads)."""
    kept = g.pop("lms_page_row", None)
    if kept is not None and kept[0] is statement and kept[1] == values:
        return kept[2]
    return raw_reads.first(statement, values)
