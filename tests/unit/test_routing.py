"""Routing (issue #5, part 4): the hard filters in their documented order, each with a
readable message; the score parts and their weights; ranking and determinism.

The property tests check the fast implementation against a plain, filter-by-filter
reading of the rules (:func:`reference_reason`) and the promises of the decision:
a manufacturer that declined is never chosen, an unqualified newcomer changes nothing,
a better manufacturer never ranks below its twin, and the input order does not matter.
"""

from __future__ import annotations

import copy
import math
import pickle
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from caratzon_core.errors import ValidationFailed
from caratzon_core.manufacturers import (
    MIN_JOBS_FOR_RECORD,
    NEW_PARTNER,
    PROBATION_MAX_QUANTITY,
    LabourPrice,
    Manufacturer,
    PartnerScore,
    Process,
    Vetting,
)
from caratzon_core.money import Money
from caratzon_core.routing import (
    W_COST,
    W_LOAD,
    W_RATING,
    W_SLACK,
    Candidate,
    Exclusion,
    ExclusionReason,
    Exclusions,
    RoutingDecision,
    RoutingRequest,
    ScoreParts,
    check_assignable,
    explain,
    route,
)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
CAST, PRONG, ENGRAVE = Process.LOST_WAX_CASTING, Process.STONE_SETTING_PRONG, Process.ENGRAVING
R = ExclusionReason


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def score(jobs: int, rating: str | None) -> PartnerScore:
    return PartnerScore(jobs=jobs, on_time_rate=None, qc_failure_rate=None, responsiveness_hours=None,
                        rating=Decimal(rating) if rating is not None else None, computed_at=NOW)


def request(**changes: Any) -> RoutingRequest:
    values: dict[str, Any] = {
        "order_id": "order-1", "processes": frozenset({CAST, PRONG}), "metal": "18k_yellow", "quantity": 10,
        "ship_to": "DE", "wanted_by": date(2026, 12, 28), "labour_budget": usd(4000),
    }
    values.update(changes)
    return RoutingRequest(**values)


def maker(user_id: str = "m-1", **changes: Any) -> Manufacturer:
    """A manufacturer that qualifies for ``request()``, with ``changes``."""
    values: dict[str, Any] = {
        "user_id": user_id, "name": f"Workshop {user_id}", "processes": frozenset({CAST, PRONG, ENGRAVE}),
        "metals": frozenset({"18k_yellow", "platinum_950"}), "min_quantity": 1, "max_quantity": 100,
        "weekly_capacity": 100, "current_load": 20, "lead_time_days": 14, "ships_to": frozenset({"DE", "FR"}),
        "labour": LabourPrice(usd(3000), usd(200)), "vetting": Vetting.VETTED, "vetted_by": "admin-1",
        "vetted_at": datetime(2026, 1, 5, tzinfo=UTC), "nda_signed_on": date(2026, 1, 5),
        "nda_expires_on": date(2027, 12, 31), "score": score(25, "0.9000"),
    }
    values.update(changes)
    return Manufacturer(**values)


# -- a plain reading of the rules, to check the fast loop against -----------------------


def reference_reason(m: Manufacturer, r: RoutingRequest, today: date) -> ExclusionReason | None:
    nda_ok = (m.nda_signed_on is not None and m.nda_expires_on is not None and m.nda_signed_on <= today
              and all(m.nda_valid_through(today + timedelta(days=d)) for d in range((r.wanted_by - today).days + 1)))
    checks = [
        (R.NOT_VETTED, m.vetting is Vetting.VETTED),
        (R.NDA_NOT_VALID, nda_ok),
        (R.MISSING_PROCESS, r.processes.issubset(m.processes)),
        (R.METAL_NOT_WORKED, r.metal in m.metals),
        (R.QUANTITY_OUT_OF_BOUNDS, m.min_quantity <= r.quantity <= m.max_quantity),
        (R.PROBATION_LIMIT, not (m.score.on_probation and r.quantity > PROBATION_MAX_QUANTITY)),
        (R.NO_CAPACITY, m.spare_capacity >= r.quantity),
        (R.DOES_NOT_SHIP, r.ship_to in m.ships_to),
        (R.LEAD_TIME_TOO_LONG, today + timedelta(days=m.lead_time_days) <= r.wanted_by),
        (R.DECLINED_BEFORE, m.user_id not in r.excluded),
    ]
    return next((reason for reason, ok in checks if not ok), None)


# -- strategies: valid manufacturers (as manufacturers.py's validators allow) --------------

PROCESSES = [CAST, PRONG, ENGRAVE]
METAL_CODES = ["18k_yellow", "platinum_950", "sterling_silver"]
COUNTRIES = ["DE", "FR", "US"]


@st.composite
def manufacturers(draw: st.DrawFn, user_id: str) -> Manufacturer:
    min_q = draw(st.integers(1, 40))
    weekly = draw(st.integers(1, 300))
    currency = draw(st.sampled_from(["USD", "USD", "USD", "EUR"]))
    vetting = draw(st.sampled_from([Vetting.VETTED] * 4 + [Vetting.PENDING, Vetting.SUSPENDED]))
    signed = draw(st.none() | st.dates(TODAY - timedelta(days=800), TODAY))
    expires = signed + timedelta(days=draw(st.integers(0, 900))) if signed is not None else None
    jobs = draw(st.integers(0, 40))
    rating = Decimal(draw(st.integers(0, 10_000))) / 10_000 if jobs >= MIN_JOBS_FOR_RECORD else None
    return Manufacturer(
        user_id=user_id, name=f"Workshop {user_id}",
        processes=draw(st.frozensets(st.sampled_from(PROCESSES), min_size=1)),
        metals=draw(st.frozensets(st.sampled_from(METAL_CODES), min_size=1)),
        min_quantity=min_q, max_quantity=draw(st.integers(min_q, 400)),
        weekly_capacity=weekly, current_load=draw(st.integers(0, weekly + 20)),
        lead_time_days=draw(st.integers(1, 60)),
        ships_to=draw(st.frozensets(st.sampled_from(COUNTRIES), min_size=1)),
        labour=LabourPrice(Money(draw(st.integers(0, 10_000)), currency), Money(100, currency)),
        vetting=vetting, vetted_by="admin-1" if vetting is not Vetting.PENDING else None,
        nda_signed_on=signed, nda_expires_on=expires,
        score=PartnerScore(jobs=jobs, on_time_rate=None, qc_failure_rate=None, responsiveness_hours=None,
                           rating=rating),
    )


@st.composite
def qualifying(draw: st.DrawFn, r: RoutingRequest, user_id: str) -> Manufacturer:
    """A valid manufacturer that passes every hard filter for ``r``."""
    m = draw(manufacturers(user_id))
    jobs = m.score.jobs
    if r.quantity > PROBATION_MAX_QUANTITY and jobs < MIN_JOBS_FOR_RECORD:
        m = attrs.evolve(m, score=score(MIN_JOBS_FOR_RECORD, "0.5"))
    weekly = max(m.weekly_capacity, r.quantity)
    max_lead = (r.wanted_by - TODAY).days
    return attrs.evolve(
        m, vetting=Vetting.VETTED, vetted_by="admin-1", nda_signed_on=TODAY - timedelta(days=30),
        nda_expires_on=r.wanted_by + timedelta(days=draw(st.integers(0, 400))),
        processes=m.processes | r.processes, metals=m.metals | {r.metal},
        min_quantity=min(m.min_quantity, r.quantity), max_quantity=max(m.max_quantity, r.quantity),
        weekly_capacity=weekly, current_load=draw(st.integers(0, weekly - r.quantity)),
        ships_to=m.ships_to | {r.ship_to}, lead_time_days=draw(st.integers(1, max_lead)))


@st.composite
def requests(draw: st.DrawFn, ids: list[str], soonest: int = 0) -> RoutingRequest:
    return RoutingRequest(
        order_id="order-1", processes=draw(st.frozensets(st.sampled_from(PROCESSES), min_size=1, max_size=2)),
        metal=draw(st.sampled_from(METAL_CODES)), quantity=draw(st.integers(1, 40)),
        ship_to=draw(st.sampled_from(COUNTRIES)),
        wanted_by=TODAY + timedelta(days=draw(st.integers(soonest, 70))),
        excluded=draw(st.frozensets(st.sampled_from(ids))) if ids else frozenset(),
        labour_budget=draw(st.none() | st.builds(Money, st.integers(0, 8_000), st.sampled_from(["USD", "EUR"]))))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[RoutingRequest, list[Manufacturer]]:
    """A request and 0-12 manufacturers, some built to qualify (random ones rarely do)."""
    n = draw(st.integers(0, 12))
    ids = [f"m-{i:02d}" for i in range(n)]
    r = draw(requests(ids, soonest=1))
    pool = [draw(st.one_of(manufacturers(mid), qualifying(r, mid))) for mid in ids]
    return r, pool


# -- the promises of a decision -----------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_every_manufacturer_is_ranked_or_excluded_by_the_first_filter_it_fails(
        scenario: tuple[RoutingRequest, list[Manufacturer]]) -> None:
    r, pool = scenario
    decision = route(r, pool, NOW)
    assert decision.order_id == r.order_id and decision.decided_at == NOW
    candidates = {c.manufacturer_id for c in decision.candidates}
    excluded = set(decision.excluded.manufacturer_ids)
    assert not candidates & excluded
    assert candidates | excluded == {m.user_id for m in pool}
    for m in pool:
        expected = reference_reason(m, r, TODAY)
        found = decision.excluded.get(m.user_id)
        assert (found.reason if found else None) == expected
        assert check_assignable(m, r, NOW) == found  # one implementation behind both
    # declined (or timed out) before: never a candidate, never chosen
    assert not candidates & r.excluded
    assert decision.chosen not in r.excluded
    # ranked by total, then id; the best is chosen; exclusions by id
    assert [c.rank for c in decision.candidates] == list(range(1, len(decision.candidates) + 1))
    keys = [(-c.parts.total, c.manufacturer_id) for c in decision.candidates]
    assert keys == sorted(keys)
    assert all(0.0 <= part <= 1.0 for c in decision.candidates for part in (*c.parts, c.parts.total))
    assert decision.chosen == (decision.candidates[0].manufacturer_id if decision.candidates else None)
    assert list(decision.excluded.manufacturer_ids) == sorted(decision.excluded.manufacturer_ids)


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.data())
def test_adding_an_unqualified_manufacturer_changes_neither_the_choice_nor_the_ranking(
        scenario: tuple[RoutingRequest, list[Manufacturer]], data: st.DataObject) -> None:
    r, pool = scenario
    newcomer = data.draw(manufacturers("m-new"))
    assume(check_assignable(newcomer, r, NOW) is not None)
    before = route(r, pool, NOW)
    position = data.draw(st.integers(0, len(pool)))
    after = route(r, [*pool[:position], newcomer, *pool[position:]], NOW)
    assert after.chosen == before.chosen
    assert after.candidates == before.candidates
    assert len(after.excluded) == len(before.excluded) + 1


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_the_input_order_does_not_matter(scenario: tuple[RoutingRequest, list[Manufacturer]], rnd: Any) -> None:
    r, pool = scenario
    shuffled = pool[:]
    rnd.shuffle(shuffled)
    assert route(r, shuffled, NOW) == route(r, pool, NOW)


parts = st.floats(0.0, 1.0)


@settings(max_examples=100)
@given(st.tuples(parts, parts, parts, parts), st.integers(0, 3), parts)
def test_the_total_is_monotone_in_each_part(base: tuple[float, float, float, float], i: int, other: float) -> None:
    low, high = sorted((base[i], other))
    lower, higher = list(base), list(base)
    lower[i], higher[i] = low, high
    assert ScoreParts(*higher).total >= ScoreParts(*lower).total
    assert 0.0 <= ScoreParts(*lower).total <= 1.0 + 1e-12


def _better_in_one_input(m: Manufacturer, which: str, step: int) -> Manufacturer | None:
    """``m`` improved in one input, everything else equal (``None``: no room to improve)."""
    if which == "spare_capacity" and m.current_load >= step:
        return attrs.evolve(m, current_load=m.current_load - step)
    if which == "lead_time" and m.lead_time_days > step:
        return attrs.evolve(m, lead_time_days=m.lead_time_days - step)
    price = m.labour.per_piece
    if which == "labour" and price.amount_minor >= step:
        return attrs.evolve(m, labour=LabourPrice(Money(price.amount_minor - step, price.currency),
                                                  m.labour.per_stone))
    rating = m.score.rating
    if which == "rating" and rating is not None and not m.score.on_probation and rating < 1:
        return attrs.evolve(m, score=attrs.evolve(m.score, rating=min(Decimal(1), rating + Decimal(step) / 100)))
    return None


@settings(max_examples=100, deadline=None)
@given(st.data(), st.sampled_from(["spare_capacity", "lead_time", "labour", "rating"]), st.integers(1, 30),
       st.booleans())
def test_a_manufacturer_better_in_one_input_never_ranks_below_its_twin(
        data: st.DataObject, which: str, step: int, better_id_first: bool) -> None:
    ids = ["m-a", "m-b"] if better_id_first else ["m-b", "m-a"]
    r = data.draw(requests([], soonest=1))
    twin = data.draw(qualifying(r, ids[1]))
    better = _better_in_one_input(attrs.evolve(twin, user_id=ids[0]), which, step)
    assume(better is not None)
    assert better is not None
    others = data.draw(st.lists(qualifying(r, "m-c") | manufacturers("m-d"), max_size=1))
    decision = route(r, [twin, better, *others], NOW)
    ranked = {c.manufacturer_id: c for c in decision.candidates}
    b, t = ranked[ids[0]], ranked[ids[1]]
    assert b.parts.total >= t.parts.total
    if any(bp > tp for bp, tp in zip(b.parts, t.parts, strict=True)):
        assert b.rank < t.rank
    else:  # the part was capped (e.g. both under budget): a tie, broken by id
        assert b.parts == t.parts and (b.rank < t.rank) == better_id_first


# -- each hard filter, with a minimal example and its message ---------------------------

MINIMAL = [
    pytest.param({"vetting": Vetting.PENDING, "vetted_by": None}, {}, R.NOT_VETTED,
                 "Not vetted: vetting is pending.", id="not_vetted"),
    pytest.param({"vetting": Vetting.SUSPENDED}, {}, R.NOT_VETTED,
                 "Not vetted: vetting is suspended.", id="suspended"),
    pytest.param({"nda_signed_on": None, "nda_expires_on": None}, {}, R.NDA_NOT_VALID,
                 "No NDA on file.", id="no_nda"),
    pytest.param({"nda_expires_on": date(2026, 12, 27)}, {}, R.NDA_NOT_VALID,
                 "NDA expires on 2026-12-27, before the wanted-by date 2026-12-28; it must be valid through it.",
                 id="nda_ends_before_wanted_by"),
    pytest.param({"nda_expires_on": date(2026, 11, 1)}, {}, R.NDA_NOT_VALID,
                 "NDA expires on 2026-11-01, before the wanted-by date 2026-12-28; it must be valid through it.",
                 id="nda_expired"),
    pytest.param({"nda_signed_on": date(2026, 11, 29)}, {}, R.NDA_NOT_VALID,
                 "NDA signed on 2026-11-29, after today (2026-11-28).", id="nda_signed_tomorrow"),
    pytest.param({"processes": frozenset({CAST, ENGRAVE})}, {}, R.MISSING_PROCESS,
                 "Does not run stone_setting_prong.", id="missing_process"),
    pytest.param({"processes": frozenset({ENGRAVE})}, {}, R.MISSING_PROCESS,
                 "Does not run lost_wax_casting, stone_setting_prong.", id="missing_processes"),
    pytest.param({"metals": frozenset({"platinum_950"})}, {}, R.METAL_NOT_WORKED,
                 "Does not work 18k yellow gold (18k_yellow).", id="metal_not_worked"),
    pytest.param({"min_quantity": 50, "max_quantity": 500}, {}, R.QUANTITY_OUT_OF_BOUNDS,
                 "Takes at least 50 pieces per job; this order is 10.", id="below_minimum"),
    pytest.param({"max_quantity": 5}, {}, R.QUANTITY_OUT_OF_BOUNDS,
                 "Takes at most 5 pieces per job; this order is 10.", id="above_maximum"),
    pytest.param({"score": score(3, None)}, {"quantity": 21}, R.PROBATION_LIMIT,
                 "On probation (3 of the 10 recent jobs a record needs): may take at most 20 pieces; "
                 "this order is 21.", id="probation_limit"),
    pytest.param({"current_load": 95}, {}, R.NO_CAPACITY,
                 "Spare capacity 5 pieces a week (100 a week, 95 in progress) is below the 10 ordered.",
                 id="no_capacity"),
    pytest.param({"current_load": 130}, {}, R.NO_CAPACITY,
                 "Spare capacity 0 pieces a week (100 a week, 130 in progress) is below the 10 ordered.",
                 id="overloaded"),
    pytest.param({"ships_to": frozenset({"FR"})}, {}, R.DOES_NOT_SHIP, "Does not ship to DE.", id="does_not_ship"),
    pytest.param({"lead_time_days": 21}, {"wanted_by": date(2026, 12, 10)}, R.LEAD_TIME_TOO_LONG,
                 "Lead time 21 days ends 2026-12-19, after the wanted-by date 2026-12-10.", id="lead_time"),
    pytest.param({}, {"excluded": frozenset({"m-1"})}, R.DECLINED_BEFORE,
                 "Declined this order, or let the offer time out, before.", id="declined_before"),
]


@pytest.mark.parametrize(("maker_changes", "request_changes", "reason", "message"), MINIMAL)
def test_each_hard_filter_excludes_with_a_readable_message(
        maker_changes: dict[str, Any], request_changes: dict[str, Any], reason: ExclusionReason,
        message: str) -> None:
    m, r = maker(**maker_changes), request(**request_changes)
    expected = Exclusion(manufacturer_id="m-1", name="Workshop m-1", reason=reason, message=message)
    assert check_assignable(m, r, NOW) == expected
    decision = route(r, [m], NOW)
    assert list(decision.excluded) == [expected]
    assert decision.chosen is None and decision.candidates == ()
    assert reference_reason(m, r, TODAY) is reason


def test_every_reason_has_a_minimal_example() -> None:
    assert check_assignable(maker(), request(), NOW) is None  # the examples change one thing of these
    assert {p.values[2] for p in MINIMAL} == set(ExclusionReason)


def test_a_manufacturer_failing_everything_is_reported_with_each_filter_in_the_documented_order() -> None:
    r = request(quantity=30, wanted_by=date(2026, 12, 10), excluded=frozenset({"m-1"}))
    fixes: list[tuple[ExclusionReason, dict[str, Any]]] = [
        (R.NOT_VETTED, {"vetting": Vetting.VETTED}),
        (R.NDA_NOT_VALID, {"nda_signed_on": date(2026, 1, 5), "nda_expires_on": date(2027, 1, 5)}),
        (R.MISSING_PROCESS, {"processes": frozenset({CAST, PRONG})}),
        (R.METAL_NOT_WORKED, {"metals": frozenset({"18k_yellow"})}),
        (R.QUANTITY_OUT_OF_BOUNDS, {"max_quantity": 100}),
        (R.PROBATION_LIMIT, {"score": score(12, "0.8")}),
        (R.NO_CAPACITY, {"current_load": 0}),
        (R.DOES_NOT_SHIP, {"ships_to": frozenset({"DE"})}),
        (R.LEAD_TIME_TOO_LONG, {"lead_time_days": 7}),
    ]
    m = maker(vetting=Vetting.PENDING, nda_signed_on=None, nda_expires_on=None, processes=frozenset({ENGRAVE}),
              metals=frozenset({"sterling_silver"}), max_quantity=20, score=NEW_PARTNER, current_load=90,
              ships_to=frozenset({"US"}), lead_time_days=30)
    for reason, fix in fixes:
        found = check_assignable(m, r, NOW)
        assert found is not None and found.reason is reason
        m = attrs.evolve(m, **fix)
    found = check_assignable(m, r, NOW)
    assert found is not None and found.reason is R.DECLINED_BEFORE
    assert check_assignable(m, attrs.evolve(r, excluded=frozenset()), NOW) is None
    assert [reason for reason, _ in fixes] + [R.DECLINED_BEFORE] == list(ExclusionReason)


# -- NDA and probation -----------------------------------------------------------------


@pytest.mark.parametrize(("signed", "expires", "ok"), [
    (date(2026, 1, 5), date(2026, 12, 28), True),  # an NDA covers its expiry day: the wanted-by date itself
    (date(2026, 1, 5), date(2026, 12, 27), False),  # valid today, lapses a day before the wanted-by date
    (TODAY, date(2027, 1, 1), True),  # signed today
    (TODAY + timedelta(days=1), date(2027, 1, 1), False),  # not signed yet
    (date(2026, 1, 5), None, False),
    (None, date(2027, 1, 1), False),
])
def test_the_nda_must_be_valid_from_today_through_the_wanted_by_date(
        signed: date | None, expires: date | None, ok: bool) -> None:
    found = check_assignable(maker(nda_signed_on=signed, nda_expires_on=expires), request(), NOW)
    assert (found is None) is ok
    if not ok:
        assert found is not None and found.reason is R.NDA_NOT_VALID


def test_a_wanted_by_date_already_past_still_needs_an_nda_valid_today() -> None:
    r = request(wanted_by=TODAY - timedelta(days=2))
    assert check_assignable(maker(nda_expires_on=TODAY - timedelta(days=1)), r, NOW) == Exclusion(
        "m-1", "Workshop m-1", R.NDA_NOT_VALID,
        "NDA expires on 2026-11-27, before the wanted-by date 2026-11-28; it must be valid through it.")
    found = check_assignable(maker(), r, NOW)
    assert found is not None and found.reason is R.LEAD_TIME_TOO_LONG


@pytest.mark.parametrize(("jobs", "quantity", "ok"), [
    (0, PROBATION_MAX_QUANTITY, True),
    (MIN_JOBS_FOR_RECORD - 1, PROBATION_MAX_QUANTITY, True),
    (MIN_JOBS_FOR_RECORD - 1, PROBATION_MAX_QUANTITY + 1, False),
    (0, 90, False),
    (MIN_JOBS_FOR_RECORD, PROBATION_MAX_QUANTITY + 1, True),
])
def test_on_probation_a_manufacturer_takes_at_most_the_probation_quantity(jobs: int, quantity: int, ok: bool) -> None:
    m = maker(score=score(jobs, "0.7" if jobs >= MIN_JOBS_FOR_RECORD else None))
    found = check_assignable(m, request(quantity=quantity), NOW)
    assert (found is None) is ok
    if not ok:
        assert found is not None and found.reason is R.PROBATION_LIMIT


# -- the score parts --------------------------------------------------------------------


def only_candidate(m: Manufacturer, r: RoutingRequest | None = None) -> Candidate:
    decision = route(r or request(), [m], NOW)
    assert decision.chosen == m.user_id, decision.reason
    return decision.candidates[0]


def test_the_parts_and_the_weighted_total_of_the_example() -> None:
    c = only_candidate(maker())
    # 16 spare days on a 14-day lead time (capped at 1); USD 30 under a USD 40 budget; rating 0.9;
    # 100 - 20 in progress - 10 ordered = 70 of 100 a week left
    assert c.parts == ScoreParts(slack=1.0, cost=1.0, rating=0.9, load=0.7)
    assert c.parts.total == pytest.approx(0.35 * 1 + 0.25 * 1 + 0.25 * 0.9 + 0.15 * 0.7)
    assert (W_SLACK, W_COST, W_RATING, W_LOAD) == (0.35, 0.25, 0.25, 0.15)
    assert math.isclose(W_SLACK + W_COST + W_RATING + W_LOAD, 1.0)
    assert c.rank == 1 and c.finish_on == date(2026, 12, 12) and c.labour_per_piece == usd(3000)
    assert c.notes == ()


@pytest.mark.parametrize(("lead", "slack"), [(10, 1.0), (15, 1.0), (20, 0.5), (24, 0.25), (30, 0.0)])
def test_slack_is_the_spare_days_relative_to_the_lead_time_capped_at_1(lead: int, slack: float) -> None:
    # wanted by 2026-12-28, 30 days from today
    assert only_candidate(maker(lead_time_days=lead)).parts.slack == pytest.approx(slack)


@pytest.mark.parametrize(("price", "budget", "cost"), [
    (3000, 4000, 1.0), (4000, 4000, 1.0), (5000, 4000, 0.75), (6000, 4000, 0.5), (8000, 4000, 0.0),
    (9000, 4000, 0.0), (0, 0, 1.0), (1, 0, 0.0), (3000, None, 0.5),
])
def test_cost_is_1_within_budget_falling_linearly_to_0_at_twice_the_budget(
        price: int, budget: int | None, cost: float) -> None:
    m = maker(labour=LabourPrice(usd(price), usd(0)))
    r = request(labour_budget=usd(budget) if budget is not None else None)
    assert only_candidate(m, r).parts.cost == pytest.approx(cost)


def test_labour_in_another_currency_is_not_converted_but_neutral_and_says_so() -> None:
    m = maker(labour=LabourPrice(Money(100, "EUR"), Money(0, "EUR")))
    decision = route(request(), [m], NOW)
    c = decision.candidates[0]
    assert c.parts.cost == 0.5
    assert c.notes == ("Labour is quoted in EUR, the budget in USD: cost not compared (neutral 0.5).",)
    assert c.notes[0] in decision.reason


@pytest.mark.parametrize(("partner", "rating"), [
    (score(25, "0.9000"), 0.9), (score(10, "0.0000"), 0.0), (score(25, "1.0000"), 1.0),
    (score(9, None), 0.5), (NEW_PARTNER, 0.5),
])
def test_rating_is_the_partner_rating_or_neutral_on_probation(partner: PartnerScore, rating: float) -> None:
    assert only_candidate(maker(score=partner)).parts.rating == rating


def test_load_is_the_spare_capacity_left_after_the_job() -> None:
    assert only_candidate(maker(weekly_capacity=50, current_load=30)).parts.load == pytest.approx(10 / 50)
    assert only_candidate(maker(weekly_capacity=50, current_load=40)).parts.load == 0.0


def test_equal_totals_are_ranked_by_manufacturer_id() -> None:
    decision = route(request(), [maker("m-c"), maker("m-a"), maker("m-b")], NOW)
    assert [c.manufacturer_id for c in decision.candidates] == ["m-a", "m-b", "m-c"]
    assert [c.rank for c in decision.candidates] == [1, 2, 3]
    assert decision.chosen == "m-a"


# -- the decision's reason, explain, the Exclusions sequence ---------------------------------


def test_the_reason_names_the_choice_and_its_parts() -> None:
    decision = route(request(), [maker("m-1"), maker("m-2", current_load=80), maker("m-3", vetting=Vetting.PENDING)],
                     NOW)
    assert decision.reason == (
        "Chose Workshop m-1 (m-1): the best score 0.930 (slack 1.00, cost 1.00, rating 0.90, load 0.70) of "
        "2 qualifying; 1 excluded. Runner-up: Workshop m-2 at 0.840.")


def test_when_nobody_qualifies_the_reason_counts_the_exclusions_by_reason() -> None:
    pool = [maker("m-1", vetting=Vetting.PENDING), maker("m-2", ships_to=frozenset({"US"})),
            maker("m-3", ships_to=frozenset({"FR"})), maker("m-4", vetting=Vetting.SUSPENDED)]
    decision = route(request(), pool, NOW)
    assert decision.chosen is None and decision.candidates == ()
    assert decision.reason == "No manufacturer qualifies: 2 not vetted; 2 does not ship there."
    assert decision.excluded.counts() == {R.NOT_VETTED: 2, R.DOES_NOT_SHIP: 2}
    empty = route(request(), [], NOW)
    assert empty.reason == "No manufacturer qualifies: there were no manufacturers to consider."
    assert empty.excluded == Exclusions() and len(empty.excluded) == 0


def test_explain_lists_the_candidates_and_the_exclusions_by_reason() -> None:
    pool = [maker("m-1"), maker("m-2", current_load=80), maker("m-3", vetting=Vetting.PENDING),
            maker("m-4", ships_to=frozenset({"US"})), maker("m-5", ships_to=frozenset({"FR"}))]
    lines = explain(route(request(), pool, NOW), limit=1)
    assert lines[0].startswith("Chose Workshop m-1 (m-1)")
    assert lines[1:] == [
        "Candidates (2):",
        "  1. Workshop m-1 (m-1): 0.930 = 0.35 x slack 1.00 + 0.25 x cost 1.00 + 0.25 x rating 0.90 + "
        "0.15 x load 0.70; finishes 2026-12-12, labour USD 30.00 a piece",
        "  ... and 1 more",
        "Excluded, not vetted (1):",
        "  Workshop m-3 (m-3): Not vetted: vetting is pending.",
        "Excluded, does not ship there (2):",
        "  Workshop m-4 (m-4): Does not ship to DE.",
        "  ... and 1 more",
    ]


def test_exclusions_is_an_immutable_sequence_by_id() -> None:
    pool = [maker("m-3", vetting=Vetting.PENDING), maker("m-1", ships_to=frozenset({"US"})),
            maker("m-2", max_quantity=5)]
    excluded = route(request(), pool, NOW).excluded
    assert excluded.manufacturer_ids == ("m-1", "m-2", "m-3")
    assert excluded.reasons == (R.DOES_NOT_SHIP, R.QUANTITY_OUT_OF_BOUNDS, R.NOT_VETTED)
    assert excluded[0] == Exclusion("m-1", "Workshop m-1", R.DOES_NOT_SHIP, "Does not ship to DE.")
    assert excluded[-1].manufacturer_id == "m-3"
    assert excluded[1:] == Exclusions(list(excluded)[1:])
    assert Exclusions(excluded) == excluded and hash(Exclusions(excluded)) == hash(excluded)
    assert excluded.get("m-2") == excluded[1] and excluded.get("m-9") is None
    assert excluded[0] in excluded and excluded.index(excluded[2]) == 2
    assert excluded.messages[0] == "Does not ship to DE." and excluded.names[0] == "Workshop m-1"
    assert "Exclusion(manufacturer_id='m-1'" in repr(excluded)
    with pytest.raises(AttributeError):
        excluded._ids = ()
    with pytest.raises(ValueError, match="one entry per manufacturer"):
        Exclusions.from_columns(["m-1"], [], [], [])
    assert excluded[0]._replace(message="x").message == "x"
    assert pickle.loads(pickle.dumps(excluded)) == excluded and copy.deepcopy(excluded) == excluded


def test_the_decision_is_a_frozen_value() -> None:
    decision = route(request(), [maker()], NOW)
    assert isinstance(decision, RoutingDecision)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        decision.chosen = "m-2"  # type: ignore[misc]
    assert decision == route(request(), [maker()], NOW)


# -- the request -------------------------------------------------------------------------


def test_the_request_normalises_the_country_and_processes() -> None:
    r = request(ship_to=" de ", processes=["lost_wax_casting", PRONG], excluded=["m-9"])
    assert r.ship_to == "DE"
    assert r.processes == frozenset({CAST, PRONG})
    assert r.excluded == frozenset({"m-9"})


@pytest.mark.parametrize(("changes", "field"), [
    ({"order_id": ""}, "order_id"),
    ({"processes": frozenset()}, "processes"),
    ({"processes": ["welding"]}, "processes"),
    ({"processes": "lost_wax_casting"}, "processes"),
    ({"excluded": "m-1"}, "excluded"),
    ({"metal": "bronze"}, "metal"),
    ({"quantity": 0}, "quantity"),
    ({"quantity": True}, "quantity"),
    ({"ship_to": "XX"}, "ship_to"),
    ({"wanted_by": datetime(2026, 12, 28, tzinfo=UTC)}, "wanted_by"),
    ({"labour_budget": usd(-1)}, "labour_budget"),
])
def test_a_bad_request_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        request(**changes)
    assert err.value.field == field
