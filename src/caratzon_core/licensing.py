"""Licence terms (issue #4, part 1): what a buyer may do with a design, for how long,
where, how many pieces, and for what fee.

Terms are frozen values. Their canonical JSON (sorted keys, compact, ISO dates,
money as integer minor units, sets sorted) is what gets hashed and stored with an
agreement, so the same terms always give the same bytes and the same hash.

Exclusivity is checked here too: an exclusive licence may not overlap (territory
and time) any active licence on the same design, and no licence may overlap an
active exclusive one — the designer's own further licensing included.
"""

from __future__ import annotations

import calendar
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import TypeVar

from attrs import field, frozen

from caratzon_core.errors import ValidationFailed
from caratzon_core.money import CURRENCY_EXPONENTS, Money

# ISO 3166-1 alpha-2: the 249 officially assigned codes.
ISO_3166_ALPHA2: frozenset[str] = frozenset({
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ",
    "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW",
    "CX", "CY", "CZ",
    "DE", "DJ", "DK", "DM", "DO", "DZ",
    "EC", "EE", "EG", "EH", "ER", "ES", "ET",
    "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT",
    "GU", "GW", "GY",
    "HK", "HM", "HN", "HR", "HT", "HU",
    "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT",
    "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ",
    "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY",
    "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ",
    "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM",
    "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY",
    "QA",
    "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ",
    "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ",
    "UA", "UG", "UM", "US", "UY", "UZ",
    "VA", "VC", "VE", "VG", "VI", "VN", "VU",
    "WF", "WS",
    "YE", "YT",
    "ZA", "ZM", "ZW",
})

# Codes people type that are not ISO 3166-1 alpha-2, with the code they mean.
_COMMON_MISTAKES = {"UK": "GB", "EL": "GR", "EU": "the member states' codes"}

MAX_TERM_MONTHS = 1200  # 100 years; longer is "perpetual"
WORLDWIDE = "worldwide"


class Use(enum.StrEnum):
    MANUFACTURING = "manufacturing"  # produce and sell physical pieces
    EDITORIAL = "editorial"  # show, not sell
    PERSONAL = "personal"


class Exclusivity(enum.StrEnum):
    NON_EXCLUSIVE = "non_exclusive"
    EXCLUSIVE = "exclusive"  # shuts out every other licensee, the designer's own further licensing included


class Modification(enum.StrEnum):
    RING_SIZE = "ring_size"
    STONE_SIZE = "stone_size"
    METAL = "metal"


# -- territory -----------------------------------------------------------------------


def _country_problem(code: str) -> str:
    hint = _COMMON_MISTAKES.get(code)
    suffix = f" (did you mean {hint}?)" if hint else ""
    return f"Territory code {code!r} is not an ISO 3166-1 alpha-2 country code{suffix}."


def _check_countries(instance: Territory, attribute: object, value: frozenset[str]) -> None:
    if not isinstance(value, frozenset):
        raise ValidationFailed("Territory countries are a set of country codes.", field="territory")
    for code in sorted(value):
        if code not in ISO_3166_ALPHA2:
            raise ValidationFailed(_country_problem(code), field="territory")


@frozen
class Territory:
    """Worldwide, or a non-empty set of ISO 3166-1 alpha-2 country codes."""

    worldwide: bool = False
    countries: frozenset[str] = field(default=frozenset(), validator=_check_countries)

    def __attrs_post_init__(self) -> None:
        if self.worldwide and self.countries:
            raise ValidationFailed("A territory is either worldwide or a list of countries, not both.",
                                   field="territory")
        if not self.worldwide and not self.countries:
            raise ValidationFailed("A territory needs at least one country code, or 'worldwide'.",
                                   field="territory")

    @classmethod
    def world(cls) -> Territory:
        return cls(worldwide=True)

    @classmethod
    def of(cls, *codes: str) -> Territory:
        return cls(countries=frozenset(codes))

    def overlaps(self, other: Territory) -> bool:
        if self.worldwide or other.worldwide:
            return True
        return not self.countries.isdisjoint(other.countries)


# -- term ----------------------------------------------------------------------------


def add_months(start: date, months: int) -> date:
    """Calendar months: 31 January + 1 month is the last day of February."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise ValidationFailed("The term ends beyond the calendar.", field="term")
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def _check_months(instance: Term, attribute: object, value: int | None) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed("A term is a whole number of months.", field="term.months")
    if not 1 <= value <= MAX_TERM_MONTHS:
        raise ValidationFailed(f"A term runs between 1 and {MAX_TERM_MONTHS} months, or is perpetual.",
                               field="term.months")


@frozen
class Term:
    """From ``start`` for ``months`` calendar months; ``months=None`` is perpetual.

    The term covers the half-open interval [start, end): ``end`` is the first day
    no longer covered."""

    start: date
    months: int | None = field(default=None, validator=_check_months)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.start, date):
            raise ValidationFailed("A term starts on a date.", field="term.start")
        _ = self.end  # refuse terms that end beyond the calendar

    @property
    def perpetual(self) -> bool:
        return self.months is None

    @property
    def end(self) -> date | None:
        return None if self.months is None else add_months(self.start, self.months)

    def overlaps(self, other: Term) -> bool:
        self_end, other_end = self.end, other.end
        starts_before_other_ends = other_end is None or self.start < other_end
        other_starts_before_self_ends = self_end is None or other.start < self_end
        return starts_before_other_ends and other_starts_before_self_ends

    def active_on(self, day: date) -> bool:
        end = self.end
        return self.start <= day and (end is None or day < end)


# -- fees ----------------------------------------------------------------------------


def attribute_name(label: str) -> str:
    return {"flat fee": "flat", "royalty per unit": "royalty_per_unit"}[label]


def _positive(value: Money | None, label: str) -> None:
    if value is None:
        return
    if not isinstance(value, Money):
        raise ValidationFailed(f"The {label} is an amount of money.", field=f"fees.{attribute_name(label)}")
    if value.amount_minor <= 0:
        raise ValidationFailed(f"The {label} must be more than zero.", field=f"fees.{attribute_name(label)}")


def _check_flat(instance: Fees, attribute: object, value: Money | None) -> None:
    _positive(value, "flat fee")


def _check_royalty(instance: Fees, attribute: object, value: Money | None) -> None:
    _positive(value, "royalty per unit")


@frozen
class Fees:
    """A flat fee, a per-unit royalty, or both; each more than zero, in one currency."""

    flat: Money | None = field(default=None, validator=_check_flat)
    royalty_per_unit: Money | None = field(default=None, validator=_check_royalty)

    def __attrs_post_init__(self) -> None:
        if self.flat is None and self.royalty_per_unit is None:
            raise ValidationFailed("Name a flat fee, a per-unit royalty, or both.", field="fees")
        if self.flat is not None and self.royalty_per_unit is not None \
                and self.flat.currency != self.royalty_per_unit.currency:
            raise ValidationFailed(
                f"One offer uses one currency: the flat fee is in {self.flat.currency} but the royalty "
                f"is in {self.royalty_per_unit.currency}.",
                field="currency",
            )

    @property
    def currency(self) -> str:
        money = self.flat or self.royalty_per_unit
        assert money is not None
        return money.currency


# -- licence terms -------------------------------------------------------------------


def _check_unit_cap(instance: LicenceTerms, attribute: object, value: int | None) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValidationFailed("The unit cap is a whole number of pieces above zero, or unlimited.",
                               field="unit_cap")


def _check_modifications(instance: LicenceTerms, attribute: object, value: frozenset[Modification]) -> None:
    if not isinstance(value, frozenset) or not all(isinstance(m, Modification) for m in value):
        raise ValidationFailed("'may_modify' is a set of: " + ", ".join(m.value for m in Modification) + ".",
                               field="may_modify")


def _check_cad(instance: LicenceTerms, attribute: object, value: bool) -> None:
    if value is not False:
        raise ValidationFailed("CAD files are never redistributable; no licence can grant that.",
                               field="cad_redistributable")


@frozen
class LicenceTerms:
    use: Use
    exclusivity: Exclusivity
    territory: Territory
    term: Term
    fees: Fees
    unit_cap: int | None = field(default=None, validator=_check_unit_cap)  # None = unlimited
    may_modify: frozenset[Modification] = field(default=frozenset(), validator=_check_modifications)
    attribution_required: bool = True
    cad_redistributable: bool = field(default=False, validator=_check_cad)

    @property
    def exclusive(self) -> bool:
        return self.exclusivity is Exclusivity.EXCLUSIVE

    def overlaps(self, other: LicenceTerms) -> bool:
        """Territory and time both intersect."""
        return self.territory.overlaps(other.territory) and self.term.overlaps(other.term)


# -- canonical JSON ------------------------------------------------------------------


def _money_json(money: Money | None) -> dict[str, object] | None:
    return None if money is None else {"amount_minor": money.amount_minor, "currency": money.currency}


def terms_to_json_object(terms: LicenceTerms) -> dict[str, object]:
    """The canonical plain-data shape: what :func:`canonical_json` serialises and
    :func:`parse_terms` reads back."""
    return {
        "use": terms.use.value,
        "exclusivity": terms.exclusivity.value,
        "territory": {"worldwide": terms.territory.worldwide, "countries": sorted(terms.territory.countries)},
        "term": {"start": terms.term.start.isoformat(), "months": terms.term.months},
        "unit_cap": terms.unit_cap,
        "fees": {"flat": _money_json(terms.fees.flat), "royalty_per_unit": _money_json(terms.fees.royalty_per_unit)},
        "may_modify": sorted(m.value for m in terms.may_modify),
        "attribution_required": terms.attribution_required,
        "cad_redistributable": terms.cad_redistributable,
    }


def canonical_json(terms: LicenceTerms) -> bytes:
    """Sorted keys, no whitespace, ASCII, dates ISO 8601, money in minor units, sets sorted."""
    return json.dumps(
        terms_to_json_object(terms), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def terms_hash(terms: LicenceTerms) -> str:
    """SHA-256 of the canonical JSON, hex."""
    return hashlib.sha256(canonical_json(terms)).hexdigest()


# -- parsing (the edge hands us plain data) ------------------------------------------

E = TypeVar("E", bound=enum.StrEnum)

_FIELDS = frozenset({
    "use", "exclusivity", "territory", "term", "unit_cap", "fees", "may_modify",
    "attribution_required", "cad_redistributable",
})


def _enum_value(kind: type[E], raw: object, field_name: str) -> E:
    try:
        return kind(str(raw))
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ValidationFailed(f"Unknown {field_name.replace('_', ' ')} {raw!r}; expected one of: {allowed}.",
                               field=field_name) from None


def parse_territory(raw: object) -> Territory:
    if isinstance(raw, str):
        if raw.strip().lower() == WORLDWIDE:
            return Territory.world()
        raise ValidationFailed("A territory is 'worldwide' or a list of ISO 3166-1 alpha-2 country codes.",
                               field="territory")
    if isinstance(raw, Mapping):
        worldwide = raw.get("worldwide", False)
        if not isinstance(worldwide, bool):
            raise ValidationFailed("'worldwide' is true or false.", field="territory")
        countries = raw.get("countries", [])
        if worldwide and not countries:
            return Territory.world()
        if worldwide:
            raise ValidationFailed("A territory is either worldwide or a list of countries, not both.",
                                   field="territory")
        return parse_territory(countries)
    if isinstance(raw, list | tuple):
        codes: list[str] = []
        for item in raw:
            if not isinstance(item, str):
                raise ValidationFailed(f"Territory code {item!r} is not an ISO 3166-1 alpha-2 country code.",
                                       field="territory")
            codes.append(item.strip().upper())
        bad = [c for c in codes if c not in ISO_3166_ALPHA2]
        if bad:
            raise ValidationFailed(_country_problem(bad[0]) if len(bad) == 1 else
                                   f"Territory codes {', '.join(map(repr, bad))} are not ISO 3166-1 alpha-2 "
                                   "country codes.", field="territory")
        return Territory(countries=frozenset(codes))
    raise ValidationFailed("A territory is 'worldwide' or a list of ISO 3166-1 alpha-2 country codes.",
                           field="territory")


def parse_term(raw: object, *, today: date) -> Term:
    if not isinstance(raw, Mapping):
        raise ValidationFailed("A term has a start date and a number of months (or none, for perpetual).",
                               field="term")
    start_raw = raw.get("start")
    if isinstance(start_raw, date):
        start = start_raw
    else:
        try:
            start = date.fromisoformat(str(start_raw))
        except ValueError:
            raise ValidationFailed(f"Term start {start_raw!r} is not a date (YYYY-MM-DD).",
                                   field="term.start") from None
    if start < today:
        raise ValidationFailed(f"The term cannot start in the past ({start.isoformat()} is before "
                               f"{today.isoformat()}).", field="term.start")
    months = raw.get("months")
    if months is not None and (not isinstance(months, int) or isinstance(months, bool)):
        raise ValidationFailed("A term is a whole number of months, or perpetual.", field="term.months")
    unknown = set(raw) - {"start", "months"}
    if unknown:
        raise ValidationFailed(f"Unknown term field(s): {', '.join(sorted(map(str, unknown)))}.", field="term")
    return Term(start, months)


def _parse_money(raw: object, label: str) -> Money | None:
    key = attribute_name(label)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValidationFailed(f"The {label} is an amount and a currency.", field=f"fees.{key}")
    currency = str(raw.get("currency") or "").strip().upper()
    if currency not in CURRENCY_EXPONENTS:
        raise ValidationFailed(f"Unknown currency {raw.get('currency')!r} for the {label}; use an ISO 4217 code "
                               "such as USD or HKD.", field="currency")
    if "amount_minor" in raw:
        minor = raw["amount_minor"]
        if not isinstance(minor, int) or isinstance(minor, bool):
            raise ValidationFailed(f"The {label} is a whole number of minor units.", field=f"fees.{key}")
        money = Money(minor, currency)
    else:
        amount = raw.get("amount")
        if not isinstance(amount, str | int):
            raise ValidationFailed(f"The {label} needs an amount.", field=f"fees.{key}")
        money = Money.parse(amount, currency, field_name=f"fees.{key}")
    if money.amount_minor <= 0:
        raise ValidationFailed(f"The {label} must be more than zero.", field=f"fees.{key}")
    return money


def parse_fees(raw: object) -> Fees:
    if not isinstance(raw, Mapping):
        raise ValidationFailed("Name a flat fee, a per-unit royalty, or both.", field="fees")
    problems: list[ValidationFailed] = []
    parsed: dict[str, Money | None] = {}
    for label in ("flat fee", "royalty per unit"):
        try:
            parsed[label] = _parse_money(raw.get(attribute_name(label)), label)
        except ValidationFailed as problem:
            problems.append(problem)
    unknown = set(raw) - {"flat", "royalty_per_unit"}
    if unknown:
        problems.append(ValidationFailed(f"Unknown fee field(s): {', '.join(sorted(map(str, unknown)))}.",
                                         field="fees"))
    if problems:
        raise ValidationFailed.collect(problems)
    return Fees(flat=parsed["flat fee"], royalty_per_unit=parsed["royalty per unit"])


def parse_modifications(raw: object) -> frozenset[Modification]:
    if raw is None:
        return frozenset()
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise ValidationFailed("'may_modify' is a list of: " + ", ".join(m.value for m in Modification) + ".",
                               field="may_modify")
    return frozenset(_enum_value(Modification, item, "may_modify") for item in raw)


def _parse_bool(raw: object, field_name: str) -> bool:
    if not isinstance(raw, bool):
        raise ValidationFailed(f"'{field_name}' is true or false.", field=field_name)
    return raw


def _parse_unit_cap(raw: object) -> int | None:
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or raw <= 0:
        raise ValidationFailed("The unit cap is a whole number of pieces above zero, or unlimited.",
                               field="unit_cap")
    return raw


def parse_terms(raw: Mapping[str, object], *, today: date) -> LicenceTerms:
    """Plain data (the canonical JSON shape, or the friendlier 'worldwide' / list of
    codes / decimal amount forms) to :class:`LicenceTerms`. Every field is checked and
    every problem reported in one :class:`ValidationFailed`."""
    problems: list[ValidationFailed] = []
    values: dict[str, object] = {}

    def attempt(name: str, parse: object) -> None:
        try:
            values[name] = parse() if callable(parse) else parse
        except ValidationFailed as problem:
            problems.append(problem)

    for required in ("use", "territory", "term", "fees"):
        if required not in raw:
            problems.append(ValidationFailed(f"'{required}' is required.", field=required))
    if "use" in raw:
        attempt("use", lambda: _enum_value(Use, raw["use"], "use"))
    attempt("exclusivity", lambda: _enum_value(Exclusivity, raw.get("exclusivity", "non_exclusive"), "exclusivity"))
    if "territory" in raw:
        attempt("territory", lambda: parse_territory(raw["territory"]))
    if "term" in raw:
        attempt("term", lambda: parse_term(raw["term"], today=today))
    if "fees" in raw:
        attempt("fees", lambda: parse_fees(raw["fees"]))
    attempt("unit_cap", lambda: _parse_unit_cap(raw.get("unit_cap")))
    attempt("may_modify", lambda: parse_modifications(raw.get("may_modify")))
    attempt("attribution_required", lambda: _parse_bool(raw.get("attribution_required", True),
                                                        "attribution_required"))
    if raw.get("cad_redistributable", False) is not False:
        problems.append(ValidationFailed("CAD files are never redistributable; no licence can grant that.",
                                         field="cad_redistributable"))
    for unknown in sorted(set(map(str, raw)) - _FIELDS):
        problems.append(ValidationFailed(f"Unknown field {unknown!r}.", field=unknown))
    if problems:
        raise ValidationFailed.collect(problems)
    return LicenceTerms(
        use=values["use"],  # type: ignore[arg-type]
        exclusivity=values["exclusivity"],  # type: ignore[arg-type]
        territory=values["territory"],  # type: ignore[arg-type]
        term=values["term"],  # type: ignore[arg-type]
        fees=values["fees"],  # type: ignore[arg-type]
        unit_cap=values["unit_cap"],  # type: ignore[arg-type]
        may_modify=values["may_modify"],  # type: ignore[arg-type]
        attribution_required=values["attribution_required"],  # type: ignore[arg-type]
    )


# -- exclusivity ---------------------------------------------------------------------


def _describe(terms: LicenceTerms) -> str:
    where = WORLDWIDE if terms.territory.worldwide else ", ".join(sorted(terms.territory.countries))
    end = terms.term.end
    until = "perpetual" if end is None else f"until {end.isoformat()}"
    return f"{terms.exclusivity.value} {terms.use.value} licence, {where}, from {terms.term.start.isoformat()} {until}"


def conflicts(new: LicenceTerms, existing_active: Iterable[LicenceTerms]) -> str | None:
    """Why ``new`` cannot be granted next to the active licences on the same design,
    or None when it can. Overlapping means territory ∩ and term ∩ both non-empty."""
    for existing in existing_active:
        if not new.overlaps(existing):
            continue
        if existing.exclusive:
            return ("Exclusivity: an active exclusive licence covers this territory and time, so no other "
                    f"licence may overlap it ({_describe(existing)}).")
        if new.exclusive:
            return ("Exclusivity: an exclusive licence cannot overlap an active licence on the same design in "
                    f"territory and time ({_describe(existing)}).")
    return None
