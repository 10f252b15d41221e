"""Designs and the catalog: designs with their normalised tags, view/save counters,
the catalog's read model (``catalog_entries``, ``catalog_facet_counts``), assets,
pending blobs, saved designs,
cookie consents and engagement events; full-text search over
``catalog_entries.search_text``.

Full-text search differs by dialect and is written out explicitly:

* SQLite: an FTS5 table ``catalog_fts`` with ``catalog_entries`` as its external
  content (``content_rowid`` = ``seq``, an INTEGER PRIMARY KEY so VACUUM never
  renumbers it), Porter stemming, and three triggers keeping it in step;
* PostgreSQL: a stored generated column ``search_vector`` =
  ``strip(to_tsvector('english', search_text))`` (no positions: searches are word
  prefixes, never phrases) with a GIN index.

Neither is in ``tables.py`` (a virtual table and a one-dialect column); the
migration test expects exactly these objects besides the declared schema.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CATEGORIES = ("ring", "necklace", "pendant", "earrings", "bracelet", "brooch", "other")
DESIGN_STATUSES = ("draft", "published", "withdrawn", "removed")
ASSET_KINDS = ("cad", "image", "render")
VISIBILITIES = ("preview", "production")
EVENT_KINDS = ("view", "save", "scroll")

FTS_TABLE = "catalog_fts"
FTS_TRIGGERS = ("catalog_fts_insert", "catalog_fts_delete", "catalog_fts_update")
FTS_SQLITE = [
    "CREATE VIRTUAL TABLE catalog_fts USING fts5(search_text, content='catalog_entries', content_rowid='seq', "
    "tokenize='porter unicode61 remove_diacritics 0')",
    "CREATE TRIGGER catalog_fts_insert AFTER INSERT ON catalog_entries BEGIN "
    "INSERT INTO catalog_fts (rowid, search_text) VALUES (new.seq, new.search_text); END",
    "CREATE TRIGGER catalog_fts_delete AFTER DELETE ON catalog_entries BEGIN "
    "INSERT INTO catalog_fts (catalog_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text); END",
    "CREATE TRIGGER catalog_fts_update AFTER UPDATE OF search_text ON catalog_entries "
    "WHEN old.search_text IS NOT new.search_text BEGIN "
    "INSERT INTO catalog_fts (catalog_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text); "
    "INSERT INTO catalog_fts (rowid, search_text) VALUES (new.seq, new.search_text); END",
]
TSVECTOR_EXPRESSION = "strip(to_tsvector('english'::regconfig, search_text))"


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _design_fk(table: str, *, ondelete: str | None = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["design_id"], ["designs.id"], name=op.f(f"fk_{table}_design_id_designs"), ondelete=ondelete
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name

    op.create_table(
        "designs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("designer_id", sa.String(36), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("metals", sa.JSON(), nullable=False),
        sa.Column("gemstones", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("width_mm", sa.Numeric(), nullable=True),
        sa.Column("height_mm", sa.Numeric(), nullable=True),
        sa.Column("depth_mm", sa.Numeric(), nullable=True),
        sa.Column("price_minor", sa.BigInteger(), nullable=True),
        sa.Column("price_currency", sa.String(3), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        _time("published_at", nullable=True),
        _time("withdrawn_at", nullable=True),
        _time("removed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designs")),
        sa.ForeignKeyConstraint(["designer_id"], ["users.id"], name=op.f("fk_designs_designer_id_users")),
        sa.CheckConstraint(_one_of("category", CATEGORIES), name=op.f("ck_designs_category")),
        sa.CheckConstraint(_one_of("status", DESIGN_STATUSES), name=op.f("ck_designs_status")),
        sa.CheckConstraint(
            "(price_minor IS NULL AND price_currency IS NULL) "
            "OR (price_minor IS NOT NULL AND price_currency IS NOT NULL)",
            name=op.f("ck_designs_price_complete"),
        ),
    )
    op.create_index(op.f("ix_designs_designer_id_created_at"), "designs", ["designer_id", "created_at"])

    op.create_table(
        "design_tags",
        sa.Column("design_id", sa.String(36), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("design_id", "tag", name=op.f("pk_design_tags")),
        _design_fk("design_tags"),
    )
    op.create_index(op.f("ix_design_tags_tag_design_id"), "design_tags", ["tag", "design_id"])

    op.create_table(
        "design_stats",
        sa.Column("design_id", sa.String(36), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("saves", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("design_id", name=op.f("pk_design_stats")),
        _design_fk("design_stats"),
        sa.CheckConstraint("views >= 0 AND saves >= 0", name=op.f("ck_design_stats_not_negative")),
    )
    op.create_index(op.f("ix_design_stats_views_design_id"), "design_stats", ["views", "design_id"])
    op.create_index(op.f("ix_design_stats_saves_design_id"), "design_stats", ["saves", "design_id"])

    catalog_columns: list[sa.schema.SchemaItem] = [
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("design_id", sa.String(36), nullable=False),
        sa.Column("designer_id", sa.String(36), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("metal_mask", sa.Integer(), nullable=False),
        sa.Column("gem_mask", sa.Integer(), nullable=False),
        _time("published_at"),
        sa.Column("price_minor", sa.BigInteger(), nullable=True),
        sa.Column("price_currency", sa.String(3), nullable=True),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("saves", sa.BigInteger(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_catalog_entries")),
        sa.UniqueConstraint("design_id", name=op.f("uq_catalog_entries_design_id")),
        _design_fk("catalog_entries"),
    ]
    if dialect == "postgresql":
        catalog_columns.append(
            sa.Column("search_vector", postgresql.TSVECTOR(), sa.Computed(TSVECTOR_EXPRESSION, persisted=True))
        )
    op.create_table("catalog_entries", *catalog_columns)
    for columns in (
        ["published_at", "design_id"],
        ["views", "design_id"],
        ["saves", "design_id"],
        ["category", "published_at", "design_id"],
        ["category", "views", "design_id"],
        ["category", "saves", "design_id"],
        ["price_currency", "price_minor", "design_id"],
        ["designer_id", "published_at", "design_id"],
    ):
        op.create_index(op.f(f"ix_catalog_entries_{'_'.join(columns)}"), "catalog_entries", columns)
    if dialect == "postgresql":
        op.create_index("ix_catalog_entries_search_vector", "catalog_entries", ["search_vector"],
                        postgresql_using="gin")
    elif dialect == "sqlite":
        for statement in FTS_SQLITE:
            op.execute(statement)

    op.create_table(
        "catalog_facet_counts",
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("metal_mask", sa.Integer(), nullable=False),
        sa.Column("gem_mask", sa.Integer(), nullable=False),
        sa.Column("designs", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("category", "metal_mask", "gem_mask", name=op.f("pk_catalog_facet_counts")),
        sa.CheckConstraint("designs >= 0", name=op.f("ck_catalog_facet_counts_not_negative")),
    )

    op.create_table(
        "assets",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("design_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("blob_key", sa.String(255), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("analysis", sa.JSON(), nullable=True),
        sa.Column("thumbnail_key", sa.String(255), nullable=True),
        sa.Column("width_px", sa.Integer(), nullable=True),
        sa.Column("height_px", sa.Integer(), nullable=True),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint("blob_key", name=op.f("uq_assets_blob_key")),
        _design_fk("assets", ondelete=None),
        sa.CheckConstraint(_one_of("kind", ASSET_KINDS), name=op.f("ck_assets_kind")),
        sa.CheckConstraint(_one_of("visibility", VISIBILITIES), name=op.f("ck_assets_visibility")),
        sa.CheckConstraint("size >= 0", name=op.f("ck_assets_size_not_negative")),
    )
    op.create_index(op.f("ix_assets_design_id_created_at_id"), "assets", ["design_id", "created_at", "id"])

    op.create_table(
        "pending_blobs",
        sa.Column("key", sa.String(255), nullable=False),
        _time("at"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pending_blobs")),
    )
    op.create_index(op.f("ix_pending_blobs_at"), "pending_blobs", ["at"])

    op.create_table(
        "saved_designs",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("design_id", sa.String(36), nullable=False),
        _time("at"),
        sa.PrimaryKeyConstraint("user_id", "design_id", name=op.f("pk_saved_designs")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_saved_designs_user_id_users"), ondelete="CASCADE"
        ),
        _design_fk("saved_designs"),
    )
    op.create_index(op.f("ix_saved_designs_user_id_at"), "saved_designs", ["user_id", "at"])

    op.create_table(
        "consents",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("visitor_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("notice_version", sa.String(32), nullable=False),
        sa.Column("analytics", sa.Boolean(), nullable=False),
        _time("at"),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_consents_user_id_users"), ondelete="SET NULL"
        ),
    )
    op.create_index(op.f("ix_consents_visitor_id_at"), "consents", ["visitor_id", "at"])
    op.create_index(op.f("ix_consents_user_id_at"), "consents", ["user_id", "at"])

    op.create_table(
        "engagement_events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("design_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _time("at"),
        sa.Column("visitor_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("scroll_depth", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_events")),
        _design_fk("engagement_events"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_engagement_events_user_id_users"), ondelete="SET NULL"
        ),
        sa.CheckConstraint(_one_of("kind", EVENT_KINDS), name=op.f("ck_engagement_events_kind")),
        sa.CheckConstraint(
            "scroll_depth IS NULL OR (scroll_depth >= 0 AND scroll_depth <= 100)",
            name=op.f("ck_engagement_events_scroll_depth"),
        ),
    )
    op.create_index(op.f("ix_engagement_events_design_id_at"), "engagement_events", ["design_id", "at"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    for table in (
        "engagement_events",
        "consents",
        "saved_designs",
        "pending_blobs",
        "assets",
        "catalog_facet_counts",
        "catalog_entries",
        "design_stats",
        "design_tags",
        "designs",
    ):
        op.drop_table(table)
