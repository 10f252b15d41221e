"""Manufacturers, orders, the order ledger, price tables and payment instructions
(issue #5): manufacturer profiles (one per user, with vetting, NDA and partner
score), orders with their brief as canonical JSON, double-entry journal entries
with their lines (UNIQUE idempotency key), price tables by effective date, and the
payment instructions the worker makes (UNIQUE idempotency key).

Money is integer minor units beside its currency; rates and scores are Decimal
text. Downgrading drops the new tables and touches nothing else.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-11
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

VETTINGS = ("pending", "vetted", "suspended")
ORDER_STATUSES = ("draft", "submitted", "routed", "accepted", "in_production", "quality_check", "shipped",
                  "delivered", "completed", "cancelled", "disputed")
ENTRY_KINDS = ("charge", "refund", "payout", "reassign")
INSTRUCTION_KINDS = ("charge", "refund", "transfer")
INSTRUCTION_STATUSES = ("pending", "done", "failed")

NEW_TABLES = (  # in creation order; dropped in reverse
    "manufacturers",
    "orders",
    "ledger_entries",
    "ledger_lines",
    "price_tables",
    "payment_instructions",
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str, *, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    target_table = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{target_table}"), ondelete=ondelete
    )


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


def upgrade() -> None:
    op.create_table(
        "manufacturers",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("processes_json", sa.Text(), nullable=False),
        sa.Column("metals_json", sa.Text(), nullable=False),
        sa.Column("min_quantity", sa.Integer(), nullable=False),
        sa.Column("max_quantity", sa.Integer(), nullable=False),
        sa.Column("weekly_capacity", sa.Integer(), nullable=False),
        sa.Column("current_load", sa.Integer(), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("ships_to_json", sa.Text(), nullable=False),
        sa.Column("labour_piece_minor", sa.BigInteger(), nullable=False),
        sa.Column("labour_stone_minor", sa.BigInteger(), nullable=False),
        sa.Column("labour_currency", sa.String(3), nullable=False),
        sa.Column("vetting", sa.String(16), nullable=False),
        sa.Column("vetted_by", sa.String(64), nullable=True),
        _time("vetted_at", nullable=True),
        sa.Column("nda_signed_on", sa.Date(), nullable=True),
        sa.Column("nda_expires_on", sa.Date(), nullable=True),
        sa.Column("score_jobs", sa.Integer(), nullable=False),
        sa.Column("score_on_time_rate", sa.String(40), nullable=True),
        sa.Column("score_qc_failure_rate", sa.String(40), nullable=True),
        sa.Column("score_responsiveness_hours", sa.String(40), nullable=True),
        sa.Column("score_rating", sa.String(40), nullable=True),
        _time("score_computed_at", nullable=True),
        _time("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_manufacturers")),
        _fk("manufacturers", "user_id", "users.id"),
        sa.CheckConstraint(_one_of("vetting", VETTINGS), name=op.f("ck_manufacturers_vetting")),
        sa.CheckConstraint(
            "min_quantity >= 0 AND max_quantity >= 0 AND weekly_capacity >= 0 AND current_load >= 0 "
            "AND lead_time_days >= 0 AND score_jobs >= 0 AND labour_piece_minor >= 0 AND labour_stone_minor >= 0",
            name=op.f("ck_manufacturers_not_negative"),
        ),
    )
    _index("manufacturers", "vetting")

    op.create_table(
        "orders",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("buyer_id", sa.String(36), nullable=False),
        sa.Column("design_id", sa.String(36), nullable=False),
        sa.Column("designer_id", sa.String(36), nullable=False),
        sa.Column("agreement_id", sa.String(64), nullable=False),
        sa.Column("brief_json", sa.Text(), nullable=False),
        sa.Column("quote_json", sa.Text(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("wanted_by", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        _time("submitted_at", nullable=True),
        sa.Column("manufacturer_id", sa.String(36), nullable=True),
        _time("offered_at", nullable=True),
        _time("offer_expires_at", nullable=True),
        _time("accepted_at", nullable=True),
        sa.Column("declined_by_json", sa.Text(), nullable=False),
        sa.Column("qc_failures", sa.Integer(), nullable=False),
        _time("qc_passed_at", nullable=True),
        sa.Column("carrier", sa.String(100), nullable=True),
        sa.Column("tracking", sa.String(100), nullable=True),
        _time("shipped_at", nullable=True),
        _time("delivered_at", nullable=True),
        _time("closed_at", nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        _fk("orders", "buyer_id", "users.id"),
        _fk("orders", "design_id", "designs.id"),
        _fk("orders", "designer_id", "users.id"),
        _fk("orders", "agreement_id", "agreements.id"),
        _fk("orders", "manufacturer_id", "users.id"),
        sa.CheckConstraint(_one_of("status", ORDER_STATUSES), name=op.f("ck_orders_status")),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_orders_quantity_positive")),
        sa.CheckConstraint("qc_failures >= 0", name=op.f("ck_orders_qc_failures_not_negative")),
        sa.CheckConstraint(
            "(carrier IS NULL AND tracking IS NULL AND shipped_at IS NULL) "
            "OR (carrier IS NOT NULL AND tracking IS NOT NULL AND shipped_at IS NOT NULL)",
            name=op.f("ck_orders_shipment_complete"),
        ),
    )
    _index("orders", "status", "submitted_at")
    _index("orders", "status", "offer_expires_at")
    _index("orders", "agreement_id", "status")
    _index("orders", "manufacturer_id", "status")
    _index("orders", "buyer_id", "updated_at")
    _index("orders", "designer_id", "updated_at")
    _index("orders", "accepted_at")

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("buyer_id", sa.String(36), nullable=True),
        _time("at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_entries_idempotency_key")),
        _fk("ledger_entries", "order_id", "orders.id"),
        _fk("ledger_entries", "buyer_id", "users.id"),
        sa.CheckConstraint(_one_of("kind", ENTRY_KINDS), name=op.f("ck_ledger_entries_kind")),
    )
    _index("ledger_entries", "order_id", "at")

    op.create_table(
        "ledger_lines",
        sa.Column("entry_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("account", sa.String(255), nullable=False),
        sa.Column("debit", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", "position", name=op.f("pk_ledger_lines")),
        _fk("ledger_lines", "entry_id", "ledger_entries.id"),
        sa.CheckConstraint("debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0)",
                           name=op.f("ck_ledger_lines_one_side")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_ledger_lines_position_not_negative")),
    )
    _index("ledger_lines", "account")

    op.create_table(
        "price_tables",
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("metal_per_gram_json", sa.Text(), nullable=False),
        sa.Column("stone_per_carat_json", sa.Text(), nullable=False),
        sa.Column("setting_per_stone", sa.BigInteger(), nullable=False),
        sa.Column("labour_per_piece", sa.BigInteger(), nullable=False),
        sa.Column("casting_loss", sa.String(40), nullable=False),
        sa.Column("platform_fee_rate", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("effective", name=op.f("pk_price_tables")),
        sa.CheckConstraint("setting_per_stone >= 0 AND labour_per_piece >= 0",
                           name=op.f("ck_price_tables_not_negative")),
    )

    op.create_table(
        "payment_instructions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("party_id", sa.String(36), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        _time("created_at"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at", nullable=True),
        _time("claimed_until", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_instructions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payment_instructions_idempotency_key")),
        _fk("payment_instructions", "order_id", "orders.id"),
        _fk("payment_instructions", "party_id", "users.id"),
        sa.CheckConstraint(_one_of("kind", INSTRUCTION_KINDS), name=op.f("ck_payment_instructions_kind")),
        sa.CheckConstraint(_one_of("status", INSTRUCTION_STATUSES), name=op.f("ck_payment_instructions_status")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_payment_instructions_attempts_not_negative")),
    )
    _index("payment_instructions", "status", "next_attempt_at")
    _index("payment_instructions", "order_id", "created_at")


def downgrade() -> None:
    for table in reversed(NEW_TABLES):
        op.drop_table(table)
