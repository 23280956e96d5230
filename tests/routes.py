"""Every route of the app as a concrete URL: the url_map's rules with their arguments filled in.

For tests that must cover every route (concurrency, bad input): new routes are covered the day they
are added, and an argument nobody knows how to fill fails loudly instead of being skipped.
"""

from werkzeug.routing import AnyConverter


def route_urls(app, samples: dict, methods=("GET",)) -> list[tuple[str, str, str]]:
    """(method, endpoint, URL) for every rule allowing one of `methods`; `samples` maps argument names
    (`slug`, `lesson_id`, …) to values. Rules whose arguments are unknown raise KeyError."""
    urls = []
    for rule in app.url_map.iter_rules():
        for method in methods:
            if method not in rule.methods or rule.endpoint == "static":
                continue
            values = {}
            for name in rule.arguments:
                converter = rule._converters[name]
                if isinstance(converter, AnyConverter):
                    values[name] = sorted(converter.items)[0]
                else:
                    values[name] = samples[name]
            urls.append((method, rule.endpoint, _build(rule, values)))
    return sorted(urls)


def _build(rule, values) -> str:
    path = rule.rule
    for name, value in values.items():
        for part in (f"<{name}>", *(f"<{c}:{name}>" for c in ("int", "path", "string"))):
            path = path.replace(part, str(value))
        if f":{name}>" in path:  # a converter with arguments, e.g. <any(csv, xlsx):fmt>
            start = path.rindex("<", 0, path.index(f":{name}>"))
            path = path[:start] + str(value) + path[path.index(">", start) + 1:]
    return path
