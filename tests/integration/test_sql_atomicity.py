"""A use case that fails half-way leaves nothing behind in the database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from caratzon_adapters.sql import tables
from caratzon_adapters.sql.repositories import SqlAuditRepository
from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory
from caratzon_core.accounts import Language, Role, User, UserStatus
from caratzon_core.audit import AuditEntry, ChainHead
from caratzon_core.credentials import ApiToken
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.accounts import AccountService, SignUp
from caratzon_core.services.deps import Deps
from caratzon_core.signing import HmacSigner
from caratzon_core.testing import FakeClock, FakeHasher, FakeStrength, SequentialIds


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in tables.metadata.sorted_tables
        }


def test_sign_up_whose_audit_append_fails_stores_nothing(
    sql_uow: SqlUnitOfWorkFactory, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = row_counts(engine)

    def broken_append(self: SqlAuditRepository, entry: AuditEntry, head: ChainHead) -> None:
        raise RuntimeError("the audit store is unavailable")

    monkeypatch.setattr(SqlAuditRepository, "append", broken_append)
    clock = FakeClock()
    deps = Deps(uow=sql_uow, clock=clock, ids=SequentialIds(), hasher=FakeHasher(), strength=FakeStrength(),
                signer=HmacSigner(b"a" * 32, purpose="audit"))
    with pytest.raises(RuntimeError, match="audit store"):
        AccountService(deps).sign_up(SignUp(
            email="dee@example.com", password="correct horse battery staple", name="Dee", role="designer",
            date_of_birth=date(1985, 2, 3), accept_policy_version=INITIAL_POLICY_VERSION,
        ))
    after = row_counts(engine)
    assert after == before
    assert after["users"] == after["designer_profiles"] == after["policy_acceptances"] == 0


def test_a_refused_statement_undoes_the_earlier_ones(sql_uow: SqlUnitOfWorkFactory, engine: Engine) -> None:
    now = FakeClock().now()
    user = User(
        id="u-1", email="eve@example.com", name="Eve", role=Role.BUYER, password_hash="fake$x$y",
        language=Language.EN, status=UserStatus.ACTIVE, business_name=None, business_address=None,
        age_confirmed_at=now, created_at=now, updated_at=now,
    )
    orphan = ApiToken(id="t-1", user_id="no-such-user", digest="d" * 64, created_at=now,
                      expires_at=now + timedelta(days=1))
    with pytest.raises(IntegrityError), sql_uow() as uow:
        uow.users.add(user)
        uow.tokens.add(orphan)  # the foreign key refuses it (PRAGMA foreign_keys=ON on SQLite)
        uow.commit()
    assert row_counts(engine)["users"] == 0
