"""In-memory fakes of the manufacturer, order, ledger, price and payment
repositories (issue #5); the fake unit of work binds them to its state."""

from __future__ import annotations

import builtins
from datetime import UTC, date, datetime

import attrs

from caratzon_core.errors import Conflict, NotFound
from caratzon_core.ledger import JournalEntry
from caratzon_core.manufacturers import CompletedJob, Manufacturer, PartnerScore, Vetting
from caratzon_core.orders import PRODUCTION_STATUSES, Order, OrderStatus
from caratzon_core.payments import PaymentInstruction
from caratzon_core.quote import PriceTable


@attrs.define
class OrderState:
    manufacturers: dict[str, Manufacturer] = attrs.Factory(dict)
    orders: dict[str, Order] = attrs.Factory(dict)
    entries: list[JournalEntry] = attrs.Factory(list)
    prices: dict[date, PriceTable] = attrs.Factory(dict)
    payments: dict[str, PaymentInstruction] = attrs.Factory(dict)


class Manufacturers:
    def __init__(self, s: OrderState) -> None:
        self.s = s

    def add(self, manufacturer: Manufacturer) -> None:
        if manufacturer.user_id in self.s.manufacturers:
            raise Conflict("This account already has a manufacturer profile.")
        self.s.manufacturers[manufacturer.user_id] = manufacturer

    def get(self, user_id: str) -> Manufacturer | None:
        return self.s.manufacturers.get(user_id)

    def update(self, manufacturer: Manufacturer) -> None:
        stored = self.s.manufacturers.get(manufacturer.user_id)
        if stored is None:
            raise NotFound("No such manufacturer.")
        # The score is the daily job's (set_scores): a profile edit never writes it back.
        self.s.manufacturers[manufacturer.user_id] = attrs.evolve(manufacturer, score=stored.score)

    def list(self, *, vetting: Vetting | None = None, limit: int = 20_000) -> builtins.list[Manufacturer]:
        found = [m for m in self.s.manufacturers.values() if vetting is None or m.vetting is vetting]
        return sorted(found, key=lambda m: (m.name, m.user_id))[:limit]

    def set_scores(self, scores: dict[str, PartnerScore]) -> int:
        changed = 0
        for user_id, score in scores.items():
            m = self.s.manufacturers.get(user_id)
            if m is not None and m.score != score:
                self.s.manufacturers[user_id] = attrs.evolve(m, score=score)
                changed += 1
        return changed


class Orders:
    def __init__(self, s: OrderState) -> None:
        self.s = s

    def add(self, order: Order) -> None:
        if order.id in self.s.orders:
            raise Conflict("Duplicate order id.")
        self.s.orders[order.id] = order

    def get(self, order_id: str) -> Order | None:
        return self.s.orders.get(order_id)

    def get_for_update(self, order_id: str) -> Order | None:
        return self.get(order_id)

    def update(self, order: Order) -> None:
        if order.id not in self.s.orders:
            raise NotFound("No such order.")
        self.s.orders[order.id] = order

    def list_for_party(self, user_id: str, *, limit: int = 200) -> builtins.list[Order]:
        mine = [o for o in self.s.orders.values()
                if user_id in (o.buyer_id, o.designer_id, o.manufacturer_id)]
        return sorted(mine, key=lambda o: (o.updated_at, o.id), reverse=True)[:limit]

    def list_by_status(self, statuses: frozenset[OrderStatus], *, limit: int = 2000) -> builtins.list[Order]:
        found = [o for o in self.s.orders.values() if o.status in statuses]
        return sorted(found, key=lambda o: (o.submitted_at or o.created_at, o.id))[:limit]

    def units_ordered(self, agreement_id: str) -> int:
        return sum(o.brief.quantity for o in self.s.orders.values() if o.agreement_id == agreement_id
                   and o.status not in (OrderStatus.DRAFT, OrderStatus.CANCELLED))

    def lapsed_offers(self, now: datetime, *, limit: int = 500) -> builtins.list[str]:
        return sorted(o.id for o in self.s.orders.values() if o.status is OrderStatus.ROUTED
                      and o.offer_expires_at is not None and o.offer_expires_at <= now)[:limit]

    def open_load(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.s.orders.values():
            if o.status in PRODUCTION_STATUSES and o.manufacturer_id:
                out[o.manufacturer_id] = out.get(o.manufacturer_id, 0) + o.brief.quantity
        return out

    def completed_jobs(self, since: datetime) -> dict[str, builtins.list[CompletedJob]]:
        out: dict[str, list[CompletedJob]] = {}
        for o in sorted(self.s.orders.values(), key=lambda o: o.id):
            if (o.manufacturer_id and o.accepted_at is not None and o.offered_at is not None
                    and o.accepted_at >= since and (o.delivered_at is not None or o.qc_failures)):
                out.setdefault(o.manufacturer_id, []).append(CompletedJob(
                    accepted_at=o.accepted_at, offered_at=o.offered_at, due=o.brief.wanted_by,
                    delivered_on=o.delivered_at.astimezone(UTC).date() if o.delivered_at else None,
                    qc_failed=o.qc_failures > 0))
        return out


class Ledger:
    def __init__(self, s: OrderState) -> None:
        self.s = s

    def add(self, entry: JournalEntry) -> None:
        if any(e.idempotency_key == entry.idempotency_key for e in self.s.entries):
            raise Conflict("This money event was already recorded.", field="idempotency_key")
        if any(e.id == entry.id for e in self.s.entries):
            raise Conflict("Duplicate ledger entry id.")
        self.s.entries.append(entry)

    def for_order(self, order_id: str) -> builtins.list[JournalEntry]:
        return sorted((e for e in self.s.entries if e.order_id == order_id), key=lambda e: (e.at, e.id))

    def balances_for_order(self, order_id: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.for_order(order_id):
            for line in e.lines:
                out[line.account] = out.get(line.account, 0) + line.debit - line.credit
        return out


class Prices:
    def __init__(self, s: OrderState) -> None:
        self.s = s

    def current(self, on: date) -> PriceTable | None:
        days = [d for d in self.s.prices if d <= on]
        return self.s.prices[max(days)] if days else None

    def add(self, table: PriceTable) -> None:
        self.s.prices[table.effective] = table


class Payments:
    def __init__(self, s: OrderState) -> None:
        self.s = s

    def add(self, instruction: PaymentInstruction) -> bool:
        if any(p.idempotency_key == instruction.idempotency_key for p in self.s.payments.values()):
            return False
        if instruction.id in self.s.payments:
            raise Conflict("Duplicate payment instruction id.")
        self.s.payments[instruction.id] = instruction
        return True

    def claim_due(self, now: datetime, lease_until: datetime, *,
                  limit: int = 100) -> builtins.list[PaymentInstruction]:
        due = sorted((p for p in self.s.payments.values() if p.due(now)), key=lambda p: (p.created_at, p.id))
        claimed = [attrs.evolve(p, claimed_until=lease_until) for p in due[:limit]]
        for p in claimed:
            self.s.payments[p.id] = p
        return claimed

    def update(self, instruction: PaymentInstruction) -> None:
        if instruction.id not in self.s.payments:
            raise NotFound("No such payment instruction.")
        self.s.payments[instruction.id] = instruction

    def for_order(self, order_id: str) -> builtins.list[PaymentInstruction]:
        return sorted((p for p in self.s.payments.values() if p.order_id == order_id),
                      key=lambda p: (p.created_at, p.id))
