"""`caratzon dsr`: data-subject requests for operators (issue #6, part 1).

Opening a request on someone's behalf takes two steps, so that only the owner of
the account's mailbox can make it:

1. ``caratzon dsr open EMAIL --type T`` mails the account a 6-digit code (valid 15
   minutes, 5 tries; the mail goes out with the worker or `caratzon outbox deliver`).
2. The person reads the code out; ``caratzon dsr open EMAIL --type T --code NNNNNN``
   opens the request (a second open one of that type is merged, not duplicated).

``dsr list`` shows the queue (overdue ones flagged; ``--overdue`` only those),
``dsr take``, ``dsr complete`` and ``dsr refuse --reason`` work it; the person is
told by mail when a request is completed or refused. A request is named by its id
or by the 8-character reference the list and the mails show.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from caratzon_adapters.bootstrap import Services
from caratzon_cli.output import note, out, print_json, table
from caratzon_cli.state import state
from caratzon_cli.users import CLI_CLIENT
from caratzon_core.access import Actor
from caratzon_core.errors import NotFound
from caratzon_core.requests import CODE_TTL, RIGHTS, DataRequest, RequestType, request_ref
from caratzon_core.services.requests import Opened, RequestView

_TYPES = ", ".join(f"{t.value} ({RIGHTS[t].rstrip('.').lower()})" for t in RequestType)

app = typer.Typer(no_args_is_help=True, help="Data-subject requests: open on someone's behalf, list, work.")


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def request_json(view: RequestView) -> dict[str, object]:
    r = view.request
    return {
        "id": r.id, "reference": view.ref, "type": r.type.value, "status": r.status.value, "origin": r.origin.value,
        "user_id": r.user_id, "email": view.email, "name": view.name, "received_at": _when(r.received_at),
        "due_at": _when(r.due_at), "overdue": view.overdue, "days_left": view.days_left, "urgent": r.urgent,
        "merged": r.merged, "handled_by": r.handled_by, "closed_at": _when(r.closed_at), "outcome": r.outcome,
        "details": r.details, "notes": [{"at": _when(n.at), "by": n.by, "text": n.text} for n in r.notes],
    }


def resolve(services: Services, actor: Actor, text: str) -> str:
    """A request's id from its id or its reference."""
    key = text.strip()
    try:
        return services.requests.get(actor, key).request.id
    except NotFound:
        pass
    ref = key.replace("-", "").upper()
    matches = [v.request.id for v in services.requests.queue(actor, include_closed=True) if ref and v.ref == ref]
    if len(matches) == 1:
        return matches[0]
    raise NotFound(f"No request {text!r}: give its id, or the reference `caratzon dsr list` shows.")


def _said(opened: Opened, email: str) -> str:
    r = opened.request
    ref = request_ref(r.id)
    if opened.merged:
        return (f"{email} already had an open {r.type.value} request ({ref}); this one was merged into it. "
                f"Due {r.due_at:%Y-%m-%d}.")
    if r.outcome and not r.is_open:
        return f"Request {ref} ({r.type.value}) for {email}: {r.status.value}. {r.outcome}"
    return f"Opened request {ref} ({r.type.value}) for {email}, due {r.due_at:%Y-%m-%d}."


@app.command("open")
def open_(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The account's email.")],
    kind: Annotated[str, typer.Option("--type", help=f"The right exercised: {_TYPES}.")],
    code: Annotated[str | None, typer.Option("--code", help="The 6-digit code the person received by mail.")] = None,
    details: Annotated[str, typer.Option("--details", help="What the person asked for, in their words.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Open a request on someone's behalf, in two steps.

    Without --code it mails the account a 6-digit code; run it again with the code
    the person reads out to you to open the request."""
    services = state(ctx).services
    actor = Actor.cli_operator()
    if code is None:
        sent = services.requests.send_code(actor, email, kind, CLI_CLIENT)
        minutes = int(CODE_TTL.total_seconds() // 60)
        if as_json:
            print_json({"code_sent_to": sent.email, "type": sent.type.value, "expires_at": _when(sent.expires_at)})
            return
        typer.echo(f"A {minutes}-minute code was mailed to {sent.email} (until {sent.expires_at:%H:%M} UTC).")
        note("The mail goes out with `caratzon worker` or `caratzon outbox deliver`. When the person reads the "
             f"code to you, run: caratzon dsr open {sent.email} --type {sent.type.value} --code NNNNNN")
        return
    opened = services.requests.open_verified(actor, email, kind, code, details=details, client=CLI_CLIENT)
    if as_json:
        print_json({**request_json(services.requests.get(actor, opened.request.id)),
                    "merged_into_existing": opened.merged})
        return
    typer.echo(_said(opened, email.strip().lower()))


@app.command("list")
def list_(
    ctx: typer.Context,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open requests past their due date.")] = False,
    include_closed: Annotated[bool, typer.Option("--all", help="Closed requests too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """The queue: reported minors first, then by due date (30 days after receipt)."""
    views = state(ctx).services.requests.queue(Actor.cli_operator(), overdue_only=overdue,
                                               include_closed=include_closed)
    if as_json:
        print_json([request_json(v) for v in views])
        return
    late = sum(1 for v in views if v.overdue)
    rows = []
    for v in views:
        r = v.request
        due = f"{r.due_at:%Y-%m-%d}"
        if v.overdue:
            due += f" OVERDUE {-v.days_left}d"
        elif r.is_open:
            due += f" ({v.days_left}d left)"
        rows.append((v.ref, r.type.value + (" URGENT" if r.urgent and r.is_open else ""), r.status.value,
                     v.email, f"{r.received_at:%Y-%m-%d}", due, r.id))
    title = f"{len(views)} request{'s' if len(views) != 1 else ''}" + (f", {late} overdue" if late else "")
    out().print(table(title, ["Ref", "Type", "Status", "Person", "Received", "Due", "Id"], rows))


def _done(services: Services, actor: Actor, r: DataRequest, as_json: bool, message: str) -> None:
    if as_json:
        print_json(request_json(services.requests.get(actor, r.id)))
    else:
        typer.echo(message)


@app.command("take")
def take(
    ctx: typer.Context,
    request: Annotated[str, typer.Argument(help="The request's id or reference.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the request as JSON.")] = False,
) -> None:
    """Start working on a request (it moves to in progress)."""
    services, actor = state(ctx).services, Actor.cli_operator()
    r = services.requests.take(actor, resolve(services, actor, request), CLI_CLIENT)
    _done(services, actor, r, as_json, f"Request {request_ref(r.id)} is in progress.")


@app.command("complete")
def complete(
    ctx: typer.Context,
    request: Annotated[str, typer.Argument(help="The request's id or reference.")],
    outcome: Annotated[str, typer.Option("--outcome", help="What was done; the person reads it.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the request as JSON.")] = False,
) -> None:
    """Mark a request completed; the person is told by mail."""
    services, actor = state(ctx).services, Actor.cli_operator()
    r = services.requests.complete(actor, resolve(services, actor, request), outcome, CLI_CLIENT)
    _done(services, actor, r, as_json, f"Request {request_ref(r.id)} is completed; the person is told by mail.")


@app.command("refuse")
def refuse(
    ctx: typer.Context,
    request: Annotated[str, typer.Argument(help="The request's id or reference.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required); the person reads it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the request as JSON.")] = False,
) -> None:
    """Refuse a request with a reason; the person is told it by mail."""
    services, actor = state(ctx).services, Actor.cli_operator()
    r = services.requests.refuse(actor, resolve(services, actor, request), reason, CLI_CLIENT)
    _done(services, actor, r, as_json, f"Request {request_ref(r.id)} is refused; the person is told why by mail.")
