"""The driver API under ``/v1/driver/…``: one router assembled from the parts of the job."""

from __future__ import annotations

from fastapi import APIRouter

from doorstep.drivers.api import accounts, earnings, offers, road

router = APIRouter()
router.include_router(accounts.router)
router.include_router(offers.router)
router.include_router(road.router)
router.include_router(earnings.router)
router.include_router(road.stations)
