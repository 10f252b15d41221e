"""`caratzon policy publish|list` (issue #6 part 5; P46) over a real SQLite data dir:
a material change queues one notice per open account (delivered in each person's
language by `outbox deliver`), bad input fails with one line and exit code 1."""

from __future__ import annotations

import email
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from caratzon_adapters.bootstrap import bootstrap
from caratzon_adapters.config import Config
from caratzon_cli.main import app
from caratzon_core.access import Actor
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.accounts import SignUp

PASSWORD = "Quartz-Meadow-Compass-58"
SECRET = "s3cret-key-" + "q" * 40
POLICY = "Privacy Policy\n\n13. Changes to This Policy\n\nWe may update this Privacy Policy from time to time.\n"

Run = Callable[..., Result]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def env(data_dir: Path) -> dict[str, str | None]:
    return {
        "CARATZON_DATA_DIR": str(data_dir),
        "CARATZON_PASSWORD_HASHING": "fast",
        "CARATZON_DATABASE_URL": None,
        "CARATZON_SECRET_KEY": SECRET,
        "CARATZON_SMTP_URL": None,
        "CARATZON_AI": None,
    }


@pytest.fixture
def run(env: dict[str, str | None]) -> Run:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


@pytest.fixture
def people(env: dict[str, str | None]) -> dict[str, str]:
    """Three open accounts in three languages and a closed one."""
    services = bootstrap(Config.from_env({k: v for k, v in env.items() if v is not None}), migrate=True)
    try:
        operator = Actor.cli_operator("test")
        ids = {}
        for name, language in [("ann", "en"), ("bo", "zh-Hans"), ("chi", "zh-Hant"), ("dan", "en")]:
            user = services.accounts.create_user(operator, SignUp(
                email=f"{name}@example.com", password=PASSWORD, name=name.title(), role="buyer", language=language))
            ids[name] = user.id
        services.accounts.close_account(operator, ids["dan"])
    finally:
        services.close()
    return ids


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.txt"
    path.write_text(POLICY, encoding="utf-8")
    return path


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def later(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


def test_publish_a_material_change_queues_a_notice_per_open_account(run: Run, people: dict[str, str],
                                                                    policy_file: Path, data_dir: Path) -> None:
    effective = later(30)
    result = run("policy", "publish", str(policy_file), "--effective", effective, "--material")
    assert result.exit_code == 0, result.output
    assert f"Published privacy policy version {effective}, effective {effective} (material)." in result.stdout
    assert "Queued 3 notice e-mails" in result.stdout

    status = json.loads(run("outbox", "status", "--json").stdout)
    assert status["pending"] == 3
    delivered = run("outbox", "deliver", "--json")
    assert delivered.exit_code == 0, delivered.output
    subjects = {}
    for path in sorted((data_dir / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        subjects[str(message["To"])] = str(make_header(decode_header(str(message["Subject"]))))
    assert set(subjects) == {"ann@example.com", "bo@example.com", "chi@example.com"}  # not the closed account
    assert subjects["ann@example.com"].startswith("Our privacy policy is changing on ")
    assert subjects["bo@example.com"].startswith("我们的隐私政策将于 ")
    assert subjects["chi@example.com"].startswith("我們的私隱政策將於 ")


def test_publish_json_and_list(run: Run, policy_file: Path) -> None:
    result = run("policy", "publish", str(policy_file), "--effective", today(), "--version", "v2", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["version"] == "v2" and doc["effective_date"] == today() and doc["material"] is False
    assert doc["status"] == "in force" and doc["published_by"] == "operator:cli" and doc["text_stored"] is True
    assert doc["characters"] == len(POLICY) and doc["notices_queued"] == 0

    listed = run("policy", "list", "--json")
    assert listed.exit_code == 0, listed.output
    versions = json.loads(listed.stdout)
    assert [(v["version"], v["status"], v["text_stored"]) for v in versions] == [
        (INITIAL_POLICY_VERSION, "superseded", False), ("v2", "in force", True)]
    assert versions[0]["published_at"] is None and versions[0]["published_by"] is None

    table = run("policy", "list")
    assert table.exit_code == 0, table.output
    assert INITIAL_POLICY_VERSION in table.stdout and "v2" in table.stdout and "in force" in table.stdout


def test_list_on_a_fresh_database_shows_the_initial_version(run: Run) -> None:
    versions = json.loads(run("policy", "list", "--json").stdout)
    assert [(v["version"], v["effective_date"], v["status"]) for v in versions] == [
        (INITIAL_POLICY_VERSION, "2026-03-04", "in force")]


@pytest.mark.parametrize(("args", "message"), [
    (["--effective", "2020-01-01"], "error: The effective date 2020-01-01 is in the past"),
    (["--effective", "next tuesday"], "error: --effective: 'next tuesday' is not a date (YYYY-MM-DD)."),
    (["--effective", later(3), "--version", "no spaces please"], "error: The version 'no spaces please' is not valid"),
], ids=["past", "not-a-date", "bad-version"])
def test_bad_input_is_one_line(run: Run, policy_file: Path, args: list[str], message: str) -> None:
    assert one_error_line(run("policy", "publish", str(policy_file), *args)).startswith(message)
    assert len(json.loads(run("policy", "list", "--json").stdout)) == 1


def test_bad_files_are_one_line(run: Run, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    assert one_error_line(run("policy", "publish", str(empty), "--effective", later(3))) == \
        "error: The policy text is empty."
    binary = tmp_path / "policy.pdf"
    binary.write_bytes(b"%PDF-1.7\n\xff\xfe\x00\x01")
    assert one_error_line(run("policy", "publish", str(binary), "--effective", later(3))) == \
        "error: policy.pdf is not UTF-8 text."
    missing = run("policy", "publish", str(tmp_path / "nope.txt"), "--effective", later(3))
    assert missing.exit_code == 1
    assert "error: No such file or directory" in missing.stderr and "Traceback" not in missing.output


def test_a_duplicate_is_refused(run: Run, policy_file: Path) -> None:
    effective = later(5)
    first = run("policy", "publish", str(policy_file), "--effective", effective)
    assert first.exit_code == 0, first.output
    assert f"Published privacy policy version {effective}, effective {effective} (not material)." in first.stdout
    assert "note: no e-mails for a change that is not material" in first.stderr
    line = one_error_line(run("policy", "publish", str(policy_file), "--effective", effective))
    assert line == f"error: Policy version {effective} exists already; choose another version label."
    line = one_error_line(run("policy", "publish", str(policy_file), "--effective", effective, "--version", "x"))
    assert line.startswith(f"error: Version {effective} already takes effect on {effective}")


def test_help_describes_the_commands(run: Run) -> None:
    result = run("policy", "publish", "--help")
    assert result.exit_code == 0
    assert "--effective" in result.stdout and "--material" in result.stdout and "--version" in result.stdout
