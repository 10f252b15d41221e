"""`caratzon demo seed` and :func:`caratzon_adapters.demo.seed_demo`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.config import Config
from caratzon_adapters.demo import (
    DEMO_ACCOUNTS,
    DEMO_BUYER,
    DEMO_MANUFACTURER,
    DEMO_PASSWORD,
    DEMO_PRODUCTION_MANAGER,
    EDITORIAL,
    EXCLUSIVE,
    PRODUCTION_NOTE,
    PRODUCTION_STEPS,
    RUSH_NOTE,
    STANDARD,
    demo_steps,
    seed_demo,
)
from caratzon_cli.main import app
from caratzon_core.access import Actor
from caratzon_core.accounts import Role
from caratzon_core.designs import Visibility
from caratzon_core.quote import DEFAULT_PRICES
from caratzon_core.routing import ExclusionReason
from caratzon_core.testing import FakeHasher, InMemoryStore

Run = Callable[..., Result]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    return {
        "CARATZON_DATA_DIR": str(tmp_path / "data"),
        "CARATZON_PASSWORD_HASHING": "fast",
        "CARATZON_DATABASE_URL": None,
        "CARATZON_SECRET_KEY": None,
    }


@pytest.fixture
def run(env: dict[str, str | None]) -> Run:
    runner = CliRunner()

    def invoke(*args: str, **extra_env: str | None) -> Result:
        return runner.invoke(app, list(args), env={**env, **extra_env})

    return invoke


def audit_entries(run: Run) -> int:
    result = run("audit", "verify", "--json")
    assert result.exit_code == 0, result.output
    return int(json.loads(result.stdout)["entries_checked"])


def test_seed_twice_creates_nothing_the_second_time(run: Run) -> None:
    first = run("demo", "seed", "--designs", "2")
    assert first.exit_code == 0, first.output
    assert f"Created {len(DEMO_ACCOUNTS)} demo accounts; 0 already existed." in first.stdout
    for account in DEMO_ACCOUNTS:
        assert account.email in first.stdout
    assert DEMO_PASSWORD in first.stdout
    users = json.loads(run("users", "list", "--json").stdout)
    entries = audit_entries(run)

    second = run("demo", "seed", "--designs", "2")

    assert second.exit_code == 0, second.output
    assert f"Created 0 demo accounts; {len(DEMO_ACCOUNTS)} already existed." in second.stdout
    assert "created" not in second.stdout.replace("Created", "")
    for account in DEMO_ACCOUNTS:
        assert account.email in second.stdout
    assert DEMO_PASSWORD in second.stdout
    assert json.loads(run("users", "list", "--json").stdout) == users
    assert audit_entries(run) == entries


def test_seeded_logins_work(run: Run, env: dict[str, str | None]) -> None:
    assert run("demo", "seed", "--designs", "0").exit_code == 0
    services = bootstrap(Config.from_env({k: v for k, v in env.items() if v is not None}))
    try:
        roles = {services.accounts.login(a.email, DEMO_PASSWORD).role for a in DEMO_ACCOUNTS}
        designers = [a for a in DEMO_ACCOUNTS if a.role is Role.DESIGNER]
        users = {u.email: u for u in services.accounts.list_users(Actor.cli_operator())}
        profiles = [services.accounts.get_profile(users[a.email].id) for a in designers]
    finally:
        services.close()
    assert roles == set(Role)
    assert len(designers) == 3
    assert all(p is not None and p.biography and p.brand_description and p.credentials for p in profiles)


def test_seed_refuses_a_server_database_without_force(run: Run) -> None:
    result = run("demo", "seed", CARATZON_DATABASE_URL="postgresql://demo:hunter2-db-pw@127.0.0.1:1/caratzon")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: Refusing to seed demo accounts")
    assert result.stderr.count("\n") == 1
    assert "hunter2-db-pw" not in result.output


# -- seed_demo over the in-memory fakes (real zxcvbn: the demo password must pass it) ---


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    config = Config.from_env({"CARATZON_DATA_DIR": str(tmp_path)})
    services = bootstrap(config, uow=InMemoryStore(), hasher=FakeHasher())
    yield services
    services.close()


def test_seed_demo_returns_one_login_per_account_and_is_idempotent(services: Services) -> None:
    steps: list[str] = []
    first = seed_demo(services, progress=steps.append, design_count=0)
    assert [login.email for login in first] == [a.email for a in DEMO_ACCOUNTS]
    assert all(login.created and login.password == DEMO_PASSWORD for login in first)
    assert {login.role for login in first} == {r.value for r in Role}
    assert len(steps) == demo_steps(0) == len(DEMO_ACCOUNTS) + PRODUCTION_STEPS

    second = seed_demo(services, design_count=0)
    assert [(x.email, x.role, x.password) for x in second] == [(x.email, x.role, x.password) for x in first]
    assert not any(login.created for login in second)
    assert len(services.accounts.list_users(Actor.cli_operator())) == len(DEMO_ACCOUNTS)


def test_seed_demo_keeps_an_existing_account_and_its_profile(services: Services) -> None:
    accounts = services.accounts
    seed_demo(services, design_count=0)
    designer = next(u for u in accounts.list_users(Actor.cli_operator()) if u.email == DEMO_ACCOUNTS[0].email)
    accounts.update_profile(accounts.actor_for(designer), designer.id, biography="My own words.")

    again = seed_demo(services, design_count=0)

    assert again[0].created is False
    profile = accounts.get_profile(designer.id)
    assert profile is not None
    assert profile.biography == "My own words."


# -- licence options, a negotiation in progress, an agreement (issue #4) ----------------


def licensing_snapshot(services: Services) -> dict[str, object]:
    """What the demo buyer and designers see of licensing, as plain data."""
    users = {u.email: u for u in services.accounts.list_users(Actor.cli_operator())}
    buyer = services.accounts.actor_for(users[DEMO_BUYER])
    options = {}
    for account in DEMO_ACCOUNTS:
        if account.role is Role.DESIGNER:
            designer = services.accounts.actor_for(users[account.email])
            for design in services.designs.my_designs(designer):
                found = services.licensing.options(designer, design.id, include_retired=True)
                options[design.title] = sorted((o.name, o.terms.exclusivity.value) for o in found)
    negotiations = services.licensing.my_negotiations(buyer)
    threads = {}
    for summary in negotiations:
        view = services.licensing.negotiation(buyer, summary.negotiation.id)
        assert view.thread_id is not None
        thread = services.messaging.read(buyer, view.thread_id, mark_read=False)
        threads[summary.negotiation.id] = [(m.author_name, m.message.kind.value, m.original) for m in thread.messages]
    return {
        "options": options,
        "negotiations": sorted(
            (s.negotiation.id, s.negotiation.status.value, len(s.negotiation.offers), s.my_turn, s.counterparty_name)
            for s in negotiations
        ),
        "agreements": sorted((a.agreement.id, a.agreement.status.value, a.design_title)
                             for a in services.licensing.my_agreements(buyer)),
        "threads": threads,
    }


def check_demo_licensing(snapshot: dict[str, object]) -> None:
    options = snapshot["options"]
    assert isinstance(options, dict)
    assert len(options) == 3 and all(options.values())  # every demo design has options
    names = [name for found in options.values() for name, _ in found]
    assert names.count(STANDARD) == 3 and names.count(EDITORIAL) == 3
    assert [e for found in options.values() for name, e in found if name == EXCLUSIVE] == ["exclusive"]
    # One negotiation in progress with the main demo designer (who countered: the
    # buyer's turn), and one concluded (with her too when she has a second design).
    negotiations = snapshot["negotiations"]
    assert isinstance(negotiations, list)
    designers = {a.name for a in DEMO_ACCOUNTS if a.role is Role.DESIGNER}
    assert sorted(n[1:4] for n in negotiations) == [("accepted", 1, False), ("open", 2, True)]
    assert next(n[4] for n in negotiations if n[1] == "open") == "Amara Okafor"
    assert {n[4] for n in negotiations} <= designers
    [agreement] = snapshot["agreements"]  # type: ignore[misc]
    assert agreement[1] == "active"
    open_id = next(n[0] for n in negotiations if n[1] == "open")
    thread = snapshot["threads"][open_id]  # type: ignore[index]
    said = [(author, text) for author, kind, text in thread if kind == "text"]
    assert [author for author, _ in said] == ["Daniel Whitfield", "Daniel Whitfield", "Amara Okafor"]
    assert [kind for _, kind, _ in thread].count("event") == 2  # the offer and the counter-offer


def test_seed_adds_licensing_and_production_once_over_sqlite(run: Run, env: dict[str, str | None]) -> None:
    first = run("demo", "seed", "--designs", "3")
    assert first.exit_code == 0, first.output
    config = Config.from_env({k: v for k, v in env.items() if v is not None})
    services = bootstrap(config)
    try:
        before = licensing_snapshot(services)
        production = production_snapshot(services)
        check_demo_production(services, production)
    finally:
        services.close()
    check_demo_licensing(before)
    entries = audit_entries(run)
    pending = json.loads(run("outbox", "status", "--json").stdout)["pending"]
    assert pending > 0  # the parties are told of the offers and the agreement

    second = run("demo", "seed", "--designs", "3")

    assert second.exit_code == 0, second.output
    services = bootstrap(config)
    try:
        assert licensing_snapshot(services) == before
        assert production_snapshot(services) == production
    finally:
        services.close()
    assert audit_entries(run) == entries
    assert json.loads(run("outbox", "status", "--json").stdout)["pending"] == pending


def test_seed_demo_licensing_steps_and_idempotence(services: Services) -> None:
    steps: list[str] = []
    seed_demo(services, progress=steps.append, design_count=3)
    assert len(steps) == demo_steps(3) == len(DEMO_ACCOUNTS) + 3 + 3 + PRODUCTION_STEPS
    assert steps[-6] == "7 licence options added"
    snapshot = licensing_snapshot(services)
    check_demo_licensing(snapshot)

    again: list[str] = []
    seed_demo(services, progress=again.append, design_count=3)

    assert again[-6] == "found licence options"
    assert licensing_snapshot(services) == snapshot


def test_an_interrupted_licensing_seed_is_completed_by_the_next_run(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise RuntimeError("interrupted")

    with monkeypatch.context() as patch:
        patch.setattr(services.licensing, "offer", offline)
        with pytest.raises(RuntimeError):
            seed_demo(services, design_count=3)

    seed_demo(services, design_count=3)

    check_demo_licensing(licensing_snapshot(services))


def test_no_licensing_without_designs(services: Services) -> None:
    seed_demo(services, design_count=0)
    assert licensing_snapshot(services) == {"options": {}, "negotiations": [], "agreements": [], "threads": {}}


# -- manufacturers, prices and orders (issue #5) ------------------------------------


def production_snapshot(services: Services) -> dict[str, Any]:
    """The demo's production data, as plain data."""
    operator = Actor.cli_operator()
    users = {u.email: u for u in services.accounts.list_users(operator)}
    email = {u.id: u.email for u in users.values()}
    makers = sorted(
        (email[m.user_id], m.vetting.value, m.nda_signed_on, m.nda_expires_on, email.get(m.vetted_by or ""),
         m.lead_time_days, m.labour.per_piece.format())
        for m in services.manufacturers.list(operator)
    )
    prices = services.orders.current_prices(operator)
    buyer = services.accounts.actor_for(users[DEMO_BUYER])
    orders = sorted(
        (s.order.brief.notes, s.order.status.value, email.get(s.order.manufacturer_id or ""), s.order.brief.quantity,
         s.order.agreement_id, s.order.id)
        for s in services.orders.my_orders(buyer)
    )
    return {"manufacturers": makers, "prices": (prices.currency, prices.effective, prices is DEFAULT_PRICES),
            "orders": orders}


def check_demo_production(services: Services, snapshot: dict[str, Any]) -> None:
    today = services.deps.clock.now().date()
    operator = Actor.cli_operator()
    makers = snapshot["manufacturers"]
    assert isinstance(makers, list)
    shops = [a for a in DEMO_ACCOUNTS if a.role is Role.MANUFACTURER]
    assert 4 <= len(shops) <= 6 and all(a.workshop is not None for a in shops)
    assert [m[0] for m in makers] == sorted(a.email for a in shops)
    vetting = [m[1] for m in makers]
    assert vetting.count("pending") == 1 and vetting.count("suspended") == 1
    assert vetting.count("vetted") == len(shops) - 2
    for _, status, signed, expires, by, _, _ in makers:
        if status == "pending":
            assert (signed, expires, by) == (None, None, None)
        else:  # vetted by the demo production manager under an NDA running a year
            assert by == DEMO_PRODUCTION_MANAGER
            assert signed is not None and signed <= today and expires == today + timedelta(days=365)
    assert len({m[5] for m in makers}) == len(makers)  # varied lead times
    assert {m[6].split()[0] for m in makers} == {"USD", "EUR"}  # and labour currencies
    assert snapshot["prices"] == ("USD", today, False)
    # Under the demo agreement: one order in production with the demo manufacturer,
    # one no vetted workshop can make in time, waiting for a production manager.
    users = {u.email: u for u in services.accounts.list_users(operator)}
    buyer = services.accounts.actor_for(users[DEMO_BUYER])
    [agreement] = services.licensing.my_agreements(buyer)
    orders = snapshot["orders"]
    assert [o[:5] for o in orders] == [
        (PRODUCTION_NOTE, "in_production", DEMO_MANUFACTURER, 12, agreement.agreement.id),
        (RUSH_NOTE, "submitted", None, 6, agreement.agreement.id),
    ]
    first_id, rush_id = (o[5] for o in orders)
    # The licensed design has production CAD: the assigned manufacturer downloads it.
    maker = services.accounts.actor_for(users[DEMO_MANUFACTURER])
    links = services.orders.cad_links(maker, first_id)
    assert links and all(asset.visibility is Visibility.PRODUCTION for asset, _ in links)
    decision = services.orders.routing(operator, rush_id)
    assert decision.chosen is None and not decision.candidates
    assert {e.reason for e in decision.excluded} >= {ExclusionReason.NOT_VETTED, ExclusionReason.LEAD_TIME_TOO_LONG}
    assert [a.role for a in DEMO_ACCOUNTS if a.email == DEMO_PRODUCTION_MANAGER] == [Role.PRODUCTION_MANAGER]


def test_seed_demo_production_and_idempotence(services: Services) -> None:
    steps: list[str] = []
    seed_demo(services, progress=steps.append, design_count=3)
    assert steps[-3:] == ["5 manufacturer profiles added, 4 vetted, 1 suspended", "price table set",
                          "orders in production and submitted"]
    snapshot = production_snapshot(services)
    check_demo_production(services, snapshot)

    again: list[str] = []
    seed_demo(services, progress=again.append, design_count=3)

    assert again[-3:] == ["found manufacturer profiles", "found a price table", "orders in production and submitted"]
    assert production_snapshot(services) == snapshot


def test_seed_demo_leaves_vetting_and_prices_changed_since_alone(services: Services) -> None:
    seed_demo(services, design_count=3)
    operator = Actor.cli_operator()
    services.manufacturers.suspend(operator, "manufacturer2@demo.caratzon.test", reason="Failed an audit.")
    services.manufacturers.vet(operator, "manufacturer4@demo.caratzon.test",
                               nda_until=services.deps.clock.now().date() + timedelta(days=30))
    snapshot = production_snapshot(services)

    seed_demo(services, design_count=3)

    assert production_snapshot(services) == snapshot


def test_an_interrupted_production_seed_is_completed_by_the_next_run(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise RuntimeError("interrupted")

    with monkeypatch.context() as patch:
        patch.setattr(services.orders, "transition", offline)
        with pytest.raises(RuntimeError):
            seed_demo(services, design_count=3)
    [routed] = [o for o in production_snapshot(services)["orders"]]
    assert routed[:3] == (PRODUCTION_NOTE, "routed", DEMO_MANUFACTURER)

    seed_demo(services, design_count=3)

    check_demo_production(services, production_snapshot(services))


def test_no_orders_without_designs(services: Services) -> None:
    steps: list[str] = []
    seed_demo(services, progress=steps.append, design_count=0)
    snapshot = production_snapshot(services)
    assert steps[-1] == "no demo orders (no licence agreement)"
    assert snapshot["orders"] == [] and len(snapshot["manufacturers"]) == 5
