"""Orders and customization briefs (issue #5, part 2): a pure state machine.

    draft → submitted → routed → accepted → in_production → quality_check → shipped
          → delivered → completed

A submitted order is routed: the job is offered to one manufacturer for a
bounded time (48 hours unless configured). The manufacturer accepts, or declines
or lets the offer lapse, and the order goes back to ``submitted`` without that
manufacturer. A production manager may reassign before shipping (with a reason).
Quality check: a production manager passes or fails the pieces; a failure sends
them back into production. The buyer confirms delivery, then completes or
disputes. The buyer (or a production manager) may cancel before production.

Each function returns the new :class:`Order` and the event it raised; who may do
what is decided by :func:`transition` from the actor's side in the order.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import attrs
from attrs import frozen

from caratzon_core.accounts import clean_text
from caratzon_core.designs import GEMSTONE_TYPES, METALS, Gemstone
from caratzon_core.errors import Conflict, Forbidden, ValidationFailed
from caratzon_core.licensing import ISO_3166_ALPHA2, LicenceTerms, Modification, Use
from caratzon_core.manufacturers import Process

if TYPE_CHECKING:
    from caratzon_core.quote import Quote

DEFAULT_JOB_OFFER_TTL = timedelta(hours=48)
MAX_QUANTITY = 100_000
MAX_ENGRAVING = 40
MAX_NOTES = 4000
MAX_STONE_LINES = 20
MAX_CARRIER = 100
MAX_TRACKING = 100


class OrderStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ROUTED = "routed"
    ACCEPTED = "accepted"
    IN_PRODUCTION = "in_production"
    QUALITY_CHECK = "quality_check"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    DISPUTED = "disputed"


def order_ref(order_id: str) -> str:
    """A short reference people can read out (the id's last 8 characters)."""
    return order_id.replace("-", "")[-8:].upper()


# The statuses in which the assigned manufacturer holds the job and may reach
# production CAD (P20, P28): from acceptance until the pieces are shipped.
PRODUCTION_STATUSES = frozenset({OrderStatus.ACCEPTED, OrderStatus.IN_PRODUCTION, OrderStatus.QUALITY_CHECK})
CANCELLABLE = frozenset({OrderStatus.DRAFT, OrderStatus.SUBMITTED, OrderStatus.ROUTED, OrderStatus.ACCEPTED})
OPEN_STATUSES = frozenset(OrderStatus) - {OrderStatus.COMPLETED, OrderStatus.CANCELLED}


class SizeSystem(enum.StrEnum):
    US = "us"
    UK = "uk"
    EU = "eu"
    DIMENSIONS = "dimensions"  # width x height x depth in mm for non-rings


class Finish(enum.StrEnum):
    POLISHED = "polished"
    MATTE = "matte"
    BRUSHED = "brushed"
    HAMMERED = "hammered"
    RHODIUM_PLATED = "rhodium_plated"  # needs plating


class Setting(enum.StrEnum):
    PRONG = "prong"
    PAVE = "pave"
    BEZEL = "bezel"
    CHANNEL = "channel"


SETTING_PROCESS = {
    Setting.PRONG: Process.STONE_SETTING_PRONG,
    Setting.PAVE: Process.STONE_SETTING_PAVE,
    Setting.BEZEL: Process.STONE_SETTING_BEZEL,
    Setting.CHANNEL: Process.STONE_SETTING_CHANNEL,
}

UK_SIZE = re.compile(r"^[A-Z](?: ?1/2)?$|^Z\+[1-6]$")


@frozen
class Size:
    system: SizeSystem
    value: str  # "7.5" (US), "O 1/2" (UK), "56" (EU), "20x15x4" (mm)


@frozen
class StoneLine:
    type: str
    carat: Decimal  # per stone
    count: int
    setting: Setting


@frozen
class Brief:
    """What the buyer wants made."""

    alloy: str
    quantity: int
    ship_to: str
    wanted_by: date
    size: Size | None = None
    stones: tuple[StoneLine, ...] = ()
    engraving: str = ""
    finish: Finish = Finish.POLISHED
    notes: str = ""

    def processes(self) -> frozenset[Process]:
        """What a workshop must be able to do to make it."""
        needed = {Process.LOST_WAX_CASTING}
        needed |= {SETTING_PROCESS[s.setting] for s in self.stones}
        if self.engraving:
            needed.add(Process.ENGRAVING)
        if self.finish is Finish.RHODIUM_PLATED:
            needed.add(Process.PLATING)
        return frozenset(needed)

    @property
    def stone_count(self) -> int:
        return sum(s.count for s in self.stones)


@frozen
class Shipment:
    carrier: str
    tracking: str
    shipped_at: datetime


@frozen
class Order:
    id: str
    buyer_id: str
    design_id: str
    designer_id: str
    agreement_id: str
    brief: Brief
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    manufacturer_id: str | None = None
    offered_at: datetime | None = None
    offer_expires_at: datetime | None = None
    accepted_at: datetime | None = None
    declined_by: frozenset[str] = frozenset()  # manufacturers who declined or let the offer lapse
    qc_failures: int = 0
    qc_passed_at: datetime | None = None
    shipment: Shipment | None = None
    delivered_at: datetime | None = None
    closed_at: datetime | None = None
    reason: str | None = None  # cancellation, dispute, override or QC-failure reason, the latest
    quote: Quote | None = None  # fixed when the order is submitted: what the buyer pays

    @property
    def in_production_window(self) -> bool:
        return self.status in PRODUCTION_STATUSES


class Side(enum.StrEnum):
    BUYER = "buyer"
    MANUFACTURER = "manufacturer"  # the assigned one
    PRODUCTION = "production"  # production managers and admins
    SYSTEM = "system"  # the worker: lapsed job offers


# -- parsing the brief ------------------------------------------------------------------


def _decimal(raw: object, field: str, low: Decimal, high: Decimal) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValidationFailed(f"{raw!r} is not a number.", field=field) from None
    if not value.is_finite() or not low <= value <= high:
        raise ValidationFailed(f"{field.split('.')[-1].replace('_', ' ').capitalize()} is between {low} and {high}.",
                               field=field)
    return value


def _int(raw: object, field: str, low: int, high: int) -> int:
    if isinstance(raw, bool):
        raise ValidationFailed("A whole number is needed.", field=field)
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValidationFailed(f"{raw!r} is not a whole number.", field=field) from None
    if not low <= value <= high:
        raise ValidationFailed(f"{field.split('.')[-1].capitalize()} is between {low} and {high}.", field=field)
    return value


def _plain(number: Decimal) -> str:
    """10 as "10" and 6.50 as "6.5": never "1E+1"."""
    return format(number.normalize(), "f")


def parse_size(raw: object) -> Size | None:
    if raw in (None, "", {}):
        return None
    if not isinstance(raw, Mapping):
        raise ValidationFailed("A size is a system (us, uk, eu or dimensions) and a value.", field="size")
    try:
        system = SizeSystem(str(raw.get("system", "")).lower())
    except ValueError:
        raise ValidationFailed("The size system is us, uk, eu or dimensions.", field="size.system") from None
    value = str(raw.get("value", "")).strip()
    if system is SizeSystem.US:
        number = _decimal(value, "size.value", Decimal(0), Decimal(16))
        if number % Decimal("0.25"):
            raise ValidationFailed("US ring sizes go in quarter steps, such as 6.75.", field="size.value")
        return Size(system, _plain(number))
    if system is SizeSystem.UK:
        value = value.upper()
        if not UK_SIZE.match(value):
            raise ValidationFailed("UK ring sizes are letters A to Z, with half sizes like 'O 1/2'.",
                                   field="size.value")
        return Size(system, value)
    if system is SizeSystem.EU:
        number = _decimal(value, "size.value", Decimal(38), Decimal(76))
        return Size(system, _plain(number))
    parts = value.lower().replace(" ", "").split("x")
    if len(parts) != 3:
        raise ValidationFailed("Dimensions are width x height x depth in millimetres, such as 20x15x4.",
                               field="size.value")
    nums = [_decimal(p, "size.value", Decimal("0.1"), Decimal(500)) for p in parts]
    return Size(system, "x".join(_plain(n) for n in nums))


def parse_stones(raw: object) -> tuple[StoneLine, ...]:
    if raw in (None, ""):
        return ()
    if not isinstance(raw, list | tuple):
        raise ValidationFailed("Stones are a list of lines.", field="stones")
    if len(raw) > MAX_STONE_LINES:
        raise ValidationFailed(f"At most {MAX_STONE_LINES} stone lines.", field="stones")
    lines = []
    for line in raw:
        if not isinstance(line, Mapping):
            raise ValidationFailed("Each stone line has a type, carat, count and setting.", field="stones")
        kind = str(line.get("type", "")).strip().lower()
        if kind not in GEMSTONE_TYPES:
            raise ValidationFailed(f"Unknown stone {line.get('type')!r}; expected one of: "
                                   f"{', '.join(GEMSTONE_TYPES)}.", field="stones")
        try:
            setting = Setting(str(line.get("setting", "prong")).lower())
        except ValueError:
            raise ValidationFailed("The setting is prong, pave, bezel or channel.", field="stones") from None
        lines.append(StoneLine(kind, _decimal(line.get("carat"), "stones.carat", Decimal("0.001"), Decimal(100)),
                               _int(line.get("count", 1), "stones.count", 1, 1000), setting))
    return tuple(lines)


def parse_brief(raw: Mapping[str, object], *, today: date) -> Brief:
    """Every field checked, every problem reported at once."""
    problems: list[ValidationFailed] = []
    values: dict[str, object] = {}

    def attempt(name: str, fn: object) -> None:
        try:
            values[name] = fn()  # type: ignore[operator]
        except ValidationFailed as err:
            problems.append(err)

    def alloy() -> str:
        code = str(raw.get("alloy") or "").strip()
        if not code:
            raise ValidationFailed("Choose the alloy.", field="alloy")
        if code not in METALS:
            raise ValidationFailed(f"Unknown alloy {raw.get('alloy')!r}; expected one of: {', '.join(METALS)}.",
                                   field="alloy")
        return code

    def ship_to() -> str:
        code = str(raw.get("ship_to") or "").strip().upper()
        if not code:
            raise ValidationFailed("Say which country the pieces ship to.", field="ship_to")
        if code not in ISO_3166_ALPHA2:
            raise ValidationFailed(f"Ship-to {raw.get('ship_to')!r} is not an ISO 3166-1 alpha-2 country code.",
                                   field="ship_to")
        return code

    def wanted_by() -> date:
        rawd = raw.get("wanted_by")
        if rawd in (None, ""):
            raise ValidationFailed("Say by when the pieces are wanted.", field="wanted_by")
        if isinstance(rawd, datetime):
            raise ValidationFailed("Wanted-by is a date (YYYY-MM-DD), not a time.", field="wanted_by")
        try:
            day = rawd if isinstance(rawd, date) else date.fromisoformat(str(rawd))
        except ValueError:
            raise ValidationFailed(f"Wanted-by {rawd!r} is not a date (YYYY-MM-DD).", field="wanted_by") from None
        if day <= today:
            raise ValidationFailed(f"The wanted-by date must be after today ({today.isoformat()}).",
                                   field="wanted_by")
        return day

    def finish() -> Finish:
        try:
            return Finish(str(raw.get("finish") or "polished").lower())
        except ValueError:
            raise ValidationFailed("The finish is one of: " + ", ".join(f.value for f in Finish) + ".",
                                   field="finish") from None

    attempt("alloy", alloy)
    def quantity() -> int:
        if raw.get("quantity") in (None, ""):
            raise ValidationFailed("Say how many pieces.", field="quantity")
        return _int(raw.get("quantity"), "quantity", 1, MAX_QUANTITY)

    attempt("quantity", quantity)
    attempt("ship_to", ship_to)
    attempt("wanted_by", wanted_by)
    attempt("size", lambda: parse_size(raw.get("size")))
    attempt("stones", lambda: parse_stones(raw.get("stones")))
    attempt("engraving", lambda: clean_text(raw.get("engraving"), field="engraving", max_length=MAX_ENGRAVING,
                                            required=False) or "")
    attempt("finish", finish)
    attempt("notes", lambda: clean_text(raw.get("notes"), field="notes", max_length=MAX_NOTES,
                                        required=False) or "")
    known = {"alloy", "quantity", "ship_to", "wanted_by", "size", "stones", "engraving", "finish", "notes"}
    for unknown in sorted(set(map(str, raw)) - known):
        problems.append(ValidationFailed(f"Unknown field {unknown!r}.", field=unknown))
    if problems:
        raise ValidationFailed.collect(problems)
    return Brief(**values)  # type: ignore[arg-type]


# -- the licence ---------------------------------------------------------------------------


def stones_as_designed(gemstones: Iterable[Gemstone]) -> tuple[StoneLine, ...]:
    """The design's own stones as brief lines (prong set, carat per stone), for an
    order that leaves the stones as designed."""
    lines = []
    for g in gemstones:
        if g.type in GEMSTONE_TYPES and g.count > 0 and g.carat > 0:
            per_stone = (g.carat / g.count).quantize(Decimal("0.001"))
            lines.append(StoneLine(g.type, max(per_stone, Decimal("0.001")), g.count, Setting.PRONG))
    return tuple(lines)


def check_licence(brief: Brief, terms: LicenceTerms, *, units_used: int, design_metals: tuple[str, ...],
                  today: date, design_stones: tuple[StoneLine, ...] = ()) -> None:
    """The order must fall inside the agreement: a manufacturing licence, quantity
    within the remaining unit cap, ship-to inside the territory, today and the
    wanted-by date inside the term, and changes only where may-modify allows."""
    problems: list[ValidationFailed] = []
    if terms.use is not Use.MANUFACTURING:
        problems.append(ValidationFailed(
            f"This is a {terms.use.value} licence; only a manufacturing licence allows producing pieces.",
            field="agreement_id"))
    if terms.unit_cap is not None:
        left = terms.unit_cap - units_used
        if brief.quantity > left:
            problems.append(ValidationFailed(
                f"The licence allows {terms.unit_cap} pieces and {units_used} are ordered already: "
                f"at most {max(left, 0)} more.", field="quantity"))
    if not terms.territory.worldwide and brief.ship_to not in terms.territory.countries:
        problems.append(ValidationFailed(
            f"Shipping to {brief.ship_to} is outside the licence territory "
            f"({', '.join(sorted(terms.territory.countries))}).", field="ship_to"))
    if not terms.term.active_on(today):
        problems.append(ValidationFailed("The licence is not in force today.", field="agreement_id"))
    elif not terms.term.active_on(brief.wanted_by):
        end = terms.term.end
        problems.append(ValidationFailed(
            f"The wanted-by date is after the licence ends ({end.isoformat() if end else '-'}).", field="wanted_by"))
    if design_metals and brief.alloy not in design_metals and Modification.METAL not in terms.may_modify:
        problems.append(ValidationFailed(
            f"The licence does not allow changing the metal; the design is made in {', '.join(design_metals)}.",
            field="alloy"))
    if brief.size is not None and Modification.RING_SIZE not in terms.may_modify:
        problems.append(ValidationFailed("The licence does not allow changing the ring size.", field="size"))
    if brief.stones and brief.stones != design_stones and Modification.STONE_SIZE not in terms.may_modify:
        problems.append(ValidationFailed("The licence does not allow changing the stones.", field="stones"))
    if problems:
        raise ValidationFailed.collect(problems)


# -- the state machine --------------------------------------------------------------------

# (from, to) -> the sides that may make the move
MOVES: dict[tuple[OrderStatus, OrderStatus], frozenset[Side]] = {
    (OrderStatus.DRAFT, OrderStatus.SUBMITTED): frozenset({Side.BUYER}),
    (OrderStatus.SUBMITTED, OrderStatus.ROUTED): frozenset({Side.PRODUCTION, Side.SYSTEM}),
    (OrderStatus.ROUTED, OrderStatus.ROUTED): frozenset({Side.PRODUCTION}),  # reassign
    (OrderStatus.ROUTED, OrderStatus.ACCEPTED): frozenset({Side.MANUFACTURER}),
    (OrderStatus.ROUTED, OrderStatus.SUBMITTED): frozenset({Side.MANUFACTURER, Side.SYSTEM}),  # decline / lapse
    (OrderStatus.ACCEPTED, OrderStatus.ROUTED): frozenset({Side.PRODUCTION}),  # reassign
    (OrderStatus.ACCEPTED, OrderStatus.IN_PRODUCTION): frozenset({Side.MANUFACTURER}),
    (OrderStatus.IN_PRODUCTION, OrderStatus.ROUTED): frozenset({Side.PRODUCTION}),  # reassign
    (OrderStatus.IN_PRODUCTION, OrderStatus.QUALITY_CHECK): frozenset({Side.MANUFACTURER}),
    (OrderStatus.QUALITY_CHECK, OrderStatus.IN_PRODUCTION): frozenset({Side.PRODUCTION}),  # QC failed
    (OrderStatus.QUALITY_CHECK, OrderStatus.SHIPPED): frozenset({Side.MANUFACTURER}),  # after QC passed
    (OrderStatus.SHIPPED, OrderStatus.DELIVERED): frozenset({Side.BUYER, Side.PRODUCTION}),
    (OrderStatus.DELIVERED, OrderStatus.COMPLETED): frozenset({Side.BUYER, Side.PRODUCTION}),
    (OrderStatus.DELIVERED, OrderStatus.DISPUTED): frozenset({Side.BUYER}),
    (OrderStatus.DISPUTED, OrderStatus.COMPLETED): frozenset({Side.PRODUCTION}),  # resolved
}
for _s in CANCELLABLE:
    MOVES[(_s, OrderStatus.CANCELLED)] = frozenset({Side.BUYER, Side.PRODUCTION})


@frozen
class OrderEvent:
    order_id: str
    name: str  # "order.submitted", "order.routed", "order.accepted", …
    from_status: OrderStatus
    to_status: OrderStatus
    side: Side
    actor_id: str
    at: datetime
    data: tuple[tuple[str, str], ...] = ()


def _event(order: Order, to: OrderStatus, side: Side, actor_id: str, now: datetime, name: str,
           **data: str) -> OrderEvent:
    return OrderEvent(order.id, name, order.status, to, side, actor_id, now, tuple(sorted(data.items())))


def _check_move(order: Order, to: OrderStatus, side: Side) -> None:
    allowed = MOVES.get((order.status, to))
    if allowed is None:
        raise Conflict(f"An order that is {order.status.value.replace('_', ' ')} cannot move to "
                       f"{to.value.replace('_', ' ')}.", field="to")
    if side not in allowed:
        who = " or ".join(sorted(s.value for s in allowed))
        raise Forbidden(f"Only the {who} may move an order from {order.status.value.replace('_', ' ')} to "
                        f"{to.value.replace('_', ' ')}.")


def _reason(raw: str | None, what: str) -> str:
    text = clean_text(raw, field="reason", max_length=1000, required=False)
    if not text:
        raise ValidationFailed(f"Give a reason for {what}.", field="reason")
    return text


def submit(order: Order, side: Side, actor_id: str, now: datetime, *, quote: Quote) -> tuple[Order, OrderEvent]:
    """The buyer commits to the quote; it is fixed on the order from now on."""
    _check_move(order, OrderStatus.SUBMITTED, side)
    if order.status is not OrderStatus.DRAFT:
        raise Conflict(f"Only a draft order is submitted; this one is {order.status.value.replace('_', ' ')}.",
                       field="to")
    if side is Side.BUYER and actor_id != order.buyer_id:
        raise Forbidden("Only the buyer who drafted the order may submit it.")
    moved = attrs.evolve(order, status=OrderStatus.SUBMITTED, submitted_at=now, updated_at=now, quote=quote)
    return moved, _event(order, OrderStatus.SUBMITTED, side, actor_id, now, "order.submitted")


def assign(order: Order, manufacturer_id: str, side: Side, actor_id: str, now: datetime, *,
           ttl: timedelta = DEFAULT_JOB_OFFER_TTL, reason: str | None = None) -> tuple[Order, OrderEvent]:
    """Offer the job to ``manufacturer_id`` until ``now + ttl``; from routed, accepted or
    in production it is a reassignment, which needs a reason."""
    if ttl <= timedelta(0):
        raise ValidationFailed("A job offer stays open for more than zero time.", field="ttl")
    reassigning = order.status is not OrderStatus.SUBMITTED
    _check_move(order, OrderStatus.ROUTED, side)
    if manufacturer_id in order.declined_by:
        raise Conflict("That manufacturer already declined this job or let the offer lapse.",
                       field="manufacturer_id")
    if reassigning and manufacturer_id == order.manufacturer_id:
        raise Conflict("The job is already with that manufacturer.", field="manufacturer_id")
    text = (_reason(reason, "reassigning the job") if reassigning
            else clean_text(reason, field="reason", max_length=1000, required=False) or None)
    moved = attrs.evolve(order, status=OrderStatus.ROUTED, manufacturer_id=manufacturer_id, offered_at=now,
                         offer_expires_at=now + ttl, accepted_at=None, qc_passed_at=None, updated_at=now,
                         reason=text)
    name = "order.reassigned" if reassigning else "order.routed"
    data = {"manufacturer_id": manufacturer_id}
    if order.manufacturer_id and reassigning:
        data["previous"] = order.manufacturer_id
    return moved, _event(order, OrderStatus.ROUTED, side, actor_id, now, name, **data)


def _as_assigned(order: Order, actor_id: str, side: Side) -> None:
    if side is Side.MANUFACTURER and actor_id != order.manufacturer_id:
        raise Forbidden("Only the manufacturer the job is assigned to may answer it.")


def accept_job(order: Order, side: Side, actor_id: str, now: datetime) -> tuple[Order, OrderEvent]:
    _check_move(order, OrderStatus.ACCEPTED, side)
    _as_assigned(order, actor_id, side)
    if order.offer_expires_at is not None and now >= order.offer_expires_at:
        raise Conflict("The job offer lapsed; it goes back to routing.", field="offer_expires_at")
    moved = attrs.evolve(order, status=OrderStatus.ACCEPTED, accepted_at=now, updated_at=now)
    return moved, _event(order, OrderStatus.ACCEPTED, side, actor_id, now, "order.accepted",
                         manufacturer_id=order.manufacturer_id or "")


def release_job(order: Order, side: Side, actor_id: str, now: datetime, *,
                reason: str | None = None) -> tuple[Order, OrderEvent]:
    """The manufacturer declines, or (the worker) the offer lapsed: back to routing
    without that manufacturer."""
    _check_move(order, OrderStatus.SUBMITTED, side)
    if order.status is not OrderStatus.ROUTED:
        raise Conflict("Only a job offered to a manufacturer can be declined or lapse.", field="to")
    _as_assigned(order, actor_id, side)
    if side is Side.SYSTEM and (order.offer_expires_at is None or now < order.offer_expires_at):
        raise Conflict("The job offer has not lapsed yet.", field="offer_expires_at")
    text = clean_text(reason, field="reason", max_length=1000, required=False) or None
    gone = order.manufacturer_id or ""
    moved = attrs.evolve(order, status=OrderStatus.SUBMITTED, manufacturer_id=None, offered_at=None,
                         offer_expires_at=None, declined_by=order.declined_by | {gone}, updated_at=now,
                         reason=text or order.reason)
    name = "order.declined" if side is Side.MANUFACTURER else "order.offer_lapsed"
    return moved, _event(order, OrderStatus.SUBMITTED, side, actor_id, now, name, manufacturer_id=gone)


def start_production(order: Order, side: Side, actor_id: str, now: datetime) -> tuple[Order, OrderEvent]:
    _check_move(order, OrderStatus.IN_PRODUCTION, side)
    if order.status is OrderStatus.QUALITY_CHECK:
        raise Conflict("Use the quality-check result to send pieces back into production.", field="to")
    _as_assigned(order, actor_id, side)
    moved = attrs.evolve(order, status=OrderStatus.IN_PRODUCTION, updated_at=now)
    return moved, _event(order, OrderStatus.IN_PRODUCTION, side, actor_id, now, "order.in_production")


def ready_for_qc(order: Order, side: Side, actor_id: str, now: datetime) -> tuple[Order, OrderEvent]:
    _check_move(order, OrderStatus.QUALITY_CHECK, side)
    _as_assigned(order, actor_id, side)
    moved = attrs.evolve(order, status=OrderStatus.QUALITY_CHECK, qc_passed_at=None, updated_at=now)
    return moved, _event(order, OrderStatus.QUALITY_CHECK, side, actor_id, now, "order.quality_check")


def qc_result(order: Order, passed: bool, side: Side, actor_id: str, now: datetime, *,
              reason: str | None = None) -> tuple[Order, OrderEvent]:
    """A production manager's verdict: pass (the manufacturer may ship) or fail
    (back into production; counts against the partner score)."""
    if order.status is not OrderStatus.QUALITY_CHECK:
        raise Conflict("Only an order in quality check gets a quality-check result.", field="to")
    if side is not Side.PRODUCTION:
        raise Forbidden("Only production managers record quality-check results.")
    if passed:
        if order.qc_passed_at is not None:
            raise Conflict("The quality check already passed.", field="to")
        moved = attrs.evolve(order, qc_passed_at=now, updated_at=now)
        return moved, _event(order, OrderStatus.QUALITY_CHECK, side, actor_id, now, "order.qc_passed")
    text = _reason(reason, "failing the quality check")
    moved = attrs.evolve(order, status=OrderStatus.IN_PRODUCTION, qc_failures=order.qc_failures + 1,
                         qc_passed_at=None, updated_at=now, reason=text)
    return moved, _event(order, OrderStatus.IN_PRODUCTION, side, actor_id, now, "order.qc_failed", reason=text)


def ship(order: Order, side: Side, actor_id: str, now: datetime, *, carrier: str,
         tracking: str) -> tuple[Order, OrderEvent]:
    _check_move(order, OrderStatus.SHIPPED, side)
    _as_assigned(order, actor_id, side)
    if order.qc_passed_at is None:
        raise Conflict("The pieces ship only after they pass the quality check.", field="to")
    problems: list[ValidationFailed] = []
    clean: dict[str, str] = {}
    for name, value, limit in (("carrier", carrier, MAX_CARRIER), ("tracking", tracking, MAX_TRACKING)):
        try:
            clean[name] = clean_text(value, field=name, max_length=limit, required=True) or ""
        except ValidationFailed as err:
            problems.append(err)
    if problems:
        raise ValidationFailed.collect(problems)
    moved = attrs.evolve(order, status=OrderStatus.SHIPPED, updated_at=now,
                         shipment=Shipment(clean["carrier"], clean["tracking"], now))
    return moved, _event(order, OrderStatus.SHIPPED, side, actor_id, now, "order.shipped", **clean)


def deliver(order: Order, side: Side, actor_id: str, now: datetime) -> tuple[Order, OrderEvent]:
    _check_move(order, OrderStatus.DELIVERED, side)
    moved = attrs.evolve(order, status=OrderStatus.DELIVERED, delivered_at=now, updated_at=now)
    return moved, _event(order, OrderStatus.DELIVERED, side, actor_id, now, "order.delivered")


def complete(order: Order, side: Side, actor_id: str, now: datetime) -> tuple[Order, OrderEvent]:
    _check_move(order, OrderStatus.COMPLETED, side)
    moved = attrs.evolve(order, status=OrderStatus.COMPLETED, closed_at=now, updated_at=now)
    return moved, _event(order, OrderStatus.COMPLETED, side, actor_id, now, "order.completed")


def dispute(order: Order, side: Side, actor_id: str, now: datetime, *, reason: str | None) -> tuple[Order, OrderEvent]:
    _check_move(order, OrderStatus.DISPUTED, side)
    text = _reason(reason, "the dispute")
    moved = attrs.evolve(order, status=OrderStatus.DISPUTED, updated_at=now, reason=text)
    return moved, _event(order, OrderStatus.DISPUTED, side, actor_id, now, "order.disputed", reason=text)


def cancel(order: Order, side: Side, actor_id: str, now: datetime, *, reason: str | None) -> tuple[Order, OrderEvent]:
    _check_move(order, OrderStatus.CANCELLED, side)
    text = _reason(reason, "cancelling")
    moved = attrs.evolve(order, status=OrderStatus.CANCELLED, closed_at=now, updated_at=now, reason=text)
    return moved, _event(order, OrderStatus.CANCELLED, side, actor_id, now, "order.cancelled", reason=text)
