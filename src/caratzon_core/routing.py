"""Routing (issue #5, part 4): which manufacturer makes an order.

:func:`route` is pure: from a :class:`RoutingRequest`, the manufacturers to consider
and the current time it returns a :class:`RoutingDecision` listing every manufacturer,
either as a ranked :class:`Candidate` or as an :class:`Exclusion` with its reason.
Nothing is read or written; the caller persists the decision (and offers the job to
``decision.chosen``).

**Hard filters**, checked in this order; an excluded manufacturer is reported with the
*first* filter it fails (``today`` is ``now.date()``, in ``now``'s own timezone):

1. ``not_vetted`` -- vetting is not *vetted* (pending or suspended).
2. ``nda_not_valid`` -- no NDA, or it is not valid on every day from today through the
   wanted-by date (signed after today, or expiring before the wanted-by date).
3. ``missing_process`` -- the workshop lacks a process the order needs (named).
4. ``metal_not_worked`` -- it does not work the order's metal.
5. ``quantity_out_of_bounds`` -- the quantity is below its minimum or above its maximum.
6. ``probation_limit`` -- on probation (fewer than ``MIN_JOBS_FOR_RECORD`` jobs in the
   score window) and the quantity is above ``PROBATION_MAX_QUANTITY``.
7. ``no_capacity`` -- spare weekly capacity (``weekly_capacity - current_load``) is below
   the quantity.
8. ``does_not_ship`` -- it does not ship to the destination country.
9. ``lead_time_too_long`` -- today + ``lead_time_days`` is after the wanted-by date.
10. ``declined_before`` -- it declined, or timed out on, this order before.

**Score** of a qualifying manufacturer: four parts, each a float in [0, 1], and their
weighted sum ``total`` (weights sum to 1, so the total is in [0, 1] too):

* ``slack`` (weight 0.35): spare days between the finish date (today + lead time) and
  the wanted-by date, relative to the lead time, capped at 1: ``min(1, spare / lead)``.
* ``cost`` (0.25): the labour per piece against the request's ``labour_budget`` (per
  piece, same currency): 1 at or under budget, falling linearly to 0 at twice the budget
  (``2 - price / budget``). 0.5 (neutral) when there is no budget, and when the
  currencies differ: nothing is converted, and the candidate's ``notes`` say so.
* ``rating`` (0.25): the partner score's rating; 0.5 (neutral) while on probation or
  unrated.
* ``load`` (0.15): spare capacity left after this job, relative to the weekly capacity.

Candidates are ranked by total, highest first; equal totals by manufacturer id,
ascending. Exclusions are listed by manufacturer id, ascending. So the decision does not
depend on the order the manufacturers come in (manufacturer ids are user ids: unique).

**Speed.** Routing 10,000 manufacturers must take under 10 ms (median, pure Python: see
``benchmarks/bench_routing.py``). So the filters run in one loop over the manufacturers
with the request's values prepared beforehand, putting each excluded one in a bucket per
reason; each distinct message is written once; and the exclusions -- nearly everyone,
for most orders -- are kept column by column in :class:`Exclusions` (a tuple per field),
not as 10,000 objects: creating that many objects per call costs more than the routing
itself and makes the garbage collector sweep the whole heap every few calls. An
:class:`Exclusion` is made when read. :class:`Exclusion`, :class:`Candidate` and
:class:`ScoreParts` are immutable ``NamedTuple`` s (a fifth of the cost of a frozen attrs
instance): use ``_replace`` where an attrs class would use ``attrs.evolve``, and serialise
them by field name (``_asdict``), or :class:`Exclusions` by its columns. Sorting the
exclusions by id is a good part of the time; manufacturers passed in id order make it
nearly free (the buckets are then already sorted runs).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from functools import partial
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple, overload

from attrs import field, frozen

from caratzon_core.designs import METALS
from caratzon_core.errors import ValidationFailed
from caratzon_core.licensing import ISO_3166_ALPHA2
from caratzon_core.manufacturers import MIN_JOBS_FOR_RECORD, PROBATION_MAX_QUANTITY, Manufacturer, Process, Vetting
from caratzon_core.money import Money

W_SLACK = 0.35
W_COST = 0.25
W_RATING = 0.25
W_LOAD = 0.15
NEUTRAL = 0.5  # the cost part without a comparable budget; the rating part on probation


class ExclusionReason(enum.StrEnum):
    """One per hard filter, in the order they are checked."""

    NOT_VETTED = "not_vetted"
    NDA_NOT_VALID = "nda_not_valid"
    MISSING_PROCESS = "missing_process"
    METAL_NOT_WORKED = "metal_not_worked"
    QUANTITY_OUT_OF_BOUNDS = "quantity_out_of_bounds"
    PROBATION_LIMIT = "probation_limit"
    NO_CAPACITY = "no_capacity"
    DOES_NOT_SHIP = "does_not_ship"
    LEAD_TIME_TOO_LONG = "lead_time_too_long"
    DECLINED_BEFORE = "declined_before"


# -- the request -----------------------------------------------------------------------


def _processes(value: Iterable[Process | str]) -> frozenset[Process]:
    if isinstance(value, str):
        raise ValidationFailed("Processes are a collection of process names.", field="processes")
    out = set()
    for item in value:
        try:
            out.add(Process(item))
        except ValueError:
            raise ValidationFailed(f"Unknown process {item!r}.", field="processes") from None
    return frozenset(out)


def _country(value: str) -> str:
    return str(value).strip().upper()


def _ids(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise ValidationFailed("The excluded manufacturers are a collection of user ids.", field="excluded")
    return frozenset(value)


def _check_order_id(instance: object, attribute: object, value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationFailed("A routing request names its order.", field="order_id")


def _check_processes(instance: object, attribute: object, value: frozenset[Process]) -> None:
    if not value:
        raise ValidationFailed("Name at least one process the order needs.", field="processes")


def _check_metal(instance: object, attribute: object, value: str) -> None:
    if value not in METALS:
        raise ValidationFailed(f"Unknown metal {value!r}; expected one of: {', '.join(METALS)}.", field="metal")


def _check_quantity(instance: object, attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationFailed("The quantity is a whole number of pieces, at least 1.", field="quantity")


def _check_ship_to(instance: object, attribute: object, value: str) -> None:
    if value not in ISO_3166_ALPHA2:
        raise ValidationFailed(f"{value!r} is not an ISO 3166-1 alpha-2 country code.", field="ship_to")


def _check_wanted_by(instance: object, attribute: object, value: date) -> None:
    # a datetime is a date too, but cannot be compared with one
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationFailed("The wanted-by date is a calendar date.", field="wanted_by")


def _check_budget(instance: object, attribute: object, value: Money | None) -> None:
    if value is not None and value.amount_minor < 0:
        raise ValidationFailed("The labour budget cannot be negative.", field="labour_budget")


@frozen
class RoutingRequest:
    """What an order needs from a workshop. ``excluded`` holds the user ids of the
    manufacturers that declined or timed out on this order; ``labour_budget`` is the
    quoted labour per piece (``None``: cost is not compared)."""

    order_id: str = field(validator=_check_order_id)
    processes: frozenset[Process] = field(converter=_processes, validator=_check_processes)
    metal: str = field(validator=_check_metal)
    quantity: int = field(validator=_check_quantity)
    ship_to: str = field(converter=_country, validator=_check_ship_to)
    wanted_by: date = field(validator=_check_wanted_by)
    excluded: frozenset[str] = field(default=frozenset(), converter=_ids)
    labour_budget: Money | None = field(default=None, validator=_check_budget)


# -- the decision ----------------------------------------------------------------------


class Exclusion(NamedTuple):
    """A manufacturer that may not take the order: the first hard filter it fails,
    with a message a person can read naming the specifics."""

    manufacturer_id: str
    name: str
    reason: ExclusionReason
    message: str


class ScoreParts(NamedTuple):
    """The soft score of a qualifying manufacturer, each part in [0, 1]."""

    slack: float
    cost: float
    rating: float
    load: float

    @property
    def total(self) -> float:
        """The weighted sum (weights in the module docs), in [0, 1]."""
        return W_SLACK * self.slack + W_COST * self.cost + W_RATING * self.rating + W_LOAD * self.load


class Candidate(NamedTuple):
    """A qualifying manufacturer; ``rank`` 1 is the best. ``notes`` explain anything
    unusual about the score (e.g. labour quoted in another currency than the budget)."""

    manufacturer_id: str
    name: str
    parts: ScoreParts
    rank: int
    finish_on: date  # today + lead time
    labour_per_piece: Money
    notes: tuple[str, ...] = ()


_new_exclusion: Callable[[tuple[str, str, ExclusionReason, str]], Exclusion] = partial(tuple.__new__, Exclusion)


class Exclusions(Sequence[Exclusion]):
    """Excluded manufacturers: an immutable sequence of :class:`Exclusion`, stored as one
    tuple per field (``manufacturer_ids``, ``names``, ``reasons``, ``messages``); each
    :class:`Exclusion` is made when read. :func:`route` lists them by manufacturer id."""

    __slots__ = ("_ids", "_messages", "_names", "_reasons")
    _ids: tuple[str, ...]
    _names: tuple[str, ...]
    _reasons: tuple[ExclusionReason, ...]
    _messages: tuple[str, ...] | Callable[[], Sequence[str]]  # written on first read

    def __init__(self, exclusions: Iterable[Exclusion] = ()) -> None:
        rows = tuple(exclusions)
        self._set(tuple(e.manufacturer_id for e in rows), tuple(e.name for e in rows),
                  tuple(e.reason for e in rows), tuple(e.message for e in rows))

    @classmethod
    def from_columns(cls, manufacturer_ids: Sequence[str], names: Sequence[str],
                     reasons: Sequence[ExclusionReason], messages: Sequence[str]) -> Exclusions:
        if not len(manufacturer_ids) == len(names) == len(reasons) == len(messages):
            raise ValueError("The columns of Exclusions have one entry per manufacturer.")
        out = cls.__new__(cls)
        out._set(tuple(manufacturer_ids), tuple(names), tuple(reasons), tuple(messages))
        return out

    def _set(self, ids: tuple[str, ...], names: tuple[str, ...], reasons: tuple[ExclusionReason, ...],
             messages: tuple[str, ...]) -> None:
        object.__setattr__(self, "_ids", ids)
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_reasons", reasons)
        object.__setattr__(self, "_messages", messages)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Exclusions are immutable.")

    def __reduce__(self) -> tuple[Any, ...]:  # for pickle and copy, which would set the slots one by one
        return (Exclusions.from_columns, (self._ids, self._names, self._reasons, self.messages))

    @property
    def manufacturer_ids(self) -> tuple[str, ...]:
        return self._ids

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def reasons(self) -> tuple[ExclusionReason, ...]:
        return self._reasons

    @property
    def messages(self) -> tuple[str, ...]:
        if callable(self._messages):
            # Written on first read: the routing board only counts reasons, and writing
            # ten thousand sentences nobody reads was most of route()'s time.
            object.__setattr__(self, "_messages", tuple(self._messages()))
        return self._messages  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> Exclusion: ...

    @overload
    def __getitem__(self, index: slice) -> Exclusions: ...

    def __getitem__(self, index: int | slice) -> Exclusion | Exclusions:
        if isinstance(index, slice):
            return Exclusions.from_columns(self._ids[index], self._names[index], self._reasons[index],
                                           self.messages[index])
        return _new_exclusion((self._ids[index], self._names[index], self._reasons[index], self.messages[index]))

    def __iter__(self) -> Iterator[Exclusion]:
        return map(_new_exclusion, zip(self._ids, self._names, self._reasons, self.messages, strict=True))

    def get(self, manufacturer_id: str) -> Exclusion | None:
        """This manufacturer's exclusion, if it is excluded."""
        try:
            return self[self._ids.index(manufacturer_id)]
        except ValueError:
            return None

    def counts(self) -> dict[ExclusionReason, int]:
        """How many were excluded for each reason, in filter order (reasons with none left out)."""
        found = Counter(self._reasons)
        return {reason: found[reason] for reason in ExclusionReason if found[reason]}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Exclusions):
            return NotImplemented
        return (self._ids == other._ids and self._names == other._names and self._reasons == other._reasons
                and self.messages == other.messages)

    def __hash__(self) -> int:
        return hash((self._ids, self._names, self._reasons, self.messages))

    def __repr__(self) -> str:
        if len(self) <= 3:
            return f"Exclusions({list(self)!r})"
        return f"<Exclusions: {len(self):,} ({', '.join(f'{r} {n:,}' for r, n in self.counts().items())})>"


@frozen
class RoutingDecision:
    """Every manufacturer considered, as a ranked candidate or an exclusion. ``chosen``
    is the best candidate's id (``None`` when nobody qualifies); ``reason`` says why."""

    order_id: str
    decided_at: datetime
    candidates: tuple[Candidate, ...]
    excluded: Exclusions
    chosen: str | None
    reason: str


# -- routing ---------------------------------------------------------------------------


@frozen
class _Context:
    """The request's values, prepared once per call for the loop."""

    request: RoutingRequest
    today: date
    nda_from: date  # the NDA must be signed on or before this day ...
    nda_until: date  # ... and expire on or after this one
    max_lead: int  # the longest lead time that still finishes by the wanted-by date

    @classmethod
    def of(cls, request: RoutingRequest, now: datetime) -> _Context:
        today = now.date()
        return cls(request=request, today=today, nda_from=today, nda_until=max(today, request.wanted_by),
                   max_lead=(request.wanted_by - today).days)


def _screen(ctx: _Context, manufacturers: Iterable[Manufacturer]) -> tuple[list[list[Manufacturer]],
                                                                          list[Manufacturer]]:
    """Every hard filter, in the documented order, for each manufacturer: the single
    implementation behind both :func:`route` and :func:`check_assignable`. Returns the
    excluded manufacturers bucketed by reason (in :class:`ExclusionReason` order) and the
    qualified ones."""
    request = ctx.request
    needed = request.processes
    metal = request.metal
    quantity = request.quantity
    ship_to = request.ship_to
    declined = request.excluded
    nda_from = ctx.nda_from
    nda_until = ctx.nda_until
    max_lead = ctx.max_lead
    check_probation = quantity > PROBATION_MAX_QUANTITY
    vetted = Vetting.VETTED
    buckets: list[list[Manufacturer]] = [[] for _ in _REASONS]
    (not_vetted, nda_not_valid, missing_process, metal_not_worked, quantity_out_of_bounds, probation_limit,
     no_capacity, does_not_ship, lead_time_too_long, declined_before) = (b.append for b in buckets)
    qualified: list[Manufacturer] = []
    qualify = qualified.append
    for m in manufacturers:
        if m.vetting != vetted:
            not_vetted(m)
        elif ((signed := m.nda_signed_on) is None or (expires := m.nda_expires_on) is None
              or signed > nda_from or expires < nda_until):
            nda_not_valid(m)
        elif not needed <= m.processes:
            missing_process(m)
        elif metal not in m.metals:
            metal_not_worked(m)
        elif quantity < m.min_quantity or quantity > m.max_quantity:
            quantity_out_of_bounds(m)
        elif check_probation and m.score.on_probation:
            probation_limit(m)
        elif m.weekly_capacity - m.current_load < quantity:  # spare_capacity < quantity, without the call
            no_capacity(m)
        elif ship_to not in m.ships_to:
            does_not_ship(m)
        elif m.lead_time_days > max_lead:
            lead_time_too_long(m)
        elif m.user_id in declined:
            declined_before(m)
        else:
            qualify(m)
    return buckets, qualified


_REASONS = tuple(ExclusionReason)


_Keys = Callable[[list[Manufacturer]], list[Hashable]]


# The specifics each reason's message names, for a bucket of manufacturers. (A list
# comprehension reads slots faster than ``map`` with ``attrgetter``.)
def _vetting(bucket: list[Manufacturer]) -> list[Hashable]:
    return [m.vetting for m in bucket]


def _nda(bucket: list[Manufacturer]) -> list[Hashable]:
    return [(m.nda_signed_on, m.nda_expires_on) for m in bucket]


def _processes_of(bucket: list[Manufacturer]) -> list[Hashable]:
    return [m.processes for m in bucket]  # frozensets cache their hash


def _bounds(bucket: list[Manufacturer]) -> list[Hashable]:
    return [(m.min_quantity, m.max_quantity) for m in bucket]


def _jobs(bucket: list[Manufacturer]) -> list[Hashable]:
    return [m.score.jobs for m in bucket]


def _capacity(bucket: list[Manufacturer]) -> list[Hashable]:
    return [(m.weekly_capacity, m.current_load) for m in bucket]


def _lead(bucket: list[Manufacturer]) -> list[Hashable]:
    return [m.lead_time_days for m in bucket]


class _Messages:
    """The exclusion messages for one request: for each reason, the specifics its
    message names (``None`` when the text is the same for everyone excluded for it)
    and the writer. Many manufacturers fail a filter for the same specifics, so each
    distinct message is written once."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.request = ctx.request
        self.missing: dict[frozenset[Process], str] = {}  # by the processes missing
        self.expiring: dict[date, str] = {}  # by the NDA's expiry date
        self.rules: dict[ExclusionReason, tuple[_Keys | None, Callable[[Manufacturer], str]]] = {
            ExclusionReason.NOT_VETTED: (_vetting, self.not_vetted),
            ExclusionReason.NDA_NOT_VALID: (_nda, self.nda_not_valid),
            ExclusionReason.MISSING_PROCESS: (_processes_of, self.missing_process),
            ExclusionReason.METAL_NOT_WORKED: (None, self.metal_not_worked),
            ExclusionReason.QUANTITY_OUT_OF_BOUNDS: (_bounds, self.quantity_out_of_bounds),
            ExclusionReason.PROBATION_LIMIT: (_jobs, self.probation_limit),
            ExclusionReason.NO_CAPACITY: (_capacity, self.no_capacity),
            ExclusionReason.DOES_NOT_SHIP: (None, self.does_not_ship),
            ExclusionReason.LEAD_TIME_TOO_LONG: (_lead, self.lead_time_too_long),
            ExclusionReason.DECLINED_BEFORE: (None, self.declined_before),
        }

    def not_vetted(self, m: Manufacturer) -> str:
        return f"Not vetted: vetting is {m.vetting}."

    def nda_not_valid(self, m: Manufacturer) -> str:
        signed, expires = m.nda_signed_on, m.nda_expires_on
        if signed is None or expires is None:
            return "No NDA on file."
        if signed > self.ctx.nda_from:
            return f"NDA signed on {signed.isoformat()}, after today ({self.ctx.today.isoformat()})."
        text = self.expiring.get(expires)
        if text is None:
            text = self.expiring[expires] = (
                f"NDA expires on {expires.isoformat()}, before the wanted-by date {self.ctx.nda_until.isoformat()}; "
                "it must be valid through it.")
        return text

    def missing_process(self, m: Manufacturer) -> str:
        missing = self.request.processes - m.processes
        text = self.missing.get(missing)
        if text is None:
            text = self.missing[missing] = f"Does not run {', '.join(sorted(p.value for p in missing))}."
        return text

    def metal_not_worked(self, m: Manufacturer) -> str:
        return f"Does not work {METALS[self.request.metal]} ({self.request.metal})."

    def quantity_out_of_bounds(self, m: Manufacturer) -> str:
        quantity = self.request.quantity
        if quantity < m.min_quantity:
            return f"Takes at least {m.min_quantity} pieces per job; this order is {quantity}."
        return f"Takes at most {m.max_quantity} pieces per job; this order is {quantity}."

    def probation_limit(self, m: Manufacturer) -> str:
        return (f"On probation ({m.score.jobs} of the {MIN_JOBS_FOR_RECORD} recent jobs a record needs): may take "
                f"at most {PROBATION_MAX_QUANTITY} pieces; this order is {self.request.quantity}.")

    def no_capacity(self, m: Manufacturer) -> str:
        return (f"Spare capacity {m.spare_capacity} pieces a week ({m.weekly_capacity} a week, "
                f"{m.current_load} in progress) is below the {self.request.quantity} ordered.")

    def does_not_ship(self, m: Manufacturer) -> str:
        return f"Does not ship to {self.request.ship_to}."

    def lead_time_too_long(self, m: Manufacturer) -> str:
        finish = self.ctx.today + timedelta(days=m.lead_time_days)
        return (f"Lead time {m.lead_time_days} days ends {finish.isoformat()}, after the wanted-by date "
                f"{self.request.wanted_by.isoformat()}.")

    def declined_before(self, m: Manufacturer) -> str:
        return "Declined this order, or let the offer time out, before."


_new_parts = partial(tuple.__new__, ScoreParts)
_new_candidate = partial(tuple.__new__, Candidate)


def _exclusions(ctx: _Context, buckets: list[list[Manufacturer]]) -> Exclusions:
    """The exclusions, by manufacturer id, built column by column; only the distinct
    messages run Python code of their own."""
    ids: list[str] = []
    names: list[str] = []
    reasons: list[ExclusionReason] = []
    for reason, bucket in zip(_REASONS, buckets, strict=True):
        if not bucket:
            continue
        ids += [m.user_id for m in bucket]
        names += [m.name for m in bucket]
        reasons += repeat(reason, len(bucket))

    def texts() -> list[str]:
        rules = _Messages(ctx).rules
        out: list[str] = []
        for reason, bucket in zip(_REASONS, buckets, strict=True):
            if not bucket:
                continue
            key, write = rules[reason]
            if key is None:
                out += repeat(write(bucket[0]), len(bucket))
            else:
                keys = key(bucket)
                written = {k: write(m) for k, m in dict(zip(keys, bucket, strict=True)).items()}
                out += map(written.__getitem__, keys)
        return out

    if len(ids) < 2:  # itemgetter needs an index, and gives a bare item for one
        return Exclusions.from_columns(ids, names, reasons, texts())
    by_id = itemgetter(*sorted(range(len(ids)), key=ids.__getitem__))
    result = Exclusions.from_columns(by_id(ids), by_id(names), by_id(reasons), ("",) * len(ids))
    object.__setattr__(result, "_messages", lambda: by_id(texts()))
    return result


def _candidates(ctx: _Context, qualified: list[Manufacturer]) -> tuple[Candidate, ...]:
    """Score the qualified manufacturers and rank them: total descending, then id."""
    request = ctx.request
    quantity = request.quantity
    max_lead = ctx.max_lead
    today = ctx.today
    budget = request.labour_budget
    budget_minor = budget.amount_minor if budget is not None else 0
    budget_currency = budget.currency if budget is not None else ""
    new_parts = _new_parts
    finish_on: dict[int, date] = {}
    ids: list[str] = []
    parts: list[ScoreParts] = []
    minus_totals: list[float] = []
    finishes: list[date] = []
    prices: list[Money] = []
    notes: dict[int, tuple[str, ...]] = {}
    for i, m in enumerate(qualified):
        lead = m.lead_time_days
        slack = (max_lead - lead) / (lead if lead > 0 else 1)
        if slack > 1.0:
            slack = 1.0
        price = m.labour.per_piece
        if budget is None:
            cost = NEUTRAL
        elif price.currency != budget_currency:
            cost = NEUTRAL
            notes[i] = (f"Labour is quoted in {price.currency}, the budget in {budget_currency}: cost not "
                        f"compared (neutral {NEUTRAL}).",)
        else:
            p = price.amount_minor
            if p <= budget_minor:
                cost = 1.0
            elif p >= 2 * budget_minor:
                cost = 0.0
            else:
                cost = 2.0 - p / budget_minor
        score = m.score
        rated = score.rating
        if rated is None or score.on_probation:
            rating = NEUTRAL
        else:
            rating = float(rated)
            if not 0.0 <= rating <= 1.0:  # (cheaper than min and max)
                rating = 1.0 if rating > 1.0 else 0.0
        weekly = m.weekly_capacity  # >= the quantity here, unless the load is negative (a Manufacturer allows it)
        load = (weekly - m.current_load - quantity) / weekly if weekly > 0 else 0.0
        if load > 1.0:
            load = 1.0
        # the same sum, in the same order, as ScoreParts.total
        minus_totals.append(-(W_SLACK * slack + W_COST * cost + W_RATING * rating + W_LOAD * load))
        parts.append(new_parts((slack, cost, rating, load)))
        ids.append(m.user_id)
        finish = finish_on.get(lead)
        if finish is None:
            finish = finish_on[lead] = today + timedelta(days=lead)
        finishes.append(finish)
        prices.append(price)
    # two stable sorts on plain keys (no tuple per candidate): by id, then by total
    order = sorted(range(len(ids)), key=ids.__getitem__)
    order.sort(key=minus_totals.__getitem__)
    new = _new_candidate
    return tuple([new((ids[i], qualified[i].name, parts[i], rank, finishes[i], prices[i], notes.get(i, ())))
                  for rank, i in enumerate(order, 1)])


def route(request: RoutingRequest, manufacturers: Sequence[Manufacturer], now: datetime) -> RoutingDecision:
    """Rank the manufacturers that pass every hard filter and choose the best; report
    every other one with the first filter it fails. See the module docs for the rules.
    Manufacturer ids (user ids) are unique: with a duplicate, the order between the two
    would depend on the input order."""
    ctx = _Context.of(request, now)
    buckets, qualified = _screen(ctx, manufacturers)
    candidates = _candidates(ctx, qualified)
    excluded = _exclusions(ctx, buckets)
    chosen = candidates[0] if candidates else None
    counts = {reason: len(bucket) for reason, bucket in zip(_REASONS, buckets, strict=True) if bucket}
    return RoutingDecision(order_id=request.order_id, decided_at=now, candidates=candidates, excluded=excluded,
                           chosen=chosen.manufacturer_id if chosen else None,
                           reason=_reason(candidates, counts))


def check_assignable(manufacturer: Manufacturer, request: RoutingRequest, now: datetime) -> Exclusion | None:
    """The first hard filter ``manufacturer`` fails for ``request`` (as :func:`route`
    would report it), or ``None`` when it may take the order. For manual assignment:
    the caller decides which reasons an override may set aside."""
    ctx = _Context.of(request, now)
    buckets, _ = _screen(ctx, (manufacturer,))
    excluded = _exclusions(ctx, buckets)
    return excluded[0] if excluded else None


_LABELS = {
    ExclusionReason.NOT_VETTED: "not vetted",
    ExclusionReason.NDA_NOT_VALID: "NDA not valid through the wanted-by date",
    ExclusionReason.MISSING_PROCESS: "missing a process",
    ExclusionReason.METAL_NOT_WORKED: "metal not worked",
    ExclusionReason.QUANTITY_OUT_OF_BOUNDS: "quantity out of bounds",
    ExclusionReason.PROBATION_LIMIT: "over the probation limit",
    ExclusionReason.NO_CAPACITY: "no spare capacity",
    ExclusionReason.DOES_NOT_SHIP: "does not ship there",
    ExclusionReason.LEAD_TIME_TOO_LONG: "lead time too long",
    ExclusionReason.DECLINED_BEFORE: "declined before",
}


def _reason(candidates: tuple[Candidate, ...], counts: dict[ExclusionReason, int]) -> str:
    """``counts``: how many were excluded for each reason, in filter order."""
    excluded = sum(counts.values())
    if not candidates:
        if not excluded:
            return "No manufacturer qualifies: there were no manufacturers to consider."
        summary = "; ".join(f"{n:,} {_LABELS[r]}" for r, n in counts.items())
        return f"No manufacturer qualifies: {summary}."
    best = candidates[0]
    parts = best.parts
    text = (f"Chose {best.name} ({best.manufacturer_id}): the best score {parts.total:.3f} "
            f"(slack {parts.slack:.2f}, cost {parts.cost:.2f}, rating {parts.rating:.2f}, load {parts.load:.2f}) "
            f"of {len(candidates):,} qualifying; {excluded:,} excluded.")
    if len(candidates) > 1:
        text += f" Runner-up: {candidates[1].name} at {candidates[1].parts.total:.3f}."
    if best.notes:
        text += " " + " ".join(best.notes)
    return text


def explain(decision: RoutingDecision, *, limit: int = 10) -> list[str]:
    """Lines a production manager can read: the reason, the top ``limit`` candidates
    with their score parts, and the exclusions by reason (at most ``limit`` each)."""
    lines = [decision.reason]
    if decision.candidates:
        lines.append(f"Candidates ({len(decision.candidates):,}):")
        for c in decision.candidates[:limit]:
            p = c.parts
            lines.append(f"  {c.rank}. {c.name} ({c.manufacturer_id}): {p.total:.3f} = "
                         f"{W_SLACK} x slack {p.slack:.2f} + {W_COST} x cost {p.cost:.2f} + "
                         f"{W_RATING} x rating {p.rating:.2f} + {W_LOAD} x load {p.load:.2f}; "
                         f"finishes {c.finish_on}, labour {c.labour_per_piece.format()} a piece")
            lines.extend(f"     {note}" for note in c.notes)
        if len(decision.candidates) > limit:
            lines.append(f"  ... and {len(decision.candidates) - limit:,} more")
    by_reason: dict[ExclusionReason, list[Exclusion]] = {}
    for e in decision.excluded:
        by_reason.setdefault(e.reason, []).append(e)
    for reason in ExclusionReason:
        group = by_reason.get(reason)
        if not group:
            continue
        lines.append(f"Excluded, {_LABELS[reason]} ({len(group):,}):")
        lines.extend(f"  {e.name} ({e.manufacturer_id}): {e.message}" for e in group[:limit])
        if len(group) > limit:
            lines.append(f"  ... and {len(group) - limit:,} more")
    return lines
