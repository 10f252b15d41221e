"""Data-subject requests and verification codes (issue #6, parts 1 and 7): one row per
request with its type, status, origin, due date (received + 30 days), timeline
(``notes_json``) and outcome; UNIQUE(user_id, open_type), where ``open_type`` is the
type while the request is open and NULL once closed, so a person never holds two
open requests of one type. Verification codes keep only a keyed digest of the
code, with its expiry and tries.

Downgrading drops the two tables and touches nothing else.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-18
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

REQUEST_TYPES = ("access", "rectification", "erasure", "restriction", "portability", "objection",
                 "withdraw_consent")
REQUEST_STATUSES = ("received", "in_progress", "completed", "refused")
ORIGINS = ("self", "verified", "minor_report")
OPEN = ("received", "in_progress")
CLOSED = ("completed", "refused")

NEW_TABLES = ("data_requests", "verification_codes")  # in creation order; dropped in reverse


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


def upgrade() -> None:
    op.create_table(
        "data_requests",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("request_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        _time("received_at"),
        _time("due_at"),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("notes_json", sa.Text(), nullable=False),
        sa.Column("merged", sa.Integer(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("handled_by", sa.String(64), nullable=True),
        _time("taken_at", nullable=True),
        _time("closed_at", nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("open_type", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_requests")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_data_requests_user_id_users")),
        sa.UniqueConstraint("user_id", "open_type", name=op.f("uq_data_requests_user_id_open_type")),
        sa.CheckConstraint(_one_of("request_type", REQUEST_TYPES), name=op.f("ck_data_requests_request_type")),
        sa.CheckConstraint(_one_of("status", REQUEST_STATUSES), name=op.f("ck_data_requests_status")),
        sa.CheckConstraint(_one_of("origin", ORIGINS), name=op.f("ck_data_requests_origin")),
        sa.CheckConstraint(
            f"({_one_of('status', OPEN)} AND open_type = request_type AND closed_at IS NULL AND outcome IS NULL) "
            f"OR ({_one_of('status', CLOSED)} AND open_type IS NULL AND closed_at IS NOT NULL "
            "AND outcome IS NOT NULL)",
            name=op.f("ck_data_requests_open_or_closed"),
        ),
        sa.CheckConstraint("due_at > received_at", name=op.f("ck_data_requests_due_after_receipt")),
        sa.CheckConstraint("merged >= 0", name=op.f("ck_data_requests_merged_not_negative")),
    )
    _index("data_requests", "status", "due_at")
    _index("data_requests", "user_id", "received_at")

    op.create_table(
        "verification_codes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(128), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        _time("created_at"),
        _time("expires_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("used_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_codes")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_verification_codes_user_id_users")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_verification_codes_attempts_not_negative")),
        sa.CheckConstraint("expires_at > created_at", name=op.f("ck_verification_codes_expires_after_creation")),
    )
    _index("verification_codes", "user_id", "purpose", "created_at")
    _index("verification_codes", "user_id", "created_at")


def downgrade() -> None:
    for table in reversed(NEW_TABLES):
        op.drop_table(table)
