"""Reading people files: CSV (UTF-8, with or without BOM, comma or semicolon) and XLSX.

Bounded by what is really in the file, never by what it declares: an XLSX's `<dimension>` (a
4.9 KB file declaring A1:XFD8000 once took 27 s and 2.2 GB) is ignored, the archive is refused
when it would unpack to too much or too fast (a zip bomb), and rows, columns, filled cells and
seconds are counted as the file is read (LIMITS; docs/security.md, part B).
"""

import csv
import io
import time
import zipfile
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from lms.core.text import nfc


class FileFormatError(ValueError):
    """The file cannot be read; the message is shown to the user."""


@dataclass(frozen=True)
class Limits:
    bytes: int = 32 * 1024 * 1024          # the upload itself (MAX_CONTENT_LENGTH is 32 MB too)
    unzipped_bytes: int = 256 * 1024 * 1024  # an XLSX's members, unpacked
    zip_ratio: int = 150                    # unpacked / packed; real workbooks are well under 20
    rows: int = 200_000                     # rows read, blank ones included
    columns: int = 100                      # cells further right are not read
    cells: int = 3_000_000                  # filled cells
    seconds: float = 60.0                   # reading, in the worker


LIMITS = Limits()
# Settings that change a limit (docs/operations.md): LMS_IMPORT_MAX_ROWS=500000 …
_SETTINGS = {"rows": "LMS_IMPORT_MAX_ROWS", "cells": "LMS_IMPORT_MAX_CELLS", "seconds": "LMS_IMPORT_MAX_SECONDS"}


def current_limits() -> Limits:
    from dataclasses import replace

    from flask import current_app, has_app_context

    if not has_app_context():
        return LIMITS
    changed = {name: type(getattr(LIMITS, name))(current_app.config[key]) for name, key in _SETTINGS.items()
               if current_app.config.get(key)}
    return replace(LIMITS, **changed) if changed else LIMITS


def _too_big(what) -> FileFormatError:
    return FileFormatError(_l("The file is too big to import (%(what)s). Split it into smaller files.", what=what))


class CutOffRow(list):
    """The cells of a CSV's last row when the file ends in the middle of it (a truncated upload or
    copy): the import reports it as a row error instead of importing half a row."""


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps codes typed as numbers as floats
    return nfc(str(value))


def is_xlsx(data: bytes, filename: str) -> bool:
    return filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK"


def read_table(data: bytes, filename: str, limits: Limits | None = None) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) with every cell as NFC text; blank rows dropped, row order kept."""
    limits = limits or current_limits()
    if len(data) > limits.bytes:
        raise _too_big(_l("more than %(mb)d MB", mb=limits.bytes // (1024 * 1024)))
    if is_xlsx(data, filename):
        check_archive(data, limits)
        return _read_xlsx(data, limits)
    return _read_csv(data, limits)


def sniff(data: bytes, filename: str, limits: Limits | None = None) -> None:
    """The cheap checks an upload gets in the request (size, the zip directory, UTF-8 of the start);
    the file is read in the worker."""
    limits = limits or current_limits()
    if len(data) > limits.bytes:
        raise _too_big(_l("more than %(mb)d MB", mb=limits.bytes // (1024 * 1024)))
    if is_xlsx(data, filename):
        check_archive(data, limits)
        return
    head = data[:65536]
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not merely a character cut at the sample's end
            raise FileFormatError(_l("The file is not UTF-8 text. In Excel, save it as “CSV UTF-8” or as .xlsx.")) from None


def check_archive(data: bytes, limits: Limits) -> None:
    """Refuse an XLSX that would unpack to too much, or at a ratio no workbook has (a zip bomb),
    from the archive's directory alone — nothing is unpacked here."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileFormatError(_l("The file is not a readable Excel workbook (.xlsx).")) from None
    unpacked = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members) or 1
    if unpacked > limits.unzipped_bytes or unpacked > limits.zip_ratio * max(packed, 1024):
        raise _too_big(_l("%(mb)d MB once unpacked", mb=max(1, unpacked // (1024 * 1024))))


class _Budget:
    """Counts rows, filled cells and seconds while a file is read; raises when one runs out."""

    def __init__(self, limits: Limits):
        self.limits, self.rows, self.cells = limits, 0, 0
        self.deadline = time.monotonic() + limits.seconds

    def take(self, row) -> None:
        self.rows += 1
        self.cells += sum(1 for value in row if value not in (None, ""))
        if self.rows > self.limits.rows:
            raise _too_big(_l("more than %(count)d rows", count=self.limits.rows))
        if self.cells > self.limits.cells:
            raise _too_big(_l("more than %(count)d filled cells", count=self.limits.cells))
        if self.rows % 1000 == 0 and time.monotonic() > self.deadline:
            raise _too_big(_l("reading it took more than %(seconds)d seconds", seconds=int(self.limits.seconds)))


def _read_csv(data: bytes, limits: Limits):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileFormatError(_l("The file is not UTF-8 text. In Excel, save it as “CSV UTF-8” or as .xlsx.")) from None
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    budget, rows = _Budget(limits), []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            row = row[:limits.columns]
            budget.take(row)
            rows.append(row)
    except csv.Error:
        raise FileFormatError(_l("The file is not a CSV file that can be read (a value is too long or broken).")) from None
    headers, rows = _split(rows)
    if rows and _cut_off(text, delimiter, headers, rows):
        rows[-1] = CutOffRow(rows[-1])
    return headers, rows


def _cut_off(text: str, delimiter: str, headers: list[str], rows: list[list[str]]) -> bool:
    """Whether the file ends in the middle of its last row: inside a quoted value (the csv module
    then silently closes it), or without a line end on a row shorter than the header while the row
    before it is complete (spreadsheet programs end every row, and write every cell)."""
    if _ends_inside_quotes(text, delimiter):
        return True
    if text.endswith(("\n", "\r")):
        return False
    previous = rows[-2] if len(rows) > 1 else headers
    return len(rows[-1]) < len(headers) <= len(previous)


def _ends_inside_quotes(text: str, delimiter: str) -> bool:
    """Follow the csv module's quoting to the end of the text: a quote opens a value only at the
    value's start, "" is a quote inside one, any other quote is a plain character."""
    index = text.find('"')
    while index != -1:
        if index and text[index - 1] not in (delimiter, "\n", "\r"):
            index = text.find('"', index + 1)  # a plain quote inside an unquoted value
            continue
        end = text.find('"', index + 1)
        while end != -1 and text.startswith('"', end + 1):
            end = text.find('"', end + 2)
        if end == -1:
            return True
        index = text.find('"', end + 1)
    return False


def _read_xlsx(data: bytes, limits: Limits):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any parse failure means "not a workbook we can read"
        raise FileFormatError(_l("The file is not a readable Excel workbook (.xlsx).")) from None
    budget, rows = _Budget(limits), []
    try:
        sheet = workbook.worksheets[0]
        # The declared <dimension> is the attacker's to write: forget it, read the rows that are there,
        # and never more than `columns` cells of each.
        sheet.reset_dimensions()
        for row in sheet.iter_rows(max_col=limits.columns, values_only=True):
            budget.take(row)
            rows.append([_cell(value) for value in row] if any(v is not None for v in row) else [])
    except FileFormatError:
        raise
    except Exception:  # noqa: BLE001 - a broken sheet inside a valid archive
        raise FileFormatError(_l("The file is not a readable Excel workbook (.xlsx).")) from None
    finally:
        workbook.close()
    return _split(rows)


def _split(rows):
    rows = [[nfc(cell) if isinstance(cell, str) else _cell(cell) for cell in row] for row in rows]
    if not rows or not any(rows[0]):
        raise FileFormatError(_l("The file is empty or its first row has no column headers."))
    headers = rows[0]
    while headers and not headers[-1]:
        headers = headers[:-1]
    return headers, [row for row in rows[1:]]
