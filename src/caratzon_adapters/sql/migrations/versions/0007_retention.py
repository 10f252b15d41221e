"""Erasure and the retention engine (issue #6, parts 3 and 4): legal holds, the
queue of blobs to delete, retention runs, anonymous daily analytics aggregates,
``users.erased_at`` (the stand-in row of an erased person), ``designs.purged_at``,
an index on ``engagement_events.at`` for taking the oldest events first, and the
indexes erasure and purges look rows up by (:data:`LOOKUP_INDEXES`: a person's
events, money rows and payment instructions, the orders naming a design — each also
checked by a foreign key when a user or a design row is deleted).

Downgrading drops the new tables, columns and indexes and touches nothing else.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

EVENT_KINDS = ("view", "save", "scroll")
RUN_STATUSES = ("running", "completed", "failed")
NEW_TABLES = ("legal_holds", "blob_deletions", "retention_runs", "analytics_daily")
LOOKUP_INDEXES = (
    ("engagement_events", "user_id"),
    ("orders", "design_id"),
    ("ledger_entries", "buyer_id"),
    ("payment_instructions", "party_id"),
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("users", _time("erased_at", nullable=True))
    op.add_column("designs", _time("purged_at", nullable=True))
    op.create_index(op.f("ix_engagement_events_at"), "engagement_events", ["at"])
    for table, column in LOOKUP_INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])

    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(64), nullable=False),
        _time("placed_at"),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("released_by", sa.String(64), nullable=True),
        _time("released_at", nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_legal_holds_user_id_users")),
        sa.UniqueConstraint("user_id", "active", name=op.f("uq_legal_holds_user_id_active")),
        sa.CheckConstraint(
            "(active IS NOT NULL AND released_at IS NULL AND released_by IS NULL) "
            "OR (active IS NULL AND released_at IS NOT NULL AND released_by IS NOT NULL)",
            name=op.f("ck_legal_holds_standing_or_released"),
        ),
    )
    op.create_table(
        "blob_deletions",
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        _time("queued_at"),
        _time("due_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("last_attempt_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_blob_deletions")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_blob_deletions_attempts_not_negative")),
    )
    op.create_index(op.f("ix_blob_deletions_due_at"), "blob_deletions", ["due_at"])
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.String(64), nullable=False),
        _time("as_of"),
        sa.Column("started_by", sa.String(64), nullable=False),
        _time("started_at"),
        _time("finished_at", nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("counts_json", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
        sa.CheckConstraint(_one_of("status", RUN_STATUSES), name=op.f("ck_retention_runs_status")),
    )
    op.create_index(op.f("ix_retention_runs_started_at"), "retention_runs", ["started_at"])
    op.create_table(
        "analytics_daily",
        sa.Column("design_id", sa.String(36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("depth_sum", sa.Integer(), nullable=False),
        sa.Column("depth_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("design_id", "day", "kind", name=op.f("pk_analytics_daily")),
        sa.ForeignKeyConstraint(["design_id"], ["designs.id"], ondelete="CASCADE",
                                name=op.f("fk_analytics_daily_design_id_designs")),
        sa.CheckConstraint(_one_of("kind", EVENT_KINDS), name=op.f("ck_analytics_daily_kind")),
        sa.CheckConstraint("events > 0 AND depth_sum >= 0 AND depth_count >= 0",
                           name=op.f("ck_analytics_daily_counts")),
    )


def downgrade() -> None:
    for table in reversed(NEW_TABLES):
        op.drop_table(table)
    for table, column in reversed(LOOKUP_INDEXES):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
    op.drop_index(op.f("ix_engagement_events_at"), table_name="engagement_events")
    # SQLite (3.35+) drops a column in place; a batch rebuild of `users` would trip the
    # foreign keys of every table pointing at it.
    for table, column in (("designs", "purged_at"), ("users", "erased_at")):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
