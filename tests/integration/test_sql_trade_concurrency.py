"""Races in licensing, negotiation and the outbox that only the database can settle
(issue #4), on real concurrent transactions:

- ``lock_design`` makes a second agreement-maker on the same design wait until the
  first commits, and then see its agreement (PostgreSQL: a row lock on the design;
  SQLite needs none, its writers run one at a time under ``BEGIN IMMEDIATE``);
- ``get_for_update`` serialises two answers to one negotiation;
- one negotiation yields one agreement, whoever races (UNIQUE(negotiation_id));
- ``claim_due`` never hands the same outbox row to two workers (``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL).

Also here: migration 0003 downgrades without touching existing rows (on SQLite the
column is dropped in place, never by rebuilding ``users``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from caratzon_adapters.sql.engine import make_engine
from caratzon_adapters.sql.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from caratzon_core.accounts import Language, Role, User, UserStatus
from caratzon_core.agreements import Agreement, AgreementStatus
from caratzon_core.designs import Category, Design, DesignStatus, Dimensions
from caratzon_core.errors import Conflict
from caratzon_core.licence_options import LicenceOption, OptionStatus
from caratzon_core.licensing import Exclusivity, Fees, LicenceTerms, Term, Territory, Use, terms_hash
from caratzon_core.money import Money
from caratzon_core.negotiation import Negotiation, NegotiationStatus, Offer, Party
from caratzon_core.notices import Notice, NoticeKind
from caratzon_core.outbox import OutboxMessage

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
THREADS = 6
WAIT = 0.5  # how long a blocked transaction is watched to stay blocked

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DESIGNER, BUYER, DESIGN = "user-0001", "user-0002", "design-0001"
TERMS = LicenceTerms(
    use=Use.MANUFACTURING,
    exclusivity=Exclusivity.EXCLUSIVE,
    territory=Territory.world(),
    term=Term(T0.date() + timedelta(days=30), 12),
    fees=Fees(flat=Money(250_000, "USD")),
)


def make_user(user_id: str, role: Role = Role.BUYER) -> User:
    return User(id=user_id, email=f"{user_id}@example.com", name=f"Person {user_id}", role=role,
                password_hash="fake$salt$hash", language=Language.EN, status=UserStatus.ACTIVE,
                business_name=None, business_address=None, age_confirmed_at=T0, created_at=T0, updated_at=T0)


def make_option(n: int) -> LicenceOption:
    return LicenceOption(id=f"option-{n:04d}", design_id=DESIGN, designer_id=DESIGNER, name=f"Option {n}",
                         terms=TERMS, status=OptionStatus.ACTIVE, created_at=T0)


def make_negotiation(n: int) -> Negotiation:
    neg_id = f"neg-{n:04d}"
    first = Offer(id=f"{neg_id}.1", by=Party.BUYER, terms=TERMS, made_at=T0, expires_at=T0 + timedelta(days=7))
    return Negotiation(id=neg_id, design_id=DESIGN, option_id="option-0001", buyer_id=BUYER,
                       designer_id=DESIGNER, status=NegotiationStatus.OPEN, offers=(first,))


def countered(neg: Negotiation, at: datetime) -> Negotiation:
    offer = Offer(id=f"{neg.id}.{len(neg.offers) + 1}", by=neg.latest.by.other, terms=TERMS, made_at=at,
                  expires_at=at + timedelta(days=7))
    return Negotiation(id=neg.id, design_id=neg.design_id, option_id=neg.option_id, buyer_id=neg.buyer_id,
                       designer_id=neg.designer_id, status=neg.status, offers=(*neg.offers, offer))


def make_agreement(n: int, negotiation_id: str) -> Agreement:
    return Agreement(id=f"agreement-{n:04d}", negotiation_id=negotiation_id, design_id=DESIGN,
                     designer_id=DESIGNER, buyer_id=BUYER, terms=TERMS, terms_hash=terms_hash(TERMS),
                     effective_date=TERMS.term.start, end_date=TERMS.term.end, status=AgreementStatus.ACTIVE,
                     created_at=T0)


def make_outbox(n: int) -> OutboxMessage:
    notice = Notice(NoticeKind.OFFER_RECEIVED, "designer@example.com", "en", {"name": "Ada"})
    return OutboxMessage(id=f"out-{n:04d}", dedupe_key=f"offer:{n}", notice=notice,
                         created_at=T0 + timedelta(milliseconds=n))


@contextmanager
def seeded(url: str) -> Iterator[SqlUnitOfWorkFactory]:
    engine = make_engine(url, pool_size=THREADS + 2) if url.startswith("postgresql") else make_engine(url)
    try:
        factory = SqlUnitOfWorkFactory(engine)
        with factory() as uow:
            uow.users.add(make_user(DESIGNER, Role.DESIGNER))
            uow.users.add(make_user(BUYER))
            uow.designs.add(Design(id=DESIGN, designer_id=DESIGNER, title="Ring", description="A ring.",
                                   category=Category.RING, metals=("18k_yellow",), gemstones=(),
                                   dimensions=Dimensions(), tags=(), price_guidance=None,
                                   status=DesignStatus.PUBLISHED, created_at=T0, updated_at=T0, published_at=T0))
            uow.licence_options.add(make_option(1))
            for n in (1, 2, 3):
                uow.negotiations.add(make_negotiation(n))
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
def test_lock_design_blocks_a_second_transaction_until_the_first_commits(pg_uow: SqlUnitOfWorkFactory) -> None:
    agreement = make_agreement(1, "neg-0001")
    locked_by_second = threading.Event()

    def second() -> list[str]:
        with pg_uow() as uow:
            uow.agreements.lock_design(DESIGN)
            locked_by_second.set()
            # the exclusivity check that follows the lock sees the first's agreement
            return [a.id for a in uow.agreements.active_for_design(DESIGN)]

    with ThreadPoolExecutor(1) as pool, pg_uow() as first:
        first.agreements.lock_design(DESIGN)
        waiting = pool.submit(second)
        assert not locked_by_second.wait(WAIT), "the second lock_design did not wait"

        # Only agreement-makers queue: the lock is FOR NO KEY UPDATE, so rows that merely
        # refer to the design (their foreign-key check takes KEY SHARE) go in meanwhile.
        with pg_uow() as bystander:
            limit_lock_wait(bystander)
            bystander.licence_options.add(make_option(2))
            bystander.commit()

        first.agreements.add(agreement)
        assert not locked_by_second.is_set()
        first.commit()
        assert waiting.result(timeout=10) == [agreement.id]


@pytest.mark.postgres
def test_get_for_update_blocks_a_second_answer_until_the_first_commits(pg_uow: SqlUnitOfWorkFactory) -> None:
    read_by_second = threading.Event()

    def second() -> Negotiation | None:
        with pg_uow() as uow:
            neg = uow.negotiations.get_for_update("neg-0001")
            read_by_second.set()
            return neg

    with ThreadPoolExecutor(1) as pool, pg_uow() as first:
        neg = first.negotiations.get_for_update("neg-0001")
        assert neg is not None
        waiting = pool.submit(second)
        assert not read_by_second.wait(WAIT), "the second get_for_update did not wait"
        answered = countered(neg, T0 + timedelta(hours=1))
        first.negotiations.update(answered)
        first.commit()
        assert waiting.result(timeout=10) == answered  # the second sees the first's answer


@pytest.mark.postgres
def test_two_claiming_transactions_skip_each_others_rows(pg_uow: SqlUnitOfWorkFactory) -> None:
    with pg_uow() as uow:
        for n in range(1, 13):
            uow.outbox.add(make_outbox(n))
        uow.commit()
    now, lease = T0 + timedelta(hours=1), T0 + timedelta(hours=1, minutes=5)
    with pg_uow() as a, pg_uow() as b:
        first = [m.id for m in a.outbox.claim_due(now, lease, limit=5)]
        limit_lock_wait(b)
        second = [m.id for m in b.outbox.claim_due(now, lease, limit=5)]  # does not wait for a
        assert first == [f"out-{n:04d}" for n in range(1, 6)]
        assert second == [f"out-{n:04d}" for n in range(6, 11)]
        a.commit()
        b.commit()
    with pg_uow() as c:
        assert [m.id for m in c.outbox.claim_due(now, lease)] == ["out-0011", "out-0012"]


# -- both databases -------------------------------------------------------------------


def test_concurrent_claims_never_return_a_row_twice(uow: SqlUnitOfWorkFactory) -> None:
    rows = 60
    with uow() as setup:
        for n in range(1, rows + 1):
            setup.outbox.add(make_outbox(n))
        setup.commit()
    now, lease = T0 + timedelta(hours=1), T0 + timedelta(hours=2)

    def worker(_: int) -> list[str]:
        mine: list[str] = []
        while True:
            with uow() as work:
                claimed = work.outbox.claim_due(now, lease, limit=4)
                time.sleep(0.005)  # hold the claim a moment, as a real worker would
                work.commit()
            if not claimed:
                return mine
            mine.extend(m.id for m in claimed)

    results = run_at_once(worker)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    claimed = [i for r in results for i in r]  # type: ignore[attr-defined]
    assert len(claimed) == len(set(claimed)) == rows


def test_one_negotiation_yields_one_agreement_whoever_races(uow: SqlUnitOfWorkFactory) -> None:
    def conclude(n: int) -> str:
        with uow() as work:
            work.agreements.add(make_agreement(n + 1, "neg-0001"))
            time.sleep(0.02)  # keep the insert uncommitted while the others try
            work.commit()
        return f"agreement-{n + 1:04d}"

    results = run_at_once(conclude)
    made = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(made) == 1 and len(refused) == THREADS - 1, results
    with uow() as check:
        stored = check.agreements.for_negotiation("neg-0001")
        assert stored is not None and stored.id == made[0]


def test_answers_to_one_negotiation_serialise(uow: SqlUnitOfWorkFactory) -> None:
    """Each answer reads the negotiation with get_for_update and appends an offer:
    serialised, every one sees the one before and no update is refused."""

    def answer(n: int) -> int:
        with uow() as work:
            neg = work.negotiations.get_for_update("neg-0002")
            assert neg is not None
            time.sleep(0.01)
            work.negotiations.update(countered(neg, T0 + timedelta(minutes=len(neg.offers))))
            work.commit()
            return len(neg.offers)

    results = run_at_once(answer)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert sorted(results) == list(range(1, THREADS + 1))  # type: ignore[type-var]
    with uow() as check:
        stored = check.negotiations.get("neg-0002")
        assert stored is not None and len(stored.offers) == THREADS + 1
        assert [o.id for o in stored.offers] == [f"neg-0002.{n}" for n in range(1, THREADS + 2)]


# -- migration 0003 -------------------------------------------------------------------


def test_downgrading_0003_keeps_existing_rows(backend: str, make_database_url: Callable[..., str]) -> None:
    from alembic import command

    from caratzon_adapters.sql.migrate import alembic_config, current_revision, upgrade

    with seeded(make_database_url(backend)) as factory:
        engine = factory.engine
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0002")
        assert current_revision(engine) == "0002"
        assert "ai_objection_at" not in {c["name"] for c in inspect(engine).get_columns("users")}
        assert "negotiations" not in inspect(engine).get_table_names()
        upgrade(engine)
        with factory() as check:
            assert check.users.get(BUYER) == make_user(BUYER)  # the row survived, the column is back
            assert check.designs.get(DESIGN) is not None
            assert check.licence_options.get("option-0001") is None  # that table was dropped and rebuilt
