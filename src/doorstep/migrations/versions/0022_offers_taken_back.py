"""offers taken back: a driver's offer of a block the operator (a no-show) or the system (its
end passed with nobody checked in) took from them

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 19:30:00

Until now such an offer was marked ``forfeited``, and the driver's record and standing counted
a forfeit ("gave block N back") on top of the no-show, for a block the driver never gave back.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OFFER_STATES = (
    "offered",
    "interested",
    "accepted",
    "declined",
    "expired",
    "withdrawn",
    "forfeited",
)


def _states(states: tuple[str, ...]) -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_offers_offer_status"), type_="check")
        allowed = ", ".join(f"'{state}'" for state in states)
        batch_op.create_check_constraint(op.f("ck_offers_offer_status"), f"status IN ({allowed})")


def upgrade() -> None:
    _states((*OFFER_STATES, "taken_back"))


def downgrade() -> None:
    # Back to what 0021 knew: a taken-back offer reads as forfeited again.
    op.execute("UPDATE offers SET status = 'forfeited' WHERE status = 'taken_back'")
    _states(OFFER_STATES)
