"""Issue #4 agreements: created from an acceptance with the exact terms and hash;
exclusivity never sold twice (territory and time overlap), checked in the core."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caratzon_core.agreements import Agreement, AgreementStatus, conclude, in_force
from caratzon_core.errors import Conflict, ValidationFailed
from caratzon_core.licensing import parse_terms, terms_hash
from caratzon_core.negotiation import accept, counter, open_negotiation

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


def terms(exclusive: bool = False, territory: object = "worldwide", start: date | None = None,
          months: int | None = 12):
    return parse_terms({
        "use": "manufacturing",
        "exclusivity": "exclusive" if exclusive else "non_exclusive",
        "territory": territory,
        "term": {"start": (start or TODAY).isoformat(), "months": months},
        "fees": {"flat": {"amount": "1500.00", "currency": "USD"}},
        "unit_cap": 100,
    }, today=TODAY)


def accepted(t, *, neg_id: str = "n1", buyer: str = "b1"):
    neg, _ = open_negotiation(negotiation_id=neg_id, design_id="d1", option_id="o1", buyer_id=buyer,
                              designer_id="des", terms=t, now=NOW)
    neg, _ = counter(neg, "des", t, NOW)  # the designer answers with the same terms
    _, event = accept(neg, buyer, neg.offers[-1].id, NOW)
    return event


def test_an_agreement_carries_the_exact_accepted_terms_and_hash() -> None:
    t = terms()
    agreement = conclude(accepted(t), agreement_id="a1", active=[], now=NOW)
    assert agreement.terms == t and agreement.terms_hash == terms_hash(t)
    assert agreement.effective_date == TODAY and agreement.end_date == date(2027, 11, 27)
    assert agreement.in_force_on(TODAY) and not agreement.in_force_on(date(2027, 11, 27))
    assert in_force([agreement], "d1", TODAY) == [agreement]
    assert in_force([agreement], "other", TODAY) == []


def test_exclusive_rights_are_never_sold_twice() -> None:
    first = conclude(accepted(terms(exclusive=True, territory=["GB", "FR"])), agreement_id="a1", active=[], now=NOW)
    with pytest.raises(Conflict, match="Exclusivity") as err:
        conclude(accepted(terms(territory=["FR"]), neg_id="n2", buyer="b2"), agreement_id="a2", active=[first],
                 now=NOW)
    assert err.value.field == "exclusivity"
    # Another territory, or after the exclusive term ends, is fine.
    conclude(accepted(terms(territory=["US"]), neg_id="n3", buyer="b3"), agreement_id="a3", active=[first], now=NOW)
    later = TODAY + timedelta(days=366)
    conclude(accepted(terms(territory=["FR"], start=later), neg_id="n4", buyer="b4"), agreement_id="a4",
             active=[first], now=NOW)


def test_an_exclusive_licence_cannot_overlap_an_existing_one() -> None:
    plain = conclude(accepted(terms(territory=["DE"])), agreement_id="a1", active=[], now=NOW)
    with pytest.raises(Conflict):
        conclude(accepted(terms(exclusive=True), neg_id="n2", buyer="b2"), agreement_id="a2", active=[plain],
                 now=NOW)
    # A terminated licence no longer blocks an exclusive one.
    terminated = attrs.evolve(plain, status=AgreementStatus.TERMINATED)
    assert conclude(accepted(terms(exclusive=True), neg_id="n3", buyer="b3"), agreement_id="a3",
                    active=[terminated], now=NOW).terms.exclusive


def test_an_offer_accepted_days_later_keeps_its_start_but_a_start_before_the_offer_is_refused() -> None:
    event = accepted(terms())
    later = conclude(event, agreement_id="a1", active=[], now=NOW + timedelta(days=2))
    assert later.effective_date == TODAY and later.terms == event.terms  # exactly the accepted terms
    backdated = attrs.evolve(event, offer_made_at=NOW + timedelta(days=1))
    with pytest.raises(ValidationFailed, match="before the offer was made"):
        conclude(backdated, agreement_id="a1", active=[], now=NOW + timedelta(days=2))


countries = st.sets(st.sampled_from(["GB", "FR", "DE", "US", "CN", "HK"]), min_size=1, max_size=3)
licences = st.tuples(st.booleans(), countries, st.integers(min_value=0, max_value=400),
                     st.one_of(st.none(), st.integers(min_value=1, max_value=24)))


@settings(max_examples=60, deadline=None)
@given(st.lists(licences, max_size=8))
def test_no_two_overlapping_agreements_where_either_is_exclusive(candidates) -> None:
    granted: list[Agreement] = []
    for i, (exclusive, where, offset, months) in enumerate(candidates):
        t = terms(exclusive=exclusive, territory=sorted(where), start=TODAY + timedelta(days=offset), months=months)
        with contextlib.suppress(Conflict):
            granted.append(conclude(accepted(t, neg_id=f"n{i}", buyer=f"b{i}"), agreement_id=f"a{i}",
                                    active=granted, now=NOW))
    for i, a in enumerate(granted):
        for b in granted[i + 1:]:
            if a.terms.exclusive or b.terms.exclusive:
                assert not a.terms.overlaps(b.terms)
