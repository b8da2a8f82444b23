"""The migrations build exactly the SQLAlchemy models (SQLite and PostgreSQL), and each
downgrade removes its own tables and nothing else."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from kouan.db.migrate import alembic_config
from kouan.db.tables import metadata

REVIEW_QUEUE = {"findings", "review_items", "review_events", "alarms", "outbox", "alarm_acks",
                "local_deliveries", "local_consumers"}
WORKSTATION = {"review_labels", "tip_trials", "tip_settings"}


def test_migrated_schema_matches_models(db_engine: Engine) -> None:
    assert set(inspect(db_engine).get_table_names()) >= REVIEW_QUEUE | WORKSTATION
    with db_engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        assert compare_metadata(ctx, metadata) == []


# (downgrade target, tables it must remove, tables it must keep)
DOWNGRADES = [
    pytest.param("0002@0001", REVIEW_QUEUE, {"api_tokens", "ledger_entries"}, id="review-queue"),
    pytest.param("0004_review_labels@0002", WORKSTATION,
                 {"review_items", "findings", "ledger_entries"}, id="workstation"),
]


@pytest.mark.parametrize(("target", "removed", "kept"), DOWNGRADES)
def test_downgrade_removes_only_its_tables(db_engine: Engine, target: str, removed: set[str],
                                           kept: set[str]) -> None:
    cfg = alembic_config(db_engine.url.render_as_string(hide_password=False))
    with db_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, target)
    tables = set(inspect(db_engine).get_table_names())
    assert not (removed & tables)
    assert kept <= tables
