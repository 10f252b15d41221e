"""`caratzon blobs`: housekeeping of the asset store."""

from __future__ import annotations

from typing import Annotated

import typer

from caratzon_cli.output import print_json
from caratzon_cli.state import state
from caratzon_core.access import Actor

app = typer.Typer(no_args_is_help=True, help="Housekeeping of stored design assets.")


@app.command("sweep")
def sweep(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Delete the blobs of uploads that were interrupted before their row was saved."""
    swept = state(ctx).services.designs.sweep_pending(Actor.cli_operator())
    if as_json:
        print_json({"swept": swept})
    else:
        typer.echo(f"Swept {swept} orphaned upload blob{'s' if swept != 1 else ''}.")
