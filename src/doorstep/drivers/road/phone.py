"""A delivery or an attempt as the phone sends it: a form with a photo (and a signature), in
units of work of its own.

The files are checked (an image, not too large; a signature is a PNG) and put in the blob store
before the transaction opens: a store may be a network call, and no transaction waits on one.
A request that ends up not using them (refused, or a repeat of an action already accepted)
deletes them again. A wrong PIN's count is committed before its refusal is raised, so the
fifth wrong try locks the PIN even though each request failed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import unit_of_work
from doorstep.drivers import accounts
from doorstep.drivers.road import attempts, deliveries
from doorstep.drivers.road_schemas import AttemptIn, AttemptOut, DeliveryIn, DeliveryOut
from doorstep.errors import DomainError
from doorstep.geo import TravelModel
from doorstep.models import Driver
from doorstep.settings import Settings
from doorstep.storage.images import NotAnImage, PhotoTooLarge, check_photo
from doorstep.storage.service import BlobStore, dated_key

PREFIX = "pod"
T = TypeVar("T")


@dataclass(frozen=True)
class Stored:
    """The keys of what a request put in the blob store."""

    photo: str | None = None
    signature: str | None = None

    def forget(self, store: BlobStore) -> None:
        for key in (self.photo, self.signature):
            if key is not None:
                with contextlib.suppress(Exception):  # an orphan blob is harmless
                    store.delete(key)


def store_files(
    store: BlobStore,
    *,
    photo: bytes | None,
    signature: bytes | None,
    now: datetime,
    max_bytes: int,
) -> Stored:
    """Check both files first (nothing is stored if either is refused), then store them."""
    photo_type = check_photo(photo, max_bytes) if photo is not None else None
    signature_type = None
    if signature is not None:
        try:
            signature_type = check_photo(signature, max_bytes)
        except (NotAnImage, PhotoTooLarge) as refused:
            refused.context["field"] = "signature"
            raise
        if signature_type != "image/png":
            raise NotAnImage("the signature must be a PNG image", field="signature")
    stored = Stored(
        dated_key(PREFIX, now, photo_type) if photo_type else None,
        dated_key(PREFIX, now, signature_type) if signature_type else None,
    )
    try:
        for key, data, content_type in (
            (stored.photo, photo, photo_type),
            (stored.signature, signature, signature_type),
        ):
            if key is not None and data is not None and content_type is not None:
                store.put(key, data, content_type)
    except BaseException:
        stored.forget(store)
        raise
    return stored


def deliver(
    sessions: sessionmaker[Session],
    token: str,
    block_id: int,
    stop_id: int,
    body: DeliveryIn,
    *,
    photo: bytes | None,
    signature: bytes | None,
    now: datetime,
    settings: Settings,
    travel: TravelModel,
    store: BlobStore,
) -> DeliveryOut:
    stored = store_files(
        store, photo=photo, signature=signature, now=now, max_bytes=settings.photo_max_bytes
    )
    result = _as_the_driver(
        sessions,
        token,
        now,
        stored,
        store,
        lambda session, driver: deliveries.deliver(
            session,
            driver,
            block_id,
            stop_id,
            body,
            photo_key=stored.photo,
            signature_key=stored.signature,
            now=now,
            far_m=settings.delivery_far_m,
            secret_key=settings.secret_key,
            travel=travel,
        ),
    )
    if isinstance(result, DomainError):  # a wrong PIN: its count is committed
        stored.forget(store)
        raise result
    if result.replayed:
        stored.forget(store)
    return result


def attempt(
    sessions: sessionmaker[Session],
    token: str,
    block_id: int,
    stop_id: int,
    body: AttemptIn,
    *,
    photo: bytes | None,
    now: datetime,
    settings: Settings,
    travel: TravelModel,
    store: BlobStore,
) -> AttemptOut:
    stored = store_files(
        store, photo=photo, signature=None, now=now, max_bytes=settings.photo_max_bytes
    )
    result = _as_the_driver(
        sessions,
        token,
        now,
        stored,
        store,
        lambda session, driver: attempts.attempt(
            session,
            driver,
            block_id,
            stop_id,
            body,
            photo_key=stored.photo,
            now=now,
            max_attempts=settings.max_delivery_attempts,
            travel=travel,
        ),
    )
    if result.replayed:
        stored.forget(store)
    return result


def _as_the_driver(
    sessions: sessionmaker[Session],
    token: str,
    now: datetime,
    stored: Stored,
    store: BlobStore,
    act: Callable[[Session, Driver], T],
) -> T:
    """``act`` in a unit of work of its own, as the token's driver; the stored files are
    deleted again if it fails (nothing refers to them)."""
    try:
        with unit_of_work(sessions) as session:
            return act(session, accounts.authenticate(session, token, now=now))
    except BaseException:
        stored.forget(store)
        raise
