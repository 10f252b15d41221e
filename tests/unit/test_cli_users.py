"""`caratzon users create|list` against the embedded SQLite database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from caratzon_adapters.bootstrap import bootstrap
from caratzon_adapters.config import Config
from caratzon_cli.main import app
from caratzon_core.accounts import Role

PASSWORD = "Quartz-Meadow-Compass-58"

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

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=env)

    return invoke


def create(run: Run, email: str, role: str = "buyer", password: str = PASSWORD, *extra: str) -> Result:
    return run(
        "users",
        "create",
        "--email",
        email,
        "--name",
        "Test Person",
        "--role",
        role,
        "--password-stdin",
        *extra,
        input=password + "\n",
    )


def listed(run: Run, *extra: str) -> list[dict[str, str]]:
    result = run("users", "list", "--json", *extra)
    assert result.exit_code == 0, result.output
    users = json.loads(result.stdout)
    assert isinstance(users, list)
    return users


def audit_entries(run: Run) -> int:
    result = run("audit", "verify", "--json")
    assert result.exit_code == 0, result.output
    return int(json.loads(result.stdout)["entries_checked"])


def assert_one_error_line(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr == f"error: {message}\n"
    assert result.stdout == ""
    assert "Traceback" not in result.output


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_create_any_role_prints_the_new_id(run: Run, role: str) -> None:
    result = create(run, f"{role}@example.com", role)
    assert result.exit_code == 0, result.output
    new_id = result.stdout.strip()
    uuid.UUID(new_id)
    [user] = listed(run)
    assert user["id"] == new_id
    assert user["role"] == role
    assert user["email"] == f"{role}@example.com"


def test_create_json_prints_the_account(run: Run) -> None:
    result = run(
        "users",
        "create",
        "--email",
        " Mina@Example.COM ",
        "--name",
        "Mina Park",
        "--role",
        "Production_Manager",
        "--language",
        "zh-Hant",
        "--business-name",
        "Park Casting",
        "--business-address",
        "1 Main St",
        "--password-stdin",
        "--json",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert set(created) == {"id", "email", "name", "role", "language"}
    assert created["email"] == "mina@example.com"
    assert created["name"] == "Mina Park"
    assert created["role"] == "production_manager"
    assert created["language"] == "zh-Hant"
    [user] = listed(run)
    assert user["business_name"] == "Park Casting"
    assert user["status"] == "active"


def test_password_is_the_first_stdin_line_and_works(run: Run, env: dict[str, str | None]) -> None:
    result = run(
        "users",
        "create",
        "--email",
        "ana@example.com",
        "--name",
        "Ana",
        "--role",
        "admin",
        "--password-stdin",
        input=PASSWORD + "\r\nnot-the-password\n",
    )
    assert result.exit_code == 0, result.output
    services = bootstrap(Config.from_env({k: v for k, v in env.items() if v is not None}))
    try:
        user = services.accounts.login("ana@example.com", PASSWORD)
    finally:
        services.close()
    assert user.role is Role.ADMIN


def test_duplicate_email_in_any_case_is_one_error_line(run: Run) -> None:
    assert create(run, "Ana@Example.com").exit_code == 0
    entries = audit_entries(run)

    result = create(run, "ana@EXAMPLE.COM", "designer")

    assert_one_error_line(result, "An account with this email already exists.")
    assert len(listed(run)) == 1
    assert audit_entries(run) == entries


def test_unknown_role_is_a_usage_error(run: Run) -> None:
    result = create(run, "ana@example.com", "jeweller")
    assert result.exit_code == 2
    assert "--role" in result.stderr
    assert "Traceback" not in result.output
    assert listed(run) == []


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short-pw", "Password must be at least 12 characters."),
        ("password1234", "This is a very common password."),
    ],
)
def test_weak_password_names_the_rule_and_writes_nothing(run: Run, password: str, rule: str) -> None:
    assert create(run, "first@example.com").exit_code == 0
    entries = audit_entries(run)

    result = create(run, "second@example.com", "buyer", password)

    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {rule}")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert [u["email"] for u in listed(run)] == ["first@example.com"]
    assert audit_entries(run) == entries


def test_empty_stdin_is_refused(run: Run) -> None:
    result = create(run, "ana@example.com", "buyer", "")
    assert_one_error_line(result, "Password is required.")


def test_without_password_stdin_and_no_terminal_is_a_usage_error(run: Run) -> None:
    result = run("users", "create", "--email", "a@example.com", "--name", "A", "--role", "buyer", input="")
    assert result.exit_code == 2
    assert "--password-stdin" in result.stderr
    assert listed(run) == []


def test_invalid_email_is_one_error_line(run: Run) -> None:
    result = create(run, "not-an-email")
    assert_one_error_line(result, "Enter a valid email address, like name@example.com.")


def test_list_filters_by_role(run: Run) -> None:
    for email, role in [("d@example.com", "designer"), ("b@example.com", "buyer"), ("b2@example.com", "buyer")]:
        assert create(run, email, role).exit_code == 0
    assert {u["email"] for u in listed(run, "--role", "buyer")} == {"b@example.com", "b2@example.com"}
    assert [u["email"] for u in listed(run, "--role", "designer")] == ["d@example.com"]
    assert len(listed(run)) == 3


def test_list_table_shows_every_account(run: Run) -> None:
    assert create(run, "d@example.com", "designer").exit_code == 0
    result = run("users", "list")
    assert result.exit_code == 0, result.output
    assert "1 account" in result.stdout
    assert "d@example.com" in result.stdout
    assert "designer" in result.stdout
