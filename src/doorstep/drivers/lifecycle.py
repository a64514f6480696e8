"""The block state machine: every state a block can be in and every move between them.

Pure (no database): `drivers.blocks.transition_block` asks it before it writes the move and
its event. The happy path::

    open ─► accepted ─► in_progress ─► completed
     ▲  │      │              └─► returning ─► completed
     │  │      └─► open (forfeited before the start)
     │  └─► cancelled (re-planned before anyone took it)
"""

from __future__ import annotations

from doorstep.errors import DomainError
from doorstep.models import BlockStatus

B = BlockStatus

TRANSITIONS: dict[BlockStatus, frozenset[BlockStatus]] = {
    B.OPEN: frozenset({B.ACCEPTED, B.CANCELLED}),
    # A forfeit (or an operator taking the block back) puts it on offer again.
    B.ACCEPTED: frozenset({B.OPEN, B.IN_PROGRESS}),
    # Every stop done: complete, or waiting for undelivered parcels to come back.
    B.IN_PROGRESS: frozenset({B.RETURNING, B.COMPLETED}),
    B.RETURNING: frozenset({B.COMPLETED}),
    B.COMPLETED: frozenset(),
    B.CANCELLED: frozenset(),
}


class IllegalBlockTransition(DomainError):
    status = 409
    code = "illegal_block_transition"


def ensure_block_transition(current: BlockStatus, target: BlockStatus) -> None:
    """Raise `IllegalBlockTransition` unless a block in ``current`` may move to ``target``."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final state)"
        raise IllegalBlockTransition(
            f"a block cannot go from {current} to {target}; allowed from {current}: {allowed}",
            current=current.value,
            target=target.value,
        )
