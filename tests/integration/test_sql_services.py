"""The real use cases on the SQL unit of work, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select

from caratzon_adapters.sql import tables
from caratzon_adapters.sql.engine import make_engine
from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory
from caratzon_core.access import Actor
from caratzon_core.accounts import Role, UserStatus
from caratzon_core.errors import Conflict, Forbidden, Throttled, Unauthenticated
from caratzon_core.ports import UnitOfWorkFactory
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.accounts import AccountService, SignUp
from caratzon_core.services.audit import AuditService
from caratzon_core.services.deps import Client, Deps
from caratzon_core.signing import HmacSigner
from caratzon_core.testing import FakeClock, FakeHasher, FakeStrength, SequentialIds

PASSWORD = "correct horse battery staple"
ADMIN = Actor.cli_operator("tests")


def services(uow: UnitOfWorkFactory, clock: FakeClock | None = None) -> tuple[AccountService, AuditService]:
    deps = Deps(
        uow=uow,
        clock=clock or FakeClock(),
        ids=SequentialIds(),
        hasher=FakeHasher(),
        strength=FakeStrength(),
        signer=HmacSigner(b"s" * 32, purpose="audit"),
    )
    return AccountService(deps), AuditService(deps)


def sign_up(accounts: AccountService, email: str, role: str = "designer") -> SignUp:
    cmd = SignUp(
        email=email,
        password=PASSWORD,
        name="Ada Goldsmith",
        role=role,
        date_of_birth=date(1990, 5, 17),
        business_name="Ada Fine Jewels",
        accept_policy_version=INITIAL_POLICY_VERSION,
    )
    accounts.sign_up(cmd, Client(address="198.51.100.23"))
    return cmd


def count(engine: Engine, table: tables.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_account_lifecycle_and_audit_verify(sql_uow: SqlUnitOfWorkFactory, engine: Engine) -> None:
    clock = FakeClock()
    accounts, audit = services(sql_uow, clock)
    client = Client(address="198.51.100.23")

    sign_up(accounts, "  Ada@Example.COM ")
    with pytest.raises(Conflict) as dup:
        sign_up(accounts, "ada@example.com", role="buyer")
    assert dup.value.field == "email"

    with pytest.raises(Unauthenticated):
        accounts.login("ada@example.com", "wrong password!!", client)
    user = accounts.login("ADA@example.com", PASSWORD, client)
    assert user.email == "ada@example.com" and user.role is Role.DESIGNER
    assert user.created_at == clock.now() and user.created_at.utcoffset() == timedelta(0)
    assert accounts.get_profile(user.id) is not None
    with sql_uow() as uow:
        assert [a.version for a in uow.policies.acceptances(user.id)] == [INITIAL_POLICY_VERSION]

    actor = accounts.actor_for(user)
    accounts.update_profile(actor, user.id, biography="Platinum settings.")
    assert accounts.get_profile(user.id).biography == "Platinum settings."  # type: ignore[union-attr]

    issued = accounts.issue_token("ada@example.com", PASSWORD, client, label="laptop")
    second = accounts.issue_token("ada@example.com", PASSWORD, client)
    found, record = accounts.authenticate_token(issued.token)
    assert found.id == user.id and record == issued.record
    accounts.revoke_token(actor, second.record.id, client)
    with pytest.raises(Unauthenticated):
        accounts.authenticate_token(second.token)

    clock.advance(timedelta(hours=1))
    closed = accounts.close_account(actor, user.id, client)
    assert closed.status is UserStatus.CLOSED and closed.closed_at == clock.now()
    with pytest.raises(Unauthenticated):
        accounts.authenticate_token(issued.token)
    with pytest.raises(Unauthenticated):
        accounts.login("ada@example.com", PASSWORD, client)
    with sql_uow() as uow:
        assert uow.tokens.get(issued.record.id).revoked_at == clock.now()  # type: ignore[union-attr]
        assert uow.audit.for_subject(f"user:{user.id}", limit=1)[0].action == "account.login"

    report = audit.verify(ADMIN)
    assert report.ok, report
    assert report.entries_checked == count(engine, tables.audit_log) > 10
    assert count(engine, tables.users) == 1


def test_login_throttling_reads_attempts_back(sql_uow: SqlUnitOfWorkFactory) -> None:
    accounts, audit = services(sql_uow)
    sign_up(accounts, "bob@example.com", role="buyer")
    for _ in range(5):
        with pytest.raises((Unauthenticated, Throttled)):
            accounts.login("bob@example.com", "not the password", Client(address="203.0.113.9"))
    with pytest.raises(Throttled):
        accounts.login("bob@example.com", PASSWORD, Client(address="203.0.113.9"))
    assert audit.verify(ADMIN).ok


def test_audit_prune_then_verify(sql_uow: SqlUnitOfWorkFactory) -> None:
    clock = FakeClock()
    accounts, audit = services(sql_uow, clock)
    sign_up(accounts, "cy@example.com")
    for _ in range(3):
        clock.advance(timedelta(days=800))
        accounts.login("cy@example.com", PASSWORD)
    result = audit.prune(ADMIN, older_than=clock.now() - timedelta(days=1100))
    assert result.pruned == 2 and result.checkpoint is not None
    report = audit.verify(ADMIN)
    assert report.ok, report
    assert report.entries_checked == 3  # two logins and the prune record


def test_revoking_someone_elses_token_is_denied(database_url: str) -> None:
    # A denial is audited in a unit of work of its own; on SQLite (BEGIN IMMEDIATE) it
    # would wait for the write lock, and fail, if the use case still held one open.
    # A short busy timeout makes such a regression fail fast.
    engine = make_engine(database_url, sqlite_busy_timeout=0.2)
    try:
        accounts, audit = services(SqlUnitOfWorkFactory(engine))
        sign_up(accounts, "owner@example.com")
        sign_up(accounts, "other@example.com", role="buyer")
        token = accounts.issue_token("owner@example.com", PASSWORD)
        other = accounts.login("other@example.com", PASSWORD)
        with pytest.raises(Forbidden):
            accounts.revoke_token(accounts.actor_for(other), token.record.id)
        assert accounts.authenticate_token(token.token)[1].revoked_at is None
        assert audit.verify(ADMIN).ok
    finally:
        engine.dispose()
