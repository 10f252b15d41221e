"""`caratzon outbox`: the mail notices waiting to go out, and sending them."""

from __future__ import annotations

from typing import Annotated

import typer

from caratzon_cli.errors import report
from caratzon_cli.output import err, out, print_json, table
from caratzon_cli.state import state
from caratzon_cli.worker import DEFAULT_LIMIT, worker_actor

app = typer.Typer(no_args_is_help=True, help="Mail notices: deliver the outbox, or count it.")

STATUSES = ("pending", "sent", "failed")


@app.command("deliver")
def deliver(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100_000, help="Most mails sent (or tried) in this run.")
    ] = DEFAULT_LIMIT,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Send the mails that are due (digests of new messages queued first).

    Mail goes over SMTP with CARATZON_SMTP_URL, else to .eml files under the data
    dir. A mail is sent once; a failed one stays pending and is retried with
    backoff, up to 8 tries. Exit 0 when every mail tried was sent (or none was
    due), 1 when any failed in this run; the counts are printed either way."""
    services = state(ctx).services
    actor = worker_actor()
    with err().status("Delivering mail…"):
        digests = services.messaging.enqueue_digests(actor).enqueued
        result = services.notifications.deliver(actor, limit=limit)
    counts = {
        "digests": digests,
        "sent": result.sent,
        "failed": result.failed,
        "gave_up": result.gave_up,
        "pending": result.pending,
    }
    if as_json:
        print_json(counts)
    else:
        typer.echo(
            f"Sent {result.sent}, failed {result.failed} (gave up on {result.gave_up}); "
            f"{result.pending} pending. Queued {digests} new-message digest{'s' if digests != 1 else ''}."
        )
    if result.failed:
        retried = result.failed - result.gave_up
        where = "the mail server (CARATZON_SMTP_URL)" if services.config.smtp_url else "the data dir's mail folder"
        report(
            f"{result.failed} mail{'s' if result.failed != 1 else ''} could not be sent "
            f"({retried} will be retried, {result.gave_up} gave up); check {where}",
            services.config,
        )
        raise typer.Exit(1)


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Count the mails pending, sent, and failed for good."""
    counts = state(ctx).services.notifications.counts(worker_actor())
    shown = {name: int(counts.get(name, 0)) for name in STATUSES}
    shown.update({k: int(v) for k, v in counts.items() if k not in shown})
    if as_json:
        print_json(shown)
        return
    out().print(table("Outbox", ["Status", "Mails"], list(shown.items())))
