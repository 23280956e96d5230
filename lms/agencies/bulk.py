"""Set-based import of agencies from CSV: a few statements for the whole file, never a savepoint
or a flush per row (a 30 MB file took over six minutes that way; see docs/security.md, part B).

Rows are checked in memory against the agencies and localities read once; new agencies go in
with one executemany INSERT, changes with one executemany UPDATE, and the materialised paths of
the whole tree are recomputed once at the end (a moved agency moves its offices with it).
"""

import csv
import io
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, select, update

from lms.agencies.models import AGENCY_KINDS, Agency
from lms.core.db import utcnow
from lms.core.text import fold, nfc
from lms.extensions import db
from lms.localities.models import CURRENT_SCHEME, Locality

BATCH = 5000
HEADERS = {
    "code": ("code", "ma", "ma co quan", "agency code"),
    "name": ("name", "ten", "ten co quan", "agency name"),
    "parent_code": ("parent_code", "parent code", "parent", "ma cap tren", "ma co quan cap tren"),
    "kind": ("kind", "loai", "type"),
    "locality_code": ("locality_code", "locality code", "commune code", "ma xa", "ma dia ban", "ma tinh"),
}


class AgencyFileError(ValueError):
    """The whole file cannot be read; the message is shown to the user."""


@dataclass
class _Row:
    number: int
    code: str
    name: str
    kind: str
    parent_code: str
    locality_id: int | None


@dataclass
class _Outcome:
    rows: dict = field(default_factory=dict)      # code → _Row that is applied
    errors: list = field(default_factory=list)    # (row number, message)


def _header_map(fieldnames) -> dict:
    mapping = {}
    for raw in fieldnames or []:
        key = fold(raw or "").replace("_", " ")
        for name, spellings in HEADERS.items():
            if key in {n.replace("_", " ") for n in spellings}:
                mapping[name] = raw
    return mapping


def read_rows(data: bytes) -> tuple[dict, csv.DictReader]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AgencyFileError(_l("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    mapping = _header_map(reader.fieldnames)
    if "code" not in mapping or "name" not in mapping:
        raise AgencyFileError(_l("The file needs the columns “code” and “name”."))
    return mapping, reader


def _localities() -> dict[str, int]:
    """Current-scheme code → id; of two units with one code (a province and its city), the lower level wins."""
    found = {}
    rows = db.session.execute(select(Locality.code, Locality.id).where(Locality.scheme == CURRENT_SCHEME)
                              .order_by(Locality.level.desc()))
    for code, locality_id in rows:
        found.setdefault(code, locality_id)
    return found


def _check_rows(mapping: dict, reader) -> _Outcome:
    """Each row alone: required fields, kind, locality, a code not already earlier in the file."""
    localities, outcome = _localities(), _Outcome()
    for number, raw in enumerate(reader, start=2):
        row = {name: nfc(raw.get(column) or "") for name, column in mapping.items()}
        code, name = row.get("code", "").upper(), row.get("name", "")
        kind = row.get("kind") or "other"
        if not code or not name:
            outcome.errors.append((number, str(_l("The code and the name are required."))))
        elif len(code) > 32 or len(name) > 200:
            outcome.errors.append((number, str(_l("The code has at most 32 characters and the name 200."))))
        elif kind not in AGENCY_KINDS:
            outcome.errors.append((number, str(_l("Unknown kind of agency: %(kind)s", kind=kind))))
        elif row.get("locality_code") and row["locality_code"] not in localities:
            outcome.errors.append((number, str(_l("Unknown locality code %(code)s.", code=row["locality_code"]))))
        elif code in outcome.rows:
            outcome.errors.append((number, str(_l("The same code as row %(row)d.", row=outcome.rows[code].number))))
        else:
            outcome.rows[code] = _Row(number, code, name, kind, row.get("parent_code", "").upper(),
                                      localities.get(row.get("locality_code", "")))
    return outcome


def _drop_unplaceable(outcome: _Outcome, existing: dict) -> None:
    """Rows whose parent is neither an agency nor a placeable row of the file, or that would sit
    under themselves, are errors; so, in turn, are the rows below them."""
    parent_of = {code: record[1] for code, record in existing.items()}
    parent_of.update({code: row.parent_code or None for code, row in outcome.rows.items()})
    placeable: dict[str, bool] = {}
    for code in list(outcome.rows):
        chain, current = [], code
        while current is not None and current not in placeable:
            if current in chain or current not in parent_of:
                break
            chain.append(current)
            current = parent_of[current]
        ok = current is None or placeable.get(current, False)
        for link in chain:
            placeable[link] = ok
    for code, row in list(outcome.rows.items()):
        if not placeable.get(code):
            missing = row.parent_code not in parent_of
            outcome.errors.append((row.number, str(
                _l("Unknown parent agency code %(code)s.", code=row.parent_code) if missing
                else _l("An agency cannot be placed under itself or one of its own offices."))))
            del outcome.rows[code]


def _write(outcome: _Outcome, existing: dict) -> dict:
    """INSERT the new agencies, then UPDATE only what differs (a re-run of the same file writes no row)."""
    now = utcnow()
    new = [row for code, row in outcome.rows.items() if code not in existing]
    for start in range(0, len(new), BATCH):
        db.session.execute(insert(Agency), [
            {"code": row.code, "name": row.name, "name_folded": fold(row.name), "kind": row.kind,
             "locality_id": row.locality_id, "path": "", "created_at": now} for row in new[start:start + BATCH]])
    ids = dict(db.session.execute(select(Agency.code, Agency.id)).all()) if new else \
        {code: record[0] for code, record in existing.items()}
    changes, parents = [], []
    for code, row in outcome.rows.items():
        parent_id = ids.get(row.parent_code) if row.parent_code else None
        before = existing.get(code)
        if before is None:
            if parent_id is not None:
                parents.append({"b_id": ids[code], "b_parent": parent_id})
        elif before[2:] != (row.name, row.kind, row.locality_id, parent_id):
            changes.append({"b_id": before[0], "b_name": row.name, "b_folded": fold(row.name), "b_kind": row.kind,
                            "b_locality": row.locality_id, "b_parent": parent_id})
    _execute_many(update(Agency).where(Agency.id == bindparam("b_id")).values(
        name=bindparam("b_name"), name_folded=bindparam("b_folded"), kind=bindparam("b_kind"),
        locality_id=bindparam("b_locality"), parent_id=bindparam("b_parent")), changes)
    _execute_many(update(Agency).where(Agency.id == bindparam("b_id")).values(parent_id=bindparam("b_parent")), parents)
    if new or changes:
        rebuild_paths()
    return {"created": len(new), "updated": len(outcome.rows) - len(new), "changed": len(changes)}


def _execute_many(statement, parameters: list[dict]) -> None:
    connection = db.session.connection()
    for start in range(0, len(parameters), BATCH):
        connection.execute(statement, parameters[start:start + BATCH])


def rebuild_paths() -> int:
    """Recompute every agency's materialised path from the parent links; write only those that changed."""
    rows = db.session.execute(select(Agency.id, Agency.parent_id, Agency.path)).all()
    parent = {agency_id: parent_id for agency_id, parent_id, _path in rows}
    paths: dict[int, str] = {}

    def path_of(agency_id: int) -> str:
        chain = []
        while agency_id is not None and agency_id not in paths:
            chain.append(agency_id)
            agency_id = parent.get(agency_id)
        prefix = paths[agency_id] if agency_id is not None else "/"
        for link in reversed(chain):
            prefix = paths[link] = f"{prefix}{link}/"
        return prefix

    changed = [{"b_id": agency_id, "b_path": path_of(agency_id)} for agency_id, _p, old in rows
               if path_of(agency_id) != old]
    _execute_many(update(Agency).where(Agency.id == bindparam("b_id")).values(path=bindparam("b_path")), changed)
    db.session.expire_all()
    return len(changed)


def import_agencies(data: bytes) -> dict:
    """Create or update agencies from CSV (code, name, parent_code, kind, locality_code); idempotent by code.
    Parents may come after their children. Flushes, never commits.
    Returns {"created", "updated", "errors": [(row number, message)]}."""
    mapping, reader = read_rows(data)
    outcome = _check_rows(mapping, reader)
    existing = _existing()
    _drop_unplaceable(outcome, existing)
    counts = _write(outcome, existing)
    counts["errors"] = sorted(outcome.errors)
    counts.pop("changed")
    return counts


def _existing() -> dict[str, tuple]:
    """code → (id, parent's code, name, kind, locality id, parent id) of every agency."""
    rows = db.session.execute(select(Agency.id, Agency.code, Agency.parent_id, Agency.name, Agency.kind,
                                     Agency.locality_id)).all()
    codes = {row.id: row.code for row in rows}
    return {row.code: (row.id, codes.get(row.parent_id), row.name, row.kind, row.locality_id, row.parent_id)
            for row in rows}
