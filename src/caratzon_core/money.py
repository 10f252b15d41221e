"""Money: integer minor units with an ISO 4217 currency, never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from attrs import field, frozen

from caratzon_core.errors import ValidationFailed

# ISO 4217 codes we trade in, with their minor-unit exponent. Extend deliberately.
CURRENCY_EXPONENTS: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "HKD": 2, "CNY": 2, "JPY": 0, "CHF": 2, "SGD": 2,
    "AUD": 2, "CAD": 2, "AED": 2, "INR": 2, "THB": 2, "KRW": 0, "TWD": 2, "NZD": 2,
}


def _check_currency(instance: object, attribute: object, value: str) -> None:
    if value not in CURRENCY_EXPONENTS:
        raise ValidationFailed(f"Unknown currency {value!r}; use an ISO 4217 code such as USD or HKD.",
                               field="currency")


def _check_minor(instance: object, attribute: object, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed("Amounts are whole numbers of minor units.", field="amount")


@frozen(order=False)
class Money:
    amount_minor: int = field(validator=_check_minor)
    currency: str = field(validator=_check_currency)

    @classmethod
    def parse(cls, amount: str | int | Decimal, currency: str, *, field_name: str = "amount") -> Money:
        """From a major-unit decimal string ("1250.50") to minor units, refusing
        more decimals than the currency has."""
        code = str(currency or "").strip().upper()
        if code not in CURRENCY_EXPONENTS:
            raise ValidationFailed(f"Unknown currency {currency!r}; use an ISO 4217 code such as USD or HKD.",
                                   field="currency")
        try:
            value = Decimal(str(amount).strip())
        except InvalidOperation:
            raise ValidationFailed(f"{amount!r} is not a number.", field=field_name) from None
        if not value.is_finite():
            raise ValidationFailed(f"{amount!r} is not a number.", field=field_name)
        exponent = CURRENCY_EXPONENTS[code]
        scaled = value.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise ValidationFailed(f"{code} amounts have at most {exponent} decimal places.", field=field_name)
        return cls(int(scaled), code)

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-self.exponent)

    def format(self) -> str:
        return f"{self.currency} {self.to_decimal():,.{self.exponent}f}"

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def times(self, factor: Decimal | int) -> Money:
        """Multiply and round half-up to a whole minor unit (documented rounding)."""
        result = (Decimal(self.amount_minor) * Decimal(factor)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return Money(int(result), self.currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValidationFailed(f"Cannot mix {self.currency} and {other.currency}.", field="currency")
