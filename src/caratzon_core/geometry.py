"""CAD geometry (issue #3): what a mesh measures, what it would weigh cast in each
alloy, and whether it is fit to cast.

Parsing a mesh is an adapter's job (``caratzon_adapters.cad``); it hands the core
a :class:`MeshMetrics`. Everything here is plain arithmetic on those figures:

* weight (g) = volume (mm³) / 1000 * density (g/cm³) * (1 + casting allowance),
  in :class:`~decimal.Decimal`, rounded half-up to 0.01 g;
* a mesh that is not watertight has no meaningful volume: it is stored and
  flagged, and no weight is claimed;
* walls thinner than 0.8 mm (by default) are flagged: they rarely fill in casting.

STL and OBJ carry no units. We assume millimetres and say so (:data:`UNITS_NOTE`);
a model whose size makes that assumption doubtful gets a warning.

The alloy table is data, not code: :data:`ALLOYS` is the default, each row with
its source, and every function takes the table as an argument so an edited table
(e.g. from configuration) can replace it.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from attrs import field, frozen

from caratzon_core.errors import ValidationFailed

UNITS_NOTE = "STL and OBJ files carry no units: all figures assume the model was exported in millimetres."
DEFAULT_CASTING_ALLOWANCE = Decimal("0.10")  # sprue, button and finishing loss, as a fraction of the net weight
MAX_CASTING_ALLOWANCE = Decimal("1")  # 100 %: anything above is a typing error
MIN_CASTING_WALL_MM = Decimal("0.8")
GRAM_STEP = Decimal("0.01")
# A piece of jewellery is between about 1 mm and 200 mm across. Outside that, the
# file was most likely exported in inches, centimetres or metres.
PLAUSIBLE_SIZE_MM = (1.0, 200.0)

# US/Canada ring sizes: inner diameter (mm) = 11.63 + 0.8128 * size. Each whole
# size adds 0.032 in (0.8128 mm) of diameter; size 0 is 0.458 in (11.63 mm).
RING_SIZE_BASE_MM = Decimal("11.63")
RING_SIZE_STEP_MM = Decimal("0.8128")
RING_SIZE_RANGE_US = (Decimal(0), Decimal(16))

_STULLER = (
    "Stuller specific-gravity chart ('Where can I find the specific gravity of materials?', 2012), "
    "the chart quoted in issue #3"
)

_CODE = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")


class CadStatus(enum.StrEnum):
    ANALYSED = "analysed"
    NOT_WATERTIGHT = "not_watertight"  # stored and flagged; no weight claimed
    NOT_ANALYSED = "not_analysed"  # a format we store but cannot measure (.3dm, .step, ...)
    INVALID = "invalid"  # parsed, but the figures make no sense (no enclosed volume)


# -- validators ----------------------------------------------------------------------


def _check_code(instance: object, attribute: object, value: str) -> None:
    if not isinstance(value, str) or not _CODE.match(value):
        raise ValidationFailed(f"Alloy code {value!r} must be lower-case letters, digits and '_'.", field="alloy")


def _check_density(instance: object, attribute: object, value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValidationFailed(f"Density {value!r} must be a positive Decimal in g/cm³.", field="density_g_cm3")


def _check_finite(instance: object, attribute: object, value: float) -> None:
    name = getattr(attribute, "name", "value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationFailed(f"{name} must be a finite number, not {value!r}.", field=name)


def _check_non_negative(instance: object, attribute: object, value: float) -> None:
    _check_finite(instance, attribute, value)
    if value < 0:
        name = getattr(attribute, "name", "value")
        raise ValidationFailed(f"{name} cannot be negative.", field=name)


def _check_bbox(instance: object, attribute: object, value: tuple[float, float, float]) -> None:
    if len(value) != 3 or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value) or any(
        not math.isfinite(v) or v < 0 for v in value
    ):
        raise ValidationFailed("The bounding box is three non-negative sizes in mm.", field="bbox_mm")


def _check_count(instance: object, attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationFailed("The triangle count is a non-negative whole number.", field="triangle_count")


def _check_wall(instance: object, attribute: object, value: float | None) -> None:
    if value is not None:
        _check_non_negative(instance, attribute, value)


def _check_grams(instance: object, attribute: object, value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValidationFailed(f"Weight {value!r} must be a non-negative Decimal.", field="grams")


# -- models --------------------------------------------------------------------------


@frozen
class Alloy:
    """A casting alloy and its density. ``approximate`` marks values that are not
    from the chart the issue cites (alloy recipes vary; check with the caster)."""

    code: str = field(validator=_check_code)
    name: str
    density_g_cm3: Decimal = field(validator=_check_density)
    source: str
    approximate: bool = False


ALLOYS: tuple[Alloy, ...] = (
    Alloy("14k_yellow", "14k yellow gold", Decimal("13.07"), _STULLER),
    Alloy("14k_white", "14k white gold", Decimal("12.61"),
          f"{_STULLER}: '14K White' (nickel white). Published values run 12.6-13.0 g/cm³; "
          "palladium whites are denser.", approximate=True),
    Alloy("14k_rose", "14k rose gold", Decimal("13.26"),
          f"{_STULLER}: '14K Red'. Rose/red recipes vary; other charts give about 13.0 g/cm³.",
          approximate=True),
    Alloy("18k_yellow", "18k yellow gold", Decimal("15.58"), _STULLER),
    Alloy("18k_white", "18k white gold", Decimal("14.64"), _STULLER),
    Alloy("18k_rose", "18k rose gold", Decimal("15.18"),
          f"{_STULLER}: '18K Red'. Rose/red recipes vary; charts give about 15.1-15.2 g/cm³.",
          approximate=True),
    Alloy("platinum_950", "Platinum 950", Decimal("21.0"),
          "Published range 20.7-21.4 g/cm³ depending on the 5 % alloying metal (ruthenium, cobalt or "
          "iridium; the Stuller chart gives platinum-cobalt 20.80); 21.0 is a mid-range value.",
          approximate=True),
    Alloy("sterling_silver", "Sterling silver", Decimal("10.40"), _STULLER),
)


@frozen
class MeshMetrics:
    """What an adapter measured on a mesh. Lengths in mm, assumed (see ``units``).

    ``volume_mm3`` is the absolute enclosed volume; ``watertight`` means every edge
    is shared by exactly two faces of opposite orientation. ``thinnest_wall_mm`` is
    an estimate from a sample of faces, or None when it could not be estimated.
    """

    volume_mm3: float = field(validator=_check_finite)
    surface_area_mm2: float = field(validator=_check_non_negative)
    bbox_mm: tuple[float, float, float] = field(validator=_check_bbox)
    triangle_count: int = field(validator=_check_count)
    watertight: bool
    thinnest_wall_mm: float | None = field(default=None, validator=_check_wall)
    units: str = UNITS_NOTE


@frozen
class MetalWeight:
    alloy_code: str
    grams: Decimal = field(validator=_check_grams)  # rounded half-up to 0.01 g, allowance included


@frozen
class CadAnalysis:
    status: CadStatus
    metrics: MeshMetrics | None
    message: str
    weights: tuple[MetalWeight, ...] = ()
    warnings: tuple[str, ...] = ()
    casting_allowance: Decimal | None = None  # the allowance the weights include; None when there are none


# -- arithmetic ----------------------------------------------------------------------


def _decimal(value: object, field_name: str) -> Decimal:
    if isinstance(value, bool):
        raise ValidationFailed(f"{field_name} must be a number, not {value!r}.", field=field_name)
    try:
        # str() of a float is its shortest round-tripping form: 1000.0 -> Decimal("1000.0").
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationFailed(f"{field_name} must be a number, not {value!r}.", field=field_name) from None
    if not result.is_finite():
        raise ValidationFailed(f"{field_name} must be a finite number, not {value!r}.", field=field_name)
    return result


def check_casting_allowance(allowance: Decimal | int | str) -> Decimal:
    """The allowance as a Decimal fraction in [0, 1] (0.10 = 10 %)."""
    value = _decimal(allowance, "casting_allowance")
    if value < 0 or value > MAX_CASTING_ALLOWANCE:
        raise ValidationFailed(
            f"The casting allowance is a fraction between 0 and {MAX_CASTING_ALLOWANCE} (0.10 = 10 %), not {value}.",
            field="casting_allowance",
        )
    return value


def estimate_weights(
    volume_mm3: float | Decimal,
    alloys: Iterable[Alloy] = ALLOYS,
    casting_allowance: Decimal = DEFAULT_CASTING_ALLOWANCE,
) -> tuple[MetalWeight, ...]:
    """Metal weight per alloy: volume / 1000 * density * (1 + allowance), in grams
    rounded half-up to 0.01 g. The volume must be positive."""
    volume = _decimal(volume_mm3, "volume_mm3")
    if volume <= 0:
        raise ValidationFailed(f"The volume must be positive to estimate a weight, not {volume} mm³.",
                               field="volume_mm3")
    factor = 1 + check_casting_allowance(casting_allowance)
    weights: list[MetalWeight] = []
    seen: set[str] = set()
    with localcontext() as ctx:
        ctx.prec = 60  # exact: a float has at most 17 significant digits
        for alloy in alloys:
            if alloy.code in seen:
                raise ValidationFailed(f"Alloy {alloy.code!r} appears twice in the table.", field="alloys")
            seen.add(alloy.code)
            grams = volume.scaleb(-3) * alloy.density_g_cm3 * factor
            weights.append(MetalWeight(alloy.code, grams.quantize(GRAM_STEP, rounding=ROUND_HALF_UP)))
    return tuple(weights)


def find_alloy(code: str, alloys: Iterable[Alloy] = ALLOYS) -> Alloy:
    for alloy in alloys:
        if alloy.code == code:
            return alloy
    raise ValidationFailed(f"Unknown alloy {code!r}.", field="alloy")


def ring_inner_diameter_mm(size_us: Decimal | int | str | float) -> Decimal:
    """Inner diameter of a US/Canada ring size: 11.63 + 0.8128 * size (mm).
    Size 7 -> 17.3196 mm. Sizes 0 to 16, fractions allowed."""
    size = _decimal(size_us, "ring_size")
    low, high = RING_SIZE_RANGE_US
    if size < low or size > high:
        raise ValidationFailed(f"US ring sizes run from {low} to {high}, not {size}.", field="ring_size")
    return RING_SIZE_BASE_MM + RING_SIZE_STEP_MM * size


def _percent(fraction: Decimal) -> str:
    return f"{(fraction * 100).normalize():f} %"


def assess(
    metrics: MeshMetrics | None,
    *,
    alloys: Iterable[Alloy] = ALLOYS,
    casting_allowance: Decimal = DEFAULT_CASTING_ALLOWANCE,
    min_wall_mm: Decimal = MIN_CASTING_WALL_MM,
) -> CadAnalysis:
    """Turn measured figures into the analysis shown with a CAD asset.

    None (a format we cannot measure) -> ``not_analysed``; not watertight ->
    ``not_watertight`` with no weights; no positive volume -> ``invalid``;
    otherwise ``analysed`` with one weight per alloy. Thin walls, an unestimated
    wall and an implausible size (units) are warnings, whatever the status.
    """
    allowance = check_casting_allowance(casting_allowance)
    min_wall = _decimal(min_wall_mm, "min_wall_mm")
    if min_wall < 0:
        raise ValidationFailed("The minimum wall cannot be negative.", field="min_wall_mm")
    table = tuple(alloys)
    if metrics is None:
        return CadAnalysis(
            CadStatus.NOT_ANALYSED,
            None,
            "Stored but not analysed: we measure STL and OBJ meshes only. "
            "Volume, weight and wall thickness are not known for this file.",
        )

    warnings: list[str] = []
    if metrics.thinnest_wall_mm is None:
        warnings.append(f"Wall thickness could not be estimated: check that walls are at least {min_wall} mm.")
    elif Decimal(str(metrics.thinnest_wall_mm)) < min_wall:
        warnings.append(
            f"Thinnest wall is about {metrics.thinnest_wall_mm:.2f} mm, below the {min_wall} mm "
            "needed for casting."
        )
    largest = max(metrics.bbox_mm)
    low, high = PLAUSIBLE_SIZE_MM
    if largest > high or largest < low:
        warnings.append(
            f"The model is {largest:g} mm across: check that it was exported in millimetres "
            "(STL and OBJ carry no units)."
        )

    if not metrics.watertight:
        return CadAnalysis(
            CadStatus.NOT_WATERTIGHT,
            metrics,
            "The mesh is not watertight (it has open or unpaired edges), so its volume is not "
            "meaningful and no metal weight is estimated. Close the mesh in your CAD tool and upload it again.",
            warnings=tuple(warnings),
        )
    if metrics.volume_mm3 <= 0:
        return CadAnalysis(
            CadStatus.INVALID,
            metrics,
            "The mesh encloses no volume, so no metal weight can be estimated.",
            warnings=tuple(warnings),
        )
    weights = estimate_weights(metrics.volume_mm3, table, allowance)
    return CadAnalysis(
        CadStatus.ANALYSED,
        metrics,
        f"Volume {metrics.volume_mm3:,.1f} mm³. Weights include a {_percent(allowance)} casting allowance "
        "for sprue and finishing loss.",
        weights=weights,
        warnings=tuple(warnings),
        casting_allowance=allowance,
    )


def invalid_analysis(message: str) -> CadAnalysis:
    """For a file that could not be read as the mesh its name claims (the adapter's
    parse error), when the caller keeps the file rather than refusing the upload."""
    return CadAnalysis(CadStatus.INVALID, None, message)
