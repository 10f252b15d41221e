"""`caratzon --help`, `config show`, `db upgrade` and how errors are reported."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from caratzon_cli.main import app
from caratzon_core.services.accounts import AccountService

SECRET = "s3cret-key-" + "q" * 40
DB_PASSWORD = "hunter2-db-pw"
SERVER_URL = f"postgresql://caratzon:{DB_PASSWORD}@127.0.0.1:1/caratzon"
SMTP_PASSWORD = "smtp-Pa55-word"
SMTP_URL = f"smtp://mailer:{SMTP_PASSWORD}@mail.example.com:587?starttls=1"
GEMINI_KEY = "AIzaSy-gemini-" + "k" * 24

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
        "CARATZON_SMTP_URL": None,
        "CARATZON_AI": None,
        "CARATZON_GEMINI_API_KEY": None,
    }

    def invoke(*args: str, **extra_env: str | None) -> Result:
        return runner.invoke(app, list(args), env={**env, **extra_env})

    return invoke


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["users", "--help"],
        ["users", "create", "--help"],
        ["demo", "seed", "--help"],
        ["serve", "--help"],
        ["worker", "--help"],
        ["negotiations", "expire", "--help"],
        ["outbox", "deliver", "--help"],
        ["outbox", "status", "--help"],
    ],
)
def test_help_needs_no_data_dir(run: Run, data_dir: Path, args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout
    assert not data_dir.exists()


def test_no_arguments_shows_help(run: Run, data_dir: Path) -> None:
    result = run()
    assert "Usage" in result.output
    assert not data_dir.exists()


@pytest.mark.parametrize("as_json", [False, True])
def test_config_show_masks_secrets_and_does_not_touch_the_database(run: Run, data_dir: Path, as_json: bool) -> None:
    args = ["config", "show", "--json"] if as_json else ["config", "show"]
    result = run(
        *args,
        CARATZON_SECRET_KEY=SECRET,
        CARATZON_DATABASE_URL=SERVER_URL,
        CARATZON_SMTP_URL=SMTP_URL,
        CARATZON_AI="gemini",
        CARATZON_GEMINI_API_KEY=GEMINI_KEY,
    )
    assert result.exit_code == 0, result.output
    for secret in (SECRET, DB_PASSWORD, SMTP_PASSWORD, GEMINI_KEY):
        assert secret not in result.output
    assert "***" in result.output
    if as_json:
        shown = json.loads(result.stdout)
        assert shown["CARATZON_DATABASE_URL"] == "postgresql://caratzon:***@127.0.0.1:1/caratzon"
        assert shown["CARATZON_SECRET_KEY"].startswith("***")
        assert shown["CARATZON_SMTP_URL"] == "smtp://mailer:***@mail.example.com:587?starttls=1"
        assert shown["CARATZON_GEMINI_API_KEY"] == "***"
        assert shown["CARATZON_AI"] == "gemini"


def test_config_show_names_the_mail_default_and_the_new_settings(run: Run, data_dir: Path) -> None:
    shown = json.loads(run("config", "show", "--json", CARATZON_SMTP_URL=None).stdout)
    assert shown["CARATZON_SMTP_URL"] == "(none: .eml files under data dir)"
    assert shown["CARATZON_GEMINI_API_KEY"] == ""
    assert shown["CARATZON_AI"] == "offline"
    assert shown["CARATZON_OFFER_TTL_DAYS"] == "7"
    assert shown["CARATZON_BASE_URL"] == "http://127.0.0.1:8000"
    assert not (data_dir / "caratzon.sqlite3").exists()


def test_config_show_with_the_embedded_default_creates_no_database(run: Run, data_dir: Path) -> None:
    result = run("config", "show", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["CARATZON_DATA_DIR"] == str(data_dir.resolve())
    assert not (data_dir / "caratzon.sqlite3").exists()


def test_config_error_is_one_line(run: Run) -> None:
    result = run("config", "show", CARATZON_SECRET_KEY="too-short")
    assert result.exit_code == 1
    assert result.stderr == "error: CARATZON_SECRET_KEY must be at least 32 characters.\n"
    assert "too-short" not in result.output


def test_db_upgrade_prints_the_revision(run: Run, data_dir: Path) -> None:
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    match = re.fullmatch(r"Database is at revision (\S+)\n", result.stdout)
    assert match, result.stdout
    assert match.group(1) != "base"
    assert (data_dir / "caratzon.sqlite3").exists()
    again = run("db", "upgrade")
    assert again.stdout == result.stdout


def test_unreachable_database_is_one_line_without_the_password(run: Run) -> None:
    pytest.importorskip("psycopg")
    result = run("users", "list", CARATZON_DATABASE_URL=SERVER_URL, CARATZON_SECRET_KEY=SECRET)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: The database is unavailable: ")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert DB_PASSWORD not in result.output
    assert SECRET not in result.output
    assert "Traceback" not in result.output


def test_errors_are_redacted_of_the_smtp_password_and_the_ai_key(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: AccountService, *args: object, **kwargs: object) -> None:
        raise RuntimeError(f"boom {SMTP_PASSWORD} {GEMINI_KEY}")

    monkeypatch.setattr(AccountService, "list_users", broken)
    result = run(
        "users", "list", CARATZON_SMTP_URL=SMTP_URL, CARATZON_AI="gemini", CARATZON_GEMINI_API_KEY=GEMINI_KEY
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unexpected RuntimeError: boom *** ***")
    assert SMTP_PASSWORD not in result.output and GEMINI_KEY not in result.output


def test_unexpected_error_is_one_redacted_line_unless_debugging(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: AccountService, *args: object, **kwargs: object) -> None:
        raise RuntimeError(f"boom with {SECRET} inside\nsecond line")

    monkeypatch.setattr(AccountService, "list_users", broken)

    result = run("users", "list", CARATZON_SECRET_KEY=SECRET)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unexpected RuntimeError: boom with *** inside")
    assert result.stderr.count("\n") == 1
    assert SECRET not in result.output

    debugging = run("--debug", "users", "list", CARATZON_SECRET_KEY=SECRET)
    assert debugging.exit_code == 1
    assert isinstance(debugging.exception, RuntimeError)


def test_a_malformed_smtp_url_is_a_config_error_that_hides_the_password(tmp_path) -> None:
    import pytest

    from caratzon_adapters.config import Config, ConfigError, mail_domain

    env = {"CARATZON_DATA_DIR": str(tmp_path), "CARATZON_SECRET_KEY": "s" * 40}
    for bad in ("http://u:hunter2secret@mail.example.com", "smtp://u:hunter2secret@mail.example.com:port"):
        with pytest.raises(ConfigError) as err:
            Config.from_env({**env, "CARATZON_SMTP_URL": bad})
        assert "hunter2secret" not in str(err.value)
    assert Config.from_env({**env, "CARATZON_SMTP_URL": "smtp://mail.example.com:587?starttls=1"}).smtp_url
    assert mail_domain("Caratzon <no-reply@mail.example.com>") == "mail.example.com"
    assert mail_domain("nonsense") == "caratzon.local"
