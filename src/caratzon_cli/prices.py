"""`caratzon prices`: the metal, stone and labour prices every quote is made from
(issue #5, part 3).

The file `caratzon prices set --file` reads is the document `caratzon prices show
--json` prints: amounts in major units as strings ("82.00"), converted here to the
core's integer minor units; the casting loss and the platform fee rate are
fractions ("0.05")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from caratzon_cli.output import note, out, print_json, table
from caratzon_cli.state import state
from caratzon_core.access import Actor
from caratzon_core.designs import GEMSTONE_TYPES, METALS
from caratzon_core.errors import ValidationFailed
from caratzon_core.money import CURRENCY_EXPONENTS, Money
from caratzon_core.quote import DEFAULT_PRICES, MAX_PLATFORM_FEE, PriceTable

app = typer.Typer(no_args_is_help=True, help="The prices quotes are made from: show them, or set new ones.")

FIELDS = ("currency", "effective", "metal_per_gram", "stone_per_carat", "setting_per_stone", "labour_per_piece",
          "casting_loss", "platform_fee_rate")
REQUIRED = frozenset(FIELDS) - {"effective"}  # effective: today unless given


class PriceFileError(ValidationFailed):
    """Everything wrong with a prices file, in one line."""


def _major(minor: int, currency: str) -> str:
    return str(Money(minor, currency).to_decimal())


def document(prices: PriceTable) -> dict[str, object]:
    """The table as the JSON document `prices set` reads (amounts in major units)."""
    cur = prices.currency
    return {
        "currency": cur,
        "effective": prices.effective.isoformat(),
        "metal_per_gram": {k: _major(v, cur) for k, v in sorted(prices.metal_per_gram.items())},
        "stone_per_carat": {k: _major(v, cur) for k, v in sorted(prices.stone_per_carat.items())},
        "setting_per_stone": _major(prices.setting_per_stone, cur),
        "labour_per_piece": _major(prices.labour_per_piece, cur),
        "casting_loss": str(prices.casting_loss),
        "platform_fee_rate": str(prices.platform_fee_rate),
    }


def parse_document(raw: object, *, today: date) -> PriceTable:
    """A :class:`PriceTable` from the parsed JSON; every problem found is reported
    at once, each named by its field (``metal_per_gram.18k_yellow: …``)."""
    if not isinstance(raw, Mapping):
        raise PriceFileError("the file must hold one JSON object with the fields " + ", ".join(FIELDS) + ".")
    problems: list[str] = []
    unknown = sorted(set(map(str, raw)) - set(FIELDS))
    if unknown:
        problems.append(f"unknown field{'s' if len(unknown) != 1 else ''} {', '.join(unknown)} "
                        f"(expected {', '.join(FIELDS)})")
    missing = [f for f in FIELDS if f in REQUIRED and f not in raw]
    if missing:
        problems.append(f"missing {', '.join(missing)}")

    currency = str(raw.get("currency", "")).strip().upper()
    if "currency" in raw and currency not in CURRENCY_EXPONENTS:
        problems.append(f"currency: unknown currency {raw.get('currency')!r}; use an ISO 4217 code such as USD "
                        f"({', '.join(sorted(CURRENCY_EXPONENTS))})")
        currency = ""

    def amount(value: object, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            problems.append(f"{where}: {value!r} is not an amount; write it in major units, such as \"82.00\"")
            return 0
        if not currency:
            return 0
        try:
            money = Money.parse(value, currency, field_name=where)
        except ValidationFailed as exc:
            problems.append(f"{where}: {exc.message.rstrip('.')}")
            return 0
        if money.amount_minor < 0:
            problems.append(f"{where}: prices cannot be negative")
        return money.amount_minor

    def prices(name: str, allowed: tuple[str, ...] | Mapping[str, object], what: str, *,
               required: bool) -> dict[str, int]:
        value = raw.get(name)
        if name not in raw:
            return {}
        if not isinstance(value, Mapping) or (required and not value):
            problems.append(f"{name}: an object of {what} and amounts, such as {{\"{next(iter(allowed))}\": "
                            f"\"82.00\"}}")
            return {}
        table_: dict[str, int] = {}
        for key, price in value.items():
            if key not in allowed:
                problems.append(f"{name}: unknown {what} {key!r}; expected one of: {', '.join(allowed)}")
                continue
            table_[key] = amount(price, f"{name}.{key}")
        return table_

    def fraction(name: str, high: Decimal) -> Decimal:
        value = raw.get(name)
        if name not in raw:
            return Decimal(0)
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            problems.append(f"{name}: {value!r} is not a fraction such as \"0.05\"")
            return Decimal(0)
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            problems.append(f"{name}: {value!r} is not a fraction such as \"0.05\"")
            return Decimal(0)
        if not Decimal(0) <= number <= high:
            problems.append(f"{name}: {value} is not between 0 and {high} (write 5 % as \"0.05\")")
        return number

    effective = today
    if raw.get("effective") not in (None, ""):
        try:
            effective = date.fromisoformat(str(raw["effective"]).strip())
        except ValueError:
            problems.append(f"effective: {raw['effective']!r} is not a date (YYYY-MM-DD)")

    metals = prices("metal_per_gram", METALS, "alloy", required=True)
    stones = prices("stone_per_carat", GEMSTONE_TYPES, "stone", required=False)
    setting = amount(raw.get("setting_per_stone"), "setting_per_stone") if "setting_per_stone" in raw else 0
    labour = amount(raw.get("labour_per_piece"), "labour_per_piece") if "labour_per_piece" in raw else 0
    casting_loss = fraction("casting_loss", Decimal(1))
    fee_rate = fraction("platform_fee_rate", MAX_PLATFORM_FEE)
    if problems:
        raise PriceFileError("; ".join(problems))
    try:
        return PriceTable(currency=currency, effective=effective, metal_per_gram=metals, stone_per_carat=stones,
                          setting_per_stone=setting, labour_per_piece=labour, casting_loss=casting_loss,
                          platform_fee_rate=fee_rate)
    except ValidationFailed as exc:
        field = f"{exc.field}: " if exc.field and exc.field != "prices" else ""
        raise PriceFileError(f"{field}{exc.message.rstrip('.')}") from None


def read_file(path: Path, *, today: date) -> PriceTable:
    text = path.read_text(encoding="utf-8")  # OSError: one line from the CLI's error handler
    try:
        raw = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise PriceFileError(
            f"{path.name} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except UnicodeDecodeError:
        raise PriceFileError(f"{path.name} is not UTF-8 text.") from None
    try:
        return parse_document(raw, today=today)
    except PriceFileError as exc:
        raise PriceFileError(f"{path.name}: {exc.message}") from None


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f} %"


def _print(prices: PriceTable, *, default: bool) -> None:
    cur = prices.currency
    source = "the built-in default (no prices have been set)" if default else f"effective {prices.effective}"
    typer.echo(f"Prices in {cur}, {source}.")
    out().print(table("Metal, per gram", ["Alloy", "Price"],
                      [(k, Money(v, cur).format()) for k, v in sorted(prices.metal_per_gram.items())]))
    out().print(table("Stones, per carat", ["Stone", "Price"],
                      [(k, Money(v, cur).format()) for k, v in sorted(prices.stone_per_carat.items())]))
    out().print(table("Per piece and per stone", ["Item", "Value"], [
        ("Labour per piece", Money(prices.labour_per_piece, cur).format()),
        ("Setting per stone", Money(prices.setting_per_stone, cur).format()),
        ("Casting loss", _percent(prices.casting_loss)),
        ("Platform fee", _percent(prices.platform_fee_rate)),
    ]))


@app.command("show")
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as the JSON `prices set` reads.")] = False,
) -> None:
    """Show the prices in force today."""
    services = state(ctx).services
    prices = services.orders.current_prices(Actor.cli_operator())
    if as_json:
        print_json(document(prices))
        return
    _print(prices, default=prices is DEFAULT_PRICES)


@app.command("set")
def set_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Option("--file", metavar="PRICES.JSON", dir_okay=False,
                     help="A JSON document like the one `caratzon prices show --json` prints."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored table as JSON.")] = False,
) -> None:
    """Set the prices from a JSON file, in force from its "effective" date (today if
    left out; never in the past: submitted orders keep the prices they were quoted).

    Fields: currency; effective (YYYY-MM-DD); metal_per_gram and stone_per_carat
    ({"18k_yellow": "82.00", …}, major units); setting_per_stone; labour_per_piece;
    casting_loss and platform_fee_rate (fractions such as "0.05"). Audited."""
    services = state(ctx).services
    today = services.deps.clock.now().date()
    table_ = read_file(file, today=today)
    stored = services.orders.set_prices(Actor.cli_operator(), table_)
    unpriced = sorted(set(METALS) - set(stored.metal_per_gram))
    if unpriced:
        note(f"note: no metal price for {', '.join(unpriced)}: orders in them cannot be quoted.")
    if as_json:
        print_json(document(stored))
        return
    typer.echo(
        f"Prices set in {stored.currency}, in force from {stored.effective} "
        f"({len(stored.metal_per_gram)} metals, {len(stored.stone_per_carat)} stones)."
    )
