"""Manufacturers (issue #5, part 1): what a workshop can make, for whom, how fast,
and whether it may see production files.

A manufacturer is vetted by an admin or production manager (pending → vetted →
suspended, by whom and when) and works under an NDA with a signed date and an
expiry. Only a vetted manufacturer whose NDA is valid may be assigned a job or
reach production CAD (P20, P28).

The partner score is recomputed daily from the manufacturer's own completed jobs
in a bounded window (the last 6 months); with fewer than 10 jobs a partner is on
probation and gets smaller jobs only.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

import attrs
from attrs import frozen

from caratzon_core.designs import METALS
from caratzon_core.errors import Conflict, ValidationFailed
from caratzon_core.licensing import ISO_3166_ALPHA2
from caratzon_core.money import Money

SCORE_WINDOW = timedelta(days=183)
MIN_JOBS_FOR_RECORD = 10
PROBATION_MAX_QUANTITY = 20  # pieces per job while on probation
MAX_CAPACITY = 100_000
MAX_LEAD_DAYS = 365


class Process(enum.StrEnum):
    LOST_WAX_CASTING = "lost_wax_casting"
    RESIN_PRINTING = "resin_printing"
    WAX_PRINTING = "wax_printing"
    STONE_SETTING_PRONG = "stone_setting_prong"
    STONE_SETTING_PAVE = "stone_setting_pave"
    STONE_SETTING_BEZEL = "stone_setting_bezel"
    STONE_SETTING_CHANNEL = "stone_setting_channel"
    ENGRAVING = "engraving"
    PLATING = "plating"
    ENAMEL = "enamel"


class Vetting(enum.StrEnum):
    PENDING = "pending"
    VETTED = "vetted"
    SUSPENDED = "suspended"


@frozen
class LabourPrice:
    """What the workshop charges: per piece, plus per stone set."""

    per_piece: Money
    per_stone: Money

    def __attrs_post_init__(self) -> None:
        if self.per_piece.currency != self.per_stone.currency:
            raise ValidationFailed("Labour prices use one currency.", field="labour")
        if self.per_piece.amount_minor < 0 or self.per_stone.amount_minor < 0:
            raise ValidationFailed("Labour prices cannot be negative.", field="labour")


@frozen
class PartnerScore:
    """From the manufacturer's own completed jobs in the window; ``None`` rates
    while on probation (too few jobs for a record)."""

    jobs: int
    on_time_rate: Decimal | None  # 0..1
    qc_failure_rate: Decimal | None  # 0..1
    responsiveness_hours: Decimal | None  # median hours to accept or decline an offered job
    rating: Decimal | None  # 0..1, None on probation
    computed_at: datetime | None = None

    @property
    def on_probation(self) -> bool:
        return self.jobs < MIN_JOBS_FOR_RECORD


NEW_PARTNER = PartnerScore(jobs=0, on_time_rate=None, qc_failure_rate=None, responsiveness_hours=None, rating=None)


@frozen
class Manufacturer:
    user_id: str
    name: str
    processes: frozenset[Process]
    metals: frozenset[str]
    min_quantity: int
    max_quantity: int
    weekly_capacity: int  # pieces per week
    current_load: int  # pieces in accepted, unfinished jobs
    lead_time_days: int
    ships_to: frozenset[str]  # ISO 3166-1 alpha-2
    labour: LabourPrice
    vetting: Vetting = Vetting.PENDING
    vetted_by: str | None = None
    vetted_at: datetime | None = None
    nda_signed_on: date | None = None
    nda_expires_on: date | None = None
    score: PartnerScore = NEW_PARTNER
    updated_at: datetime | None = None

    def nda_valid_through(self, day: date) -> bool:
        """Signed, and not expired on ``day`` (an NDA covers its expiry day)."""
        return (self.nda_signed_on is not None and self.nda_expires_on is not None
                and self.nda_signed_on <= day <= self.nda_expires_on)

    def may_handle_production_files(self, today: date) -> bool:
        return self.vetting is Vetting.VETTED and self.nda_valid_through(today)

    @property
    def spare_capacity(self) -> int:
        return max(0, self.weekly_capacity - self.current_load)


# -- profile input ---------------------------------------------------------------------


def _whole(raw: object, field: str, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ValidationFailed(f"{field.replace('_', ' ').capitalize()} is a whole number.", field=field)
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"{field.replace('_', ' ').capitalize()} is a whole number.", field=field) from None
    if not low <= value <= high:
        raise ValidationFailed(f"{field.replace('_', ' ').capitalize()} is between {low} and {high}.", field=field)
    return value


def parse_processes(raw: Iterable[object]) -> frozenset[Process]:
    out = set()
    for item in raw:
        try:
            out.add(Process(str(item)))
        except ValueError:
            allowed = ", ".join(p.value for p in Process)
            raise ValidationFailed(f"Unknown process {item!r}; expected one of: {allowed}.",
                                   field="processes") from None
    if not out:
        raise ValidationFailed("Name at least one process the workshop runs.", field="processes")
    return frozenset(out)


def parse_metals_worked(raw: Iterable[object]) -> frozenset[str]:
    out = set()
    for item in raw:
        if str(item) not in METALS:
            raise ValidationFailed(f"Unknown metal {item!r}; expected one of: {', '.join(METALS)}.", field="metals")
        out.add(str(item))
    if not out:
        raise ValidationFailed("Name at least one metal the workshop works.", field="metals")
    return frozenset(out)


def parse_regions(raw: Iterable[object]) -> frozenset[str]:
    out = set()
    for item in raw:
        code = str(item).strip().upper()
        if code not in ISO_3166_ALPHA2:
            raise ValidationFailed(f"{item!r} is not an ISO 3166-1 alpha-2 country code.", field="ships_to")
        out.add(code)
    if not out:
        raise ValidationFailed("Name at least one country the workshop ships to.", field="ships_to")
    return frozenset(out)


def profile_numbers(*, min_quantity: object, max_quantity: object, weekly_capacity: object,
                    lead_time_days: object) -> tuple[int, int, int, int]:
    problems: list[ValidationFailed] = []
    values: list[int] = []
    for raw, name, low, high in ((min_quantity, "min_quantity", 1, MAX_CAPACITY),
                                 (max_quantity, "max_quantity", 1, MAX_CAPACITY),
                                 (weekly_capacity, "weekly_capacity", 1, MAX_CAPACITY),
                                 (lead_time_days, "lead_time_days", 1, MAX_LEAD_DAYS)):
        try:
            values.append(_whole(raw, name, low, high))
        except ValidationFailed as err:
            problems.append(err)
            values.append(0)
    if not problems and values[0] > values[1]:
        problems.append(ValidationFailed("The minimum quantity is above the maximum.", field="min_quantity"))
    if problems:
        raise ValidationFailed.collect(problems)
    return values[0], values[1], values[2], values[3]


# -- vetting ---------------------------------------------------------------------------


def vet(m: Manufacturer, *, by: str, now: datetime, nda_signed_on: date, nda_expires_on: date) -> Manufacturer:
    """Vet (or re-vet) with an NDA; the NDA must be signed already and run into the future."""
    if nda_signed_on > now.date():
        raise ValidationFailed("The NDA signing date is in the future.", field="nda_signed_on")
    if nda_expires_on < now.date():
        raise ValidationFailed("The NDA would already have expired.", field="nda_until")
    if nda_expires_on < nda_signed_on:
        raise ValidationFailed("The NDA expires before it was signed.", field="nda_until")
    return attrs.evolve(m, vetting=Vetting.VETTED, vetted_by=by, vetted_at=now, nda_signed_on=nda_signed_on,
                        nda_expires_on=nda_expires_on, updated_at=now)


def suspend(m: Manufacturer, *, by: str, now: datetime) -> Manufacturer:
    if m.vetting is Vetting.SUSPENDED:
        raise Conflict("This manufacturer is already suspended.", field="vetting")
    return attrs.evolve(m, vetting=Vetting.SUSPENDED, vetted_by=by, vetted_at=now, updated_at=now)


# -- partner score ---------------------------------------------------------------------


@frozen
class CompletedJob:
    """One job the manufacturer finished (delivered, or failed quality check)."""

    accepted_at: datetime
    offered_at: datetime
    due: date  # wanted-by date
    delivered_on: date | None
    qc_failed: bool


def _median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def partner_score(jobs: Iterable[CompletedJob], now: datetime) -> PartnerScore:
    """The rating from the last :data:`SCORE_WINDOW` of jobs: 60 % on-time delivery,
    30 % quality checks passed, 10 % responsiveness (answering within a day scores
    full marks, two days or more none). Fewer than :data:`MIN_JOBS_FOR_RECORD` jobs:
    on probation, no rating."""
    since = now - SCORE_WINDOW
    recent = [j for j in jobs if j.accepted_at >= since]
    n = len(recent)
    if n == 0:
        return attrs.evolve(NEW_PARTNER, computed_at=now)
    on_time = Decimal(sum(1 for j in recent if j.delivered_on is not None and j.delivered_on <= j.due)) / n
    qc_failures = Decimal(sum(1 for j in recent if j.qc_failed)) / n
    hours = _median([Decimal((j.accepted_at - j.offered_at).total_seconds()) / 3600 for j in recent])
    rating = None
    if n >= MIN_JOBS_FOR_RECORD and hours is not None:
        responsive = min(Decimal(1), max(Decimal(0), (Decimal(48) - hours) / Decimal(24)))
        rating = (Decimal("0.6") * on_time + Decimal("0.3") * (1 - qc_failures)
                  + Decimal("0.1") * responsive).quantize(Decimal("0.0001"))
    q = Decimal("0.0001")
    return PartnerScore(jobs=n, on_time_rate=on_time.quantize(q), qc_failure_rate=qc_failures.quantize(q),
                        responsiveness_hours=hours.quantize(Decimal("0.01")) if hours is not None else None,
                        rating=rating, computed_at=now)
