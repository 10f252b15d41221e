"""The order ledger (issue #5): every entry balances; a charge splits the quote
into the manufacturer's production share, the designer's royalty and the platform
fee; a refund after a charge leaves every account of the order at zero; moving the
job to another workshop and paying out leaves no payable open, the fee in
clearing and in revenue; unbalanced or malformed lines are refused with a clear
message; idempotency keys are one per order and kind of event."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caratzon_core.errors import ValidationFailed
from caratzon_core.geometry import CadAnalysis, CadStatus, MeshMetrics
from caratzon_core.ledger import (
    EntryKind,
    JournalEntry,
    LedgerLine,
    balances,
    charge_entry,
    check_balanced,
    money_of,
    payout_entry,
    reassign_entry,
    refund_entry,
    reverse,
)
from caratzon_core.money import CURRENCY_EXPONENTS, Money
from caratzon_core.orders import Brief, Setting, StoneLine
from caratzon_core.quote import DEFAULT_PRICES, PriceTable, Quote, quote

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ANALYSED = CadAnalysis(CadStatus.ANALYSED, MeshMetrics(1000.0, 600.0, (10.0, 10.0, 10.0), 12, True, 1.5), "ok")
BRIEF = Brief(alloy="18k_yellow", quantity=2, ship_to="US", wanted_by=date(2026, 6, 1),
              stones=(StoneLine("diamond", Decimal("0.05"), 3, Setting.PRONG),))
# 2 pieces: metal 268 288 + labour 18 000 + stones 49 800 = 336 088 production; royalty 5 000;
# fee 27 287; total 368 375 (the worked example in test_quote.py)
QUOTE = quote(BRIEF, ANALYSED, DEFAULT_PRICES, royalty_per_unit=Money(2500, "USD"))
MAKER, DESIGNER = "payable:manufacturer:m1", "payable:designer:d1"


def charged(q: Quote = QUOTE, order_id: str = "o1", maker: str = "m1") -> JournalEntry:
    return charge_entry("e1", order_id, quote=q, buyer_id="b1", designer_id="d1", manufacturer_id=maker, at=AT)


@st.composite
def quotes(draw: st.DrawFn) -> Quote:
    """Any quote the quote function makes (labour at least one minor unit, so there is
    something to charge; see test_every_quote_that_can_be_made_can_be_charged)."""
    currency = draw(st.sampled_from(sorted(CURRENCY_EXPONENTS)))
    table = PriceTable(
        currency=currency, effective=date(2026, 1, 1), metal_per_gram={"18k_yellow": draw(st.integers(0, 10**6))},
        stone_per_carat={"diamond": draw(st.integers(0, 10**7)), "ruby": draw(st.integers(0, 10**6))},
        setting_per_stone=draw(st.integers(0, 10**5)), labour_per_piece=draw(st.integers(1, 10**6)),
        casting_loss=Decimal(draw(st.integers(0, 10_000))).scaleb(-4),
        platform_fee_rate=Decimal(draw(st.integers(0, 5_000))).scaleb(-4),
    )
    stones = tuple(draw(st.lists(st.builds(StoneLine, st.sampled_from(["diamond", "ruby"]),
                                           st.integers(1, 10_000).map(lambda n: Decimal(n).scaleb(-3)),
                                           st.integers(1, 100), st.sampled_from(Setting)), max_size=4)))
    brief = Brief(alloy="18k_yellow", quantity=draw(st.integers(1, 100_000)), ship_to="US",
                  wanted_by=date(2026, 6, 1), stones=stones)
    volume = draw(st.floats(0.01, 1e5, allow_nan=False, allow_infinity=False))
    analysis = CadAnalysis(CadStatus.ANALYSED, MeshMetrics(volume, 1.0, (1.0, 1.0, 1.0), 4, True), "ok")
    royalty = draw(st.none() | st.integers(1, 10**6).map(lambda n: Money(n, currency)))
    return quote(brief, analysis, table, royalty_per_unit=royalty)


def production(q: Quote) -> int:
    return sum(q.line(code).amount.amount_minor for code in ("metal", "labour", "stones"))


def assert_well_formed(entry: JournalEntry) -> None:
    assert entry.lines
    for line in entry.lines:
        assert line.debit >= 0 and line.credit >= 0 and not (line.debit and line.credit)
        assert type(line.debit) is int and type(line.credit) is int
    assert sum(x.debit for x in entry.lines) == sum(x.credit for x in entry.lines) == entry.amount


# -- examples -------------------------------------------------------------------------------


def test_a_charge_splits_the_quote_between_the_parties() -> None:
    entry = charged()
    assert entry.kind is EntryKind.CHARGE and entry.currency == "USD" and entry.buyer_id == "b1"
    assert entry.idempotency_key == "order:o1:charge" and entry.amount == 368_375
    assert {x.account: (x.debit, x.credit) for x in entry.lines} == {
        "clearing": (368_375, 0),
        MAKER: (0, 336_088),
        DESIGNER: (0, 5_000),
        "revenue:platform_fee": (0, 27_287),
    }
    assert money_of(entry, "payable:") == Money(341_088, "USD")
    assert money_of(entry, "revenue:") == Money(27_287, "USD")


def test_a_charge_without_royalty_or_fee_has_no_empty_lines() -> None:
    q = quote(BRIEF, ANALYSED, PriceTable(
        currency="USD", effective=date(2026, 1, 1), metal_per_gram={"18k_yellow": 100}, stone_per_carat={"diamond": 0},
        setting_per_stone=0, labour_per_piece=5, casting_loss=Decimal(0), platform_fee_rate=Decimal(0)),
        royalty_per_unit=None)
    entry = charged(q)
    assert [x.account for x in entry.lines] == ["clearing", MAKER]
    assert_well_formed(entry)


def test_refund_and_payout_need_something_to_move() -> None:
    with pytest.raises(ValidationFailed, match="Nothing was charged"):
        refund_entry("e2", "o1", "USD", {}, AT, buyer_id="b1")
    refunded = [charged(), refund_entry("e2", "o1", "USD", balances([charged()]), AT, buyer_id="b1")]
    with pytest.raises(ValidationFailed, match="Nothing was charged"):  # no second refund
        refund_entry("e3", "o1", "USD", balances(refunded), AT, buyer_id="b1")
    with pytest.raises(ValidationFailed, match="Nothing is owed"):
        payout_entry("e3", "o1", "USD", {MAKER: 0, DESIGNER: 0}, AT)
    assert reassign_entry("e4", "o1", "USD", {MAKER: 0}, old="m1", new="m2", seq=1, at=AT) is None
    assert reassign_entry("e4", "o1", "USD", {}, old="m1", new="m2", seq=1, at=AT) is None


def test_every_quote_that_can_be_made_can_be_charged() -> None:
    table = PriceTable(currency="USD", effective=date(2026, 1, 1), metal_per_gram={"18k_yellow": 0},
                       stone_per_carat={}, setting_per_stone=0, labour_per_piece=0, casting_loss=Decimal(0),
                       platform_fee_rate=Decimal("0.08"))
    try:
        free = quote(Brief(alloy="18k_yellow", quantity=1, ship_to="US", wanted_by=date(2026, 6, 1)),
                     ANALYSED, table, royalty_per_unit=None)
    except ValidationFailed:
        return  # refusing a free quote up front would be a fix too
    entry = charged(free)
    assert entry.amount == free.total.amount_minor


# -- check_balanced -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "A ledger entry needs lines."),
        ([LedgerLine("clearing", 100, 0), LedgerLine(MAKER, 0, 99)],
         "The ledger entry would not balance: debits 100 ≠ credits 99."),
        ([LedgerLine("clearing", 0, 5)], "The ledger entry would not balance: debits 0 ≠ credits 5."),
        ([LedgerLine("clearing", -5, 0), LedgerLine(MAKER, 0, -5)], "Ledger line clearing: one non-negative side"),
        ([LedgerLine("clearing", 5, 0), LedgerLine(MAKER, -5, 10)], f"Ledger line {MAKER}: one non-negative side"),
        ([LedgerLine("clearing", 5, 5)], "Ledger line clearing: one non-negative side per line."),
        ([LedgerLine("clearing", 5, 0), LedgerLine(MAKER, 3, 8)], f"Ledger line {MAKER}: one non-negative side"),
    ],
    ids=["empty", "unbalanced", "credit-only", "negative-debit", "negative-credit", "two-sided", "two-sided-2"],
)
def test_malformed_entries_are_refused_with_a_clear_message(lines: list[LedgerLine], message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_balanced(lines)
    assert caught.value.message.startswith(message) and caught.value.field == "ledger"
    with pytest.raises(ValidationFailed):
        JournalEntry("e1", "o1", EntryKind.CHARGE, "USD", "order:o1:charge", tuple(lines), AT)


def test_a_balanced_entry_passes() -> None:
    check_balanced([LedgerLine("clearing", 7, 0), LedgerLine(MAKER, 0, 5), LedgerLine(DESIGNER, 0, 2)])
    check_balanced(iter([LedgerLine("a", 1, 0), LedgerLine("b", 0, 1)]))  # any iterable, read once


# -- idempotency keys -----------------------------------------------------------------------


def test_idempotency_keys_are_per_order_and_kind() -> None:
    charge_1, charge_2 = charged(order_id="o1"), charged(order_id="o2")
    refund_1 = refund_entry("e2", "o1", "USD", balances([charge_1]), AT, buyer_id="b1")
    payout_1 = payout_entry("e3", "o1", "USD", {MAKER: -10}, AT)
    keys = [charge_1.idempotency_key, charge_2.idempotency_key, refund_1.idempotency_key, payout_1.idempotency_key]
    assert keys == ["order:o1:charge", "order:o2:charge", "order:o1:refund", "order:o1:payout"]
    # the same event built twice (a retry) has the same key, so the second write is refused
    assert charged(order_id="o1", maker="m9").idempotency_key == charge_1.idempotency_key
    assert reverse("e9", charge_1, EntryKind.REFUND, AT).idempotency_key == refund_1.idempotency_key
    moves = [reassign_entry(f"r{seq}", "o1", "USD", {MAKER: -10}, old="m1", new="m2", seq=seq, at=AT)
             for seq in (1, 2, 1)]
    assert [m.idempotency_key for m in moves if m] == ["order:o1:reassign:1", "order:o1:reassign:2",
                                                       "order:o1:reassign:1"]


# -- properties -----------------------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(quotes())
def test_any_charge_balances_and_splits_the_quote(q: Quote) -> None:
    entry = charged(q)
    assert_well_formed(entry)
    assert entry.amount == q.total.amount_minor and entry.currency == q.currency
    credits = {x.account: x.credit for x in entry.lines if x.credit}
    assert credits == {k: v for k, v in {
        MAKER: production(q), DESIGNER: q.line("licence_royalty").amount.amount_minor,
        "revenue:platform_fee": q.platform_fee.amount_minor}.items() if v}
    assert [(x.account, x.debit) for x in entry.lines if x.debit] == [("clearing", q.total.amount_minor)]


@settings(max_examples=80, deadline=None)
@given(quotes(), st.lists(st.sampled_from(["m2", "m3", "m4", "m1"]), max_size=4))
def test_charge_then_refund_leaves_every_account_at_zero(q: Quote, makers: list[str]) -> None:
    entries = [charged(q)]
    current = "m1"
    for seq, new in enumerate(makers, start=1):  # the job may have moved between workshops first
        moved = reassign_entry(f"r{seq}", "o1", q.currency, balances(entries), old=current, new=new, seq=seq, at=AT)
        if new == current:
            assert moved is None or moved.amount == production(q)
        if moved is not None:
            assert_well_formed(moved)
            entries.append(moved)
        current = new
    refund = refund_entry("e9", "o1", q.currency, balances(entries), AT, buyer_id="b1")
    assert_well_formed(refund)
    assert refund.amount == q.total.amount_minor  # the buyer gets back exactly what was charged
    assert refund.kind is EntryKind.REFUND and refund.buyer_id == "b1"
    assert all(v == 0 for v in balances([*entries, refund]).values())
    assert all(v == 0 for v in balances([entries[0], reverse("e10", entries[0], EntryKind.REFUND, AT)]).values())


@settings(max_examples=80, deadline=None)
@given(quotes(), st.lists(st.sampled_from(["m2", "m3", "m4"]), min_size=1, max_size=3, unique=True))
def test_charge_reassign_payout_pays_the_last_workshop_and_keeps_the_fee(q: Quote, makers: list[str]) -> None:
    entries = [charged(q)]
    current = "m1"
    for seq, new in enumerate(makers, start=1):
        moved = reassign_entry(f"r{seq}", "o1", q.currency, balances(entries), old=current, new=new, seq=seq, at=AT)
        assert moved is not None and moved.kind is EntryKind.REASSIGN
        assert_well_formed(moved)
        assert moved.amount == production(q)  # the whole production share moves over
        entries.append(moved)
        current = new
        assert sum(balances(entries).values()) == 0
    # once the share has moved on, the old workshop has nothing left to move
    assert reassign_entry("rx", "o1", q.currency, balances(entries), old="m1", new="m9", seq=9, at=AT) is None
    payables = {k: v for k, v in balances(entries).items() if k.startswith("payable:")}
    payout = payout_entry("e9", "o1", q.currency, payables, AT)
    assert_well_formed(payout)
    paid = {x.account: x.debit for x in payout.lines if x.debit}
    royalty = q.line("licence_royalty").amount.amount_minor
    assert paid == {k: v for k, v in {f"payable:manufacturer:{current}": production(q), DESIGNER: royalty}.items()
                    if v}
    final = balances([*entries, payout])
    assert all(v == 0 for k, v in final.items() if k.startswith("payable:"))
    assert final["clearing"] == q.platform_fee.amount_minor  # what stays with the platform
    assert final.get("revenue:platform_fee", 0) == -q.platform_fee.amount_minor  # credit balance = the fee
    assert sum(final.values()) == 0
