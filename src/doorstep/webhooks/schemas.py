"""Shapes of webhook endpoints and their delivery log in the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from doorstep.models import DeliveryStatus

EventTypes = Annotated[
    list[Annotated[str, Field(max_length=100)]],
    Field(min_length=1, max_length=50, description='Event types to receive; ["*"] for all'),
]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422 naming it

    url: Annotated[str, Field(max_length=2000, description="Where events are POSTed")]
    event_types: EventTypes = Field(default_factory=lambda: ["*"])


class EndpointUpdate(BaseModel):
    """Only the fields present are changed."""

    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422 naming it

    url: Annotated[str, Field(max_length=2000)] | None = None
    event_types: EventTypes | None = None
    active: bool | None = Field(
        default=None,
        description="false pauses deliveries; true resumes them, including events missed meanwhile",
    )


class EndpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    event_types: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointOut):
    signing_secret: str = Field(
        description="The Standard Webhooks secret (whsec_…) to verify signatures. Shown once."
    )


class SecretRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422 naming it

    keep_previous_hours: float = Field(
        default=24,
        ge=0,
        le=168,
        description="How long deliveries are signed with the old secret as well (0: not at all, "
        "for a leaked secret)",
    )


class SecretRotated(EndpointCreated):
    previous_secret_expires_at: datetime | None = Field(
        description="Until when the old secret's signature is sent too; null when it is not"
    )


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    attempted_at: datetime
    status_code: int | None = Field(description="null when no HTTP response came back")
    duration_ms: int
    error: str | None
    response_excerpt: str | None


class DeliveryOut(BaseModel):
    id: int
    endpoint_id: int
    webhook_id: str = Field(description="The webhook-id header: the same on every attempt")
    event_type: str
    ordering_key: str | None
    status: DeliveryStatus
    attempts: int = Field(description="Attempts since the delivery was queued or redelivered")
    next_attempt_at: datetime | None = Field(description="null unless status is pending")
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    attempt_log: list[AttemptOut] = Field(description="Every attempt, newest first")


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: int | None = Field(description="Pass as ?before= for the next, older page")
