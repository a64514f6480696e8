"""Each merchant's choice of the milestone messages its shoppers receive."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from doorstep.models import MessageChannel
from doorstep.notifications.milestones import Milestone


class NotificationSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    milestones: dict[Milestone, list[MessageChannel]] = Field(
        description="The channels per milestone (an empty list: not sent); milestones left "
        "out keep their setting"
    )


class NotificationSettingsOut(BaseModel):
    milestones: dict[Milestone, list[MessageChannel]]
