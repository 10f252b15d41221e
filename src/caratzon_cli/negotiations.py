"""`caratzon negotiations`: housekeeping of licence negotiations."""

from __future__ import annotations

from typing import Annotated

import typer

from caratzon_cli.output import err, print_json
from caratzon_cli.state import state
from caratzon_cli.worker import DEFAULT_LIMIT, worker_actor

app = typer.Typer(no_args_is_help=True, help="Housekeeping of licence negotiations.")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@app.command("expire")
def expire(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100_000, help="Most negotiations handled in this run.")
    ] = DEFAULT_LIMIT,
) -> None:
    """Close negotiations whose latest offer lapsed; warn of offers lapsing soon.

    Whoever must answer an offer that lapses within 24 hours gets one warning per
    offer. Safe to run at any time, alongside `caratzon worker` (which does this
    too); the mails go out with `caratzon outbox deliver`."""
    services = state(ctx).services
    with err().status("Expiring lapsed negotiations…"):
        result = services.licensing.sweep(worker_actor(), limit=limit)
    if as_json:
        print_json({"expired": result.expired, "warned": result.warned})
        return
    typer.echo(
        f"Expired {_plural(result.expired, 'negotiation')}; "
        f"queued {_plural(result.warned, 'warning')} of offers lapsing within 24 hours."
    )
