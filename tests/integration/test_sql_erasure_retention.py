"""Issue #6 parts 3 and 4 through the use cases, on SQLite and PostgreSQL: erasure
requests (P37) with their refusals (legal hold, open orders), access requests
answered with an export whose zip is deleted when its link expires, and the
retention engine (P30-P34): plan, apply, a future as-of refused, an interrupted
run finished by the next without counting twice, blob failures retried."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import Engine, func, select

from caratzon_adapters.sql import tables
from caratzon_adapters.sql.privacy import SqlPrivacyStore
from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory
from caratzon_core.access import Actor
from caratzon_core.errors import Conflict, Forbidden, ValidationFailed
from caratzon_core.processors import DeploymentFacts, register, register_document
from caratzon_core.requests import RequestStatus
from caratzon_core.retention import RuleCode, RunStatus
from caratzon_core.services.audit import AuditService
from caratzon_core.services.erasure import ErasureRefused, ErasureService
from caratzon_core.services.export import ExportService
from caratzon_core.services.requests import RequestService
from caratzon_core.services.retention import RetentionService
from caratzon_core.testing import FakeClock, fake_deps
from caratzon_core.testing_export import SECRET_REPLY, ExportScenario, build_export_scenario

OPERATOR = Actor.cli_operator("tests")


@attrs.define
class World:
    deps: Any
    scenario: ExportScenario
    requests: RequestService
    retention: RetentionService
    erasure: ErasureService
    export: ExportService
    audit: AuditService
    clock: FakeClock
    engine: Engine


@pytest.fixture
def world(sql_uow: SqlUnitOfWorkFactory, engine: Engine, tmp_path: Path) -> World:
    clock = FakeClock()
    deps, _ = fake_deps(clock=clock)
    deps = attrs.evolve(deps, uow=sql_uow)
    scenario = build_export_scenario(deps, tmp_path)
    store = SqlPrivacyStore()
    from caratzon_adapters.sql.export import SqlPersonalDataReader

    export = ExportService(deps, SqlPersonalDataReader(engine), register_document(register(DeploymentFacts())),
                           privacy=store)
    erasure = ErasureService(deps, store)
    audit = AuditService(deps)
    retention = RetentionService(deps, store, erasure, audit, batch_size=3, analytics_batch=100)
    requests = RequestService(deps, erasure=erasure, exporter=export)
    return World(deps, scenario, requests, retention, erasure, export, audit, clock, engine)


def scalar(engine: Engine, stmt: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(stmt).scalar()


def texts_mentioning(engine: Engine, needle: str) -> list[str]:
    """Every table.column whose text holds ``needle`` (a scan of all text columns)."""
    from sqlalchemy import JSON, String, Text, cast

    found = []
    with engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, (String, Text, JSON)):
                    continue
                value = cast(column, Text) if isinstance(column.type, JSON) else column
                hit = conn.execute(select(func.count()).select_from(table).where(value.contains(needle))).scalar()
                if hit:
                    found.append(f"{table.name}.{column.name}")
    return found


def cancel_order(w: World) -> None:
    w.deps.clock  # the buyer cancels before erasing: an open order blocks erasure
    from caratzon_core.services.designs import DesignService
    from caratzon_core.services.orders import OrderService

    OrderService(w.deps, DesignService(w.deps)).transition(w.scenario.people["bea"], w.scenario.order_id,
                                                           "cancelled", reason="changed my mind")


def test_an_erasure_request_is_refused_while_an_order_is_open_and_under_a_hold_and_stays_open(world: World) -> None:
    """P37 and the issue's bad input: refused with the reason, the request stays open
    for review, nothing is erased."""
    bea = world.scenario.people["bea"]
    req = world.requests.open(bea, "erasure").request
    with pytest.raises(ErasureRefused) as refused:
        world.requests.complete(OPERATOR, req.id)
    assert "open order" in refused.value.message
    world.retention.place_hold(OPERATOR, "bea@example.com", "Tax inquiry 2026-41")
    with pytest.raises(ErasureRefused) as held:
        world.requests.complete(OPERATOR, req.id)
    assert "legal hold: Tax inquiry 2026-41" in held.value.message
    view = world.requests.get(OPERATOR, req.id)
    assert view.request.status is RequestStatus.IN_PROGRESS
    assert any("Erasure not carried out" in n.text and "legal hold" in n.text for n in view.request.notes)
    assert scalar(world.engine, select(func.count()).select_from(tables.users)
                  .where(tables.users.c.email == "bea@example.com")) == 1
    with pytest.raises(Conflict):
        world.retention.place_hold(OPERATOR, "bea@example.com", "again")
    with pytest.raises(ValidationFailed):
        world.retention.release_hold(OPERATOR, "bea@example.com", " ")
    with pytest.raises(Forbidden):
        world.retention.place_hold(bea, "bob@example.com", "no admin")


def test_completing_an_erasure_request_erases_the_person_and_keeps_the_records(world: World) -> None:
    """P37: profile, messages' text, uploads and analytics go; orders, agreements and
    the ledger stay under a pseudonym; the audit trail still verifies (P29, P34)."""
    w = world
    bea = w.scenario.people["bea"]
    cancel_order(w)
    req = w.requests.open(bea, "erasure").request
    done = w.requests.complete(OPERATOR, req.id)
    assert done.status is RequestStatus.COMPLETED and "erased" in (done.outcome or "")
    pseudonym = w.erasure.pseudonym(bea.id)
    assert done.user_id == pseudonym
    # Nothing of hers is left in any text column but the one mail telling her so.
    assert texts_mentioning(w.engine, "bea@example.com") == ["outbox.to_email"]
    assert texts_mentioning(w.engine, "Beatrix") == ["outbox.values_json"]
    with w.engine.connect() as conn:
        mails = conn.execute(select(tables.outbox.c.kind).where(tables.outbox.c.to_email == "bea@example.com")).all()
        assert [m.kind for m in mails] == ["request_completed"]
        order = conn.execute(select(tables.orders).where(tables.orders.c.id == w.scenario.order_id)).one()
        assert order.buyer_id == pseudonym
        [agreement] = conn.execute(select(tables.agreements)).all()
        assert agreement.buyer_id == pseudonym
        bodies = dict(conn.execute(select(tables.messages.c.body, tables.messages.c.removed)
                                   .where(tables.messages.c.thread_id == w.scenario.thread_id)
                                   .where(tables.messages.c.kind == "text")).all())
        # The counterparty's reply stays; hers is removed.
        assert bodies[SECRET_REPLY] is False and bodies[""] is True
        assert conn.execute(select(func.count()).select_from(tables.message_attachments)).scalar() == 0
        stand_in = conn.execute(select(tables.users).where(tables.users.c.id == pseudonym)).one()
        assert stand_in.erased_at is not None and stand_in.status == "closed"
    assert w.audit.verify(OPERATOR).ok
    # The counterparty's own export still reads, with the message removed.
    doc = w.export.document(w.scenario.people["dee"], w.scenario.people["dee"].id)
    assert doc["sections"]["account"][0]["email"] == "dee@example.com"
    # Her uploads' keys were queued and deleted after the transaction.
    assert scalar(w.engine, select(func.count()).select_from(tables.blob_deletions)) == 0


def test_an_access_request_is_answered_with_an_export_link_and_the_zip_goes_when_it_expires(world: World) -> None:
    """P35: completing an access request makes the export and mails its link; the zip
    is deleted by the retention run once the 24-hour link has expired."""
    w = world
    bob = w.scenario.people["bob"]
    req = w.requests.open(bob, "access").request
    done = w.requests.complete(OPERATOR, req.id)
    assert "Your data export is ready:" in (done.outcome or "")
    with w.engine.connect() as conn:
        [(key, due)] = conn.execute(select(tables.blob_deletions.c.key, tables.blob_deletions.c.due_at)).all()
        mail = conn.execute(select(tables.outbox.c.values_json).where(tables.outbox.c.to_email == "bob@example.com")
                            .where(tables.outbox.c.kind == "request_completed")).scalar()
    assert key.startswith("exports/") and "export is ready" in mail
    blobs = w.deps.blobs
    assert blobs.exists(key)
    plan = w.retention.plan(OPERATOR)
    assert plan[RuleCode.EXPORT_FILE].due_count == 0  # the link still works
    w.clock.advance(timedelta(hours=24, seconds=1))
    assert w.retention.plan(OPERATOR)[RuleCode.EXPORT_FILE].due_count == 1
    run = w.retention.apply(OPERATOR)
    assert run.counts[RuleCode.EXPORT_FILE.value] == 1 and not blobs.exists(key)


def test_apply_refuses_a_future_as_of_and_plan_previews_it(world: World) -> None:
    future = world.clock.now() + timedelta(days=1)
    with pytest.raises(ValidationFailed) as refused:
        world.retention.apply(OPERATOR, future)
    assert refused.value.field == "as_of" and "future" in refused.value.message
    assert world.retention.runs(OPERATOR) == []
    assert world.retention.plan(OPERATOR, future).as_of == future
    with pytest.raises(Forbidden):
        world.retention.plan(world.scenario.people["bea"])


def add_events(engine: Engine, design_id: str, at: datetime, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(tables.engagement_events.insert(), [
            {"id": f"ev-{at:%Y%m%d}-{i:05d}", "design_id": design_id, "kind": "view" if i % 3 else "scroll",
             "at": at + timedelta(minutes=i), "visitor_id": f"visitor-{i % 7}", "user_id": None,
             "scroll_depth": None if i % 3 else 50} for i in range(n)])


def test_retention_purges_closed_accounts_after_12_months_and_keeps_held_ones(world: World) -> None:
    """P30: closed + 12 months → erased; a hold keeps an account, with its reason."""
    w = world
    from caratzon_core.services.accounts import AccountService

    accounts = AccountService(w.deps)
    for name in ("bob", "max"):
        accounts.close_account(OPERATOR, w.scenario.people[name].id)
    w.retention.place_hold(OPERATOR, "max@example.com", "Court order 17")
    assert w.retention.plan(OPERATOR)[RuleCode.ACCOUNT].due_count == 0  # not yet 12 months
    w.clock.advance(timedelta(days=366))
    plan = w.retention.plan(OPERATOR)[RuleCode.ACCOUNT]
    assert [c.id for c in plan.due] == [w.scenario.people["bob"].id]
    [kept] = plan.kept
    assert kept.id == w.scenario.people["max"].id
    assert any("legal hold" in r for r in kept.reasons) and any("order" in r for r in kept.reasons)
    run = w.retention.apply(OPERATOR)
    assert run.status is RunStatus.COMPLETED and run.counts[RuleCode.ACCOUNT.value] == 1
    assert texts_mentioning(w.engine, "bob@example.com") == []
    assert scalar(w.engine, select(func.count()).select_from(tables.users)
                  .where(tables.users.c.email == "max@example.com")) == 1
    again = w.retention.apply(OPERATOR)  # idempotent: nothing left to do
    assert again.counts.get(RuleCode.ACCOUNT.value, 0) == 0
    assert w.audit.verify(OPERATOR).ok


def test_an_interrupted_run_is_finished_by_the_next_and_nothing_is_counted_twice(world: World) -> None:
    """P33: raw events older than 24 months become daily counts without ids; a run
    stopped halfway leaves committed batches counted and the next run does the rest."""
    w = world
    old = w.clock.now() - timedelta(days=800)
    add_events(w.engine, w.scenario.design_id, old, 250)
    add_events(w.engine, w.scenario.design_id, w.clock.now() - timedelta(days=10), 5)

    def stop_after_first_batch(rule: RuleCode, done: int, total: int) -> None:
        if rule is RuleCode.ANALYTICS and done >= 100:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        w.retention.apply(OPERATOR, progress=stop_after_first_batch)
    [first] = w.retention.runs(OPERATOR)
    assert first.status is RunStatus.FAILED and first.counts[RuleCode.ANALYTICS.value] == 100
    second = w.retention.apply(OPERATOR)
    assert second.counts[RuleCode.ANALYTICS.value] == 150
    with w.engine.connect() as conn:
        folded = conn.execute(select(func.sum(tables.analytics_daily.c.events))).scalar()
        raw = conn.execute(select(func.count()).select_from(tables.engagement_events)).scalar()
        depth = conn.execute(select(func.sum(tables.analytics_daily.c.depth_count))).scalar()
    assert folded == 250 and raw == 5 and depth == sum(1 for i in range(250) if i % 3 == 0)
    runs = w.retention.runs(OPERATOR)
    assert [r.status for r in runs] == [RunStatus.COMPLETED, RunStatus.FAILED]
    # The designer's daily figures still count the folded days (depth: the mean).
    with w.deps.uow() as uow:
        days = uow.engagement.daily(w.scenario.design_id, old.date(), (old + timedelta(days=1)).date())
    assert sum(d.views for d in days) == sum(1 for i in range(250) if i % 3)
    assert {d.median_scroll_depth for d in days} == {50}


def test_a_blob_store_failure_is_remembered_and_retried_on_the_next_run(world: World) -> None:
    """No orphans: the rows go, the file's key stays queued with the error until the
    store deletes it."""
    w = world
    blobs = w.deps.blobs
    bob = w.scenario.people["bob"]
    w.requests.complete(OPERATOR, w.requests.open(bob, "access").request.id)
    w.clock.advance(timedelta(days=2))
    real_delete = blobs.delete
    blobs.delete = lambda key: (_ for _ in ()).throw(OSError("store unreachable"))  # type: ignore[method-assign]
    try:
        first = w.retention.apply(OPERATOR)
    finally:
        blobs.delete = real_delete  # type: ignore[method-assign]
    assert first.counts.get("blob_failures") == 1
    with w.engine.connect() as conn:
        row = conn.execute(select(tables.blob_deletions)).one()
    assert row.attempts == 1 and "store unreachable" in row.last_error
    assert w.retention.plan(OPERATOR)[RuleCode.QUEUED_FILES].due_count == 1
    second = w.retention.apply(OPERATOR)
    assert second.counts[RuleCode.EXPORT_FILE.value] == 1
    assert scalar(w.engine, select(func.count()).select_from(tables.blob_deletions)) == 0
    assert not blobs.exists(row.key)


def test_audit_entries_older_than_3_years_are_pruned_behind_a_checkpoint_except_a_held_persons(world: World) -> None:
    """P34: the trail is cut before the first entry about someone under a hold, and
    `audit verify` still passes after pruning."""
    w = world
    w.clock.advance(timedelta(days=10))
    w.retention.place_hold(OPERATOR, "max@example.com", "Regulator request")
    w.clock.advance(timedelta(days=4 * 365))
    plan = w.retention.plan(OPERATOR)[RuleCode.AUDIT]
    assert plan.kept and "legal hold" in plan.kept[0].reasons[0]
    before = scalar(w.engine, select(func.count()).select_from(tables.audit_log))
    run = w.retention.apply(OPERATOR)
    pruned = run.counts.get(RuleCode.AUDIT.value, 0)
    assert pruned == plan.due_count and pruned > 0
    assert w.audit.verify(OPERATOR).ok
    with w.engine.connect() as conn:
        first_left = conn.execute(select(func.min(tables.audit_log.c.seq))).scalar()
        # Every entry about the held person is still there.
        held = conn.execute(select(func.count()).select_from(tables.audit_log).where(
            tables.audit_log.c.subject == f"user:{w.scenario.people['max'].id}")).scalar()
    assert first_left == int(plan.kept[0].id) and held >= 1
    assert scalar(w.engine, select(func.count()).select_from(tables.audit_log)) < before


def test_a_second_run_is_refused_while_one_is_running_and_takes_over_a_killed_one(world: World) -> None:
    from caratzon_core.retention import RetentionRun

    w = world
    started = w.clock.now()
    with w.deps.uow() as uow:
        SqlPrivacyStore().save_run(uow, RetentionRun("run-elsewhere", started, "operator:cron", started))
        uow.commit()
    with pytest.raises(Conflict) as busy:
        w.retention.apply(OPERATOR)
    assert "still running" in busy.value.message
    w.clock.advance(timedelta(minutes=61))  # that process was killed: its lease ran out
    done = w.retention.apply(OPERATOR)
    old = next(r for r in w.retention.runs(OPERATOR) if r.id == "run-elsewhere")
    assert done.status is RunStatus.COMPLETED and old.status is RunStatus.FAILED
    assert old.error == f"interrupted; resumed by run {done.id}"
