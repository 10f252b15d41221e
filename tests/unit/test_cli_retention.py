"""`caratzon retention plan|apply|runs` and `caratzon holds place|release|list` (issue
#6, part 4) over a real SQLite data dir. Accounts are closed with the services on a
fake clock set 13 months in the past: to the CLI (on the system clock) they are past
the 12 months of P30."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.config import Config
from caratzon_adapters.sql import tables
from caratzon_cli.main import app
from caratzon_core.access import Actor
from caratzon_core.services.accounts import SignUp
from caratzon_core.testing import FakeClock

PASSWORD = "Quartz-Meadow-Compass-58"
SECRET = "s3cret-key-" + "r" * 40

Run = Callable[..., Result]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    return {"CARATZON_DATA_DIR": str(tmp_path / "data"), "CARATZON_PASSWORD_HASHING": "fast",
            "CARATZON_DATABASE_URL": None, "CARATZON_SECRET_KEY": SECRET, "CARATZON_SMTP_URL": None,
            "CARATZON_AI": None}


@pytest.fixture
def run(env: dict[str, str | None]) -> Run:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


@pytest.fixture
def services(env: dict[str, str | None]) -> Iterator[Services]:
    config = Config.from_env({k: v for k, v in env.items() if v is not None})
    clock = FakeClock(datetime.now(UTC) - timedelta(days=400))
    services = bootstrap(config, migrate=True, clock=clock)
    operator = Actor.cli_operator("test")
    for name in ("ann", "ben", "cat"):
        user = services.accounts.create_user(operator, SignUp(email=f"{name}@example.com", password=PASSWORD,
                                                              name=name.title(), role="buyer"))
        if name != "cat":
            services.accounts.close_account(operator, user.id)
    try:
        yield services
    finally:
        services.close()


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def users_with(services: Services, email: str) -> int:
    engine = services._engine
    assert engine is not None
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.users)
                                .where(tables.users.c.email == email)).scalar_one())


def test_plan_apply_and_runs_with_a_hold(run: Run, services: Services) -> None:
    """P30: the two accounts closed 13 months ago are due; a hold keeps one, with its
    reason; apply erases the other; runs lists it; a second apply finds nothing."""
    ok(run("holds", "place", "ben@example.com", "--reason", "Litigation hold 2026-9"))
    plan = json.loads(ok(run("retention", "plan", "--json")).stdout)
    account = next(r for r in plan["rules"] if r["rule"] == "account")
    assert account["due"] == 1 and account["section"] == "8"
    [kept] = account["kept"]
    assert kept["reasons"] == ["under a legal hold placed by an admin"]
    text = ok(run("retention", "plan")).stdout
    assert "Retention plan as of" in text and "account" in text and "Kept past their period (1)" in text

    refused = run("retention", "apply")
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert users_with(services, "ann@example.com") == 1

    done = json.loads(ok(run("retention", "apply", "--yes", "--json")).stdout)
    assert done["status"] == "completed" and done["counts"]["account"] == 1
    assert users_with(services, "ann@example.com") == 0 and users_with(services, "ben@example.com") == 1
    assert users_with(services, "cat@example.com") == 1  # open accounts are never touched

    again = ok(run("retention", "apply", "--yes")).stdout
    assert "completed" in again
    runs = json.loads(ok(run("retention", "runs", "--json")).stdout)
    assert [r["status"] for r in runs] == ["completed", "completed"] and "account" not in runs[0]["counts"]

    holds = json.loads(ok(run("holds", "list", "--json")).stdout)
    assert [h["email"] for h in holds] == ["ben@example.com"]
    ok(run("holds", "release", "ben@example.com", "--reason", "Case closed"))
    assert json.loads(ok(run("holds", "list", "--json")).stdout) == []
    assert len(json.loads(ok(run("holds", "list", "--all", "--json")).stdout)) == 1
    ok(run("retention", "apply", "--yes"))
    assert users_with(services, "ben@example.com") == 0


def test_bad_input_gets_one_readable_line_and_a_nonzero_exit(run: Run, services: Services) -> None:
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    refused = run("retention", "apply", "--as-of", future, "--yes")
    assert refused.exit_code != 0 and "future" in refused.output
    assert users_with(services, "ann@example.com") == 1
    assert run("retention", "plan", "--as-of", future).exit_code == 0  # a future date previews
    bad = run("retention", "plan", "--as-of", "next tuesday")
    assert bad.exit_code != 0 and "is not a date" in bad.output and len(bad.output.strip().splitlines()) == 1
    nobody = run("holds", "place", "nobody@example.com", "--reason", "x")
    assert nobody.exit_code != 0 and "No account" in nobody.output
    no_reason = run("holds", "place", "ann@example.com", "--reason", "  ")
    assert no_reason.exit_code != 0 and "Say why" in no_reason.output
    ok(run("holds", "place", "cat@example.com", "--reason", "Audit"))
    twice = run("holds", "place", "cat@example.com", "--reason", "Audit")
    assert twice.exit_code != 0 and "already stands" in twice.output
    none = run("holds", "release", "ann@example.com", "--reason", "x")
    assert none.exit_code != 0 and "No legal hold" in none.output
