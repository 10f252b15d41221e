# The multiplication sign is the right symbol in prices and formulas.
# ruff: noqa: RUF001, RUF002, RUF003
"""The quote (issue #5, part 3): what an order costs, line by line, in integer
minor units of one currency.

Per piece:

* **metal** = net grams × alloy price per gram × (1 + casting loss). Net grams come
  from the design's CAD analysis (mesh volume × alloy density); the casting loss is
  the operator's, from the price table.
* **labour** = the price table's labour per piece.
* **stones** = for each stone line, count × (carat × price per carat of that stone
  + setting fee per stone).
* **licence royalty** = the agreement's royalty per unit (0 without one).

Then **platform fee** = rate × (quantity × the per-piece sum), and the **total**.

Rounding (documented, and the same everywhere): every per-piece line is rounded
half-up to a whole minor unit once, then multiplied by the quantity; the platform
fee is rounded half-up once on the subtotal. Lines therefore always add up to
the total exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from attrs import field, frozen

from caratzon_core.errors import ValidationFailed
from caratzon_core.geometry import ALLOYS, CadAnalysis, CadStatus, find_alloy
from caratzon_core.money import CURRENCY_EXPONENTS, Money
from caratzon_core.orders import Brief

MAX_PLATFORM_FEE = Decimal("0.5")


def _frozen(values: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(values))


@frozen
class PriceTable:
    """Operator-set prices with the date they were set. Prices are minor units:
    per gram for metals, per carat for stones; casting loss and the platform fee
    rate are fractions."""

    currency: str
    effective: date
    metal_per_gram: Mapping[str, int] = field(converter=_frozen, hash=False)
    stone_per_carat: Mapping[str, int] = field(converter=_frozen, hash=False)
    setting_per_stone: int
    labour_per_piece: int
    casting_loss: Decimal
    platform_fee_rate: Decimal

    def __attrs_post_init__(self) -> None:
        if self.currency not in CURRENCY_EXPONENTS:
            raise ValidationFailed(f"Unknown currency {self.currency!r}.", field="currency")
        for name, value in [*self.metal_per_gram.items(), *self.stone_per_carat.items(),
                            ("setting", self.setting_per_stone), ("labour", self.labour_per_piece)]:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValidationFailed(f"The price for {name} must be a whole number of minor units, not below 0.",
                                       field="prices")
        if not Decimal(0) <= self.casting_loss <= Decimal(1):
            raise ValidationFailed("The casting loss is a fraction between 0 and 1.", field="casting_loss")
        if not Decimal(0) <= self.platform_fee_rate <= MAX_PLATFORM_FEE:
            raise ValidationFailed(f"The platform fee rate is between 0 and {MAX_PLATFORM_FEE}.",
                                   field="platform_fee_rate")

    def __deepcopy__(self, memo: dict[int, object]) -> PriceTable:
        return self  # immutable; its read-only mappings cannot be copied


# A demo table so that a fresh install quotes something sensible; operators set
# their own with `caratzon prices set`.
DEFAULT_PRICES = PriceTable(
    currency="USD",
    effective=date(2026, 11, 1),
    metal_per_gram={"18k_yellow": 8200, "18k_white": 8400, "18k_rose": 8200, "14k_yellow": 6400,
                    "14k_white": 6500, "14k_rose": 6400, "platinum_950": 3900, "sterling_silver": 120},
    stone_per_carat={"diamond": 150000, "sapphire": 60000, "ruby": 80000, "emerald": 70000, "pearl": 20000,
                     "spinel": 30000, "tourmaline": 15000, "topaz": 5000, "aquamarine": 20000, "garnet": 5000,
                     "amethyst": 3000, "morganite": 20000, "tanzanite": 45000, "opal": 25000, "moissanite": 30000,
                     "peridot": 5000, "citrine": 2000, "jade": 10000},
    setting_per_stone=800,
    labour_per_piece=9000,
    casting_loss=Decimal("0.05"),
    platform_fee_rate=Decimal("0.08"),
)


@frozen
class QuoteLine:
    code: str  # metal, labour, stones, licence_royalty
    label: str
    per_piece: Money
    amount: Money  # per piece × quantity
    detail: str


@frozen
class Quote:
    currency: str
    quantity: int
    lines: tuple[QuoteLine, ...]
    subtotal: Money
    platform_fee: Money
    platform_fee_rate: Decimal
    total: Money
    net_grams_per_piece: Decimal
    prices_effective: date

    def line(self, code: str) -> QuoteLine:
        return next(line for line in self.lines if line.code == code)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def net_grams(analysis: CadAnalysis | None, alloy_code: str) -> Decimal:
    if analysis is not None and analysis.status is CadStatus.NOT_WATERTIGHT:
        raise ValidationFailed("The design's CAD mesh is not watertight, so its metal cannot be weighed.",
                               field="design_id")
    if analysis is None or analysis.status is not CadStatus.ANALYSED or analysis.metrics is None:
        raise ValidationFailed("The design has no analysed CAD file, so its metal cannot be weighed; the designer "
                               "must upload a watertight STL or OBJ first.", field="design_id")
    if not analysis.metrics.watertight:
        raise ValidationFailed("The design's CAD mesh is not watertight, so its metal cannot be weighed.",
                               field="design_id")
    alloy = find_alloy(alloy_code, ALLOYS)
    grams = Decimal(str(analysis.metrics.volume_mm3)) / Decimal(1000) * alloy.density_g_cm3
    return grams.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def quote(brief: Brief, analysis: CadAnalysis | None, prices: PriceTable, *,
          royalty_per_unit: Money | None) -> Quote:
    """The quote for ``brief``; refused (naming what is missing) rather than guessed."""
    cur = prices.currency
    if royalty_per_unit is not None and royalty_per_unit.currency != cur:
        raise ValidationFailed(f"The licence royalty is in {royalty_per_unit.currency} but prices are in {cur}; "
                               "the order cannot be quoted in one currency.", field="currency")
    price_per_gram = prices.metal_per_gram.get(brief.alloy)
    if price_per_gram is None:
        raise ValidationFailed(f"No metal price is set for {brief.alloy}.", field="alloy")
    grams = net_grams(analysis, brief.alloy)
    metal = _round(grams * price_per_gram * (1 + prices.casting_loss))
    stones = Decimal(0)
    stone_details = []
    for stone in brief.stones:
        per_carat = prices.stone_per_carat.get(stone.type)
        if per_carat is None:
            raise ValidationFailed(f"No price is set for {stone.type}.", field="stones")
        stones += stone.count * (stone.carat * per_carat + prices.setting_per_stone)
        stone_details.append(f"{stone.count} × {stone.carat} ct {stone.type}, {stone.setting.value}")
    stones_minor = _round(stones)
    royalty = royalty_per_unit.amount_minor if royalty_per_unit is not None else 0
    q = brief.quantity

    def line(code: str, label: str, per_piece: int, detail: str) -> QuoteLine:
        return QuoteLine(code, label, Money(per_piece, cur), Money(per_piece * q, cur), detail)

    lines = (
        line("metal", "Metal", metal,
             f"{grams} g net × {Money(price_per_gram, cur).format()}/g × (1 + {prices.casting_loss} casting loss)"),
        line("labour", "Labour", prices.labour_per_piece, "casting, finishing and polishing per piece"),
        line("stones", "Stones and setting", stones_minor, "; ".join(stone_details) or "no stones"),
        line("licence_royalty", "Licence royalty", royalty,
             "per piece under the licence agreement" if royalty else "no per-piece royalty"),
    )
    subtotal = sum(ln.amount.amount_minor for ln in lines)
    if subtotal <= 0:
        raise ValidationFailed("This order would cost nothing: the price table has no prices for it.",
                               field="prices")
    fee = _round(Decimal(subtotal) * prices.platform_fee_rate)
    return Quote(currency=cur, quantity=q, lines=lines, subtotal=Money(subtotal, cur),
                 platform_fee=Money(fee, cur), platform_fee_rate=prices.platform_fee_rate,
                 total=Money(subtotal + fee, cur), net_grams_per_piece=grams, prices_effective=prices.effective)
