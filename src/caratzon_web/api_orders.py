"""The JSON API for orders, routing and production (issue #5): briefs and quotes,
the order and its steps, routing and assignment, production-CAD links, and
manufacturer profiles and vetting.

Bearer tokens only, like the rest of ``/api/v1`` (no session cookie, so no CSRF
check). Views are thin: read the body, call one use case of
:class:`~caratzon_core.services.orders.OrderService` or
:class:`~caratzon_core.services.manufacturing.ManufacturerService`, answer JSON.
The brief is checked by the core (every rule names its field, every problem is
listed in ``details``); this edge only insists that it arrives as a JSON object.

Money is ``{"amount": "1500.00", "currency": "USD"}``: a decimal string in major
units, never a float. So are carats, grams, fractions and the routing's scores
(four decimals).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs
from attrs import frozen
from flask import Blueprint, Response, jsonify, request

from caratzon_core.access import Actor
from caratzon_core.blobs import SignedLink
from caratzon_core.designs import Asset
from caratzon_core.errors import Conflict, NotFound, ValidationFailed
from caratzon_core.ledger import JournalEntry
from caratzon_core.manufacturers import Manufacturer
from caratzon_core.messaging import Message
from caratzon_core.money import Money
from caratzon_core.orders import Brief, Order, order_ref
from caratzon_core.payments import PaymentInstruction
from caratzon_core.quote import Quote
from caratzon_core.routing import RoutingDecision
from caratzon_core.services.manufacturing import ProfileInput
from caratzon_core.services.orders import OrderSummary, OrderView
from caratzon_web.api import _bearer, _converter, _json_object
from caratzon_web.api_designs import link_json
from caratzon_web.context import client, services
from caratzon_web.converters import structure
from caratzon_web.errors import iso_utc

bp = Blueprint("api_orders", __name__, url_prefix="/api/v1")


# -- request bodies ----------------------------------------------------------------------------


@frozen
class OrderBody:
    """``POST /api/v1/orders``: a brief under a licence; submitted at the quoted
    price unless ``submit`` is false (then it stays a draft)."""

    agreement_id: str
    brief: dict[str, Any]
    submit: bool = True


@frozen
class QuoteBody:
    """``POST /api/v1/quotes``: a live quote; nothing is stored."""

    agreement_id: str
    brief: dict[str, Any]


@frozen
class AssignBody:
    """``POST /api/v1/orders/{id}/assign``: the routing's best when no manufacturer
    is named; anyone else is an override and needs a reason."""

    manufacturer_id: str | None = None
    reason: str | None = None


@frozen
class TransitionBody:
    """``POST /api/v1/orders/{id}/transitions``."""

    to: str
    reason: str | None = None
    carrier: str | None = None
    tracking: str | None = None


@frozen
class ProfileBody:
    """``PUT /api/v1/manufacturers/me``; the numbers are checked by the core (whole
    numbers only: a JSON float is refused there)."""

    processes: list[str]
    metals: list[str]
    min_quantity: Any
    max_quantity: Any
    weekly_capacity: Any
    lead_time_days: Any
    ships_to: list[str]
    labour_per_piece: str
    currency: str
    labour_per_stone: str = "0"
    name: str | None = None


@frozen
class VetBody:
    """``POST /api/v1/manufacturers/{id}/vet``; signed today unless given."""

    nda_until: date
    nda_signed_on: date | None = None


@frozen
class SuspendBody:
    """``POST /api/v1/manufacturers/{id}/suspend``."""

    reason: str


# -- answers --------------------------------------------------------------------------------------


def _iso(at: datetime | None) -> str | None:
    return iso_utc(at) if at is not None else None


def money_json(money: Money | None) -> dict[str, str] | None:
    if money is None:
        return None
    return {"amount": str(money.to_decimal()), "currency": money.currency}


def _minor(amount: int, currency: str) -> str:
    return str(Money(amount, currency).to_decimal())


def _score(value: float) -> str:
    return f"{value:.4f}"


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def brief_json(brief: Brief) -> dict[str, Any]:
    return {
        "alloy": brief.alloy,
        "quantity": brief.quantity,
        "ship_to": brief.ship_to,
        "wanted_by": brief.wanted_by.isoformat(),
        "size": {"system": brief.size.system.value, "value": brief.size.value} if brief.size else None,
        "stones": [{"type": s.type, "carat": str(s.carat), "count": s.count, "setting": s.setting.value}
                   for s in brief.stones],
        "engraving": brief.engraving,
        "finish": brief.finish.value,
        "notes": brief.notes,
    }


def quote_json(q: Quote) -> dict[str, Any]:
    return {
        "currency": q.currency,
        "quantity": q.quantity,
        "lines": [{"code": line.code, "label": line.label, "per_piece": money_json(line.per_piece),
                   "amount": money_json(line.amount), "detail": line.detail} for line in q.lines],
        "subtotal": money_json(q.subtotal),
        "platform_fee": money_json(q.platform_fee),
        "platform_fee_rate": str(q.platform_fee_rate),
        "total": money_json(q.total),
        "net_grams_per_piece": str(q.net_grams_per_piece),
        "prices_effective": q.prices_effective.isoformat(),
    }


def order_json(order: Order) -> dict[str, Any]:
    shipment = order.shipment
    return {
        "id": order.id,
        "ref": order_ref(order.id),
        "status": order.status.value,
        "agreement_id": order.agreement_id,
        "design_id": order.design_id,
        "manufacturer_id": order.manufacturer_id,
        "brief": brief_json(order.brief),
        "quote": quote_json(order.quote) if order.quote else None,
        "created_at": iso_utc(order.created_at),
        "updated_at": iso_utc(order.updated_at),
        "submitted_at": _iso(order.submitted_at),
        "offered_at": _iso(order.offered_at),
        "offer_expires_at": _iso(order.offer_expires_at),
        "accepted_at": _iso(order.accepted_at),
        "qc_failures": order.qc_failures,
        "qc_passed_at": _iso(order.qc_passed_at),
        "shipment": ({"carrier": shipment.carrier, "tracking": shipment.tracking,
                      "shipped_at": iso_utc(shipment.shipped_at)} if shipment else None),
        "delivered_at": _iso(order.delivered_at),
        "closed_at": _iso(order.closed_at),
        "reason": order.reason,
    }


def _event_json(message: Message) -> dict[str, Any]:
    return {"event": message.event, "data": dict(message.event_data), "at": iso_utc(message.created_at)}


def entry_json(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind.value,
        "currency": entry.currency,
        "idempotency_key": entry.idempotency_key,
        "at": iso_utc(entry.at),
        "amount": money_json(Money(entry.amount, entry.currency)),
        "lines": [{"account": line.account, "debit": _minor(line.debit, entry.currency),
                   "credit": _minor(line.credit, entry.currency)} for line in entry.lines],
    }


def payment_json(p: PaymentInstruction) -> dict[str, Any]:
    return {
        "id": p.id,
        "kind": p.kind.value,
        "amount": money_json(p.amount),
        "party_id": p.party_id,
        "status": p.status.value,
        "attempts": p.attempts,
        "external_id": p.external_id,
        "last_error": p.last_error,
        "created_at": iso_utc(p.created_at),
    }


def order_view_json(view: OrderView) -> dict[str, Any]:
    buyer = view.buyer
    return {
        **order_json(view.order),
        "design": {"id": view.design.id, "title": view.design.title},
        "buyer": ({"name": buyer.name, "business_name": buyer.business_name,
                   "business_address": buyer.business_address} if buyer else None),
        "manufacturer": ({"id": view.order.manufacturer_id, "name": view.manufacturer_name}
                         if view.order.manufacturer_id else None),
        "my_side": view.my_side.value if view.my_side else None,
        "moves": list(view.moves),
        "thread_id": view.thread_id,
        "timeline": [_event_json(m) for m in view.timeline],
        "ledger": [entry_json(e) for e in view.ledger],
        "payments": [payment_json(p) for p in view.payments],
    }


def summary_json(summary: OrderSummary) -> dict[str, Any]:
    o = summary.order
    return {
        "id": o.id,
        "ref": summary.ref,
        "status": o.status.value,
        "design": {"id": o.design_id, "title": summary.design_title},
        "my_side": summary.my_side.value if summary.my_side else None,
        "quantity": o.brief.quantity,
        "wanted_by": o.brief.wanted_by.isoformat(),
        "total": money_json(o.quote.total) if o.quote else None,
        "manufacturer_id": o.manufacturer_id,
        "updated_at": iso_utc(o.updated_at),
    }


def routing_json(decision: RoutingDecision) -> dict[str, Any]:
    return {
        "order_id": decision.order_id,
        "decided_at": iso_utc(decision.decided_at),
        "chosen": decision.chosen,
        "reason": decision.reason,
        "candidates": [{
            "rank": c.rank,
            "manufacturer_id": c.manufacturer_id,
            "name": c.name,
            "score": {"slack": _score(c.parts.slack), "cost": _score(c.parts.cost),
                      "rating": _score(c.parts.rating), "load": _score(c.parts.load),
                      "total": _score(c.parts.total)},
            "finish_on": c.finish_on.isoformat(),
            "labour_per_piece": money_json(c.labour_per_piece),
            "notes": list(c.notes),
        } for c in decision.candidates],
        "excluded": [{"manufacturer_id": e.manufacturer_id, "name": e.name, "reason": e.reason.value,
                      "message": e.message} for e in decision.excluded],
    }


def manufacturer_json(m: Manufacturer) -> dict[str, Any]:
    score = m.score
    return {
        "id": m.user_id,
        "name": m.name,
        "processes": sorted(p.value for p in m.processes),
        "metals": sorted(m.metals),
        "min_quantity": m.min_quantity,
        "max_quantity": m.max_quantity,
        "weekly_capacity": m.weekly_capacity,
        "current_load": m.current_load,
        "lead_time_days": m.lead_time_days,
        "ships_to": sorted(m.ships_to),
        "labour": {"per_piece": money_json(m.labour.per_piece), "per_stone": money_json(m.labour.per_stone)},
        "vetting": m.vetting.value,
        "vetted_by": m.vetted_by,
        "vetted_at": _iso(m.vetted_at),
        "nda_signed_on": m.nda_signed_on.isoformat() if m.nda_signed_on else None,
        "nda_expires_on": m.nda_expires_on.isoformat() if m.nda_expires_on else None,
        "score": {
            "jobs": score.jobs,
            "on_probation": score.on_probation,
            "rating": _decimal(score.rating),
            "on_time_rate": _decimal(score.on_time_rate),
            "qc_failure_rate": _decimal(score.qc_failure_rate),
            "responsiveness_hours": _decimal(score.responsiveness_hours),
            "computed_at": _iso(score.computed_at),
        },
        "updated_at": _iso(m.updated_at),
    }


def cad_link_json(asset: Asset, link: SignedLink) -> dict[str, Any]:
    out = link_json(link)
    assert out is not None
    return {"asset": {"id": asset.id, "filename": asset.filename, "content_type": asset.content_type,
                      "size": asset.size, "sha256": asset.sha256}, **out}


# -- routes: orders -------------------------------------------------------------------------------


def _actor() -> Actor:
    user, _ = _bearer()
    return services().accounts.actor_for(user)


def _view(actor: Actor, order_id: str) -> dict[str, Any]:
    return order_view_json(services().orders.view(actor, order_id, client()))


@bp.post("/orders")
def create_order() -> tuple[Response, int]:
    actor = _actor()
    body = structure(_converter(), _json_object(), OrderBody)
    order = services().orders.create(actor, body.agreement_id, body.brief, submit_now=body.submit, client=client())
    return jsonify(_view(actor, order.id)), 201


@bp.get("/orders")
def my_orders() -> Response:
    return jsonify({"items": [summary_json(s) for s in services().orders.my_orders(_actor())]})


@bp.get("/orders/<order_id>")
def get_order(order_id: str) -> Response:
    return jsonify(_view(_actor(), order_id))


@bp.get("/orders/<order_id>/quote")
def order_quote(order_id: str) -> Response:
    view = services().orders.view(_actor(), order_id, client())
    if view.order.quote is None:
        raise Conflict("This order is a draft: its price is fixed when it is submitted (transition 'submitted'); "
                       "POST /api/v1/quotes gives a live quote meanwhile.", field="status")
    return jsonify(quote_json(view.order.quote))


@bp.post("/quotes")
def live_quote() -> Response:
    actor = _actor()
    body = structure(_converter(), _json_object(), QuoteBody)
    return jsonify(quote_json(services().orders.quote_for(actor, body.agreement_id, body.brief, client())))


@bp.get("/orders/<order_id>/routing")
def order_routing(order_id: str) -> Response:
    return jsonify(routing_json(services().orders.routing(_actor(), order_id, client())))


@bp.post("/orders/<order_id>/assign")
def assign(order_id: str) -> Response:
    actor = _actor()
    body = structure(_converter(), _json_object(), AssignBody)
    services().orders.assign(actor, order_id, body.manufacturer_id or None, reason=body.reason, client=client())
    return jsonify(_view(actor, order_id))


@bp.post("/orders/<order_id>/transitions")
def transition(order_id: str) -> Response:
    actor = _actor()
    body = structure(_converter(), _json_object(), TransitionBody)
    services().orders.transition(actor, order_id, body.to, reason=body.reason, carrier=body.carrier,
                                 tracking=body.tracking, client=client())
    return jsonify(_view(actor, order_id))


@bp.get("/orders/<order_id>/cad-links")
def cad_links(order_id: str) -> Response:
    links = services().orders.cad_links(_actor(), order_id, client())
    return jsonify({"items": [cad_link_json(asset, link) for asset, link in links]})


# -- routes: manufacturers ------------------------------------------------------------------------


@bp.get("/manufacturers/me")
def my_profile() -> Response:
    actor = _actor()
    profile = services().manufacturers.profile(actor, actor.id)
    if profile is None:
        raise NotFound("You have no manufacturer profile yet; PUT /api/v1/manufacturers/me creates it "
                       "(manufacturer accounts only).")
    return jsonify(manufacturer_json(profile))


@bp.put("/manufacturers/me")
def save_profile() -> Response:
    actor = _actor()
    body = structure(_converter(), _json_object(), ProfileBody)
    profile = services().manufacturers.save_profile(actor, actor.id, ProfileInput(**attrs.asdict(body)), client())
    return jsonify(manufacturer_json(profile))


@bp.get("/manufacturers")
def list_manufacturers() -> Response:
    actor = _actor()
    unknown = sorted(set(request.args) - {"vetting"})
    if unknown:
        raise ValidationFailed(f"Unknown parameter '{unknown[0]}'; the only parameter is vetting.",
                               field=unknown[0])
    makers = services().manufacturers.list(actor, vetting=request.args.get("vetting") or None)
    return jsonify({"items": [manufacturer_json(m) for m in makers]})


@bp.post("/manufacturers/<manufacturer_id>/vet")
def vet(manufacturer_id: str) -> Response:
    actor = _actor()
    body = structure(_converter(), _json_object(), VetBody)
    maker = services().manufacturers.vet(actor, manufacturer_id, nda_until=body.nda_until,
                                         nda_signed_on=body.nda_signed_on, client=client())
    return jsonify(manufacturer_json(maker))


@bp.post("/manufacturers/<manufacturer_id>/suspend")
def suspend(manufacturer_id: str) -> Response:
    actor = _actor()
    body = structure(_converter(), _json_object(), SuspendBody)
    maker = services().manufacturers.suspend(actor, manufacturer_id, reason=body.reason, client=client())
    return jsonify(manufacturer_json(maker))
