"""Bulk import of people: plan (validate against the file and the database) then apply in bulk.

Matching is by e-mail, then by phone, so running the same file again updates the same
accounts. Each row is judged alone: a bad row is reported with its spreadsheet row number and
never stops the good ones. Writes are batched executemany statements (no per-row ORM flush);
new accounts get an unusable password hash and set their password through a signed link
(lms.accounts.operations.set_password_link), so no initial password is generated or stored.
"""

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import insert, select, text, update

from lms.accounts.models import User, unusable_password_hash
from lms.accounts.queries import normalise_phone
from lms.agencies.models import Agency
from lms.core import spreadsheets
from lms.core.db import utcnow
from lms.core.text import fold, nfc
from lms.extensions import db
from lms.imports.mapping import audience_of
from lms.imports.names import AgencyNames, CommuneNames
from lms.imports.reader import CutOffRow

BATCH = 2000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COMPARED = ("full_name", "email", "phone", "audience", "locality_id", "agency_id", "position")


@dataclass
class Plan:
    creates: list = field(default_factory=list)   # (row number, values)
    updates: list = field(default_factory=list)   # (row number, values with id)
    unchanged: int = 0
    errors: list = field(default_factory=list)    # (row number, cells, message)
    total: int = 0

    @property
    def counts(self) -> dict:
        return {"created": len(self.creates), "updated": len(self.updates), "unchanged": self.unchanged,
                "failed": len(self.errors)}


def _existing(emails: set, phones: set) -> tuple[dict, dict]:
    """Existing accounts by e-mail and by phone.

    A big file reads the whole table once (one sequential scan beats hundreds of IN lists,
    which PostgreSQL may also plan as scans right after a bulk load, before ANALYZE); a small
    file looks its keys up in chunks through the unique indexes.
    """
    by_email, by_phone = {}, {}
    columns = (User.id, *(getattr(User, name) for name in _COMPARED))

    def keep(row):
        record = dict(zip(("id", *_COMPARED), row, strict=True))
        if record["email"] in emails:
            by_email[record["email"]] = record
        if record["phone"] in phones:
            by_phone[record["phone"]] = record

    if len(emails) + len(phones) > 5000:
        for row in db.session.execute(select(*columns).execution_options(yield_per=10_000)):
            keep(row)
        return by_email, by_phone
    for values, column in ((sorted(emails), User.email), (sorted(phones), User.phone)):
        for start in range(0, len(values), 1000):
            for row in db.session.execute(select(*columns).where(column.in_(values[start:start + 1000]))):
                keep(row)
    return by_email, by_phone


@dataclass
class _Lookups:
    """What rows are checked against, read once per file."""

    by_email: dict
    by_phone: dict
    communes: CommuneNames | None
    agencies: AgencyNames | None
    agency_codes: dict
    has_position: bool


def plan_import(headers: list[str], rows: list[list[str]], mapping: dict, default_audience: str = "official") -> Plan:
    index = {f: headers.index(column) for f, column in mapping.items() if column in headers}
    plan = Plan()
    parsed = []
    for number, cells in enumerate(rows, start=2):
        if not any(cells):
            continue
        plan.total += 1
        if isinstance(cells, CutOffRow):
            plan.errors.append((number, cells, _("The file ends in the middle of this row (a cut-off line or an "
                                                 "unclosed quote), so it was not imported. Check the end of the file.")))
            continue
        values = {f: nfc(cells[i]) if i < len(cells) else "" for f, i in index.items()}
        parsed.append((number, cells, values))
    emails = {v["email"].lower() for _n, _c, v in parsed if v.get("email")}
    phones = {p for _n, _c, v in parsed if v.get("phone") and (p := normalise_phone(v["phone"]))}
    by_email, by_phone = _existing(emails, phones)
    lookups = _Lookups(
        by_email, by_phone,
        communes=CommuneNames() if {"locality_code", "locality_name"} & set(index) else None,
        agencies=AgencyNames() if "agency_name" in index else None,
        agency_codes=dict(db.session.execute(select(Agency.code, Agency.id)).all()) if "agency_code" in index else {},
        has_position="position" in index)
    seen = {}
    for number, cells, values in parsed:
        email, phone, problem = _contact(values, seen)
        record = None
        if problem is None:
            record, problem = _record(values, default_audience, lookups)
        if problem is None:
            problem = _classify(plan, number, record, email, phone, lookups)
        if problem is not None:
            plan.errors.append((number, cells, problem))
            continue
        if email:
            seen[("e", email)] = number
        if phone:
            seen[("p", phone)] = number
    return plan


def _contact(values: dict, seen: dict) -> tuple[str | None, str | None, str | None]:
    """(e-mail, phone, problem) of a row: a name and a valid e-mail or phone, not already in the file."""
    email = values.get("email", "").lower() or None
    raw_phone = values.get("phone", "")
    phone = normalise_phone(raw_phone) if raw_phone else None
    if not values.get("full_name"):
        return email, phone, _("The full name is missing.")
    if email and not _EMAIL.match(email):
        return email, phone, _("“%(value)s” is not a valid e-mail address.", value=email)
    if raw_phone and phone is None:
        return email, phone, _("“%(value)s” is not a valid mobile number (10 digits starting with 0).", value=raw_phone)
    if not (email or phone):
        return email, phone, _("An e-mail address or a phone number is required.")
    duplicate = (seen.get(("e", email)) if email else None) or (seen.get(("p", phone)) if phone else None)
    if duplicate:
        return email, phone, _("The same e-mail or phone as row %(row)d.", row=duplicate)
    return email, phone, None


def _record(values: dict, default_audience: str, lookups: _Lookups) -> tuple[dict | None, str | None]:
    """The account's fields from the row, or a problem. Commune and agency problems are reported together."""
    name = values["full_name"]
    audience = default_audience
    if values.get("audience"):
        audience = audience_of(values["audience"])
        if audience is None:
            return None, _("Unknown audience “%(value)s” (use: người dân, cán bộ công chức, CIO).", value=values["audience"])
    record = {"full_name": name, "full_name_folded": fold(name), "audience": audience}
    problems = []
    if values.get("locality_code"):
        record["locality_id"], problem = lookups.communes.by_code(values["locality_code"])
        problems += [problem] if problem else []
    elif values.get("locality_name"):
        record["locality_id"], problem = lookups.communes.resolve(values["locality_name"])
        problems += [problem] if problem else []
    if values.get("agency_code"):
        record["agency_id"] = lookups.agency_codes.get(values["agency_code"].upper())
        if record["agency_id"] is None:
            problems.append(_("Unknown agency code %(code)s.", code=values["agency_code"]))
    elif values.get("agency_name"):
        record["agency_id"], problem = lookups.agencies.resolve(values["agency_name"])
        problems += [problem] if problem else []
    if lookups.has_position:
        record["position"] = values.get("position") or None
        record["position_folded"] = fold(values["position"]) if values.get("position") else None
    return (None, " ".join(problems)) if problems else (record, None)


def _classify(plan: Plan, number: int, record: dict, email, phone, lookups: _Lookups) -> str | None:
    """Add the row to the plan as a new account, an update or unchanged; or return why it cannot be."""
    match = lookups.by_email.get(email) if email else None
    by_phone_match = lookups.by_phone.get(phone) if phone else None
    if match is None:
        match = by_phone_match
        if match is not None and email and match["email"] and match["email"] != email:
            return _("The phone number belongs to an account with another e-mail address.")
    elif by_phone_match is not None and by_phone_match["id"] != match["id"]:
        return _("The phone number belongs to another account.")
    if email:
        record["email"] = email
    if phone:
        record["phone"] = phone
    if match is None:
        plan.creates.append((number, record))
    elif any(record.get(key, match[key]) != match[key] for key in _COMPARED):
        record["id"] = match["id"]
        plan.updates.append((number, record))
    else:
        plan.unchanged += 1
    return None


def apply_plan(plan: Plan, progress=None) -> dict:
    """Write the plan in batches; `progress(done)` is called after each batch. Flushes, never commits."""
    now = utcnow()
    done = 0
    for start in range(0, len(plan.creates), BATCH):
        batch = []
        for _number, record in plan.creates[start:start + BATCH]:
            batch.append({"email": None, "phone": None, "locality_id": None, "agency_id": None, "position": None,
                          "position_folded": None, **record, "password_hash": unusable_password_hash(),
                          "is_active": True, "session_version": 1, "created_at": now})
        db.session.execute(insert(User), batch)
        done += len(batch)
        if progress:
            progress(done)
    for start in range(0, len(plan.updates), BATCH):
        batch = [record for _number, record in plan.updates[start:start + BATCH]]
        # One executemany per distinct column set (rows without e.g. a phone leave it alone).
        groups = {}
        for record in batch:
            groups.setdefault(tuple(sorted(record)), []).append(record)
        for records in groups.values():
            db.session.execute(update(User), records)
        done += len(batch)
        if progress:
            progress(done)
    db.session.flush()
    if plan.creates and db.session.get_bind().dialect.name == "postgresql" and len(plan.creates) > 10_000:
        # Fresh statistics, so the next queries on users use the indexes instead of guessing.
        db.session.execute(text("ANALYZE users"))
    return plan.counts


def error_file(headers: list[str], errors: list) -> bytes:
    """CSV (UTF-8 with BOM, so Excel shows Vietnamese right) of the bad rows with their row number and error."""
    rows = ([number, *(list(cells) + [""] * (len(headers) - len(cells)))[:len(headers)], message]
            for number, cells, message in errors)
    return spreadsheets.csv_text([_("Row"), *headers, _("Error")], rows).encode("utf-8")
