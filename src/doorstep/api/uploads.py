"""What the apps' door endpoints share: the photo upload, the blob store and the travel model
of the app, as request dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Request, UploadFile

from doorstep.geo import TravelModel
from doorstep.storage.service import BlobStore

Photo = Annotated[
    UploadFile | None, File(description="JPEG, PNG, WebP or HEIC, at most DOORSTEP_PHOTO_MAX_BYTES")
]


def _blobs(request: Request) -> BlobStore:
    store: BlobStore = request.app.state.blob_store
    return store


Blobs = Annotated[BlobStore, Depends(_blobs)]


def _travel(request: Request) -> TravelModel:
    travel: TravelModel = request.app.state.travel
    return travel


Travel = Annotated[TravelModel, Depends(_travel)]


def read_upload(upload: UploadFile | None, max_bytes: int) -> bytes | None:
    """The file's bytes, at most one past the limit (enough to refuse it as too large)."""
    if upload is None:
        return None
    return upload.file.read(max_bytes + 1)
