from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from doorstep.carriers.label_pdf import PAGE_HEIGHT, PAGE_WIDTH, LabelContent, render_label
from doorstep.carriers.model import Address, ServiceLevel, ShipmentRequest
from tests.carriers.barcode_reader import find_code128

TRACKING = "DS123456789012347"
URL = "https://doorstep.example/track/DS123456789012347"


@pytest.fixture
def content(shipment: ShipmentRequest, fixed_now: datetime) -> LabelContent:
    return LabelContent(
        tracking_number=TRACKING,
        request=replace(shipment, service_level=ServiceLevel.SAME_DAY),
        service_name="same_day",
        printed_at=fixed_now,
        tracking_url=URL,
    )


def _text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_the_label_is_one_4x6_inch_pdf_page(content: LabelContent) -> None:
    pdf = render_label(content)
    reader = PdfReader(io.BytesIO(pdf))
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == (PAGE_WIDTH, PAGE_HEIGHT) == (288, 432)
    assert reader.metadata is not None
    assert reader.metadata.title == f"Label {TRACKING}"


def test_the_label_shows_addresses_reference_weight_service_date(content: LabelContent) -> None:
    text = _text(render_label(content))
    for expected in (
        TRACKING,
        "PKG-7K2M9QX4",
        "SHIP TO",
        "Maria Gonzalez",
        "1420 N Alma School Rd",
        "Apt 12B",
        "Chandler, AZ 85224",
        "FROM",
        "Chandler Station",
        "2150 W Pecos Rd",
        "2.76 lb (1.25 kg)",
        "SAME DAY",
        "2026-11-24",
        URL,
    ):
        assert expected in text, expected


def test_a_reprint_is_byte_identical(content: LabelContent) -> None:
    assert render_label(content) == render_label(content)


def test_long_lines_are_shrunk_or_cut_not_run_off_the_page(content: LabelContent) -> None:
    long_name = "Bartholomew Maximilian Fitzgerald-Worthington the Third of Chandler Heights"
    far = Address(
        name=long_name,
        street_lines=("1 Main St",),
        city="Chandler",
        state="AZ",
        postal_code="85224",
        country="MX",
    )
    text = _text(render_label(replace(content, request=replace(content.request, ship_to=far))))
    assert "Bartholomew" in text
    assert "Chandler, AZ 85224 MX" in text


def test_without_a_tracking_url_there_is_no_qr_code(content: LabelContent) -> None:
    text = _text(render_label(replace(content, tracking_url=None)))
    assert TRACKING in text
    assert "https://" not in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (pdftoppm)")
def test_the_barcode_scans_back_to_the_tracking_number(
    content: LabelContent, tmp_path: Path
) -> None:
    pdf_path = tmp_path / "label.pdf"
    pdf_path.write_bytes(render_label(content))
    subprocess.run(
        ["pdftoppm", "-gray", "-r", "300", "-singlefile", pdf_path, tmp_path / "label"],
        check=True,
        timeout=60,
    )
    assert find_code128(tmp_path / "label.pgm") == {TRACKING}
