"""Audit of privileged actions. Operations and controllers call `record`; it sends the
`privileged_action` signal and lms.audit's listener adds the event to the session (committed with
the change it describes, or rolled back with it)."""

import json

from lms.core.signals import privileged_action


def record(actor, action: str, obj, *, before: dict | None = None, after: dict | None = None, **summary) -> None:
    """`actor` did `action` to `obj`; `before`/`after` are the changed fields' values (JSON-able)."""
    privileged_action.send(None, actor=actor, action=action, obj=obj, before=_json(before), after=_json(after),
                           summary=_json(summary))


def _json(value):
    """Plain JSON (dates, decimals and objects as text), so any backend's JSON column takes it."""
    return None if value is None else json.loads(json.dumps(value, default=str, ensure_ascii=False))


def changes(obj, fields, **new) -> tuple[dict, dict]:
    """(before, after) of the fields of `obj` that `new` changes, for `record`."""
    before = {name: _plain(getattr(obj, name, None)) for name in fields if name in new}
    after = {name: _plain(new[name]) for name in before}
    return before, after


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    return str(getattr(value, "id", value))
