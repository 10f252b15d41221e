"""`caratzon audit`: verify and prune the tamper-evident audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from caratzon_cli.output import print_json
from caratzon_cli.state import state
from caratzon_core.access import Actor

app = typer.Typer(no_args_is_help=True, help="Verify or prune the tamper-evident audit trail.")

# P34: audit entries are kept three years (one leap day included).
RETENTION_DAYS = 3 * 365 + 1


@app.command("verify")
def verify(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check every hash link and the signed head. Exit 1 if anything was altered."""
    report = state(ctx).services.audit.verify(Actor.cli_operator())
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "entries_checked": report.entries_checked,
                "last_seq": report.last_seq,
                "first_bad_seq": report.first_bad_seq,
                "problem": report.problem,
            }
        )
    elif report.ok:
        through = f"through #{report.last_seq}" if report.last_seq is not None else "the trail is empty"
        typer.echo(f"Audit trail OK: {report.entries_checked} entries verified ({through})")
    else:
        where = f" at entry #{report.first_bad_seq}" if report.first_bad_seq is not None else ""
        typer.echo(
            f"Audit trail BROKEN{where}: {report.problem or 'verification failed'} "
            f"({report.entries_checked} entries checked)"
        )
    if not report.ok:
        raise typer.Exit(1)


@app.command("prune")
def prune(
    ctx: typer.Context,
    older_than_days: Annotated[
        int, typer.Option(min=0, help="Delete entries written more than this many days ago.")
    ] = RETENTION_DAYS,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete old entries, leaving a signed checkpoint so the rest still verifies."""
    services = state(ctx).services
    cutoff = services.deps.clock.now() - timedelta(days=older_than_days)
    if not yes:
        typer.confirm(f"Delete audit entries written at or before {cutoff:%Y-%m-%d %H:%M} UTC?", abort=True)
    result = services.audit.prune(Actor.cli_operator(), older_than=cutoff)
    if result.pruned == 0:
        typer.echo(f"Nothing to prune: no entries written at or before {cutoff:%Y-%m-%d %H:%M} UTC.")
        return
    through = f" (checkpoint at #{result.checkpoint.seq})" if result.checkpoint else ""
    typer.echo(f"Pruned {result.pruned} audit entries{through}.")
