"""Photos as the phone sends them: what kind of image the bytes are (by their magic bytes,
never by a file name or a header the client chose) and whether they are small enough."""

from __future__ import annotations

from doorstep.errors import DomainError

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
"""The default of ``DOORSTEP_PHOTO_MAX_BYTES``."""

# HEIF brands of HEVC-coded images and sequences (ISO/IEC 23008-12): what iPhones write.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_GENERIC = frozenset({b"mif1", b"msf1"})


class NotAnImage(DomainError):
    status = 422
    code = "not_an_image"


class PhotoTooLarge(DomainError):
    status = 413
    code = "photo_too_large"


def sniff_image(data: bytes) -> str:
    """The content type of a JPEG, PNG, WebP or HEIC image; raises `NotAnImage` for anything
    else (an empty upload, a PDF, a GIF, an AVIF)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if _is_heic(data):
        return "image/heic"
    raise NotAnImage("the photo must be a JPEG, PNG, WebP or HEIC image", field="photo")


def _is_heic(data: bytes) -> bool:
    # An ISO base media file starts with its `ftyp` box: size (4 bytes), "ftyp", the major
    # brand, a minor version, then compatible brands up to the box's end.
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    size = int.from_bytes(data[:4], "big")
    major = data[8:12]
    if major in _HEIC_BRANDS:
        return True
    if major not in _HEIF_GENERIC or not 16 <= size <= min(len(data), 4096):
        return False
    compatible = {data[i : i + 4] for i in range(16, size - 3, 4)}
    return bool(compatible & _HEIC_BRANDS)


def check_photo_size(size: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Raises `PhotoTooLarge` for more than ``max_bytes`` (call it with a request's
    Content-Length before reading the body, and with the body's length after)."""
    if size > max_bytes:
        raise PhotoTooLarge(
            f"the photo is {size} bytes; at most {max_bytes} are accepted",
            field="photo",
            size=size,
            max_bytes=max_bytes,
        )


def check_photo(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The photo's content type, once it is known to be small enough and an image."""
    check_photo_size(len(data), max_bytes)
    return sniff_image(data)
