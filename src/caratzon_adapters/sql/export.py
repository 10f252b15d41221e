"""The SQL :class:`~caratzon_core.ports.PersonalDataReader` (issue #6, part 2).

Driven by the data map: every table holding personal data is either read into a
section of the export (:data:`SECTION_OF_TABLE`) or left out for a stated reason
(:data:`NOT_EXPORTED`) — ``tests/unit/test_export.py`` fails when a personal table
is neither. A table's rows are those where any of its ``user.identifier`` columns
names the person (:func:`selection_columns`: the map's user references, minus the
ones that name someone *handling* the row rather than a party to it, such as the
admin who vetted a workshop), or that hang off such a row (:data:`CHILDREN`). One
set-based query per table, with sub-selects for the children: no N+1.

Columns come out under their SQL names; ``*_json`` text columns are decoded.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, Table, and_, false, or_, select

from caratzon_adapters.sql.datamap import DATA_MAP
from caratzon_adapters.sql.tables import metadata
from caratzon_core.export import ExportFile, PersonalData

# table -> section of the export document.
SECTION_OF_TABLE: dict[str, str] = {
    "users": "account",
    "designer_profiles": "profile",
    "manufacturers": "manufacturer",
    "api_tokens": "api_tokens",
    "login_attempts": "login_attempts",
    "designs": "designs",
    "design_tags": "design_tags",
    "assets": "assets",
    "saved_designs": "saved_designs",
    "licence_options": "licence_options",
    "negotiations": "negotiations",
    "negotiation_offers": "offers",
    "agreements": "agreements",
    "orders": "orders",
    "ledger_entries": "ledger_entries",
    "ledger_lines": "ledger_lines",
    "payment_instructions": "payments",
    "threads": "threads",
    "messages": "messages",
    "message_attachments": "message_attachments",
    "message_translations": "message_translations",
    "thread_marks": "thread_marks",
    "outbox": "notices",
    "consents": "consents",
    "policy_acceptances": "policy_acceptances",
    "engagement_events": "analytics_events",
    "audit_log": "audit_entries",
    "data_requests": "data_requests",
}

# Personal tables not exported, and why.
NOT_EXPORTED: dict[str, str] = {
    "catalog_entries": "a read model copied from `designs` (exported there)",
    "thread_participants": "used to find the person's threads; holds the other participants' ids",
    "verification_codes": "short-lived one-time code digests: secrets, not the person's data to take away",
    "policy_versions": "the published policy texts (public); only the publishing admin's id is personal",
    "legal_holds": "a hold may serve a pending legal matter; the person is told of it when their erasure is refused",
    "retention_runs": "operational records of the retention job; only the admin who ran it is named",
}

# User references that name whoever handled a row, not a party to it: selecting on
# them would hand an admin other people's records.
NOT_SELECTING: frozenset[tuple[str, str]] = frozenset({
    ("manufacturers", "vetted_by"),
    ("data_requests", "opened_by"),
    ("data_requests", "handled_by"),
    ("orders", "declined_by_json"),
    ("payment_instructions", "idempotency_key"),
    ("ledger_lines", "account"),  # matched by suffix below
    ("audit_log", "subject"),  # matched as `user:<id>` below
    ("outbox", "dedupe_key"),  # matched by suffix below
})

# child table -> (its column, parent table, the parent's key)
CHILDREN: dict[str, tuple[str, str, str]] = {
    "design_tags": ("design_id", "designs", "id"),
    "assets": ("design_id", "designs", "id"),
    "negotiation_offers": ("negotiation_id", "negotiations", "id"),
    "message_attachments": ("message_id", "messages", "id"),
    "message_translations": ("message_id", "messages", "id"),
}

# Order of each section's rows.
_ORDER: dict[str, tuple[str, ...]] = {
    "audit_log": ("seq",),
    "messages": ("created_at", "id"),
    "negotiation_offers": ("negotiation_id", "seq"),
    "ledger_lines": ("entry_id", "position"),
    "message_attachments": ("message_id", "position"),
}


def selection_columns(table: str) -> tuple[str, ...]:
    """The table's user-reference columns that say the row is about or by a person."""
    return tuple(c for t, c in DATA_MAP.user_references() if t == table and (t, c) not in NOT_SELECTING)


def identifier_columns(table: str) -> frozenset[str]:
    return frozenset(c for t, c in DATA_MAP.user_references() if t == table)


def _t(name: str) -> Table:
    return metadata.tables[name]


def _own(table: str, user_id: str) -> ColumnElement[bool]:
    """The rows of ``table`` that name the person directly."""
    tb = _t(table)
    conds: list[ColumnElement[bool]] = [tb.c[c] == user_id for c in selection_columns(table)]
    if table == "audit_log":
        conds.append(tb.c.subject == f"user:{user_id}")
    elif table == "outbox":
        conds.append(tb.c.dedupe_key.like(f"%:{_escape(user_id)}", escape="\\"))
    elif table == "ledger_entries":
        lines = _t("ledger_lines")
        conds.append(tb.c.id.in_(select(lines.c.entry_id).where(_line_names(user_id))))
    elif table == "threads":
        parts = _t("thread_participants")
        conds.append(tb.c.id.in_(select(parts.c.thread_id).where(parts.c.user_id == user_id)))
    elif table == "login_attempts":
        users = _t("users")
        conds.append(and_(tb.c.kind == "account", tb.c.key.in_(select(users.c.email).where(users.c.id == user_id))))
    if table == "messages":  # only what the person wrote
        return tb.c.author_id == user_id
    return or_(*conds) if conds else false()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _line_names(user_id: str) -> ColumnElement[bool]:
    lines = _t("ledger_lines")
    return lines.c.account.like(f"%:{_escape(user_id)}", escape="\\")


def _where(table: str, user_id: str) -> ColumnElement[bool]:
    if table in CHILDREN:
        column, parent, key = CHILDREN[table]
        p = _t(parent)
        return _t(table).c[column].in_(select(p.c[key]).where(_own(parent, user_id)))
    if table == "ledger_lines":
        entries = _t("ledger_entries")
        lines = _t(table)
        return or_(lines.c.entry_id.in_(select(entries.c.id).where(entries.c.buyer_id == user_id)),
                   _line_names(user_id))
    return _own(table, user_id)


def query(table: str, user_id: str) -> Select[Any]:
    tb = _t(table)
    stmt = select(tb).where(_where(table, user_id))
    order = _ORDER.get(table) or tuple(c.name for c in tb.primary_key.columns)
    return stmt.order_by(*(tb.c[c] for c in order))


def _decode(name: str, value: Any) -> Any:
    if name.endswith("_json") and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class SqlPersonalDataReader:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def read(self, user_id: str) -> PersonalData:
        sections: dict[str, list[dict[str, Any]]] = {}
        ids: dict[str, frozenset[str]] = {}
        files: list[ExportFile] = []
        with self._engine.connect() as conn:  # one snapshot-ish read transaction
            for table, section in SECTION_OF_TABLE.items():
                rows = [
                    {k: _decode(k, v) for k, v in row._mapping.items()}
                    for row in conn.execute(query(table, user_id))
                ]
                sections[section] = rows
                ids[section] = identifier_columns(table)
        for a in sections["assets"]:
            files.append(ExportFile("assets", a["id"], a["blob_key"], a["filename"], a["content_type"],
                                    int(a["size"]), a["sha256"]))
        for a in sections["message_attachments"]:
            files.append(ExportFile("message_attachments", a["id"], a["blob_key"], a["filename"],
                                    a["content_type"], int(a["size"]), a["sha256"]))
        return PersonalData(subject_id=user_id, sections=sections, identifier_fields=ids, files=tuple(files))
