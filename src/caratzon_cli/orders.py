"""`caratzon route` and `caratzon orders`: the production side of orders for
operators (issue #5): why an order goes to which manufacturer, assigning it, and
the open orders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import attrs
import typer

from caratzon_adapters.bootstrap import Services
from caratzon_cli.output import out, print_json, table
from caratzon_cli.state import state
from caratzon_cli.users import iter_users
from caratzon_core.access import Actor
from caratzon_core.accounts import Role
from caratzon_core.errors import NotFound, ValidationFailed
from caratzon_core.money import Money
from caratzon_core.orders import OPEN_STATUSES, Order, OrderStatus, order_ref
from caratzon_core.routing import W_COST, W_LOAD, W_RATING, W_SLACK, RoutingDecision, explain
from caratzon_core.services.orders import OrderView

app = typer.Typer(no_args_is_help=True, help="Orders in production: list the open ones.")

OPEN = tuple(s.value for s in OrderStatus if s in OPEN_STATUSES)


def _money(value: Money | None) -> dict[str, str] | None:
    return None if value is None else {"amount": str(value.to_decimal()), "currency": value.currency}


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def resolve_order(services: Services, actor: Actor, text: str) -> OrderView:
    """The order by id, or by the 8-character reference shown in mails and lists."""
    key = text.strip()
    try:
        return services.orders.view(actor, key)
    except NotFound:
        pass
    ref = key.replace("-", "").upper()
    matches = [s.order.id for s in services.orders.open_orders(actor) if ref and s.ref == ref]
    if len(matches) == 1:
        return services.orders.view(actor, matches[0])
    raise NotFound(f"No order {text!r}: give its id, or the reference `caratzon orders list` shows.")


def resolve_manufacturer(services: Services, actor: Actor, text: str) -> str:
    """A manufacturer's user id from their email (any case) or id."""
    key = text.strip()
    if "@" not in key:
        return key
    user = next((u for u in iter_users(services, actor) if u.email.lower() == key.lower()), None)
    if user is None:
        raise NotFound(f"No account {key!r}.")
    if user.role is not Role.MANUFACTURER:
        raise NotFound(f"{key} is a {user.role.value.replace('_', ' ')} account, not a manufacturer.")
    return user.id


def brief_text(order: Order) -> str:
    b = order.brief
    pieces = f"{b.quantity} piece{'s' if b.quantity != 1 else ''}"
    return (f"{pieces} in {b.alloy} to {b.ship_to} by {b.wanted_by.isoformat()} "
            f"(needs {', '.join(sorted(p.value for p in b.processes()))})")


def decision_json(view: OrderView, decision: RoutingDecision) -> dict[str, object]:
    order = view.order
    b = order.brief
    return {
        "order": {
            "id": order.id,
            "ref": view.ref,
            "status": order.status.value,
            "design_title": view.design.title,
            "manufacturer_id": order.manufacturer_id,
            "quantity": b.quantity,
            "alloy": b.alloy,
            "ship_to": b.ship_to,
            "wanted_by": b.wanted_by.isoformat(),
            "processes": sorted(p.value for p in b.processes()),
            "declined_by": sorted(order.declined_by),
        },
        "decided_at": decision.decided_at.isoformat(),
        "chosen": decision.chosen,
        "reason": decision.reason,
        "weights": {"slack": W_SLACK, "cost": W_COST, "rating": W_RATING, "load": W_LOAD},
        "candidates": [
            {
                "rank": c.rank,
                "manufacturer_id": c.manufacturer_id,
                "name": c.name,
                "total": round(c.parts.total, 6),
                "parts": {k: round(v, 6) for k, v in c.parts._asdict().items()},
                "finish_on": c.finish_on.isoformat(),
                "labour_per_piece": _money(c.labour_per_piece),
                "notes": list(c.notes),
            }
            for c in decision.candidates
        ],
        "excluded": [
            {"manufacturer_id": e.manufacturer_id, "name": e.name, "reason": e.reason.value, "message": e.message}
            for e in decision.excluded
        ],
    }


def print_decision(view: OrderView, decision: RoutingDecision, limit: int) -> None:
    order = view.order
    typer.echo(f"Order {view.ref}: {view.design.title}, {order.status.value.replace('_', ' ')}; "
               f"{brief_text(order)}")
    if decision.candidates:
        rows = [
            (c.rank, c.name, f"{c.parts.total:.3f}", f"{c.parts.slack:.2f}", f"{c.parts.cost:.2f}",
             f"{c.parts.rating:.2f}", f"{c.parts.load:.2f}", c.finish_on.isoformat(), c.labour_per_piece.format(),
             " ".join(c.notes), c.manufacturer_id)
            for c in decision.candidates[:limit]
        ]
        more = len(decision.candidates) - limit
        title = f"{len(decision.candidates)} candidate{'s' if len(decision.candidates) != 1 else ''}"
        if more > 0:
            title += f" (the best {limit} shown)"
        columns = ["#", "Manufacturer", "Total", f"Slack ({W_SLACK})", f"Cost ({W_COST})", f"Rating ({W_RATING})",
                   f"Load ({W_LOAD})", "Finishes", "Labour/piece", "Notes", "Id"]
        out().print(table(title, columns, rows))
    # The reason and the exclusions by reason, in the core's own words (the
    # candidates are in the table above).
    for line in explain(attrs.evolve(decision, candidates=()), limit=limit):
        typer.echo(line)


def route(
    ctx: typer.Context,
    order_id: Annotated[str, typer.Argument(metavar="ORDER_ID", help="The order's id or 8-character reference.")],
    assign: Annotated[bool, typer.Option("--assign", help="Offer the job to the routing's choice.")] = False,
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="MANUFACTURER", help="Offer the job to this manufacturer (email or id)."),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why: needed to override the routing, or to reassign.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100_000, help="Candidates, and exclusions per reason, shown.")
    ] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole decision (and assignment) as JSON.")] = False,
) -> None:
    """Show how an order is routed: every candidate ranked with its score parts
    (slack, cost, rating, load) and total, every other manufacturer with the reason
    it is excluded.

    With --assign the job is offered to the routing's choice; with --to to someone
    else, which is an override and needs --reason (audited). A manufacturer who is
    not vetted, or whose NDA does not run through the wanted-by date, is refused
    even then."""
    if reason is not None and not (assign or to):
        raise typer.BadParameter("--reason goes with --to or --assign", param_hint="'--reason'")
    services = state(ctx).services
    actor = Actor.cli_operator()
    view = resolve_order(services, actor, order_id)
    decision = services.orders.routing(actor, view.order.id)
    assigned: Order | None = None
    if assign or to:
        target = resolve_manufacturer(services, actor, to) if to else None
        try:
            assigned = services.orders.assign(actor, view.order.id, target, reason=reason)
        except ValidationFailed as exc:
            if exc.field != "reason":
                raise
            raise ValidationFailed(f"{exc.message} Pass --reason TEXT.", field="reason") from None
    names = {c.manufacturer_id: c.name for c in decision.candidates}
    names.update((e.manufacturer_id, e.name) for e in decision.excluded)
    if as_json:
        doc = decision_json(view, decision)
        doc["assigned"] = None if assigned is None else {
            "order_id": assigned.id,
            "ref": order_ref(assigned.id),
            "status": assigned.status.value,
            "manufacturer_id": assigned.manufacturer_id,
            "manufacturer_name": names.get(assigned.manufacturer_id or ""),
            "offered_at": _when(assigned.offered_at),
            "offer_expires_at": _when(assigned.offer_expires_at),
            "override": assigned.manufacturer_id != decision.chosen,
            "reason": assigned.reason,
        }
        print_json(doc)
        return
    print_decision(view, decision, limit)
    if assigned is not None:
        who = names.get(assigned.manufacturer_id or "", assigned.manufacturer_id)
        until = f"{assigned.offer_expires_at:%Y-%m-%d %H:%M} UTC" if assigned.offer_expires_at else "-"
        override = " (overriding the routing)" if assigned.manufacturer_id != decision.chosen else ""
        typer.echo(f"Offered the job to {who}{override} until {until}.")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", metavar="STATUS", help=f"Only this status: {', '.join(OPEN)}.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List the open orders (not completed or cancelled), newest changes first."""
    wanted = None
    if status is not None:
        wanted = status.strip().lower()
        if wanted not in OPEN:
            raise typer.BadParameter(
                f"{status!r} is not an open order status; expected one of: {', '.join(OPEN)}",
                param_hint="'--status'",
            )
    services = state(ctx).services
    actor = Actor.cli_operator()
    found = [s for s in services.orders.open_orders(actor) if wanted is None or s.order.status.value == wanted]
    found.sort(key=lambda s: (s.order.updated_at, s.order.id), reverse=True)
    makers = {m.user_id: m.name for m in services.manufacturers.list(actor)} if found else {}
    if as_json:
        print_json([
            {
                "id": s.order.id,
                "ref": s.ref,
                "status": s.order.status.value,
                "design_id": s.order.design_id,
                "design_title": s.design_title,
                "buyer_id": s.order.buyer_id,
                "agreement_id": s.order.agreement_id,
                "manufacturer_id": s.order.manufacturer_id,
                "manufacturer_name": makers.get(s.order.manufacturer_id or ""),
                "quantity": s.order.brief.quantity,
                "alloy": s.order.brief.alloy,
                "ship_to": s.order.brief.ship_to,
                "wanted_by": s.order.brief.wanted_by.isoformat(),
                "total": _money(s.order.quote.total if s.order.quote else None),
                "submitted_at": _when(s.order.submitted_at),
                "offer_expires_at": _when(s.order.offer_expires_at),
                "updated_at": s.order.updated_at.isoformat(),
            }
            for s in found
        ])
        return
    rows = [
        (
            s.ref,
            s.order.status.value,
            s.design_title,
            s.order.brief.quantity,
            s.order.brief.alloy,
            s.order.brief.ship_to,
            s.order.brief.wanted_by.isoformat(),
            makers.get(s.order.manufacturer_id or "", s.order.manufacturer_id or ""),
            s.order.quote.total.format() if s.order.quote else "",
            s.order.id,
        )
        for s in found
    ]
    title = f"{len(found)} open order{'s' if len(found) != 1 else ''}" + (f" ({wanted})" if wanted else "")
    out().print(table(title, ["Ref", "Status", "Design", "Qty", "Alloy", "Ship to", "Wanted by", "Manufacturer",
                              "Total", "Id"], rows))
