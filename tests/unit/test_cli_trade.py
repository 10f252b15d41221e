"""`caratzon negotiations expire`, `caratzon outbox deliver|status`, `caratzon worker`
and the worker loop (issue #4, parts 6 and 7), over a real SQLite data dir.

Time is moved by opening negotiations with services on a fake clock set days in
the past: to the CLI (on the system clock) their offers have lapsed, or are
about to."""

from __future__ import annotations

import email
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.config import Config
from caratzon_adapters.imagery import render_jewelry_png
from caratzon_cli import worker as worker_module
from caratzon_cli.main import app
from caratzon_cli.worker import COUNTS, Worker, run_once, summary
from caratzon_core.access import Actor
from caratzon_core.negotiation import NegotiationStatus
from caratzon_core.services.accounts import SignUp
from caratzon_core.services.designs import DesignInput, Upload
from caratzon_core.services.licensing import LicensingService
from caratzon_core.testing import FakeClock, FakeHasher, InMemoryStore

PASSWORD = "Quartz-Meadow-Compass-58"
SMTP_PASSWORD = "smtp-Secret-pw-731"
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

    def invoke(*args: str, **extra_env: str | None) -> Result:
        return runner.invoke(app, list(args), env={**env, **extra_env})

    return invoke


def config_for(env: dict[str, str | None]) -> Config:
    return Config.from_env({k: v for k, v in env.items() if v is not None})


def ok_json(result: Result) -> dict[str, int]:
    assert result.exit_code == 0, result.output
    value = json.loads(result.stdout)
    assert isinstance(value, dict)
    return value


def terms(start: str) -> dict[str, object]:
    return {
        "use": "manufacturing",
        "territory": "worldwide",
        "term": {"start": start, "months": 12},
        "unit_cap": 100,
        "fees": {"flat": {"amount": "1500.00", "currency": "USD"}, "royalty_per_unit": {"amount": "4", "currency": "USD"}},
    }


class Market:
    """A designer with one published design and one licence option, two buyers."""

    lapsed = lapsing = ""  # negotiation ids, set by the fixtures

    def __init__(self, services: Services, clock: FakeClock, tmp: Path) -> None:
        self.services, self.clock = services, clock
        accounts, operator = services.accounts, Actor.cli_operator("test")
        self.people = {}
        for name, role in [("dee", "designer"), ("bea", "buyer"), ("bob", "buyer")]:
            user = accounts.create_user(operator, SignUp(email=f"{name}@example.com", password=PASSWORD,
                                                         name=name.title(), role=role))
            self.people[name] = accounts.actor_for(user)
        dee = self.people["dee"]
        design = services.designs.create(dee, DesignInput(title="Halo ring", category="ring"))
        image = tmp / "halo.png"
        image.write_bytes(render_jewelry_png("ring", "18k_yellow", 1, size=(160, 160)))
        services.designs.add_asset(dee, design.id, Upload("halo.png", image, "image"))
        services.designs.publish(dee, design.id)
        start = clock.now().date().isoformat()
        self.option = services.licensing.add_option(dee, design.id, "Standard", terms(start))

    def open_at(self, buyer: str, at: datetime) -> str:
        self.clock.set(at)
        return self.services.licensing.open(self.people[buyer], self.option.id).id


@pytest.fixture
def market(env: dict[str, str | None], tmp_path: Path) -> Iterator[Market]:
    """Bea's offer lapsed three days ago; Bob's lapses in twelve hours."""
    now = datetime.now(UTC)
    clock = FakeClock(now - timedelta(days=10))
    services = bootstrap(config_for(env), migrate=True, clock=clock)
    try:
        m = Market(services, clock, tmp_path)
        m.lapsed = m.open_at("bea", now - timedelta(days=10))
        m.lapsing = m.open_at("bob", now - timedelta(days=6, hours=12))
        yield m
    finally:
        services.close()


def mails(data_dir: Path) -> list[Message]:
    return [email.message_from_bytes(p.read_bytes()) for p in sorted((data_dir / "mail").glob("*.eml"))]


def recipients(data_dir: Path) -> list[str]:
    return sorted(str(m["To"]) for m in mails(data_dir))


def negotiation_status(env: dict[str, str | None], negotiation_id: str) -> NegotiationStatus:
    services = bootstrap(config_for(env))
    try:
        with services.deps.uow() as uow:
            neg = uow.negotiations.get(negotiation_id)
    finally:
        services.close()
    assert neg is not None
    return neg.status


# -- negotiations expire, outbox deliver -------------------------------------------------


def test_expire_then_deliver_sends_each_mail_once(run: Run, market: Market, env: dict[str, str | None],
                                                  data_dir: Path) -> None:
    assert ok_json(run("outbox", "status", "--json")) == {"pending": 2, "sent": 0, "failed": 0}

    assert ok_json(run("negotiations", "expire", "--json")) == {"expired": 1, "warned": 1}

    assert negotiation_status(env, market.lapsed) is NegotiationStatus.EXPIRED
    assert negotiation_status(env, market.lapsing) is NegotiationStatus.OPEN
    # Run again (or by a second worker): nothing more to close, nobody warned twice.
    assert ok_json(run("negotiations", "expire", "--json")) == {"expired": 0, "warned": 0}

    delivered = ok_json(run("outbox", "deliver", "--json"))

    assert delivered == {"digests": 0, "sent": 5, "failed": 0, "gave_up": 0, "pending": 0}
    # Two "offer received" and one "expires soon" for the designer; "expired" for both parties.
    assert recipients(data_dir) == ["bea@example.com"] + ["dee@example.com"] * 4
    sent = mails(data_dir)
    assert all(m["Subject"] and m["From"] for m in sent)
    assert len({m["Message-ID"] for m in sent}) == 5
    # Never twice: a second delivery finds nothing due and writes nothing.
    again = ok_json(run("outbox", "deliver", "--json"))
    assert again == {"digests": 0, "sent": 0, "failed": 0, "gave_up": 0, "pending": 0}
    assert len(mails(data_dir)) == 5
    assert ok_json(run("outbox", "status", "--json")) == {"pending": 0, "sent": 5, "failed": 0}


def test_human_readable_output(run: Run, market: Market) -> None:
    expired = run("negotiations", "expire")
    assert expired.exit_code == 0, expired.output
    assert expired.stdout == "Expired 1 negotiation; queued 1 warning of offers lapsing within 24 hours.\n"
    delivered = run("outbox", "deliver")
    assert delivered.exit_code == 0, delivered.output
    assert delivered.stdout.startswith("Sent 5, failed 0 (gave up on 0); 0 pending.")
    status = run("outbox", "status")
    assert status.exit_code == 0, status.output
    assert "sent" in status.stdout and "5" in status.stdout


def test_unreachable_smtp_fails_the_run_and_leaves_the_mail_pending(run: Run, market: Market, data_dir: Path,
                                                                    env: dict[str, str | None]) -> None:
    smtp = f"smtp://caratzon:{SMTP_PASSWORD}@127.0.0.1:1?timeout=5"

    result = run("outbox", "deliver", "--json", CARATZON_SMTP_URL=smtp)

    # Exit 1 so a cron job or a script notices; the counts are still on stdout.
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout) == {"digests": 0, "sent": 0, "failed": 2, "gave_up": 0, "pending": 2}
    assert result.stderr.startswith("error: 2 mails could not be sent (2 will be retried, 0 gave up)")
    assert result.stderr.count("\n") == 1
    assert SMTP_PASSWORD not in result.output
    assert "Traceback" not in result.output
    assert not (data_dir / "mail").exists()
    assert ok_json(run("outbox", "status", "--json")) == {"pending": 2, "sent": 0, "failed": 0}
    # Not due again until the backoff has passed...
    assert ok_json(run("outbox", "deliver", "--json"))["sent"] == 0
    # ...after which the same rows are sent (here through the .eml mailer).
    later = bootstrap(config_for(env), clock=FakeClock(datetime.now(UTC) + timedelta(minutes=2)))
    try:
        report = later.notifications.deliver(Actor.cli_operator())
    finally:
        later.close()
    assert (report.sent, report.failed, report.pending) == (2, 0, 0)
    assert recipients(data_dir) == ["dee@example.com"] * 2


def test_nothing_to_do_on_a_fresh_data_dir(run: Run) -> None:
    assert ok_json(run("negotiations", "expire", "--json")) == {"expired": 0, "warned": 0}
    assert ok_json(run("outbox", "deliver", "--json", "--limit", "10"))["sent"] == 0
    assert ok_json(run("outbox", "status", "--json")) == {"pending": 0, "sent": 0, "failed": 0}


# -- caratzon worker -----------------------------------------------------------------------


def test_worker_once_does_everything_and_logs_one_line(run: Run, market: Market, data_dir: Path) -> None:
    result = run("worker", "--once")

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.endswith("worker: expired 1, warned 1, digests 0, sent 5, failed 0, gave up 0, pending 0; "
                         "orders released 0, routed 0; payments made 0, failed 0; scores changed 0")
    assert len(mails(data_dir)) == 5


def test_worker_once_exits_1_when_a_step_fails(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: LicensingService, *args: object, **kwargs: object) -> None:
        raise RuntimeError(f"boom with {SECRET} and {SMTP_PASSWORD}\nsecond line")

    monkeypatch.setattr(LicensingService, "sweep", broken)
    smtp = f"smtp://caratzon:{SMTP_PASSWORD}@127.0.0.1:1"

    result = run("worker", "--once", CARATZON_SMTP_URL=smtp)

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("worker: negotiation sweep failed: unexpected RuntimeError: boom with *** and ***")
    assert "1 step failed" in lines[1] and "sent 0" in lines[1]
    assert SECRET not in result.output and SMTP_PASSWORD not in result.output
    assert "Traceback" not in result.output


def test_worker_stops_on_sigterm_after_the_current_run(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """The signal is raised from inside the first run, when the handlers are surely installed."""
    real = Worker.run_one

    def run_one_then_signal(self: Worker) -> dict[str, int]:
        counts = real(self)
        if self.runs == 1:
            os.kill(os.getpid(), signal.SIGTERM)
        return counts

    monkeypatch.setattr(Worker, "run_one", run_one_then_signal)
    before = signal.getsignal(signal.SIGTERM)

    result = run("worker", "--interval", "1")

    assert result.exit_code == 0, result.output
    assert "SIGTERM received; stopping after the current run" in result.stderr
    assert "worker: stopped after 1 run" in result.stderr
    assert signal.getsignal(signal.SIGTERM) == before


# -- the loop itself, over the in-memory fakes ----------------------------------------------


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[Market]:
    clock = FakeClock()
    config = Config.from_env({"CARATZON_DATA_DIR": str(tmp_path / "data")})
    services = bootstrap(config, uow=InMemoryStore(), hasher=FakeHasher(), clock=clock)
    try:
        m = Market(services, clock, tmp_path)
        m.lapsed = m.open_at("bea", clock.now())
        yield m
    finally:
        services.close()


def test_run_once_sweeps_digests_and_delivers(memory: Market, tmp_path: Path) -> None:
    memory.clock.advance(timedelta(days=6, hours=12))
    first = run_once(memory.services)
    assert first == {"expired": 0, "warned": 1, "digests": 0, "sent": 2, "failed": 0, "gave_up": 0,
                     "pending": 0, "released": 0, "routed": 0, "paid": 0, "payments_failed": 0, "rescored": 0,
                     "errors": 0}

    memory.clock.advance(timedelta(days=1))
    second = run_once(memory.services)

    assert second == {**dict.fromkeys(COUNTS, 0), "expired": 1, "sent": 2}
    assert recipients(tmp_path / "data") == ["bea@example.com", "dee@example.com", "dee@example.com",
                                             "dee@example.com"]
    assert run_once(memory.services) == dict.fromkeys(COUNTS, 0)


def test_run_once_queues_and_sends_message_digests(memory: Market, tmp_path: Path) -> None:
    services = memory.services
    view = services.licensing.negotiation(memory.people["bea"], memory.lapsed)
    assert view.thread_id is not None
    services.messaging.post(memory.people["bea"], view.thread_id, "Could the band be lighter?")
    assert run_once(services)["digests"] == 0  # the thread has not been quiet long enough
    memory.clock.advance(timedelta(minutes=11))

    counts = run_once(services)

    assert (counts["digests"], counts["sent"]) == (1, 1)
    assert recipients(tmp_path / "data") == ["dee@example.com"] * 2


def test_a_failing_step_is_one_redacted_line_and_the_others_still_run(memory: Market,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    secret = memory.services.config.secret_key

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"cannot reach {secret}\nTraceback (most recent call last): ...")

    monkeypatch.setattr(memory.services.licensing, "sweep", broken)
    lines: list[str] = []

    counts = run_once(memory.services, log=lines.append)

    assert counts["errors"] == 1 and counts["sent"] == 1  # the delivery still ran
    assert lines == ["worker: negotiation sweep failed: unexpected RuntimeError: cannot reach ***"]
    assert "errors" not in summary(dict.fromkeys(COUNTS, 0))
    assert summary(counts).endswith("; 1 step failed")


def test_the_worker_thread_repeats_until_stopped(memory: Market) -> None:
    lines: list[str] = []
    loop = Worker(memory.services, interval=0.05, log=lines.append)
    loop.start()
    deadline = time.monotonic() + 10
    while loop.runs < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    loop.stop()
    loop.join(5)
    assert not loop.is_alive()
    assert loop.runs >= 3
    assert loop.daemon
    assert lines[0].startswith("worker: expired 0, warned 0, digests 0, sent 1,")
    assert all(line.startswith("worker: ") for line in lines)


# -- the portal worker in `caratzon serve` --------------------------------------------------


def _fake_waitress(monkeypatch: pytest.MonkeyPatch, seen: dict[str, object]) -> None:
    import waitress

    def serve(app: object, **kwargs: object) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            loops = [t for t in threading.enumerate() if isinstance(t, Worker)]
            seen["workers"] = loops
            if not loops or loops[0].runs >= 1:
                return
            time.sleep(0.01)

    monkeypatch.setattr(waitress, "serve", serve)


def test_serve_runs_the_portal_worker_and_stops_it(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}
    _fake_waitress(monkeypatch, seen)

    result = run("serve", "--worker-interval", "30")

    assert result.exit_code == 0, result.output
    [loop] = seen["workers"]  # type: ignore[misc]
    assert loop.interval == 30
    assert not loop.is_alive()
    assert "worker: expired 0, warned 0, digests 0, sent 0" in result.stderr


def test_serve_without_the_worker(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}
    _fake_waitress(monkeypatch, seen)

    result = run("serve", "--no-worker")

    assert result.exit_code == 0, result.output
    assert seen["workers"] == []
    assert "worker:" not in result.output


def test_worker_actor_is_the_cli_operator() -> None:
    actor = worker_module.worker_actor()
    assert actor.operator and actor.id == "operator:worker"
