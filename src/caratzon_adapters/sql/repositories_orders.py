"""The issue #5 repository ports on one SQLAlchemy ``Connection``: manufacturers,
orders, the order ledger, price tables and payment instructions.

As in :mod:`.repositories`, nothing here commits, and every statement that may
violate a constraint runs inside a SAVEPOINT so a refused write leaves the
surrounding transaction usable (PostgreSQL aborts the whole transaction on an
error otherwise).

Locking: ``OrderRepository.get_for_update`` takes ``SELECT ... FOR NO KEY UPDATE``
on PostgreSQL (rows that merely refer to the order, such as ledger entries, still
go in meanwhile); ``claim_due`` takes ``FOR UPDATE SKIP LOCKED``. SQLite has no
row locks; there every transaction of the unit of work starts with ``BEGIN
IMMEDIATE`` (see :mod:`.engine`), so writers already run one at a time.

Ordering matches the in-memory fake exactly: text sort keys (names, ids) compare
by code point, which is SQLite's default and, on PostgreSQL, ``COLLATE "C"``
(the database's own collation may sort "é" or "b" before "Z").
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from caratzon_adapters.sql import mapping
from caratzon_adapters.sql.repositories import _claim_due, _insert_if_absent, _upsert
from caratzon_adapters.sql.tables import (
    ledger_entries,
    ledger_lines,
    manufacturers,
    orders,
    payment_instructions,
    price_tables,
)
from caratzon_core.errors import Conflict, NotFound
from caratzon_core.ledger import JournalEntry, LedgerLine
from caratzon_core.manufacturers import CompletedJob, Manufacturer, PartnerScore, Vetting
from caratzon_core.orders import PRODUCTION_STATUSES, Order, OrderStatus
from caratzon_core.payments import InstructionStatus, PaymentInstruction
from caratzon_core.quote import PriceTable

# Keys per ``IN (...)`` list: well inside SQLite's 32,766 and psycopg's 65,535 parameters.
IN_CHUNK = 5000


def _by_code_point(conn: Connection, column: Any) -> Any:
    """``column`` for ORDER BY in code-point order (Python's ``str`` order) on both databases."""
    return column.collate("C") if conn.dialect.name == "postgresql" else column


def _chunks(values: Sequence[str], size: int = IN_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


# -- manufacturers --------------------------------------------------------------------


def _select_manufacturers() -> Select[Any]:
    """Every column, in the order :func:`.mapping.manufacturer_from_values` unpacks."""
    return select(*(manufacturers.c[name] for name in mapping.MANUFACTURER_COLUMNS))


class SqlManufacturerRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, manufacturer: Manufacturer) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(manufacturers).values(mapping.manufacturer_to_row(manufacturer)))
        except IntegrityError:
            m = manufacturers
            if self._conn.execute(select(m.c.user_id).where(m.c.user_id == manufacturer.user_id)).first():
                raise Conflict("This account already has a manufacturer profile.") from None
            raise

    def get(self, user_id: str) -> Manufacturer | None:
        row = self._conn.execute(_select_manufacturers().where(manufacturers.c.user_id == user_id)).first()
        return None if row is None else mapping.manufacturer_from_values(row)

    def update(self, manufacturer: Manufacturer) -> None:
        m = manufacturers
        # The score columns are set_scores' alone (see the port).
        values = {k: v for k, v in mapping.manufacturer_to_row(manufacturer).items()
                  if k != "user_id" and not k.startswith("score_")}
        if self._conn.execute(update(m).where(m.c.user_id == manufacturer.user_id).values(values)).rowcount == 0:
            raise NotFound("No such manufacturer.")

    def list(self, *, vetting: Vetting | None = None, limit: int = 20_000) -> builtins.list[Manufacturer]:
        """One query; each row maps without further queries (code sets, labour prices
        and empty scores are parsed once and shared, see :mod:`.mapping`)."""
        m = manufacturers
        stmt = (
            _select_manufacturers()
            .order_by(_by_code_point(self._conn, m.c.name), _by_code_point(self._conn, m.c.user_id))
            .limit(limit)
        )
        if vetting is not None:
            stmt = stmt.where(m.c.vetting == vetting.value)
        return [mapping.manufacturer_from_values(r) for r in self._conn.execute(stmt)]

    def set_scores(self, scores: dict[str, PartnerScore]) -> int:
        """Reads the stored scores of these manufacturers (one query per 5,000), then
        writes the changed ones in one executemany UPDATE. Unknown ids are ignored, as
        is a score equal to the stored one (Decimal equality: 0.5 equals 0.50)."""
        if not scores:
            return 0
        m = manufacturers
        columns = [m.c.user_id, m.c.score_jobs, m.c.score_on_time_rate, m.c.score_qc_failure_rate,
                   m.c.score_responsiveness_hours, m.c.score_rating, m.c.score_computed_at]
        changed: builtins.list[dict[str, Any]] = []
        for ids in _chunks(builtins.list(scores)):
            for row in self._conn.execute(select(*columns).where(m.c.user_id.in_(ids))).mappings():
                new = scores[row["user_id"]]
                if mapping.score_from_row(row) != new:
                    changed.append({"key": row["user_id"],
                                    **{f"new_{k}": v for k, v in mapping.score_to_row(new).items()}})
        if changed:
            stmt = (
                update(m)
                .where(m.c.user_id == bindparam("key"))
                .values({k: bindparam(f"new_{k}") for k in mapping.score_to_row(scores[changed[0]["key"]])})
            )
            self._conn.execute(stmt, changed)
        return len(changed)


# -- orders ---------------------------------------------------------------------------


class SqlOrderRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, order: Order) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(orders).values(mapping.order_to_row(order)))
        except IntegrityError:
            if self._conn.execute(select(orders.c.id).where(orders.c.id == order.id)).first() is not None:
                raise Conflict("Duplicate order id.") from None
            raise

    def get(self, order_id: str) -> Order | None:
        return self._get(order_id, lock=False)

    def get_for_update(self, order_id: str) -> Order | None:
        return self._get(order_id, lock=True)

    def update(self, order: Order) -> None:
        values = {k: v for k, v in mapping.order_to_row(order).items() if k != "id"}
        if self._conn.execute(update(orders).where(orders.c.id == order.id).values(values)).rowcount == 0:
            raise NotFound("No such order.")

    def list_for_party(self, user_id: str, *, limit: int = 200) -> builtins.list[Order]:
        o = orders
        stmt = (
            select(o)
            .where(or_(o.c.buyer_id == user_id, o.c.designer_id == user_id, o.c.manufacturer_id == user_id))
            .order_by(o.c.updated_at.desc(), _by_code_point(self._conn, o.c.id).desc())
            .limit(limit)
        )
        return self._many(stmt)

    def list_by_status(self, statuses: frozenset[OrderStatus], *, limit: int = 2000) -> builtins.list[Order]:
        """Oldest submission first; a draft (never submitted) by its creation time."""
        if not statuses:
            return []
        o = orders
        stmt = (
            select(o)
            .where(o.c.status.in_(sorted(s.value for s in statuses)))
            .order_by(func.coalesce(o.c.submitted_at, o.c.created_at), _by_code_point(self._conn, o.c.id))
            .limit(limit)
        )
        return self._many(stmt)

    def units_ordered(self, agreement_id: str) -> int:
        o = orders
        stmt = select(func.coalesce(func.sum(o.c.quantity), 0)).where(
            o.c.agreement_id == agreement_id,
            o.c.status.not_in([OrderStatus.DRAFT.value, OrderStatus.CANCELLED.value]),
        )
        return int(self._conn.execute(stmt).scalar_one())

    def lapsed_offers(self, now: datetime, *, limit: int = 500) -> builtins.list[str]:
        o = orders
        stmt = (
            select(o.c.id)
            .where(o.c.status == OrderStatus.ROUTED.value, o.c.offer_expires_at <= now)
            .order_by(_by_code_point(self._conn, o.c.id))
            .limit(limit)
        )
        return [str(i) for i in self._conn.execute(stmt).scalars()]

    def open_load(self) -> dict[str, int]:
        o = orders
        stmt = (
            select(o.c.manufacturer_id, func.sum(o.c.quantity))
            .where(o.c.status.in_(sorted(s.value for s in PRODUCTION_STATUSES)), o.c.manufacturer_id.is_not(None),
                   o.c.manufacturer_id != "")
            .group_by(o.c.manufacturer_id)
        )
        return {str(manufacturer): int(pieces) for manufacturer, pieces in self._conn.execute(stmt)}

    def completed_jobs(self, since: datetime) -> dict[str, builtins.list[CompletedJob]]:
        """One query over the window, reading only the columns a job needs (the
        brief's wanted-by date is a column of its own). ``delivered_on`` is the UTC
        date of delivery."""
        o = orders
        stmt = (
            select(o.c.manufacturer_id, o.c.accepted_at, o.c.offered_at, o.c.wanted_by, o.c.delivered_at,
                   o.c.qc_failures)
            .where(
                o.c.accepted_at >= since,
                o.c.manufacturer_id.is_not(None),
                o.c.manufacturer_id != "",
                o.c.offered_at.is_not(None),
                or_(o.c.delivered_at.is_not(None), o.c.qc_failures > 0),
            )
            .order_by(_by_code_point(self._conn, o.c.id))
        )
        found: dict[str, builtins.list[CompletedJob]] = {}
        for manufacturer, accepted, offered, wanted_by, delivered, qc_failures in self._conn.execute(stmt):
            found.setdefault(str(manufacturer), []).append(CompletedJob(
                accepted_at=mapping.utc(accepted),
                offered_at=mapping.utc(offered),
                due=mapping.as_date(wanted_by),
                delivered_on=None if delivered is None else mapping.utc(delivered).date(),
                qc_failed=int(qc_failures) > 0,
            ))
        return found

    # -- helpers

    def _get(self, order_id: str, *, lock: bool) -> Order | None:
        stmt = select(orders).where(orders.c.id == order_id)
        if lock:
            stmt = stmt.with_for_update(key_share=True)  # PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else mapping.order_from_row(row)

    def _many(self, stmt: Any) -> builtins.list[Order]:
        return [mapping.order_from_row(r) for r in self._conn.execute(stmt).mappings()]


# -- the ledger -----------------------------------------------------------------------


class SqlLedgerRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, entry: JournalEntry) -> None:
        """The entry and its lines, all or nothing (a SAVEPOINT): a duplicate
        idempotency key is a Conflict and leaves the transaction usable."""
        e = ledger_entries
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(e).values(mapping.journal_entry_to_row(entry)))
                self._conn.execute(insert(ledger_lines), mapping.ledger_lines_to_rows(entry))
        except IntegrityError:
            taken = select(e.c.id).where(e.c.idempotency_key == entry.idempotency_key)
            if self._conn.execute(taken).first() is not None:
                raise Conflict("This money event was already recorded.", field="idempotency_key") from None
            if self._conn.execute(select(e.c.id).where(e.c.id == entry.id)).first() is not None:
                raise Conflict("Duplicate ledger entry id.") from None
            raise

    def for_order(self, order_id: str) -> builtins.list[JournalEntry]:
        """Oldest first: one query joining the entries to their lines."""
        e, ln = ledger_entries, ledger_lines
        stmt = (
            select(e, ln.c.account, ln.c.debit, ln.c.credit)
            .join(ln, ln.c.entry_id == e.c.id)
            .where(e.c.order_id == order_id)
            .order_by(e.c.at, _by_code_point(self._conn, e.c.id), ln.c.position)
        )
        heads: dict[str, Any] = {}
        lines: dict[str, builtins.list[LedgerLine]] = {}
        for row in self._conn.execute(stmt).mappings():
            heads.setdefault(row["id"], row)
            lines.setdefault(row["id"], []).append(mapping.ledger_line_from_row(row))
        return [mapping.journal_entry_from_row(row, lines[entry_id]) for entry_id, row in heads.items()]

    def balances_for_order(self, order_id: str) -> dict[str, int]:
        """Debit-positive balance per account: one SUM ... GROUP BY."""
        e, ln = ledger_entries, ledger_lines
        balance: ColumnElement[Any] = func.sum(ln.c.debit - ln.c.credit)
        stmt = (
            select(ln.c.account, balance)
            .join(e, e.c.id == ln.c.entry_id)
            .where(e.c.order_id == order_id)
            .group_by(ln.c.account)
        )
        return {str(account): int(total) for account, total in self._conn.execute(stmt)}


# -- prices ---------------------------------------------------------------------------


class SqlPriceRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def current(self, on: date) -> PriceTable | None:
        p = price_tables
        stmt = select(p).where(p.c.effective <= on).order_by(p.c.effective.desc()).limit(1)
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else mapping.price_table_from_row(row)

    def add(self, table: PriceTable) -> None:
        """INSERT, or replace the table with the same effective date (one statement)."""
        _upsert(self._conn, price_tables, mapping.price_table_to_row(table), ["effective"])


# -- payment instructions -------------------------------------------------------------


class SqlPaymentInstructionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, instruction: PaymentInstruction) -> bool:
        """INSERT ... ON CONFLICT (idempotency_key) DO NOTHING: a duplicate key is no
        error and leaves the transaction as it was. A duplicate id is a Conflict."""
        row = mapping.instruction_to_row(instruction)
        try:
            with self._conn.begin_nested():
                return _insert_if_absent(self._conn, payment_instructions, row, ["idempotency_key"])
        except IntegrityError:
            p = payment_instructions
            if self._conn.execute(select(p.c.id).where(p.c.id == instruction.id)).first() is not None:
                raise Conflict("Duplicate payment instruction id.") from None
            raise

    def claim_due(self, now: datetime, lease_until: datetime, *,
                  limit: int = 100) -> builtins.list[PaymentInstruction]:
        """Oldest first. On PostgreSQL ``FOR UPDATE SKIP LOCKED``: rows another
        transaction is claiming are passed over, and a row it claimed and committed
        meanwhile is re-checked (its lease now runs) and left out."""
        p = payment_instructions
        rows = _claim_due(self._conn, p, pending=InstructionStatus.PENDING.value, now=now, lease_until=lease_until,
                          limit=limit, order_by=(p.c.created_at, _by_code_point(self._conn, p.c.id)))
        return [mapping.instruction_from_row(r) for r in rows]

    def update(self, instruction: PaymentInstruction) -> None:
        p = payment_instructions
        values = {k: v for k, v in mapping.instruction_to_row(instruction).items() if k != "id"}
        if self._conn.execute(update(p).where(p.c.id == instruction.id).values(values)).rowcount == 0:
            raise NotFound("No such payment instruction.")

    def for_order(self, order_id: str) -> builtins.list[PaymentInstruction]:
        p = payment_instructions
        stmt = (
            select(p)
            .where(p.c.order_id == order_id)
            .order_by(p.c.created_at, _by_code_point(self._conn, p.c.id))
        )
        return [mapping.instruction_from_row(r) for r in self._conn.execute(stmt).mappings()]
