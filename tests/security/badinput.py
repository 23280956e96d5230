"""The bad-input corpus of finding 5 and the URLs it is sent to: every rule of the url_map.

For each rule (tests/routes.py fills its arguments with real ids) the corpus goes
- into the path: ints beyond 64 bits in every integer argument; NUL, CR/LF, bad UTF-8 and an
  overlong value in every text argument;
- into the query string: every parameter name the app reads (`request.args.get("page")`…) and
  every field name of its forms and templates, all at once, set to one bad value;
- into the body of a form post (POST rules), the same way, with a valid CSRF token, so the
  request gets past CSRF to the code that reads the values;
- into a JSON body (POST rules, `Content-Type: application/json`, the token in `X-CSRFToken`): every
  name set to a text with NUL, to 2**70, nested 50 deep, a key with a control character, and a body
  that is not JSON at all.

Parameter names are collected from the source, so a parameter added tomorrow is covered too.
"""

import importlib
import pkgutil
import re
from pathlib import Path

from werkzeug.routing import AnyConverter, IntegerConverter

import lms
from tests.routes import route_urls

ROOT = Path(__file__).resolve().parents[2]

# Already percent-encoded: raw bytes a browser would never send (NUL, a lone 0xFF) go as they are.
VALUES = {
    "nul": "a%00b",
    "beyond-64-bits": str(2**70),
    "negative": "-1",
    "not-a-number": "abc",
    "cr-lf": "a%0D%0ASet-Cookie:%20x=1",
    "bad-utf8": "%C3%28%FF%FE",
}
OVERLONG = "x" * 5000
PATH_VALUES = {"nul": "a%00b", "cr-lf": "a%0D%0Ab", "bad-utf8": "%C3%28%FF", "overlong": "x" * 1000}
# JSON bodies: `{}` is filled with every parameter name (see _json_bodies).
JSON_VALUES = {"json-nul": "a\u0000b", "json-beyond-64-bits": 2**70, "json-control-key": None, "json-deep": None}
# Gunicorn refuses request lines past 4 KB; query strings stay under it, bodies carry the overlong values.
QUERY_LIMIT = 3800


def parameter_names() -> list[str]:
    """Every name the app reads from a query string or a form: the ones read by hand first (query
    strings are cut at QUERY_LIMIT), then the fields of the templates and forms."""
    read = set()
    for path in (ROOT / "lms").rglob("*.py"):
        read.update(re.findall(r'(?:request\.(?:args|form|values)\.(?:get|getlist)|inputs\.form_id|inputs\.page_number)'
                               r'\(\s*"([^"]+)"', path.read_text()))
    read.add("page")  # inputs.page_number()
    fields = set(_form_field_names())
    for path in (ROOT / "templates").rglob("*.html"):
        fields.update(re.findall(r'\bname="([\w-]+)"', path.read_text()))
    fields -= read | {"csrf_token"}
    return sorted(read) + sorted(fields)


def _form_field_names() -> set[str]:
    from flask_wtf import FlaskForm
    from wtforms.fields.core import UnboundField

    for module in pkgutil.walk_packages(lms.__path__, "lms."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    # Forms given a prefix (`ReasonForm(prefix="revoke")`) name their fields "revoke-reason": the
    # prefixes a package uses go with the forms of that package.
    prefixes = {}
    for path in (ROOT / "lms").rglob("*.py"):
        package = path.relative_to(ROOT).parts[1]
        prefixes.setdefault(package, {""}).update(f"{p}-" for p in re.findall(r'prefix="(\w+)"', path.read_text()))
    names, pending = set(), list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        fields = [name for name in dir(form) if isinstance(getattr(form, name, None), UnboundField)]
        package = form.__module__.split(".")[1] if form.__module__.startswith("lms.") else ""
        names.update(prefix + name for prefix in prefixes.get(package, {""}) for name in fields)
    return names


def _query(names: list[str], value: str) -> str:
    parts, length = [], 0
    for name in names:
        part = f"{name}={value}"
        if length + len(part) > QUERY_LIMIT:
            break
        parts.append(part)
        length += len(part) + 1
    return "&".join(parts)


def requests_for(app, samples: dict) -> list[tuple[str, str, str, str | None]]:
    """(kind, method, URL, raw form body or None) for every rule and every bad value."""
    names = parameter_names()
    out = []
    for method, endpoint, url in route_urls(app, samples, methods=("GET", "POST")):
        rule = next(r for r in app.url_map.iter_rules(endpoint))
        out.extend((f"path-{kind}", method, _bad_path(rule, samples, value, kind), None)
                   for kind, value in _path_values(rule))
        for kind, value in VALUES.items():
            if method == "GET":
                out.append((f"query-{kind}", "GET", f"{url}?{_query(names, value)}", None))
            else:
                out.append((f"form-{kind}", "POST", f"{url}?{_query(names, value)}",
                            "&".join(f"{name}={value}" for name in names)))
        if method == "POST":
            out.append(("form-overlong", "POST", url, "&".join(f"{name}={OVERLONG}" for name in names)))
            out.extend((kind, "POST", url, body) for kind, body in _json_bodies(names))
        else:
            out.append(("query-overlong", "GET", f"{url}?{_query(['q', 'page', 'next', 'serial'], 'x' * 900)}", None))
    return out


def _json_bodies(names: list[str]):
    import json

    for kind, value in JSON_VALUES.items():
        if kind == "json-control-key":
            body = {f"{name}\u0001": "x" for name in names}
        elif kind == "json-deep":
            body = {name: "x" for name in names}
            for _ in range(50):
                body = {"markdown": body}
        else:
            body = {name: value for name in names}
        yield kind, json.dumps(body)
    yield "json-not-json", '{"markdown": "a\x00b", '


def _path_values(rule):
    converters = [c for c in rule._converters.values() if not isinstance(c, AnyConverter)]
    if any(isinstance(c, IntegerConverter) for c in converters):
        yield "beyond-64-bits", str(2**70)
    if any(not isinstance(c, IntegerConverter) for c in converters):
        yield from PATH_VALUES.items()


def _bad_path(rule, samples: dict, value: str, kind: str) -> str:
    from tests.routes import _build

    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, IntegerConverter):
            values[name] = value if kind == "beyond-64-bits" else samples[name]
        else:
            values[name] = samples[name] if kind == "beyond-64-bits" else value
    return _build(rule, values)
