"""The background worker (issue #4, part 6; issue #5): close lapsed negotiations
and warn of offers about to lapse, queue the "new messages" digests, send lapsed
job offers back to routing, route submitted orders, make the due payment-gateway
calls, recompute the partner scores once per UTC day, and deliver the outbox (last,
so the notices of this run's steps go out in the same run).

:func:`run_once` does one pass; :class:`Worker` repeats it on a thread until
stopped (``caratzon serve`` runs one as the portal worker); ``caratzon worker``
runs the same loop in the foreground. Each step runs even when an earlier one
failed, and a failure is logged as one redacted line (never a traceback, which
could carry connection strings or keys): the next run tries again.

Running several workers at once is safe: the use cases lock and re-check each
negotiation and order, de-duplicate notices and claim outbox rows and payment
instructions with a lease. The day of the last rescoring is kept in
``<data dir>/worker-state.json`` (:class:`WorkerState`), so ``caratzon worker --once``
from cron rescores once a day too; workers on other machines keep their own (a
second rescoring on the same day changes nothing).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from attrs import define

from caratzon_adapters.bootstrap import Services
from caratzon_cli.errors import describe, first_line, redact
from caratzon_cli.state import state
from caratzon_core.access import Actor

DEFAULT_INTERVAL = 60.0
DEFAULT_LIMIT = 500

# The counts of one run, in the order they are logged.
COUNTS = ("expired", "warned", "digests", "sent", "failed", "gave_up", "pending", "released", "routed", "paid",
          "payments_failed", "rescored", "errors")
STATE_FILE = "worker-state.json"

Log = Callable[[str], None]

logger = logging.getLogger("caratzon.worker")


def worker_actor() -> Actor:
    return Actor.cli_operator("worker")


def describe_failure(exc: Exception, services: Services) -> str:
    """One line for a failed step, with every secret of the configuration hidden."""
    message = describe(exc) or f"unexpected {type(exc).__name__}: {first_line(str(exc))}"
    return redact(message, services.config)


@define
class WorkerState:
    """What the worker remembers between runs: the UTC day the partner scores were
    last recomputed. ``path`` ``None`` keeps it in memory only (tests)."""

    path: Path | None = None
    rescored_on: date | None = None

    @classmethod
    def load(cls, path: Path) -> WorkerState:
        """The state in ``path``; a missing or unreadable file is a worker that never
        rescored (the worst case is one more rescoring, which changes nothing)."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            day = date.fromisoformat(raw["rescored_on"]) if isinstance(raw, dict) and raw.get("rescored_on") else None
        except (OSError, ValueError, TypeError):
            day = None
        return cls(path=path, rescored_on=day)

    @classmethod
    def for_services(cls, services: Services) -> WorkerState:
        return cls.load(services.config.data_dir / STATE_FILE)

    def save(self) -> None:
        """Write the file whole or not at all (a temporary file renamed over it)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        day = self.rescored_on.isoformat() if self.rescored_on else None
        try:
            temporary.write_text(json.dumps({"rescored_on": day}), encoding="utf-8")
            os.replace(temporary, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()


def run_once(services: Services, *, limit: int = DEFAULT_LIMIT, log: Log | None = None,
             state: WorkerState | None = None) -> dict[str, int]:
    """One pass: sweep negotiations, queue digests, release lapsed job offers, route
    submitted orders, settle payments, rescore partners (once per UTC day, as
    ``state`` records; by default the data dir's state file), deliver the outbox.

    Returns the counts of :data:`COUNTS`; ``errors`` is how many steps failed (each
    failure is logged with ``log``, one line)."""
    warn = log or logger.warning
    actor = worker_actor()
    counts = dict.fromkeys(COUNTS, 0)

    def step(name: str, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as exc:
            counts["errors"] += 1
            warn(f"worker: {name} failed: {describe_failure(exc, services)}")

    def sweep() -> None:
        result = services.licensing.sweep(actor, limit=limit)
        counts["expired"], counts["warned"] = result.expired, result.warned

    def digests() -> None:
        counts["digests"] = services.messaging.enqueue_digests(actor).enqueued

    def release() -> None:
        counts["released"] = services.orders.release_lapsed(actor)

    def auto_route() -> None:
        counts["routed"] = services.orders.auto_route(actor)

    def settle() -> None:
        result = services.orders.settle_payments(actor, limit=limit)
        counts.update(paid=result.get("made", 0), payments_failed=result.get("failed", 0))

    def rescore() -> None:
        remembered = state if state is not None else WorkerState.for_services(services)
        today = services.deps.clock.now().astimezone(UTC).date()
        if remembered.rescored_on == today:
            return
        counts["rescored"] = services.manufacturers.rescore(actor)
        remembered.rescored_on = today
        remembered.save()

    def deliver() -> None:
        report = services.notifications.deliver(actor, limit=limit)
        counts.update(sent=report.sent, failed=report.failed, gave_up=report.gave_up, pending=report.pending)

    step("negotiation sweep", sweep)
    step("message digests", digests)
    step("lapsed job offers", release)
    step("order routing", auto_route)
    step("payments", settle)
    step("partner scores", rescore)
    step("mail delivery", deliver)
    return counts


def summary(counts: dict[str, int]) -> str:
    """The one line logged per run: counts only, nothing secret."""
    line = (
        f"worker: expired {counts['expired']}, warned {counts['warned']}, digests {counts['digests']}, "
        f"sent {counts['sent']}, failed {counts['failed']}, gave up {counts['gave_up']}, "
        f"pending {counts['pending']}; orders released {counts['released']}, routed {counts['routed']}; "
        f"payments made {counts['paid']}, failed {counts['payments_failed']}; scores changed {counts['rescored']}"
    )
    if counts.get("errors"):
        line += f"; {counts['errors']} step{'s' if counts['errors'] != 1 else ''} failed"
    return line


def timestamped(write: Callable[[str], None]) -> Log:
    """A log function prefixing each line with the UTC time (for the foreground worker)."""

    def log(line: str) -> None:
        write(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} {line}")

    return log


class Worker(threading.Thread):
    """Runs :func:`run_once` every ``interval`` seconds (the first run at once) until
    :meth:`stop`. A daemon thread: it never keeps a stopping process alive."""

    def __init__(
        self,
        services: Services,
        *,
        interval: float = DEFAULT_INTERVAL,
        limit: int = DEFAULT_LIMIT,
        log: Log | None = None,
        name: str = "caratzon-worker",
    ) -> None:
        super().__init__(name=name, daemon=True)
        if interval <= 0:
            raise ValueError("the worker interval must be positive")
        self.services = services
        self.interval = interval
        self.limit = limit
        self._log = log or logger.info
        self._stop_event = threading.Event()
        self.runs = 0
        self.last: dict[str, int] | None = None

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    def stop(self) -> None:
        """Ask the loop to end; a run in progress finishes first (join to wait for it)."""
        self._stop_event.set()

    def run_one(self) -> dict[str, int]:
        try:
            counts = run_once(self.services, limit=self.limit, log=self._log)
        except Exception as exc:  # run_once isolates its steps; this is a last resort
            self._log(f"worker: run failed: {describe_failure(exc, self.services)}")
            counts = dict.fromkeys(COUNTS, 0)
            counts["errors"] = 1
        self.runs += 1
        self.last = counts
        self._log(summary(counts))
        return counts

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.run_one()
            self._stop_event.wait(self.interval)


# -- `caratzon worker` ------------------------------------------------------------------


def stderr_log() -> Log:
    return timestamped(lambda line: typer.echo(line, err=True))


@contextlib.contextmanager
def stop_on_signals(worker: Worker, log: Log) -> Iterator[None]:
    """SIGINT and SIGTERM stop ``worker`` after its current run; a second signal
    stops at once. The previous handlers are restored afterwards."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if worker.stopping:
            raise KeyboardInterrupt
        log(f"worker: {signal.Signals(signum).name} received; stopping after the current run")
        worker.stop()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def worker(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Do one run and exit (1 if a step failed).")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=1.0, help="Seconds between the starts of two runs.")
    ] = DEFAULT_INTERVAL,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100_000, help="Most negotiations, payments, mails per step.")
    ] = DEFAULT_LIMIT,
) -> None:
    """Run the background jobs every --interval seconds until SIGINT or SIGTERM.

    Each run expires lapsed negotiations, warns of offers lapsing within 24 hours,
    queues message digests, sends lapsed job offers back to routing, routes
    submitted orders, makes the due payment calls, recomputes partner scores once
    per UTC day and delivers the outbox, then logs one line of counts on stderr.
    `caratzon serve` runs the same loop unless given --no-worker."""
    services = state(ctx).services
    log = stderr_log()
    loop = Worker(services, interval=interval, limit=limit, log=log)
    if once:
        if loop.run_one()["errors"]:
            raise typer.Exit(1)
        return
    log(f"worker: started (every {interval:g} s; Ctrl+C to stop)")
    with stop_on_signals(loop, log):
        loop.start()
        while loop.is_alive():
            loop.join(0.5)
    log(f"worker: stopped after {loop.runs} run{'s' if loop.runs != 1 else ''}")
