"""The schema, as SQLAlchemy Core tables. The frozen attrs domain classes are never
mapped onto these: :mod:`caratzon_adapters.sql.mapping` converts rows explicitly.

Migrations are written by hand in ``migrations/versions``; an integration test
compares a migrated database with this metadata so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
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
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from caratzon_core.accounts import Language, Role, UserStatus
from caratzon_core.agreements import AgreementStatus
from caratzon_core.consent import EventKind
from caratzon_core.credentials import ThrottleKey
from caratzon_core.designs import AssetKind, Category, DesignStatus, Visibility
from caratzon_core.ledger import EntryKind
from caratzon_core.licence_options import OptionStatus
from caratzon_core.manufacturers import Vetting
from caratzon_core.messaging import MessageKind, SupportTopic, ThreadKind
from caratzon_core.negotiation import NegotiationStatus, Party
from caratzon_core.orders import OrderStatus
from caratzon_core.outbox import OutboxStatus
from caratzon_core.payments import InstructionKind, InstructionStatus
from caratzon_core.requests import Origin, RequestStatus, RequestType

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
    Column("ai_objection_at", UtcDateTime(), nullable=True),  # migration 0003
    # migration 0007: set on the stand-in row that replaces an erased person
    Column("erased_at", UtcDateTime(), nullable=True),
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
    Column("text", Text, nullable=True),
    Column("published_at", UtcDateTime(), nullable=True),
    Column("published_by", String(255), nullable=True),
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


# -- designs and the catalog (issue #3) -----------------------------------------------


class ExactNumeric(TypeDecorator[Decimal]):
    """``NUMERIC`` that hands back the Decimal it was given, trailing zeros aside.

    PostgreSQL stores an unconstrained NUMERIC exactly. SQLite has no decimal type:
    SQLAlchemy passes the value through a float and pads it to ten places; here the
    float's shortest repr is read back instead, so ``Decimal("17.32")`` returns as
    ``Decimal("17.32")`` rather than ``Decimal("17.3200000000")`` (equal either way).
    On SQLite a figure beyond 15 significant digits or 10 decimal places loses
    precision; millimetre dimensions have far fewer.
    """

    impl = Numeric()
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        result = value if isinstance(value, Decimal) else Decimal(str(value))
        if dialect.name == "sqlite":
            result = Decimal(str(float(result)))  # undo the padding to ten places
            if result == result.to_integral_value():
                result = result.quantize(Decimal(1))
        return result


CATEGORY_VALUES = [c.value for c in Category]
DESIGN_STATUS_VALUES = [s.value for s in DesignStatus]
ASSET_KIND_VALUES = [k.value for k in AssetKind]
VISIBILITY_VALUES = [v.value for v in Visibility]
EVENT_KIND_VALUES = [k.value for k in EventKind]

designs = Table(
    "designs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("designer_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(16), nullable=False),
    Column("metals", JSON, nullable=False),
    Column("gemstones", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("width_mm", ExactNumeric(), nullable=True),
    Column("height_mm", ExactNumeric(), nullable=True),
    Column("depth_mm", ExactNumeric(), nullable=True),
    Column("price_minor", BigInteger, nullable=True),
    Column("price_currency", String(3), nullable=True),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("published_at", UtcDateTime(), nullable=True),
    Column("withdrawn_at", UtcDateTime(), nullable=True),
    Column("removed_at", UtcDateTime(), nullable=True),
    # migration 0007: when the retention engine deleted the design's files and content
    Column("purged_at", UtcDateTime(), nullable=True),
    CheckConstraint(_one_of("category", CATEGORY_VALUES), name="category"),
    CheckConstraint(_one_of("status", DESIGN_STATUS_VALUES), name="status"),
    CheckConstraint(
        "(price_minor IS NULL AND price_currency IS NULL) OR (price_minor IS NOT NULL AND price_currency IS NOT NULL)",
        name="price_complete",
    ),
    Index(None, "designer_id", "created_at"),
)

# Normalised tags, for the catalog's "all these tags" filter.
design_tags = Table(
    "design_tags",
    metadata,
    Column("design_id", String(36), ForeignKey("designs.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(64), primary_key=True),
    Index(None, "tag", "design_id"),
)

# One row per design (any status), written with the design (0, 0) and bumped by every
# view and save event in the event's own transaction: the counters survive a design's
# withdrawal and come back with it. ``catalog_entries`` carries a copy for sorting.
design_stats = Table(
    "design_stats",
    metadata,
    Column("design_id", String(36), ForeignKey("designs.id", ondelete="CASCADE"), primary_key=True),
    Column("views", BigInteger, nullable=False),
    Column("saves", BigInteger, nullable=False),
    CheckConstraint("views >= 0 AND saves >= 0", name="not_negative"),
    Index(None, "views", "design_id"),
    Index(None, "saves", "design_id"),
)

# Bit positions of metals and gemstone types in ``catalog_entries``' masks. Frozen
# here, not derived from the core's lists, so reordering those can never reinterpret
# stored masks: new codes take the next free bit (a test checks every code has one).
METAL_BITS: dict[str, int] = {
    code: bit
    for bit, code in enumerate(
        ["18k_yellow", "18k_white", "18k_rose", "14k_yellow", "14k_white", "14k_rose", "platinum_950",
         "sterling_silver"]
    )
}
GEMSTONE_BITS: dict[str, int] = {
    code: bit
    for bit, code in enumerate(
        ["diamond", "sapphire", "ruby", "emerald", "pearl", "spinel", "tourmaline", "topaz", "aquamarine",
         "amethyst", "garnet", "opal", "tanzanite", "morganite", "peridot", "citrine", "jade", "moissanite", "other"]
    )
}

# The catalog's read model: one narrow row per *published* design, written by the
# repositories in the same transaction as the design (and its view/save counters).
# Everything a search filters, sorts and counts is in this one row, so a search never
# joins or reads the wide ``designs`` rows until it has its page of ids: metals and
# gemstone types as bit masks (``METAL_BITS``, ``GEMSTONE_BITS``), the sort keys, and
# ``search_text`` (title, description, tags and the designer's name).
#
# Full-text search on ``search_text`` differs by dialect and is created by migration
# 0002, not declared here: SQLite gets the FTS5 table ``catalog_fts`` (external
# content = this table, rowid = ``seq``, kept in step by triggers); PostgreSQL a stored
# generated ``search_vector`` (``strip(to_tsvector('english', search_text))``) with a
# GIN index. The migration test knows to expect exactly these objects.
catalog_entries = Table(
    "catalog_entries",
    metadata,
    Column("seq", AutoId, primary_key=True, autoincrement=True),  # SQLite: the FTS5 rowid
    Column("design_id", String(36), ForeignKey("designs.id", ondelete="CASCADE"), nullable=False),
    Column("designer_id", String(36), nullable=False),
    Column("category", String(16), nullable=False),
    Column("metal_mask", Integer, nullable=False),
    Column("gem_mask", Integer, nullable=False),
    Column("published_at", UtcDateTime(), nullable=False),
    Column("price_minor", BigInteger, nullable=True),
    Column("price_currency", String(3), nullable=True),
    Column("views", BigInteger, nullable=False),
    Column("saves", BigInteger, nullable=False),
    Column("search_text", Text, nullable=False),
    UniqueConstraint("design_id"),
    # one index per sort, and the same behind an equality on category
    Index(None, "published_at", "design_id"),
    Index(None, "views", "design_id"),
    Index(None, "saves", "design_id"),
    Index(None, "category", "published_at", "design_id"),
    Index(None, "category", "views", "design_id"),
    Index(None, "category", "saves", "design_id"),
    Index(None, "price_currency", "price_minor", "design_id"),
    Index(None, "designer_id", "published_at", "design_id"),
)

# How many catalog entries have each (category, metal mask, gemstone mask): kept with
# ``catalog_entries`` by the repositories, so the facets of a search without text,
# designer, tags or price (the front page, browsing by category or metal) add up a
# few hundred rows instead of counting every published design.
catalog_facet_counts = Table(
    "catalog_facet_counts",
    metadata,
    Column("category", String(16), primary_key=True),
    Column("metal_mask", Integer, primary_key=True),
    Column("gem_mask", Integer, primary_key=True),
    Column("designs", BigInteger, nullable=False),
    CheckConstraint("designs >= 0", name="not_negative"),
)

assets = Table(
    "assets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("design_id", String(36), ForeignKey("designs.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("blob_key", String(255), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("analysis", JSON, nullable=True),
    Column("thumbnail_key", String(255), nullable=True),
    Column("width_px", Integer, nullable=True),
    Column("height_px", Integer, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("blob_key"),
    CheckConstraint(_one_of("kind", ASSET_KIND_VALUES), name="kind"),
    CheckConstraint(_one_of("visibility", VISIBILITY_VALUES), name="visibility"),
    CheckConstraint("size >= 0", name="size_not_negative"),
    Index(None, "design_id", "created_at", "id"),
)

pending_blobs = Table(
    "pending_blobs",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Index(None, "at"),
)

saved_designs = Table(
    "saved_designs",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("design_id", String(36), ForeignKey("designs.id", ondelete="CASCADE"), primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Index(None, "user_id", "at"),
)

consents = Table(
    "consents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("visitor_id", String(64), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("notice_version", String(32), nullable=False),
    Column("analytics", Boolean, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("client_address", String(64), nullable=True),
    Column("user_agent", String(300), nullable=True),
    Index(None, "visitor_id", "at"),
    Index(None, "user_id", "at"),
)

engagement_events = Table(
    "engagement_events",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("design_id", String(36), ForeignKey("designs.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("visitor_id", String(64), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("scroll_depth", Integer, nullable=True),
    CheckConstraint(_one_of("kind", EVENT_KIND_VALUES), name="kind"),
    CheckConstraint("scroll_depth IS NULL OR (scroll_depth >= 0 AND scroll_depth <= 100)", name="scroll_depth"),
    Index(None, "design_id", "at"),
    Index(None, "at"),  # migration 0007: the retention engine takes the oldest first
    Index(None, "user_id"),  # migration 0007: erasure, and the users foreign key (ON DELETE SET NULL)
)


# -- licensing, negotiation, messaging and the outbox (issue #4, migration 0003) -------
#
# Licence terms are stored as their canonical JSON (caratzon_core.licensing.canonical_json,
# ASCII text): money lives only inside it, as integer minor units. New ids are 64
# characters wide; an offer's id defaults to "<negotiation id>.<n>", hence 100.

OPTION_STATUS_VALUES = [s.value for s in OptionStatus]
NEGOTIATION_STATUS_VALUES = [s.value for s in NegotiationStatus]
PARTY_VALUES = [p.value for p in Party]
AGREEMENT_STATUS_VALUES = [s.value for s in AgreementStatus]
THREAD_KIND_VALUES = [k.value for k in ThreadKind]
SUPPORT_TOPIC_VALUES = [t.value for t in SupportTopic]
MESSAGE_KIND_VALUES = [k.value for k in MessageKind]
OUTBOX_STATUS_VALUES = [s.value for s in OutboxStatus]

licence_options = Table(
    "licence_options",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("design_id", String(36), ForeignKey("designs.id"), nullable=False),
    Column("designer_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("terms_json", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("retired_at", UtcDateTime(), nullable=True),
    CheckConstraint(_one_of("status", OPTION_STATUS_VALUES), name="status"),
    Index(None, "design_id", "created_at", "id"),
)

# ``latest_expires_at`` (the latest offer's expiry) and ``last_activity_at`` (closed_at,
# else the latest offer's time) are copies kept by the repository for the sweeper's and
# the inbox's queries; ``version`` is bumped by every update (optimistic check).
negotiations = Table(
    "negotiations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("design_id", String(36), ForeignKey("designs.id"), nullable=False),
    Column("option_id", String(64), ForeignKey("licence_options.id"), nullable=False),
    Column("buyer_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("designer_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("accepted_offer_id", String(100), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("latest_expires_at", UtcDateTime(), nullable=False),
    Column("last_activity_at", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
    CheckConstraint(_one_of("status", NEGOTIATION_STATUS_VALUES), name="status"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "status", "latest_expires_at"),
    Index(None, "buyer_id", "last_activity_at"),
    Index(None, "designer_id", "last_activity_at"),
)

# Append-only: ``seq`` is the offer's position (0-based) in ``Negotiation.offers``.
negotiation_offers = Table(
    "negotiation_offers",
    metadata,
    Column("negotiation_id", String(64), ForeignKey("negotiations.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("id", String(100), nullable=False),
    Column("by_party", String(16), nullable=False),
    Column("terms_json", Text, nullable=False),
    Column("terms_hash", String(64), nullable=False),
    Column("made_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    UniqueConstraint("negotiation_id", "id"),
    CheckConstraint(_one_of("by_party", PARTY_VALUES), name="by_party"),
    CheckConstraint("seq >= 0", name="seq_not_negative"),
)

# UNIQUE(negotiation_id): one negotiation yields at most one agreement, whatever races.
agreements = Table(
    "agreements",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("negotiation_id", String(64), ForeignKey("negotiations.id"), nullable=False),
    Column("design_id", String(36), ForeignKey("designs.id"), nullable=False),
    Column("designer_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("buyer_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("terms_json", Text, nullable=False),
    Column("terms_hash", String(64), nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("end_date", Date, nullable=True),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("negotiation_id"),
    CheckConstraint(_one_of("status", AGREEMENT_STATUS_VALUES), name="status"),
    Index(None, "design_id", "status"),
    Index(None, "buyer_id", "created_at"),
    Index(None, "designer_id", "created_at"),
)

# ``activity_at`` = last_message_at, else created_at: the inbox's sort key, kept by the
# repository. UNIQUE(kind, subject_id): one thread per negotiation or order (NULL
# subjects, i.e. support threads, never collide).
threads = Table(
    "threads",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("created_by", String(36), ForeignKey("users.id"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("subject_id", String(64), nullable=True),
    Column("topic", String(16), nullable=True),
    Column("last_message_at", UtcDateTime(), nullable=True),
    Column("activity_at", UtcDateTime(), nullable=False),
    UniqueConstraint("kind", "subject_id"),
    CheckConstraint(_one_of("kind", THREAD_KIND_VALUES), name="kind"),
    CheckConstraint(f"topic IS NULL OR {_one_of('topic', SUPPORT_TOPIC_VALUES)}", name="topic"),
    Index(None, "kind", "activity_at", "id"),
)

thread_participants = Table(
    "thread_participants",
    metadata,
    Column("thread_id", String(64), ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Index(None, "user_id", "thread_id"),
)

# Per reader and thread: how far they have read and how far a digest mail has told
# them. Independent of participation (an admin reads a support thread without joining).
thread_marks = Table(
    "thread_marks",
    metadata,
    Column("thread_id", String(64), ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("read_at", UtcDateTime(), nullable=True),
    Column("digested_at", UtcDateTime(), nullable=True),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("thread_id", String(64), ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", String(36), ForeignKey("users.id"), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("language", String(35), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("event", String(64), nullable=True),
    Column("event_data_json", Text, nullable=False),
    Column("removed", Boolean, nullable=False),
    CheckConstraint(_one_of("kind", MESSAGE_KIND_VALUES), name="kind"),
    Index(None, "thread_id", "created_at", "id"),
)

message_attachments = Table(
    "message_attachments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("message_id", String(64), ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("blob_key", String(255), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    UniqueConstraint("message_id", "position"),
    CheckConstraint("size >= 0", name="size_not_negative"),
)

message_translations = Table(
    "message_translations",
    metadata,
    Column("message_id", String(64), ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("language", String(35), primary_key=True),
    Column("text", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

# No CHECK on ``kind``: new notice kinds must not need a migration.
outbox = Table(
    "outbox",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("dedupe_key", String(255), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("to_email", String(254), nullable=False),
    Column("language", String(35), nullable=False),
    Column("values_json", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("claimed_until", UtcDateTime(), nullable=True),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("dedupe_key"),
    CheckConstraint(_one_of("status", OUTBOX_STATUS_VALUES), name="status"),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    Index(None, "status", "next_attempt_at"),
)


# -- manufacturers, orders, the ledger, prices and payments (issue #5, migration 0004) --
#
# Money is integer minor units beside its currency. Fractions and rates (partner
# scores, casting loss, platform fee rate) are stored as the text of their Decimal,
# which returns exactly the Decimal written (scale included) on both databases; the
# service computes with them in Python and never in SQL. Sets of codes (processes,
# metals, countries, declining manufacturers) are canonical JSON text: a sorted list.

VETTING_VALUES = [v.value for v in Vetting]
ORDER_STATUS_VALUES = [s.value for s in OrderStatus]
ENTRY_KIND_VALUES = [k.value for k in EntryKind]
INSTRUCTION_KIND_VALUES = [k.value for k in InstructionKind]
INSTRUCTION_STATUS_VALUES = [s.value for s in InstructionStatus]

# ``current_load`` is what the profile last stored; the service computes the live
# load from the orders (``open_load``). ``vetted_by`` is the acting user's id, kept
# without a foreign key like the audit log's actors. ``score_*`` is the PartnerScore.
manufacturers = Table(
    "manufacturers",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id"), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("processes_json", Text, nullable=False),
    Column("metals_json", Text, nullable=False),
    Column("min_quantity", Integer, nullable=False),
    Column("max_quantity", Integer, nullable=False),
    Column("weekly_capacity", Integer, nullable=False),
    Column("current_load", Integer, nullable=False),
    Column("lead_time_days", Integer, nullable=False),
    Column("ships_to_json", Text, nullable=False),
    Column("labour_piece_minor", BigInteger, nullable=False),
    Column("labour_stone_minor", BigInteger, nullable=False),
    Column("labour_currency", String(3), nullable=False),
    Column("vetting", String(16), nullable=False),
    Column("vetted_by", String(64), nullable=True),
    Column("vetted_at", UtcDateTime(), nullable=True),
    Column("nda_signed_on", Date, nullable=True),
    Column("nda_expires_on", Date, nullable=True),
    Column("score_jobs", Integer, nullable=False),
    Column("score_on_time_rate", String(40), nullable=True),
    Column("score_qc_failure_rate", String(40), nullable=True),
    Column("score_responsiveness_hours", String(40), nullable=True),
    Column("score_rating", String(40), nullable=True),
    Column("score_computed_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=True),
    CheckConstraint(_one_of("vetting", VETTING_VALUES), name="vetting"),
    CheckConstraint(
        "min_quantity >= 0 AND max_quantity >= 0 AND weekly_capacity >= 0 AND current_load >= 0 "
        "AND lead_time_days >= 0 AND score_jobs >= 0 AND labour_piece_minor >= 0 AND labour_stone_minor >= 0",
        name="not_negative",
    ),
    Index(None, "vetting"),
)

# ``brief_json`` is the canonical JSON of the Brief (mapping.brief_to_text); its
# ``quantity`` and ``wanted_by`` are copied into columns for the set-based sums and
# the partner-score query. A shipment is carrier, tracking and shipped_at together.
orders = Table(
    "orders",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("buyer_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("design_id", String(36), ForeignKey("designs.id"), nullable=False),
    Column("designer_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("agreement_id", String(64), ForeignKey("agreements.id"), nullable=False),
    Column("brief_json", Text, nullable=False),
    Column("quote_json", Text, nullable=True),  # fixed at submission: what the buyer pays
    Column("quantity", Integer, nullable=False),
    Column("wanted_by", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("submitted_at", UtcDateTime(), nullable=True),
    Column("manufacturer_id", String(36), ForeignKey("users.id"), nullable=True),
    Column("offered_at", UtcDateTime(), nullable=True),
    Column("offer_expires_at", UtcDateTime(), nullable=True),
    Column("accepted_at", UtcDateTime(), nullable=True),
    Column("declined_by_json", Text, nullable=False),
    Column("qc_failures", Integer, nullable=False),
    Column("qc_passed_at", UtcDateTime(), nullable=True),
    Column("carrier", String(100), nullable=True),
    Column("tracking", String(100), nullable=True),
    Column("shipped_at", UtcDateTime(), nullable=True),
    Column("delivered_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("reason", Text, nullable=True),
    CheckConstraint(_one_of("status", ORDER_STATUS_VALUES), name="status"),
    CheckConstraint("quantity >= 1", name="quantity_positive"),
    CheckConstraint("qc_failures >= 0", name="qc_failures_not_negative"),
    CheckConstraint(
        "(carrier IS NULL AND tracking IS NULL AND shipped_at IS NULL) "
        "OR (carrier IS NOT NULL AND tracking IS NOT NULL AND shipped_at IS NOT NULL)",
        name="shipment_complete",
    ),
    Index(None, "status", "submitted_at"),
    Index(None, "status", "offer_expires_at"),
    Index(None, "agreement_id", "status"),
    Index(None, "manufacturer_id", "status"),
    Index(None, "buyer_id", "updated_at"),
    Index(None, "designer_id", "updated_at"),
    Index(None, "accepted_at"),
    Index(None, "design_id"),  # migration 0007: purging designs checks the foreign key
)

# One row per money event; UNIQUE(idempotency_key) refuses the same event twice.
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("order_id", String(64), ForeignKey("orders.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("buyer_id", String(36), ForeignKey("users.id"), nullable=True),
    Column("at", UtcDateTime(), nullable=False),
    UniqueConstraint("idempotency_key"),
    CheckConstraint(_one_of("kind", ENTRY_KIND_VALUES), name="kind"),
    Index(None, "order_id", "at"),
    Index(None, "buyer_id"),  # migration 0007: erasure, and the users foreign key
)

# ``position`` is the line's index in JournalEntry.lines.
ledger_lines = Table(
    "ledger_lines",
    metadata,
    Column("entry_id", String(64), ForeignKey("ledger_entries.id"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("account", String(255), nullable=False),
    Column("debit", BigInteger, nullable=False),
    Column("credit", BigInteger, nullable=False),
    CheckConstraint("debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0)", name="one_side"),
    CheckConstraint("position >= 0", name="position_not_negative"),
    Index(None, "account"),
)

# One table per effective date; ``*_json`` map codes to integer minor units.
price_tables = Table(
    "price_tables",
    metadata,
    Column("effective", Date, primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("metal_per_gram_json", Text, nullable=False),
    Column("stone_per_carat_json", Text, nullable=False),
    Column("setting_per_stone", BigInteger, nullable=False),
    Column("labour_per_piece", BigInteger, nullable=False),
    Column("casting_loss", String(40), nullable=False),
    Column("platform_fee_rate", String(40), nullable=False),
    CheckConstraint("setting_per_stone >= 0 AND labour_per_piece >= 0", name="not_negative"),
)

# The outbox for money: UNIQUE(idempotency_key) makes writing an instruction twice a no-op.
payment_instructions = Table(
    "payment_instructions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("order_id", String(64), ForeignKey("orders.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("party_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("external_id", String(255), nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("claimed_until", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("idempotency_key"),
    CheckConstraint(_one_of("kind", INSTRUCTION_KIND_VALUES), name="kind"),
    CheckConstraint(_one_of("status", INSTRUCTION_STATUS_VALUES), name="status"),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "order_id", "created_at"),
    Index(None, "party_id"),  # migration 0007: erasure, and the users foreign key
)


# -- data-subject requests and verification codes (issue #6, part 1, migration 0006) ------
#
# ``open_type`` is the request type while the request is open and NULL once it is
# closed: UNIQUE(user_id, open_type) lets a person hold at most one open request of
# each type (NULLs never collide), so a duplicate is refused by the database even
# when two requests race past the service's check. ``opened_by`` and ``handled_by``
# are actor ids (a user id, "operator:<name>" or "platform"), kept without a foreign
# key like the audit log's actors. ``notes_json`` is the timeline as a JSON list.

REQUEST_TYPE_VALUES = [t.value for t in RequestType]
REQUEST_STATUS_VALUES = [s.value for s in RequestStatus]
REQUEST_ORIGIN_VALUES = [o.value for o in Origin]
_OPEN_REQUEST = _one_of("status", [RequestStatus.RECEIVED.value, RequestStatus.IN_PROGRESS.value])
_CLOSED_REQUEST = _one_of("status", [RequestStatus.COMPLETED.value, RequestStatus.REFUSED.value])

data_requests = Table(
    "data_requests",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("request_type", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("details", Text, nullable=False),
    Column("notes_json", Text, nullable=False),
    Column("merged", Integer, nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("handled_by", String(64), nullable=True),
    Column("taken_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("outcome", Text, nullable=True),
    Column("open_type", String(32), nullable=True),
    UniqueConstraint("user_id", "open_type"),
    CheckConstraint(_one_of("request_type", REQUEST_TYPE_VALUES), name="request_type"),
    CheckConstraint(_one_of("status", REQUEST_STATUS_VALUES), name="status"),
    CheckConstraint(_one_of("origin", REQUEST_ORIGIN_VALUES), name="origin"),
    CheckConstraint(
        f"({_OPEN_REQUEST} AND open_type = request_type AND closed_at IS NULL AND outcome IS NULL) "
        f"OR ({_CLOSED_REQUEST} AND open_type IS NULL AND closed_at IS NOT NULL AND outcome IS NOT NULL)",
        name="open_or_closed",
    ),
    CheckConstraint("due_at > received_at", name="due_after_receipt"),
    CheckConstraint("merged >= 0", name="merged_not_negative"),
    Index(None, "status", "due_at"),
    Index(None, "user_id", "received_at"),
)

# Only a keyed digest of the code is stored (never the code); ``purpose`` is
# "dsr:<type>". The latest code per person and purpose is the one that counts.
verification_codes = Table(
    "verification_codes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    CheckConstraint("expires_at > created_at", name="expires_after_creation"),
    Index(None, "user_id", "purpose", "created_at"),
    Index(None, "user_id", "created_at"),
)


# -- erasure and the retention engine (issue #6, parts 3 and 4, migration 0007) ----------
#
# ``legal_holds``: a hold placed by an admin stops erasure and retention for a person;
# ``active`` is TRUE while the hold stands and NULL once released, so
# UNIQUE(user_id, active) allows one standing hold per person (NULLs never collide)
# and keeps the released ones as history.
legal_holds = Table(
    "legal_holds",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("placed_by", String(64), nullable=False),
    Column("placed_at", UtcDateTime(), nullable=False),
    Column("active", Boolean, nullable=True),
    Column("released_by", String(64), nullable=True),
    Column("released_at", UtcDateTime(), nullable=True),
    Column("release_reason", Text, nullable=True),
    UniqueConstraint("user_id", "active"),
    CheckConstraint(
        "(active IS NOT NULL AND released_at IS NULL AND released_by IS NULL) "
        "OR (active IS NULL AND released_at IS NOT NULL AND released_by IS NOT NULL)",
        name="standing_or_released",
    ),
)

# Blobs whose rows are gone (or that expire, like an export's zip): the key is
# written in the same transaction that deletes the row, then the blob is deleted and
# the row removed. A blob-store failure leaves the row with its error, retried on
# the next run: neither a row without its blob nor a blob without a record.
blob_deletions = Table(
    "blob_deletions",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("reason", String(64), nullable=False),
    Column("queued_at", UtcDateTime(), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_attempt_at", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    Index(None, "due_at"),
)

RUN_STATUS_VALUES = ["running", "completed", "failed"]

# One row per retention run: its as-of date, who ran it, the counts per rule so far
# (updated in the same transaction as each batch, so an interrupted run's counts are
# exactly what it did) and how it ended.
retention_runs = Table(
    "retention_runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("as_of", UtcDateTime(), nullable=False),
    Column("started_by", String(64), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("status", String(16), nullable=False),
    Column("counts_json", Text, nullable=False),
    Column("error", Text, nullable=True),
    CheckConstraint(_one_of("status", RUN_STATUS_VALUES), name="status"),
    Index(None, "started_at"),
)

# Analytics older than 24 months (P33): per design, day and kind, no person's id.
analytics_daily = Table(
    "analytics_daily",
    metadata,
    Column("design_id", String(36), ForeignKey("designs.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("events", Integer, nullable=False),
    Column("depth_sum", Integer, nullable=False),
    Column("depth_count", Integer, nullable=False),
    CheckConstraint(_one_of("kind", EVENT_KIND_VALUES), name="kind"),
    CheckConstraint("events > 0 AND depth_sum >= 0 AND depth_count >= 0", name="counts"),
)
