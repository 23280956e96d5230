"""The certificate as a PDF: A4 landscape, DejaVu Sans embedded (full Vietnamese coverage),
text left as text so it can be searched and extracted, and a QR code with the verification URL.

Output is deterministic for the same certificate (reportlab's `invariant` mode: no timestamps,
fixed document id), so regenerating after a crash gives the very same file.
"""

import io
import os

import segno
from flask import current_app
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from lms.certificates.badges import verify_url
from lms.certificates.queries import ASSISTED_MARK_VI, completed_with_help
from lms.certificates.serial import display
from lms.core.templating import format_date, format_number

FONT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "static", "fonts")
BRAND = HexColor("#0b5cad")
_fonts_registered = False


def _register_fonts():
    global _fonts_registered
    if not _fonts_registered:
        pdfmetrics.registerFont(TTFont("DejaVuSans", os.path.join(FONT_DIR, "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", os.path.join(FONT_DIR, "DejaVuSans-Bold.ttf")))
        _fonts_registered = True


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


def _fit(pdf, text, font, size, max_width, minimum=12):
    """Shrink long names and titles to fit on one line rather than running off the page."""
    while size > minimum and pdf.stringWidth(text, font, size) > max_width:
        size -= 1
    return size


def _image(path):
    if path and os.path.isfile(path):
        return ImageReader(path)
    return None


def _emblem(pdf, x, y, size):
    """A plain vector mark when the deployment sets no logo."""
    pdf.setFillColor(BRAND)
    pdf.roundRect(x, y, size, size, size / 6, stroke=0, fill=1)
    pdf.setStrokeColor(HexColor("#ffffff"))
    pdf.setLineWidth(size / 10)
    step = size / 32
    path = pdf.beginPath()
    path.moveTo(x + 7 * step, y + 10 * step)
    path.lineTo(x + 7 * step, y + 22 * step)
    path.lineTo(x + 16 * step, y + 17 * step)
    path.lineTo(x + 25 * step, y + 22 * step)
    path.lineTo(x + 25 * step, y + 10 * step)
    pdf.drawPath(path, stroke=1, fill=0)


def render(certificate) -> bytes:
    _register_fonts()
    config = current_app.config
    width, height = landscape(A4)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(width, height), invariant=1, pageCompression=1,
                        initialFontName="DejaVuSans", initialFontSize=11)
    pdf.setTitle(f"Giấy chứng nhận {display(certificate.serial)} — {certificate.holder_name}")
    pdf.setAuthor(certificate.issuing_authority)
    pdf.setSubject(certificate.course_title)

    pdf.setStrokeColor(BRAND)
    pdf.setLineWidth(3)
    pdf.rect(10 * mm, 10 * mm, width - 20 * mm, height - 20 * mm)
    pdf.setLineWidth(0.8)
    pdf.rect(13 * mm, 13 * mm, width - 26 * mm, height - 26 * mm)

    logo = _image(config["LMS_CERTIFICATE_LOGO"])
    if logo is not None:
        pdf.drawImage(logo, 22 * mm, height - 45 * mm, 24 * mm, 24 * mm, preserveAspectRatio=True, mask="auto")
    else:
        _emblem(pdf, 22 * mm, height - 45 * mm, 24 * mm)

    center = width / 2
    pdf.setFillColor(HexColor("#1b1f24"))
    pdf.setFont("DejaVuSans-Bold", 13)
    pdf.drawCentredString(center, height - 28 * mm, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    pdf.setFont("DejaVuSans", 11)
    pdf.drawCentredString(center, height - 34 * mm, "Độc lập - Tự do - Hạnh phúc")
    authority = certificate.issuing_authority
    size = _fit(pdf, authority.upper(), "DejaVuSans-Bold", 12, width - 120 * mm)
    pdf.setFont("DejaVuSans-Bold", size)
    pdf.drawCentredString(center, height - 44 * mm, authority.upper())

    pdf.setFillColor(BRAND)
    pdf.setFont("DejaVuSans-Bold", 30)
    pdf.drawCentredString(center, height - 64 * mm, "GIẤY CHỨNG NHẬN")
    pdf.setFillColor(HexColor("#1b1f24"))
    pdf.setFont("DejaVuSans", 11)
    pdf.drawCentredString(center, height - 71 * mm, "CERTIFICATE OF COMPLETION")

    pdf.setFont("DejaVuSans", 13)
    pdf.drawCentredString(center, height - 84 * mm, "Chứng nhận Ông/Bà")
    size = _fit(pdf, certificate.holder_name, "DejaVuSans-Bold", 26, width - 60 * mm)
    pdf.setFont("DejaVuSans-Bold", size)
    pdf.drawCentredString(center, height - 96 * mm, certificate.holder_name)

    pdf.setFont("DejaVuSans", 13)
    done = "đã hoàn thành chương trình" if certificate.program_id else "đã hoàn thành khóa học"
    pdf.drawCentredString(center, height - 107 * mm, done)
    size = _fit(pdf, certificate.course_title, "DejaVuSans-Bold", 18, width - 60 * mm)
    pdf.setFont("DejaVuSans-Bold", size)
    pdf.drawCentredString(center, height - 117 * mm, certificate.course_title)
    pdf.setFont("DejaVuSans", 12)
    details = f"Thời lượng: {format_number(certificate.hours)} giờ · Ngày cấp: {format_date(certificate.issued_at)}"
    if certificate.expires_at:
        details += f" · Có giá trị đến: {format_date(certificate.expires_at)}"
    pdf.drawCentredString(center, height - 127 * mm, details)
    if completed_with_help(certificate):
        pdf.setFont("DejaVuSans", 11)
        pdf.drawCentredString(center, height - 135 * mm, ASSISTED_MARK_VI)

    # Verification block (left): QR, serial and URL, printed as text too for people without a camera.
    url = verify_url(certificate.serial)
    pdf.drawImage(ImageReader(io.BytesIO(qr_png(url))), 22 * mm, 20 * mm, 38 * mm, 38 * mm)
    pdf.setFont("DejaVuSans", 9)
    pdf.drawString(64 * mm, 50 * mm, "Số hiệu / Serial:")
    pdf.setFont("DejaVuSans-Bold", 12)
    pdf.drawString(64 * mm, 44 * mm, display(certificate.serial))
    pdf.setFont("DejaVuSans", 9)
    pdf.drawString(64 * mm, 37 * mm, "Kiểm tra tính xác thực / Verify at:")
    pdf.drawString(64 * mm, 32 * mm, url)

    # Signature block (right), per deployment.
    right = width - 70 * mm
    pdf.setFont("DejaVuSans", 11)
    pdf.drawCentredString(right, 62 * mm, f"Ngày {format_date(certificate.issued_at)}")
    pdf.setFont("DejaVuSans-Bold", 11)
    pdf.drawCentredString(right, 56 * mm, (config["LMS_CERTIFICATE_SIGNER_TITLE"] or "").upper())
    signature = _image(config["LMS_CERTIFICATE_SIGNATURE_IMAGE"])
    if signature is not None:
        pdf.drawImage(signature, right - 25 * mm, 30 * mm, 50 * mm, 22 * mm, preserveAspectRatio=True, mask="auto")
    if config["LMS_CERTIFICATE_SIGNER_NAME"]:
        pdf.drawCentredString(right, 24 * mm, config["LMS_CERTIFICATE_SIGNER_NAME"])
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
