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

**Batches.** :meth:`SqlPrivacyStore.erase_people` erases many people at once, each
step one or a few statements for the whole batch, and leaves the database exactly
as erasing them one at a time in the order given would (``erase_person`` is a batch
of one). Ids are bound as one array on PostgreSQL (``= ANY(:ids)``), an ``IN`` list
on SQLite; pseudonyms come from ``UPDATE … FROM unnest(:ids, :pseudonyms)`` (a
``CASE`` on SQLite). Text that encodes ids is searched once per batch for all of
them — the ends of ledger accounts and transfer keys looked up in a set, JSON text
and notice keys split into pieces that are looked up in a set — and the rows found
are rewritten in Python, each person's ``replace()`` in turn, and written back by
key. Where one person's erasure would change what a later one finds, the batch does
what one at a time does: a batch starts at each person with draft orders (the
people before them still see those orders and the designs they name); notices are
replayed row by row, person by person (digests, notices for them, mentions).

**Reports** are one per person and their counts exact — the counts erasing each one
alone, in turn, gives: every statement returns whose rows it touched (``RETURNING``,
counted in a CTE on PostgreSQL; counted before the ``UPDATE`` on SQLite). A row two
people's erasures would both reach is counted for the earlier: a row deleted goes
to the earliest person whose own erasure deletes rows by a column of it
(:func:`_rival_columns`: a save of one person's on another's design), and a rewrite
is not counted for a row an earlier person's erasure deletes.

**Retention** reads candidates per rule and kind (:data:`CANDIDATES`): one query per
kind, the exceptions (:class:`~caratzon_core.retention.Keep`) computed beside each
item by ``EXISTS`` sub-selects, in ``ref`` order for keyset batches. Purges delete a
batch children first, its ids bound as one array on PostgreSQL (``= ANY(:ids)``: not
a parameter per id for the client to expand), as ``IN (…)`` lists on SQLite; a design
records still name stays as a content-free husk until the last of them is purged. Raw analytics are folded into
``analytics_daily`` and deleted in one statement on PostgreSQL (``DELETE …
RETURNING`` feeding an upsert), so an event is counted exactly when it is deleted.

:func:`handler_problems` lists every user reference of the map that erasure does not
know how to mask and every personal table whose owner it cannot tell; the store
refuses to be built while there is one, and a test keeps the list empty — adding a
column to the map without teaching erasure fails.

Each step is a few set-based statements per table (``UPDATE … FROM unnest(…)``,
``DELETE … WHERE col = ANY(:ids)``): the cost does not grow with round trips per row
or per person.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Select,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
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
from caratzon_core.erasure import ERASED_EMAIL_DOMAIN, ERASED_NAME, Erasee, ErasureReport, PersonFacts
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
_TEXT_ARRAY = ARRAY(Text)
_SEPARATOR = "\x1f"  # ASCII unit separator: in no id, key or name


def _conn(uow: UnitOfWork) -> Connection:
    return cast(SqlUnitOfWork, uow).connection


def _chunks(ids: Sequence[str], size: int = CHUNK) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), size):
        yield unique[start:start + size]


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _texts(values: Iterable[str]) -> Any:
    """Strings bound as one PostgreSQL ``text[]``: joined into one string parameter that
    ``string_to_array`` splits (folded into a constant when the statement is planned,
    so the planner sees the values) — the driver's adaptation of a list tests every
    element against a pattern, a cost per id on the client. A list the separator
    cannot carry (an empty string, one holding it) is bound as a list."""
    items = list(values)
    joined = _SEPARATOR.join(items)
    if items and joined.count(_SEPARATOR) == len(items) - 1 and "" not in items:
        return func.string_to_array(bindparam(None, joined, type_=Text), _SEPARATOR, type_=_TEXT_ARRAY)
    return bindparam(None, items, type_=_TEXT_ARRAY)


def _among(conn: Connection, column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
    """``column IN values``: on PostgreSQL one array parameter (``= ANY(…)``, hashed by the
    server), not a parameter per value for the client to expand and bind."""
    if _postgres(conn):
        return column == any_(_texts(values))
    return column.in_(list(values))


def _by_length(values: Iterable[str]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for v in dict.fromkeys(values):
        out.setdefault(len(v), []).append(v)
    return out


def _ends_in(conn: Connection, column: ColumnElement[Any], suffixes: Sequence[str]) -> ColumnElement[bool]:
    """The text ends with one of ``suffixes`` (case-sensitive): per length of suffix, the
    row's last characters looked up in the set, not a ``LIKE`` per suffix."""
    conds = []
    for n, group in sorted(_by_length(suffixes).items()):
        end = func.right(column, n) if _postgres(conn) else func.substr(column, -n)
        conds.append(_among(conn, end, group))
    return or_(false(), *conds)


def _starts_in(conn: Connection, column: ColumnElement[Any], prefixes: Sequence[str]) -> ColumnElement[bool]:
    """The text starts with one of ``prefixes`` (case-sensitive)."""
    return or_(false(), *(_among(conn, func.substr(column, 1, n), group)
                          for n, group in sorted(_by_length(prefixes).items())))


def _contains_any(conn: Connection, column: ColumnElement[Any], needles: Sequence[str]) -> ColumnElement[bool]:
    """The text contains one of ``needles`` (case-sensitive, as ``replace()`` is)."""
    if not needles:
        return false()
    if _postgres(conn):
        return column.like(any_(_texts(f"%{_escape_like(n)}%" for n in needles)))
    return or_(*(func.instr(column, n) > 0 for n in needles))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _json_string(value: str) -> str:
    """A string as it appears inside the stored JSON text (``json.dumps``, non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False)


def _rowcount(result: Any) -> int:
    return max(int(result.rowcount or 0), 0)


# -- the blob queue -----------------------------------------------------------------------


def _queue_new(conn: Connection, keys: Iterable[str | None], *, reason: str, now: datetime,
               due_at: datetime | None = None) -> list[str]:
    """INSERT each key not queued yet (``INSERT … ON CONFLICT DO NOTHING RETURNING``:
    from one array on PostgreSQL, 500 rows a statement on SQLite); the keys that were new."""
    unique = [k for k in dict.fromkeys(keys) if k]
    new: list[str] = []
    due = now if due_at is None else due_at
    b = blob_deletions
    if _postgres(conn) and unique:  # one array parameter, not seven per key
        keys = func.unnest(_texts(unique)).column_valued("k")
        stmt = _upsert_insert(conn, b).from_select(
            ["key", "reason", "queued_at", "due_at", "attempts"],
            select(keys, bindparam(None, reason, type_=b.c.reason.type),
                   bindparam(None, now, type_=b.c.queued_at.type),
                   bindparam(None, due, type_=b.c.due_at.type), literal(0)))
        return [str(k) for k in conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"])
                                             .returning(b.c.key)).scalars()]
    for chunk in _chunks(unique, 500):
        rows = [{"key": k, "reason": reason, "queued_at": now, "due_at": due, "attempts": 0,
                 "last_attempt_at": None, "last_error": None} for k in chunk]
        if conn.dialect.name in ("postgresql", "sqlite"):
            stmt = _upsert_insert(conn, b).values(rows).on_conflict_do_nothing(index_elements=["key"])
            new += [str(k) for k in conn.execute(stmt.returning(b.c.key)).scalars()]
        else:  # pragma: no cover - the two supported databases take the branch above
            new += [str(row["key"]) for row in rows if _insert_if_absent(conn, b, row, ["key"])]
    return new


def queue_blob_keys(conn: Connection, keys: Iterable[str | None], *, reason: str, now: datetime,
                    due_at: datetime | None = None) -> int:
    """Queue the keys not queued yet; how many were new."""
    return len(_queue_new(conn, keys, reason=reason, now=now, due_at=due_at))


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

    def delete(self, table: Table, where: ColumnElement[bool], owner: ColumnElement[Any] | None = None) -> int:
        """DELETE the rows, queueing every blob they name. ``owner`` names, per row, whose
        row it is when one statement deletes rows of several people (:class:`_Split`)."""
        columns = BLOB_COLUMNS.get(table.name)
        if columns:
            found = self.conn.execute(delete(table).where(where).returning(*(table.c[c] for c in columns))).all()
            self.blobs += queue_blob_keys(self.conn, (k for row in found for k in row), reason=self.reason,
                                          now=self.now)
            return self.tally(table.name, len(found))
        return self.tally(table.name, _rowcount(self.conn.execute(delete(table).where(where))))

    def delete_naming(self, table: Table, where: ColumnElement[bool], column: ColumnElement[Any],
                      owner: ColumnElement[Any] | None = None) -> set[str]:
        """DELETE the rows (of a table naming no blob); the values of ``column`` they held."""
        found = self.conn.execute(delete(table).where(where).returning(column)).scalars().all()
        self.tally(table.name, len(found))
        return {str(x) for x in found}


# -- shared purges: catalog, designs, threads, orders ------------------------------------------


def leave_catalog(work: _Work, design_ids: Sequence[str]) -> int:
    """Take designs out of the catalog's read model: their ``catalog_entries`` rows go
    and ``catalog_facet_counts`` loses them (the repositories' ``_count_facet``, one
    UPDATE per combination, in key order as the repositories lock them)."""
    conn, e = work.conn, catalog_entries
    removed = 0
    for chunk in _chunks(design_ids):
        theirs = _among(conn, e.c.design_id, chunk)
        grouped = conn.execute(
            select(e.c.category, e.c.metal_mask, e.c.gem_mask, func.count())
            .where(theirs)
            .group_by(e.c.category, e.c.metal_mask, e.c.gem_mask)
        ).all()
        if not grouped:
            continue
        for category, metal_mask, gem_mask, n in sorted((str(c), int(m), int(g), int(n)) for c, m, g, n in grouped):
            _count_facet(conn, (category, metal_mask, gem_mask), -n)
        removed += work.delete(e, theirs, owner=e.c.design_id)
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
        for table in (assets, design_tags):
            work.delete(table, _among(conn, table.c.design_id, chunk), owner=table.c.design_id)
        leave_catalog(work, chunk)
        for table in (saved_designs, design_stats, engagement_events, analytics_daily):
            work.delete(table, _among(conn, table.c.design_id, chunk), owner=table.c.design_id)
        lo = licence_options
        work.delete(lo, and_(_among(conn, lo.c.design_id, chunk), ~exists().where(negotiations.c.option_id == lo.c.id)),
                    owner=lo.c.design_id)
        kept = _still_referenced(d.c.id)
        conn.execute(
            update(d).where(_among(conn, d.c.id, chunk), kept)
            .values(**HUSK, removed_at=func.coalesce(d.c.removed_at, work.now), purged_at=work.now,
                    updated_at=work.now)
        )
        work.delete(d, and_(_among(conn, d.c.id, chunk), ~kept), owner=d.c.id)


def _drop_husks(work: _Work, design_ids: Iterable[str]) -> None:
    """Husks of purged designs that nothing names any more go too."""
    d = designs
    for chunk in _chunks(list(design_ids)):
        work.delete(d, and_(_among(work.conn, d.c.id, chunk), d.c.purged_at.is_not(None),
                            ~_still_referenced(d.c.id)), owner=d.c.id)


ThreadOwner = Callable[[ColumnElement[Any]], ColumnElement[Any]]


def delete_threads(work: _Work, which: ColumnElement[bool], owner: ThreadOwner | None = None) -> None:
    """Threads matching ``which`` with their messages, translations, attachments
    (blobs queued), participants and read marks. ``owner`` gives, from a thread id,
    the key of the person a row goes for (:class:`_Split`)."""
    conn = work.conn
    found = [str(x) for x in conn.execute(select(threads.c.id).where(which)).scalars()]

    def key(thread_id: ColumnElement[Any]) -> ColumnElement[Any] | None:
        return None if owner is None else owner(thread_id)

    for chunk in _chunks(found):
        message_ids = select(messages.c.id).where(_among(conn, messages.c.thread_id, chunk))
        for table in (message_translations, message_attachments):
            thread_of = select(messages.c.thread_id).where(messages.c.id == table.c.message_id).correlate(table)
            work.delete(table, table.c.message_id.in_(message_ids), owner=key(thread_of.scalar_subquery()))
        for table in (messages, thread_participants, thread_marks):
            work.delete(table, _among(conn, table.c.thread_id, chunk), owner=key(table.c.thread_id))
        work.delete(threads, _among(conn, threads.c.id, chunk), owner=key(threads.c.id))


def _thread_subject(thread_id: ColumnElement[Any]) -> ColumnElement[Any]:
    th = threads.alias("owning_thread")
    return select(th.c.subject_id).where(th.c.id == thread_id).scalar_subquery()


def delete_orders(work: _Work, order_ids: Sequence[str]) -> set[str]:
    """Orders with their ledger, payment instructions and thread; the designs they named.
    Each row goes for its order (the owner key of a :class:`_Split`)."""
    conn, le, li = work.conn, ledger_entries, ledger_lines
    touched: set[str] = set()
    for chunk in _chunks(order_ids):
        entries = select(le.c.id).where(_among(conn, le.c.order_id, chunk))
        order_of_line = select(le.c.order_id).where(le.c.id == li.c.entry_id).correlate(li).scalar_subquery()
        work.delete(li, li.c.entry_id.in_(entries), owner=order_of_line)
        work.delete(le, _among(conn, le.c.order_id, chunk), owner=le.c.order_id)
        pi = payment_instructions
        work.delete(pi, _among(conn, pi.c.order_id, chunk), owner=pi.c.order_id)
        delete_threads(work, and_(threads.c.kind == ThreadKind.ORDER.value, _among(conn, threads.c.subject_id, chunk)),
                       owner=_thread_subject)
        touched |= work.delete_naming(orders, _among(conn, orders.c.id, chunk), orders.c.design_id, owner=orders.c.id)
    return touched


def _ids_where(conn: Connection, table: Table, ids: Sequence[str], *conds: ColumnElement[bool]) -> list[str]:
    out: list[str] = []
    for chunk in _chunks(ids):
        out += [str(x) for x in conn.execute(select(table.c.id).where(_among(conn, table.c.id, chunk), *conds)
                                             ).scalars()]
    return out


def _purge_transactions(work: _Work, by_kind: Mapping[str, Sequence[str]]) -> None:
    conn = work.conn
    touched = delete_orders(work, by_kind.get("order", ()))
    a = agreements
    for chunk in _chunks(_ids_where(conn, a, by_kind.get("agreement", ()),
                                    ~exists().where(orders.c.agreement_id == a.c.id))):
        touched |= {str(x) for x in conn.execute(select(a.c.design_id).where(_among(conn, a.c.id, chunk))).scalars()}
        work.delete(a, _among(conn, a.c.id, chunk))
    n = negotiations
    for chunk in _chunks(_ids_where(conn, n, by_kind.get("negotiation", ()),
                                    ~exists().where(agreements.c.negotiation_id == n.c.id))):
        touched |= {str(x) for x in conn.execute(select(n.c.design_id).where(_among(conn, n.c.id, chunk))).scalars()}
        work.delete(negotiation_offers, _among(conn, negotiation_offers.c.negotiation_id, chunk))
        delete_threads(work, and_(threads.c.kind == ThreadKind.NEGOTIATION.value,
                                  _among(conn, threads.c.subject_id, chunk)))
        work.delete(n, _among(conn, n.c.id, chunk))
    lo = licence_options
    for chunk in _chunks(_ids_where(conn, lo, by_kind.get("licence_option", ()),
                                    ~exists().where(negotiations.c.option_id == lo.c.id))):
        touched |= {str(x) for x in conn.execute(select(lo.c.design_id).where(_among(conn, lo.c.id, chunk))
                                                 ).scalars()}
        work.delete(lo, _among(conn, lo.c.id, chunk))
    for chunk in _chunks(by_kind.get("thread", ())):
        delete_threads(work, and_(threads.c.kind == ThreadKind.SUPPORT.value, _among(conn, threads.c.id, chunk)))
    _drop_husks(work, touched)


# -- erasure: a batch of people, and what each person's erasure did ----------------------------


@dataclass
class _Erasure(_Work):
    """One person of an erasure batch and what erasing them did: ``counts`` per
    ``table.masking``, ``deleted`` rows per table, ``blobs`` queued."""

    index: int = 0  # place in the batch: erased one at a time, the earlier ones go first
    user_id: str = ""
    pseudonym: str = ""
    email: str | None = None
    name: str | None = None
    business_name: str | None = None
    keep_designs: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, key: str, n: int, *, same_rows: bool = False) -> None:
        if n:
            self.counts[key] = max(self.counts.get(key, 0), n) if same_rows else self.counts.get(key, 0) + n

    def report(self) -> ErasureReport:
        for name, n in self.deleted.items():
            self.count(f"{name}.{Masking.DELETE_ROW.value}", n)
        return ErasureReport(self.user_id, self.pseudonym, counts=self.counts, blobs=self.blobs,
                             kept_designs=self.kept)


@dataclass
class _Split(_Work):
    """Deletions of several people's rows, one statement each. Every row deleted is
    tallied on (and its blobs queued for) the person the statement deletes it for —
    the one its ``owner`` key names in ``owners`` (a user, design or order id, depending
    on the step) — unless the row also names, in a column whose own erasure deletes
    rows (:attr:`_Batch.rivals`), a person earlier in the batch: erased one at a time,
    that person deleted it first."""

    batch: _Batch | None = None
    owners: Mapping[str, _Erasure] = field(default_factory=dict)

    def delete(self, table: Table, where: ColumnElement[bool], owner: ColumnElement[Any] | None = None) -> int:
        batch = self.batch
        if owner is None or batch is None:
            raise ValueError(f"deleting {table.name} rows of several people needs their owner")
        conn = self.conn
        columns = BLOB_COLUMNS.get(table.name, ())
        rivals = [table.c[c].label(f"rival_{i}") for i, c in enumerate(batch.rivals.get(table.name, ()))]
        stmt = delete(table).where(where).returning(owner.label("k"), *rivals, *(table.c[c] for c in columns))
        whose: list[tuple[_Erasure, int]] = []
        if columns or not _postgres(conn):
            found = conn.execute(stmt).all()
            keys: list[tuple[_Erasure, str | None]] = []
            for row in found:
                person = batch.earliest(self.owners[str(row[0])], row[1:1 + len(rivals)])
                whose.append((person, 1))
                keys += [(person, k) for k in row[1 + len(rivals):]]
            if columns:
                _queue_for(conn, keys, reason=self.reason, now=self.now)
        else:  # the counts per owner, not every row, come back
            gone = stmt.cte("gone")
            named = [gone.c.k, *(gone.c[r.name] for r in rivals)]
            for row in conn.execute(select(*named, func.count()).group_by(*named)):
                whose.append((batch.earliest(self.owners[str(row[0])], row[1:-1]), int(row[-1])))
        for person, n in whose:
            person.tally(table.name, n)
        n = sum(k for _, k in whose)
        self.rows += n
        return n

    def delete_naming(self, table: Table, where: ColumnElement[bool], column: ColumnElement[Any],
                      owner: ColumnElement[Any] | None = None) -> set[str]:
        found = {str(x) for x in self.conn.execute(select(column).where(where)).scalars()}
        self.delete(table, where, owner=owner)
        return found


def _queue_for(conn: Connection, keys: Iterable[tuple[_Erasure, str | None]], *, reason: str, now: datetime) -> None:
    """Queue blob keys of several people; a new key counts for the earliest of them."""
    first: dict[str, _Erasure] = {}
    for person, key in keys:
        if key and (key not in first or person.index < first[key].index):
            first[key] = person
    for key in _queue_new(conn, list(first), reason=reason, now=now):
        first[key].blobs += 1


def _rival_columns(data_map: DataMap) -> dict[str, tuple[str, ...]]:
    """Per table, the columns by which a person's own erasure deletes rows whatever else
    they hold: bare-id references masked by deleting the row, and the owner column of
    an owned table whose rows are deleted (:data:`OWNED`)."""
    out: dict[str, list[str]] = {}
    for table, column in data_map.user_references():
        rule = data_map.rule_for(table, column)
        special = SPECIAL.get((table, column))
        by_id = (table, column) in PLAIN or (special is not None and special.apply in (_delete_account,
                                                                                       _leave_catalog_of))
        if rule is not None and rule.masking is Masking.DELETE_ROW and by_id:
            out.setdefault(table, []).append(column)
    for table, owned in OWNED.items():
        if (owned.owner is not None and owned.only is None and owned.owner not in out.get(table, [])
                and Masking.DELETE_ROW in owned_maskings(table, data_map).values()):
            out.setdefault(table, []).append(owned.owner)
    return {t: tuple(c) for t, c in out.items()}


@dataclass
class _Batch:
    """People erased together, in the order given, each id once."""

    conn: Connection
    now: datetime
    people: list[_Erasure]
    rivals: Mapping[str, tuple[str, ...]]
    by_id: dict[str, _Erasure] = field(init=False)
    by_pseudonym: dict[str, _Erasure] = field(init=False)
    digests: dict[str, _Erasure] = field(default_factory=dict)  # "digest:<thread id>:" -> whose thread
    notices_done: bool = False

    def __post_init__(self) -> None:
        self.by_id = {p.user_id: p for p in self.people}
        self.by_pseudonym = {p.pseudonym: p for p in self.people}

    @property
    def ids(self) -> list[str]:
        return list(self.by_id)

    def among(self, column: ColumnElement[Any]) -> ColumnElement[bool]:
        return _among(self.conn, column, self.ids)

    def first(self, *user_ids: Any) -> _Erasure | None:
        """The earliest person of the batch among ``user_ids``: the one whose erasure
        finds the row when they are erased one at a time."""
        found = [self.by_id[str(u)] for u in user_ids if u is not None and str(u) in self.by_id]
        return min(found, key=lambda p: p.index) if found else None

    def earliest(self, person: _Erasure, rivals: Iterable[Any]) -> _Erasure:
        other = self.first(*rivals)
        return other if other is not None and other.index < person.index else person

    def split(self, owners: Mapping[str, _Erasure] | None = None) -> _Split:
        return _Split(self.conn, self.now, REASON_ERASURE, batch=self, owners=self.by_id if owners is None else owners)

    def update_owned(self, table: Table, owner: ColumnElement[Any],
                     values: Callable[[ColumnElement[Any]], Mapping[str, Any]],
                     where: ColumnElement[bool] | None = None) -> dict[str, int]:
        """UPDATE the rows whose ``owner`` is a person of the batch (and ``where``) to
        ``values`` (given the SQL of the row's person's pseudonym); rows per user id. A
        row an earlier person's erasure deletes (:attr:`rivals`) is not counted: erased
        one at a time, it was gone."""
        conn = self.conn
        extra = [] if where is None else [where]
        rivals = [table.c[c].label(f"rival_{i}") for i, c in enumerate(self.rivals.get(table.name, ()))]
        if _postgres(conn):
            # joined to the batch's (id, pseudonym) pairs; RETURNING says whose each row was
            pairs = func.unnest(_texts(self.ids), _texts(p.pseudonym for p in self.people)) \
                .table_valued("id", "pseudonym").render_derived()
            stmt = (update(table).where(owner == pairs.c.id, *extra).values(dict(values(pairs.c.pseudonym)))
                    .returning(pairs.c.id.label("k"), *rivals))
            changed = stmt.cte("changed")
            named = [changed.c.k, *(changed.c[r.name] for r in rivals)]
            groups = conn.execute(select(*named, func.count()).group_by(*named)).all()
        else:
            mine = [self.among(owner), *extra]
            groups = conn.execute(select(owner, *rivals, func.count()).where(*mine).group_by(owner, *rivals)).all()
            if groups:
                pseudonym = case({p.user_id: p.pseudonym for p in self.people}, value=owner)
                conn.execute(update(table).where(*mine).values(dict(values(pseudonym))))
        counted: dict[str, int] = {}
        for row in groups:
            person = self.by_id[str(row[0])]
            if self.earliest(person, row[1:-1]) is person:
                counted[person.user_id] = counted.get(person.user_id, 0) + int(row[-1])
        return counted


# -- text that names people: rewritten as one person's statements would, on the rows read once --


@dataclass(frozen=True)
class _Edit:
    """One person's rewrite of a text column: ``old`` replaced by ``new`` wherever it
    occurs (SQL ``replace()``), or only at the end (``suffix``); a row counts for the
    person when the edit applies to it."""

    person: _Erasure
    old: str
    new: str
    suffix: bool = False
    whole: bool = False  # ``old`` is a whole JSON string, quotes included

    def apply(self, value: str) -> str | None:
        if self.suffix:
            return value[:-len(self.old)] + self.new if value.endswith(self.old) else None
        return value.replace(self.old, self.new) if self.old in value else None


Source = Any  # a SELECT of a table's primary key columns and one text column


def _rows_where(table: Table, column: str, where: ColumnElement[bool]) -> Source:
    return select(*table.primary_key.columns, table.c[column]).where(where)


def _json_string_sources(conn: Connection, table: Table, column: str, needles: Sequence[str],
                         size: int = 200) -> list[Source]:
    """SELECTs of the rows whose text holds one of ``needles`` (JSON strings, quotes
    included), or a few more. On PostgreSQL the text is split at its quotes and the
    pieces looked up in the set (one hashed probe per piece; ``"<x>"`` in the text is a
    piece ``x`` between two quotes), a ``LIKE`` per needle only for a needle with a
    quote inside; elsewhere ``instr`` per needle."""
    if not needles:
        return []
    if not _postgres(conn):
        return [_rows_where(table, column, _contains_any(conn, table.c[column], chunk))
                for chunk in _chunks(needles, size)]
    inner = [n[1:-1] for n in needles if '"' not in n[1:-1]]
    quoted = [n for n in needles if '"' in n[1:-1]]
    out: list[Source] = [_pieces_in(table, column, '"', inner)] if inner else []
    if quoted:
        out.append(_rows_where(table, column, _contains_any(conn, table.c[column], quoted)))
    return out


def _pieces_in(table: Table, column: str, delimiter: str, values: Sequence[str],
               *also: ColumnElement[Any]) -> Source:
    """PostgreSQL: the rows whose text, split at ``delimiter``, has a piece in ``values``."""
    c = table.c[column]
    piece = func.unnest(func.string_to_array(c, delimiter)).table_valued("v").render_derived().lateral("piece")
    return (select(*table.primary_key.columns, c, *also).distinct().select_from(table).join(piece, true())
            .where(piece.c.v == any_(_texts(values))))


def _contains_sources(conn: Connection, table: Table, column: str, needles: Sequence[str],
                      size: int = 200) -> list[Source]:
    return [_rows_where(table, column, _contains_any(conn, table.c[column], chunk)) for chunk in _chunks(needles, size)]


def _rewrite(batch: _Batch, table: Table, column: str, edits: Sequence[_Edit],
             sources: Sequence[Source]) -> dict[str, int]:
    """What the edits do, one after the other as erasing the people one at a time does
    (one ``UPDATE … SET c = replace(c, old, new) WHERE c LIKE '%old%'`` per edit), done
    on the rows the ``sources`` read (every row an edit could apply to); the rows that
    changed are written back by primary key. Rows per user id."""
    if not edits:
        return {}
    conn = batch.conn
    key = list(table.primary_key.columns)
    found: dict[tuple[Any, ...], str] = {}
    for source in sources:
        for row in conn.execute(source):
            found[tuple(row[:-1])] = str(row[-1])
    counts: dict[str, int] = {}
    changed: list[dict[str, Any]] = []
    for pk, value in found.items():
        new = value
        for edit in edits:
            out = edit.apply(new)
            if out is not None:
                counts[edit.person.user_id] = counts.get(edit.person.user_id, 0) + 1
                new = out
        if new != value:
            changed.append({**{f"pk_{i}": v for i, v in enumerate(pk)}, "new_value": new})
    if changed:
        stmt = (update(table).where(*(c == bindparam(f"pk_{i}") for i, c in enumerate(key)))
                .values({column: bindparam("new_value")}))
        conn.execute(stmt, changed)
    return counts


# -- erasure: how each column is masked --------------------------------------------------

# A handler masks one column for every person of the batch; rows per user id (a
# deletion's rows are tallied on each person as they go).
Handler = Callable[[_Batch, Table, str], Mapping[str, int]]


def _pseudonymise(batch: _Batch, table: Table, column: str) -> Mapping[str, int]:
    return batch.update_owned(table, table.c[column], lambda pseudonym: {column: pseudonym})


def _null_field(batch: _Batch, table: Table, column: str) -> Mapping[str, int]:
    return batch.update_owned(table, table.c[column], lambda pseudonym: {column: None})


def _delete_rows(batch: _Batch, table: Table, column: str) -> Mapping[str, int]:
    c = table.c[column]
    batch.split().delete(table, batch.among(c), owner=c)
    return {}


def _keep(batch: _Batch, table: Table, column: str) -> Mapping[str, int]:
    return {}


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


def _replace_suffix(batch: _Batch, table: Table, column: str) -> Mapping[str, int]:
    """``…:<id>`` → ``…:<pseudonym>`` (ledger accounts, transfer idempotency keys): the
    rows are found by their ends looked up in the batch's set (a hashed probe per row
    on PostgreSQL, one scan for the whole batch)."""
    edits = [_Edit(p, f":{p.user_id}", f":{p.pseudonym}", suffix=True) for p in batch.people]
    where = _ends_in(batch.conn, table.c[column], [e.old for e in edits])
    return _rewrite(batch, table, column, edits, [_rows_where(table, column, where)])


def _replace_json_string(batch: _Batch, table: Table, column: str) -> Mapping[str, int]:
    """``"<id>"`` → ``"<pseudonym>"`` inside JSON text (a list of ids, step facts, a timeline)."""
    edits = [_Edit(p, _json_string(p.user_id), _json_string(p.pseudonym), whole=True) for p in batch.people]
    sources = _json_string_sources(batch.conn, table, column, [e.old for e in edits])
    return _rewrite(batch, table, column, edits, sources)


def _delete_notices(batch: _Batch, table: Table, column: str) -> Mapping[str, int]:
    """Notices for the person: keys ending in (or naming) ``:<id>``, or sent to their
    address (with every other step on notices, :func:`_notices`)."""
    _notices(batch, table, column)
    return {}


def _leave_catalog_of(batch: _Batch, table: Table, column: str) -> Mapping[str, int]:
    rows = batch.conn.execute(select(table.c.design_id, table.c[column]).where(batch.among(table.c[column]))).all()
    owners = {str(design): batch.by_id[str(user)] for design, user in rows}
    leave_catalog(batch.split(owners), list(owners))
    return {}


def _delete_account(batch: _Batch, table: Table, column: str) -> Mapping[str, int]:
    return _delete_rows(batch, table, column)


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


def _deleted_as_owned(table: str, column: str, data_map: DataMap) -> bool:
    """Rows of an owned table deleted by their owner in step 4: the reference's own
    deletion would find none (and scan for them again)."""
    owned = OWNED.get(table)
    return (owned is not None and owned.owner == column and owned.only is None
            and Masking.DELETE_ROW in owned_maskings(table, data_map).values())


def _walk(batch: _Batch, data_map: DataMap) -> None:
    """Every user reference's masking: rewrites, then deletions children first, users last."""
    masking: dict[tuple[str, str], Masking] = {}
    for ref in data_map.user_references():
        rule = data_map.rule_for(*ref)
        assert rule is not None
        masking[ref] = rule.masking
    rewrites = [r for r, m in masking.items() if m is not Masking.DELETE_ROW]
    deletions = sorted((r for r, m in masking.items()
                        if m is Masking.DELETE_ROW and not _deleted_as_owned(*r, data_map)),
                       key=lambda r: (r == ("users", "id"), _DELETE_ORDER[r[0]]))
    for table, column in [*rewrites, *deletions]:
        m = masking[(table, column)]
        special = SPECIAL.get((table, column))
        handler = special.apply if special is not None else GENERIC[m]
        counts = handler(batch, metadata.tables[table], column)
        if m is not Masking.DELETE_ROW:  # deletions are tallied per table as they happen
            owned = OWNED.get(table)
            for user_id, n in counts.items():
                batch.by_id[user_id].count(f"{table}.{m.value}", n,
                                           same_rows=owned is not None and owned.owner == column)


def _owner_of(table: str) -> ColumnElement[Any]:
    """Whose row it is: the owner column, or the owner of the parent row."""
    owned = OWNED[table]
    t = metadata.tables[table]
    if owned.parent is not None:
        fk, parent = owned.parent
        p = metadata.tables[parent]
        return select(_owner_of(parent)).where(p.c.id == t.c[fk]).correlate(t).scalar_subquery()
    assert owned.owner is not None
    return t.c[owned.owner]


def _owned_rows(batch: _Batch, table: str) -> ColumnElement[bool]:
    owned = OWNED[table]
    t = metadata.tables[table]
    cond: ColumnElement[bool]
    if owned.parent is not None:
        fk, parent = owned.parent
        p = metadata.tables[parent]
        cond = t.c[fk].in_(select(p.c.id).where(_owned_rows(batch, parent)))
    else:
        assert owned.owner is not None
        cond = batch.among(t.c[owned.owner])
    return and_(cond, owned.only(t)) if owned.only is not None else cond


def _mask_owned(batch: _Batch, data_map: DataMap) -> None:
    """Step 4: the masking of every personal column of the rows that are the people's."""
    conn = batch.conn
    for table in OWNED:
        t = metadata.tables[table]
        owned = OWNED[table]
        maskings = owned_maskings(table, data_map)
        where = _owned_rows(batch, table)
        owner = _owner_of(table)
        if table == "threads":
            _forget_notices_about(batch, conn.execute(select(t.c.id, owner).where(where)).all())
        if Masking.DELETE_ROW in maskings.values():
            batch.split().delete(t, where, owner=owner)
            continue
        values: dict[str, Any] = {}
        pseudonymised: list[str] = []
        for column, masking in maskings.items():
            if masking is Masking.REDACT:
                values[column] = ""
            elif masking is Masking.NULL_FIELD:
                values[column] = None
            elif masking is Masking.PSEUDONYMISE:
                pseudonymised.append(column)
        if not values and not pseudonymised:
            continue

        def masked(pseudonym: ColumnElement[Any], values: dict[str, Any] = values,
                   pseudonymised: list[str] = pseudonymised, also: Mapping[str, Any] = owned.also) -> dict[str, Any]:
            return {**values, **dict.fromkeys(pseudonymised, pseudonym), **also}

        narrow = where if owned.parent is not None else (owned.only(t) if owned.only is not None else None)
        counts = batch.update_owned(t, owner, masked, narrow)
        for user_id, n in counts.items():
            for masking in {maskings[c] for c in [*values, *pseudonymised]}:
                batch.by_id[user_id].count(f"{table}.{masking.value}", n)


def _mask_embedded(batch: _Batch) -> None:
    """Ids, names and the address copied into text that outlives the people."""
    for table, column in EMBEDDED_IDS:
        counts = _replace_json_string(batch, metadata.tables[table], column)
        for user_id, n in counts.items():
            batch.by_id[user_id].count(f"{table}.{Masking.PSEUDONYMISE.value}", n)
    if not batch.notices_done:
        _notices(batch, outbox, None)
    for table, column in MENTIONS:
        if table == outbox.name:
            continue  # rewritten with the notices' other steps
        t = metadata.tables[table]
        edits = [e for p in batch.people for e in _mentions(p)]
        sources = [*_json_string_sources(batch.conn, t, column, [e.old for e in edits if e.whole]),
                   *_contains_sources(batch.conn, t, column, [e.old for e in edits if not e.whole])]
        for user_id, n in _rewrite(batch, t, column, edits, sources).items():
            batch.by_id[user_id].count(f"{table}.{Masking.REDACT.value}", n)


def _mentions(p: _Erasure) -> list[_Edit]:
    """How the person's name and address are rewritten where others' text quotes them:
    a name only as a whole JSON string value, so "Al" never rewrites "Alloy"; an
    address wherever it is."""
    out: list[_Edit] = []
    for said in (p.name, p.business_name):
        if said:
            out.append(_Edit(p, _json_string(said), _json_string(ERASED_NAME), whole=True))
    if p.email:
        out.append(_Edit(p, _json_string(p.email)[1:-1], _json_string(f"{p.pseudonym}@{ERASED_EMAIL_DOMAIN}")[1:-1]))
    return out


def _forget_notices_about(batch: _Batch, threads_of: Sequence[Any]) -> None:
    """"New messages" notices about the people's support threads carry the title they
    wrote: they go with the title (keys ``digest:<thread id>:<reader>:<time>``; deleted
    with the other notices, :func:`_notices`). ``threads_of``: (thread id, user id) pairs."""
    batch.digests.update({f"digest:{thread_id}:": batch.by_id[str(user_id)] for thread_id, user_id in threads_of})


def _notices(batch: _Batch, table: Table, key_column: str | None) -> None:
    """Every step of the people's erasures on queued notices, replayed row by row in
    their order on the rows read once: a person's erasure deletes the digests of their
    support threads (step 4), the notices for them — keys ending in or naming
    ``:<id>``, or sent to their address (step 5, when ``key_column`` is the reference)
    — and rewrites their name and address where the others quote them (step 6,
    :data:`MENTIONS`). A notice deleted by one person's erasure is not there for the
    next one's."""
    batch.notices_done = True
    conn, people = batch.conn, batch.people
    key = table.c.dedupe_key
    quoting = [table.c[c] for t, c in MENTIONS if t == table.name]
    mentions = {p.user_id: _mentions(p) for p in people}
    [pk] = table.primary_key.columns
    sources: list[Source] = []
    if batch.digests:
        sources.append(select(pk).where(_starts_in(conn, key, list(batch.digests))))
    if key_column is not None:
        emails = [p.email for p in people if p.email]
        if emails:
            sources.append(select(pk).where(_among(conn, table.c.to_email, emails)))
        if _postgres(conn):  # ``:<id>`` at the end or between colons: a piece of the key split at colons
            plain = [p.user_id for p in people if ":" not in p.user_id]
            if plain:
                sources.append(_pieces_in(table, key_column, ":", plain))
            odd = [f":{p.user_id}" for p in people if ":" in p.user_id]
            if odd:
                sources.append(select(pk).where(_contains_any(conn, table.c[key_column], odd)))
        else:
            sources += [select(pk).where(_contains_any(conn, table.c[key_column], chunk))
                        for chunk in _chunks([f":{p.user_id}" for p in people], 200)]
    edits = [e for p in people for e in mentions[p.user_id]]
    for c in quoting:
        sources += [*_json_string_sources(conn, table, c.name, [e.old for e in edits if e.whole]),
                    *_contains_sources(conn, table, c.name, [e.old for e in edits if not e.whole])]
    found: set[Any] = set()
    for source in sources:
        found |= {row[0] for row in conn.execute(source)}
    gone: dict[str, list[Any]] = {}
    changed: list[dict[str, Any]] = []
    for chunk in _chunks(sorted(str(x) for x in found)):
        for row in conn.execute(select(pk, key, table.c.to_email, *quoting).where(_among(conn, pk, chunk))):
            ident, dedupe, to = row[0], str(row[1]), row[2]
            texts = [str(v) for v in row[3:]]
            before = list(texts)
            digest_of = {batch.digests[dedupe[:i + 1]].user_id for i, ch in enumerate(dedupe)
                         if ch == ":" and dedupe[:i + 1] in batch.digests}
            deleted = False
            for p in people:
                u = p.user_id
                if u in digest_of or (key_column is not None and (
                        dedupe.endswith(f":{u}") or f":{u}:" in dedupe or (p.email and to == p.email))):
                    gone.setdefault(u, []).append(ident)
                    deleted = True
                    break
                for edit in mentions[u]:
                    for i, value in enumerate(texts):
                        new = edit.apply(value)
                        if new is not None:
                            p.count(f"{table.name}.{Masking.REDACT.value}", 1)
                            texts[i] = new
            if not deleted and texts != before:
                changed.append({"pk_0": ident, **{f"new_{i}": v for i, v in enumerate(texts)}})
    for user_id, idents in gone.items():
        for chunk in _chunks(idents):
            n = _rowcount(conn.execute(delete(table).where(_among(conn, pk, chunk))))
            batch.by_id[user_id].tally(table.name, n)
    if changed:
        conn.execute(update(table).where(pk == bindparam("pk_0"))
                     .values({c.name: bindparam(f"new_{i}") for i, c in enumerate(quoting)}), changed)


def _erase_batch(conn: Connection, now: datetime, people: Sequence[Erasee], data_map: DataMap) -> list[ErasureReport]:
    """Erase ``people`` (distinct ids; only the first may have draft orders) as erasing
    them one at a time in this order does, each step a few statements for the whole
    batch (see :meth:`SqlPrivacyStore.erase_people`)."""
    ids = [e.user_id for e in people]
    found = {str(r["id"]): r for r in conn.execute(select(users).where(_among(conn, users.c.id, ids))).mappings()}
    jobs = []
    for i, e in enumerate(people):
        row = found.get(e.user_id)
        jobs.append(_Erasure(conn, now, REASON_ERASURE, index=i, user_id=e.user_id, pseudonym=e.pseudonym,
                             email=None if row is None else str(row["email"]),
                             name=None if row is None else str(row["name"]),
                             business_name=None if row is None else row["business_name"],
                             keep_designs=tuple(e.keep_designs)))
    batch = _Batch(conn, now, jobs, _rival_columns(data_map))

    # 1. a stand-in account per person, under the pseudonym
    stand_ins = [{
        "id": p.pseudonym, "email": f"{p.pseudonym}@{ERASED_EMAIL_DOMAIN}".lower(), "name": ERASED_NAME,
        "role": found[p.user_id]["role"], "password_hash": ERASED_PASSWORD_HASH, "language": STAND_IN_LANGUAGE,
        "status": "closed", "business_name": None, "business_address": None, "age_confirmed_at": now,
        "created_at": now, "updated_at": now, "closed_at": now, "ai_objection_at": now, "erased_at": now,
    } for p in jobs if p.user_id in found]
    if stand_ins:
        stmt = _upsert_insert(conn, users).values(stand_ins).on_conflict_do_nothing(index_elements=["id"])
        for made in conn.execute(stmt.returning(users.c.id)).scalars():
            batch.by_pseudonym[str(made)].count("users.stand_in", 1)

    # 2. open negotiations withdrawn, draft orders deleted, while they still name the people
    ng = negotiations
    withdrawn = conn.execute(
        update(ng).where(or_(batch.among(ng.c.buyer_id), batch.among(ng.c.designer_id)),
                         ng.c.status == NegotiationStatus.OPEN.value)
        .values(status=NegotiationStatus.WITHDRAWN.value, closed_at=now, last_activity_at=now,
                version=ng.c.version + 1)
        .returning(ng.c.buyer_id, ng.c.designer_id)).all()
    for buyer, designer in withdrawn:
        who = batch.first(buyer, designer)
        assert who is not None
        who.count("negotiations.withdrawn", 1)
    o = orders
    drafts = conn.execute(select(o.c.id, o.c.buyer_id)
                          .where(batch.among(o.c.buyer_id), o.c.status == OrderStatus.DRAFT.value)).all()
    assert all(batch.by_id[str(buyer)].index == 0 for _, buyer in drafts), "a batch starts at its drafts' buyer"
    delete_orders(batch.split({str(order): batch.by_id[str(buyer)] for order, buyer in drafts}),
                  [str(order) for order, _ in drafts])

    # 3. designs: kept under a licence (removed, out of the catalog, files kept) or purged
    d = designs
    theirs: dict[str, _Erasure] = {str(x): batch.by_id[str(u)] for x, u in conn.execute(
        select(d.c.id, d.c.designer_id).where(batch.among(d.c.designer_id)).order_by(d.c.id))}
    kept: dict[str, _Erasure] = {}
    for p in jobs:
        p.kept = tuple(x for x in dict.fromkeys(p.keep_designs) if theirs.get(x) is p)
        kept.update(dict.fromkeys(p.kept, p))
        p.count("designs.removed", len(p.kept))
    for chunk in _chunks(list(kept)):
        conn.execute(update(d).where(_among(conn, d.c.id, chunk))
                     .values(status=DesignStatus.REMOVED.value, removed_at=func.coalesce(d.c.removed_at, now),
                             updated_at=now))
    leave_catalog(batch.split(kept), list(kept))
    purged = {x: p for x, p in theirs.items() if x not in kept}
    purge_designs(batch.split(purged), list(purged))
    for p in purged.values():
        p.count("designs.purged", 1)

    # 4.-6. the people's own rows, every reference to them, the text that names them
    _mask_owned(batch, data_map)
    _walk(batch, data_map)
    _mask_embedded(batch)
    return [p.report() for p in jobs]


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
_NO_KEEPS: frozenset[Keep] = frozenset()


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
        result = conn.execute(stmt)
        names = list(result.keys())
        flags = [(i, Keep(k[5:])) for i, k in enumerate(names) if k.startswith("keep_")]
        id_at, since_at, note_at = names.index("id"), names.index("since"), names.index("note")
        for row in result.all():
            keeps = frozenset([keep for i, keep in flags if row[i]]) if any(row[i] for i, _ in flags) else _NO_KEEPS
            note = row[note_at]
            if note is not None:
                keeps |= {Keep.ACTIVE_LICENCE}
            out.append(Candidate(rule, kind, str(row[id_at]), _since(row[since_at]), keeps,
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
        return self.people_facts(uow, [user_id], today)[user_id]

    def people_facts(self, uow: UnitOfWork, user_ids: Sequence[str], today: date) -> dict[str, PersonFacts]:
        """Four queries per 1,000 people: accounts, standing holds, open or disputed
        orders they are a party to, their designs under an active licence."""
        conn = _conn(uow)
        out: dict[str, PersonFacts] = {}
        for chunk in _chunks(user_ids):
            erased_at = {str(i): at for i, at in conn.execute(
                select(users.c.id, users.c.erased_at).where(_among(conn, users.c.id, chunk)))}
            live = [u for u in chunk if u in erased_at and erased_at[u] is None]
            lh = legal_holds
            holds = {str(u): str(r) for u, r in conn.execute(
                select(lh.c.user_id, lh.c.reason).where(_among(conn, lh.c.user_id, live), lh.c.active.is_not(None)))}
            o = orders
            parties = (o.c.buyer_id, o.c.designer_id, o.c.manufacturer_id)
            open_orders: dict[str, list[str]] = {}
            disputed: dict[str, list[str]] = {}
            stmt = select(o.c.id, o.c.status, *parties).where(
                or_(*(_among(conn, c, live) for c in parties)),
                o.c.status.in_([*OPEN_ORDER_STATUSES, OrderStatus.DISPUTED.value]))
            for order_id, status, *named in conn.execute(stmt.order_by(o.c.id)):
                into = disputed if status == OrderStatus.DISPUTED.value else open_orders
                for party in dict.fromkeys(str(x) for x in named if x is not None):
                    into.setdefault(party, []).append(str(order_id))
            d, a = designs, agreements
            licensed: dict[str, list[str]] = {}
            for design_id, designer in conn.execute(
                select(d.c.id, d.c.designer_id).where(_among(conn, d.c.designer_id, live),
                                                      exists().where(a.c.design_id == d.c.id, _active_on(today)))
                .order_by(d.c.id)
            ):
                licensed.setdefault(str(designer), []).append(str(design_id))
            for u in chunk:
                if u not in erased_at:
                    out[u] = PersonFacts(u, exists=False)
                elif erased_at[u] is not None:
                    out[u] = PersonFacts(u, already_erased=True)
                else:
                    out[u] = PersonFacts(u, hold_reason=holds.get(u), open_orders=tuple(open_orders.get(u, ())),
                                         disputed_orders=tuple(disputed.get(u, ())),
                                         licensed_designs=tuple(licensed.get(u, ())))
        return out

    def erase_person(self, uow: UnitOfWork, user_id: str, *, pseudonym: str, now: datetime,
                     keep_designs: Sequence[str] = ()) -> ErasureReport:
        return self.erase_people(uow, [Erasee(user_id, pseudonym, tuple(keep_designs))], now=now)[0]

    def erase_people(self, uow: UnitOfWork, people: Sequence[Erasee], *, now: datetime) -> list[ErasureReport]:
        """Erase every person of ``people`` with the same end state as erasing them one
        at a time in this order (see the module's notes), a few statements per table
        for every 1,000 people; one report each, in order. A person given twice is
        erased once (the second report is empty, as a second erasure's would be)."""
        seen: dict[str, str] = {}
        for e in people:
            if not e.pseudonym or e.pseudonym == e.user_id or len(e.pseudonym) > _ID_LENGTH:
                raise ValueError(f"erasure needs a pseudonym other than the user id, at most {_ID_LENGTH} characters")
            if seen.setdefault(e.user_id, e.pseudonym) != e.pseudonym:
                raise ValueError(f"{e.user_id} is given twice with different pseudonyms")
        pseudonyms = set(seen.values())
        if len(pseudonyms) < len(seen) or pseudonyms & set(seen):
            raise ValueError("the people of one erasure need pseudonyms of their own that are nobody's user id")
        conn = _conn(uow)
        first: dict[str, Erasee] = {}
        for e in people:
            first.setdefault(e.user_id, e)
        # A batch starts at each person with draft orders: erased one at a time, the
        # people before them still see those orders (and the designs they name).
        drafting: set[str] = set()
        for chunk in _chunks(list(first)):
            drafting |= {str(u) for u in conn.execute(
                select(orders.c.buyer_id).distinct()
                .where(_among(conn, orders.c.buyer_id, chunk), orders.c.status == OrderStatus.DRAFT.value)).scalars()}
        batches: list[list[Erasee]] = [[]]
        for e in first.values():
            if len(batches[-1]) >= CHUNK or (e.user_id in drafting and batches[-1]):
                batches.append([])
            batches[-1].append(e)
        done: dict[str, ErasureReport] = {}
        for batch in batches:
            for report in _erase_batch(conn, now, batch, self._map) if batch else ():
                done[report.user_id] = report
        out: list[ErasureReport] = []
        for e in people:
            out.append(done.pop(e.user_id) if e.user_id in done else ErasureReport(e.user_id, e.pseudonym))
        return out

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
