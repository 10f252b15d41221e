"""Licence terms: every bad input is one clear error naming the rule; canonical JSON
is deterministic; overlap is symmetric; exclusivity never lets two overlapping
exclusive licences stand (issue #4)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caratzon_core.errors import ValidationFailed
from caratzon_core.licensing import (
    ISO_3166_ALPHA2,
    Exclusivity,
    Fees,
    LicenceTerms,
    Modification,
    Term,
    Territory,
    Use,
    add_months,
    canonical_json,
    conflicts,
    parse_terms,
    terms_hash,
    terms_to_json_object,
)
from caratzon_core.money import Money

TODAY = date(2026, 3, 1)


def raw_terms(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "use": "manufacturing",
        "exclusivity": "non_exclusive",
        "territory": ["HK", "SG"],
        "term": {"start": "2026-04-01", "months": 12},
        "unit_cap": 500,
        "fees": {"flat": {"amount_minor": 250_000, "currency": "USD"},
                 "royalty_per_unit": {"amount": "12.50", "currency": "USD"}},
        "may_modify": ["ring_size", "metal"],
        "attribution_required": True,
    }
    base.update(changes)
    return base


def terms(
    *,
    exclusive: bool = False,
    countries: tuple[str, ...] | None = ("HK",),
    start: date = date(2026, 4, 1),
    months: int | None = 12,
) -> LicenceTerms:
    return LicenceTerms(
        use=Use.MANUFACTURING,
        exclusivity=Exclusivity.EXCLUSIVE if exclusive else Exclusivity.NON_EXCLUSIVE,
        territory=Territory.world() if countries is None else Territory(countries=frozenset(countries)),
        term=Term(start, months),
        fees=Fees(flat=Money(100_00, "USD")),
    )


def test_the_code_list_is_the_full_iso_3166_1_alpha_2_list() -> None:
    assert len(ISO_3166_ALPHA2) == 249
    assert all(len(c) == 2 and c.isalpha() and c.isupper() for c in ISO_3166_ALPHA2)
    assert {"GB", "HK", "TW", "XK"} & ISO_3166_ALPHA2 == {"GB", "HK", "TW"}  # XK is user-assigned


def test_good_terms_parse_with_friendly_forms() -> None:
    parsed = parse_terms(raw_terms(), today=TODAY)
    assert parsed.territory == Territory.of("HK", "SG")
    assert parsed.term.end == date(2027, 4, 1)
    assert parsed.fees.royalty_per_unit == Money(1250, "USD")
    assert parsed.may_modify == {Modification.RING_SIZE, Modification.METAL}
    assert parsed.cad_redistributable is False


def test_worldwide_perpetual_unlimited_parses() -> None:
    parsed = parse_terms(raw_terms(territory="Worldwide", term={"start": "2026-03-01", "months": None},
                                   unit_cap=None), today=TODAY)
    assert parsed.territory.worldwide and parsed.term.perpetual and parsed.unit_cap is None


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"fees": {"flat": {"amount_minor": 0, "currency": "USD"}}}, "fees.flat", "more than zero"),
        ({"fees": {"flat": {"amount_minor": -5, "currency": "USD"}}}, "fees.flat", "more than zero"),
        ({"fees": {"royalty_per_unit": {"amount": "-1.00", "currency": "USD"}}}, "fees.royalty_per_unit",
         "more than zero"),
        ({"fees": {}}, "fees", "flat fee, a per-unit royalty"),
        ({"fees": {"flat": {"amount_minor": 100, "currency": "XYZ"}}}, "currency", "Unknown currency"),
        ({"fees": {"flat": {"amount_minor": 100, "currency": "USD"},
                   "royalty_per_unit": {"amount_minor": 100, "currency": "HKD"}}}, "currency", "one currency"),
        ({"fees": {"flat": {"amount": "1.005", "currency": "USD"}}}, "fees.flat", "decimal places"),
        ({"territory": ["HK", "XX"]}, "territory", "not an ISO 3166-1"),
        ({"territory": ["UK"]}, "territory", "did you mean GB"),
        ({"territory": []}, "territory", "at least one country"),
        ({"territory": {"worldwide": True, "countries": ["HK"]}}, "territory", "not both"),
        ({"term": {"start": "2026-02-28", "months": 12}}, "term.start", "past"),
        ({"term": {"start": "not-a-date", "months": 12}}, "term.start", "not a date"),
        ({"term": {"start": "2026-04-01", "months": 0}}, "term.months", "between 1 and"),
        ({"term": {"start": "2026-04-01", "months": 1.5}}, "term.months", "whole number"),
        ({"unit_cap": 0}, "unit_cap", "above zero"),
        ({"unit_cap": -3}, "unit_cap", "above zero"),
        ({"use": "resale"}, "use", "Unknown use"),
        ({"exclusivity": "semi"}, "exclusivity", "Unknown exclusivity"),
        ({"may_modify": ["engraving"]}, "may_modify", "Unknown may modify"),
        ({"attribution_required": "yes"}, "attribution_required", "true or false"),
        ({"cad_redistributable": True}, "cad_redistributable", "never redistributable"),
        ({"colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_bad_input_names_the_rule(changes: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_terms(raw_terms(**changes), today=TODAY)
    problems = caught.value.by_field()
    assert field in problems, problems
    assert words in problems[field]


def test_every_problem_is_reported_at_once() -> None:
    raw = raw_terms(territory=["ZZ"], unit_cap=0, term={"start": "2020-01-01", "months": 12},
                    fees={"flat": {"amount_minor": 0, "currency": "USD"}})
    del raw["use"]
    with pytest.raises(ValidationFailed) as caught:
        parse_terms(raw, today=TODAY)
    assert set(caught.value.by_field()) == {"use", "territory", "term.start", "fees.flat", "unit_cap"}


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Fees(), "fees"),
        (lambda: Fees(flat=Money(0, "USD")), "fees.flat"),
        (lambda: Fees(flat=Money(1, "USD"), royalty_per_unit=Money(1, "EUR")), "currency"),
        (lambda: Territory(), "territory"),
        (lambda: Territory(countries=frozenset({"QQ"})), "territory"),
        (lambda: Term(date(2026, 1, 1), 0), "term.months"),
        (lambda: Term(date(9999, 6, 1), 12), "term"),
        (lambda: LicenceTerms(Use.PERSONAL, Exclusivity.NON_EXCLUSIVE, Territory.world(), Term(TODAY),
                              Fees(flat=Money(1, "USD")), cad_redistributable=True), "cad_redistributable"),
        (lambda: LicenceTerms(Use.PERSONAL, Exclusivity.NON_EXCLUSIVE, Territory.world(), Term(TODAY),
                              Fees(flat=Money(1, "USD")), unit_cap=0), "unit_cap"),
    ],
)
def test_the_model_refuses_what_parsing_refuses(build: Any, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        build()
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (date(2026, 4, 1), 12, date(2027, 4, 1)),
    ],
)
def test_term_end_counts_calendar_months(start: date, months: int, end: date) -> None:
    assert add_months(start, months) == end
    assert Term(start, months).end == end


def test_terms_that_only_touch_do_not_overlap() -> None:
    first = Term(date(2026, 4, 1), 12)
    assert not first.overlaps(Term(date(2027, 4, 1), 12))
    assert first.overlaps(Term(date(2027, 3, 31), 1))
    assert first.overlaps(Term(date(2020, 1, 1)))  # perpetual, started earlier


def test_canonical_json_shape() -> None:
    parsed = parse_terms(raw_terms(territory=["SG", "HK"]), today=TODAY)
    text = canonical_json(parsed)
    assert text == (
        b'{"attribution_required":true,"cad_redistributable":false,"exclusivity":"non_exclusive",'
        b'"fees":{"flat":{"amount_minor":250000,"currency":"USD"},"royalty_per_unit":{"amount_minor":1250,'
        b'"currency":"USD"}},"may_modify":["metal","ring_size"],"term":{"months":12,"start":"2026-04-01"},'
        b'"territory":{"countries":["HK","SG"],"worldwide":false},"unit_cap":500,"use":"manufacturing"}'
    )
    assert len(terms_hash(parsed)) == 64


def test_exclusivity_conflicts_name_the_rule() -> None:
    active = [terms(exclusive=True, countries=("HK",))]
    reason = conflicts(terms(countries=("HK", "SG")), active)
    assert reason is not None and "Exclusivity" in reason and "exclusive" in reason
    assert conflicts(terms(countries=("SG",)), active) is None  # other territory
    assert conflicts(terms(countries=("HK",), start=date(2027, 4, 1)), active) is None  # after it ends
    reason = conflicts(terms(exclusive=True, countries=None), [terms(countries=("FR",))])
    assert reason is not None and "cannot overlap" in reason
    assert conflicts(terms(), [terms(), terms()]) is None  # non-exclusive licences coexist


# -- properties ----------------------------------------------------------------------

CODES = sorted(ISO_3166_ALPHA2)

money = st.builds(Money, st.integers(1, 10**9), st.just("USD"))
territories = st.one_of(
    st.just(Territory.world()),
    st.frozensets(st.sampled_from(CODES[:12]), min_size=1, max_size=5).map(lambda c: Territory(countries=c)),
)
term_values = st.builds(
    Term, st.dates(min_value=date(2026, 3, 1), max_value=date(2030, 12, 31)), st.none() | st.integers(1, 60)
)
fees = st.one_of(
    st.builds(Fees, flat=money),
    st.builds(Fees, royalty_per_unit=money),
    st.builds(Fees, flat=money, royalty_per_unit=money),
)
licence_terms = st.builds(
    LicenceTerms,
    use=st.sampled_from(Use),
    exclusivity=st.sampled_from(Exclusivity),
    territory=territories,
    term=term_values,
    fees=fees,
    unit_cap=st.none() | st.integers(1, 10_000),
    may_modify=st.frozensets(st.sampled_from(Modification)),
    attribution_required=st.booleans(),
)


@given(licence_terms, st.randoms(use_true_random=False))
def test_canonical_json_is_deterministic_and_survives_reordering(t: LicenceTerms, rnd: Any) -> None:
    data = terms_to_json_object(t)
    # Shuffle the sets and the key order, as another producer might send them.
    territory = data["territory"]
    assert isinstance(territory, dict) and isinstance(data["may_modify"], list)
    countries = list(territory["countries"])
    mods = list(data["may_modify"])
    rnd.shuffle(countries)
    rnd.shuffle(mods)
    shuffled = dict(data, territory={"countries": countries, "worldwide": t.territory.worldwide}, may_modify=mods)
    items = list(shuffled.items())
    rnd.shuffle(items)
    reparsed = parse_terms(json.loads(json.dumps(dict(items))), today=date(2026, 3, 1))
    assert reparsed == t
    assert canonical_json(reparsed) == canonical_json(t)
    assert terms_hash(reparsed) == terms_hash(t)
    assert json.loads(canonical_json(t)) == data


@given(licence_terms, licence_terms)
def test_overlap_is_symmetric(a: LicenceTerms, b: LicenceTerms) -> None:
    assert a.territory.overlaps(b.territory) == b.territory.overlaps(a.territory)
    assert a.term.overlaps(b.term) == b.term.overlaps(a.term)
    assert a.overlaps(b) == b.overlaps(a)
    assert a.overlaps(a)


@settings(max_examples=150)
@given(st.lists(licence_terms, max_size=12))
def test_conflicts_never_allows_two_overlapping_exclusives(candidates: list[LicenceTerms]) -> None:
    granted: list[LicenceTerms] = []
    for candidate in candidates:
        if conflicts(candidate, granted) is None:
            granted.append(candidate)
    for i, a in enumerate(granted):
        for b in granted[i + 1:]:
            if a.overlaps(b):
                assert not a.exclusive and not b.exclusive
