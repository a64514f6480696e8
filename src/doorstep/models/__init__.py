"""SQLAlchemy tables, one module per aggregate. Importing this package registers them all."""

from doorstep.models.access import AccessToken, Principal, SignInCode
from doorstep.models.base import Base, utcnow
from doorstep.models.catalog import InventoryLevel, Product
from doorstep.models.checkout import DeliveryPreview
from doorstep.models.drivers import (
    AvailabilityException,
    Block,
    BlockEvent,
    BlockStatus,
    DeliveryProof,
    Driver,
    DriverStatus,
    Offer,
    OfferMode,
    OfferStatus,
    PayAdjustment,
    ProofOutcome,
    Vehicle,
    WeeklyAvailability,
)
from doorstep.models.events import OutboxEvent, WebhookEndpoint
from doorstep.models.jobs import Job, JobStatus
from doorstep.models.merchants import ApiKey, ApiKeyKind, Merchant, MerchantUser
from doorstep.models.network import (
    DEFAULT_PARTNER_RADIUS_M,
    Node,
    NodeKind,
    PartnerStore,
    PartnerStoreClosedDay,
    ServiceArea,
)
from doorstep.models.notifications import (
    Message,
    MessageChannel,
    MessageStatus,
    OptOutSource,
    SmsOptOut,
)
from doorstep.models.operators import AuditEntry, OperatorRole, OperatorUser
from doorstep.models.ops import ExceptionKind, ExceptionStatus, OpsException
from doorstep.models.orders import (
    Channel,
    DeliverySpeed,
    Order,
    OrderLine,
    OrderStatus,
    Package,
    PackageEvent,
)
from doorstep.models.partners import ManifestItem, ManifestStatus, PartnerManifest
from doorstep.models.planning import (
    CarrierShipment,
    CarrierShipmentStatus,
    Plan,
    PlanStatus,
)
from doorstep.models.routes import Route, Stop, StopKind, StopPackage, StopStatus
from doorstep.models.webhooks import DeliveryStatus, WebhookAttempt, WebhookDelivery

__all__ = [
    "DEFAULT_PARTNER_RADIUS_M",
    "AccessToken",
    "ApiKey",
    "ApiKeyKind",
    "AuditEntry",
    "AvailabilityException",
    "Base",
    "Block",
    "BlockEvent",
    "BlockStatus",
    "CarrierShipment",
    "CarrierShipmentStatus",
    "Channel",
    "DeliveryPreview",
    "DeliveryProof",
    "DeliverySpeed",
    "DeliveryStatus",
    "Driver",
    "DriverStatus",
    "ExceptionKind",
    "ExceptionStatus",
    "InventoryLevel",
    "Job",
    "JobStatus",
    "ManifestItem",
    "ManifestStatus",
    "Merchant",
    "MerchantUser",
    "Message",
    "MessageChannel",
    "MessageStatus",
    "Node",
    "NodeKind",
    "Offer",
    "OfferMode",
    "OfferStatus",
    "OperatorRole",
    "OperatorUser",
    "OpsException",
    "OptOutSource",
    "Order",
    "OrderLine",
    "OrderStatus",
    "OutboxEvent",
    "Package",
    "PackageEvent",
    "PartnerManifest",
    "PartnerStore",
    "PartnerStoreClosedDay",
    "PayAdjustment",
    "Plan",
    "PlanStatus",
    "Principal",
    "Product",
    "ProofOutcome",
    "Route",
    "ServiceArea",
    "SignInCode",
    "SmsOptOut",
    "Stop",
    "StopKind",
    "StopPackage",
    "StopStatus",
    "Vehicle",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WeeklyAvailability",
    "utcnow",
]
