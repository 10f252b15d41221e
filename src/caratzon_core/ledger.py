"""The order ledger (issue #5, part 6): double entry, balanced per order.

Every money event of an order is one :class:`JournalEntry` of lines that debit
and credit accounts in one currency; debits equal credits in every entry, so
every order's ledger balances at all times. Entries carry an idempotency key
(``order:<id>:charge`` …): writing the same event twice is refused by the
database, and the payment gateway receives the same key, so a retried charge
is never taken twice.

Accounts (shaped for Stripe Connect: the platform charges the buyer, transfers
each party's share to their connected account and keeps the application fee):

* ``clearing`` — money the platform holds: debited by the buyer's charge,
  credited by refunds and by transfers out
* ``payable:designer:<id>`` / ``payable:manufacturer:<id>`` — owed to a party
  (credited on charge, debited when transferred or refunded)
* ``revenue:platform_fee`` — the platform's application fee
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

from attrs import frozen

from caratzon_core.errors import ValidationFailed
from caratzon_core.money import Money
from caratzon_core.quote import Quote


class EntryKind(enum.StrEnum):
    CHARGE = "charge"  # buyer pays the quote; shares become payable
    REFUND = "refund"  # the charge reversed (cancellation before production)
    PAYOUT = "payout"  # payables transferred to the parties (order completed)
    REASSIGN = "reassign"  # the manufacturer's share moves to the new workshop


@frozen
class LedgerLine:
    account: str
    debit: int  # minor units, never negative
    credit: int


@frozen
class JournalEntry:
    id: str
    order_id: str
    kind: EntryKind
    currency: str
    idempotency_key: str
    lines: tuple[LedgerLine, ...]
    at: datetime
    buyer_id: str | None = None  # who paid (charges and refunds)

    def __attrs_post_init__(self) -> None:
        check_balanced(self.lines)

    @property
    def amount(self) -> int:
        return sum(line.debit for line in self.lines)


def check_balanced(lines: Iterable[LedgerLine]) -> None:
    lines = list(lines)
    if not lines:
        raise ValidationFailed("A ledger entry needs lines.", field="ledger")
    for line in lines:
        if line.debit < 0 or line.credit < 0 or (line.debit and line.credit):
            raise ValidationFailed(f"Ledger line {line.account}: one non-negative side per line.", field="ledger")
    debits, credits = sum(x.debit for x in lines), sum(x.credit for x in lines)
    if debits != credits:
        raise ValidationFailed(f"The ledger entry would not balance: debits {debits} ≠ credits {credits}.",
                               field="ledger")


def balances(entries: Iterable[JournalEntry]) -> dict[str, int]:
    """Debit-positive balance per account."""
    out: dict[str, int] = {}
    for entry in entries:
        for line in entry.lines:
            out[line.account] = out.get(line.account, 0) + line.debit - line.credit
    return out


def _key(order_id: str, kind: EntryKind) -> str:
    return f"order:{order_id}:{kind.value}"


def charge_entry(entry_id: str, order_id: str, *, quote: Quote, buyer_id: str, designer_id: str,
                 manufacturer_id: str, at: datetime) -> JournalEntry:
    """The buyer pays the total into clearing; the royalty becomes payable to the
    designer, metal, labour and stones to the manufacturer, the fee is revenue."""
    royalty = quote.line("licence_royalty").amount.amount_minor
    production = sum(line.amount.amount_minor for line in quote.lines if line.code != "licence_royalty")
    lines = (
        LedgerLine("clearing", quote.total.amount_minor, 0),
        LedgerLine(f"payable:manufacturer:{manufacturer_id}", 0, production),
        LedgerLine(f"payable:designer:{designer_id}", 0, royalty),
        LedgerLine("revenue:platform_fee", 0, quote.platform_fee.amount_minor),
    )
    return JournalEntry(entry_id, order_id, EntryKind.CHARGE, quote.currency, _key(order_id, EntryKind.CHARGE),
                        tuple(x for x in lines if x.debit or x.credit), at, buyer_id=buyer_id)


def refund_entry(entry_id: str, order_id: str, currency: str, order_balances: dict[str, int], at: datetime, *,
                 buyer_id: str) -> JournalEntry:
    """Give back everything the order still holds: each payable and the fee are
    debited by their balance and clearing is credited by the sum."""
    lines = []
    total = 0
    for account, balance in sorted(order_balances.items()):
        if account == "clearing" or balance >= 0:
            continue
        lines.append(LedgerLine(account, -balance, 0))
        total += -balance
    if total == 0:
        raise ValidationFailed("Nothing was charged on this order.", field="ledger")
    lines.append(LedgerLine("clearing", 0, total))
    return JournalEntry(entry_id, order_id, EntryKind.REFUND, currency, _key(order_id, EntryKind.REFUND),
                        tuple(lines), at, buyer_id=buyer_id)


def reassign_entry(entry_id: str, order_id: str, currency: str, order_balances: dict[str, int], *, old: str,
                   new: str, seq: int, at: datetime) -> JournalEntry | None:
    """Move the old manufacturer's open payable to the new one (None when nothing is owed)."""
    owed = -order_balances.get(f"payable:manufacturer:{old}", 0)
    if owed <= 0:
        return None
    lines = (LedgerLine(f"payable:manufacturer:{old}", owed, 0), LedgerLine(f"payable:manufacturer:{new}", 0, owed))
    return JournalEntry(entry_id, order_id, EntryKind.REASSIGN, currency, f"order:{order_id}:reassign:{seq}", lines,
                        at)


def reverse(entry_id: str, original: JournalEntry, kind: EntryKind, at: datetime) -> JournalEntry:
    """The exact mirror of ``original`` (a refund of a charge)."""
    lines = tuple(LedgerLine(x.account, x.credit, x.debit) for x in original.lines)
    return JournalEntry(entry_id, original.order_id, kind, original.currency, _key(original.order_id, kind),
                        lines, at, buyer_id=original.buyer_id)


def payout_entry(entry_id: str, order_id: str, currency: str, payables: dict[str, int],
                 at: datetime) -> JournalEntry:
    """Transfer every open payable of the order to its party."""
    lines = []
    for account, balance in sorted(payables.items()):
        owed = -balance  # payables are credit balances
        if owed > 0:
            lines.append(LedgerLine(account, owed, 0))
            lines.append(LedgerLine("clearing", 0, owed))
    if not lines:
        raise ValidationFailed("Nothing is owed on this order.", field="ledger")
    return JournalEntry(entry_id, order_id, EntryKind.PAYOUT, currency, _key(order_id, EntryKind.PAYOUT),
                        tuple(lines), at)


def money_of(entry: JournalEntry, account_prefix: str) -> Money:
    total = sum(x.credit - x.debit for x in entry.lines if x.account.startswith(account_prefix))
    return Money(total, entry.currency)
