"""`caratzon dsr open|list|take|complete|refuse` and `caratzon users flag-minor`
(issue #6, parts 1 and 7) over a real SQLite data dir: the two-step opening on
someone's behalf with the code from their mail, the queue with overdue requests
flagged, working it, and the minor flag. Old requests are made with the services
on a fake clock set weeks in the past: to the CLI (on the system clock) they are
overdue."""

from __future__ import annotations

import email
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.config import Config
from caratzon_cli.main import app
from caratzon_core.access import Actor
from caratzon_core.requests import RequestType
from caratzon_core.services.accounts import SignUp
from caratzon_core.testing import FakeClock

PASSWORD = "Quartz-Meadow-Compass-58"
SECRET = "s3cret-key-" + "q" * 40

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


class People:
    """Bea (buyer) asked for access 40 days ago and for erasure 5 days ago; Bob has
    asked for nothing."""

    def __init__(self, services: Services, clock: FakeClock) -> None:
        self.services = services
        operator = Actor.cli_operator("test")
        self.actors = {}
        for name in ("bea", "bob"):
            user = services.accounts.create_user(operator, SignUp(email=f"{name}@example.com", password=PASSWORD,
                                                                  name=name.title(), role="buyer"))
            self.actors[name] = services.accounts.actor_for(user)
        now = datetime.now(UTC)
        clock.set(now - timedelta(days=40))
        self.old = services.requests.open(self.actors["bea"], "access").request
        clock.set(now - timedelta(days=5))
        self.recent = services.requests.open(self.actors["bea"], "erasure").request


@pytest.fixture
def people(env: dict[str, str | None]) -> Iterator[People]:
    config = Config.from_env({k: v for k, v in env.items() if v is not None})
    services = bootstrap(config, migrate=True, clock=FakeClock())
    try:
        yield People(services, services.deps.clock)  # type: ignore[arg-type]
    finally:
        services.close()


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def code_from_mail(data_dir: Path, to: str) -> str:
    found = []
    # Oldest delivery first: each `outbox deliver` run writes its files after the last run's.
    for path in sorted((data_dir / "mail").glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == to and "verification code" in str(message["Subject"]):
            body = message.get_payload(decode=True)
            assert isinstance(body, bytes)
            match = re.search(r"^ +(\d{6})\r?$", body.decode(), flags=re.M)
            assert match and match.group(1) in str(message["Subject"])
            found.append(match.group(1))
    assert found, "no code mail"
    return found[-1]


def test_list_flags_overdue_requests_and_json_is_for_scripts(run: Run, people: People) -> None:
    rows = json.loads(ok(run("dsr", "list", "--json")).stdout)
    assert [(r["id"], r["type"], r["overdue"]) for r in rows] == [
        (people.old.id, "access", True), (people.recent.id, "erasure", False)]
    assert rows[0]["email"] == "bea@example.com" and rows[0]["days_left"] < 0 and rows[1]["days_left"] == 25
    overdue = json.loads(ok(run("dsr", "list", "--overdue", "--json")).stdout)
    assert [r["id"] for r in overdue] == [people.old.id]
    text = ok(run("dsr", "list")).stdout
    assert "2 requests, 1 overdue" in text and "OVERDUE 10d" in text and "(25d left)" in text


def test_opening_on_someones_behalf_takes_the_code_from_their_mail(run: Run, people: People,
                                                                  data_dir: Path) -> None:
    result = ok(run("dsr", "open", "Bob@Example.com", "--type", "portability"))
    assert "code was mailed to bob@example.com" in result.stdout
    assert "--code NNNNNN" in result.stderr
    ok(run("outbox", "deliver"))
    code = code_from_mail(data_dir, "bob@example.com")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    result = run("dsr", "open", "bob@example.com", "--type", "portability", "--code", wrong)
    assert result.exit_code == 1 and "not correct; 4 tries left" in result.stderr
    result = ok(run("dsr", "open", "bob@example.com", "--type", "portability", "--code", code,
                    "--details", "Asked by phone", "--json"))
    opened = json.loads(result.stdout)
    assert opened["type"] == "portability" and opened["origin"] == "verified" and opened["details"] == "Asked by phone"
    assert not opened["merged_into_existing"]
    result = run("dsr", "open", "bob@example.com", "--type", "portability", "--code", code)
    assert result.exit_code == 1 and "used already" in result.stderr
    # The same type while it is open: a new code, then merged.
    ok(run("dsr", "open", "bob@example.com", "--type", "portability"))
    ok(run("outbox", "deliver"))
    result = ok(run("dsr", "open", "bob@example.com", "--type", "portability", "--code",
                    code_from_mail(data_dir, "bob@example.com")))
    assert "was merged into it" in result.stdout
    rows = json.loads(ok(run("dsr", "list", "--json")).stdout)
    assert [r["type"] for r in rows if r["email"] == "bob@example.com"] == ["portability"]


def test_bad_input_is_one_line_and_exit_1(run: Run, people: People) -> None:
    for args, message in [
        (("dsr", "open", "nobody@example.com", "--type", "access"), "No account with the email"),
        (("dsr", "open", "bob@example.com", "--type", "telepathy"), "expected one of"),
        (("dsr", "open", "bob@example.com", "--type", "access", "--code", "12ab"), "6 digits"),
        (("dsr", "open", "bob@example.com", "--type", "access", "--code", "123456"), "No code was sent"),
        (("dsr", "complete", "NOPE1234"), "No request 'NOPE1234'"),
        (("dsr", "refuse", people.old.id, "--reason", " "), "Say why"),
        (("users", "flag-minor", "bob@example.com", "--reason", ""), "Say what was reported"),
    ]:
        result = run(*args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1
    assert run("dsr", "refuse", people.old.id).exit_code == 2  # --reason is required


def test_take_complete_and_refuse_by_id_or_reference(run: Run, people: People, data_dir: Path) -> None:
    rows = json.loads(ok(run("dsr", "list", "--json")).stdout)
    ref = rows[0]["reference"]
    taken = json.loads(ok(run("dsr", "take", ref.lower(), "--json")).stdout)
    assert taken["status"] == "in_progress" and taken["handled_by"] == "operator:cli"
    result = ok(run("dsr", "complete", ref, "--outcome", "Export sent by post."))
    assert "is completed" in result.stdout
    result = ok(run("dsr", "refuse", people.recent.id, "--reason", "An order of yours is still open."))
    assert "is refused" in result.stdout
    assert json.loads(ok(run("dsr", "list", "--json")).stdout) == []
    closed = json.loads(ok(run("dsr", "list", "--all", "--json")).stdout)
    assert {r["status"] for r in closed} == {"completed", "refused"}
    result = run("dsr", "complete", ref)
    assert result.exit_code == 1 and "already completed" in result.stderr
    ok(run("outbox", "deliver"))
    subjects = sorted(str(email.message_from_bytes(p.read_bytes())["Subject"])
                      for p in (data_dir / "mail").glob("*.eml"))
    assert any("is completed" in s for s in subjects) and any("was refused" in s for s in subjects)


def test_flag_minor_restricts_and_queues_an_urgent_erasure(run: Run, people: People) -> None:
    result = ok(run("users", "flag-minor", "bob@example.com", "--reason", "His school wrote to us."))
    assert "bob@example.com is restricted" in result.stdout
    users = json.loads(ok(run("users", "list", "--json")).stdout)
    assert {u["email"]: u["status"] for u in users}["bob@example.com"] == "restricted"
    rows = json.loads(ok(run("dsr", "list", "--json")).stdout)
    assert rows[0]["email"] == "bob@example.com" and rows[0]["urgent"] and rows[0]["type"] == RequestType.ERASURE
    assert rows[0]["origin"] == "minor_report" and "His school wrote to us." in rows[0]["details"]
    again = json.loads(ok(run("users", "flag-minor", "bob@example.com", "--reason", "Again.", "--json")).stdout)
    assert again["merged_into_existing"] and again["request_id"] == rows[0]["id"]
    assert "URGENT" in ok(run("dsr", "list")).stdout


def test_completing_an_erasure_request_is_refused_under_a_hold_then_erases(run: Run, people: People) -> None:
    """P37 and the issue's bad input: under a legal hold the erasure is refused with the
    reason in one line, the request stays open; once released, completing erases."""
    ok(run("holds", "place", "bea@example.com", "--reason", "Tax inquiry 2026-41"))
    refused = run("dsr", "complete", people.recent.id)
    assert refused.exit_code != 0
    assert "legal hold: Tax inquiry 2026-41" in refused.output and len(refused.output.strip().splitlines()) == 1
    [row] = [r for r in json.loads(ok(run("dsr", "list", "--json")).stdout) if r["id"] == people.recent.id]
    assert row["status"] == "in_progress" and any("Erasure not carried out" in n["text"] for n in row["notes"])
    ok(run("holds", "release", "bea@example.com", "--reason", "Inquiry closed"))
    done = ok(run("dsr", "complete", people.recent.id)).stdout
    assert "completed" in done
    assert people.services.accounts.list_users(Actor.cli_operator("t"))  # the others are still there
    assert "bea@example.com" not in [u.email for u in people.services.accounts.list_users(Actor.cli_operator("t"))]
