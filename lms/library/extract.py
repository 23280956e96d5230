"""Text out of uploaded files, for search: PDF (pypdf), DOCX (python-docx), ODT (odfpy), captions and
plain text. Runs in the worker; a file that cannot be read is left unsearchable, never an error page."""

import io
import re

TEXT_LIMIT = 400_000
EXTRACTABLE = {
    "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text", "text/vtt", "text/plain", "text/markdown", "application/x-subrip",
}
_CUE_TIMING = re.compile(r"^\s*(\d+\s*$|[\d:.,]+\s*-->.*$|WEBVTT.*$)", re.M)


def extract_text(data: bytes, content_type: str, on_page=None) -> str:
    if content_type == "application/pdf":
        return _pdf(data, on_page)
    if content_type.endswith("wordprocessingml.document"):
        return _docx(data)
    if content_type == "application/vnd.oasis.opendocument.text":
        return _odt(data)
    if content_type in ("text/vtt", "application/x-subrip"):
        return _captions(data.decode("utf-8", "replace"))
    if content_type.startswith("text/"):
        return data.decode("utf-8", "replace")[:TEXT_LIMIT]
    return ""


def _pdf(data: bytes, on_page=None) -> str:
    from pypdf import PdfReader

    parts, size = [], 0
    for number, page in enumerate(PdfReader(io.BytesIO(data)).pages, start=1):
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if on_page and number % 20 == 0:
            on_page(number)  # long files: the worker keeps its lease
        if size >= TEXT_LIMIT:
            break
    return "\n".join(parts)[:TEXT_LIMIT]


def _docx(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)[:TEXT_LIMIT]


def _odt(data: bytes) -> str:
    from odf import teletype, text
    from odf.opendocument import load

    document = load(io.BytesIO(data))
    parts = [teletype.extractText(p) for p in document.getElementsByType(text.P)]
    parts += [teletype.extractText(h) for h in document.getElementsByType(text.H)]
    return "\n".join(parts)[:TEXT_LIMIT]


def _captions(source: str) -> str:
    return re.sub(r"\n{2,}", "\n", _CUE_TIMING.sub("", source)).strip()[:TEXT_LIMIT]
