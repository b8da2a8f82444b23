"""Review queue and alarm path: findings, review items/events, alarms, outbox, acks, local bus.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = 128


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("case_id", sa.String(ID), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("severity_rank", sa.Integer, nullable=False),
        sa.Column("port_id", sa.String(ID), nullable=False),
        sa.Column("lane_id", sa.String(ID), nullable=True),
        sa.Column("modality", sa.String(40), nullable=True),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("detections", sa.JSON, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("model_name", sa.String(128), nullable=True),
        sa.Column("model_version", sa.String(32), nullable=True),
        _ts("created_at"),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_findings"),
    )
    op.create_index("ix_findings_case_id", "findings", ["case_id"])
    op.create_index("ix_findings_created_at", "findings", ["created_at"])

    op.create_table(
        "review_items",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("finding_id", sa.String(ID), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity_rank", sa.Integer, nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        _ts("claimed_at", nullable=True),
        _ts("lease_expires_at", nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        _ts("decided_at", nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("reason_code", sa.String(64), nullable=True),
        sa.Column("notes", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_review_items"),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], ondelete="RESTRICT",
                                name="fk_review_items_finding_id_findings"),
        sa.UniqueConstraint("finding_id", name="uq_review_items_finding_id"),
    )
    op.create_index("ix_review_items_status", "review_items", ["status"])
    op.create_index("ix_review_items_queue_order", "review_items",
                    ["status", "severity_rank", "created_at"])

    op.create_table(
        "review_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(ID), nullable=False),
        _ts("at"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_review_events"),
        sa.ForeignKeyConstraint(["item_id"], ["review_items.id"], ondelete="CASCADE",
                                name="fk_review_events_item_id_review_items"),
    )
    op.create_index("ix_review_events_item_id", "review_events", ["item_id"])

    op.create_table(
        "alarms",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("finding_id", sa.String(ID), nullable=False),
        sa.Column("case_id", sa.String(ID), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        _ts("created_at"),
        _ts("published_at", nullable=True),
        sa.Column("stream_seq", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alarms"),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], ondelete="RESTRICT",
                                name="fk_alarms_finding_id_findings"),
    )
    op.create_index("ix_alarms_finding_id", "alarms", ["finding_id"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("alarm_id", sa.String(ID), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        _ts("created_at"),
        sa.Column("attempts", sa.Integer, nullable=False),
        _ts("next_attempt_at"),
        _ts("published_at", nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarms.id"], ondelete="RESTRICT",
                                name="fk_outbox_alarm_id_alarms"),
        sa.UniqueConstraint("alarm_id", name="uq_outbox_alarm_id"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["published_at", "next_attempt_at"])

    op.create_table(
        "alarm_acks",
        sa.Column("alarm_id", sa.String(ID), nullable=False),
        sa.Column("consumer", sa.String(64), nullable=False),
        _ts("received_at"),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("deliveries", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("alarm_id", "consumer", name="pk_alarm_acks"),
    )

    op.create_table(
        "local_deliveries",
        sa.Column("seq", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("consumer", sa.String(64), nullable=False),
        sa.Column("msg_id", sa.String(ID), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        _ts("created_at"),
        _ts("visible_at"),
        sa.Column("deliveries", sa.Integer, nullable=False),
        _ts("acked_at", nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_local_deliveries"),
        sa.UniqueConstraint("consumer", "msg_id", name="uq_local_deliveries_consumer"),
    )
    op.create_index("ix_local_deliveries_pending", "local_deliveries",
                    ["consumer", "acked_at", "visible_at"])

    op.create_table(
        "local_consumers",
        sa.Column("name", sa.String(64), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("name", name="pk_local_consumers"),
    )


def downgrade() -> None:
    op.drop_table("local_consumers")
    op.drop_table("local_deliveries")
    op.drop_table("alarm_acks")
    op.drop_table("outbox")
    op.drop_table("alarms")
    op.drop_table("review_events")
    op.drop_table("review_items")
    op.drop_table("findings")
