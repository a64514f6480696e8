"""The operator's console under ``/ops/``: one router assembled from its pages."""

from __future__ import annotations

from fastapi import APIRouter

from doorstep.web.ops import exceptions, frame, live_map, numbers

router = APIRouter()
router.include_router(frame.router)
router.include_router(exceptions.router)
router.include_router(numbers.router)
router.include_router(live_map.router)
