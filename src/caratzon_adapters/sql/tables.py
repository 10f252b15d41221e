"""The schema, as SQLAlchemy Core tables. The frozen attrs domain classes are never
mapped onto these: :mod:`caratzon_adapters.sql.mapping` converts rows explicitly.

Migrations are written by hand in ``migrations/versions``; an integration test
compares a migrated database with this metadata so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from caratzon_core.accounts import Language, Role, UserStatus
from caratzon_core.credentials import ThrottleKey

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT.
AutoId = BigInteger().with_variant(Integer(), "sqlite")

# The single row of audit_head / audit_checkpoint.
SINGLETON_ID = 1


class UtcDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that only accepts aware datetimes, stores UTC and
    always returns aware UTC datetimes (SQLite returns naive ones: UTC is re-attached)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
        value = value.astimezone(UTC)
        # SQLite stores the wall-clock text and would silently drop any other offset.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)


def _one_of(column: str, values: list[str]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


ROLE_VALUES = [r.value for r in Role]
STATUS_VALUES = [s.value for s in UserStatus]
LANGUAGE_VALUES = [lang.value for lang in Language]
THROTTLE_KEY_VALUES = [k.value for k in ThrottleKey]

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("language", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("business_name", String(500), nullable=True),
    Column("business_address", String(500), nullable=True),
    Column("age_confirmed_at", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=True),
    UniqueConstraint("email"),
    CheckConstraint("email = lower(email)", name="email_lower_case"),
    CheckConstraint(_one_of("role", ROLE_VALUES), name="role"),
    CheckConstraint(_one_of("status", STATUS_VALUES), name="status"),
    CheckConstraint(_one_of("language", LANGUAGE_VALUES), name="language"),
)

designer_profiles = Table(
    "designer_profiles",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("biography", Text, nullable=False),
    Column("brand_description", Text, nullable=False),
    Column("credentials", Text, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("label", String(100), nullable=False),
    Index(None, "digest", unique=True),
    Index(None, "user_id"),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("key", Text, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("success", Boolean, nullable=False),
    CheckConstraint(_one_of("kind", THROTTLE_KEY_VALUES), name="kind"),
    Index(None, "kind", "key", "at"),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("version", String(32), primary_key=True),
    Column("effective_date", Date, nullable=False),
    Column("material", Boolean, nullable=False),
)

policy_acceptances = Table(
    "policy_acceptances",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("version", String(32), ForeignKey("policy_versions.version"), nullable=False),
    Column("accepted_at", UtcDateTime(), nullable=False),
    Index(None, "user_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(100), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("client_address", String(64), nullable=True),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    CheckConstraint("seq > 0", name="seq_positive"),
    Index(None, "subject", "seq"),
    Index(None, "at"),
)

# One row (id = 1), created by the first migration with seq 0 ("empty chain").
# Appends lock it (FOR UPDATE on PostgreSQL), so even the first appends serialise.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("signature", String(255), nullable=False),
    CheckConstraint(f"id = {SINGLETON_ID}", name="single_row"),
    CheckConstraint("seq >= 0", name="seq_not_negative"),
)

audit_checkpoint = Table(
    "audit_checkpoint",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("pruned_at", UtcDateTime(), nullable=False),
    Column("signature", String(255), nullable=False),
    CheckConstraint(f"id = {SINGLETON_ID}", name="single_row"),
)
