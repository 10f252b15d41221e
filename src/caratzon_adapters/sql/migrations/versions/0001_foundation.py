"""Foundation: accounts, designer profiles, API tokens, login attempts, privacy
policy versions and acceptances, and the hash-chained audit trail.

Written out by hand (not by importing ``tables.py``) so it stays what it was when
it shipped; ``tests/integration/test_migrations.py`` checks it matches ``tables.py``.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROLES = ("designer", "buyer", "manufacturer", "production_manager", "admin")
STATUSES = ("active", "restricted", "closed")
LANGUAGES = ("en", "zh-Hans", "zh-Hant")
THROTTLE_KEYS = ("account", "address")
INITIAL_POLICY_VERSION = "2026-03-04"  # caratzon_core.privacy.INITIAL_POLICY_VERSION, frozen here


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _auto_id() -> sa.Column[int]:
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("business_name", sa.String(500), nullable=True),
        sa.Column("business_address", sa.String(500), nullable=True),
        _time("age_confirmed_at"),
        _time("created_at"),
        _time("updated_at"),
        _time("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lower_case")),
        sa.CheckConstraint(_one_of("role", ROLES), name=op.f("ck_users_role")),
        sa.CheckConstraint(_one_of("status", STATUSES), name=op.f("ck_users_status")),
        sa.CheckConstraint(_one_of("language", LANGUAGES), name=op.f("ck_users_language")),
    )

    op.create_table(
        "designer_profiles",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("biography", sa.Text(), nullable=False),
        sa.Column("brand_description", sa.Text(), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        _time("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_designer_profiles")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_designer_profiles_user_id_users"), ondelete="CASCADE"
        ),
    )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        _time("created_at"),
        _time("expires_at"),
        _time("revoked_at", nullable=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
    )
    op.create_index(op.f("ix_api_tokens_digest"), "api_tokens", ["digest"], unique=True)
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])

    op.create_table(
        "login_attempts",
        _auto_id(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        _time("at"),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
        sa.CheckConstraint(_one_of("kind", THROTTLE_KEYS), name=op.f("ck_login_attempts_kind")),
    )
    op.create_index(op.f("ix_login_attempts_kind_key_at"), "login_attempts", ["kind", "key", "at"])

    policy_versions = op.create_table(
        "policy_versions",
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("material", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_policy_versions")),
    )

    op.create_table(
        "policy_acceptances",
        _auto_id(),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        _time("accepted_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_acceptances")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_policy_acceptances_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version"], ["policy_versions.version"], name=op.f("fk_policy_acceptances_version_policy_versions")
        ),
    )
    op.create_index(op.f("ix_policy_acceptances_user_id"), "policy_acceptances", ["user_id"])

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        _time("at"),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.CheckConstraint("seq > 0", name=op.f("ck_audit_log_seq_positive")),
    )
    op.create_index(op.f("ix_audit_log_subject_seq"), "audit_log", ["subject", "seq"])
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])

    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.CheckConstraint("seq >= 0", name=op.f("ck_audit_head_seq_not_negative")),
    )

    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        _time("pruned_at"),
        sa.Column("signature", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_checkpoint_single_row")),
    )

    op.bulk_insert(
        policy_versions,
        [{"version": INITIAL_POLICY_VERSION, "effective_date": date(2026, 3, 4), "material": False}],
    )
    # The chain head always exists so appenders have a row to lock; seq 0 means "no entries yet".
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": "", "signature": ""}])


def downgrade() -> None:
    for table in (
        "audit_checkpoint",
        "audit_head",
        "audit_log",
        "policy_acceptances",
        "policy_versions",
        "login_attempts",
        "api_tokens",
        "designer_profiles",
        "users",
    ):
        op.drop_table(table)
