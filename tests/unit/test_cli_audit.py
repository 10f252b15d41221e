"""`caratzon audit verify|prune` against the embedded SQLite database."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from caratzon_cli.main import app

PASSWORD = "Quartz-Meadow-Compass-58"

Run = Callable[..., Result]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def run(data_dir: Path) -> Run:
    runner = CliRunner()
    env: dict[str, str | None] = {
        "CARATZON_DATA_DIR": str(data_dir),
        "CARATZON_PASSWORD_HASHING": "fast",
        "CARATZON_DATABASE_URL": None,
        "CARATZON_SECRET_KEY": None,
    }

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=env)

    return invoke


@pytest.fixture
def some_actions(run: Run) -> None:
    for n, role in enumerate(["designer", "buyer", "admin"]):
        result = run(
            "users",
            "create",
            "--email",
            f"user{n}@example.com",
            "--name",
            f"User {n}",
            "--role",
            role,
            "--password-stdin",
            input=PASSWORD + "\n",
        )
        assert result.exit_code == 0, result.output


def test_verify_an_empty_trail(run: Run) -> None:
    result = run("audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Audit trail OK: 0 entries verified")


@pytest.mark.usefixtures("some_actions")
def test_verify_after_some_actions(run: Run) -> None:
    result = run("audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Audit trail OK: 3 entries verified (through #3)\n"

    report = json.loads(run("audit", "verify", "--json").stdout)
    assert report == {"ok": True, "entries_checked": 3, "last_seq": 3, "first_bad_seq": None, "problem": None}


@pytest.mark.usefixtures("some_actions")
def test_verify_names_the_first_tampered_entry(run: Run, data_dir: Path) -> None:
    with sqlite3.connect(data_dir / "caratzon.sqlite3") as db:
        db.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    db.close()

    result = run("audit", "verify")

    assert result.exit_code == 1
    assert re.match(r"Audit trail BROKEN at entry #2: .+", result.stdout)
    assert "Traceback" not in result.output
    as_json = run("audit", "verify", "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert report["first_bad_seq"] == 2
    assert report["problem"]


@pytest.mark.usefixtures("some_actions")
def test_prune_refuses_to_cut_into_the_three_years_the_policy_promises(run: Run) -> None:
    """P34: audit logs are kept 3 years; an operator cannot prune younger entries.
    (Pruning itself, with its checkpoint, is tested with a fake clock in
    tests/unit/test_audit_chain.py and on both databases in tests/integration.)"""
    refused = run("audit", "prune", "--older-than-days", "0", input="n\n")
    assert refused.exit_code == 1
    result = run("audit", "prune", "--older-than-days", "30", "--yes")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: Audit entries are kept for 3 years")
    assert len(result.stderr.strip().splitlines()) == 1
    assert json.loads(run("audit", "verify", "--json").stdout)["entries_checked"] == 3


def test_prune_keeps_three_years_by_default(run: Run) -> None:
    result = run("audit", "prune", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Nothing to prune")
