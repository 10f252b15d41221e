"""Licensing, negotiation, messaging and the notification outbox (issue #4): licence
options, negotiations with their append-only offers, agreements (one per
negotiation, by a unique constraint), message threads with participants, read and
digest marks, messages, attachments and cached translations, the outbox; and
``users.ai_objection_at`` (P40).

Licence terms are stored as canonical JSON text; money exists only inside it.

Downgrading drops the new tables and the column. SQLite drops the column with its
own ``ALTER TABLE ... DROP COLUMN`` (3.35+), never by rebuilding ``users``: with
foreign keys on, a rebuild would drop the table that every other table refers to.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPTION_STATUSES = ("active", "retired")
NEGOTIATION_STATUSES = ("open", "accepted", "rejected", "withdrawn", "expired")
PARTIES = ("buyer", "designer")
AGREEMENT_STATUSES = ("active", "expired", "terminated")
THREAD_KINDS = ("negotiation", "order", "support")
SUPPORT_TOPICS = ("support", "feedback")
MESSAGE_KINDS = ("text", "event")
OUTBOX_STATUSES = ("pending", "sent", "failed")

NEW_TABLES = (  # in creation order; dropped in reverse
    "licence_options",
    "negotiations",
    "negotiation_offers",
    "agreements",
    "threads",
    "thread_participants",
    "thread_marks",
    "messages",
    "message_attachments",
    "message_translations",
    "outbox",
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
    op.add_column("users", _time("ai_objection_at", nullable=True))

    op.create_table(
        "licence_options",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("design_id", sa.String(36), nullable=False),
        sa.Column("designer_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("terms_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _time("created_at"),
        _time("retired_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_options")),
        _fk("licence_options", "design_id", "designs.id"),
        _fk("licence_options", "designer_id", "users.id"),
        sa.CheckConstraint(_one_of("status", OPTION_STATUSES), name=op.f("ck_licence_options_status")),
    )
    _index("licence_options", "design_id", "created_at", "id")

    op.create_table(
        "negotiations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("design_id", sa.String(36), nullable=False),
        sa.Column("option_id", sa.String(64), nullable=False),
        sa.Column("buyer_id", sa.String(36), nullable=False),
        sa.Column("designer_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("accepted_offer_id", sa.String(100), nullable=True),
        _time("closed_at", nullable=True),
        _time("latest_expires_at"),
        _time("last_activity_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_negotiations")),
        _fk("negotiations", "design_id", "designs.id"),
        _fk("negotiations", "option_id", "licence_options.id"),
        _fk("negotiations", "buyer_id", "users.id"),
        _fk("negotiations", "designer_id", "users.id"),
        sa.CheckConstraint(_one_of("status", NEGOTIATION_STATUSES), name=op.f("ck_negotiations_status")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_negotiations_version_positive")),
    )
    _index("negotiations", "status", "latest_expires_at")
    _index("negotiations", "buyer_id", "last_activity_at")
    _index("negotiations", "designer_id", "last_activity_at")

    op.create_table(
        "negotiation_offers",
        sa.Column("negotiation_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("by_party", sa.String(16), nullable=False),
        sa.Column("terms_json", sa.Text(), nullable=False),
        sa.Column("terms_hash", sa.String(64), nullable=False),
        _time("made_at"),
        _time("expires_at"),
        sa.PrimaryKeyConstraint("negotiation_id", "seq", name=op.f("pk_negotiation_offers")),
        sa.UniqueConstraint("negotiation_id", "id", name=op.f("uq_negotiation_offers_negotiation_id_id")),
        _fk("negotiation_offers", "negotiation_id", "negotiations.id", ondelete="CASCADE"),
        sa.CheckConstraint(_one_of("by_party", PARTIES), name=op.f("ck_negotiation_offers_by_party")),
        sa.CheckConstraint("seq >= 0", name=op.f("ck_negotiation_offers_seq_not_negative")),
    )

    op.create_table(
        "agreements",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("negotiation_id", sa.String(64), nullable=False),
        sa.Column("design_id", sa.String(36), nullable=False),
        sa.Column("designer_id", sa.String(36), nullable=False),
        sa.Column("buyer_id", sa.String(36), nullable=False),
        sa.Column("terms_json", sa.Text(), nullable=False),
        sa.Column("terms_hash", sa.String(64), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
        sa.UniqueConstraint("negotiation_id", name=op.f("uq_agreements_negotiation_id")),
        _fk("agreements", "negotiation_id", "negotiations.id"),
        _fk("agreements", "design_id", "designs.id"),
        _fk("agreements", "designer_id", "users.id"),
        _fk("agreements", "buyer_id", "users.id"),
        sa.CheckConstraint(_one_of("status", AGREEMENT_STATUSES), name=op.f("ck_agreements_status")),
    )
    _index("agreements", "design_id", "status")
    _index("agreements", "buyer_id", "created_at")
    _index("agreements", "designer_id", "created_at")

    op.create_table(
        "threads",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        _time("created_at"),
        sa.Column("subject_id", sa.String(64), nullable=True),
        sa.Column("topic", sa.String(16), nullable=True),
        _time("last_message_at", nullable=True),
        _time("activity_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threads")),
        sa.UniqueConstraint("kind", "subject_id", name=op.f("uq_threads_kind_subject_id")),
        _fk("threads", "created_by", "users.id"),
        sa.CheckConstraint(_one_of("kind", THREAD_KINDS), name=op.f("ck_threads_kind")),
        sa.CheckConstraint(f"topic IS NULL OR {_one_of('topic', SUPPORT_TOPICS)}", name=op.f("ck_threads_topic")),
    )
    _index("threads", "kind", "activity_at", "id")

    op.create_table(
        "thread_participants",
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("thread_id", "user_id", name=op.f("pk_thread_participants")),
        _fk("thread_participants", "thread_id", "threads.id", ondelete="CASCADE"),
        _fk("thread_participants", "user_id", "users.id", ondelete="CASCADE"),
    )
    _index("thread_participants", "user_id", "thread_id")

    op.create_table(
        "thread_marks",
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        _time("read_at", nullable=True),
        _time("digested_at", nullable=True),
        sa.PrimaryKeyConstraint("thread_id", "user_id", name=op.f("pk_thread_marks")),
        _fk("thread_marks", "thread_id", "threads.id", ondelete="CASCADE"),
        _fk("thread_marks", "user_id", "users.id", ondelete="CASCADE"),
    )

    op.create_table(
        "messages",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("author_id", sa.String(36), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        _time("created_at"),
        sa.Column("event", sa.String(64), nullable=True),
        sa.Column("event_data_json", sa.Text(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        _fk("messages", "thread_id", "threads.id", ondelete="CASCADE"),
        _fk("messages", "author_id", "users.id"),
        sa.CheckConstraint(_one_of("kind", MESSAGE_KINDS), name=op.f("ck_messages_kind")),
    )
    _index("messages", "thread_id", "created_at", "id")

    op.create_table(
        "message_attachments",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("blob_key", sa.String(255), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_attachments")),
        sa.UniqueConstraint("message_id", "position", name=op.f("uq_message_attachments_message_id_position")),
        _fk("message_attachments", "message_id", "messages.id", ondelete="CASCADE"),
        sa.CheckConstraint("size >= 0", name=op.f("ck_message_attachments_size_not_negative")),
    )

    op.create_table(
        "message_translations",
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("message_id", "language", name=op.f("pk_message_translations")),
        _fk("message_translations", "message_id", "messages.id", ondelete="CASCADE"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("to_email", sa.String(254), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("values_json", sa.Text(), nullable=False),
        _time("created_at"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at", nullable=True),
        _time("claimed_until", nullable=True),
        _time("sent_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
        sa.CheckConstraint(_one_of("status", OUTBOX_STATUSES), name=op.f("ck_outbox_status")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_attempts_not_negative")),
    )
    _index("outbox", "status", "next_attempt_at")


def downgrade() -> None:
    for table in reversed(NEW_TABLES):
        op.drop_table(table)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN ai_objection_at")
    else:
        op.drop_column("users", "ai_objection_at")
