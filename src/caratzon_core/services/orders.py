"""Order use cases (issue #5): briefs and quotes, routing, production under NDA,
the order's timeline and the money.

Every step is one transaction: the order row (locked), its new state, the event
in the order's thread, the notices in the outbox, the ledger entry and payment
instructions, and the audit entry commit together or not at all. The gateway
calls themselves are made afterwards by :meth:`OrderService.settle_payments`
with each instruction's idempotency key.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import date, datetime

import attrs
from attrs import frozen

from caratzon_core.access import Action, Actor, Resource, decide
from caratzon_core.accounts import Role
from caratzon_core.agreements import Agreement, AgreementStatus
from caratzon_core.audit import AuditRecord, Outcome
from caratzon_core.blobs import SignedLink
from caratzon_core.designs import Asset, Design, DesignStatus, Visibility
from caratzon_core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from caratzon_core.geometry import CadAnalysis
from caratzon_core.ledger import (
    EntryKind,
    JournalEntry,
    charge_entry,
    payout_entry,
    reassign_entry,
    refund_entry,
)
from caratzon_core.manufacturers import Manufacturer
from caratzon_core.messaging import Message, MessageKind, ReadMarker, Thread, ThreadKind
from caratzon_core.money import Money
from caratzon_core.notices import NoticeKind, order_step
from caratzon_core.orders import (
    OPEN_STATUSES,
    Brief,
    Order,
    OrderEvent,
    OrderStatus,
    Side,
    accept_job,
    assign,
    cancel,
    check_licence,
    complete,
    deliver,
    dispute,
    order_ref,
    parse_brief,
    qc_result,
    ready_for_qc,
    release_job,
    ship,
    start_production,
    stones_as_designed,
    submit,
)
from caratzon_core.payments import LEASE, InstructionKind, PaymentInstruction, done, failed
from caratzon_core.ports import UnitOfWork
from caratzon_core.quote import DEFAULT_PRICES, PriceTable, Quote, quote
from caratzon_core.routing import ExclusionReason, RoutingDecision, RoutingRequest, check_assignable, route
from caratzon_core.services.audit import AuditTrail
from caratzon_core.services.deps import Client, Deps
from caratzon_core.services.designs import DesignService
from caratzon_core.services.outboxing import enqueue, post_event

# Never overridable: a manufacturer who is not vetted or whose NDA does not cover
# the job never gets it (P20, P28).
HARD_EXCLUSIONS = frozenset({ExclusionReason.NOT_VETTED, ExclusionReason.NDA_NOT_VALID})
BUYER_STEPS = frozenset({"order.submitted", "order.accepted", "order.in_production", "order.qc_failed",
                         "order.shipped", "order.delivered", "order.completed", "order.cancelled",
                         "order.disputed"})


def _as_designed(brief: Brief, design: Design) -> Brief:
    """No stone lines means "as designed": the design's own stones are made (and quoted)."""
    if brief.stones or not design.gemstones:
        return brief
    return attrs.evolve(brief, stones=stones_as_designed(design.gemstones))


@frozen
class BuyerIdentity:
    name: str
    business_name: str | None
    business_address: str | None


@frozen
class OrderView:
    order: Order
    design: Design
    ref: str
    buyer: BuyerIdentity | None  # only for the parties within the order (P19)
    manufacturer_name: str | None
    thread_id: str | None
    timeline: tuple[Message, ...]
    ledger: tuple[JournalEntry, ...]  # production managers and admins only
    payments: tuple[PaymentInstruction, ...]
    my_side: Side | None
    moves: tuple[str, ...]  # the transitions this person may make now


@frozen
class OrderSummary:
    order: Order
    ref: str
    design_title: str
    my_side: Side | None


@frozen
class BoardRow:
    order: Order
    ref: str
    design_title: str
    decision: RoutingDecision


class OrderService:
    def __init__(self, deps: Deps, designs: DesignService) -> None:
        self._d = deps
        self._designs = designs
        self._trail = AuditTrail(deps.clock, deps.signer)

    # -- helpers -------------------------------------------------------------------------

    def _audit(self, uow: UnitOfWork, actor: Actor, action: str, subject: str, client: Client,
               detail: Mapping[str, str] | None = None, outcome: str = Outcome.SUCCESS) -> None:
        self._trail.record(uow, AuditRecord(actor.id, action, subject, outcome, client.address, dict(detail or {})))

    def _deny(self, actor: Actor, action: Action, resource: Resource, client: Client) -> None:
        decision = decide(actor, action, resource)
        if decision.allowed:
            return
        with self._d.uow() as uow:
            self._audit(uow, actor, str(action), f"{resource.kind}:{resource.id or '-'}", client,
                        {"reason": decision.reason}, Outcome.DENIED)
            uow.commit()
        raise Forbidden(decision.reason)

    @staticmethod
    def _resource(order: Order, actor: Actor) -> Resource:
        grantees = {order.designer_id}
        if order.manufacturer_id:
            grantees.add(order.manufacturer_id)
        if actor.role is Role.PRODUCTION_MANAGER:
            grantees.add(actor.id)  # production managers steer every order
        return Resource("order", order.id, order.buyer_id, grantees=frozenset(grantees))

    def _load(self, order_id: str) -> Order:
        with self._d.uow() as uow:
            order = uow.orders.get(order_id)
        if order is None:
            raise NotFound("No such order.")
        return order

    @staticmethod
    def side_of(order: Order, actor: Actor) -> Side | None:
        if actor.id == order.buyer_id:
            return Side.BUYER
        if actor.role in (Role.PRODUCTION_MANAGER, Role.ADMIN):
            return Side.PRODUCTION
        if actor.role is Role.MANUFACTURER and actor.id == order.manufacturer_id:
            return Side.MANUFACTURER
        return None

    def _prices(self, uow: UnitOfWork, on: date) -> PriceTable:
        return uow.prices.current(on) or DEFAULT_PRICES

    def _url(self, order_id: str) -> str:
        return f"{self._d.settings.base_url.rstrip('/')}/orders/{order_id}"

    # -- prices ----------------------------------------------------------------------------

    def current_prices(self, actor: Actor) -> PriceTable:
        with self._d.uow() as uow:
            return self._prices(uow, self._d.clock.now().date())

    def set_prices(self, actor: Actor, table: PriceTable, client: Client = Client()) -> PriceTable:
        self._deny(actor, Action.PRICES_SET, Resource("prices"), client)
        if table.effective < self._d.clock.now().date():
            raise ValidationFailed("Prices take effect today or later; past quotes keep their prices.",
                                   field="effective")
        with self._d.uow() as uow:
            uow.prices.add(table)
            self._audit(uow, actor, "prices.set", f"prices:{table.effective.isoformat()}", client,
                        {"currency": table.currency, "platform_fee_rate": str(table.platform_fee_rate)})
            uow.commit()
        return table

    # -- drafting and quoting ---------------------------------------------------------------

    def _licensed(self, uow: UnitOfWork, actor: Actor, agreement_id: str) -> tuple[Agreement, Design]:
        agreement = uow.agreements.get(str(agreement_id or ""))
        if agreement is None or agreement.buyer_id != actor.id:
            raise NotFound("No such licence agreement of yours.", field="agreement_id")
        if agreement.status is not AgreementStatus.ACTIVE:
            raise Conflict(f"This licence agreement is {agreement.status.value}; no pieces can be ordered under it.",
                           field="agreement_id")
        design = uow.designs.get(agreement.design_id)
        if design is None or design.status is DesignStatus.REMOVED:
            raise Conflict("The licensed design is no longer available.", field="agreement_id")
        return agreement, design

    def _analysis(self, uow: UnitOfWork, design_id: str) -> CadAnalysis | None:
        """The latest measured CAD file's analysis (production files included)."""
        cad = [a for a in uow.assets.list_for_design(design_id) if a.analysis is not None]
        measured = [a for a in cad if a.analysis is not None and a.analysis.metrics is not None]
        chosen = (measured or cad)[-1] if (measured or cad) else None
        return chosen.analysis if chosen is not None else None

    def quote_for(self, actor: Actor, agreement_id: str, brief: Mapping[str, object],
                  client: Client = Client()) -> Quote:
        """The live quote for a brief under a licence: checked, priced, nothing stored."""
        self._deny(actor, Action.ORDER_CREATE, Resource("order", owner_id=actor.id), client)
        today = self._d.clock.now().date()
        parsed = parse_brief(brief, today=today)
        with self._d.uow() as uow:
            agreement, design = self._licensed(uow, actor, agreement_id)
            parsed = _as_designed(parsed, design)
            check_licence(parsed, agreement.terms, units_used=uow.orders.units_ordered(agreement.id),
                          design_metals=design.metals, today=today, design_stones=stones_as_designed(design.gemstones))
            return quote(parsed, self._analysis(uow, design.id), self._prices(uow, today),
                         royalty_per_unit=agreement.terms.fees.royalty_per_unit)

    def create(self, actor: Actor, agreement_id: str, brief: Mapping[str, object], *, submit_now: bool = True,
               client: Client = Client()) -> Order:
        """Draft an order under a licence (and, by default, submit it at the quoted price)."""
        self._deny(actor, Action.ORDER_CREATE, Resource("order", owner_id=actor.id), client)
        today = self._d.clock.now().date()
        parsed = parse_brief(brief, today=today)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            agreement, design = self._licensed(uow, actor, agreement_id)
            parsed = _as_designed(parsed, design)
            check_licence(parsed, agreement.terms, units_used=uow.orders.units_ordered(agreement.id),
                          design_metals=design.metals, today=today, design_stones=stones_as_designed(design.gemstones))
            order = Order(id=self._d.ids.new_id(), buyer_id=actor.id, design_id=design.id,
                          designer_id=design.designer_id, agreement_id=agreement.id, brief=parsed,
                          status=OrderStatus.DRAFT, created_at=now, updated_at=now)
            uow.orders.add(order)
            self._audit(uow, actor, "order.create", f"order:{order.id}", client,
                        {"agreement": agreement.id, "quantity": str(parsed.quantity)})
            uow.commit()
        return self.submit(actor, order.id, client) if submit_now else order

    def submit(self, actor: Actor, order_id: str, client: Client = Client()) -> Order:
        """Commit to the quote. Units are counted under the design's lock, so two
        orders racing for the last units of a capped licence cannot both pass."""
        order = self._load(order_id)
        self._deny(actor, Action.ORDER_VIEW, self._resource(order, actor), client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            order = self._locked(uow, order_id)
            side = self._require_side(order, actor)
            agreement = uow.agreements.get(order.agreement_id)
            design = uow.designs.get(order.design_id)
            if agreement is None or design is None:
                raise Conflict("The licence or design of this order is gone.", field="agreement_id")
            uow.agreements.lock_design(design.id)
            check_licence(order.brief, agreement.terms, units_used=uow.orders.units_ordered(agreement.id),
                          design_metals=design.metals, today=now.date(),
                          design_stones=stones_as_designed(design.gemstones))
            priced = quote(order.brief, self._analysis(uow, design.id),
                           self._prices(uow, now.date()), royalty_per_unit=agreement.terms.fees.royalty_per_unit)
            moved, event = submit(order, side, actor.id, now, quote=priced)
            thread = Thread(id=self._d.ids.new_id(), kind=ThreadKind.ORDER, title=f"Order {order_ref(order.id)}: "
                            f"{design.title}", created_by=actor.id, created_at=now,
                            participants=frozenset({order.buyer_id, order.designer_id}), subject_id=order.id)
            uow.threads.add(thread)
            self._record(uow, actor, moved, event, client, design=design, total=priced.total)
            uow.commit()
        if self._d.settings.auto_route:
            # No manufacturer may qualify yet: then the order waits on the routing board.
            with contextlib.suppress(Conflict, NotFound, ValidationFailed):
                moved = self.auto_route_one(Actor.cli_operator("auto-routing"), moved.id)
        return moved

    # -- the shared step ------------------------------------------------------------------------

    def _locked(self, uow: UnitOfWork, order_id: str) -> Order:
        order = uow.orders.get_for_update(order_id)
        if order is None:
            raise NotFound("No such order.")
        return order

    def _require_side(self, order: Order, actor: Actor) -> Side:
        if actor.operator:
            return Side.PRODUCTION
        side = self.side_of(order, actor)
        if side is None:
            raise Forbidden("Only the order's buyer, the assigned manufacturer and production managers may act "
                            "on an order.")
        return side

    def _thread(self, uow: UnitOfWork, order: Order) -> Thread | None:
        return uow.threads.for_subject(ThreadKind.ORDER, order.id)

    def _record(self, uow: UnitOfWork, actor: Actor, order: Order, event: OrderEvent, client: Client, *,
                design: Design | None = None, **extra: object) -> None:
        """Store the moved order and everything that goes with the step."""
        uow.orders.update(order)
        now = event.at
        data = dict(event.data)
        thread = self._thread(uow, order)
        if thread is not None:
            post_event(uow, self._d.ids, thread_id=thread.id, event=event.name,
                       data={**data, "from": event.from_status.value, "to": event.to_status.value,
                             "by": event.side.value}, now=now)
        design = design or uow.designs.get(order.design_id)
        title = design.title if design else ""
        ref = order_ref(order.id)
        if event.name in BUYER_STEPS:
            buyer = uow.users.get(order.buyer_id)
            if buyer is not None:
                enqueue(uow, self._d.ids, dedupe_key=f"{event.name}:{order.id}:{now.isoformat()}:{buyer.id}",
                        kind=NoticeKind.ORDER_UPDATE, to=buyer,
                        values={"order_ref": ref, "design_title": title, "url": self._url(order.id),
                                "step": order_step(event.name, buyer.language.value)}, now=now)
        if event.name in ("order.routed", "order.reassigned") and order.manufacturer_id:
            maker = uow.users.get(order.manufacturer_id)
            if maker is not None and order.offer_expires_at is not None:
                enqueue(uow, self._d.ids, dedupe_key=f"job:{order.id}:{order.manufacturer_id}:{now.isoformat()}",
                        kind=NoticeKind.JOB_OFFERED, to=maker,
                        values={"order_ref": ref, "design_title": title, "url": self._url(order.id),
                                "quantity": str(order.brief.quantity),
                                "expires_at": order.offer_expires_at.strftime("%Y-%m-%d %H:%M UTC")}, now=now)
        detail = {"from": event.from_status.value, "to": event.to_status.value, "side": event.side.value, **data}
        detail.update({k: str(v) for k, v in extra.items() if v is not None})
        self._audit(uow, actor, event.name, f"order:{order.id}", client, detail)

    # -- routing ----------------------------------------------------------------------------------

    def _request(self, uow: UnitOfWork, order: Order) -> RoutingRequest:
        budget = order.quote.line("labour").per_piece if order.quote is not None else None
        return RoutingRequest(order_id=order.id, processes=order.brief.processes(), metal=order.brief.alloy,
                              quantity=order.brief.quantity, ship_to=order.brief.ship_to,
                              wanted_by=order.brief.wanted_by, excluded=order.declined_by, labour_budget=budget)

    def _manufacturers(self, uow: UnitOfWork, order: Order | None = None) -> list[Manufacturer]:
        """Everyone with their live load; the order being (re)considered does not count
        against the workshop that holds it."""
        loads = uow.orders.open_load()
        if order is not None and order.manufacturer_id and order.in_production_window:
            loads[order.manufacturer_id] = loads.get(order.manufacturer_id, 0) - order.brief.quantity
        everyone = uow.manufacturers.list()
        if not loads:
            return everyone
        return [attrs.evolve(m, current_load=max(0, loads[m.user_id])) if m.user_id in loads else m
                for m in everyone]

    def routing(self, actor: Actor, order_id: str, client: Client = Client()) -> RoutingDecision:
        """Every manufacturer ranked with the parts of its score, and every exclusion
        with its reason."""
        self._deny(actor, Action.ORDER_ROUTE, Resource("order", order_id), client)
        with self._d.uow() as uow:
            order = uow.orders.get(order_id)
            if order is None:
                raise NotFound("No such order.")
            return route(self._request(uow, order), self._manufacturers(uow, order), self._d.clock.now())

    def board(self, actor: Actor, *, limit: int = 1000) -> list[BoardRow]:
        """The routing board: orders awaiting routing or a manufacturer's answer, each
        with its ranked candidates (one read of the manufacturers for the whole board)."""
        self._deny(actor, Action.ORDER_ROUTE, Resource("order"), Client())
        now = self._d.clock.now()
        with self._d.uow() as uow:
            orders = uow.orders.list_by_status(frozenset({OrderStatus.SUBMITTED, OrderStatus.ROUTED}), limit=limit)
            makers = self._manufacturers(uow)
            titles = {d: (design.title if (design := uow.designs.get(d)) else "")
                      for d in {o.design_id for o in orders}}
            return [BoardRow(o, order_ref(o.id), titles[o.design_id], route(self._request(uow, o), makers, now))
                    for o in orders]

    def assign(self, actor: Actor, order_id: str, manufacturer_id: str | None = None, *, reason: str | None = None,
               client: Client = Client()) -> Order:
        """Offer the job to the routing's choice, or to ``manufacturer_id``. Choosing
        anyone but the routing's best is an override: it needs a written reason and
        is audited; a manufacturer who is not vetted or whose NDA does not cover the
        job is refused even then."""
        self._deny(actor, Action.ORDER_ROUTE, Resource("order", order_id), client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            order = self._locked(uow, order_id)
            makers = self._manufacturers(uow, order)
            request = self._request(uow, order)
            decision = route(request, makers, now)
            target = manufacturer_id or decision.chosen
            if target is None:
                raise Conflict(decision.reason, field="manufacturer_id")
            chosen = next((m for m in makers if m.user_id == target), None)
            if chosen is None:
                raise NotFound("No such manufacturer.", field="manufacturer_id")
            exclusion = check_assignable(chosen, request, now)
            override = target != decision.chosen
            if exclusion is not None and exclusion.reason in HARD_EXCLUSIONS:
                raise Conflict(f"{exclusion.message} This cannot be overridden.", field="manufacturer_id")
            text = (reason or "").strip() or None
            if override and text is None:
                why = exclusion.message if exclusion else "The routing ranks another manufacturer first."
                raise ValidationFailed(f"{why} Overriding the routing needs a written reason.", field="reason")
            previous = order.manufacturer_id
            moved, event = assign(order, target, Side.PRODUCTION, actor.id, now,
                                  ttl=self._d.settings.job_offer_ttl, reason=text)
            self._after_reassign(uow, order, moved, previous, now)
            self._record(uow, actor, moved, event, client, override="yes" if override else None,
                         excluded_for=exclusion.reason.value if exclusion else None,
                         rank=next((str(c.rank) for c in decision.candidates if c.manufacturer_id == target), None))
            uow.commit()
        return moved

    def _after_reassign(self, uow: UnitOfWork, before: Order, after: Order, previous: str | None,
                        now: datetime) -> None:
        """A reassigned job: the old manufacturer leaves the order's thread (and with
        the assignment loses every access at once); an open payable moves over."""
        if previous is None or previous == after.manufacturer_id:
            return
        thread = self._thread(uow, before)
        if thread is not None:
            uow.threads.remove_participant(thread.id, previous)
        entries = uow.ledger.for_order(before.id)
        if entries and after.manufacturer_id:
            moved = reassign_entry(self._d.ids.new_id(), before.id, entries[0].currency,
                                   uow.ledger.balances_for_order(before.id), old=previous,
                                   new=after.manufacturer_id, seq=len(entries), at=now)
            if moved is not None:
                uow.ledger.add(moved)

    def auto_route_one(self, actor: Actor, order_id: str) -> Order:
        return self.assign(actor, order_id)

    def auto_route(self, actor: Actor, client: Client = Client()) -> int:
        """The worker: route every submitted order that has a qualified manufacturer."""
        self._deny(actor, Action.ORDER_ROUTE, Resource("order"), client)
        with self._d.uow() as uow:
            waiting = [o.id for o in uow.orders.list_by_status(frozenset({OrderStatus.SUBMITTED}))]
        routed = 0
        for order_id in waiting:
            try:
                self.assign(actor, order_id, client=client)
                routed += 1
            except (Conflict, NotFound, ValidationFailed):
                continue  # nobody qualifies (or someone else routed it first)
        return routed

    # -- moving an order ---------------------------------------------------------------------------

    def transition(self, actor: Actor, order_id: str, to: str, *, reason: str | None = None,
                   carrier: str | None = None, tracking: str | None = None, client: Client = Client()) -> Order:
        """One step of the order, by whoever may make it (the state machine decides)."""
        return self._step(actor, order_id, to, reason=reason, carrier=carrier, tracking=tracking, client=client)

    def _step(self, actor: Actor, order_id: str, to: str, *, reason: str | None = None, carrier: str | None = None,
              tracking: str | None = None, client: Client = Client(), system: bool = False) -> Order:
        order = self._load(order_id)
        self._deny(actor, Action.ORDER_VIEW, self._resource(order, actor), client)
        if to == "submitted" and order.status is OrderStatus.DRAFT:
            return self.submit(actor, order_id, client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            order = self._locked(uow, order_id)
            side = Side.SYSTEM if system else self._require_side(order, actor)
            previous = order.manufacturer_id
            moved, event = self._move(uow, order, side, actor, to, now, reason=reason, carrier=carrier,
                                      tracking=tracking)
            self._money(uow, order, moved, event, now)
            if event.name in ("order.declined", "order.offer_lapsed") and previous:
                thread = self._thread(uow, order)
                if thread is not None:
                    uow.threads.remove_participant(thread.id, previous)
            if event.name == "order.accepted" and moved.manufacturer_id:
                thread = self._thread(uow, order)
                if thread is not None:
                    uow.threads.add_participant(thread.id, moved.manufacturer_id)
            self._record(uow, actor, moved, event, client)
            uow.commit()
        if moved.status is OrderStatus.SUBMITTED and self._d.settings.auto_route:
            with contextlib.suppress(Conflict, NotFound, ValidationFailed):
                moved = self.auto_route_one(Actor.cli_operator("auto-routing"), moved.id)
        return moved

    def _move(self, uow: UnitOfWork, order: Order, side: Side, actor: Actor, to: str, now: datetime, *,
              reason: str | None, carrier: str | None, tracking: str | None) -> tuple[Order, OrderEvent]:
        if to == "accepted":
            maker = uow.manufacturers.get(actor.id) if side is Side.MANUFACTURER else None
            if side is Side.MANUFACTURER and (maker is None or not maker.may_handle_production_files(now.date())
                                              or not maker.nda_valid_through(order.brief.wanted_by)):
                raise Forbidden("Only a vetted manufacturer whose NDA covers the job until its wanted-by date may "
                                "accept it.")
            return accept_job(order, side, actor.id, now)
        if to in ("declined", "submitted"):
            return release_job(order, side, actor.id, now, reason=reason)
        if to == "in_production" and order.status is OrderStatus.QUALITY_CHECK:
            return qc_result(order, False, side, actor.id, now, reason=reason)
        if to == "in_production":
            return start_production(order, side, actor.id, now)
        if to == "quality_check":
            return ready_for_qc(order, side, actor.id, now)
        if to == "qc_passed":
            return qc_result(order, True, side, actor.id, now)
        if to == "shipped":
            return ship(order, side, actor.id, now, carrier=carrier or "", tracking=tracking or "")
        if to == "delivered":
            return deliver(order, side, actor.id, now)
        if to == "completed":
            return complete(order, side, actor.id, now)
        if to == "disputed":
            return dispute(order, side, actor.id, now, reason=reason)
        if to == "cancelled":
            return cancel(order, side, actor.id, now, reason=reason)
        allowed = "accepted, declined, in_production, quality_check, qc_passed, shipped, delivered, completed, " \
                  "disputed, cancelled"
        raise ValidationFailed(f"Unknown step {to!r}; expected one of: {allowed}.", field="to")

    def _money(self, uow: UnitOfWork, before: Order, after: Order, event: OrderEvent, now: datetime) -> None:
        """The ledger entry and gateway instruction a step brings (same transaction)."""
        entries = uow.ledger.for_order(before.id)
        charged = any(e.kind is EntryKind.CHARGE for e in entries)
        refunded = any(e.kind is EntryKind.REFUND for e in entries)
        if event.name == "order.accepted" and not charged and after.quote is not None and after.manufacturer_id:
            entry = charge_entry(self._d.ids.new_id(), after.id, quote=after.quote, buyer_id=after.buyer_id,
                                 designer_id=after.designer_id, manufacturer_id=after.manufacturer_id, at=now)
            uow.ledger.add(entry)
            self._instruct(uow, after, InstructionKind.CHARGE, after.quote.total, after.buyer_id,
                           entry.idempotency_key, now)
        elif event.name == "order.cancelled" and charged and not refunded:
            balances = uow.ledger.balances_for_order(before.id)
            entry = refund_entry(self._d.ids.new_id(), after.id, entries[0].currency, balances, now,
                                 buyer_id=after.buyer_id)
            uow.ledger.add(entry)
            self._instruct(uow, after, InstructionKind.REFUND, Money(entry.amount, entry.currency), after.buyer_id,
                           entry.idempotency_key, now)
        elif event.name == "order.completed" and charged:
            balances = uow.ledger.balances_for_order(before.id)
            payables = {k: v for k, v in balances.items() if k.startswith("payable:")}
            entry = payout_entry(self._d.ids.new_id(), after.id, entries[0].currency, payables, now)
            uow.ledger.add(entry)
            for account, balance in sorted(payables.items()):
                if balance < 0:
                    party = account.rsplit(":", 1)[-1]
                    self._instruct(uow, after, InstructionKind.TRANSFER, Money(-balance, entry.currency), party,
                                   f"{entry.idempotency_key}:{account}", now)

    def _instruct(self, uow: UnitOfWork, order: Order, kind: InstructionKind, amount: Money, party: str, key: str,
                  now: datetime) -> None:
        uow.payments.add(PaymentInstruction(id=self._d.ids.new_id(), order_id=order.id, kind=kind, amount=amount,
                                            party_id=party, idempotency_key=key, created_at=now))

    def release_lapsed(self, actor: Actor, client: Client = Client()) -> int:
        """The worker: job offers that lapsed go back to routing without that manufacturer."""
        self._deny(actor, Action.WORKER_RUN, Resource("order"), client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            lapsed = uow.orders.lapsed_offers(now)
        released = 0
        for order_id in lapsed:
            try:
                self._step(actor, order_id, "submitted", client=client, system=True)
                released += 1
            except (Conflict, NotFound):
                continue  # answered in the meantime
        return released

    # -- money to the gateway --------------------------------------------------------------------------

    def settle_payments(self, actor: Actor, *, limit: int = 200) -> dict[str, int]:
        """Make the pending gateway calls, each with its idempotency key."""
        self._deny(actor, Action.WORKER_RUN, Resource("payments"), Client())
        gateway = self._d.payments
        if gateway is None:
            raise RuntimeError("no payment gateway is configured")
        made = failures = 0
        now = self._d.clock.now()
        with self._d.uow() as uow:
            claimed = uow.payments.claim_due(now, now + LEASE, limit=limit)
            uow.commit()
        for ins in claimed:
            try:
                if ins.kind is InstructionKind.CHARGE:
                    external = gateway.charge(amount_minor=ins.amount.amount_minor, currency=ins.amount.currency,
                                              customer=ins.party_id, idempotency_key=ins.idempotency_key,
                                              description=f"Caratzon order {order_ref(ins.order_id)}")
                elif ins.kind is InstructionKind.REFUND:
                    with self._d.uow() as uow:
                        charge = next((p for p in uow.payments.for_order(ins.order_id)
                                       if p.kind is InstructionKind.CHARGE), None)
                    if charge is None or charge.external_id is None:
                        raise RuntimeError("the charge has not been made yet; refunding later")
                    external = gateway.refund(charge_id=charge.external_id, amount_minor=ins.amount.amount_minor,
                                              currency=ins.amount.currency, idempotency_key=ins.idempotency_key)
                else:
                    external = gateway.transfer(amount_minor=ins.amount.amount_minor, currency=ins.amount.currency,
                                                destination=ins.party_id, idempotency_key=ins.idempotency_key,
                                                transfer_group=f"order:{ins.order_id}")
                outcome = done(ins, external)
                made += 1
            except Exception as err:  # recorded, retried with backoff
                outcome = failed(ins, f"{type(err).__name__}: {err}", self._d.clock.now())
                failures += 1
            with self._d.uow() as uow:
                uow.payments.update(outcome)
                uow.commit()
        return {"made": made, "failed": failures}

    # -- production files ----------------------------------------------------------------------------

    def cad_links(self, actor: Actor, order_id: str, client: Client = Client()) -> list[tuple[Asset, SignedLink]]:
        """Short-lived production-CAD links for the assigned manufacturer only, while
        vetted with a valid NDA and while the order is between acceptance and
        shipping (P20, P28); each issuance audited with the order id."""
        order = self._load(order_id)
        self._deny(actor, Action.ORDER_VIEW, self._resource(order, actor), client)
        today = self._d.clock.now().date()
        with self._d.uow() as uow:
            maker = uow.manufacturers.get(actor.id) if actor.role is Role.MANUFACTURER else None
            assets = [a for a in uow.assets.list_for_design(order.design_id) if a.visibility is Visibility.PRODUCTION]
        problem = None
        if actor.role is not Role.MANUFACTURER or actor.id != order.manufacturer_id:
            problem = "Production CAD files go only to the manufacturer assigned to this order."
        elif not order.in_production_window:
            problem = ("Production CAD files are available from the job's acceptance until the pieces ship; this "
                       f"order is {order.status.value.replace('_', ' ')}.")
        elif maker is None or not maker.may_handle_production_files(today):
            problem = "Production CAD files need a vetted manufacturer with a valid NDA."
        if problem is not None:
            with self._d.uow() as uow:
                self._audit(uow, actor, "order.cad_links", f"order:{order.id}", client, {"reason": problem},
                            Outcome.DENIED)
                uow.commit()
            raise Forbidden(problem)
        if not assets:
            raise NotFound("The designer has not uploaded production CAD files for this design.")
        return [self._designs.asset_link(actor, a.id, client, grantees=frozenset({actor.id}),
                                         context={"order": order.id}) for a in assets]

    # -- reading ------------------------------------------------------------------------------------

    def view(self, actor: Actor, order_id: str, client: Client = Client()) -> OrderView:
        order = self._load(order_id)
        self._deny(actor, Action.ORDER_VIEW, self._resource(order, actor), client)
        side = self.side_of(order, actor)
        with self._d.uow() as uow:
            design = uow.designs.get(order.design_id)
            buyer = uow.users.get(order.buyer_id)
            maker = uow.manufacturers.get(order.manufacturer_id) if order.manufacturer_id else None
            thread = self._thread(uow, order)
            timeline = tuple(m for m in uow.threads.messages(thread.id) if m.kind is MessageKind.EVENT) \
                if thread else ()
            steering = actor.role in (Role.PRODUCTION_MANAGER, Role.ADMIN)
            ledger = tuple(uow.ledger.for_order(order.id)) if steering else ()
            payments = tuple(uow.payments.for_order(order.id)) if steering else ()
            if thread is not None and actor.id in thread.participants and timeline:
                uow.threads.mark_read(ReadMarker(thread.id, actor.id, max(m.created_at for m in timeline)))
                uow.commit()
        if design is None:
            raise NotFound("No such order.")
        # P19: the buyer's identity within the order, for its parties only.
        identity = BuyerIdentity(buyer.name, buyer.business_name, buyer.business_address) if buyer else None
        return OrderView(order=order, design=design, ref=order_ref(order.id), buyer=identity,
                         manufacturer_name=maker.name if maker else None,
                         thread_id=thread.id if thread else None, timeline=timeline, ledger=ledger,
                         payments=payments, my_side=side, moves=self.moves_for(order, side))

    @staticmethod
    def moves_for(order: Order, side: Side | None) -> tuple[str, ...]:
        """The steps worth offering this person as buttons now."""
        if side is None:
            return ()
        s = order.status
        options: list[str] = []
        if side is Side.BUYER:
            if s is OrderStatus.DRAFT:
                options.append("submitted")
            if s is OrderStatus.SHIPPED:
                options.append("delivered")
            if s is OrderStatus.DELIVERED:
                options += ["completed", "disputed"]
        if side is Side.MANUFACTURER:
            options += {OrderStatus.ROUTED: ["accepted", "declined"], OrderStatus.ACCEPTED: ["in_production"],
                        OrderStatus.IN_PRODUCTION: ["quality_check"],
                        OrderStatus.QUALITY_CHECK: ["shipped"] if order.qc_passed_at else []}.get(s, [])
        if side is Side.PRODUCTION:
            if s is OrderStatus.QUALITY_CHECK and order.qc_passed_at is None:
                options += ["qc_passed", "in_production"]
            if s is OrderStatus.SHIPPED:
                options.append("delivered")
            if s is OrderStatus.DISPUTED:
                options.append("completed")
        if s in (OrderStatus.DRAFT, OrderStatus.SUBMITTED, OrderStatus.ROUTED, OrderStatus.ACCEPTED) \
                and side in (Side.BUYER, Side.PRODUCTION):
            options.append("cancelled")
        return tuple(options)

    def my_orders(self, actor: Actor) -> list[OrderSummary]:
        with self._d.uow() as uow:
            orders = uow.orders.list_for_party(actor.id)
            titles = {d: (design.title if (design := uow.designs.get(d)) else "")
                      for d in {o.design_id for o in orders}}
        return [OrderSummary(o, order_ref(o.id), titles[o.design_id], self.side_of(o, actor)) for o in orders]

    def open_orders(self, actor: Actor) -> list[OrderSummary]:
        """Production managers: every open order."""
        self._deny(actor, Action.ORDER_ROUTE, Resource("order"), Client())
        with self._d.uow() as uow:
            orders = uow.orders.list_by_status(OPEN_STATUSES)
            titles = {d: (design.title if (design := uow.designs.get(d)) else "")
                      for d in {o.design_id for o in orders}}
        return [OrderSummary(o, order_ref(o.id), titles[o.design_id], Side.PRODUCTION) for o in orders]

    def post(self, actor: Actor, order_id: str) -> str:
        """The order's thread id, for messages between its participants."""
        order = self._load(order_id)
        self._deny(actor, Action.ORDER_VIEW, self._resource(order, actor), Client())
        with self._d.uow() as uow:
            thread = self._thread(uow, order)
        if thread is None:
            raise Conflict("The order has no conversation until it is submitted.")
        return thread.id
