"""`caratzon demo`: demo accounts for trying the portal out."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from caratzon_adapters.demo import DEMO_PASSWORD, demo_steps, seed_demo
from caratzon_cli.errors import report
from caratzon_cli.output import err, out, table
from caratzon_cli.state import state

app = typer.Typer(no_args_is_help=True, help="Demo data for trying Caratzon out.")


@app.command("seed")
def seed(
    ctx: typer.Context,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Seed a server database too (demo accounts, an admin included, share a published password).",
        ),
    ] = False,
    designs: Annotated[
        int, typer.Option("--designs", min=0, max=36, help="How many demo designs to publish (default 36).")
    ] = 36,
) -> None:
    """Create one demo account per role and a few more, publish demo designs with
    generated images and CAD meshes, licence options, a negotiation and an
    agreement; manufacturer profiles (vetted, pending, suspended), the price table
    and two orders (one in production, one awaiting routing); then print the logins.

    Idempotent: accounts that already exist are left unchanged, and so is the demo
    data already there.
    """
    cli = state(ctx)
    config = cli.config
    if not config.is_embedded_database and not force:
        report(
            "Refusing to seed demo accounts (with a published password) into a server database; "
            "pass --force if this is a demo instance.",
            config,
        )
        raise typer.Exit(1)
    services = cli.services
    with Progress(
        TextColumn("Seeding demo data"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=err(),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=demo_steps(designs))
        logins = seed_demo(
            services, design_count=designs, progress=lambda step: bar.update(task, advance=1, description=step)
        )

    created = sum(1 for login in logins if login.created)
    existing = len(logins) - created
    rows = [(login.email, login.role, "created" if login.created else "existing") for login in logins]
    out().print(table("Demo logins", ["Email", "Role", "Status"], rows))
    typer.echo(f"Created {created} demo account{'s' if created != 1 else ''}; {existing} already existed.")
    typer.echo(
        f"Password for every demo account: {DEMO_PASSWORD}"
        + (" (accounts that already existed keep theirs if it was changed)" if existing else "")
    )
