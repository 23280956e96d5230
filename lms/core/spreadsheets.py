"""The one way the app writes CSV and XLSX files, safe to open in a spreadsheet program.

A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula
by Excel, LibreOffice and Google Sheets, so a learner who registers as `=HYPERLINK(…)` would put a
live link into a manager's export (OWASP "CSV Injection"). Following the OWASP guidance:

- CSV: such a cell is written with a leading single quote, which spreadsheets show as text;
  the csv module quotes cells holding separators or quotes;
- XLSX: every string is written as a string (never a formula, URL or number), and such a cell
  also carries Excel's "quote prefix" style, so it stays text even when someone edits it.

Numbers are written as numbers, so sums keep working.
"""

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator

import xlsxwriter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel opens UTF-8 CSV with Vietnamese names correctly only with a byte-order mark.
BOM = "\ufeff"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutral_cell(value):
    """The cell as it must go into a CSV file: formula-like text gets a leading quote."""
    return "'" + value if is_formula_like(value) else value


def csv_chunks(header: list, rows: Iterable[list], batch: int = 1000) -> Iterator[str]:
    """CSV text in chunks (for streamed responses and files), BOM first, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([neutral_cell(cell) for cell in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow([neutral_cell(cell) for cell in row])
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_text(header: list, rows: Iterable[list]) -> str:
    return "".join(csv_chunks(header, rows))


def write_xlsx(target, header: list, rows: Iterable[list], sheet_name: str = "Sheet1") -> None:
    """An XLSX file at `target` (a path or a binary file object), written row by row in constant memory."""
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    if isinstance(target, str | os.PathLike):
        options.update(constant_memory=True, tmpdir=os.path.dirname(os.fspath(target)) or None)
    else:
        options["in_memory"] = True
    workbook = xlsxwriter.Workbook(target, options)
    sheet = workbook.add_worksheet(sheet_name[:31])
    formats = {"bold": workbook.add_format({"bold": True}), "text": workbook.add_format({"quote_prefix": True})}
    _write_row(sheet, 0, header, formats, formats["bold"])
    for number, row in enumerate(rows, start=1):
        _write_row(sheet, number, row, formats)
    workbook.close()


def _write_row(sheet, number: int, row: list, formats: dict, style=None) -> None:
    for column, value in enumerate(row):
        if value is None or value == "":
            sheet.write_blank(number, column, None, style)
        elif isinstance(value, str):
            sheet.write_string(number, column, value, formats["text"] if is_formula_like(value) else style)
        else:
            sheet.write(number, column, value, style)


def xlsx_bytes(header: list, rows: Iterable[list], sheet_name: str = "Sheet1") -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "export.xlsx")
        write_xlsx(path, header, rows, sheet_name)
        with open(path, "rb") as handle:
            return handle.read()
