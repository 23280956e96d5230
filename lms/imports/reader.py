"""Reading people files: CSV (UTF-8, with or without BOM, comma or semicolon) and XLSX."""

import csv
import io

from flask_babel import lazy_gettext as _l

from lms.core.text import nfc


class FileFormatError(ValueError):
    """The file cannot be read; the message is shown to the user."""


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps codes typed as numbers as floats
    return nfc(str(value))


def read_table(data: bytes, filename: str) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) with every cell as NFC text; blank rows dropped, row order kept."""
    if filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return _read_xlsx(data)
    return _read_csv(data)


def _read_csv(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileFormatError(_l("The file is not UTF-8 text. In Excel, save it as “CSV UTF-8” or as .xlsx.")) from None
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return _split(rows)


def _read_xlsx(data: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any parse failure means "not a workbook we can read"
        raise FileFormatError(_l("The file is not a readable Excel workbook (.xlsx).")) from None
    try:
        sheet = workbook.worksheets[0]
        rows = [[_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
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
