"""The one input layer: what comes in through the URL, the query string and forms is bounded and clean
before any view reads it.

- `<int:…>` in a route matches only ids a database column can hold (1 … 2**31-1): `2**70` or `-1`
  is a 404, not an integer overflow deep in PostgreSQL;
- text route arguments (`<slug>`, `<path:…>`) with a control character or past 400 characters are a 404;
- query-string and form values lose NUL and the other control characters (tab and line breaks stay:
  text areas need them) — PostgreSQL refuses NUL in text, and nobody types one;
- `request.args.get(name, type=int)` (and `request.form…`) gives the default for a number out of range,
  as it already did for one that is not a number; `page_number()` is that for page numbers;
- JSON bodies (`request.get_json()`) with NUL or another control character in any string or key, an
  integer beyond ±(2**53−1) (JSON's safe integers; no column of ours holds more), or nesting deeper
  than 20 are refused with 400 and a message saying which — not cleaned silently, because a program
  sent them and its author should learn. A body that is not JSON at all is a 400 with its own message
  (with `silent=True` it is None, as in Flask).
"""

import re

from flask import Request, request
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter, ValidationError

# PostgreSQL's `integer`: every id column of the app.
MAX_ID = 2**31 - 1
MAX_PATH_TEXT = 400
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_JSON_INTEGER = 2**53 - 1
MAX_JSON_DEPTH = 20


def clean_text(value):
    """`value` without NUL and other control characters (tab, CR and LF are kept); non-text as it is."""
    return _CONTROL.sub("", value) if isinstance(value, str) else value


def has_control_characters(value: str) -> bool:
    return bool(_ANY_CONTROL.search(value))


class CleanMultiDict(ImmutableMultiDict):
    """Query-string and form values, cleaned once when the request parses them."""

    def __init__(self, mapping=None):
        if mapping is None:
            super().__init__()
            return
        pairs = mapping.items(multi=True) if isinstance(mapping, MultiDict) else MultiDict(mapping).items(multi=True)
        super().__init__([(clean_text(key), clean_text(value)) for key, value in pairs])

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and not -MAX_ID <= value <= MAX_ID:
            return default
        return value


def json_problem(value, depth: int = 0) -> str | None:
    """What is wrong with a parsed JSON body (a message for its sender), or None when it is fine."""
    if depth > MAX_JSON_DEPTH:
        return _("The JSON is nested too deeply (at most %(n)d levels).", n=MAX_JSON_DEPTH)
    if isinstance(value, str):
        return _("A text in the JSON contains a control character (such as NUL).") if _CONTROL.search(value) else None
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return None
    if isinstance(value, int):
        return None if -MAX_JSON_INTEGER <= value <= MAX_JSON_INTEGER else _(
            "A number in the JSON is too large (at most %(n)d digits).", n=len(str(MAX_JSON_INTEGER)))
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        problem = json_problem(key, depth + 1) if isinstance(key, str) else None
        problem = problem or json_problem(item, depth + 1)
        if problem:
            return problem
    return None


class CleanRequest(Request):
    parameter_storage_class = CleanMultiDict

    def get_json(self, force=False, silent=False, cache=True):
        data = super().get_json(force=force, silent=silent, cache=cache)
        problem = json_problem(data)
        if problem:
            error = BadRequest(problem)
            error.lms_message = True  # lms.core.errors shows this text (JSON for JSON clients)
            raise error
        return data

    def on_json_loading_failed(self, e):
        # Python refuses integers of more than 4,300 digits while parsing (ValueError): same answer.
        error = BadRequest(_("The request body is not valid JSON."))
        error.lms_message = True
        raise error


class BoundedIntegerConverter(IntegerConverter):
    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class _CleanText:
    def to_python(self, value):
        if len(value) > MAX_PATH_TEXT or has_control_characters(value):
            raise ValidationError()
        return super().to_python(value)


class CleanStringConverter(_CleanText, UnicodeConverter):
    pass


class CleanPathConverter(_CleanText, PathConverter):
    pass


def install(app) -> None:
    """Before the blueprints: rules pick their converters when they are added."""
    app.request_class = CleanRequest
    app.url_map.converters.update(int=BoundedIntegerConverter, default=CleanStringConverter,
                                  string=CleanStringConverter, path=CleanPathConverter)


def page_number(name: str = "page") -> int:
    """A page number from the query string: 1 when absent, not a number, below 1 or beyond any page."""
    return max(request.args.get(name, 1, type=int), 1)


def id_in_range(value) -> int | None:
    """`value` when it is an id (an int within the ids' range), else None."""
    return value if value is not None and 1 <= value <= MAX_ID else None


def form_id(name: str) -> int | None:
    """An id posted in a form field, or None when it is missing, not a number or out of range."""
    return id_in_range(request.form.get(name, type=int))


def query_id(name: str) -> int | None:
    """An id from the query string, or None when it is missing, not a number or out of range."""
    return id_in_range(request.args.get(name, type=int))


def text_id(text) -> int | None:
    """An id written as text (a form select's value), or None when it is empty, not digits or out of range."""
    return id_in_range(int(text)) if isinstance(text, str) and text.isascii() and text.isdigit() else None
