"""Data-subject requests (issue #6, parts 1 and 7) through the real use cases on the
SQL unit of work, on SQLite and PostgreSQL: effects and answers land in the same
transaction as the request, a wrong code's try is stored although nothing opens,
the audit chain still verifies; and people racing to open the same request end
with one request and every merge counted (UNIQUE(user_id, open_type) plus the
row lock on the open request)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from sqlalchemy import Engine, func, select

from caratzon_adapters.sql import tables
from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory
from caratzon_core.access import Actor
from caratzon_core.accounts import UserStatus
from caratzon_core.errors import ValidationFailed
from caratzon_core.notices import NoticeKind
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.requests import RequestStatus, RequestType
from caratzon_core.services.accounts import AccountService, SignUp
from caratzon_core.services.audit import AuditService
from caratzon_core.services.deps import Deps
from caratzon_core.services.requests import RequestService
from caratzon_core.signing import HmacSigner
from caratzon_core.testing import FakeClock, FakeHasher, FakeStrength, SequentialIds

PASSWORD = "correct horse battery staple"
OPERATOR = Actor.cli_operator("tests")


class Locked(SequentialIds):
    """Thread-safe ids for the race."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def new_id(self) -> str:
        with self._lock:
            return super().new_id()


def world(uow: SqlUnitOfWorkFactory) -> tuple[RequestService, AccountService, AuditService, dict[str, Actor],
                                                 FakeClock]:
    clock = FakeClock()
    deps = Deps(uow=uow, clock=clock, ids=Locked(), hasher=FakeHasher(), strength=FakeStrength(),
                signer=HmacSigner(b"s" * 32, purpose="audit"))
    accounts = AccountService(deps)
    people = {}
    for name in ("bea", "bob"):
        user = accounts.sign_up(SignUp(email=f"{name}@example.com", password=PASSWORD, name=name.title(),
                                       role="buyer", date_of_birth=date(1990, 5, 17),
                                       accept_policy_version=INITIAL_POLICY_VERSION, language="zh-Hant"))
        people[name] = accounts.actor_for(user)
    admin = accounts.create_user(OPERATOR, SignUp(email="ann@example.com", password=PASSWORD, name="Ann",
                                                  role="admin"))
    people["ann"] = accounts.actor_for(admin)
    return RequestService(deps), accounts, AuditService(deps), people, clock


def rows(engine: Engine, table: tables.Table) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table)).mappings()]


def test_requests_end_to_end_on_the_database(sql_uow: SqlUnitOfWorkFactory, engine: Engine) -> None:
    requests, accounts, audit, p, clock = world(sql_uow)
    access = requests.open(p["bea"], "access", details="全部資料").request
    clock.advance(timedelta(days=1))
    assert requests.open(p["bea"], "access").merged
    requests.open(p["bea"], "restriction")
    requests.open(p["bea"], "withdraw_consent")
    stored = {r["id"]: r for r in rows(engine, tables.data_requests)}
    assert stored[access.id]["merged"] == 1 and stored[access.id]["open_type"] == "access"
    assert stored[access.id]["details"] == "全部資料"
    assert {r["request_type"]: r["status"] for r in stored.values()} == {
        "access": "received", "restriction": "completed", "withdraw_consent": "completed"}
    assert accounts.get_user(OPERATOR, p["bea"].id).status is UserStatus.RESTRICTED
    consents = rows(engine, tables.consents)
    assert [(c["user_id"], c["analytics"]) for c in consents] == [(p["bea"].id, False)]

    # The code: a wrong try is stored even though nothing opens; the right one opens once.
    requests.send_code(p["ann"], "bob@example.com", "erasure")
    [code_row] = rows(engine, tables.verification_codes)
    outbox_ids = [r["id"] for r in rows(engine, tables.outbox)]
    with sql_uow() as uow:
        mail = next(m for m in (uow.outbox.get(i) for i in outbox_ids)
                    if m is not None and m.notice.kind is NoticeKind.REQUEST_CODE)
    code = mail.notice.values["code"]
    assert code not in str(code_row)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    try:
        requests.open_verified(p["ann"], "bob@example.com", "erasure", wrong)
    except ValidationFailed as exc:
        assert "4 tries left" in exc.message
    else:
        raise AssertionError("a wrong code opened a request")
    assert rows(engine, tables.verification_codes)[0]["attempts"] == 1
    erasure = requests.open_verified(p["ann"], "bob@example.com", "erasure", code).request
    assert rows(engine, tables.verification_codes)[0]["used_at"] is not None

    done = requests.refuse(p["ann"], erasure.id, "An order of yours is still open.")
    assert done.status is RequestStatus.REFUSED
    assert requests.get(p["bob"], erasure.id).request == done  # exactly as stored
    requests.complete(p["ann"], access.id, "Sent.")
    kinds = [r["kind"] for r in rows(engine, tables.outbox)]
    assert kinds.count("request_completed") == 3 and kinds.count("request_refused") == 1
    assert kinds.count("request_code") == 1

    flagged = requests.flag_minor(p["ann"], "bob@example.com", "Reported by a parent.").request
    assert flagged.urgent and requests.queue(p["ann"])[0].request.id == flagged.id
    clock.advance(timedelta(days=31))
    assert [v.request.id for v in requests.queue(p["ann"], overdue_only=True)] == [flagged.id]
    assert audit.verify(OPERATOR).ok


def test_racing_opens_of_one_type_end_in_one_request_with_every_merge(sql_uow: SqlUnitOfWorkFactory,
                                                                      engine: Engine) -> None:
    requests, _, audit, p, _ = world(sql_uow)
    threads = 6
    start = threading.Barrier(threads)

    def open_one(i: int) -> bool:
        start.wait()
        return requests.open(p["bea"], "erasure", details=f"try {i}").merged

    with ThreadPoolExecutor(threads) as pool:
        merged = list(pool.map(open_one, range(threads)))
    assert sorted(merged) == [False] + [True] * (threads - 1)
    [row] = rows(engine, tables.data_requests)
    assert row["merged"] == threads - 1 and row["request_type"] == RequestType.ERASURE.value
    with engine.connect() as conn:
        opened = conn.execute(select(func.count()).select_from(tables.audit_log)
                              .where(tables.audit_log.c.action == "dsr.open")).scalar_one()
    assert opened == 1
    assert audit.verify(OPERATOR).ok
