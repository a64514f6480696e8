"""The counter label: a 4×6 inch PDF with addresses, a Code 128 barcode and a QR code.

Drawn with reportlab's own barcode widgets (Code 128 and QR), so printing a label needs no
package beyond reportlab. The canvas is "invariant": no creation time or random document id is
written, so the same label data gives the same bytes (a reprint is byte-identical, and tests can
compare files).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from doorstep.carriers.model import Address, ShipmentRequest

PAGE_WIDTH = 4 * inch  # 288 pt: the thermal printers' standard 4×6 stock
PAGE_HEIGHT = 6 * inch
MARGIN = 12.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
GRAMS_PER_POUND = 453.59237


@dataclass(frozen=True, slots=True)
class LabelContent:
    tracking_number: str
    request: ShipmentRequest
    service_name: str
    printed_at: datetime
    tracking_url: str | None = None
    title: str = "DOORSTEP"
    subtitle: str = "COUNTER HANDOVER"


def render_label(content: LabelContent) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=True, pageCompression=1)
    canvas.setTitle(f"Label {content.tracking_number}")
    canvas.setAuthor("doorstep")
    canvas.setSubject(content.request.reference)

    y = PAGE_HEIGHT - MARGIN
    y = _header(canvas, content, y)
    y = _address_block(canvas, "FROM", content.request.ship_from, y, size=8)
    y = _rule(canvas, y)
    y = _address_block(canvas, "SHIP TO", content.request.ship_to, y, size=13)
    y = _rule(canvas, y)
    y = _details(canvas, content, y)
    y = _rule(canvas, y)
    _barcode(canvas, content.tracking_number, y)
    _footer(canvas, content)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _header(canvas: Canvas, content: LabelContent, y: float) -> float:
    y -= 16
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(MARGIN, y, content.title)
    canvas.setFont("Helvetica-Bold", 10)
    canvas.drawRightString(PAGE_WIDTH - MARGIN, y + 3, content.subtitle)
    return _rule(canvas, y - 4, weight=1.5)


def _address_block(canvas: Canvas, caption: str, address: Address, y: float, size: int) -> float:
    canvas.setFont("Helvetica", 7)
    y -= 9
    canvas.drawString(MARGIN, y, caption)
    lines: list[tuple[str, str]] = [("Helvetica-Bold", address.name)]
    if address.company:
        lines.append(("Helvetica", address.company))
    lines.extend(("Helvetica", line) for line in address.street_lines if line.strip())
    city_line = f"{address.city}, {address.state} {address.postal_code}"
    if address.country != "US":
        city_line += f" {address.country}"
    lines.append(("Helvetica-Bold", city_line))
    if address.phone:
        lines.append(("Helvetica", address.phone))
    for font, text in lines:
        y -= size + 2
        fitted, fitted_size = _fit(text, font, size, CONTENT_WIDTH - 8)
        canvas.setFont(font, fitted_size)
        canvas.drawString(MARGIN + 8, y, fitted)
    return y - 6


def _details(canvas: Canvas, content: LabelContent, y: float) -> float:
    request = content.request
    grams = request.parcel.weight_g
    weight = f"{grams / GRAMS_PER_POUND:.2f} lb ({grams / 1000:.2f} kg)"
    rows = [
        ("SERVICE", content.service_name.replace("_", " ").upper()),
        ("WEIGHT", weight),
        ("DATE", content.printed_at.strftime("%Y-%m-%d")),
        ("REF", request.reference),
    ]
    for caption, value in rows:
        y -= 12
        canvas.setFont("Helvetica", 7)
        canvas.drawString(MARGIN, y, caption)
        fitted, fitted_size = _fit(value, "Helvetica-Bold", 10, CONTENT_WIDTH - 50)
        canvas.setFont("Helvetica-Bold", fitted_size)
        canvas.drawString(MARGIN + 50, y, fitted)
    return y - 6


def _barcode(canvas: Canvas, tracking_number: str, y: float) -> None:
    bar_height = 56.0
    # Narrowest bar of at least 1 pt (~4 dots on a 203 dpi printer) so scanners read it.
    probe = Code128(tracking_number, barWidth=1.0, humanReadable=False)
    bar_width = max(1.0, min(2.0, (CONTENT_WIDTH - 20) / probe.width))
    barcode = Code128(tracking_number, barWidth=bar_width, barHeight=bar_height, quiet=False)
    barcode.humanReadable = False
    x = (PAGE_WIDTH - barcode.width) / 2
    barcode.drawOn(canvas, x, y - bar_height - 6)
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawCentredString(PAGE_WIDTH / 2, y - bar_height - 22, tracking_number)


def _footer(canvas: Canvas, content: LabelContent) -> None:
    qr_size = 72.0
    if content.tracking_url:
        widget = QrCodeWidget(content.tracking_url, barLevel="M")
        x0, y0, x1, y1 = widget.getBounds()
        drawing = Drawing(
            qr_size,
            qr_size,
            transform=[qr_size / (x1 - x0), 0, 0, qr_size / (y1 - y0), 0, 0],
        )
        drawing.add(widget)
        renderPDF.draw(drawing, canvas, PAGE_WIDTH - MARGIN - qr_size, MARGIN)
    canvas.setFont("Helvetica", 7)
    text_width = CONTENT_WIDTH - (qr_size + 6 if content.tracking_url else 0)
    notes = ["Hand over at the counter.", "Scan the barcode to record the handover."]
    if content.tracking_url:
        notes.append(_fit(content.tracking_url, "Helvetica", 7, text_width)[0])
    for index, note in enumerate(reversed(notes)):
        canvas.drawString(MARGIN, MARGIN + 4 + index * 9, note)


def _rule(canvas: Canvas, y: float, weight: float = 0.75) -> float:
    canvas.setLineWidth(weight)
    canvas.line(MARGIN, y, PAGE_WIDTH - MARGIN, y)
    return y


def _fit(text: str, font: str, size: float, width: float, min_size: float = 7) -> tuple[str, float]:
    """Shrink the font down to ``min_size``, then cut the text, so nothing runs off the label."""
    while size > min_size and stringWidth(text, font, size) > width:
        size -= 0.5
    if stringWidth(text, font, size) <= width:
        return text, size
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…", size
