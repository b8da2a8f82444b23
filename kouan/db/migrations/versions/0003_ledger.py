"""Evidence ledger: entries, head row, sealed segments.

Revision ID: 0003
Revises: 0001 (a branch of its own; 0002 is the review queue)
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("case_id", sa.String(128), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_ledger_entries"),
        sa.UniqueConstraint("entry_hash", name="uq_ledger_entries_entry_hash"),
    )
    op.create_index("ix_ledger_entries_case_id_seq", "ledger_entries", ["case_id", "seq"])
    head = op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_head"),
    )
    # seq -1: the next append gets seq 0 and chains to the genesis hash.
    op.bulk_insert(head, [{"id": 1, "seq": -1, "last_hash": GENESIS_HASH}])
    op.create_table(
        "ledger_segments",
        sa.Column("first_seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("object_key", sa.String(200), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("first_seq", name="pk_ledger_segments"),
    )


def downgrade() -> None:
    op.drop_table("ledger_segments")
    op.drop_table("ledger_head")
    op.drop_index("ix_ledger_entries_case_id_seq", "ledger_entries")
    op.drop_table("ledger_entries")
