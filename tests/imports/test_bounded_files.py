"""Issue 12, finding 4: files are read by what is really in them — the declared dimensions of an
XLSX are ignored, zip bombs are refused from the directory, rows/cells/seconds are counted."""

import io
import re
import time
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from lms.imports.reader import FileFormatError, Limits, read_table, sniff
from tests.conftest import text_of


def _workbook(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _rewrite_sheet(data: bytes, change) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = change(body.decode()).encode()
            target.writestr(item, body)
    return out.getvalue()


def declaring_a1_xfd8000() -> bytes:
    """The tester's file: a few real cells, a <dimension> of A1:XFD8000 and one cell at XFD8000."""
    data = _workbook([["Họ và tên", "Email"], ["Nguyễn Văn A", "a@x.vn"], ["Trần Thị B", "b@x.vn"]])

    def change(xml):
        xml = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD8000"/>', xml)
        return xml.replace("</sheetData>", '<row r="8000"><c r="XFD8000" t="inlineStr"><is><t>x</t></is></c></row>'
                                           "</sheetData>")

    return _rewrite_sheet(data, change)


def test_the_xlsx_declaring_a1_xfd8000_is_read_in_under_a_second_with_bounded_memory():
    data = declaring_a1_xfd8000()
    assert len(data) < 8000
    tracemalloc.start()
    cpu = time.process_time()
    headers, rows = read_table(data, "bomb.xlsx")
    spent = time.process_time() - cpu
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert headers == ["Họ và tên", "Email"]
    assert [row[:2] for row in rows if any(row)] == [["Nguyễn Văn A", "a@x.vn"], ["Trần Thị B", "b@x.vn"]]
    assert spent < 1.0, f"{spent:.2f} s of CPU"
    assert peak < 40 * 1024 * 1024, f"{peak / 1e6:.0f} MB"


def test_a_zip_bomb_is_refused_from_its_directory_in_the_request_already():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", " " * (30 * 1024 * 1024))
    data = out.getvalue()
    assert len(data) < 100_000
    for read in (lambda: sniff(data, "x.xlsx"), lambda: read_table(data, "x.xlsx")):
        with pytest.raises(FileFormatError, match="too big"):
            read()


@pytest.mark.parametrize("limits, message", [
    (Limits(rows=50), "more than 50 rows"), (Limits(cells=100), "more than 100 filled cells"),
    (Limits(bytes=1000), "more than 0 MB")])
def test_rows_cells_and_bytes_are_counted(limits, message):
    csv_data = ("Họ và tên,Email\n" + "".join(f"Người {n},n{n}@x.vn\n" for n in range(200))).encode()
    xlsx_data = _workbook([["Họ và tên", "Email"], *([f"Người {n}", f"n{n}@x.vn"] for n in range(200))])
    for data, name in ((csv_data, "a.csv"), (xlsx_data, "a.xlsx")):
        with pytest.raises(FileFormatError, match=message):
            read_table(data, name, limits)


def test_cells_beyond_the_column_limit_are_not_read():
    data = _workbook([["Họ và tên", "Email", *[f"c{n}" for n in range(300)]], ["A", "a@x.vn", *["x"] * 300]])
    headers, rows = read_table(data, "wide.xlsx", Limits(columns=10))
    assert len(headers) == 10 and len(rows[0]) == 10


def test_the_upload_only_stores_the_file_and_the_preview_never_reads_it(client, create_user, login, db_session,
                                                                         monkeypatch):
    """The request sniffs and stores; the worker (eager here) reads and makes the dry run; the preview
    page then shows what the worker stored, without touching the file."""
    from lms.imports import controllers, jobs, reader
    from lms.imports.models import ImportJob

    login(create_user(roles=("admin",)))
    reads = []
    monkeypatch.setattr(jobs, "read_table", lambda *a, **k: reads.append("worker") or reader.read_table(*a, **k))
    assert not hasattr(controllers, "read_table")  # the controllers cannot parse a file
    response = client.post("/admin/imports/", data={"file": (io.BytesIO(declaring_a1_xfd8000()), "bomb.xlsx"),
                                                    "default_audience": "citizen"}, content_type="multipart/form-data")
    assert response.status_code == 302 and reads == ["worker"]
    job = db_session.scalar(select(ImportJob))
    assert job.status == "ready" and job.headers == ["Họ và tên", "Email"] and job.preview["counts"]["created"] == 2
    for _ in range(3):
        page = client.get(f"/admin/imports/{job.id}/preview")
        assert page.status_code == 200 and "Nguyễn Văn A" in page.get_data(as_text=True)
    assert reads == ["worker"]


def test_a_file_the_worker_cannot_read_fails_the_job_with_the_reason(client, create_user, login, db_session, app,
                                                                      monkeypatch):
    from lms.imports.models import ImportJob

    with client.session_transaction() as session:
        session["lang"] = "en"
    login(create_user(roles=("admin",)))
    data = ("Họ và tên,Email\n" + "".join(f"Người {n},n{n}@x.vn\n" for n in range(50))).encode()
    monkeypatch.setitem(app.config, "LMS_IMPORT_MAX_ROWS", 10)
    client.post("/admin/imports/", data={"file": (io.BytesIO(data), "big.csv"), "default_audience": "citizen"},
                content_type="multipart/form-data")
    job = db_session.scalar(select(ImportJob))
    page = text_of(client.get(f"/admin/imports/{job.id}", follow_redirects=True))
    assert job.status == "failed" and "too big to import" in page and "more than 10 rows" in page
