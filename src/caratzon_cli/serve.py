"""`caratzon serve`: the web portal with waitress, and the portal worker beside it."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from types import FrameType
from typing import Annotated

import attrs
import typer

from caratzon_adapters.bootstrap import upgrade_database
from caratzon_cli.output import note
from caratzon_cli.state import state
from caratzon_cli.worker import DEFAULT_INTERVAL, Worker, stderr_log

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# How long a stopping portal waits for a worker run in progress (it is a daemon
# thread: the outbox leases make an interrupted delivery safe to redo).
_WORKER_GRACE = 10.0


@contextlib.contextmanager
def _sigterm_stops_serving() -> Iterator[None]:
    """SIGTERM ends waitress's loop the way Ctrl+C does, so the worker is stopped too."""

    def handle(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    threads: Annotated[int, typer.Option(min=1, max=256, help="Request-handling threads.")] = 8,
    run_worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run the background worker (expiry, order routing, payments, mail) in this process.",
        ),
    ] = True,
    worker_interval: Annotated[
        float, typer.Option("--worker-interval", min=1.0, help="Seconds between two worker runs.")
    ] = DEFAULT_INTERVAL,
) -> None:
    """Serve the portal and API (migrating the embedded SQLite database first).

    The portal worker beside it expires lapsed negotiations and delivers mail
    every --worker-interval seconds; with --no-worker run `caratzon worker`."""
    import waitress

    from caratzon_web import create_app  # the only place the CLI reaches the web app

    cli = state(ctx)
    config = cli.config
    shown = f"[{host}]" if ":" in host else host
    if not os.environ.get("CARATZON_BASE_URL") and config.base_url != f"http://{shown}:{port}":
        # Links in mails must reach this portal: without a configured public address,
        # use the one it serves on.
        cli.use_config(attrs.evolve(config, base_url=f"http://{shown}:{port}"))
        config = cli.config
    if config.is_embedded_database:
        revision = upgrade_database(config)
        cli.schema_ready = True
        note(f"Database is at revision {revision}")
    app = create_app(config, services=cli.services)
    if host not in _LOOPBACK and not config.session_cookie_secure:
        note("warning: listening beyond this machine without CARATZON_SECURE_COOKIES=1; serve it behind HTTPS.")
    typer.echo(f"Caratzon is serving on http://{shown}:{port}/ (press Ctrl+C to stop)")
    worker = Worker(cli.services, interval=worker_interval, log=stderr_log()) if run_worker else None
    if worker is not None:
        note(f"Portal worker: every {worker_interval:g} s (--no-worker to run `caratzon worker` separately)")
        worker.start()
    try:
        with _sigterm_stops_serving():
            waitress.serve(app, host=host, port=port, threads=threads)
    finally:
        if worker is not None:
            worker.stop()
            worker.join(_WORKER_GRACE)
