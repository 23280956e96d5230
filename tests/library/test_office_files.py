"""DOCX and ODT files uploaded by a librarian: the worker extracts their text (python-docx, odfpy) and
the one search finds a word that is only inside the file, typed without diacritics."""

import io

import pytest
from sqlalchemy import select

from lms.library.models import LibraryFile, LibraryItem
from lms.search.queries import search
from tests.conftest import text_of

# Words that are in the file only: not in the title, summary or anything else the form sends.
BODY = "Người dân tra cứu hồ sơ đất đai trên Cổng dịch vụ công bằng mã vạch biên nhận."
TABLE_CELL = "Lệ phí trước bạ được miễn khi nộp trực tuyến."


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Hướng dẫn", level=1)
    document.add_paragraph(BODY)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Ghi chú"
    table.cell(0, 1).text = TABLE_CELL
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _odt() -> bytes:
    from odf import text
    from odf.opendocument import OpenDocumentText

    document = OpenDocumentText()
    document.text.addElement(text.H(outlinelevel=1, text="Hướng dẫn"))
    document.text.addElement(text.P(text=BODY))
    document.text.addElement(text.P(text=TABLE_CELL))
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("name, make, content_type", [
    ("huong-dan.docx", _docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("huong-dan.odt", _odt, "application/vnd.oasis.opendocument.text"),
])
def test_words_inside_an_office_file_are_found(client, db_session, create_user, login, commit_and_index,
                                                name, make, content_type):
    data = make()
    assert data[:2] == b"PK"  # a real zip package, as a word processor writes it
    login(create_user(roles=("librarian",)))
    response = client.post("/library/new", content_type="multipart/form-data", data={
        "title": "Sổ tay thủ tục", "kind": "document", "licence": "CC BY 4.0", "status": "published",
        "summary": "Tóm tắt ngắn", "collections": "", "locality_id": "", "file": (io.BytesIO(data), name)})
    assert response.status_code == 303, text_of(response)
    item = db_session.scalar(select(LibraryItem))
    commit_and_index()

    file = db_session.scalar(select(LibraryFile).where(LibraryFile.item_id == item.id))
    assert file.content_type == content_type and "mã vạch biên nhận" in file.text and TABLE_CELL in file.text
    for query in ("ma vach bien nhan", "mã vạch", "LE PHI TRUOC BA", "dat dai"):
        results = search(query)
        assert [hit.url for hit in results.hits] == [f"/library/{item.slug}"], query
    assert "<mark>mã</mark> <mark>vạch</mark>" in str(search("ma vach").hits[0].snippet)
    page = text_of(client.get("/search?q=truoc+ba"))
    assert "Sổ tay thủ tục" in page and "trước bạ" in page
