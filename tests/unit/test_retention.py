"""The retention engine's rules and pure planner (issue #6, part 4; policy §8).

P30 (accounts: closed + 12 months), P31 (design assets: removed + 90 days unless an
active licence), P32 (transaction records: 7 years), P33 (analytics: aggregated
within 24 months), P34 (audit: 3 years)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from caratzon_core import datamap as dm
from caratzon_core.erasure import PersonFacts, decide_erasure
from caratzon_core.retention import (
    RULE_BY_CODE,
    RULES,
    Candidate,
    Keep,
    RuleCode,
    Snapshot,
    cutoffs,
    decide,
    months_before,
    plan,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_periods_come_from_the_data_map_and_say_what_the_policy_says() -> None:
    """One source of truth: the engine's periods are the data map's section-8 rules."""
    assert RULE_BY_CODE[RuleCode.ACCOUNT].period == dm.Period(months=12)  # P30
    assert RULE_BY_CODE[RuleCode.DESIGN_ASSET].period == dm.Period(days=90)  # P31
    assert RULE_BY_CODE[RuleCode.TRANSACTION].period == dm.Period(months=84)  # P32
    assert RULE_BY_CODE[RuleCode.ANALYTICS].period == dm.Period(months=24)  # P33
    assert RULE_BY_CODE[RuleCode.AUDIT].period == dm.Period(months=36)  # P34
    for code, promise in [(RuleCode.ACCOUNT, "P30"), (RuleCode.DESIGN_ASSET, "P31"), (RuleCode.TRANSACTION, "P32"),
                          (RuleCode.ANALYTICS, "P33"), (RuleCode.AUDIT, "P34")]:
        assert promise in RULE_BY_CODE[code].promises
    assert "active license" in RULE_BY_CODE[RuleCode.DESIGN_ASSET].policy_text
    assert Keep.ACTIVE_LICENCE in RULE_BY_CODE[RuleCode.DESIGN_ASSET].exceptions
    assert all(Keep.LEGAL_HOLD in r.exceptions for r in RULES if r.code in (
        RuleCode.ACCOUNT, RuleCode.DESIGN_ASSET, RuleCode.TRANSACTION, RuleCode.AUDIT))


def test_cutoffs_use_calendar_months() -> None:
    cut = cutoffs(NOW)
    assert cut[RuleCode.ACCOUNT] == datetime(2025, 11, 27, 12, 0, tzinfo=UTC)
    assert cut[RuleCode.DESIGN_ASSET] == NOW - timedelta(days=90)
    assert cut[RuleCode.TRANSACTION] == datetime(2019, 11, 27, 12, 0, tzinfo=UTC)
    assert cut[RuleCode.ANALYTICS] == datetime(2024, 11, 27, 12, 0, tzinfo=UTC)
    assert cut[RuleCode.AUDIT] == datetime(2023, 11, 27, 12, 0, tzinfo=UTC)
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2028, 2, 29, tzinfo=UTC), 12) == datetime(2027, 2, 28, tzinfo=UTC)


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
       st.integers(0, 200))
def test_months_before_is_never_later_than_whole_days_would_allow(moment: datetime, months: int) -> None:
    """Data is never deleted early: going back n months lands at least 28·n days back
    and at most 31·n days back, on the same time of day."""
    earlier = months_before(moment, months)
    assert timedelta(days=28 * months) <= moment - earlier <= timedelta(days=31 * months)
    assert earlier.time() == moment.time()


def test_a_future_as_of_needs_an_aware_time() -> None:
    import pytest

    with pytest.raises(ValueError):
        cutoffs(datetime(2026, 1, 1))


_ITEM_RULES = [RuleCode.ACCOUNT, RuleCode.DESIGN_ASSET, RuleCode.TRANSACTION]
candidates = st.builds(
    Candidate,
    rule=st.sampled_from(_ITEM_RULES),
    kind=st.sampled_from(["user", "design", "order", "agreement"]),
    id=st.text("abcdef0123456789", min_size=1, max_size=6),
    since=st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2025, 1, 1), timezones=st.just(UTC)),
    keeps=st.frozensets(st.sampled_from(list(Keep))),
    note=st.sampled_from(["", "agreement a1"]),
)


@given(st.lists(candidates, max_size=30), st.integers(0, 10**6), st.integers(0, 10**4))
def test_the_plan_partitions_every_candidate_and_explains_each_kept_one(
    found: list[Candidate], events: int, audit: int
) -> None:
    snapshot = Snapshot(cutoffs(NOW), tuple(found), analytics_events=events, audit_entries=audit)
    p = plan(snapshot)
    assert [r.rule.code for r in p.rules] == [r.code for r in RULES]
    for code in _ITEM_RULES:
        mine = [c for c in found if c.rule is code]
        rp = p[code]
        assert rp.due_count == len(rp.due)
        assert rp.due_count + rp.kept_count == len(mine)
        allowed = RULE_BY_CODE[code].exceptions
        # An item is kept exactly when an exception its rule admits stands on it.
        assert {c.ref for c in rp.due} == {c.ref for c in mine if not (c.keeps & frozenset(allowed))} or \
            len({c.ref for c in mine}) < len(mine)
        for kept in rp.kept:
            assert kept.reasons and all(isinstance(r, str) and r for r in kept.reasons)
        for c in rp.due:
            assert not (c.keeps & frozenset(allowed))
    assert p[RuleCode.ANALYTICS].due_count == events and p[RuleCode.AUDIT].due_count == audit
    assert p.total_due == sum(r.due_count for r in p.rules)


@given(candidates, st.sampled_from(list(Keep)))
def test_adding_an_exception_never_makes_an_item_due(c: Candidate, keep: Keep) -> None:
    """Monotone: a further exception can only keep more (a hold is never undone by another fact)."""
    if not decide(c):
        more = Candidate(c.rule, c.kind, c.id, c.since, c.keeps | {keep}, c.note)
        assert bool(decide(more)) == (keep in RULE_BY_CODE[c.rule].exceptions)
    else:
        assert decide(Candidate(c.rule, c.kind, c.id, c.since, c.keeps | {keep}, c.note))


def test_an_active_licence_keeps_a_removed_design_with_the_agreement_named() -> None:
    """P31: assets stay while an active licence agreement needs them."""
    design = Candidate(RuleCode.DESIGN_ASSET, "design", "d1", NOW - timedelta(days=200),
                       frozenset({Keep.ACTIVE_LICENCE}), "agreement ag-7")
    gone = Candidate(RuleCode.DESIGN_ASSET, "design", "d2", NOW - timedelta(days=100))
    p = plan(Snapshot(cutoffs(NOW), (design, gone)))[RuleCode.DESIGN_ASSET]
    assert [c.id for c in p.due] == ["d2"]
    [kept] = p.kept
    assert kept.id == "d1" and kept.reasons == ("under an active licence agreement (agreement ag-7)",)


def test_an_exception_the_rule_does_not_admit_is_ignored() -> None:
    """Analytics-style facts cannot stall a rule that does not list them: an account
    is not kept because 'records remain' (its records are pseudonymised instead)."""
    c = Candidate(RuleCode.ACCOUNT, "user", "u1", NOW - timedelta(days=800), frozenset({Keep.RECORDS_REMAIN}))
    assert decide(c) == ()
    assert plan(Snapshot(cutoffs(NOW), (c,)))[RuleCode.ACCOUNT].due_count == 1


def test_a_hold_cuts_the_audit_trail_before_the_first_entry_it_covers() -> None:
    p = plan(Snapshot(cutoffs(NOW), audit_entries=40, audit_held_from=41, audit_held_entries=9,
                      audit_held_note="user u9"))[RuleCode.AUDIT]
    assert p.due_count == 40
    [kept] = p.kept
    assert kept.id == "41" and "legal hold" in kept.reasons[0] and "9 entries" in kept.reasons[0]


def test_plan_to_dict_is_json_ready() -> None:
    import json

    c = Candidate(RuleCode.ACCOUNT, "user", "u1", NOW - timedelta(days=800), frozenset({Keep.LEGAL_HOLD}))
    doc = plan(Snapshot(cutoffs(NOW), (c,), analytics_events=3)).to_dict()
    again = json.loads(json.dumps(doc))
    assert again["total_due"] == 3
    account = next(r for r in again["rules"] if r["rule"] == "account")
    assert account["kept"] == [{"item": "user:u1", "since": c.since.isoformat().replace("+00:00", "Z"),
                                "reasons": ["under a legal hold placed by an admin"]}]


# -- erasure decisions (P37, P45) ----------------------------------------------------------


def test_erasure_is_refused_under_a_hold_or_with_open_orders_and_says_why() -> None:
    held = decide_erasure(PersonFacts("u1", hold_reason="litigation 2026-17"))
    assert not held.allowed and "legal hold: litigation 2026-17" in held.message
    busy = decide_erasure(PersonFacts("u1", open_orders=("o1", "o2"), disputed_orders=("o2",)))
    assert not busy.allowed
    assert "1 order(s) in dispute" in busy.message and "1 open order(s)" in busy.message
    assert {Keep.OPEN_ORDER, Keep.OPEN_DISPUTE} == set(busy.keeps)
    assert not decide_erasure(PersonFacts("u1", exists=False)).allowed
    assert not decide_erasure(PersonFacts("u1", already_erased=True)).allowed


def test_erasure_keeps_designs_under_an_active_licence() -> None:
    """P31 within P37: a designer's licensed designs stay until the licence ends."""
    ok = decide_erasure(PersonFacts("u1", licensed_designs=("d2", "d1")))
    assert ok.allowed and ok.keep_designs == ("d1", "d2") and ok.reasons == ()


@given(st.booleans(), st.lists(st.sampled_from(["o1", "o2", "o3"]), unique=True),
       st.lists(st.sampled_from(["o1", "o2", "o3"]), unique=True))
def test_erasure_is_allowed_exactly_when_nothing_stands_in_the_way(held: bool, open_: list[str],
                                                                   disputed: list[str]) -> None:
    facts = PersonFacts("u1", hold_reason="court order" if held else None, open_orders=tuple(open_),
                        disputed_orders=tuple(disputed))
    decision = decide_erasure(facts)
    assert decision.allowed == (not held and not open_ and not disputed)
    assert bool(decision.reasons) != decision.allowed
