"""Blobs in a directory: kept as they are, replaced whole, never outside the store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from doorstep.settings import Settings
from doorstep.storage.service import (
    Blob,
    BlobNotFound,
    InvalidBlobKey,
    LocalBlobStore,
    blob_store_from_settings,
    check_key,
    dated_key,
)

JPEG = b"\xff\xd8\xff\xe0" + b"photo bytes"


def test_put_get_exists_delete(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    key = "pod/2026/12/03/0a1b2c.jpg"
    assert not store.exists(key)

    store.put(key, JPEG, "image/jpeg")

    assert store.exists(key)
    assert store.get(key) == Blob(JPEG, "image/jpeg")
    # The file is the photo itself: an operator can open it.
    assert (tmp_path / "blobs" / "pod" / "2026" / "12" / "03" / "0a1b2c.jpg").read_bytes() == JPEG
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(BlobNotFound):
        store.get(key)
    store.delete(key)  # deleting what is gone is no error


def test_a_put_replaces_the_blob_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("sig/1.png", b"\x89PNG\r\n\x1a\nfirst", "image/png")
    store.put("sig/1.png", b"second", "application/octet-stream")

    assert store.get("sig/1.png") == Blob(b"second", "application/octet-stream")
    left = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["1.png", "1.png"]  # the blob and its content type, nothing half written


def test_a_failed_write_keeps_the_old_blob(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("pod/a.jpg", JPEG, "image/jpeg")

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("doorstep.storage.service.os.replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        store.put("pod/a.jpg", b"new", "image/jpeg")

    assert store.get("pod/a.jpg").data == JPEG
    assert not list(tmp_path.rglob(".tmp-*"))


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "pod/../../secret",
        "pod/./a.jpg",
        "/etc/passwd",
        "pod//a.jpg",
        "pod/a.jpg/",
        ".types/pod/a.jpg",
        "pod/.hidden",
        "pod\\..\\a.jpg",
        "pod/a b.jpg",
        "pod/a.jpg\x00.png",
        "",
        "x" * 513,
    ],
)
def test_keys_that_could_leave_the_store_are_refused(tmp_path: Path, key: str) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    with pytest.raises(InvalidBlobKey):
        store.put(key, b"x", "image/jpeg")
    with pytest.raises(InvalidBlobKey):
        store.get(key)
    with pytest.raises(InvalidBlobKey):
        store.exists(key)
    with pytest.raises(InvalidBlobKey):
        store.delete(key)
    assert not (tmp_path / "blobs").exists()


def test_a_content_type_must_be_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a content type"):
        LocalBlobStore(tmp_path).put("a.jpg", JPEG, "image/jpeg\r\nX-Evil: 1")


def test_dated_keys() -> None:
    now = datetime(2026, 12, 3, 23, 59, tzinfo=UTC)
    key = dated_key("pod", now, "image/jpeg")
    assert key.startswith("pod/2026/12/03/")
    assert key.endswith(".jpg")
    assert check_key(key) == key
    assert dated_key("pod", now, "image/heic").endswith(".heic")
    assert dated_key("sig", now, "text/x-unknown").endswith(".bin")
    assert dated_key("pod", now, "image/jpeg") != key


def test_the_default_store_is_the_data_directory(tmp_path: Path) -> None:
    store = blob_store_from_settings(Settings(data_dir=tmp_path, _env_file=None))
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "blobs"
