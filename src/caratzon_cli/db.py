"""`caratzon db`: database schema migrations."""

from __future__ import annotations

import typer

from caratzon_adapters.bootstrap import upgrade_database
from caratzon_cli.state import state

app = typer.Typer(no_args_is_help=True, help="Database schema migrations.")


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Apply every pending migration and print the revision the database is now at."""
    cli = state(ctx)
    revision = upgrade_database(cli.config)
    cli.schema_ready = True
    typer.echo(f"Database is at revision {revision}")
