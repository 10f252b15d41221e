"""Licence agreements (issue #4): created atomically with an acceptance, immutable,
carrying the exact accepted terms and their SHA-256.

Exclusivity (an exclusive licence shuts out every other licensee, the designer's
own further licensing included) is decided here, purely, from the agreements
active on the design; the use case holds the design's lock while it asks, so two
concurrent acceptances cannot both pass.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime

from attrs import frozen

from caratzon_core.errors import Conflict, ValidationFailed
from caratzon_core.licensing import LicenceTerms, conflicts, terms_hash
from caratzon_core.negotiation import OfferAccepted


class AgreementStatus(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"


@frozen
class Agreement:
    id: str
    negotiation_id: str
    design_id: str
    designer_id: str
    buyer_id: str
    terms: LicenceTerms
    terms_hash: str
    effective_date: date
    end_date: date | None  # None: perpetual
    status: AgreementStatus
    created_at: datetime

    def in_force_on(self, day: date) -> bool:
        """Active and inside its term on ``day`` (for orders and retention later)."""
        return self.status is AgreementStatus.ACTIVE and self.terms.term.active_on(day)


def in_force(agreements: Iterable[Agreement], design_id: str, day: date) -> list[Agreement]:
    """The licences on design ``design_id`` in force on ``day``."""
    return [a for a in agreements if a.design_id == design_id and a.in_force_on(day)]


def conclude(accepted: OfferAccepted, *, agreement_id: str, active: Iterable[Agreement], now: datetime) -> Agreement:
    """The agreement an acceptance creates, or Conflict naming the exclusivity rule.

    ``active`` are the design's agreements with status active (whatever their
    term): the check compares territories and terms, so a future exclusive licence
    blocks an overlapping one just as a current one does."""
    if terms_hash(accepted.terms) != accepted.terms_hash:
        raise ValidationFailed("The accepted terms do not match their hash.", field="terms")
    # Offers are checked not to start in the past when they are made; a term that
    # began while the offer waited for its answer starts on the day both agreed to.
    if accepted.terms.term.start < accepted.offer_made_at.date():
        raise ValidationFailed(
            "The licence term starts before the offer was made; counter with a new start date.", field="term.start"
        )
    mine = [a for a in active if a.design_id == accepted.design_id and a.status is AgreementStatus.ACTIVE]
    reason = conflicts(accepted.terms, [a.terms for a in mine])
    if reason:
        raise Conflict(reason, field="exclusivity")
    return Agreement(
        id=agreement_id,
        negotiation_id=accepted.negotiation_id,
        design_id=accepted.design_id,
        designer_id=accepted.designer_id,
        buyer_id=accepted.buyer_id,
        terms=accepted.terms,
        terms_hash=accepted.terms_hash,
        effective_date=accepted.terms.term.start,
        end_date=accepted.terms.term.end,
        status=AgreementStatus.ACTIVE,
        created_at=now,
    )
