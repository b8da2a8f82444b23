"""Review workstation: reviewed labels (box corrections) and threat image projection trials.

Revision ID: 0004_review_labels
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_review_labels"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = 128


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "review_labels",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(ID), nullable=False),
        sa.Column("image_sha256", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("boxes", sa.JSON, nullable=False),
        sa.Column("image_width", sa.Integer, nullable=False),
        sa.Column("image_height", sa.Integer, nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_review_labels"),
        sa.ForeignKeyConstraint(["item_id"], ["review_items.id"], ondelete="CASCADE",
                                name="fk_review_labels_item_id_review_items"),
        sa.UniqueConstraint("item_id", "image_sha256", "revision",
                            name="uq_review_labels_item_id"),
    )
    op.create_table(
        "tip_trials",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("item_id", sa.String(ID), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("image_sha256", sa.String(64), nullable=False),
        sa.Column("threat_label", sa.String(100), nullable=False),
        sa.Column("box", sa.JSON, nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        _ts("created_at"),
        _ts("resolved_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tip_trials"),
        sa.ForeignKeyConstraint(["item_id"], ["review_items.id"], ondelete="CASCADE",
                                name="fk_tip_trials_item_id_review_items"),
    )
    op.create_index("ix_tip_trials_item_id", "tip_trials", ["item_id", "reviewer", "outcome"])
    op.create_table(
        "tip_settings",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("rate", sa.Float, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_tip_settings"),
    )


def downgrade() -> None:
    op.drop_table("tip_settings")
    op.drop_index("ix_tip_trials_item_id", "tip_trials")
    op.drop_table("tip_trials")
    op.drop_table("review_labels")
