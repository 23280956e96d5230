"""Loading the shipped locality data; idempotent, in bulk (≈15,000 units)."""

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select, update

from lms.core.text import fold, nfc
from lms.extensions import db
from lms.localities.models import CURRENT_SCHEME, Locality, LocalityLineage

DATA_DIR = Path(__file__).parent / "data"


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def _read(data_dir: Path, name: str) -> list[dict]:
    with open(data_dir / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_localities(data_dir: Path | None = None) -> dict:
    """Insert or update every unit and lineage row; returns counts. Flushes, never commits."""
    data_dir = Path(data_dir or DATA_DIR)
    units = _read(data_dir, "localities.csv")
    lineage = _read(data_dir, "lineage.csv")

    existing = {(s, lv, c): (i, n, t, vf, vt) for i, s, lv, c, n, t, vf, vt in db.session.execute(
        select(Locality.id, Locality.scheme, Locality.level, Locality.code, Locality.name,
               Locality.unit_type, Locality.valid_from, Locality.valid_to))}
    to_insert, to_update = [], []
    for row in units:
        key = (row["scheme"], row["level"], row["code"])
        values = {
            "name": nfc(row["name"]),
            "unit_type": nfc(row["unit_type"]),
            "valid_from": _date(row["valid_from"]),
            "valid_to": _date(row["valid_to"]),
        }
        if key not in existing:
            to_insert.append({"scheme": key[0], "level": key[1], "code": key[2],
                              "name_folded": fold(values["name"]), "path": "", **values})
        elif existing[key][1:] != (values["name"], values["unit_type"], values["valid_from"], values["valid_to"]):
            to_update.append({"id": existing[key][0], "name_folded": fold(values["name"]), **values})
    if to_insert:
        db.session.execute(insert(Locality), to_insert)
    if to_update:
        db.session.execute(update(Locality), to_update)

    ids = {(s, lv, c): i for i, s, lv, c in db.session.execute(
        select(Locality.id, Locality.scheme, Locality.level, Locality.code))}
    parent_of = {}
    for row in units:
        if row["parent_code"]:
            parent_level = _parent_level(row, ids)
            parent_of[ids[(row["scheme"], row["level"], row["code"])]] = ids[(row["scheme"], parent_level, row["parent_code"])]

    lineage_new = _load_lineage(lineage, ids)
    _store_tree(parent_of, lineage_new)
    db.session.flush()
    return {"units": len(units), "inserted": len(to_insert), "updated": len(to_update),
            "lineage": len(lineage)}


def _parent_level(row: dict, ids: dict) -> str:
    if row["level"] == "commune" and (row["scheme"], "district", row["parent_code"]) in ids:
        return "district"
    return "province"


def _load_lineage(rows: list[dict], ids: dict) -> dict[int, int]:
    """Upsert lineage rows; return old id → default new id."""
    existing = {(o, n): (i, p, d) for i, o, n, p, d in db.session.execute(
        select(LocalityLineage.id, LocalityLineage.old_id, LocalityLineage.new_id,
               LocalityLineage.is_partial, LocalityLineage.is_default))}
    to_insert, to_update, defaults = [], [], {}
    for row in rows:
        old_id = ids[(row["old_scheme"], row["old_level"], row["old_code"])]
        new_id = ids[(row["new_scheme"], row["new_level"], row["new_code"])]
        partial, default = row["is_partial"] == "1", row["is_default"] == "1"
        if default:
            defaults[old_id] = new_id
        found = existing.get((old_id, new_id))
        values = {"effective_date": _date(row["effective_date"]), "is_partial": partial, "is_default": default}
        if found is None:
            to_insert.append({"old_id": old_id, "new_id": new_id, **values})
        elif found[1:] != (partial, default):
            to_update.append({"id": found[0], **values})
    if to_insert:
        db.session.execute(insert(LocalityLineage), to_insert)
    if to_update:
        db.session.execute(update(LocalityLineage), to_update)
    return defaults


def _store_tree(parent_of: dict[int, int], successor: dict[int, int]) -> None:
    rows = db.session.execute(select(Locality.id, Locality.scheme, Locality.path, Locality.parent_id, Locality.current_id)).all()
    paths: dict[int, str] = {}

    def path_of(unit_id: int) -> str:
        if unit_id not in paths:
            parent = parent_of.get(unit_id)
            paths[unit_id] = (path_of(parent) if parent else "/") + f"{unit_id}/"
        return paths[unit_id]

    scheme_of = {row.id: row.scheme for row in rows}

    def current_of(unit_id: int, seen=()) -> int | None:
        if scheme_of[unit_id] == CURRENT_SCHEME:
            return unit_id
        nxt = successor.get(unit_id)
        if nxt is None or nxt in seen:
            return None
        return current_of(nxt, seen + (unit_id,))

    changes = []
    for row in rows:
        wanted = (path_of(row.id), parent_of.get(row.id), current_of(row.id))
        if (row.path, row.parent_id, row.current_id) != wanted:
            changes.append({"id": row.id, "path": wanted[0], "parent_id": wanted[1], "current_id": wanted[2]})
    if changes:
        db.session.execute(update(Locality), changes)
