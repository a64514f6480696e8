"""The migration history and the models describe the same schema, on every database."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, Enum, inspect

from doorstep.db import create_db_engine
from doorstep.migrate import current_revision, downgrade, head_revision, upgrade
from doorstep.models import Base


def test_migrated_database_matches_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_database_is_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_upgrade_from_empty_down_to_empty_and_up_again(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        # Every migration also knows how to undo itself.
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert inspect(engine).get_table_names() == ["alembic_version"]
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_every_enum_check_constraint_allows_every_value_of_its_model(engine: Engine) -> None:
    """compare_metadata does not read CHECK constraints: a value added to a model's enum
    without a migration would only fail when a row first takes it."""
    inspector = inspect(engine)
    missing = []
    for table in Base.metadata.sorted_tables:
        checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)}
        for column in table.columns:
            kind = column.type
            if not isinstance(kind, Enum) or not kind.create_constraint or kind.name is None:
                continue
            sql = checks.get(f"ck_{table.name}_{kind.name}", "")
            missing += [
                f"{table.name}.{column.name}: {value}"
                for value in kind.enums
                if f"'{value}'" not in sql
            ]
    assert missing == []
