"""Reading people files: CSV (UTF-8, with or without BOM, comma or semicolon) and XLSX."""

import csv
import io

from flask_babel import lazy_gettext as _l

from lms.core.text import nfc


class FileFormatError(ValueError):
    """The file cannot be read; the message is shown to the user."""


class CutOffRow(list):
    """The cells of a CSV's last row when the file ends in the middle of it (a truncated upload or
    copy): the import reports it as a row error instead of importing half a row."""


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
