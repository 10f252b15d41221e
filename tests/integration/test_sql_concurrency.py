"""Invariants that only the database can keep under concurrency: the audit chain
stays a gap-free chain when many writers append at once (FOR UPDATE on the head
row on PostgreSQL, BEGIN IMMEDIATE on SQLite), and one email makes one account."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory
from caratzon_core.access import Actor
from caratzon_core.audit import AuditRecord, Outcome
from caratzon_core.errors import Conflict
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.accounts import AccountService, SignUp
from caratzon_core.services.audit import AuditService
from caratzon_core.services.deps import Deps
from caratzon_core.signing import HmacSigner
from caratzon_core.testing import FakeClock, FakeHasher, FakeStrength, SequentialIds

THREADS = 8
PER_THREAD = 25
ADMIN = Actor.cli_operator("tests")


def deps(uow: SqlUnitOfWorkFactory) -> Deps:
    return Deps(
        uow=uow, clock=FakeClock(), ids=SequentialIds(), hasher=FakeHasher(), strength=FakeStrength(),
        signer=HmacSigner(b"c" * 32, purpose="audit"),
    )


def run_at_once(work: Callable[[int], object]) -> list[object]:
    start = threading.Barrier(THREADS)

    def task(n: int) -> object:
        start.wait(timeout=10)
        try:
            return work(n)
        except Exception as exc:  # collected and asserted on by the caller
            return exc

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(task, range(THREADS)))


def test_concurrent_appends_form_one_gap_free_chain(sql_uow: SqlUnitOfWorkFactory) -> None:
    audit = AuditService(deps(sql_uow))

    def append_many(n: int) -> list[int]:
        return [
            audit.record_alone(AuditRecord(f"writer-{n}", "test.append", f"thread:{n}", Outcome.SUCCESS,
                                           detail={"i": str(i)})).seq
            for i in range(PER_THREAD)
        ]

    results = run_at_once(append_many)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    seqs = sorted(seq for r in results for seq in r)  # type: ignore[attr-defined]
    assert seqs == list(range(1, THREADS * PER_THREAD + 1))

    report = audit.verify(ADMIN)
    assert report.ok, report
    assert report.entries_checked == report.last_seq == THREADS * PER_THREAD
    with sql_uow() as uow:
        assert [e.seq for e in uow.audit.entries(batch=64)] == seqs


def test_concurrent_sign_ups_with_one_email_make_one_account(sql_uow: SqlUnitOfWorkFactory) -> None:
    accounts = AccountService(deps(sql_uow))

    def sign_up(n: int) -> object:
        return accounts.sign_up(SignUp(
            email="SAME@example.com" if n % 2 else "same@EXAMPLE.com",
            password="correct horse battery staple",
            name=f"Racer {n}",
            role="buyer",
            date_of_birth=date(1980, 1, 1),
            accept_policy_version=INITIAL_POLICY_VERSION,
        ))

    results = run_at_once(sign_up)
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(e, Conflict) and e.field == "email" for e in losers), losers
    with sql_uow() as uow:
        assert uow.users.count() == 1
    assert AuditService(deps(sql_uow)).verify(ADMIN).ok
