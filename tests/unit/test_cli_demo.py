"""`caratzon demo seed` and :func:`caratzon_adapters.demo.seed_demo`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.config import Config
from caratzon_adapters.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from caratzon_cli.main import app
from caratzon_core.access import Actor
from caratzon_core.accounts import Role
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
    assert len(steps) == len(DEMO_ACCOUNTS)

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
