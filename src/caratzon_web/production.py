"""Orders, routing and production in the portal (issue #5): the buyer's order form
with a live quote, the order page with its timeline, conversation and the steps
each party may take, the routing board and an order's full routing for production
managers, the manufacturers' vetting page and the price table, the manufacturer's
workshop profile and the production-CAD download.

This module only turns form fields into the plain data the use cases take
(:class:`~caratzon_core.services.orders.OrderService`,
:class:`~caratzon_core.services.manufacturing.ManufacturerService`, and
:class:`~caratzon_core.services.messaging.MessagingService` for the order's
conversation) and shows what they answer. Every form posts with a CSRF token; on a
problem the page comes back with the message by the field and everything entered,
and nothing is stored.

The routing board is the one page with a speed target (1,000 open orders, see
``benchmarks/bench_board.py``): it shows each order's first few candidates and
its exclusions counted by reason; an order's routing page has every candidate and
every exclusion with its message, and the override form.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Any

import attrs
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from caratzon_core.access import Action, Actor, Resource, authorize, decide
from caratzon_core.accounts import Role
from caratzon_core.blobs import BlobTooLarge
from caratzon_core.designs import GEMSTONE_TYPES, METALS, Design
from caratzon_core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from caratzon_core.licensing import Modification
from caratzon_core.manufacturers import Manufacturer, Process, Vetting
from caratzon_core.messaging import MessageKind
from caratzon_core.money import CURRENCY_EXPONENTS, Money
from caratzon_core.orders import MAX_STONE_LINES, Finish, OrderStatus, Setting, Side, SizeSystem
from caratzon_core.quote import PriceTable, Quote
from caratzon_core.routing import ExclusionReason, RoutingDecision
from caratzon_core.services.manufacturing import ProfileInput
from caratzon_core.services.orders import OrderView
from caratzon_web.blobs import spooled_upload
from caratzon_web.context import client, current_user, login_required, services
from caratzon_web.converters import parse_iso_date
from caratzon_web.errors import status_for
from caratzon_web.trade import _attachment_rules

bp = Blueprint("production", __name__)

# -- labels ---------------------------------------------------------------------------------------

STATUS_LABELS = {
    OrderStatus.DRAFT: "Draft",
    OrderStatus.SUBMITTED: "Awaiting routing",
    OrderStatus.ROUTED: "Offered to a manufacturer",
    OrderStatus.ACCEPTED: "Accepted by the manufacturer",
    OrderStatus.IN_PRODUCTION: "In production",
    OrderStatus.QUALITY_CHECK: "Quality check",
    OrderStatus.SHIPPED: "Shipped",
    OrderStatus.DELIVERED: "Delivered",
    OrderStatus.COMPLETED: "Completed",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.DISPUTED: "Disputed",
}
SIDE_LABELS = {Side.BUYER: "Buyer", Side.MANUFACTURER: "Manufacturer", Side.PRODUCTION: "Production",
               Side.SYSTEM: "The platform"}
SIZE_LABELS = {SizeSystem.US: "US ring size", SizeSystem.UK: "UK ring size", SizeSystem.EU: "EU ring size",
               SizeSystem.DIMENSIONS: "Dimensions (mm, width x height x depth)"}
FINISH_LABELS = {Finish.POLISHED: "Polished", Finish.MATTE: "Matte", Finish.BRUSHED: "Brushed",
                 Finish.HAMMERED: "Hammered", Finish.RHODIUM_PLATED: "Rhodium plated"}
PROCESS_LABELS = {
    Process.LOST_WAX_CASTING: "Lost-wax casting",
    Process.RESIN_PRINTING: "Resin printing",
    Process.WAX_PRINTING: "Wax printing",
    Process.STONE_SETTING_PRONG: "Stone setting: prong",
    Process.STONE_SETTING_PAVE: "Stone setting: pavé",
    Process.STONE_SETTING_BEZEL: "Stone setting: bezel",
    Process.STONE_SETTING_CHANNEL: "Stone setting: channel",
    Process.ENGRAVING: "Engraving",
    Process.PLATING: "Plating",
    Process.ENAMEL: "Enamel",
}
SETTING_LABELS = {Setting.PRONG: "Prong", Setting.PAVE: "Pavé", Setting.BEZEL: "Bezel", Setting.CHANNEL: "Channel"}
VETTING_LABELS = {Vetting.PENDING: "Pending vetting", Vetting.VETTED: "Vetted", Vetting.SUSPENDED: "Suspended"}
EXCLUSION_LABELS = {
    ExclusionReason.NOT_VETTED: "Not vetted",
    ExclusionReason.NDA_NOT_VALID: "NDA not valid through the wanted-by date",
    ExclusionReason.MISSING_PROCESS: "Missing a process",
    ExclusionReason.METAL_NOT_WORKED: "Does not work the metal",
    ExclusionReason.QUANTITY_OUT_OF_BOUNDS: "Quantity out of bounds",
    ExclusionReason.PROBATION_LIMIT: "Over the probation limit",
    ExclusionReason.NO_CAPACITY: "No spare capacity",
    ExclusionReason.DOES_NOT_SHIP: "Does not ship there",
    ExclusionReason.LEAD_TIME_TOO_LONG: "Lead time too long",
    ExclusionReason.DECLINED_BEFORE: "Declined before",
}
# The buttons of OrderView.moves: (label, the inputs the step takes, a hint).
MOVE_FORMS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "submitted": ("Place the order at the quoted price", (), ""),
    "accepted": ("Accept the job", (), "You commit to make the pieces by the wanted-by date."),
    "declined": ("Decline the job", ("reason",), "The order goes back to routing without you."),
    "in_production": ("Start production", (), ""),
    "quality_check": ("Ready for quality check", (), "A production manager checks the pieces."),
    "qc_passed": ("Pass the quality check", (), "The manufacturer may then ship."),
    "shipped": ("Mark as shipped", ("carrier", "tracking"), ""),
    "delivered": ("Confirm delivery", (), ""),
    "completed": ("Complete the order", (), "The designer's royalty and the manufacturer are paid out."),
    "disputed": ("Dispute the order", ("reason",), "A production manager looks into it."),
    "cancelled": ("Cancel the order", ("reason",), "Anything charged is refunded."),
}
# What the page says once a step is taken (by the key of the step's form).
DONE_MESSAGES = {
    "quality_check": "Done: the pieces are waiting for the quality check; a production manager checks them.",
    "qc_passed": "Done: the pieces passed the quality check; the manufacturer may now ship them.",
    "qc_failed": "Done: the pieces failed the quality check and go back into production.",
    "declined": "Done: you declined the job; it goes back to routing.",
}
# A production manager's "in_production" from quality check fails the pieces.
QC_FAIL = ("Fail the quality check", ("reason",), "The pieces go back into production.")
REQUIRED_INPUTS = frozenset({("disputed", "reason"), ("cancelled", "reason"), ("qc_failed", "reason"),
                             ("shipped", "carrier"), ("shipped", "tracking")})

# The statuses an order can be (re)assigned from (OrderService.assign).
ASSIGNABLE = frozenset({OrderStatus.SUBMITTED, OrderStatus.ROUTED, OrderStatus.ACCEPTED, OrderStatus.IN_PRODUCTION})

_ID = "__order_id__"
_REASON = attrgetter("reason")
BOARD_PAGE = 100  # orders on the routing board unless all are asked for
BOARD_CANDIDATES = 3  # per order on the board; the order's routing page lists them all
BOARD_OVERRIDES = 5  # manufacturers offered in the board's override select
STONE_ROWS = 3  # empty stone lines on a fresh form
STONE_FIELDS = ("type", "carat", "count", "setting")
ORDER_FIELDS = ("alloy", "quantity", "ship_to", "wanted_by", "size_system", "size_value", "engraving", "finish",
                "notes")
PROFILE_NUMBERS = ("min_quantity", "max_quantity", "weekly_capacity", "lead_time_days")
# The use cases name problems by the brief's fields; these are the form's inputs.
_BRIEF_FIELD = {"size": "size_value", "size.system": "size_system", "size.value": "size_value",
                "stones.carat": "stones", "stones.count": "stones", "design_id": "form", "currency": "form",
                "agreement_id": "form"}
_PROFILE_FIELD = {"labour": "labour_per_piece"}


def _actor() -> Actor:
    user = current_user()
    assert user is not None  # login_required
    return services().accounts.actor_for(user)


def _errors(exc: DomainError, names: Mapping[str, str] | None = None, *, default: str = "form",
            known: Iterable[str] = ()) -> dict[str, str]:
    """The problems keyed by the form's inputs (the first message per input); one
    with no input of its own goes to ``default`` (the top of the form)."""
    names = names or {}
    known = set(known)
    problems = exc.by_field() if isinstance(exc, ValidationFailed) else {}
    if not problems:
        problems = {exc.field or "": exc.message}
    out: dict[str, str] = {}
    for field, message in problems.items():
        name = names.get(field, field)
        out.setdefault(name if name in known else default, message)
    return out


def _can(actor: Actor, action: Action) -> bool:
    return decide(actor, action, Resource(str(action).split(".")[0])).allowed


@bp.app_template_filter("money")
def money_filter(money: Money | None) -> str:
    return "" if money is None else money.format()


@bp.app_template_filter("minor")
def minor_filter(amount: int, currency: str) -> str:
    """Whole minor units as major units without the code: ``8200, "USD"`` → ``82.00``."""
    money = Money(amount, currency)
    return f"{money.to_decimal():,.{money.exponent}f}"


_UUID_IN_PARENS = re.compile(r" \([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)")


@bp.app_template_filter("without_ids")
def without_ids_filter(text: str) -> str:
    """A use case's sentence without the ids it names people by: ``Chose Max Ltd (6f1c…)`` → ``Chose Max Ltd``."""
    return _UUID_IN_PARENS.sub("", text)


@bp.app_template_filter("score")
def score_filter(value: float | Decimal | None) -> str:
    return "-" if value is None else f"{float(value):.2f}"


@bp.app_context_processor
def production_nav() -> dict[str, Any]:
    """What base.html's navigation needs: which production links this person gets."""
    user = current_user()
    steering = user is not None and user.role in (Role.PRODUCTION_MANAGER, Role.ADMIN)
    return {"nav_orders": user is not None and user.role in (Role.BUYER, Role.DESIGNER, Role.MANUFACTURER,
                                                                Role.PRODUCTION_MANAGER, Role.ADMIN),
            "nav_production": steering,
            "nav_workshop": user is not None and user.role is Role.MANUFACTURER}


# -- the order form <-> the brief -------------------------------------------------------------------


def order_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """What was entered, as the template shows it again."""
    values: dict[str, Any] = {k: form.get(k, "").strip() for k in ORDER_FIELDS}
    values["notes"] = form.get("notes", "")
    stones = []
    for i in range(MAX_STONE_LINES):
        row = {k: form.get(f"stone_{k}-{i}", "").strip() for k in STONE_FIELDS}
        if row["type"] or row["carat"]:  # no type and no carat: an empty line
            stones.append(row)
    values["stones"] = stones
    return values


def blank_order_values() -> dict[str, Any]:
    return {**{k: "" for k in ORDER_FIELDS}, "finish": Finish.POLISHED.value, "stones": []}


def brief_from_values(values: Mapping[str, Any]) -> dict[str, object]:
    """The plain-data brief ``parse_brief`` reads (it checks everything)."""
    brief: dict[str, object] = {k: values[k] for k in ("alloy", "quantity", "ship_to", "wanted_by", "engraving",
                                                         "finish", "notes")}
    if values["size_system"] or values["size_value"]:
        brief["size"] = {"system": values["size_system"], "value": values["size_value"]}
    brief["stones"] = [{"type": s["type"], "carat": s["carat"], "count": s["count"] or "1",
                        "setting": s["setting"] or Setting.PRONG.value} for s in values["stones"]]
    return brief


def _order_form(agreement_id: str, *, values: Mapping[str, Any] | None = None,
                errors: Mapping[str, str] | None = None, quoted: Quote | None = None,
                status: int = 200) -> tuple[str, int]:
    actor = _actor()
    view = services().licensing.agreement(actor, agreement_id, client())
    authorize(actor, Action.ORDER_CREATE, Resource("order", owner_id=view.agreement.buyer_id))
    design = _licensed_design(actor, view.agreement.design_id)
    may_modify = view.agreement.terms.may_modify
    # The metals the buyer may choose: the design's own unless the licence allows changing it.
    fixed_metals = () if design is None or Modification.METAL in may_modify else design.metals
    if values is None:
        values = blank_order_values()
        if len(fixed_metals) == 1:
            values["alloy"] = fixed_metals[0]
    rows = max(STONE_ROWS, len(values["stones"]) + 1)
    today = services().deps.clock.now().date()
    return (
        render_template("production/order_form.html", view=view, agreement=view.agreement, values=values,
                        errors=errors or {}, quote=quoted, metals=METALS, gemstones=GEMSTONE_TYPES,
                        settings=SETTING_LABELS, finishes=FINISH_LABELS, sizes=SIZE_LABELS,
                        stone_rows=min(rows, MAX_STONE_LINES), today=today, earliest=today + timedelta(days=1),
                        design=design, fixed_metals=fixed_metals,
                        may_size=Modification.RING_SIZE in may_modify,
                        may_stones=Modification.STONE_SIZE in may_modify),
        status,
    )


def _licensed_design(actor: Actor, design_id: str) -> Design | None:
    """The design the licence is for (its metals and stones tell the buyer what "as
    designed" means), or None when it can no longer be shown."""
    try:
        return services().designs.view(actor, design_id, client()).design
    except DomainError:
        return None


_ORDER_INPUTS = (*ORDER_FIELDS, "stones", "form")


@bp.get("/agreements/<agreement_id>/order")
@login_required
def order_form(agreement_id: str) -> tuple[str, int]:
    return _order_form(agreement_id)


def _quote(agreement_id: str) -> tuple[dict[str, Any], Quote | None, dict[str, str], int]:
    values = order_values(request.form)
    try:
        quoted = services().orders.quote_for(_actor(), agreement_id, brief_from_values(values), client())
    except (ValidationFailed, Conflict, NotFound) as exc:
        return values, None, _errors(exc, _BRIEF_FIELD, known=_ORDER_INPUTS), status_for(exc)
    return values, quoted, {}, 200


@bp.post("/agreements/<agreement_id>/order/quote")
@login_required
def quote_form(agreement_id: str) -> tuple[str, int]:
    """The "Quote" button: the same form again with the breakdown (or the problems)."""
    values, quoted, errors, status = _quote(agreement_id)
    return _order_form(agreement_id, values=values, errors=errors, quoted=quoted, status=status)


@bp.post("/agreements/<agreement_id>/order/quote.json")
@login_required
def quote_json(agreement_id: str) -> BaseResponse:
    """For static/order_quote.js: the breakdown (or the problems) as the page shows
    it, to replace the quote section while the buyer types."""
    _, quoted, errors, _ = _quote(agreement_id)
    html = render_template("production/_quote_live.html", quote=quoted, errors=errors)
    return jsonify({"ok": quoted is not None, "errors": errors, "html": html,
                    "total": quoted.total.format() if quoted else None})


@bp.post("/agreements/<agreement_id>/order")
@login_required
def place_order(agreement_id: str) -> BaseResponse | tuple[str, int]:
    values = order_values(request.form)
    try:
        order = services().orders.create(_actor(), agreement_id, brief_from_values(values), client=client())
    except (ValidationFailed, Conflict, NotFound) as exc:
        return _order_form(agreement_id, values=values, errors=_errors(exc, _BRIEF_FIELD, known=_ORDER_INPUTS),
                           status=status_for(exc))
    total = order.quote.total.format() if order.quote else ""
    flash(f"Your order is placed{' at ' + total if total else ''}. We route it to a vetted workshop; you will be "
          "told at every step.", "success")
    return redirect(url_for("production.order", order_id=order.id), code=303)


# -- lists ------------------------------------------------------------------------------------------


@bp.get("/orders")
@login_required
def orders() -> str:
    actor = _actor()
    mine = services().orders.my_orders(actor)
    steering = _can(actor, Action.ORDER_ROUTE)
    open_orders = services().orders.open_orders(actor) if steering else []
    return render_template("production/orders.html", mine=mine, open_orders=open_orders, steering=steering,
                           status_labels=STATUS_LABELS, side_labels=SIDE_LABELS, role=actor.role)


# -- the order page ---------------------------------------------------------------------------------


def _names(actor: Actor, view: OrderView) -> dict[str, str]:
    """Manufacturer names for the timeline: the assigned one for everybody, every
    one for production managers."""
    names: dict[str, str] = {}
    if _can(actor, Action.MANUFACTURER_LIST):
        names = {m.user_id: m.name for m in services().manufacturers.list(actor)}
    if view.order.manufacturer_id and view.manufacturer_name:
        names[view.order.manufacturer_id] = view.manufacturer_name
    return names


def _conversation(actor: Actor, view: OrderView) -> Any:
    """The order's conversation, when this person takes part in it (the events are
    shown as the timeline instead)."""
    if view.thread_id is None:
        return None
    if view.thread_id not in {s.thread.id for s in services().messaging.threads(actor)}:
        return None
    thread = services().messaging.read(actor, view.thread_id, client=client())
    return attrs.evolve(thread, messages=tuple(m for m in thread.messages if m.message.kind is not MessageKind.EVENT))


def _party_label(party_id: str, view: OrderView, names: Mapping[str, str]) -> str:
    """Who a ledger account or a payment is for, by name where the page knows it."""
    order = view.order
    if party_id == order.buyer_id:
        return f"The buyer, {view.buyer.name}" if view.buyer and view.buyer.name else "The buyer"
    if party_id == order.designer_id:
        return "The designer"
    if party_id in names:
        return f"The manufacturer, {names[party_id]}"
    return "A manufacturer" if party_id else "-"


def _account_label(account: str, view: OrderView, names: Mapping[str, str]) -> str:
    """A ledger account as people read it; the account itself is shown beside it."""
    if account == "clearing":
        return "Clearing (the buyer's payment)"
    if account == "revenue:platform_fee":
        return "Platform fee (revenue)"
    kind, _, party_id = account.partition(":")
    if kind == "payable":
        _, _, party_id = party_id.partition(":")
        party = _party_label(party_id, view, names)
        return f"Owed to {party[:1].lower()}{party[1:]}"
    return account


def _move_forms(view: OrderView) -> list[dict[str, Any]]:
    out = []
    for move in view.moves:
        label, inputs, hint = MOVE_FORMS.get(move, (move.replace("_", " ").capitalize(), (), ""))
        key = move
        if move == "in_production" and view.order.status is OrderStatus.QUALITY_CHECK:
            (label, inputs, hint), key = QC_FAIL, "qc_failed"
        out.append({"to": move, "key": key, "label": label, "inputs": inputs, "hint": hint,
                    "required": {i for i in inputs if (key, i) in REQUIRED_INPUTS}})
    return out


def _order_page(order_id: str, *, action_key: str | None = None, action_values: Mapping[str, str] | None = None,
                action_errors: Mapping[str, str] | None = None, post_values: Mapping[str, str] | None = None,
                post_errors: Mapping[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    actor = _actor()
    view = services().orders.view(actor, order_id, client())
    moves = _move_forms(view)
    # A step tried from an old page may no longer have its button: its problem goes on top.
    orphan = [] if any(m["key"] == action_key for m in moves) else list((action_errors or {}).values())
    names = _names(actor, view)
    return (
        render_template(
            "production/order.html", view=view, order=view.order, brief=view.order.brief,
            quote=view.order.quote, thread=_conversation(actor, view), names=names,
            moves=moves, orphan_errors=orphan, action_key=action_key, action_values=action_values or {},
            action_errors=action_errors or {}, post_values=post_values or {}, post_errors=post_errors or {},
            rules=_attachment_rules(), status_labels=STATUS_LABELS, side_labels=SIDE_LABELS,
            size_labels=SIZE_LABELS, finish_labels=FINISH_LABELS, metals=METALS, setting_labels=SETTING_LABELS,
            account_label=lambda account: _account_label(account, view, names),
            party_label=lambda party_id: _party_label(party_id, view, names),
            steering=_can(actor, Action.ORDER_ROUTE),
            is_maker=view.my_side is Side.MANUFACTURER,
        ),
        status,
    )


@bp.get("/orders/<order_id>")
@login_required
def order(order_id: str) -> tuple[str, int]:
    return _order_page(order_id)


@bp.post("/orders/<order_id>/transitions")
@login_required
def transition(order_id: str) -> BaseResponse | tuple[str, int]:
    form = request.form
    to = form.get("to", "")
    key = form.get("key", to) or to
    values = {k: form.get(k, "") for k in ("reason", "carrier", "tracking")}
    try:
        moved = services().orders.transition(_actor(), order_id, to, reason=values["reason"] or None,
                                              carrier=values["carrier"] or None,
                                              tracking=values["tracking"] or None, client=client())
    except (ValidationFailed, Conflict) as exc:
        errors = _errors(exc, known=("reason", "carrier", "tracking"))
        return _order_page(order_id, action_key=key, action_values=values, action_errors=errors,
                           status=status_for(exc))
    flash(DONE_MESSAGES.get(key) or f"Done: the order is now {STATUS_LABELS[moved.status].lower()}.", "success")
    if to == "declined":  # the job is no longer theirs, nor the order page
        return redirect(url_for("production.orders"), code=303)
    return redirect(url_for("production.order", order_id=order_id), code=303)


@bp.post("/orders/<order_id>/messages")
@login_required
def post_message(order_id: str) -> BaseResponse | tuple[str, int]:
    actor = _actor()
    thread_id = services().orders.post(actor, order_id)
    body = request.form.get("body", "")
    files = [f for f in request.files.getlist("attachments") if f.filename]
    try:
        with contextlib.ExitStack() as stack:
            uploads = [stack.enter_context(spooled_upload(f, kind="attachment", visibility="")) for f in files]
            services().messaging.post(actor, thread_id, body, uploads, client())
    except (ValidationFailed, BlobTooLarge) as exc:
        errors = _errors(exc, default="attachments", known=("body", "attachments"))
        return _order_page(order_id, post_values={"body": body}, post_errors=errors, status=status_for(exc))
    flash("Your message is sent." if body.strip() or not files else "Your files are sent.", "success")
    return redirect(url_for("production.order", order_id=order_id) + "#thread", code=303)


@bp.post("/orders/<order_id>/cad")
@login_required
def cad(order_id: str) -> BaseResponse | tuple[str, int]:
    """Production CAD for the assigned manufacturer: straight to the file when there
    is one, else a list of short-lived links. Anyone else gets a 403 page with the
    reason (audited by the use case)."""
    links = services().orders.cad_links(_actor(), order_id, client())
    if len(links) == 1:
        return redirect(links[0][1].url, code=303)
    return render_template("production/cad.html", order_id=order_id, links=links), 200


# -- routing (production managers) -----------------------------------------------------------------


def _board_row(row: Any, urls: Mapping[str, str]) -> dict[str, Any]:
    """What the board shows of one order: its first candidates and the exclusions
    counted by reason (the order's routing page has them all)."""
    decision: RoutingDecision = row.decision
    counts = decision.excluded.counts()  # counted from the reasons alone: no sentence is written
    order = row.order
    return {"order": order, "ref": row.ref, "title": row.design_title, "decision": decision,
            **{name: url.replace(_ID, order.id) for name, url in urls.items()},
            "since": f"{order.submitted_at or order.created_at:%Y-%m-%d %H:%M UTC}",
            "expires": f"{order.offer_expires_at:%Y-%m-%d %H:%M UTC}" if order.offer_expires_at else "",
            "top": decision.candidates[:BOARD_CANDIDATES],
            # The one holding the job already is no choice.
            "overrides": [c for c in decision.candidates[:BOARD_OVERRIDES + 1]
                          if c.manufacturer_id != order.manufacturer_id][:BOARD_OVERRIDES],
            "more": max(0, len(decision.candidates) - BOARD_CANDIDATES),
            "excluded": [(EXCLUSION_LABELS[r], counts[r]) for r in ExclusionReason if counts.get(r)],
            "excluded_total": len(decision.excluded), "holder": _holder(row.order.manufacturer_id, decision)}


def _holder(manufacturer_id: str | None, decision: RoutingDecision) -> str:
    """The name of the manufacturer an order is offered to (every manufacturer is in
    the decision, as a candidate or an exclusion)."""
    if manufacturer_id is None:
        return ""
    for c in decision.candidates:
        if c.manufacturer_id == manufacturer_id:
            return c.name
    excluded = decision.excluded  # by name only: reading a whole exclusion writes every message
    ids = excluded.manufacturer_ids
    return excluded.names[ids.index(manufacturer_id)] if manufacturer_id in ids else "a manufacturer"


@bp.get("/production/routing")
@login_required
def board() -> str:
    """The longest-waiting :data:`BOARD_PAGE` orders (``?all=1``: as many as the use
    case gives). Routing every waiting order against every manufacturer is the cost
    of this page, so it routes only the orders it shows."""
    actor = _actor()
    everything = request.args.get("all") == "1"
    found = services().orders.board(actor) if everything else services().orders.board(actor, limit=BOARD_PAGE + 1)
    more = not everything and len(found) > BOARD_PAGE
    # One url_for per kind of link, not per order (a thousand rows).
    urls = {"order_url": url_for("production.order", order_id=_ID),
            "routing_url": url_for("production.routing", order_id=_ID),
            "assign_url": url_for("production.assign", order_id=_ID)}
    rows = [_board_row(r, urls) for r in (found[:BOARD_PAGE] if more else found)]
    return render_template("production/board.html", rows=rows, more=more, shown=BOARD_CANDIDATES, metals=METALS)


def _routing_page(order_id: str, *, values: Mapping[str, str] | None = None,
                  errors: Mapping[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    actor = _actor()
    decision = services().orders.routing(actor, order_id, client())
    view = services().orders.view(actor, order_id, client())
    makers = services().manufacturers.list(actor)
    by_reason: dict[ExclusionReason, list[Any]] = {}
    for e in decision.excluded:
        by_reason.setdefault(e.reason, []).append(e)
    groups = [(EXCLUSION_LABELS[r], by_reason[r]) for r in ExclusionReason if r in by_reason]
    order = view.order
    # Why someone cannot be chosen even with a reason (the use case refuses them), for the select.
    blocked = {m.user_id: ("not vetted" if m.vetting is not Vetting.VETTED else
                           "NDA does not cover the wanted-by date")
               for m in makers
               if m.vetting is not Vetting.VETTED or not m.nda_valid_through(order.brief.wanted_by)}
    return (
        render_template("production/routing.html", view=view, order=order, decision=decision, groups=groups,
                        makers=makers, values=values or {}, errors=errors or {}, status_labels=STATUS_LABELS,
                        vetting_labels=VETTING_LABELS, metals=METALS, blocked=blocked,
                        assignable=order.status in ASSIGNABLE,
                        best_holds_it=decision.chosen is not None and decision.chosen == order.manufacturer_id),
        status,
    )


@bp.get("/production/orders/<order_id>/routing")
@login_required
def routing(order_id: str) -> tuple[str, int]:
    return _routing_page(order_id)


@bp.post("/production/orders/<order_id>/assign")
@login_required
def assign(order_id: str) -> BaseResponse | tuple[str, int]:
    """Assign to the routing's best (no manufacturer chosen), or override with a
    chosen manufacturer and a written reason."""
    form = request.form
    values = {"manufacturer_id": form.get("manufacturer_id", "").strip(), "reason": form.get("reason", "")}
    if form.get("override") and not values["manufacturer_id"]:
        # The override form with no one chosen is not "assign to the best".
        return _routing_page(order_id, values=values, status=422, errors={
            "manufacturer_id": "Choose the manufacturer to give the job to (or use “Assign to the best”)."})
    try:
        order = services().orders.assign(_actor(), order_id, values["manufacturer_id"] or None,
                                         reason=values["reason"] or None, client=client())
    except (ValidationFailed, Conflict, NotFound) as exc:
        errors = _errors(exc, known=("manufacturer_id", "reason"))
        return _routing_page(order_id, values=values, errors=errors, status=status_for(exc))
    ref = order_id.replace("-", "")[-8:].upper()
    flash(f"Order {ref} is offered to the manufacturer; they have until "
          f"{order.offer_expires_at:%Y-%m-%d %H:%M UTC} to answer." if order.offer_expires_at
          else f"Order {ref} is assigned.", "success")
    target = url_for("production.board") if form.get("back") == "board" else url_for("production.routing",
                                                                                       order_id=order_id)
    return redirect(target, code=303)


# -- manufacturers (production managers) ---------------------------------------------------------------


def _manufacturers_page(*, target: str | None = None, values: Mapping[str, str] | None = None,
                        errors: Mapping[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    actor = _actor()
    vetting = request.args.get("vetting", "") or None
    makers = services().manufacturers.list(actor, vetting=vetting)
    return (
        render_template("production/manufacturers.html", makers=makers, vetting=vetting or "",
                        vetting_labels=VETTING_LABELS, process_labels=PROCESS_LABELS, metals=METALS, target=target,
                        values=values or {}, errors=errors or {}, today=services().deps.clock.now().date()),
        status,
    )


@bp.get("/production/manufacturers")
@login_required
def manufacturers() -> tuple[str, int]:
    return _manufacturers_page()


@bp.post("/production/manufacturers/<user_id>/vet")
@login_required
def vet(user_id: str) -> BaseResponse | tuple[str, int]:
    values = {"nda_signed_on": request.form.get("nda_signed_on", "").strip(),
              "nda_until": request.form.get("nda_until", "").strip()}
    try:
        maker = services().manufacturers.vet(_actor(), user_id, nda_until=values["nda_until"],
                                             nda_signed_on=values["nda_signed_on"] or None, client=client())
    except (ValidationFailed, Conflict, NotFound) as exc:
        return _manufacturers_page(target=user_id, values=values,
                                   errors=_errors(exc, known=("nda_signed_on", "nda_until")),
                                   status=status_for(exc))
    flash(f"{maker.name} is vetted; the NDA runs until {maker.nda_expires_on}.", "success")
    return redirect(url_for("production.manufacturers") + f"#m-{user_id}", code=303)


@bp.post("/production/manufacturers/<user_id>/suspend")
@login_required
def suspend(user_id: str) -> BaseResponse | tuple[str, int]:
    values = {"reason": request.form.get("reason", "")}
    try:
        maker = services().manufacturers.suspend(_actor(), user_id, reason=values["reason"], client=client())
    except (ValidationFailed, Conflict, NotFound) as exc:
        return _manufacturers_page(target=user_id, values=values, errors=_errors(exc, known=("reason",)),
                                   status=status_for(exc))
    flash(f"{maker.name} is suspended: no new jobs, and no production files from now on.", "info")
    return redirect(url_for("production.manufacturers") + f"#m-{user_id}", code=303)


# -- the workshop profile (manufacturers) -----------------------------------------------------------------


def _profile_values(profile: Manufacturer | None) -> dict[str, Any]:
    if profile is None:
        return {"name": "", "processes": [], "metals": [], "min_quantity": "", "max_quantity": "",
                "weekly_capacity": "", "lead_time_days": "", "ships_to": "", "labour_per_piece": "",
                "labour_per_stone": "", "currency": "USD"}
    return {"name": profile.name, "processes": sorted(p.value for p in profile.processes),
            "metals": sorted(profile.metals), **{k: str(getattr(profile, k)) for k in PROFILE_NUMBERS},
            "ships_to": ", ".join(sorted(profile.ships_to)),
            "labour_per_piece": str(profile.labour.per_piece.to_decimal()),
            "labour_per_stone": str(profile.labour.per_stone.to_decimal()),
            "currency": profile.labour.per_piece.currency}


def _profile_page(*, values: Mapping[str, Any] | None = None, errors: Mapping[str, str] | None = None,
                  status: int = 200) -> tuple[str, int]:
    actor = _actor()
    if actor.role is not Role.MANUFACTURER:
        raise Forbidden("The workshop profile is for manufacturer accounts; production managers see every "
                        "workshop under Manufacturers.")
    profile = services().manufacturers.profile(actor, actor.id)
    return (
        render_template("production/profile.html", profile=profile, values=values or _profile_values(profile),
                        errors=errors or {}, process_labels=PROCESS_LABELS, metals=METALS,
                        currencies=sorted(CURRENCY_EXPONENTS), vetting_labels=VETTING_LABELS),
        status,
    )


@bp.get("/manufacturer/profile")
@login_required
def profile() -> tuple[str, int]:
    return _profile_page()


@bp.post("/manufacturer/profile")
@login_required
def save_profile() -> BaseResponse | tuple[str, int]:
    form = request.form
    values: dict[str, Any] = {k: form.get(k, "").strip() for k in (
        "name", *PROFILE_NUMBERS, "ships_to", "labour_per_piece", "labour_per_stone", "currency")}
    values["processes"] = form.getlist("processes")
    values["metals"] = form.getlist("metals")
    inp = ProfileInput(processes=values["processes"], metals=values["metals"],
                       **{k: values[k] for k in PROFILE_NUMBERS},
                       ships_to=[c.strip() for c in values["ships_to"].replace(";", ",").split(",") if c.strip()],
                       labour_per_piece=values["labour_per_piece"], labour_per_stone=values["labour_per_stone"],
                       currency=values["currency"], name=values["name"] or None)
    actor = _actor()
    try:
        services().manufacturers.save_profile(actor, actor.id, inp, client())
    except (ValidationFailed, Conflict, NotFound) as exc:
        known = ("name", "processes", "metals", *PROFILE_NUMBERS, "ships_to", "labour_per_piece",
                 "labour_per_stone", "currency")
        return _profile_page(values=values, errors=_errors(exc, _PROFILE_FIELD, known=known),
                             status=status_for(exc))
    flash("Your workshop profile is saved. Jobs are routed to you by what it says once you are vetted.", "success")
    return redirect(url_for("production.profile"), code=303)


# -- prices (production managers) -------------------------------------------------------------------------

PRICE_SCALARS = ("currency", "effective", "setting_per_stone", "labour_per_piece", "casting_loss",
                 "platform_fee_rate")


def _price_values(table: PriceTable) -> dict[str, Any]:
    def major(minor: int) -> str:
        return str(Money(minor, table.currency).to_decimal())

    return {
        "currency": table.currency, "effective": "",
        "metal": {code: major(table.metal_per_gram[code]) if code in table.metal_per_gram else "" for code in METALS},
        "stone": {t: major(table.stone_per_carat[t]) if t in table.stone_per_carat else "" for t in GEMSTONE_TYPES},
        "setting_per_stone": major(table.setting_per_stone), "labour_per_piece": major(table.labour_per_piece),
        "casting_loss": str(table.casting_loss), "platform_fee_rate": str(table.platform_fee_rate),
    }


def _price_table(values: Mapping[str, Any]) -> PriceTable:
    """The form's major units as the table's minor units; every problem at once."""
    problems: list[ValidationFailed] = []
    currency = str(values["currency"])

    def minor(raw: str, field: str) -> int:
        try:
            amount = Money.parse(raw or "0", currency, field_name=field)
        except ValidationFailed as err:
            problems.append(ValidationFailed(err.message, field=field if err.field != "currency" else "currency"))
            return 0
        if amount.amount_minor < 0:
            problems.append(ValidationFailed("Prices cannot be negative.", field=field))
        return amount.amount_minor

    def fraction(raw: str, field: str) -> Decimal:
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            problems.append(ValidationFailed(f"{raw!r} is not a number; write a fraction such as 0.05.",
                                             field=field))
            return Decimal(0)
        return value

    metals = {code: minor(raw, f"metal-{code}") for code, raw in values["metal"].items() if raw}
    stones = {t: minor(raw, f"stone-{t}") for t, raw in values["stone"].items() if raw}
    setting = minor(values["setting_per_stone"], "setting_per_stone")
    labour = minor(values["labour_per_piece"], "labour_per_piece")
    loss = fraction(values["casting_loss"], "casting_loss")
    fee = fraction(values["platform_fee_rate"], "platform_fee_rate")
    effective = None
    try:
        effective = parse_iso_date(str(values["effective"]), field="effective")
        if effective is None:
            problems.append(ValidationFailed("Give the day the prices take effect (today or later).",
                                             field="effective"))
    except ValidationFailed as err:
        problems.append(err)
    if problems:
        raise ValidationFailed.collect(problems)
    assert effective is not None
    return PriceTable(currency=currency, effective=effective, metal_per_gram=metals, stone_per_carat=stones,
                      setting_per_stone=setting, labour_per_piece=labour, casting_loss=loss,
                      platform_fee_rate=fee)


def _prices_page(*, values: Mapping[str, Any] | None = None, errors: Mapping[str, str] | None = None,
                 status: int = 200) -> tuple[str, int]:
    actor = _actor()
    authorize(actor, Action.PRICES_SET, Resource("prices"))
    table = services().orders.current_prices(actor)
    return (
        render_template("production/prices.html", table=table, values=values or _price_values(table),
                        errors=errors or {}, metals=METALS, gemstones=GEMSTONE_TYPES,
                        currencies=sorted(CURRENCY_EXPONENTS), today=services().deps.clock.now().date()),
        status,
    )


@bp.get("/production/prices")
@login_required
def prices() -> tuple[str, int]:
    return _prices_page()


@bp.post("/production/prices")
@login_required
def set_prices() -> BaseResponse | tuple[str, int]:
    form = request.form
    values: dict[str, Any] = {k: form.get(k, "").strip() for k in PRICE_SCALARS}
    values["metal"] = {code: form.get(f"metal-{code}", "").strip() for code in METALS}
    values["stone"] = {t: form.get(f"stone-{t}", "").strip() for t in GEMSTONE_TYPES}
    known = (*PRICE_SCALARS, *(f"metal-{c}" for c in METALS), *(f"stone-{t}" for t in GEMSTONE_TYPES))
    try:
        table = services().orders.set_prices(_actor(), _price_table(values), client())
    except (ValidationFailed, Conflict) as exc:
        return _prices_page(values=values, errors=_errors(exc, known=known), status=status_for(exc))
    flash(f"The new prices ({table.currency}) take effect on {table.effective.isoformat()}; quotes already fixed "
          "keep theirs.", "success")
    return redirect(url_for("production.prices"), code=303)

