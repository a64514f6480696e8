"""Many rows changed in one statement on PostgreSQL, where each statement is a round trip.

`rows_of` turns a list of dicts into a table an UPDATE can join to,
``json_to_recordset(:rows) AS name(col type, …)``: one parameter however many rows. Closing a
round writes a fairness key on ten thousand offers; as single-row UPDATEs that took most of a
second, and as a VALUES list SQLAlchemy took another second to compile it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, column, func
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine


def one_statement(session: Session) -> bool:
    """Whether to join to `rows_of` (PostgreSQL) rather than run a statement per row (SQLite,
    in the same process: a statement costs no round trip there)."""
    return session.get_bind().dialect.name == "postgresql"


def rows_of(
    name: str, rows: list[dict[str, Any]], **types: type[TypeEngine[Any]] | TypeEngine[Any]
) -> TableValuedAlias:
    """``rows`` as a table named ``name`` with the columns ``types`` (PostgreSQL)."""
    shape = [column(key, kind) for key, kind in types.items()]
    payload = bindparam(f"{name}_rows", value=rows, type_=JSON)
    return (
        func.json_to_recordset(payload)
        .table_valued(*shape)
        .render_derived(name=name, with_types=True)
    )
