"""`caratzon serve`: the web portal with waitress."""

from __future__ import annotations

from typing import Annotated

import typer

from caratzon_adapters.bootstrap import upgrade_database
from caratzon_cli.output import note
from caratzon_cli.state import state

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    threads: Annotated[int, typer.Option(min=1, max=256, help="Worker threads.")] = 8,
) -> None:
    """Serve the portal and API (migrating the embedded SQLite database first)."""
    import waitress

    from caratzon_web import create_app  # the only place the CLI reaches the web app

    cli = state(ctx)
    config = cli.config
    if config.is_embedded_database:
        revision = upgrade_database(config)
        cli.schema_ready = True
        note(f"Database is at revision {revision}")
    app = create_app(config, services=cli.services)
    if host not in _LOOPBACK and not config.session_cookie_secure:
        note("warning: listening beyond this machine without CARATZON_SECURE_COOKIES=1; serve it behind HTTPS.")
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"Caratzon is serving on http://{shown}:{port}/ (press Ctrl+C to stop)")
    waitress.serve(app, host=host, port=port, threads=threads)
