"""The SQL :class:`~caratzon_core.ports.PrivacyStore` (issue #6, parts 3 and 4):
erasure, the retention engine's reads and purges, legal holds, the queue of blobs
to delete and the record of retention runs.

Every method works on the caller's unit of work (``uow.connection``) and never
commits: what it writes commits or rolls back with the caller's change. Blobs are
never deleted here; the keys of the rows deleted are written to ``blob_deletions``
in the same transaction (:data:`BLOB_COLUMNS` says which columns name a blob).

**Erasure** is driven by the data map (:data:`~caratzon_adapters.sql.datamap.DATA_MAP`):

1. a stand-in ``users`` row whose id is the pseudonym takes the person's place;
2. their open negotiations are withdrawn and their draft orders deleted;
3. their designs are purged as the design-asset rule purges them, except those kept
   under an active licence (marked removed, out of the catalog, files kept);
4. the rows belonging to the person (:data:`OWNED`: messages they wrote, support
   threads they opened, their requests, consent records…) get the masking of each
   of their personal columns (``REDACT`` → ``""``, ``NULL_FIELD`` → NULL,
   ``PSEUDONYMISE`` → the pseudonym, ``DELETE_ROW`` → the row goes);
5. every ``user.identifier`` column (``DATA_MAP.user_references()``) gets its
   masking: a bare id column (:data:`PLAIN`) by the generic handler of the masking
   (:data:`GENERIC`), a column that encodes ids in text by its own handler
   (:data:`SPECIAL`); rewrites first, then deletions children before parents, the
   ``users`` row last;
6. ids, the person's name and address copied into text that outlives them
   (:data:`EMBEDDED_IDS`, :data:`MENTIONS`) are replaced, and the notices quoting
   the titles of their support threads go.

**Retention** reads candidates per rule and kind (:data:`CANDIDATES`): one query per
kind, the exceptions (:class:`~caratzon_core.retention.Keep`) computed beside each
item by ``EXISTS`` sub-selects, in ``ref`` order for keyset batches. Purges delete a
batch with ``IN (…)`` lists, children first; a design records still name stays as
a content-free husk until the last of them is purged. Raw analytics are folded into
``analytics_daily`` and deleted in one statement on PostgreSQL (``DELETE …
RETURNING`` feeding an upsert), so an event is counted exactly when it is deleted.

:func:`handler_problems` lists every user reference of the map that erasure does not
know how to mask and every personal table whose owner it cannot tell; the store
refuses to be built while there is one, and a test keeps the list empty — adding a
column to the map without teaching erasure fails.

Each step is a few set-based statements per table (``UPDATE … WHERE col = :id``,
``DELETE … WHERE … IN (…)``): the cost does not grow with round trips per row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    null,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError

from caratzon_adapters.sql.datamap import DATA_MAP
from caratzon_adapters.sql.repositories import _count_facet, _insert_if_absent, _upsert, _upsert_insert
from caratzon_adapters.sql.tables import (
    UtcDateTime,
    agreements,
    analytics_daily,
    assets,
    audit_log,
    blob_deletions,
    catalog_entries,
    design_stats,
    design_tags,
    designs,
    engagement_events,
    ledger_entries,
    ledger_lines,
    legal_holds,
    licence_options,
    message_attachments,
    message_translations,
    messages,
    metadata,
    negotiation_offers,
    negotiations,
    orders,
    outbox,
    payment_instructions,
    retention_runs,
    saved_designs,
    thread_marks,
    thread_participants,
    threads,
    users,
)
from caratzon_adapters.sql.uow import SqlUnitOfWork
from caratzon_core.agreements import AgreementStatus
from caratzon_core.datamap import DataMap, Masking
from caratzon_core.designs import DesignStatus
from caratzon_core.erasure import ERASED_EMAIL_DOMAIN, ERASED_NAME, ErasureReport, PersonFacts
from caratzon_core.errors import Conflict, NotFound
from caratzon_core.licence_options import OptionStatus
from caratzon_core.messaging import ThreadKind
from caratzon_core.negotiation import NegotiationStatus
from caratzon_core.orders import OrderStatus
from caratzon_core.ports import UnitOfWork
from caratzon_core.retention import Candidate, Cutoffs, Keep, LegalHold, RetentionRun, RuleCode, RunStatus, Snapshot

# -- vocabulary ------------------------------------------------------------------------

ERASED_PASSWORD_HASH = "!erased"  # no hasher produces it: nobody can sign in as a stand-in
STAND_IN_LANGUAGE = "en"

# Reasons written to blob_deletions.reason.
REASON_ERASURE = "erasure"
REASON_DESIGN_ASSET = RuleCode.DESIGN_ASSET.value
REASON_TRANSACTION = RuleCode.TRANSACTION.value
REASON_EXPORT_FILE = RuleCode.EXPORT_FILE.value

MAX_ERROR = 500
CHUNK = 1000  # ids per IN (...) list

# Orders a party is still bound by (not yet started, finished or in dispute).
CLOSED_ORDER_STATUSES = frozenset({OrderStatus.DRAFT, OrderStatus.COMPLETED, OrderStatus.CANCELLED,
                                   OrderStatus.DISPUTED})
OPEN_ORDER_STATUSES = tuple(sorted(s.value for s in OrderStatus if s not in CLOSED_ORDER_STATUSES))
ENDED_ORDER_STATUSES = (OrderStatus.COMPLETED.value, OrderStatus.CANCELLED.value)

# Columns naming a blob in the blob store: deleting their rows queues the blobs.
BLOB_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "assets": ("blob_key", "thumbnail_key"),
    "message_attachments": ("blob_key",),
}

# Tables erasure reaches through the person's designs (step 3), not through an owner.
DESIGN_TABLES = frozenset({"designs", "design_tags", "assets", "catalog_entries"})


_ID_LENGTH = int(getattr(users.c.id.type, "length", None) or 36)  # the stand-in's id is the pseudonym


def _conn(uow: UnitOfWork) -> Connection:
    return cast(SqlUnitOfWork, uow).connection


def _chunks(ids: Sequence[str], size: int = CHUNK) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), size):
        yield unique[start:start + size]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ends_with_id(column: ColumnElement[Any], user_id: str) -> ColumnElement[bool]:
    """``…:<user id>``: the encoding of ledger accounts, transfer keys and notice keys."""
    return column.like(f"%:{_escape_like(user_id)}", escape="\\")


def _json_string(value: str) -> str:
    """A string as it appears inside the stored JSON text (``json.dumps``, non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False)


def _rowcount(result: Any) -> int:
    return max(int(result.rowcount or 0), 0)


# -- the blob queue -----------------------------------------------------------------------


def queue_blob_keys(conn: Connection, keys: Iterable[str | None], *, reason: str, now: datetime,
                    due_at: datetime | None = None) -> int:
    """INSERT each key not queued yet (one multi-row ``INSERT … ON CONFLICT DO NOTHING
    RETURNING`` per 500 keys); how many were new."""
    unique = [k for k in dict.fromkeys(keys) if k]
    new = 0
    due = now if due_at is None else due_at
    b = blob_deletions
    for chunk in _chunks(unique, 500):
        rows = [{"key": k, "reason": reason, "queued_at": now, "due_at": due, "attempts": 0,
                 "last_attempt_at": None, "last_error": None} for k in chunk]
        if conn.dialect.name in ("postgresql", "sqlite"):
            stmt = _upsert_insert(conn, b).values(rows).on_conflict_do_nothing(index_elements=["key"])
            new += len(conn.execute(stmt.returning(b.c.key)).all())
        else:  # pragma: no cover - the two supported databases take the branch above
            for row in rows:
                new += int(_insert_if_absent(conn, b, row, ["key"]))
    return new


@dataclass
class _Work:
    """Rows deleted and blobs queued by one purge or erasure, in its transaction."""

    conn: Connection
    now: datetime
    reason: str
    rows: int = 0
    blobs: int = 0
    deleted: dict[str, int] = field(default_factory=dict)  # rows per table

    def tally(self, table: str, n: int) -> int:
        if n:
            self.rows += n
            self.deleted[table] = self.deleted.get(table, 0) + n
        return n

    def delete(self, table: Table, where: ColumnElement[bool]) -> int:
        """DELETE the rows, queueing first every blob they name."""
        columns = BLOB_COLUMNS.get(table.name)
        if columns:
            found = self.conn.execute(select(*(table.c[c] for c in columns)).where(where)).all()
            self.blobs += queue_blob_keys(self.conn, (k for row in found for k in row), reason=self.reason,
                                          now=self.now)
        return self.tally(table.name, _rowcount(self.conn.execute(delete(table).where(where))))


# -- shared purges: catalog, designs, threads, orders ------------------------------------------


def leave_catalog(work: _Work, design_ids: Sequence[str]) -> int:
    """Take designs out of the catalog's read model: their ``catalog_entries`` rows go
    and ``catalog_facet_counts`` loses them (the repositories' ``_count_facet``, one
    UPDATE per combination, in key order as the repositories lock them)."""
    conn, e = work.conn, catalog_entries
    removed = 0
    for chunk in _chunks(design_ids):
        grouped = conn.execute(
            select(e.c.category, e.c.metal_mask, e.c.gem_mask, func.count())
            .where(e.c.design_id.in_(chunk))
            .group_by(e.c.category, e.c.metal_mask, e.c.gem_mask)
        ).all()
        if not grouped:
            continue
        for category, metal_mask, gem_mask, n in sorted((str(c), int(m), int(g), int(n)) for c, m, g, n in grouped):
            _count_facet(conn, (category, metal_mask, gem_mask), -n)
        removed += work.tally(e.name, _rowcount(conn.execute(delete(e).where(e.c.design_id.in_(chunk)))))
    return removed


def _still_referenced(design_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """A design row records that outlive its files still point at."""
    return or_(
        exists().where(licence_options.c.design_id == design_id),
        exists().where(negotiations.c.design_id == design_id),
        exists().where(agreements.c.design_id == design_id),
        exists().where(orders.c.design_id == design_id),
    )


HUSK: Mapping[str, Any] = {
    "title": "Removed design", "description": "", "metals": [], "gemstones": [], "tags": [],
    "width_mm": None, "height_mm": None, "depth_mm": None, "price_minor": None, "price_currency": None,
    "status": DesignStatus.REMOVED.value,
}


def purge_designs(work: _Work, design_ids: Sequence[str]) -> None:
    """Delete designs' files and content: assets (blobs queued), tags, catalog entry,
    saves, counters, raw and daily analytics, licence options nobody negotiated. A
    design that records still name stays as a husk without content; any other goes."""
    conn, d = work.conn, designs
    for chunk in _chunks(design_ids):
        work.delete(assets, assets.c.design_id.in_(chunk))
        work.delete(design_tags, design_tags.c.design_id.in_(chunk))
        leave_catalog(work, chunk)
        work.delete(saved_designs, saved_designs.c.design_id.in_(chunk))
        work.delete(design_stats, design_stats.c.design_id.in_(chunk))
        work.delete(engagement_events, engagement_events.c.design_id.in_(chunk))
        work.delete(analytics_daily, analytics_daily.c.design_id.in_(chunk))
        lo = licence_options
        work.delete(lo, and_(lo.c.design_id.in_(chunk), ~exists().where(negotiations.c.option_id == lo.c.id)))
        conn.execute(
            update(d).where(d.c.id.in_(chunk), _still_referenced(d.c.id))
            .values(**HUSK, removed_at=func.coalesce(d.c.removed_at, work.now), purged_at=work.now,
                    updated_at=work.now)
        )
        work.delete(d, and_(d.c.id.in_(chunk), ~_still_referenced(d.c.id)))


def _drop_husks(work: _Work, design_ids: Iterable[str]) -> None:
    """Husks of purged designs that nothing names any more go too."""
    d = designs
    for chunk in _chunks(list(design_ids)):
        work.delete(d, and_(d.c.id.in_(chunk), d.c.purged_at.is_not(None), ~_still_referenced(d.c.id)))


def delete_threads(work: _Work, which: ColumnElement[bool]) -> None:
    """Threads matching ``which`` with their messages, translations, attachments
    (blobs queued), participants and read marks."""
    thread_ids = select(threads.c.id).where(which)
    message_ids = select(messages.c.id).where(messages.c.thread_id.in_(thread_ids))
    work.delete(message_translations, message_translations.c.message_id.in_(message_ids))
    work.delete(message_attachments, message_attachments.c.message_id.in_(message_ids))
    work.delete(messages, messages.c.thread_id.in_(thread_ids))
    work.delete(thread_participants, thread_participants.c.thread_id.in_(thread_ids))
    work.delete(thread_marks, thread_marks.c.thread_id.in_(thread_ids))
    work.delete(threads, which)


def delete_orders(work: _Work, order_ids: Sequence[str]) -> set[str]:
    """Orders with their ledger, payment instructions and thread; the designs they named."""
    touched: set[str] = set()
    for chunk in _chunks(order_ids):
        touched |= {str(x) for x in work.conn.execute(select(orders.c.design_id).where(orders.c.id.in_(chunk))
                                                      ).scalars()}
        entries = select(ledger_entries.c.id).where(ledger_entries.c.order_id.in_(chunk))
        work.delete(ledger_lines, ledger_lines.c.entry_id.in_(entries))
        work.delete(ledger_entries, ledger_entries.c.order_id.in_(chunk))
        work.delete(payment_instructions, payment_instructions.c.order_id.in_(chunk))
        delete_threads(work, and_(threads.c.kind == ThreadKind.ORDER.value, threads.c.subject_id.in_(chunk)))
        work.delete(orders, orders.c.id.in_(chunk))
    return touched


def _ids_where(conn: Connection, table: Table, ids: Sequence[str], *conds: ColumnElement[bool]) -> list[str]:
    out: list[str] = []
    for chunk in _chunks(ids):
        out += [str(x) for x in conn.execute(select(table.c.id).where(table.c.id.in_(chunk), *conds)).scalars()]
    return out


def _purge_transactions(work: _Work, by_kind: Mapping[str, Sequence[str]]) -> None:
    conn = work.conn
    touched = delete_orders(work, by_kind.get("order", ()))
    a = agreements
    for chunk in _chunks(_ids_where(conn, a, by_kind.get("agreement", ()),
                                    ~exists().where(orders.c.agreement_id == a.c.id))):
        touched |= {str(x) for x in conn.execute(select(a.c.design_id).where(a.c.id.in_(chunk))).scalars()}
        work.delete(a, a.c.id.in_(chunk))
    n = negotiations
    for chunk in _chunks(_ids_where(conn, n, by_kind.get("negotiation", ()),
                                    ~exists().where(agreements.c.negotiation_id == n.c.id))):
        touched |= {str(x) for x in conn.execute(select(n.c.design_id).where(n.c.id.in_(chunk))).scalars()}
        work.delete(negotiation_offers, negotiation_offers.c.negotiation_id.in_(chunk))
        delete_threads(work, and_(threads.c.kind == ThreadKind.NEGOTIATION.value, threads.c.subject_id.in_(chunk)))
        work.delete(n, n.c.id.in_(chunk))
    lo = licence_options
    for chunk in _chunks(_ids_where(conn, lo, by_kind.get("licence_option", ()),
                                    ~exists().where(negotiations.c.option_id == lo.c.id))):
        touched |= {str(x) for x in conn.execute(select(lo.c.design_id).where(lo.c.id.in_(chunk))).scalars()}
        work.delete(lo, lo.c.id.in_(chunk))
    for chunk in _chunks(by_kind.get("thread", ())):
        delete_threads(work, and_(threads.c.kind == ThreadKind.SUPPORT.value, threads.c.id.in_(chunk)))
    _drop_husks(work, touched)


# -- erasure: how each column is masked --------------------------------------------------


@dataclass
class _Erasure(_Work):
    user_id: str = ""
    pseudonym: str = ""
    email: str | None = None
    name: str | None = None
    business_name: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, key: str, n: int, *, same_rows: bool = False) -> None:
        if n:
            self.counts[key] = max(self.counts.get(key, 0), n) if same_rows else self.counts.get(key, 0) + n


Handler = Callable[[_Erasure, Table, str], int]


def _pseudonymise(job: _Erasure, table: Table, column: str) -> int:
    c = table.c[column]
    return _rowcount(job.conn.execute(update(table).where(c == job.user_id).values({column: job.pseudonym})))


def _null_field(job: _Erasure, table: Table, column: str) -> int:
    c = table.c[column]
    return _rowcount(job.conn.execute(update(table).where(c == job.user_id).values({column: None})))


def _delete_rows(job: _Erasure, table: Table, column: str) -> int:
    return job.delete(table, table.c[column] == job.user_id)


def _keep(job: _Erasure, table: Table, column: str) -> int:
    return 0


# The generic handler of each masking, for a column that holds a bare user id.
# REDACT has none: an id cannot be replaced by a placeholder.
GENERIC: Mapping[Masking, Handler] = {
    Masking.PSEUDONYMISE: _pseudonymise,
    Masking.NULL_FIELD: _null_field,
    Masking.DELETE_ROW: _delete_rows,
    Masking.KEEP: _keep,
}

# User references holding a bare user id (or an actor id such as `operator:<name>`).
PLAIN: frozenset[tuple[str, str]] = frozenset({
    ("designer_profiles", "user_id"),
    ("api_tokens", "user_id"),
    ("policy_versions", "published_by"),
    ("policy_acceptances", "user_id"),
    ("audit_log", "actor"),
    ("designs", "designer_id"),
    ("saved_designs", "user_id"),
    ("consents", "user_id"),
    ("engagement_events", "user_id"),
    ("licence_options", "designer_id"),
    ("negotiations", "buyer_id"),
    ("negotiations", "designer_id"),
    ("agreements", "designer_id"),
    ("agreements", "buyer_id"),
    ("threads", "created_by"),
    ("thread_participants", "user_id"),
    ("thread_marks", "user_id"),
    ("messages", "author_id"),
    ("manufacturers", "user_id"),
    ("manufacturers", "vetted_by"),
    ("orders", "buyer_id"),
    ("orders", "designer_id"),
    ("orders", "manufacturer_id"),
    ("ledger_entries", "buyer_id"),
    ("payment_instructions", "party_id"),
    ("data_requests", "user_id"),
    ("data_requests", "opened_by"),
    ("data_requests", "handled_by"),
    ("verification_codes", "user_id"),
    ("verification_codes", "requested_by"),
    ("legal_holds", "user_id"),
    ("legal_holds", "placed_by"),
    ("legal_holds", "released_by"),
    ("retention_runs", "started_by"),
})


def _replace_suffix(job: _Erasure, table: Table, column: str) -> int:
    """``…:<id>`` → ``…:<pseudonym>`` (ledger accounts, transfer idempotency keys)."""
    c = table.c[column]
    kept = func.substr(c, 1, func.length(c) - len(job.user_id))
    stmt = update(table).where(_ends_with_id(c, job.user_id)).values({column: kept + job.pseudonym})
    return _rowcount(job.conn.execute(stmt))


def _replace_json_string(job: _Erasure, table: Table, column: str) -> int:
    """``"<id>"`` → ``"<pseudonym>"`` inside JSON text (a list of ids, step facts, a timeline)."""
    c = table.c[column]
    old, new = _json_string(job.user_id), _json_string(job.pseudonym)
    stmt = update(table).where(c.contains(old, autoescape=True)).values({column: func.replace(c, old, new)})
    return _rowcount(job.conn.execute(stmt))


def _delete_notices(job: _Erasure, table: Table, column: str) -> int:
    """Notices for the person: keys ending in (or naming) their id, or sent to their address."""
    c = table.c[column]
    mine = [_ends_with_id(c, job.user_id), c.like(f"%:{_escape_like(job.user_id)}:%", escape="\\")]
    if job.email:
        mine.append(table.c.to_email == job.email)
    return job.delete(table, or_(*mine))


def _leave_catalog_of(job: _Erasure, table: Table, column: str) -> int:
    ids = [str(x) for x in job.conn.execute(select(table.c.design_id).where(table.c[column] == job.user_id)).scalars()]
    return leave_catalog(job, ids)


def _delete_account(job: _Erasure, table: Table, column: str) -> int:
    return job.delete(table, table.c[column] == job.user_id)


@dataclass(frozen=True)
class Special:
    """A user reference that needs its own handling; ``masking`` is the one it implements."""

    masking: Masking
    apply: Handler


SPECIAL: Mapping[tuple[str, str], Special] = {
    ("users", "id"): Special(Masking.DELETE_ROW, _delete_account),
    ("audit_log", "subject"): Special(Masking.KEEP, _keep),  # `user:<id>`: the chain is never rewritten
    ("catalog_entries", "designer_id"): Special(Masking.DELETE_ROW, _leave_catalog_of),
    ("outbox", "dedupe_key"): Special(Masking.DELETE_ROW, _delete_notices),
    ("orders", "declined_by_json"): Special(Masking.PSEUDONYMISE, _replace_json_string),
    ("ledger_lines", "account"): Special(Masking.PSEUDONYMISE, _replace_suffix),
    ("payment_instructions", "idempotency_key"): Special(Masking.PSEUDONYMISE, _replace_suffix),
}

# Columns that are not user references in the map but carry user ids inside text kept
# after the person (platform-written step facts, a request's timeline): the quoted id
# is replaced by the quoted pseudonym.
EMBEDDED_IDS: tuple[tuple[str, str], ...] = (
    ("messages", "event_data_json"),
    ("data_requests", "notes_json"),
)

# Text kept for someone else that may show the person's name or address (a notice to
# the counterparty: "Beatrix Buyer accepted your offer"): the JSON string is replaced.
MENTIONS: tuple[tuple[str, str], ...] = (("outbox", "values_json"),)


@dataclass(frozen=True)
class Owned:
    """Whose rows of a table are the person's: ``owner`` names them, or the row hangs
    off an owned row of ``parent`` (``(fk column, parent table)``). ``only`` narrows
    the rows; ``also`` sets non-personal markers with the masking."""

    owner: str | None = None
    parent: tuple[str, str] | None = None
    only: Callable[[Table], ColumnElement[bool]] | None = None
    also: Mapping[str, Any] = field(default_factory=dict)


OWNED: Mapping[str, Owned] = {
    "message_translations": Owned(parent=("message_id", "messages")),
    "message_attachments": Owned(parent=("message_id", "messages")),
    "messages": Owned("author_id", also={"removed": True}),
    # negotiation and order threads are titled after the design or order, by the platform
    "threads": Owned("created_by", only=lambda t: t.c.kind == ThreadKind.SUPPORT.value),
    "data_requests": Owned("user_id"),
    "consents": Owned("user_id"),
    "payment_instructions": Owned("party_id"),
    "engagement_events": Owned("user_id"),
}


def _identifier_columns(data_map: DataMap, table: str) -> frozenset[str]:
    return frozenset(c for t, c in data_map.user_references() if t == table)


def owned_maskings(table: str, data_map: DataMap = DATA_MAP) -> dict[str, Masking]:
    """The personal columns of an owned table (user references aside) and their masking."""
    ids = _identifier_columns(data_map, table)
    out: dict[str, Masking] = {}
    for column in data_map.personal_columns(table):
        rule = data_map.rule_for(table, column)
        if rule is not None and column not in ids:
            out[column] = rule.masking
    return out


def handler_problems(data_map: DataMap = DATA_MAP) -> list[str]:
    """Everything in the map erasure cannot apply; empty when erasure knows every column."""
    out: list[str] = []
    references = data_map.user_references()
    for table, column in references:
        rule = data_map.rule_for(table, column)
        assert rule is not None
        special = SPECIAL.get((table, column))
        if special is not None:
            if special.masking is not rule.masking:
                out.append(f"{table}.{column}: the data map says {rule.masking.value} but erasure's handler "
                           f"does {special.masking.value} (caratzon_adapters.sql.privacy.SPECIAL)")
        elif (table, column) not in PLAIN:
            out.append(f"{table}.{column}: a user reference (masking {rule.masking.value}) erasure has no handler "
                       "for: add it to PLAIN (a bare id) or SPECIAL in caratzon_adapters.sql.privacy")
        elif rule.masking not in GENERIC:
            out.append(f"{table}.{column}: erasure has no handler for masking {rule.masking.value} on a bare id")
    known = set(references)
    for table, column in sorted({*PLAIN, *SPECIAL}):
        if (table, column) not in known:
            out.append(f"{table}.{column}: erasure handles it as a user reference but the data map does not")
    deleted_by_reference = {t for t, c in references if (rule := data_map.rule_for(t, c)) is not None
                            and rule.masking is Masking.DELETE_ROW}
    for table in data_map.personal_tables():
        masked = {c: m for c, m in owned_maskings(table, data_map).items() if m is not Masking.KEEP}
        if masked and table not in OWNED and table not in deleted_by_reference and table not in DESIGN_TABLES:
            columns = ", ".join(f"{c} ({m.value})" for c, m in masked.items())
            out.append(f"{table}: erasure masks {columns} but cannot tell whose rows they are: add the table to "
                       "OWNED in caratzon_adapters.sql.privacy")
    for table, owned in OWNED.items():
        if table not in data_map.tables:
            out.append(f"{table}: in OWNED but not in the data map")
        elif owned.owner is None and owned.parent is None:
            out.append(f"{table}: OWNED names neither an owner column nor a parent")
    return out


class ErasureMapError(RuntimeError):
    """The data map has a column erasure does not know how to mask."""


def check_handlers(data_map: DataMap = DATA_MAP) -> None:
    problems = handler_problems(data_map)
    if problems:
        raise ErasureMapError("erasure cannot apply the data map:\n  " + "\n  ".join(problems))


_DELETE_ORDER = {t.name: i for i, t in enumerate(reversed(metadata.sorted_tables))}  # children first


def _walk(job: _Erasure, data_map: DataMap) -> None:
    """Every user reference's masking: rewrites, then deletions children first, users last."""
    masking: dict[tuple[str, str], Masking] = {}
    for ref in data_map.user_references():
        rule = data_map.rule_for(*ref)
        assert rule is not None
        masking[ref] = rule.masking
    rewrites = [r for r, m in masking.items() if m is not Masking.DELETE_ROW]
    deletions = sorted((r for r, m in masking.items() if m is Masking.DELETE_ROW),
                       key=lambda r: (r == ("users", "id"), _DELETE_ORDER[r[0]]))
    for table, column in [*rewrites, *deletions]:
        m = masking[(table, column)]
        special = SPECIAL.get((table, column))
        handler = special.apply if special is not None else GENERIC[m]
        n = handler(job, metadata.tables[table], column)
        if m is not Masking.DELETE_ROW:  # deletions are tallied per table as they happen
            owned = OWNED.get(table)
            job.count(f"{table}.{m.value}", n, same_rows=owned is not None and owned.owner == column)


def _owned_rows(table: str, user_id: str) -> ColumnElement[bool]:
    owned = OWNED[table]
    t = metadata.tables[table]
    cond: ColumnElement[bool]
    if owned.parent is not None:
        fk, parent = owned.parent
        p = metadata.tables[parent]
        cond = t.c[fk].in_(select(p.c.id).where(_owned_rows(parent, user_id)))
    else:
        assert owned.owner is not None
        cond = t.c[owned.owner] == user_id
    return and_(cond, owned.only(t)) if owned.only is not None else cond


def _mask_owned(job: _Erasure, data_map: DataMap) -> None:
    """Step 4: the masking of every personal column of the rows that are the person's."""
    for table in OWNED:
        t = metadata.tables[table]
        maskings = owned_maskings(table, data_map)
        where = _owned_rows(table, job.user_id)
        if table == "threads":
            _forget_notices_about(job, [str(x) for x in job.conn.execute(select(t.c.id).where(where)).scalars()])
        if Masking.DELETE_ROW in maskings.values():
            job.delete(t, where)
            continue
        values: dict[str, Any] = {}
        for column, masking in maskings.items():
            if masking is Masking.REDACT:
                values[column] = ""
            elif masking is Masking.NULL_FIELD:
                values[column] = None
            elif masking is Masking.PSEUDONYMISE:
                values[column] = job.pseudonym
        if not values:
            continue
        n = _rowcount(job.conn.execute(update(t).where(where).values({**values, **OWNED[table].also})))
        for masking in {maskings[c] for c in values}:
            job.count(f"{table}.{masking.value}", n)


def _mask_embedded(job: _Erasure) -> None:
    """Ids, names and the address copied into text that outlives the person."""
    for table, column in EMBEDDED_IDS:
        job.count(f"{table}.{Masking.PSEUDONYMISE.value}", _replace_json_string(job, metadata.tables[table], column))
    # (text, its replacement, whether only a whole JSON string value is replaced): a name
    # only as a whole value, so "Al" never rewrites "Alloy"; an address wherever it is
    said: list[tuple[str, str, bool]] = []
    if job.name:
        said.append((job.name, ERASED_NAME, True))
    if job.business_name:
        said.append((job.business_name, ERASED_NAME, True))
    if job.email:
        said.append((job.email, f"{job.pseudonym}@{ERASED_EMAIL_DOMAIN}", False))
    for table, column in MENTIONS:
        t = metadata.tables[table]
        c = t.c[column]
        for text_, instead, whole in said:
            old, new = _json_string(text_), _json_string(instead)
            if not whole:
                old, new = old[1:-1], new[1:-1]
            stmt = update(t).where(c.contains(old, autoescape=True)).values({column: func.replace(c, old, new)})
            job.count(f"{table}.{Masking.REDACT.value}", _rowcount(job.conn.execute(stmt)))


def _forget_notices_about(job: _Erasure, thread_ids: Sequence[str]) -> None:
    """"New messages" notices about the person's support threads carry the title they
    wrote: they go with the title (keys ``digest:<thread id>:<reader>:<time>``)."""
    o = outbox
    for chunk in _chunks(thread_ids, 100):
        job.delete(o, or_(*(o.c.dedupe_key.like(f"digest:{_escape_like(t)}:%", escape="\\") for t in chunk)))


# -- retention: candidates per rule and kind ------------------------------------------------


def _held(user_id: ColumnElement[Any]) -> ColumnElement[bool]:
    lh = legal_holds
    return exists().where(lh.c.user_id == user_id, lh.c.active.is_not(None))


def _any_held(*user_ids: ColumnElement[Any]) -> ColumnElement[bool]:
    return or_(*(_held(u) for u in user_ids))


def _party_order(user_id: ColumnElement[Any], statuses: Sequence[str]) -> ColumnElement[bool]:
    o = orders
    return or_(*(exists().where(col == user_id, o.c.status.in_(statuses))
                 for col in (o.c.buyer_id, o.c.designer_id, o.c.manufacturer_id)))


def _active_on(day: date) -> ColumnElement[bool]:
    a = agreements
    return and_(a.c.status == AgreementStatus.ACTIVE.value, a.c.effective_date <= day,
                or_(a.c.end_date.is_(None), a.c.end_date > day))


def _flag(keep: Keep, condition: ColumnElement[bool]) -> Any:
    return condition.label(f"keep_{keep.value}")


_NO_NOTE = null().label("note")


def _accounts(cut: Cutoffs) -> Select[Any]:
    u = users
    return select(
        u.c.id, u.c.closed_at.label("since"), _NO_NOTE,
        _flag(Keep.LEGAL_HOLD, _held(u.c.id)),
        _flag(Keep.OPEN_ORDER, _party_order(u.c.id, OPEN_ORDER_STATUSES)),
        _flag(Keep.OPEN_DISPUTE, _party_order(u.c.id, (OrderStatus.DISPUTED.value,))),
    ).where(u.c.status == "closed", u.c.erased_at.is_(None), u.c.closed_at <= cut[RuleCode.ACCOUNT])


def _designs(cut: Cutoffs) -> Select[Any]:
    d, a, o = designs, agreements, orders
    licence = (select(func.min(a.c.id)).where(a.c.design_id == d.c.id, _active_on(cut.as_of.astimezone(UTC).date()))
               .scalar_subquery())
    return select(
        d.c.id, d.c.removed_at.label("since"), licence.label("note"),
        _flag(Keep.LEGAL_HOLD, _held(d.c.designer_id)),
        _flag(Keep.OPEN_ORDER, exists().where(o.c.design_id == d.c.id, o.c.status.in_(OPEN_ORDER_STATUSES))),
        _flag(Keep.OPEN_DISPUTE, exists().where(o.c.design_id == d.c.id, o.c.status == OrderStatus.DISPUTED.value)),
    ).where(d.c.status == DesignStatus.REMOVED.value, d.c.purged_at.is_(None),
            d.c.removed_at <= cut[RuleCode.DESIGN_ASSET])


def _orders(cut: Cutoffs) -> Select[Any]:
    o = orders
    since = func.coalesce(o.c.closed_at, o.c.updated_at)
    return select(
        o.c.id, since.label("since"), _NO_NOTE,
        _flag(Keep.LEGAL_HOLD, _any_held(o.c.buyer_id, o.c.designer_id, o.c.manufacturer_id)),
    ).where(o.c.status.in_(ENDED_ORDER_STATUSES), since <= cut[RuleCode.TRANSACTION])


def _agreements(cut: Cutoffs) -> Select[Any]:
    a = agreements
    return select(
        a.c.id, a.c.end_date.label("since"), _NO_NOTE,
        _flag(Keep.RECORDS_REMAIN, exists().where(orders.c.agreement_id == a.c.id)),
        _flag(Keep.LEGAL_HOLD, _any_held(a.c.buyer_id, a.c.designer_id)),
    ).where(a.c.end_date.is_not(None), a.c.end_date <= cut[RuleCode.TRANSACTION].astimezone(UTC).date())


def _negotiations(cut: Cutoffs) -> Select[Any]:
    n = negotiations
    return select(
        n.c.id, n.c.closed_at.label("since"), _NO_NOTE,
        _flag(Keep.RECORDS_REMAIN, exists().where(agreements.c.negotiation_id == n.c.id)),
        _flag(Keep.LEGAL_HOLD, _any_held(n.c.buyer_id, n.c.designer_id)),
    ).where(n.c.status != NegotiationStatus.OPEN.value, n.c.closed_at <= cut[RuleCode.TRANSACTION])


def _licence_options(cut: Cutoffs) -> Select[Any]:
    lo = licence_options
    return select(
        lo.c.id, lo.c.retired_at.label("since"), _NO_NOTE,
        _flag(Keep.RECORDS_REMAIN, exists().where(negotiations.c.option_id == lo.c.id)),
        _flag(Keep.LEGAL_HOLD, _held(lo.c.designer_id)),
    ).where(lo.c.status == OptionStatus.RETIRED.value, lo.c.retired_at <= cut[RuleCode.TRANSACTION])


def _support_threads(cut: Cutoffs) -> Select[Any]:
    t = threads
    return select(
        t.c.id, t.c.activity_at.label("since"), _NO_NOTE,
        _flag(Keep.LEGAL_HOLD, _held(t.c.created_by)),
    ).where(t.c.kind == ThreadKind.SUPPORT.value, t.c.activity_at <= cut[RuleCode.TRANSACTION])


KindQuery = Callable[[Cutoffs], Select[Any]]

# rule -> kind -> query, the kinds in the order of their refs ("agreement:…" < "order:…").
CANDIDATES: Mapping[RuleCode, Mapping[str, KindQuery]] = {
    RuleCode.ACCOUNT: {"user": _accounts},
    RuleCode.DESIGN_ASSET: {"design": _designs},
    RuleCode.TRANSACTION: {k: q for k, q in sorted({
        "order": _orders, "agreement": _agreements, "negotiation": _negotiations,
        "licence_option": _licence_options, "thread": _support_threads,
    }.items())},
}


def _since(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):  # SQLite hands COALESCE of two times back as text
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    assert isinstance(value, date)
    return datetime.combine(value, time(0), tzinfo=UTC)


def _candidates(conn: Connection, rule: RuleCode, cut: Cutoffs, *, after: str | None,
                limit: int | None) -> list[Candidate]:
    kinds = CANDIDATES.get(rule)
    if kinds is None:
        raise ValueError(f"{rule.value} is not a rule over items")
    after_kind, _, after_id = (after or "").partition(":")
    out: list[Candidate] = []
    for kind, query in kinds.items():
        if after is not None and kind < after_kind:
            continue
        if limit is not None and len(out) >= limit:
            break
        stmt = query(cut)
        key = stmt.selected_columns.id
        if after is not None and kind == after_kind:
            stmt = stmt.where(key > after_id)
        stmt = stmt.order_by(key)
        if limit is not None:
            stmt = stmt.limit(limit - len(out))
        for row in conn.execute(stmt).mappings():
            keeps = frozenset(Keep(k[5:]) for k, v in row.items() if k.startswith("keep_") and v)
            note = row["note"]
            if note is not None:
                keeps |= {Keep.ACTIVE_LICENCE}
            out.append(Candidate(rule, kind, str(row["id"]), _since(row["since"]), keeps,
                                 "" if note is None else str(note)))
    return out


# -- mapping holds and runs ---------------------------------------------------------------------


def _hold_from_row(row: Any) -> LegalHold:
    return LegalHold(id=row["id"], user_id=row["user_id"], reason=row["reason"], placed_by=row["placed_by"],
                     placed_at=row["placed_at"], released_by=row["released_by"], released_at=row["released_at"],
                     release_reason=row["release_reason"])


def _run_to_row(run: RetentionRun) -> dict[str, Any]:
    return {"id": run.id, "as_of": run.as_of, "started_by": run.started_by, "started_at": run.started_at,
            "finished_at": run.finished_at, "status": run.status.value,
            "counts_json": json.dumps(dict(sorted(run.counts.items())), separators=(",", ":")), "error": run.error}


def _run_from_row(row: Any) -> RetentionRun:
    counts = json.loads(row["counts_json"])
    return RetentionRun(id=row["id"], as_of=row["as_of"], started_by=row["started_by"], started_at=row["started_at"],
                        status=RunStatus(row["status"]), counts={str(k): int(v) for k, v in counts.items()},
                        finished_at=row["finished_at"], error=row["error"])


# -- analytics ---------------------------------------------------------------------------------

# PostgreSQL: one statement. The batch's events are deleted and the deleted rows (and
# only those: RETURNING) are folded into the daily counts, so two runs racing over the
# same events cannot count one twice; the day is the UTC day whatever the session's zone.
_FOLD_POSTGRES = text("""
WITH batch AS (
    SELECT ctid FROM engagement_events
    WHERE at <= :cutoff
    ORDER BY at, id
    LIMIT :limit
), gone AS (
    DELETE FROM engagement_events
    WHERE ctid = ANY(ARRAY(SELECT ctid FROM batch))
    RETURNING design_id, kind, at, scroll_depth
), folded AS (
    INSERT INTO analytics_daily AS a (design_id, day, kind, events, depth_sum, depth_count)
    SELECT design_id, CAST(timezone('UTC', at) AS date), kind,
           count(*), COALESCE(sum(scroll_depth), 0), count(scroll_depth)
    FROM gone
    GROUP BY 1, 2, 3
    ON CONFLICT (design_id, day, kind) DO UPDATE SET
        events = a.events + excluded.events,
        depth_sum = a.depth_sum + excluded.depth_sum,
        depth_count = a.depth_count + excluded.depth_count
)
SELECT count(*) FROM gone
""").bindparams(bindparam("cutoff", type_=UtcDateTime()), bindparam("limit"))


def _fold_sqlite(conn: Connection, cutoff: datetime, limit: int) -> int:
    """SQLite: the same batch (a total order, read twice under the write lock every
    SQLite transaction here holds) is folded, then deleted."""
    e, a = engagement_events, analytics_daily
    batch = select(e.c.id).where(e.c.at <= cutoff).order_by(e.c.at, e.c.id).limit(limit)
    grouped = (
        select(e.c.design_id, func.substr(e.c.at, 1, 10), e.c.kind, func.count(),
               func.coalesce(func.sum(e.c.scroll_depth), 0), func.count(e.c.scroll_depth))
        .where(e.c.id.in_(batch))
        .group_by(e.c.design_id, func.substr(e.c.at, 1, 10), e.c.kind)
    )
    stmt = _upsert_insert(conn, a).from_select(["design_id", "day", "kind", "events", "depth_sum", "depth_count"],
                                               grouped)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["design_id", "day", "kind"],
        set_={"events": a.c.events + stmt.excluded.events, "depth_sum": a.c.depth_sum + stmt.excluded.depth_sum,
              "depth_count": a.c.depth_count + stmt.excluded.depth_count},
    ))
    return _rowcount(conn.execute(delete(e).where(e.c.id.in_(batch))))


# -- the store -------------------------------------------------------------------------------------


class SqlPrivacyStore:
    """:class:`~caratzon_core.ports.PrivacyStore` on the unit of work's connection.
    Building it checks that erasure knows every column of the data map."""

    def __init__(self, data_map: DataMap = DATA_MAP) -> None:
        check_handlers(data_map)
        self._map = data_map

    # -- erasure --

    def person_facts(self, uow: UnitOfWork, user_id: str, today: date) -> PersonFacts:
        conn = _conn(uow)
        row = conn.execute(select(users.c.id, users.c.erased_at).where(users.c.id == user_id)).first()
        if row is None:
            return PersonFacts(user_id, exists=False)
        if row.erased_at is not None:
            return PersonFacts(user_id, already_erased=True)
        hold = self.standing_hold(uow, user_id)
        o = orders
        party = or_(o.c.buyer_id == user_id, o.c.designer_id == user_id, o.c.manufacturer_id == user_id)
        open_orders: list[str] = []
        disputed: list[str] = []
        stmt = select(o.c.id, o.c.status).where(party, o.c.status.in_([*OPEN_ORDER_STATUSES,
                                                                        OrderStatus.DISPUTED.value]))
        for order_id, status in conn.execute(stmt.order_by(o.c.id)):
            (disputed if status == OrderStatus.DISPUTED.value else open_orders).append(str(order_id))
        d, a = designs, agreements
        licensed = conn.execute(
            select(d.c.id).where(d.c.designer_id == user_id,
                                 exists().where(a.c.design_id == d.c.id, _active_on(today))).order_by(d.c.id)
        ).scalars().all()
        return PersonFacts(user_id, hold_reason=None if hold is None else hold.reason,
                           open_orders=tuple(open_orders), disputed_orders=tuple(disputed),
                           licensed_designs=tuple(str(x) for x in licensed))

    def erase_person(self, uow: UnitOfWork, user_id: str, *, pseudonym: str, now: datetime,
                     keep_designs: Sequence[str] = ()) -> ErasureReport:
        if not pseudonym or pseudonym == user_id or len(pseudonym) > _ID_LENGTH:
            raise ValueError(f"erasure needs a pseudonym other than the user id, at most {_ID_LENGTH} characters")
        conn = _conn(uow)
        person = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
        job = _Erasure(conn, now, REASON_ERASURE, user_id=user_id, pseudonym=pseudonym,
                       email=None if person is None else str(person["email"]),
                       name=None if person is None else str(person["name"]),
                       business_name=None if person is None else person["business_name"])
        if person is not None:
            stand_in = {
                "id": pseudonym, "email": f"{pseudonym}@{ERASED_EMAIL_DOMAIN}".lower(), "name": ERASED_NAME,
                "role": person["role"], "password_hash": ERASED_PASSWORD_HASH, "language": STAND_IN_LANGUAGE,
                "status": "closed", "business_name": None, "business_address": None, "age_confirmed_at": now,
                "created_at": now, "updated_at": now, "closed_at": now, "ai_objection_at": now, "erased_at": now,
            }
            job.count("users.stand_in", int(_insert_if_absent(conn, users, stand_in, ["id"])))

        # open negotiations withdrawn, draft orders deleted, while they still name the person
        ng = negotiations
        job.count("negotiations.withdrawn", _rowcount(conn.execute(
            update(ng).where(or_(ng.c.buyer_id == user_id, ng.c.designer_id == user_id),
                             ng.c.status == NegotiationStatus.OPEN.value)
            .values(status=NegotiationStatus.WITHDRAWN.value, closed_at=now, last_activity_at=now,
                    version=ng.c.version + 1))))
        drafts = conn.execute(select(orders.c.id).where(orders.c.buyer_id == user_id,
                                                        orders.c.status == OrderStatus.DRAFT.value)).scalars().all()
        delete_orders(job, [str(x) for x in drafts])

        # designs: kept under a licence (removed, out of the catalog, files kept) or purged
        d = designs
        theirs = [str(x) for x in conn.execute(select(d.c.id).where(d.c.designer_id == user_id)).scalars()]
        kept = [x for x in dict.fromkeys(keep_designs) if x in set(theirs)]
        for chunk in _chunks(kept):
            job.count("designs.removed", _rowcount(conn.execute(
                update(d).where(d.c.id.in_(chunk))
                .values(status=DesignStatus.REMOVED.value, removed_at=func.coalesce(d.c.removed_at, now),
                        updated_at=now))))
            leave_catalog(job, chunk)
        purged = [x for x in theirs if x not in set(kept)]
        purge_designs(job, purged)
        job.count("designs.purged", len(purged))

        _mask_owned(job, self._map)
        _walk(job, self._map)
        _mask_embedded(job)
        for name, n in job.deleted.items():
            job.count(f"{name}.{Masking.DELETE_ROW.value}", n)
        return ErasureReport(user_id, pseudonym, counts=job.counts, blobs=job.blobs, kept_designs=tuple(kept))

    # -- retention --

    def snapshot(self, uow: UnitOfWork, cutoffs: Cutoffs) -> Snapshot:
        conn = _conn(uow)
        found: list[Candidate] = []
        for rule in CANDIDATES:
            found += _candidates(conn, rule, cutoffs, after=None, limit=None)
        e = engagement_events
        events = conn.execute(select(func.count()).select_from(e).where(e.c.at <= cutoffs[RuleCode.ANALYTICS])
                              ).scalar_one()
        audit_cut = cutoffs[RuleCode.AUDIT]
        bound = self.audit_prune_bound(uow, audit_cut)
        al = audit_log
        head = conn.execute(select(func.max(al.c.seq))).scalar_one()
        prunable = 0
        held_entries = 0
        note = ""
        if head is not None:
            conds = [al.c.at <= audit_cut, al.c.seq < head]
            if bound is not None:
                conds.append(al.c.seq < bound)
            prunable = conn.execute(select(func.count()).select_from(al).where(*conds)).scalar_one()
        if bound is not None:
            held_entries = conn.execute(select(func.count()).select_from(al).where(al.c.at <= audit_cut,
                                                                                  al.c.seq >= bound)).scalar_one()
            note = self._held_note(conn, bound)
        exports, retries = self.count_due_blobs(uow, cutoffs.as_of)
        return Snapshot(cutoffs, tuple(found), analytics_events=int(events), audit_entries=int(prunable),
                        audit_held_from=bound, audit_held_entries=int(held_entries), audit_held_note=note,
                        export_files=exports, blob_retries=retries)

    def _held_note(self, conn: Connection, seq: int) -> str:
        row = conn.execute(select(audit_log.c.actor, audit_log.c.subject).where(audit_log.c.seq == seq)).first()
        if row is None:
            return ""
        held = set(self._held_ids(conn))
        who = row.actor if row.actor in held else str(row.subject).removeprefix("user:")
        return f"user {who}"

    @staticmethod
    def _held_ids(conn: Connection) -> list[str]:
        lh = legal_holds
        return [str(x) for x in conn.execute(select(lh.c.user_id).where(lh.c.active.is_not(None))).scalars()]

    def due_batch(self, uow: UnitOfWork, rule: RuleCode, cutoffs: Cutoffs, *, after: str | None,
                  limit: int) -> list[Candidate]:
        return _candidates(_conn(uow), rule, cutoffs, after=after, limit=limit)

    def purge(self, uow: UnitOfWork, rule: RuleCode, items: Sequence[Candidate], *, now: datetime) -> int:
        conn = _conn(uow)
        by_kind: dict[str, list[str]] = {}
        for item in items:
            if item.rule is not rule:
                raise ValueError(f"{item.ref} is a candidate of {item.rule.value}, not {rule.value}")
            by_kind.setdefault(item.kind, []).append(item.id)
        if rule is RuleCode.DESIGN_ASSET:
            unknown = set(by_kind) - {"design"}
            work = _Work(conn, now, REASON_DESIGN_ASSET)
            if not unknown:
                purge_designs(work, by_kind.get("design", []))
        elif rule is RuleCode.TRANSACTION:
            unknown = set(by_kind) - set(CANDIDATES[RuleCode.TRANSACTION])
            work = _Work(conn, now, REASON_TRANSACTION)
            if not unknown:
                _purge_transactions(work, by_kind)
        else:
            raise ValueError(f"{rule.value} items are not purged here")
        if unknown:
            raise ValueError(f"no purge for {', '.join(sorted(unknown))} under {rule.value}")
        return work.rows

    def aggregate_analytics(self, uow: UnitOfWork, cutoff: datetime, *, limit: int) -> int:
        if limit <= 0:
            return 0
        conn = _conn(uow)
        if conn.dialect.name == "postgresql":
            return int(conn.execute(_FOLD_POSTGRES, {"cutoff": cutoff, "limit": limit}).scalar_one())
        return _fold_sqlite(conn, cutoff, limit)

    def audit_prune_bound(self, uow: UnitOfWork, cutoff: datetime) -> int | None:
        conn = _conn(uow)
        held = self._held_ids(conn)
        if not held:
            return None
        al = audit_log
        by_subject = select(func.min(al.c.seq)).where(al.c.subject.in_([f"user:{h}" for h in held]),
                                                       al.c.at <= cutoff)
        by_actor = select(func.min(al.c.seq)).where(al.c.actor.in_(held), al.c.at <= cutoff)
        found = [v for v in (conn.execute(by_subject).scalar_one(), conn.execute(by_actor).scalar_one())
                 if v is not None]
        return int(min(found)) if found else None

    # -- legal holds --

    def standing_hold(self, uow: UnitOfWork, user_id: str) -> LegalHold | None:
        lh = legal_holds
        row = _conn(uow).execute(select(lh).where(lh.c.user_id == user_id, lh.c.active.is_not(None))
                                 ).mappings().first()
        return None if row is None else _hold_from_row(row)

    def holds(self, uow: UnitOfWork, *, standing_only: bool = True) -> list[LegalHold]:
        lh = legal_holds
        stmt = select(lh).where(lh.c.active.is_not(None) if standing_only else true())
        rows = _conn(uow).execute(stmt.order_by(lh.c.placed_at.desc(), lh.c.id)).mappings()
        return [_hold_from_row(r) for r in rows]

    def add_hold(self, uow: UnitOfWork, hold: LegalHold) -> None:
        conn = _conn(uow)
        standing = self.standing_hold(uow, hold.user_id) if hold.standing else None
        if standing is not None:
            raise Conflict(_already_held(standing))
        values = {"id": hold.id, "user_id": hold.user_id, "reason": hold.reason, "placed_by": hold.placed_by,
                  "placed_at": hold.placed_at, "active": True if hold.standing else None,
                  "released_by": hold.released_by, "released_at": hold.released_at,
                  "release_reason": hold.release_reason}
        try:
            with conn.begin_nested():
                conn.execute(insert(legal_holds).values(values))
        except IntegrityError:
            standing = self.standing_hold(uow, hold.user_id)
            if standing is not None:
                raise Conflict(_already_held(standing)) from None
            if conn.execute(select(legal_holds.c.id).where(legal_holds.c.id == hold.id)).first() is not None:
                raise Conflict("A legal hold with this id exists already.") from None
            raise

    def release_hold(self, uow: UnitOfWork, hold_id: str, *, by: str, at: datetime, reason: str) -> None:
        lh = legal_holds
        result = _conn(uow).execute(
            update(lh).where(lh.c.id == hold_id, lh.c.active.is_not(None))
            .values(active=None, released_by=by, released_at=at, release_reason=reason)
        )
        if _rowcount(result) == 0:
            raise NotFound("No standing legal hold with this id.")

    # -- blob deletions --

    def queue_blobs(self, uow: UnitOfWork, keys: Sequence[str], *, reason: str, now: datetime,
                    due_at: datetime | None = None) -> int:
        return queue_blob_keys(_conn(uow), keys, reason=reason, now=now, due_at=due_at)

    def due_blobs(self, uow: UnitOfWork, now: datetime, *, reason: str | None = None,
                  retries_only: bool = False, limit: int = 500) -> list[str]:
        b = blob_deletions
        conds = [b.c.due_at <= now]
        if reason is not None:
            conds.append(b.c.reason == reason)
        if retries_only:
            conds.append(b.c.attempts > 0)
        stmt = select(b.c.key).where(*conds).order_by(b.c.due_at, b.c.key).limit(limit)
        return [str(k) for k in _conn(uow).execute(stmt).scalars()]

    def count_due_blobs(self, uow: UnitOfWork, now: datetime) -> tuple[int, int]:
        b = blob_deletions
        stmt = select(
            # Each key counted once: first attempts at export zips, and everything else.
            func.count().filter(b.c.reason == REASON_EXPORT_FILE, b.c.attempts == 0),
            func.count().filter(or_(b.c.reason != REASON_EXPORT_FILE, b.c.attempts > 0)),
        ).where(b.c.due_at <= now)
        exports, retries = _conn(uow).execute(stmt).one()
        return int(exports or 0), int(retries or 0)

    def blobs_deleted(self, uow: UnitOfWork, keys: Sequence[str]) -> None:
        conn = _conn(uow)
        for chunk in _chunks(list(keys)):
            conn.execute(delete(blob_deletions).where(blob_deletions.c.key.in_(chunk)))

    def blob_failed(self, uow: UnitOfWork, key: str, *, error: str, now: datetime) -> None:
        b = blob_deletions
        _conn(uow).execute(update(b).where(b.c.key == key).values(
            attempts=b.c.attempts + 1, last_error=error[:MAX_ERROR], last_attempt_at=now))

    # -- runs --

    def save_run(self, uow: UnitOfWork, run: RetentionRun) -> None:
        _upsert(_conn(uow), retention_runs, _run_to_row(run), ["id"])

    def runs(self, uow: UnitOfWork, *, limit: int = 10) -> list[RetentionRun]:
        r = retention_runs
        stmt = select(r).order_by(r.c.started_at.desc(), r.c.id.desc()).limit(limit)
        return [_run_from_row(row) for row in _conn(uow).execute(stmt).mappings()]


def _already_held(hold: LegalHold) -> str:
    return (f"A legal hold already stands on this account (placed {hold.placed_at:%Y-%m-%d} by {hold.placed_by}: "
            f"{hold.reason}); release it before placing another.")


__all__ = ["BLOB_COLUMNS", "GENERIC", "OWNED", "PLAIN", "SPECIAL", "ErasureMapError", "SqlPrivacyStore",
           "check_handlers", "handler_problems", "queue_blob_keys"]
