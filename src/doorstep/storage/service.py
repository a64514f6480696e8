"""Blobs: proof-of-delivery photos and signatures, kept by key in a directory or an
S3-compatible bucket.

A caller makes the key (`dated_key` makes the usual one, ``pod/2026/12/03/<uuid>.jpg``) and
stores it with its row; the store only keeps bytes and their content type. Keys are relative
paths of plain segments (letters, digits, ``.``, ``_``, ``-``, each segment starting with a
letter or digit), so no key can climb out of the store (``..``), be absolute, or name a
hidden file; anything else raises `InvalidBlobKey`.

`blob_store_from_settings` gives `LocalBlobStore` under ``<DOORSTEP_DATA_DIR>/blobs`` by
default, `doorstep.storage.s3.S3BlobStore` when ``DOORSTEP_BLOB_S3_BUCKET`` is set. The stores
block (file and network I/O): call them outside a transaction, from a thread in async code.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from doorstep.errors import NotFound
from doorstep.settings import Settings

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
MAX_KEY_LENGTH = 512
DEFAULT_CONTENT_TYPE = "application/octet-stream"
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$")

EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
    "application/octet-stream": "bin",
}


class BlobNotFound(NotFound):
    code = "blob_not_found"


class InvalidBlobKey(ValueError):
    """A key that is not a plain relative path (a caller's bug, never a user's input)."""


@dataclass(frozen=True, slots=True)
class Blob:
    data: bytes
    content_type: str


class BlobStore(Protocol):
    """Bytes by key. ``put`` replaces what the key held; ``delete`` of a missing key is no
    error; ``get`` raises `BlobNotFound`."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> Blob: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


def check_key(key: str) -> str:
    """``key`` if it is a plain relative path; raises `InvalidBlobKey` otherwise."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY.match(key):
        raise InvalidBlobKey(f"not a blob key: {str(key)[:100]!r}")
    return key


def check_content_type(content_type: str) -> str:
    if not _CONTENT_TYPE.match(content_type):
        raise ValueError(f"not a content type: {content_type[:100]!r}")
    return content_type


def dated_key(prefix: str, now: datetime, content_type: str) -> str:
    """A new key under ``prefix`` for the day of ``now``: ``pod/2026/12/03/<uuid>.jpg``."""
    extension = EXTENSIONS.get(content_type, "bin")
    return check_key(f"{prefix}/{now:%Y/%m/%d}/{uuid.uuid4().hex}.{extension}")


class LocalBlobStore:
    """Blobs as files under ``root``, one per key, as they are (a photo opens as a photo).

    The content type sits beside, under ``root/.types/`` (a key never starts with a dot, so
    no key can reach it). A write goes to a temporary file in the same directory that is
    then renamed over the key: a reader sees the old blob or the new one, never half of one.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, key: str, data: bytes, content_type: str) -> None:
        check_content_type(content_type)
        _write_atomically(self._type_path(key), content_type.encode())
        _write_atomically(self._path(key), data)

    def get(self, key: str) -> Blob:
        try:
            data = self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as error:
            raise BlobNotFound(f"no blob {key}", key=key) from error
        try:
            content_type = self._type_path(key).read_text().strip() or DEFAULT_CONTENT_TYPE
        except OSError:
            content_type = DEFAULT_CONTENT_TYPE
        return Blob(data, content_type)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
        self._type_path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _type_path(self, key: str) -> Path:
        return self.root.joinpath(".types", *check_key(key).split("/"))


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def blob_store_from_settings(settings: Settings) -> BlobStore:
    """The store the settings name: an S3-compatible bucket with ``DOORSTEP_BLOB_S3_BUCKET``,
    else the directory ``<DOORSTEP_DATA_DIR>/blobs``."""
    if settings.blob_s3_bucket:
        from doorstep.storage.s3 import S3BlobStore  # boto3 loads only when it is used

        return S3BlobStore.from_settings(settings)
    return LocalBlobStore(settings.data_dir / "blobs")
