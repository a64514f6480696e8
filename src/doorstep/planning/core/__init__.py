"""The pure core of planning a day (no web, no database): channel choice, waves, blocks.

    from doorstep.planning.core import DayInput, plan_day

    plan = plan_day(day, time_limit_s=20, seed=1, max_iterations=3_000)
    plan.blocks        # Block: start site and time, length sold, stops in order, miles, pay
    plan.manifests     # PartnerManifest: a partner store's batch in staff-route order
    plan.morning_run   # MorningRun: the station's van through the stores with a batch, routed
    plan.carrier       # CarrierShipment: package, service, rate
    plan.unassigned    # UnassignedPackage: package and reason
    plan.decisions     # Decision: chosen channel and cost, runner-up channel and cost
    plan.totals        # Totals: cost, cost per package, share per channel

Every route in a plan has passed ``doorstep.optimize.check``; each package is in exactly one
of a block, a manifest, a carrier shipment or the unassigned list.
"""

from doorstep.planning.core.model import (
    HOUR,
    MILE_M,
    Block,
    BlockStop,
    CarrierService,
    CarrierShipment,
    Channel,
    CostModel,
    DayInput,
    DayPlan,
    Decision,
    DoorReturn,
    DriverSupply,
    MorningRun,
    Package,
    PartnerManifest,
    PartnerStore,
    PlanProgress,
    Promise,
    RunStop,
    ServiceArea,
    Site,
    SiteKind,
    Totals,
    UnassignedPackage,
    UnassignedReason,
    default_carrier_services,
)
from doorstep.planning.core.planner import (
    plan_all_carrier,
    plan_all_own_drivers,
    plan_all_station_routes,
    plan_day,
)
from doorstep.planning.core.routing import PlanningBug

__all__ = [
    "HOUR",
    "MILE_M",
    "Block",
    "BlockStop",
    "CarrierService",
    "CarrierShipment",
    "Channel",
    "CostModel",
    "DayInput",
    "DayPlan",
    "Decision",
    "DoorReturn",
    "DriverSupply",
    "MorningRun",
    "Package",
    "PartnerManifest",
    "PartnerStore",
    "PlanProgress",
    "PlanningBug",
    "Promise",
    "RunStop",
    "ServiceArea",
    "Site",
    "SiteKind",
    "Totals",
    "UnassignedPackage",
    "UnassignedReason",
    "default_carrier_services",
    "plan_all_carrier",
    "plan_all_own_drivers",
    "plan_all_station_routes",
    "plan_day",
]
