"""Races in orders, the ledger and payment instructions that only the database can
settle (issue #5), on real concurrent transactions:

- ``claim_due`` never hands the same payment instruction to two workers (``FOR
  UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's writers run one at a time);
- ``orders.get_for_update`` makes a second transaction wait until the first
  commits (PostgreSQL: ``FOR NO KEY UPDATE``, so rows that only refer to the order,
  such as ledger entries, still go in meanwhile), and read-modify-write steps on one
  order serialise on both databases;
- the same money event recorded at once by several transactions: one entry, the
  others get Conflict; the same payment instruction: one row.

Also here: listing manufacturers is one statement, the schema refuses what the
domain never writes, and migration 0004 downgrades without touching the rows of
earlier tables.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest
from sqlalchemy import Table, event, insert, inspect
from sqlalchemy.exc import IntegrityError

from caratzon_adapters.sql import mapping, tables
from caratzon_adapters.sql.engine import make_engine
from caratzon_adapters.sql.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from caratzon_core.accounts import Language, Role, User, UserStatus
from caratzon_core.agreements import Agreement, AgreementStatus
from caratzon_core.designs import Category, Design, DesignStatus, Dimensions
from caratzon_core.errors import Conflict
from caratzon_core.ledger import EntryKind, JournalEntry, LedgerLine
from caratzon_core.licence_options import LicenceOption, OptionStatus
from caratzon_core.licensing import Exclusivity, Fees, LicenceTerms, Term, Territory, Use, terms_hash
from caratzon_core.manufacturers import LabourPrice, Manufacturer, Process, Vetting
from caratzon_core.money import Money
from caratzon_core.negotiation import Negotiation, NegotiationStatus, Offer, Party
from caratzon_core.orders import Brief, Order, OrderStatus
from caratzon_core.payments import InstructionKind, PaymentInstruction

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
THREADS = 6
WAIT = 0.5  # how long a blocked transaction is watched to stay blocked

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DESIGNER, BUYER, MAKER, DESIGN, AGREEMENT = "user-0001", "user-0002", "user-0101", "design-0001", "agreement-0001"
TERMS = LicenceTerms(use=Use.MANUFACTURING, exclusivity=Exclusivity.NON_EXCLUSIVE, territory=Territory.world(),
                     term=Term(date(2027, 1, 1), 12), fees=Fees(flat=Money(250_000, "USD")))


def make_user(user_id: str, role: Role = Role.BUYER) -> User:
    return User(id=user_id, email=f"{user_id}@example.com", name=f"Person {user_id}", role=role,
                password_hash="fake$salt$hash", language=Language.EN, status=UserStatus.ACTIVE,
                business_name=None, business_address=None, age_confirmed_at=T0, created_at=T0, updated_at=T0)


def make_order(n: int) -> Order:
    return Order(id=f"order-{n:04d}", buyer_id=BUYER, design_id=DESIGN, designer_id=DESIGNER,
                 agreement_id=AGREEMENT, brief=Brief("18k_yellow", 10, "HK", date(2027, 3, 1)),
                 status=OrderStatus.QUALITY_CHECK, created_at=T0, updated_at=T0, submitted_at=T0,
                 manufacturer_id=MAKER, offered_at=T0, accepted_at=T0)


def make_charge(n: int, order_id: str = "order-0001", key: str | None = None) -> JournalEntry:
    return JournalEntry(id=f"entry-{n:04d}", order_id=order_id, kind=EntryKind.CHARGE, currency="USD",
                        idempotency_key=key or f"order:{order_id}:charge",
                        lines=(LedgerLine("clearing", 1000, 0), LedgerLine(f"payable:manufacturer:{MAKER}", 0, 1000)),
                        at=T0, buyer_id=BUYER)


def make_instruction(n: int, key: str | None = None) -> PaymentInstruction:
    return PaymentInstruction(id=f"pay-{n:04d}", order_id="order-0001", kind=InstructionKind.TRANSFER,
                              amount=Money(1000, "USD"), party_id=MAKER, idempotency_key=key or f"transfer:{n}",
                              created_at=T0 + timedelta(milliseconds=n))


def make_manufacturer(n: int) -> Manufacturer:
    return Manufacturer(user_id=f"user-{n:04d}", name=f"Workshop {n % 7}", processes=frozenset(Process),
                        metals=frozenset({"18k_yellow"}), min_quantity=1, max_quantity=100, weekly_capacity=50,
                        current_load=0, lead_time_days=14, ships_to=frozenset({"HK"}),
                        labour=LabourPrice(Money(9000, "USD"), Money(800, "USD")), vetting=Vetting.VETTED)


@contextmanager
def seeded(url: str) -> Iterator[SqlUnitOfWorkFactory]:
    engine = make_engine(url, pool_size=THREADS + 2) if url.startswith("postgresql") else make_engine(url)
    try:
        factory = SqlUnitOfWorkFactory(engine)
        with factory() as uow:
            uow.users.add(make_user(DESIGNER, Role.DESIGNER))
            uow.users.add(make_user(BUYER))
            uow.users.add(make_user(MAKER, Role.MANUFACTURER))
            uow.designs.add(Design(id=DESIGN, designer_id=DESIGNER, title="Ring", description="A ring.",
                                   category=Category.RING, metals=("18k_yellow",), gemstones=(),
                                   dimensions=Dimensions(), tags=(), price_guidance=None,
                                   status=DesignStatus.PUBLISHED, created_at=T0, updated_at=T0, published_at=T0))
            uow.licence_options.add(LicenceOption(id="option-0001", design_id=DESIGN, designer_id=DESIGNER,
                                                  name="Production", terms=TERMS, status=OptionStatus.ACTIVE,
                                                  created_at=T0))
            offer = Offer(id="neg-0001.1", by=Party.BUYER, terms=TERMS, made_at=T0, expires_at=T0 + timedelta(days=7))
            uow.negotiations.add(Negotiation(id="neg-0001", design_id=DESIGN, option_id="option-0001",
                                             buyer_id=BUYER, designer_id=DESIGNER, status=NegotiationStatus.ACCEPTED,
                                             offers=(offer,), accepted_offer_id=offer.id, closed_at=T0))
            uow.agreements.add(Agreement(id=AGREEMENT, negotiation_id="neg-0001", design_id=DESIGN,
                                         designer_id=DESIGNER, buyer_id=BUYER, terms=TERMS,
                                         terms_hash=terms_hash(TERMS), effective_date=TERMS.term.start,
                                         end_date=TERMS.term.end, status=AgreementStatus.ACTIVE, created_at=T0))
            uow.manufacturers.add(make_manufacturer(101))
            for n in (1, 2):
                uow.orders.add(make_order(n))
            uow.commit()
        yield factory
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def uow(backend: str, make_database_url: Callable[..., str]) -> Iterator[SqlUnitOfWorkFactory]:
    """A seeded database on each backend."""
    with seeded(make_database_url(backend)) as factory:
        yield factory


@pytest.fixture
def pg_uow(make_database_url: Callable[..., str]) -> Iterator[SqlUnitOfWorkFactory]:
    """A seeded PostgreSQL database (the test skips when none is configured)."""
    with seeded(make_database_url("postgres")) as factory:
        yield factory


def limit_lock_wait(uow: SqlUnitOfWork, seconds: float = 5) -> None:
    """Fail instead of hanging should a statement that must not block ever block."""
    if uow.connection.dialect.name == "postgresql":
        uow.connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(seconds * 1000)}ms'")


def run_at_once(work: Callable[[int], object], threads: int = THREADS) -> list[object]:
    start = threading.Barrier(threads)

    def task(n: int) -> object:
        start.wait(timeout=10)
        try:
            return work(n)
        except Exception as exc:  # collected and asserted on by the caller
            return exc

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(task, range(threads)))


# -- PostgreSQL row locks -------------------------------------------------------------


@pytest.mark.postgres
def test_get_for_update_blocks_a_second_transaction_until_the_first_commits(pg_uow: SqlUnitOfWorkFactory) -> None:
    read_by_second = threading.Event()

    def second() -> Order | None:
        with pg_uow() as uow:
            order = uow.orders.get_for_update("order-0001")
            read_by_second.set()
            return order

    with ThreadPoolExecutor(1) as pool, pg_uow() as first:
        order = first.orders.get_for_update("order-0001")
        assert order is not None
        waiting = pool.submit(second)
        assert not read_by_second.wait(WAIT), "the second get_for_update did not wait"

        # Only writers of the order queue: the lock is FOR NO KEY UPDATE, so rows that
        # merely refer to it (their foreign-key check takes KEY SHARE) go in meanwhile,
        # and plain reads never wait.
        with pg_uow() as bystander:
            limit_lock_wait(bystander)
            bystander.ledger.add(make_charge(1))
            assert bystander.payments.add(make_instruction(1)) is True
            assert bystander.orders.get("order-0001") == order
            bystander.orders.update(attrs.evolve(make_order(2), reason="another order is not locked"))
            bystander.commit()

        passed = attrs.evolve(order, qc_passed_at=T0 + timedelta(hours=1), updated_at=T0 + timedelta(hours=1))
        first.orders.update(passed)
        assert not read_by_second.is_set()
        first.commit()
        assert waiting.result(timeout=10) == passed  # the second sees the first's change


@pytest.mark.postgres
def test_two_claiming_transactions_skip_each_others_rows(pg_uow: SqlUnitOfWorkFactory) -> None:
    with pg_uow() as uow:
        for n in range(1, 13):
            uow.payments.add(make_instruction(n))
        uow.commit()
    now, lease = T0 + timedelta(hours=1), T0 + timedelta(hours=1, minutes=5)
    with pg_uow() as a, pg_uow() as b:
        first = [p.id for p in a.payments.claim_due(now, lease, limit=5)]
        limit_lock_wait(b)
        second = [p.id for p in b.payments.claim_due(now, lease, limit=5)]  # does not wait for a
        assert first == [f"pay-{n:04d}" for n in range(1, 6)]
        assert second == [f"pay-{n:04d}" for n in range(6, 11)]
        a.commit()
        b.commit()
    with pg_uow() as c:
        assert [p.id for p in c.payments.claim_due(now, lease)] == ["pay-0011", "pay-0012"]


# -- both databases -------------------------------------------------------------------


def test_concurrent_claims_never_return_a_row_twice(uow: SqlUnitOfWorkFactory) -> None:
    rows = 60
    with uow() as setup:
        for n in range(1, rows + 1):
            setup.payments.add(make_instruction(n))
        setup.commit()
    now, lease = T0 + timedelta(hours=1), T0 + timedelta(hours=2)

    def worker(_: int) -> list[str]:
        mine: list[str] = []
        while True:
            with uow() as work:
                claimed = work.payments.claim_due(now, lease, limit=4)
                time.sleep(0.005)  # hold the claim a moment, as a real worker would
                work.commit()
            if not claimed:
                return mine
            mine.extend(p.id for p in claimed)

    results = run_at_once(worker)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    claimed = [i for r in results for i in r]  # type: ignore[attr-defined]
    assert len(claimed) == len(set(claimed)) == rows


def test_read_modify_write_steps_on_one_order_serialise(uow: SqlUnitOfWorkFactory) -> None:
    """Each step reads the order with get_for_update and counts a QC failure:
    serialised, no step loses another's."""

    def fail_qc(n: int) -> int:
        with uow() as work:
            order = work.orders.get_for_update("order-0001")
            assert order is not None
            time.sleep(0.01)
            work.orders.update(attrs.evolve(order, qc_failures=order.qc_failures + 1, reason=f"step {n}"))
            work.commit()
            return order.qc_failures

    results = run_at_once(fail_qc)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert sorted(results) == list(range(THREADS))  # type: ignore[type-var]
    with uow() as check:
        stored = check.orders.get("order-0001")
        assert stored is not None and stored.qc_failures == THREADS


def test_one_money_event_is_recorded_once_whoever_races(uow: SqlUnitOfWorkFactory) -> None:
    def record(n: int) -> str:
        with uow() as work:
            work.ledger.add(make_charge(n + 1))  # the same idempotency key, each its own id
            time.sleep(0.02)  # keep the insert uncommitted while the others try
            work.commit()
        return f"entry-{n + 1:04d}"

    results = run_at_once(record)
    made = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(made) == 1 and len(refused) == THREADS - 1, results
    with uow() as check:
        assert [e.id for e in check.ledger.for_order("order-0001")] == made
        assert check.ledger.balances_for_order("order-0001") == {"clearing": 1000,
                                                                 f"payable:manufacturer:{MAKER}": -1000}


def test_one_payment_instruction_per_key_whoever_races(uow: SqlUnitOfWorkFactory) -> None:
    def instruct(n: int) -> bool:
        with uow() as work:
            inserted = work.payments.add(make_instruction(n + 1, key="order:order-0001:payout:maker"))
            time.sleep(0.02)
            work.commit()
            return inserted

    results = run_at_once(instruct)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert sorted(results) == [False] * (THREADS - 1) + [True]  # type: ignore[type-var]
    with uow() as check:
        assert len(check.payments.for_order("order-0001")) == 1


def test_listing_manufacturers_is_one_statement(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as setup:
        for n in range(200, 450):
            setup.users.add(make_user(f"user-{n:04d}", Role.MANUFACTURER))
            setup.manufacturers.add(make_manufacturer(n))
        setup.commit()
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(uow.engine, "before_cursor_execute", count)
    try:
        with uow() as work:
            listed = work.manufacturers.list()
            by_vetting = work.manufacturers.list(vetting=Vetting.VETTED, limit=10)
    finally:
        event.remove(uow.engine, "before_cursor_execute", count)
    assert len(listed) == 251 and len(by_vetting) == 10
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, statements
    assert [(m.name, m.user_id) for m in listed] == sorted((m.name, m.user_id) for m in listed)


# -- the schema's own guards ----------------------------------------------------------


def _order_row(**changes: object) -> dict[str, object]:
    return {**mapping.order_to_row(make_order(9)), **changes}


def _line_row(**changes: object) -> dict[str, object]:
    return {"entry_id": "entry-0001", "position": 5, "account": "clearing", "debit": 1, "credit": 0, **changes}


def _instruction_row(**changes: object) -> dict[str, object]:
    return {**mapping.instruction_to_row(make_instruction(9)), **changes}


@pytest.mark.parametrize(
    ("table", "values"),
    [
        (tables.orders, _order_row(status="lost")),
        (tables.orders, _order_row(quantity=0)),
        (tables.orders, _order_row(qc_failures=-1)),
        (tables.orders, _order_row(carrier="DHL", tracking=None, shipped_at=T0)),
        (tables.orders, _order_row(manufacturer_id="nobody")),
        (tables.ledger_lines, _line_row(debit=5, credit=5)),
        (tables.ledger_lines, _line_row(debit=-1)),
        (tables.ledger_lines, _line_row(entry_id="entry-9999")),
        (tables.payment_instructions, _instruction_row(kind="gift")),
        (tables.payment_instructions, _instruction_row(status="lost")),
        (tables.payment_instructions, _instruction_row(id="pay-0099", idempotency_key="transfer:1")),
        (tables.manufacturers, {**mapping.manufacturer_to_row(make_manufacturer(2)), "vetting": "trusted"}),
        (tables.manufacturers, {**mapping.manufacturer_to_row(make_manufacturer(2)), "current_load": -1}),
    ],
    ids=["order-status", "order-quantity", "qc-failures", "half-a-shipment", "order-manufacturer-fk",
         "line-both-sides", "line-negative", "line-entry-fk", "instruction-kind", "instruction-status",
         "instruction-key-unique", "vetting", "load-negative"],
)
def test_the_schema_refuses_what_the_domain_never_writes(uow: SqlUnitOfWorkFactory, table: Table,
                                                          values: dict[str, object]) -> None:
    with uow() as setup:
        setup.ledger.add(make_charge(1))
        setup.payments.add(make_instruction(1))
        setup.commit()
    with pytest.raises(IntegrityError), uow.engine.begin() as conn:
        conn.execute(insert(table).values(values))
    good = {tables.orders: _order_row(), tables.ledger_lines: _line_row(),
            tables.payment_instructions: _instruction_row(),
            tables.manufacturers: mapping.manufacturer_to_row(make_manufacturer(2))}
    with uow.engine.begin() as conn:  # each refused row differs from a good one in one value only
        conn.execute(insert(table).values(good[table]))


# -- migration 0004 -------------------------------------------------------------------


def test_downgrading_0004_keeps_existing_rows(backend: str, make_database_url: Callable[..., str]) -> None:
    from alembic import command

    from caratzon_adapters.sql.migrate import alembic_config, current_revision, upgrade

    with seeded(make_database_url(backend)) as factory:
        engine = factory.engine
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0003")
        assert current_revision(engine) == "0003"
        names = set(inspect(engine).get_table_names())
        assert not names & {"manufacturers", "orders", "ledger_entries", "ledger_lines", "price_tables",
                            "payment_instructions"}
        upgrade(engine)
        with factory() as check:
            assert check.users.get(MAKER) == make_user(MAKER, Role.MANUFACTURER)
            assert check.agreements.get(AGREEMENT) is not None
            assert check.orders.get("order-0001") is None  # that table was dropped and rebuilt
            assert check.manufacturers.list() == []
