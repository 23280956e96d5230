import io
import os

import pytest

from lms.core.outbox import dispatch_ready
from lms.extensions import db


@pytest.fixture()
def commit_and_index(db_session):
    """Commit, then run the queued work (index, text extraction) eagerly, as the worker would."""

    def run():
        db.session.commit()
        dispatch_ready()
        dispatch_ready()  # extraction saved text: that commit queued the item's re-index

    return run


def make_pdf(lines: list[str], pages: int = 1) -> bytes:
    """A real PDF with Vietnamese text in an embedded font (text extractable, as in agencies' files)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from lms.certificates.pdf import FONT_DIR

    pdfmetrics.registerFont(TTFont("DejaVuSans", os.path.join(FONT_DIR, "DejaVuSans.ttf")))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for page in range(pages):
        pdf.setFont("DejaVuSans", 11)
        for number, line in enumerate(lines):
            pdf.drawString(50, 780 - 16 * number, line if page == 0 else f"{line} ({page + 1})")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
