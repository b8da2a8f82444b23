"""Migration 0004_review_labels matches the models on SQLite and PostgreSQL, and downgrades."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from kouan.db.migrate import alembic_config
from kouan.db.tables import metadata

MINE = {"review_labels", "tip_trials", "tip_settings"}


def _mine(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in MINE


def test_migrated_schema_matches_models(db_engine: Engine) -> None:
    assert set(inspect(db_engine).get_table_names()) >= MINE
    with db_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": _mine})
        assert compare_metadata(ctx, metadata) == []


def test_downgrade_removes_only_the_workstation_tables(db_engine: Engine) -> None:
    cfg = alembic_config(db_engine.url.render_as_string(hide_password=False))
    with db_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004_review_labels@0002")
    tables = set(inspect(db_engine).get_table_names())
    assert not (MINE & tables)
    assert {"review_items", "findings", "ledger_entries"} <= tables
