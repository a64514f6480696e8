"""Photos are what their bytes say, not what their name says, and not too large."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from doorstep.storage.images import (
    DEFAULT_MAX_BYTES,
    NotAnImage,
    PhotoTooLarge,
    check_photo,
    check_photo_size,
    sniff_image,
)


def encoded(format_name: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (180, 83, 9)).save(buffer, format=format_name)
    return buffer.getvalue()


def heif(major: bytes, *compatible: bytes) -> bytes:
    brands = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    box = (8 + len(brands)).to_bytes(4, "big") + b"ftyp" + brands
    return box + b"\x00\x00\x00\x08meta"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (encoded("JPEG"), "image/jpeg"),
        (encoded("PNG"), "image/png"),
        (encoded("WEBP"), "image/webp"),
        (heif(b"heic", b"mif1", b"heic"), "image/heic"),  # what an iPhone writes
        (heif(b"mif1", b"mif1", b"heic"), "image/heic"),
        (heif(b"heix", b"mif1"), "image/heic"),
    ],
)
def test_images_by_their_magic_bytes(data: bytes, content_type: str) -> None:
    assert sniff_image(data) == content_type
    assert check_photo(data) == content_type


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"%PDF-1.7\n",
        encoded("GIF"),
        encoded("BMP"),
        heif(b"avif", b"mif1", b"avif"),  # AVIF is HEIF too, but not HEIC
        heif(b"mif1", b"mif1", b"avif"),
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"\xff\xd8",  # a JPEG cut short before its first marker
    ],
)
def test_anything_else_is_not_an_image(data: bytes) -> None:
    with pytest.raises(NotAnImage) as raised:
        sniff_image(data)
    error = raised.value
    assert (error.status, error.code, error.context) == (422, "not_an_image", {"field": "photo"})


def test_size_limit() -> None:
    check_photo_size(DEFAULT_MAX_BYTES)
    with pytest.raises(PhotoTooLarge) as raised:
        check_photo_size(DEFAULT_MAX_BYTES + 1)
    assert (raised.value.status, raised.value.code) == (413, "photo_too_large")
    assert raised.value.context["max_bytes"] == 8 * 1024 * 1024
    with pytest.raises(PhotoTooLarge):
        check_photo(encoded("JPEG"), max_bytes=100)
