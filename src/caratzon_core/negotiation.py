"""Negotiating a licence (issue #4, part 2): a pure state machine.

A buyer opens a negotiation from one of a design's licence options with a first
offer (the option's terms, or changed ones). The parties then alternate: whoever
did *not* make the latest offer may counter, accept or reject it; either party
may withdraw while it is open. Every offer expires (7 days unless configured);
once the latest offer has expired the negotiation can only be marked expired.
Only the latest offer can be accepted, never by the party who made it, and an
acceptance carries the exact terms of that offer and their hash.

Each function returns the new :class:`Negotiation` and the event it raised; the
input is never changed. See docs/negotiation.md for the diagram.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import attrs
from attrs import frozen

from caratzon_core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from caratzon_core.licensing import LicenceTerms, terms_hash

DEFAULT_OFFER_TTL = timedelta(days=7)
MAX_OFFER_TTL = timedelta(days=90)


class Party(enum.StrEnum):
    BUYER = "buyer"
    DESIGNER = "designer"

    @property
    def other(self) -> Party:
        return Party.DESIGNER if self is Party.BUYER else Party.BUYER


class NegotiationStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


@frozen
class Offer:
    id: str
    by: Party
    terms: LicenceTerms
    made_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@frozen
class Negotiation:
    id: str
    design_id: str
    option_id: str
    buyer_id: str
    designer_id: str
    status: NegotiationStatus
    offers: tuple[Offer, ...]
    accepted_offer_id: str | None = None
    closed_at: datetime | None = None

    @property
    def latest(self) -> Offer:
        return self.offers[-1]

    @property
    def is_open(self) -> bool:
        return self.status is NegotiationStatus.OPEN

    def whose_turn(self) -> Party | None:
        """The party who may answer the latest offer; None once closed."""
        return self.latest.by.other if self.is_open else None

    def party_of(self, actor_id: str) -> Party | None:
        if actor_id == self.buyer_id:
            return Party.BUYER
        if actor_id == self.designer_id:
            return Party.DESIGNER
        return None

    def accepted_offer(self) -> Offer | None:
        return next((o for o in self.offers if o.id == self.accepted_offer_id), None)


# -- events --------------------------------------------------------------------------


@frozen
class OfferMade:
    negotiation_id: str
    offer: Offer
    actor_id: str


@frozen
class OfferAccepted:
    """The agreement's source: the exact terms of the accepted offer and their hash."""

    negotiation_id: str
    design_id: str
    option_id: str
    buyer_id: str
    designer_id: str
    offer_id: str
    offered_by: Party
    accepted_by: Party
    actor_id: str
    terms: LicenceTerms
    terms_hash: str
    at: datetime
    offer_made_at: datetime


@frozen
class Rejected:
    negotiation_id: str
    offer_id: str
    by: Party
    actor_id: str
    at: datetime


@frozen
class Withdrawn:
    negotiation_id: str
    by: Party
    actor_id: str
    at: datetime


@frozen
class Expired:
    negotiation_id: str
    offer_id: str
    at: datetime  # when the latest offer lapsed


NegotiationEvent = OfferMade | OfferAccepted | Rejected | Withdrawn | Expired


# -- rules ---------------------------------------------------------------------------


def require_party(neg: Negotiation, actor_id: str) -> Party:
    """The actor's side, or Forbidden: only the buyer and the designer may read or act."""
    party = neg.party_of(actor_id)
    if party is None:
        raise Forbidden("Only the two parties to a negotiation, the buyer and the designer, may see or act on it.")
    return party


def _require_open(neg: Negotiation, now: datetime) -> None:
    if not neg.is_open:
        raise Conflict(f"This negotiation is closed ({neg.status.value}); nothing more can happen in it.",
                       field="status")
    if neg.latest.expired(now):
        raise Conflict(
            f"The latest offer expired at {neg.latest.expires_at.isoformat()}; an expired negotiation cannot be "
            "answered or accepted.",
            field="expires_at",
        )


def _require_turn(neg: Negotiation, party: Party) -> None:
    if neg.latest.by is party:
        raise Conflict(f"Not your turn: the {party.other.value} answers the latest offer, which you made.",
                       field="turn")


def _check_ttl(ttl: timedelta) -> None:
    if ttl <= timedelta(0) or ttl > MAX_OFFER_TTL:
        raise ValidationFailed(f"An offer stays open for more than zero and at most {MAX_OFFER_TTL.days} days.",
                               field="ttl")


def _offer(offer_id: str, by: Party, terms: LicenceTerms, now: datetime, ttl: timedelta) -> Offer:
    _check_ttl(ttl)
    return Offer(id=offer_id, by=by, terms=terms, made_at=now, expires_at=now + ttl)


def open_negotiation(
    *,
    negotiation_id: str,
    design_id: str,
    option_id: str,
    buyer_id: str,
    designer_id: str,
    terms: LicenceTerms,
    now: datetime,
    ttl: timedelta = DEFAULT_OFFER_TTL,
    offer_id: str | None = None,
) -> tuple[Negotiation, OfferMade]:
    """The buyer's first offer: the option's terms, or changed ones (another fee, say)."""
    if buyer_id == designer_id:
        raise ValidationFailed("A designer cannot negotiate a licence of their own design.", field="buyer_id")
    first = _offer(offer_id or f"{negotiation_id}.1", Party.BUYER, terms, now, ttl)
    neg = Negotiation(
        id=negotiation_id, design_id=design_id, option_id=option_id, buyer_id=buyer_id,
        designer_id=designer_id, status=NegotiationStatus.OPEN, offers=(first,),
    )
    return neg, OfferMade(neg.id, first, buyer_id)


def counter(
    neg: Negotiation,
    actor_id: str,
    terms: LicenceTerms,
    now: datetime,
    ttl: timedelta = DEFAULT_OFFER_TTL,
    *,
    offer_id: str | None = None,
) -> tuple[Negotiation, OfferMade]:
    """A counter-offer by the party whose turn it is; it supersedes the latest offer."""
    party = require_party(neg, actor_id)
    _require_open(neg, now)
    _require_turn(neg, party)
    new_id = offer_id or f"{neg.id}.{len(neg.offers) + 1}"
    if any(o.id == new_id for o in neg.offers):
        raise Conflict(f"Offer {new_id!r} already exists in this negotiation.", field="offer_id")
    offer = _offer(new_id, party, terms, now, ttl)
    return attrs.evolve(neg, offers=(*neg.offers, offer)), OfferMade(neg.id, offer, actor_id)


def accept(neg: Negotiation, actor_id: str, offer_id: str, now: datetime) -> tuple[Negotiation, OfferAccepted]:
    """Accept the counterparty's latest, unexpired offer."""
    party = require_party(neg, actor_id)
    if not neg.is_open:
        raise Conflict(f"This negotiation is closed ({neg.status.value}); nothing more can happen in it.",
                       field="status")
    offer = next((o for o in neg.offers if o.id == offer_id), None)
    if offer is None:
        raise NotFound(f"No offer {offer_id!r} in this negotiation.", field="offer_id")
    if offer.by is party:
        raise Conflict("You cannot accept your own offer; the other party accepts it, or counters.",
                       field="offer_id")
    if offer is not neg.latest:
        raise Conflict("That offer was superseded by a later one; only the latest offer can be accepted.",
                       field="offer_id")
    _require_open(neg, now)  # expired
    _require_turn(neg, party)
    accepted = attrs.evolve(neg, status=NegotiationStatus.ACCEPTED, accepted_offer_id=offer.id, closed_at=now)
    event = OfferAccepted(
        negotiation_id=neg.id, design_id=neg.design_id, option_id=neg.option_id, buyer_id=neg.buyer_id,
        designer_id=neg.designer_id, offer_id=offer.id, offered_by=offer.by, accepted_by=party,
        actor_id=actor_id, terms=offer.terms, terms_hash=terms_hash(offer.terms), at=now,
        offer_made_at=offer.made_at,
    )
    return accepted, event


def reject(neg: Negotiation, actor_id: str, now: datetime) -> tuple[Negotiation, Rejected]:
    """Reject the latest offer and end the negotiation (to keep talking, counter instead)."""
    party = require_party(neg, actor_id)
    _require_open(neg, now)
    _require_turn(neg, party)
    closed = attrs.evolve(neg, status=NegotiationStatus.REJECTED, closed_at=now)
    return closed, Rejected(neg.id, neg.latest.id, party, actor_id, now)


def withdraw(neg: Negotiation, actor_id: str, now: datetime) -> tuple[Negotiation, Withdrawn]:
    """Either party walks away while the negotiation is open, whoever's turn it is."""
    party = require_party(neg, actor_id)
    _require_open(neg, now)
    closed = attrs.evolve(neg, status=NegotiationStatus.WITHDRAWN, closed_at=now)
    return closed, Withdrawn(neg.id, party, actor_id, now)


def expire(neg: Negotiation, now: datetime) -> tuple[Negotiation, Expired]:
    """Mark an open negotiation whose latest offer has lapsed as expired (a sweeper's job)."""
    if not neg.is_open:
        raise Conflict(f"This negotiation is closed ({neg.status.value}); nothing more can happen in it.",
                       field="status")
    if not neg.latest.expired(now):
        raise Conflict(f"The latest offer is open until {neg.latest.expires_at.isoformat()}; it has not expired.",
                       field="expires_at")
    lapsed_at = neg.latest.expires_at
    closed = attrs.evolve(neg, status=NegotiationStatus.EXPIRED, closed_at=lapsed_at)
    return closed, Expired(neg.id, neg.latest.id, lapsed_at)
