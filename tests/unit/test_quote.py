# The multiplication sign is the right symbol in worked examples.
# ruff: noqa: RUF001, RUF002, RUF003
"""The quote (issue #5): worked examples by hand, the documented rounding (each
per-piece line rounded half-up once, then × quantity; the fee rounded half-up once
on the subtotal), lines that always add up to the total, integer minor units
everywhere, and refusals that name what is missing rather than guessing."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caratzon_core.errors import ValidationFailed
from caratzon_core.geometry import ALLOYS, CadAnalysis, CadStatus, MeshMetrics, assess, find_alloy
from caratzon_core.money import CURRENCY_EXPONENTS, Money
from caratzon_core.orders import Brief, Setting, StoneLine
from caratzon_core.quote import DEFAULT_PRICES, PriceTable, Quote, net_grams, quote

WANTED = date(2026, 6, 1)


def metrics(volume_mm3: float = 1000.0, *, watertight: bool = True) -> MeshMetrics:
    return MeshMetrics(volume_mm3=volume_mm3, surface_area_mm2=600.0, bbox_mm=(10.0, 10.0, 10.0), triangle_count=12,
                       watertight=watertight, thinnest_wall_mm=1.5)


def analysed(volume_mm3: float = 1000.0) -> CadAnalysis:
    return CadAnalysis(CadStatus.ANALYSED, metrics(volume_mm3), "analysed")


def brief(alloy: str = "18k_yellow", quantity: int = 1, stones: tuple[StoneLine, ...] = ()) -> Brief:
    return Brief(alloy=alloy, quantity=quantity, ship_to="US", wanted_by=WANTED, stones=stones)


def prices(**changes: Any) -> PriceTable:
    return attrs.evolve(DEFAULT_PRICES, **changes)


def per_piece(q: Quote) -> dict[str, int]:
    return {line.code: line.per_piece.amount_minor for line in q.lines}


# -- worked examples ------------------------------------------------------------------------


def test_worked_example_a_cube_in_18k_yellow_with_stones_and_royalty() -> None:
    """A 10 mm cube: 1000 mm³ = 1 cm³; 18k yellow is 15.58 g/cm³, so 15.580 g net.

    metal   15.580 g × 8200 per g × (1 + 0.05)      = 15.58 × 8610 = 134 143.8  → 134 144
    labour                                                          =   9 000
    stones  3 × (0.05 ct × 150 000 per ct + 800 setting) = 3 × 8 300 =  24 900
    royalty                                                         =   2 500
    per piece                                                         170 544
    × 2 pieces: 268 288 + 18 000 + 49 800 + 5 000                   = 341 088 subtotal
    fee     8 % × 341 088 = 27 287.04                               →  27 287
    total   341 088 + 27 287                                        = 368 375  (USD 3,683.75)
    """
    stones = (StoneLine("diamond", Decimal("0.05"), 3, Setting.PRONG),)
    q = quote(brief(quantity=2, stones=stones), analysed(1000.0), DEFAULT_PRICES,
              royalty_per_unit=Money(2500, "USD"))
    assert q.net_grams_per_piece == Decimal("15.580")
    assert per_piece(q) == {"metal": 134_144, "labour": 9_000, "stones": 24_900, "licence_royalty": 2_500}
    assert [line.amount.amount_minor for line in q.lines] == [268_288, 18_000, 49_800, 5_000]
    assert q.subtotal == Money(341_088, "USD")
    assert q.platform_fee == Money(27_287, "USD") and q.platform_fee_rate == Decimal("0.08")
    assert q.total == Money(368_375, "USD") and q.total.format() == "USD 3,683.75"
    assert (q.currency, q.quantity, q.prices_effective) == ("USD", 2, DEFAULT_PRICES.effective)
    assert q.line("metal").detail == "15.580 g net × USD 82.00/g × (1 + 0.05 casting loss)"
    assert q.line("stones").detail == "3 × 0.05 ct diamond, prong"


def test_worked_example_half_up_per_line_once_then_times_quantity() -> None:
    """Platinum 950 is 21.0 g/cm³: 100 mm³ = 0.1 cm³ → 2.100 g. EUR, no casting loss.

    metal   2.1 g × 5 per g = 10.5 → 11 (half-up; half-even would give 10)
    stones  1 × (0.001 ct × 500 per ct + 0) = 0.5 → 1
    per piece 11 + 0 + 1 + 0 = 12; × 3 pieces = 36
        (rounding after multiplying would give 31.5 → 32 and 1.5 → 2: 34, not 36)
    fee     12.5 % × 36 = 4.5 → 5 (half-up; half-even would give 4)
    total   41
    """
    table = PriceTable(currency="EUR", effective=date(2026, 1, 1), metal_per_gram={"platinum_950": 5},
                       stone_per_carat={"topaz": 500}, setting_per_stone=0, labour_per_piece=0,
                       casting_loss=Decimal(0), platform_fee_rate=Decimal("0.125"))
    q = quote(brief("platinum_950", 3, (StoneLine("topaz", Decimal("0.001"), 1, Setting.BEZEL),)), analysed(100.0),
              table, royalty_per_unit=None)
    assert q.net_grams_per_piece == Decimal("2.100")
    assert per_piece(q) == {"metal": 11, "labour": 0, "stones": 1, "licence_royalty": 0}
    assert [line.amount for line in q.lines] == [Money(33, "EUR"), Money(0, "EUR"), Money(3, "EUR"), Money(0, "EUR")]
    assert (q.subtotal, q.platform_fee, q.total) == (Money(36, "EUR"), Money(5, "EUR"), Money(41, "EUR"))
    assert q.line("licence_royalty").detail == "no per-piece royalty"


def test_worked_example_several_stone_lines_are_one_line_rounded_once() -> None:
    """Sterling silver is 10.40 g/cm³: 2 500 mm³ → 26.000 g. Prices in JPY (no minor digits).

    metal   26 g × 3 per g × (1 + 0.1) = 85.8 → 86
    labour  700
    stones  2 × (0.002 ct × 100 per ct + 0) = 0.4, and 1 × (0.004 ct × 100 per ct + 0) = 0.4:
            one line, 0.8 → 1 (rounding each stone line on its own would give 0 + 0 = 0)
    royalty 40
    per piece 86 + 700 + 1 + 40 = 827; × 1 = 827
    fee     3 % × 827 = 24.81 → 25; total 852
    """
    table = PriceTable(currency="JPY", effective=date(2026, 1, 1), metal_per_gram={"sterling_silver": 3},
                       stone_per_carat={"garnet": 100, "jade": 100}, setting_per_stone=0, labour_per_piece=700,
                       casting_loss=Decimal("0.1"), platform_fee_rate=Decimal("0.03"))
    stones = (StoneLine("garnet", Decimal("0.002"), 2, Setting.CHANNEL),
              StoneLine("jade", Decimal("0.004"), 1, Setting.PAVE))
    q = quote(brief("sterling_silver", 1, stones), analysed(2500.0), table, royalty_per_unit=Money(40, "JPY"))
    assert q.net_grams_per_piece == Decimal("26.000")
    assert per_piece(q) == {"metal": 86, "labour": 700, "stones": 1, "licence_royalty": 40}
    assert (q.subtotal, q.platform_fee, q.total) == (Money(827, "JPY"), Money(25, "JPY"), Money(852, "JPY"))
    assert q.line("stones").detail == "2 × 0.002 ct garnet, channel; 1 × 0.004 ct jade, pave"


def test_net_grams_are_the_volume_times_the_density_to_the_milligram() -> None:
    # 1234.5678 mm³ × 13.07 g/cm³ (14k yellow) = 16.13580... g → 16.136 g
    assert net_grams(analysed(1234.5678), "14k_yellow") == Decimal("16.136")
    # 0.05 mm³ × 10.40 = 0.00052 g → 0.001 g (half-up at the milligram)
    assert net_grams(analysed(0.05), "sterling_silver") == Decimal("0.001")


# -- properties -----------------------------------------------------------------------------

PRICED_STONES = ("diamond", "ruby", "opal", "jade")


def half_up(value: Fraction) -> int:
    assert value >= 0
    return math.floor(value + Fraction(1, 2))


@st.composite
def priced_orders(draw: st.DrawFn) -> tuple[Brief, CadAnalysis, PriceTable, Money | None]:
    currency = draw(st.sampled_from(sorted(CURRENCY_EXPONENTS)))
    alloy = draw(st.sampled_from([a.code for a in ALLOYS]))
    table = PriceTable(
        currency=currency, effective=date(2026, 1, 1),
        metal_per_gram={alloy: draw(st.integers(0, 10**6))},
        stone_per_carat={kind: draw(st.integers(0, 10**7)) for kind in PRICED_STONES},
        setting_per_stone=draw(st.integers(0, 10**5)), labour_per_piece=draw(st.integers(0, 10**6)),
        casting_loss=Decimal(draw(st.integers(0, 10_000))).scaleb(-4),
        platform_fee_rate=Decimal(draw(st.integers(0, 5_000))).scaleb(-4),
    )
    stones = tuple(draw(st.lists(st.builds(StoneLine, st.sampled_from(PRICED_STONES),
                                           st.integers(1, 100_000).map(lambda n: Decimal(n).scaleb(-3)),
                                           st.integers(1, 1000), st.sampled_from(Setting)), max_size=20)))
    volume = draw(st.floats(0.001, 1e6, allow_nan=False, allow_infinity=False))
    royalty = draw(st.none() | st.integers(1, 10**6).map(lambda n: Money(n, currency)))
    return brief(alloy, draw(st.integers(1, 100_000)), stones), analysed(volume), table, royalty


@settings(max_examples=150, deadline=None)
@given(priced_orders())
def test_every_line_follows_the_documented_rounding_and_adds_up_to_the_total(
        case: tuple[Brief, CadAnalysis, PriceTable, Money | None]) -> None:
    b, analysis, table, royalty = case
    try:
        q = quote(b, analysis, table, royalty_per_unit=royalty)
    except ValidationFailed as refused:
        # Only a quote that would come to nothing is refused (it could not be charged).
        assert refused.field == "prices"
        assert table.labour_per_piece == 0 and not royalty
        return
    # the oracle, in exact fractions
    assert analysis.metrics is not None
    density = Fraction(find_alloy(b.alloy).density_g_cm3)
    grams = Fraction(half_up(Fraction(Decimal(str(analysis.metrics.volume_mm3))) * density), 1000)
    assert Fraction(q.net_grams_per_piece) == grams
    expected = {
        "metal": half_up(grams * table.metal_per_gram[b.alloy] * (1 + Fraction(table.casting_loss))),
        "labour": table.labour_per_piece,
        "stones": half_up(sum((s.count * (Fraction(s.carat) * table.stone_per_carat[s.type]
                                          + table.setting_per_stone) for s in b.stones), Fraction(0))),
        "licence_royalty": royalty.amount_minor if royalty else 0,
    }
    assert per_piece(q) == expected
    subtotal = sum(expected.values()) * b.quantity
    fee = half_up(subtotal * Fraction(table.platform_fee_rate))
    assert (q.subtotal.amount_minor, q.platform_fee.amount_minor, q.total.amount_minor) == (
        subtotal, fee, subtotal + fee)
    # lines × quantity, and the lines plus the fee are the total to the minor unit
    for line in q.lines:
        assert line.amount.amount_minor == line.per_piece.amount_minor * b.quantity
    assert sum(line.amount.amount_minor for line in q.lines) + q.platform_fee.amount_minor == q.total.amount_minor
    # integer minor units in one currency, everywhere
    monies = [q.subtotal, q.platform_fee, q.total, *(m for line in q.lines for m in (line.per_piece, line.amount))]
    assert all(type(m.amount_minor) is int and m.currency == table.currency for m in monies)
    assert [line.code for line in q.lines] == ["metal", "labour", "stones", "licence_royalty"]


@settings(max_examples=60, deadline=None)
@given(priced_orders(), st.integers(2, 1000))
def test_more_pieces_cost_exactly_proportionally_before_the_fee(
        case: tuple[Brief, CadAnalysis, PriceTable, Money | None], factor: int) -> None:
    b, analysis, table, royalty = case
    try:
        one = quote(attrs.evolve(b, quantity=1), analysis, table, royalty_per_unit=royalty)
    except ValidationFailed as refused:
        assert refused.field == "prices"  # a quote of nothing
        return
    many = quote(attrs.evolve(b, quantity=factor), analysis, table, royalty_per_unit=royalty)
    assert per_piece(one) == per_piece(many)
    assert many.subtotal.amount_minor == factor * one.subtotal.amount_minor


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "analysis",
    [None, CadAnalysis(CadStatus.NOT_ANALYSED, None, "a .3dm file"),
     CadAnalysis(CadStatus.INVALID, None, "unreadable"), CadAnalysis(CadStatus.ANALYSED, None, "no figures")],
    ids=["none", "not-analysed", "invalid", "analysed-without-metrics"],
)
def test_no_quote_without_an_analysed_cad_file(analysis: CadAnalysis | None) -> None:
    with pytest.raises(ValidationFailed, match="no analysed CAD file") as caught:
        quote(brief(), analysis, DEFAULT_PRICES, royalty_per_unit=None)
    assert caught.value.field == "design_id"


@pytest.mark.parametrize("analysis", [CadAnalysis(CadStatus.ANALYSED, metrics(watertight=False), "analysed"),
                                      assess(metrics(watertight=False))], ids=["hand-built", "assessed"])
def test_no_quote_for_a_mesh_that_is_not_watertight(analysis: CadAnalysis) -> None:
    with pytest.raises(ValidationFailed, match="not watertight") as caught:
        quote(brief(), analysis, DEFAULT_PRICES, royalty_per_unit=None)
    assert caught.value.field == "design_id"


def test_no_quote_when_the_royalty_is_in_another_currency() -> None:
    with pytest.raises(ValidationFailed) as caught:
        quote(brief(), analysed(), DEFAULT_PRICES, royalty_per_unit=Money(2500, "EUR"))
    assert caught.value.field == "currency"
    assert "royalty is in EUR but prices are in USD" in caught.value.message


def test_no_quote_without_a_metal_price() -> None:
    table = prices(metal_per_gram={"18k_yellow": 8200})
    with pytest.raises(ValidationFailed) as caught:
        quote(brief("18k_rose"), analysed(), table, royalty_per_unit=None)
    assert (caught.value.field, caught.value.message) == ("alloy", "No metal price is set for 18k_rose.")


@pytest.mark.parametrize("kind", ["other", "garnet"])
def test_no_quote_without_a_stone_price(kind: str) -> None:
    table = prices(stone_per_carat={"diamond": 150_000})
    stones = (StoneLine("diamond", Decimal("0.1"), 1, Setting.PRONG), StoneLine(kind, Decimal("0.1"), 1, Setting.PAVE))
    with pytest.raises(ValidationFailed) as caught:
        quote(brief(stones=stones), analysed(), table, royalty_per_unit=None)
    assert (caught.value.field, caught.value.message) == ("stones", f"No price is set for {kind}.")


# -- the price table ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"metal_per_gram": {"18k_yellow": -1}}, "prices"),
        ({"stone_per_carat": {"diamond": -150_000}}, "prices"),
        ({"setting_per_stone": -800}, "prices"),
        ({"labour_per_piece": -1}, "prices"),
        ({"labour_per_piece": 90.5}, "prices"),
        ({"metal_per_gram": {"18k_yellow": 82.0}}, "prices"),
        ({"stone_per_carat": {"ruby": True}}, "prices"),
        ({"stone_per_carat": {"ruby": "80000"}}, "prices"),
        ({"platform_fee_rate": Decimal("0.5001")}, "platform_fee_rate"),
        ({"platform_fee_rate": Decimal("-0.01")}, "platform_fee_rate"),
        ({"casting_loss": Decimal("1.01")}, "casting_loss"),
        ({"casting_loss": Decimal("-0.01")}, "casting_loss"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "usd"}, "currency"),
    ],
)
def test_a_bad_price_table_is_refused(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        prices(**changes)
    assert caught.value.field == field


def test_the_limits_of_a_price_table_are_inclusive() -> None:
    table = prices(platform_fee_rate=Decimal("0.5"), casting_loss=Decimal(1), labour_per_piece=0,
                   metal_per_gram={"18k_yellow": 0}, stone_per_carat={})
    assert (table.platform_fee_rate, table.casting_loss) == (Decimal("0.5"), Decimal(1))
    with pytest.raises(TypeError):
        table.metal_per_gram["18k_yellow"] = 1  # type: ignore[index]  # read-only once set
