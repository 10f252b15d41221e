"""Tampering with the stored audit trail behind the application's back is caught
by AuditService.verify, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, update

from caratzon_adapters.sql.tables import audit_head, audit_log
from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory
from caratzon_core.access import Actor
from caratzon_core.audit import AuditRecord, Outcome
from caratzon_core.services.audit import AuditService
from caratzon_core.services.deps import Deps
from caratzon_core.signing import HmacSigner
from caratzon_core.testing import FakeClock, FakeHasher, FakeStrength, SequentialIds

ADMIN = Actor.cli_operator("tests")


@pytest.fixture
def audit(sql_uow: SqlUnitOfWorkFactory) -> AuditService:
    clock = FakeClock()
    deps = Deps(
        uow=sql_uow, clock=clock, ids=SequentialIds(), hasher=FakeHasher(), strength=FakeStrength(),
        signer=HmacSigner(b"t" * 32, purpose="audit"),
    )
    service = AuditService(deps)
    for i in range(1, 6):
        service.record_alone(AuditRecord(f"user-{i}", "account.login", f"user:{i}", Outcome.SUCCESS,
                                         "192.0.2.10", {"reason": f"attempt {i}"}))
        clock.advance(timedelta(seconds=1))
    report = service.verify(ADMIN)
    assert report.ok and report.entries_checked == 5
    return service


def tamper(engine: Engine, statement: object) -> None:
    with engine.begin() as conn:
        assert conn.execute(statement).rowcount == 1  # type: ignore[call-overload]


def test_changed_outcome_is_reported_at_its_seq(audit: AuditService, engine: Engine) -> None:
    tamper(engine, update(audit_log).where(audit_log.c.seq == 3).values(outcome=Outcome.FAILURE))
    report = audit.verify(ADMIN)
    assert not report.ok
    assert report.first_bad_seq == 3
    assert report.problem == "entry 3 was altered after it was written"


def test_changed_detail_is_reported(audit: AuditService, engine: Engine) -> None:
    tamper(engine, update(audit_log).where(audit_log.c.seq == 2).values(detail={"reason": "forged"}))
    report = audit.verify(ADMIN)
    assert (report.ok, report.first_bad_seq) == (False, 2)


def test_deleted_middle_entry_is_reported(audit: AuditService, engine: Engine) -> None:
    tamper(engine, delete(audit_log).where(audit_log.c.seq == 3))
    report = audit.verify(ADMIN)
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert report.problem == "entry 3 is missing"


def test_deleted_last_entry_is_reported_against_the_signed_head(audit: AuditService, engine: Engine) -> None:
    tamper(engine, delete(audit_log).where(audit_log.c.seq == 5))
    report = audit.verify(ADMIN)
    assert (report.ok, report.first_bad_seq) == (False, 5)
    assert "signed head says 5" in (report.problem or "")


def test_rewound_head_is_reported(audit: AuditService, engine: Engine) -> None:
    # Cutting the tail AND moving the head back still fails: the head's signature no longer matches.
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 5))
        prev_hash = conn.execute(audit_log.select().where(audit_log.c.seq == 4)).mappings().one()["hash"]
        conn.execute(update(audit_head).values(seq=4, hash=prev_hash))
    report = audit.verify(ADMIN)
    assert not report.ok
    assert report.problem == "the chain head's signature is invalid"
