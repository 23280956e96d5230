"""“Tải dữ liệu của tôi”: everything held about a person, as JSON and CSV files in one ZIP.

The tables are found, not listed: every table with a foreign key to users (the person's rows), the
children of the tables the person owns through a `user_id` column (answers of their attempts,
progress of their enrolments), and audit events about them. A new model with a user foreign key is
therefore exported without a change here (tests/identity/test_privacy.py checks it).
Secrets (password and code hashes) are left out.
"""

import csv
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_, select

from lms.extensions import db

SECRET_COLUMNS = {"password_hash", "code_hash", "token_hash", "secret", "credential_json"}
# Still-valid codes or links may sit in a message not yet sent.
SECRET_BY_TABLE = {"direct_messages": {"body"}}


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return None
    return value


def user_keyed_tables() -> list[tuple]:
    """(table, [columns that reference users.id]) for every table but users itself."""
    found = []
    for table in db.metadata.sorted_tables:
        columns = [column for column in table.columns
                   if any(fk.column.table.name == "users" for fk in column.foreign_keys)]
        if columns and table.name != "users":
            found.append((table, columns))
    return found


def _owned_children(owned: dict) -> list[tuple]:
    """(child table, fk column, parent table) for tables that hang off a table the person owns."""
    return [(table, column, fk.column.table)
            for table in db.metadata.sorted_tables for column in table.columns for fk in column.foreign_keys
            if fk.column.table.name in owned and fk.column.table.name != table.name]


def _rows(statement, table) -> list[dict]:
    hidden = SECRET_COLUMNS | SECRET_BY_TABLE.get(table.name, set())
    return [{key: _plain(value) for key, value in row._mapping.items() if key not in hidden and not key.endswith("_hash")}
            for row in db.session.execute(statement)]


def collect(user) -> dict[str, list[dict]]:
    from lms.accounts.models import User
    from lms.core.models import AuditEvent

    data = {"users": _rows(select(User.__table__).where(User.id == user.id), User.__table__)}
    owned = {}
    for table, columns in user_keyed_tables():
        data[table.name] = _rows(select(table).where(or_(*(column == user.id for column in columns))), table)
        owned_by = [column for column in columns if column.name == "user_id"]
        if owned_by:
            owned[table.name] = owned_by[0]
    for child, column, parent in _owned_children(owned):
        ids = select(parent.c.id).where(owned[parent.name] == user.id)
        rows = _rows(select(child).where(column.in_(ids)), child)
        known = {row.get("id") for row in data.get(child.name, [])}
        data.setdefault(child.name, []).extend(row for row in rows if row.get("id") not in known)
    about = select(AuditEvent.__table__).where(AuditEvent.object_type == "User", AuditEvent.object_id == str(user.id))
    data["audit_events_about_me"] = _rows(about, AuditEvent.__table__)
    return data


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    columns = sorted({key for row in rows for key in row})
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
                         for key, value in row.items()})
    return "\ufeff" + out.getvalue()


def build_zip(user) -> bytes:
    data = collect(user)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", "Dữ liệu cá nhân của bạn / Your personal data.\n"
                                       "all.json: mọi bảng / every table; <bảng>.csv: từng bảng / one table each.\n")
        archive.writestr("all.json", json.dumps(data, ensure_ascii=False, indent=2))
        for name, rows in data.items():
            archive.writestr(f"{name}.csv", _csv(rows))
    return buffer.getvalue()
