"""The ``caratzon`` command: one Typer app, one module per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from caratzon_cli import (
    audit,
    blobs,
    config,
    db,
    demo,
    dsr,
    export,
    manufacturers,
    negotiations,
    orders,
    outbox,
    policy,
    prices,
    retention,
    serve,
    users,
    worker,
)
from caratzon_cli.errors import ErrorReportingGroup
from caratzon_cli.state import CliState

app = typer.Typer(
    name="caratzon",
    cls=ErrorReportingGroup,
    no_args_is_help=True,
    # The CLI holds the secret key and database credentials: never print locals.
    pretty_exceptions_show_locals=False,
    help="Caratzon: the B2B marketplace for jewelry designs.",
)
app.command("serve")(serve.serve)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(demo.app, name="demo")
app.add_typer(audit.app, name="audit")
app.add_typer(config.app, name="config")
app.add_typer(blobs.app, name="blobs")
app.add_typer(negotiations.app, name="negotiations")
app.add_typer(outbox.app, name="outbox")
app.command("route")(orders.route)
app.add_typer(orders.app, name="orders")
app.add_typer(manufacturers.app, name="manufacturers")
app.add_typer(prices.app, name="prices")
app.add_typer(policy.app, name="policy")
app.command("worker")(worker.worker)
app.add_typer(dsr.app, name="dsr")
app.add_typer(retention.app, name="retention")
app.add_typer(retention.holds_app, name="holds")
app.command("export")(export.export)


@app.callback()
def root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an unexpected error.")] = False,
) -> None:
    """Configuration comes from CARATZON_* environment variables; see `caratzon config show`."""
    # Nothing is built here: the configuration and services are made on first use.
    obj = CliState(debug=debug)
    ctx.obj = obj
    ctx.call_on_close(obj.close)


def main() -> None:
    app(prog_name="caratzon")
