"""State changes for agencies. Each flushes; the caller commits."""

import csv
import io

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.agencies.models import AGENCY_KINDS, Agency
from lms.core import audit
from lms.core.text import fold, nfc
from lms.extensions import db
from lms.localities.models import CURRENT_SCHEME, Locality


class AgencyError(ValueError):
    """A rule about agencies was broken; the message is shown to the user."""


def _set_path(agency: Agency) -> None:
    """Recompute the path of `agency` and of everything below it (after a move)."""
    old = agency.path
    new = (agency.parent.path if agency.parent else "/") + f"{agency.id}/"
    if old == new:
        return
    agency.path = new
    if old:
        db.session.flush()
        # Descendants keep their tail; one UPDATE rewrites the prefix.
        for child in db.session.scalars(select(Agency).where(Agency.path.startswith(old), Agency.id != agency.id)):
            child.path = new + child.path[len(old):]
    db.session.flush()


def save_agency(agency: Agency | None, *, code: str, name: str, kind: str = "other", parent: Agency | None = None,
                locality: Locality | None = None, actor=None) -> Agency:
    code = nfc(code).upper()
    name = nfc(name)
    if not code or not name:
        raise AgencyError(_l("An agency needs a code and a name."))
    if kind not in AGENCY_KINDS:
        raise AgencyError(_l("Unknown kind of agency: %(kind)s", kind=kind))
    clash = db.session.scalar(select(Agency).where(Agency.code == code))
    if clash is not None and clash is not agency:
        raise AgencyError(_l("Another agency already has the code %(code)s.", code=code))
    if agency is not None and parent is not None and (parent is agency or agency.contains(parent)):
        raise AgencyError(_l("An agency cannot be placed under itself or one of its own offices."))
    created = agency is None
    if created:
        agency = Agency(code=code)
        db.session.add(agency)
    agency.code, agency.name, agency.name_folded, agency.kind = code, name, fold(name), kind
    agency.parent, agency.locality = parent, locality
    db.session.flush()
    _set_path(agency)
    audit.record(actor, "agency.create" if created else "agency.update", agency, code=code)
    return agency


HEADERS = {
    "code": ("code", "ma", "ma co quan", "agency code"),
    "name": ("name", "ten", "ten co quan", "agency name"),
    "parent_code": ("parent_code", "parent code", "parent", "ma cap tren", "ma co quan cap tren"),
    "kind": ("kind", "loai", "type"),
    "locality_code": ("locality_code", "locality code", "commune code", "ma xa", "ma dia ban", "ma tinh"),
}


def _header_map(fieldnames) -> dict:
    mapping = {}
    for raw in fieldnames or []:
        key = fold(raw or "").replace("_", " ")
        for field, names in HEADERS.items():
            if key in {n.replace("_", " ") for n in names}:
                mapping[field] = raw
    return mapping


def import_agencies_csv(data: bytes, actor=None) -> dict:
    """Create or update agencies from CSV (code, name, parent_code, kind, locality_code); idempotent by code.

    Parents may come after their children in the file: rows are applied in passes until
    no more can be placed. Returns {"created", "updated", "errors": [(row number, message)]}.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AgencyError(_l("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")) from None
    reader = csv.DictReader(io.StringIO(text))
    mapping = _header_map(reader.fieldnames)
    if "code" not in mapping or "name" not in mapping:
        raise AgencyError(_l("The file needs the columns “code” and “name”."))
    rows = [(number, {field: nfc(row.get(column) or "") for field, column in mapping.items()})
            for number, row in enumerate(reader, start=2)]
    existing = {a.code: a for a in db.session.scalars(select(Agency))}
    localities = {}
    counts = {"created": 0, "updated": 0, "errors": []}
    pending = rows
    while pending:
        waiting = []
        for number, row in pending:
            code, parent_code = row.get("code", "").upper(), row.get("parent_code", "").upper()
            if not code or not row.get("name"):
                counts["errors"].append((number, str(_l("The code and the name are required."))))
                continue
            if parent_code and parent_code not in existing:
                waiting.append((number, row))
                continue
            locality = None
            if row.get("locality_code"):
                key = row["locality_code"]
                if key not in localities:
                    localities[key] = db.session.scalar(select(Locality).where(
                        Locality.scheme == CURRENT_SCHEME, Locality.code == key).order_by(Locality.level.desc()))
                locality = localities[key]
                if locality is None:
                    counts["errors"].append((number, str(_l("Unknown locality code %(code)s.", code=key))))
                    continue
            try:
                with db.session.begin_nested():
                    agency = save_agency(existing.get(code), code=code, name=row["name"], kind=row.get("kind") or "other",
                                         parent=existing.get(parent_code) if parent_code else None,
                                         locality=locality, actor=actor)
            except AgencyError as error:
                counts["errors"].append((number, str(error)))
                continue
            counts["updated" if code in existing else "created"] += 1
            existing[code] = agency
        if len(waiting) == len(pending):
            for number, row in waiting:
                counts["errors"].append((number, str(_l("Unknown parent agency code %(code)s.", code=row["parent_code"]))))
            break
        pending = waiting
    return counts


def set_user_agency(user, agency: Agency | None, position: str | None = None, actor=None) -> None:
    user.agency = agency
    if position is not None:
        set_position(user, position)
    audit.record(actor, "user.agency", user, agency_id=getattr(agency, "id", None))
    db.session.flush()


def set_position(user, position: str) -> None:
    value = nfc(position)[:160] or None
    user.position, user.position_folded = value, fold(value) if value else None



