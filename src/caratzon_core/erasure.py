"""Erasing a person (issue #6, part 3; policy §9 erasure, §12 children).

:func:`decide_erasure` is pure: given what stands on a person (a legal hold, orders
still open or disputed, designs under an active licence), it says whether their data
may be erased now and, if so, what is kept and why. The store then applies the data
map's masking to every column naming the person
(:meth:`~caratzon_core.ports.PrivacyStore.erase_person`): rows deleted, fields
nulled, text redacted, and the person replaced by a keyed pseudonym wherever a
record must outlive them (orders, agreements, ledger, payments: 7 years, §8).
"""

from __future__ import annotations

from collections.abc import Mapping

from attrs import field, frozen

from caratzon_core.orders import order_ref
from caratzon_core.retention import Keep, frozen_counts

ERASED_NAME = "Erased user"
ERASED_EMAIL_DOMAIN = "erased.invalid"
REMOVED_MESSAGE = "message removed"


@frozen
class PersonFacts:
    """What stands on a person when their erasure is asked for."""

    user_id: str
    exists: bool = True
    already_erased: bool = False
    hold_reason: str | None = None  # a standing legal hold's reason
    open_orders: tuple[str, ...] = ()  # orders the person is a party to that are still open
    disputed_orders: tuple[str, ...] = ()
    licensed_designs: tuple[str, ...] = ()  # their designs under an active licence agreement


def _refs(order_ids: tuple[str, ...], shown: int = 5) -> str:
    refs = ", ".join(order_ref(o) for o in order_ids[:shown])
    return refs + (f" and {len(order_ids) - shown} more" if len(order_ids) > shown else "")


@frozen
class ErasureDecision:
    allowed: bool
    reasons: tuple[str, ...] = ()  # why it is refused (empty when allowed)
    keep_designs: tuple[str, ...] = ()  # designs kept (pseudonymised, removed) until their licence ends
    keeps: frozenset[Keep] = frozenset()

    @property
    def message(self) -> str:
        return "; ".join(self.reasons) + "." if self.reasons else ""


def decide_erasure(facts: PersonFacts) -> ErasureDecision:
    """Deny with reasons while the law or an open deal needs the person's data as it is;
    otherwise allow, keeping designs under an active licence (P31)."""
    if not facts.exists:
        return ErasureDecision(False, ("There is no such account.",))
    if facts.already_erased:
        return ErasureDecision(False, ("This person's data has already been erased.",))
    reasons: list[str] = []
    keeps: set[Keep] = set()
    if facts.hold_reason is not None:
        reasons.append(f"The account is under a legal hold: {facts.hold_reason.rstrip('.')}")
        keeps.add(Keep.LEGAL_HOLD)
    if facts.disputed_orders:
        reasons.append(f"{len(facts.disputed_orders)} order(s) in dispute must be resolved first: "
                       + _refs(facts.disputed_orders))
        keeps.add(Keep.OPEN_DISPUTE)
    open_only = tuple(o for o in facts.open_orders if o not in facts.disputed_orders)
    if open_only:
        reasons.append(f"{len(open_only)} open order(s) must be completed or cancelled first: "
                       + _refs(open_only))
        keeps.add(Keep.OPEN_ORDER)
    if reasons:
        return ErasureDecision(False, tuple(reasons), keeps=frozenset(keeps))
    return ErasureDecision(True, keep_designs=tuple(sorted(facts.licensed_designs)))


@frozen
class Erasee:
    """One person of a batch erasure: who, under which pseudonym, keeping which designs."""

    user_id: str
    pseudonym: str
    keep_designs: tuple[str, ...] = ()


@frozen
class ErasureReport:
    """What the store did, per ``table.masking`` (rows touched) and blobs queued."""

    user_id: str
    pseudonym: str
    counts: Mapping[str, int] = field(factory=dict, converter=frozen_counts)
    blobs: int = 0
    kept_designs: tuple[str, ...] = ()

    def __deepcopy__(self, memo: object) -> ErasureReport:
        return self

    @property
    def rows(self) -> int:
        return sum(self.counts.values())
