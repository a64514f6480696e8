"""the outbox wakes the webhook worker

On PostgreSQL every statement that inserts outbox events also issues
``NOTIFY doorstep_outbox`` (a statement-level trigger): the notification is part of the
writing transaction, sent when it commits and never if it rolls back, and many events of one
transaction make one notification. The worker listens and queues the new events at once
instead of waiting for its next poll. SQLite has no NOTIFY: the worker polls there.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION doorstep_outbox_notify() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('doorstep_outbox', '');
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        """
        CREATE TRIGGER outbox_events_notify
        AFTER INSERT ON outbox_events
        FOR EACH STATEMENT EXECUTE FUNCTION doorstep_outbox_notify()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_events_notify ON outbox_events")
    op.execute("DROP FUNCTION IF EXISTS doorstep_outbox_notify()")
