"""The operator's console under ``/ops/``: one router assembled from its pages."""

from __future__ import annotations

from fastapi import APIRouter

from doorstep.web.ops import exceptions, frame, live_map, network, numbers, planning

router = APIRouter()
# The planning form's /ops/plans/new before the frame's /ops/plans/{plan_id}.
router.include_router(planning.router)
router.include_router(frame.router)
router.include_router(exceptions.router)
router.include_router(numbers.router)
router.include_router(live_map.router)
router.include_router(network.router)
