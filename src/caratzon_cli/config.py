"""`caratzon config`: the effective configuration, secrets masked."""

from __future__ import annotations

from typing import Annotated

import typer

from caratzon_cli.output import out, print_json, table
from caratzon_cli.state import state

app = typer.Typer(no_args_is_help=True, help="Show the effective configuration (secrets masked).")


@app.command("show")
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Print the configuration read from the environment; never touches the database."""
    masked = state(ctx).config.masked()
    if as_json:
        print_json(masked)
        return
    out().print(table("Caratzon configuration", ["Setting", "Value"], list(masked.items())))
