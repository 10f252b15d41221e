"""Issue #3, the pure part: metal weight from volume and alloy density, and the
casting assessment of measured mesh figures."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from caratzon_core.designs import METALS
from caratzon_core.errors import ValidationFailed
from caratzon_core.geometry import (
    ALLOYS,
    DEFAULT_CASTING_ALLOWANCE,
    UNITS_NOTE,
    Alloy,
    CadAnalysis,
    CadStatus,
    MeshMetrics,
    MetalWeight,
    assess,
    estimate_weights,
    find_alloy,
    invalid_analysis,
    ring_inner_diameter_mm,
)

UNIT = Alloy("unit", "Test metal", Decimal("1"), "test")


def metrics(volume: float = 1000.0, *, watertight: bool = True, wall: float | None = 2.0,
            bbox: tuple[float, float, float] = (10.0, 10.0, 10.0)) -> MeshMetrics:
    return MeshMetrics(volume_mm3=volume, surface_area_mm2=600.0, bbox_mm=bbox, triangle_count=12,
                       watertight=watertight, thinnest_wall_mm=wall)


def grams(weights: tuple[MetalWeight, ...]) -> dict[str, Decimal]:
    return {w.alloy_code: w.grams for w in weights}


# -- the alloy table ------------------------------------------------------------------


def test_the_chart_values_from_the_issue_are_exact_and_not_marked_approximate() -> None:
    chart = {"14k_yellow": "13.07", "18k_yellow": "15.58", "18k_white": "14.64", "sterling_silver": "10.40"}
    for code, density in chart.items():
        alloy = find_alloy(code)
        assert alloy.density_g_cm3 == Decimal(density)
        assert not alloy.approximate
        assert "Stuller" in alloy.source


def test_values_not_on_the_chart_are_marked_approximate_with_their_source() -> None:
    platinum = find_alloy("platinum_950")
    assert platinum.density_g_cm3 == Decimal("21.0")
    assert platinum.approximate and "20.7-21.4" in platinum.source
    for code in ("18k_rose", "14k_white", "14k_rose"):
        alloy = find_alloy(code)
        assert alloy.approximate and alloy.source
    assert Decimal("15.0") <= find_alloy("18k_rose").density_g_cm3 <= Decimal("15.3")
    assert Decimal("12.6") <= find_alloy("14k_white").density_g_cm3 <= Decimal("13.0")


def test_every_metal_a_design_can_list_has_a_density() -> None:
    assert {a.code for a in ALLOYS} == set(METALS)


def test_unknown_alloy_and_bad_rows_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        find_alloy("22k_green")
    with pytest.raises(ValidationFailed):
        Alloy("18k yellow", "x", Decimal("15"), "s")
    with pytest.raises(ValidationFailed):
        Alloy("lead", "Lead", Decimal("0"), "s")
    with pytest.raises(ValidationFailed):
        Alloy("lead", "Lead", 11.3, "s")  # type: ignore[arg-type]  # floats are refused: densities are data


# -- weight arithmetic ----------------------------------------------------------------


def test_a_cubic_centimetre_weighs_its_density_plus_the_allowance() -> None:
    weights = grams(estimate_weights(1000.0))
    assert weights["18k_yellow"] == Decimal("17.14")  # 15.58 * 1.10 = 17.138
    assert weights["14k_yellow"] == Decimal("14.38")  # 13.07 * 1.10 = 14.377
    assert weights["sterling_silver"] == Decimal("11.44")  # 10.40 * 1.10
    assert weights["platinum_950"] == Decimal("23.10")
    assert [w.alloy_code for w in estimate_weights(1000.0)] == [a.code for a in ALLOYS]


def test_without_allowance_the_weight_is_volume_times_density() -> None:
    weights = grams(estimate_weights(Decimal("2500"), casting_allowance=Decimal("0")))
    assert weights["18k_white"] == Decimal("36.60")
    assert weights["18k_yellow"] == Decimal("38.95")


def test_weights_round_half_up_to_a_hundredth_of_a_gram() -> None:
    none = Decimal("0")
    assert estimate_weights(1005, [UNIT], none)[0].grams == Decimal("1.01")  # 1.005 -> 1.01 (not banker's 1.00)
    assert estimate_weights(1004.9, [UNIT], none)[0].grams == Decimal("1.00")
    assert estimate_weights(1015, [UNIT], none)[0].grams == Decimal("1.02")
    assert estimate_weights(1, [UNIT], none)[0].grams == Decimal("0.00")
    assert estimate_weights(1000, [UNIT], none)[0].grams.as_tuple().exponent == -2


def test_the_allowance_is_configurable() -> None:
    assert estimate_weights(1000, [UNIT], Decimal("0.25"))[0].grams == Decimal("1.25")
    assert estimate_weights(1000, [UNIT], 1)[0].grams == Decimal("2.00")  # type: ignore[arg-type]
    assert estimate_weights(1000, [UNIT], "0.05")[0].grams == Decimal("1.05")  # type: ignore[arg-type]


@pytest.mark.parametrize("allowance", [Decimal("-0.01"), Decimal("1.5"), Decimal("NaN"), "ten", True])
def test_a_nonsensical_allowance_is_refused(allowance: object) -> None:
    with pytest.raises(ValidationFailed) as err:
        estimate_weights(1000, casting_allowance=allowance)  # type: ignore[arg-type]
    assert err.value.field == "casting_allowance"


@pytest.mark.parametrize("volume", [0, -5.0, math.nan, math.inf, Decimal("-1")])
def test_no_weight_without_a_positive_volume(volume: float) -> None:
    with pytest.raises(ValidationFailed) as err:
        estimate_weights(volume)
    assert err.value.field == "volume_mm3"


def test_a_table_with_a_code_twice_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        estimate_weights(1000, [UNIT, UNIT])


def test_an_edited_table_replaces_the_default() -> None:
    cheaper = (Alloy("9k_yellow", "9k yellow gold", Decimal("11.2"), "caster's sheet, 2026"),)
    result = assess(metrics(), alloys=cheaper, casting_allowance=Decimal("0"))
    assert grams(result.weights) == {"9k_yellow": Decimal("11.20")}


density = st.decimals(min_value=Decimal("1"), max_value=Decimal("25"), places=2)
volume = st.floats(min_value=0.001, max_value=1e6, allow_nan=False, allow_infinity=False)
allowance = st.decimals(min_value=Decimal("0"), max_value=Decimal("1"), places=3)


@given(volume, volume, density, allowance)
def test_weight_is_monotone_in_volume(v1: float, v2: float, d: Decimal, a: Decimal) -> None:
    alloy = [Alloy("x", "X", d, "test")]
    low, high = sorted((v1, v2))
    assert estimate_weights(low, alloy, a)[0].grams <= estimate_weights(high, alloy, a)[0].grams


@given(volume, density, allowance, allowance)
def test_weight_is_monotone_in_the_allowance(v: float, d: Decimal, a1: Decimal, a2: Decimal) -> None:
    alloy = [Alloy("x", "X", d, "test")]
    low, high = sorted((a1, a2))
    assert estimate_weights(v, alloy, low)[0].grams <= estimate_weights(v, alloy, high)[0].grams


@given(volume, density, density, allowance)
def test_weight_is_proportional_to_density(v: float, d1: Decimal, d2: Decimal, a: Decimal) -> None:
    w1, w2 = estimate_weights(v, [Alloy("a", "A", d1, "t"), Alloy("b", "B", d2, "t")], a)
    # each weight is within half a hundredth of the exact value
    assert abs(w1.grams * d2 - w2.grams * d1) <= Decimal("0.005") * (d1 + d2)
    exact = Decimal(str(v)) / 1000 * d1 * (1 + a)
    assert abs(w1.grams - exact) <= Decimal("0.005")


# -- assessment -----------------------------------------------------------------------


def test_a_sound_watertight_mesh_is_analysed_with_a_weight_per_alloy() -> None:
    result = assess(metrics(wall=1.2))
    assert result.status is CadStatus.ANALYSED
    assert len(result.weights) == len(ALLOYS)
    assert result.warnings == ()
    assert result.casting_allowance == DEFAULT_CASTING_ALLOWANCE
    assert "10 %" in result.message and "1,000.0 mm³" in result.message


def test_a_mesh_that_is_not_watertight_is_flagged_and_claims_no_weight() -> None:
    result = assess(metrics(watertight=False, wall=None))
    assert result.status is CadStatus.NOT_WATERTIGHT
    assert result.weights == ()
    assert result.casting_allowance is None
    assert result.metrics is not None and result.metrics.volume_mm3 == 1000.0  # still stored
    assert "not watertight" in result.message


def test_a_mesh_without_volume_is_invalid() -> None:
    result = assess(metrics(volume=0.0))
    assert result.status is CadStatus.INVALID and result.weights == ()
    assert assess(metrics(volume=-3.0)).status is CadStatus.INVALID


def test_a_format_we_cannot_measure_is_not_analysed() -> None:
    result = assess(None)
    assert result.status is CadStatus.NOT_ANALYSED
    assert result.metrics is None and result.weights == ()
    assert "not analysed" in result.message


def test_a_thin_wall_is_a_warning_not_a_refusal() -> None:
    result = assess(metrics(wall=0.5))
    assert result.status is CadStatus.ANALYSED and result.weights
    assert result.warnings == ("Thinnest wall is about 0.50 mm, below the 0.8 mm needed for casting.",)
    assert assess(metrics(wall=0.8)).warnings == ()
    assert assess(metrics(wall=0.9), min_wall_mm=Decimal("1.0")).warnings[0].startswith("Thinnest wall is about 0.90")


def test_an_unknown_wall_and_a_doubtful_size_are_warnings() -> None:
    assert "could not be estimated" in assess(metrics(wall=None)).warnings[0]
    metre = assess(metrics(bbox=(800.0, 20.0, 20.0)))
    assert any("millimetres" in w for w in metre.warnings)
    speck = assess(metrics(bbox=(0.4, 0.2, 0.2)))
    assert any("millimetres" in w for w in speck.warnings)


def test_assess_refuses_a_bad_allowance_or_minimum_wall() -> None:
    with pytest.raises(ValidationFailed):
        assess(metrics(), casting_allowance=Decimal("2"))
    with pytest.raises(ValidationFailed):
        assess(None, min_wall_mm=Decimal("-1"))


def test_metrics_refuse_impossible_figures() -> None:
    with pytest.raises(ValidationFailed):
        MeshMetrics(math.nan, 1.0, (1.0, 1.0, 1.0), 1, True)
    with pytest.raises(ValidationFailed):
        MeshMetrics(1.0, -1.0, (1.0, 1.0, 1.0), 1, True)
    with pytest.raises(ValidationFailed):
        MeshMetrics(1.0, 1.0, (1.0, -1.0, 1.0), 1, True)
    with pytest.raises(ValidationFailed):
        MeshMetrics(1.0, 1.0, (1.0, 1.0, 1.0), -1, True)
    with pytest.raises(ValidationFailed):
        MeshMetrics(1.0, 1.0, (1.0, 1.0, 1.0), 1, True, thinnest_wall_mm=-0.1)
    assert metrics().units == UNITS_NOTE and "millimetres" in UNITS_NOTE


def test_an_unreadable_file_can_be_kept_as_invalid() -> None:
    result = invalid_analysis("The file is empty (0 bytes).")
    assert result.status is CadStatus.INVALID and result.metrics is None and result.weights == ()


def test_the_analysis_round_trips_through_a_json_converter() -> None:
    """Plain attrs: an edge converter only needs a Decimal hook (decimal strings in JSON)."""
    converter = cattrs.Converter()
    converter.register_unstructure_hook(Decimal, str)
    converter.register_structure_hook(Decimal, lambda value, _: Decimal(value))
    for analysis in (assess(metrics(wall=0.5)), assess(None), assess(metrics(watertight=False))):
        raw = json.loads(json.dumps(converter.unstructure(analysis)))
        assert raw["status"] in {s.value for s in CadStatus}
        assert converter.structure(raw, CadAnalysis) == analysis
    assert converter.unstructure(assess(metrics()))["weights"][0] == {"alloy_code": "14k_yellow", "grams": "14.38"}


# -- ring sizes -----------------------------------------------------------------------


def test_us_ring_sizes_give_inner_diameters() -> None:
    assert ring_inner_diameter_mm(0) == Decimal("11.63")
    assert ring_inner_diameter_mm(7) == Decimal("17.3196")  # charts: 17.3 mm
    assert ring_inner_diameter_mm("6.5") == Decimal("16.9132")
    assert ring_inner_diameter_mm(10) == Decimal("19.758")  # charts: 19.8 mm
    for bad in (-1, 17, "seven", math.nan):
        with pytest.raises(ValidationFailed):
            ring_inner_diameter_mm(bad)
