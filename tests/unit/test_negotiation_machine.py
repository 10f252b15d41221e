"""A stateful model of licence negotiation (issue #4): counter-offers by either
party or a stranger, acceptances of the latest, a superseded or one's own offer,
rejection, withdrawal, time passing, expiry. Invariants: at most one acceptance;
the accepted terms are the accepted offer's terms exactly (and hash equal); a
stranger never succeeds; once closed nothing changes; turns alternate."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from caratzon_core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from caratzon_core.licensing import Exclusivity, Fees, LicenceTerms, Modification, Term, Territory, Use, terms_hash
from caratzon_core.money import Money
from caratzon_core.negotiation import (
    DEFAULT_OFFER_TTL,
    Negotiation,
    NegotiationEvent,
    NegotiationStatus,
    OfferAccepted,
    OfferMade,
    Party,
    accept,
    counter,
    expire,
    open_negotiation,
    reject,
    require_party,
    withdraw,
)

BUYER, DESIGNER, STRANGER = "buyer-1", "designer-1", "stranger-9"
ACTORS = {"buyer": BUYER, "designer": DESIGNER, "stranger": STRANGER}
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

licence_terms = st.builds(
    LicenceTerms,
    use=st.sampled_from(Use),
    exclusivity=st.sampled_from(Exclusivity),
    territory=st.sampled_from([Territory.world(), Territory.of("HK"), Territory.of("GB", "FR")]),
    term=st.builds(Term, st.just(date(2026, 4, 1)), st.none() | st.integers(1, 36)),
    fees=st.builds(Fees, flat=st.builds(Money, st.integers(1, 10**7), st.just("HKD"))),
    unit_cap=st.none() | st.integers(1, 1000),
    may_modify=st.frozensets(st.sampled_from(Modification)),
    attribution_required=st.booleans(),
)
who = st.sampled_from(sorted(ACTORS))
# For answers: the party whose turn it is (drawn more often, so talks go on), the party
# waiting for an answer, or a stranger. Resolved against the negotiation at run time.
answerer = st.sampled_from(["turn", "turn", "waiting", "stranger"])
ttls = st.integers(1, 14).map(lambda d: timedelta(days=d))


def sample_terms(flat_minor: int = 500_000) -> LicenceTerms:
    return LicenceTerms(Use.MANUFACTURING, Exclusivity.NON_EXCLUSIVE, Territory.of("HK"), Term(date(2026, 4, 1), 12),
                        Fees(flat=Money(flat_minor, "HKD")))


class Negotiating(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.events: list[NegotiationEvent] = []
        self.closed_snapshot: Negotiation | None = None

        self.opened = 0

    @initialize(terms=licence_terms, ttl=ttls)
    def open(self, terms: LicenceTerms, ttl: timedelta) -> None:
        self.opened += 1
        self.neg_id = f"n{self.opened}"
        self.events = []
        self.closed_snapshot = None
        self.neg, event = open_negotiation(
            negotiation_id=self.neg_id, design_id="d1", option_id="o1", buyer_id=BUYER, designer_id=DESIGNER,
            terms=terms, now=self.now, ttl=ttl,
        )
        self.events.append(event)

    @precondition(lambda self: not self.neg.is_open)
    @rule(terms=licence_terms, ttl=ttls)
    def start_over(self, terms: LicenceTerms, ttl: timedelta) -> None:
        """Closing is easy (either party may withdraw), so open a fresh negotiation to
        keep exploring; the invariants then watch the new one."""
        self.open(terms, ttl)

    # -- expectations ------------------------------------------------------------------

    def resolve(self, role: str) -> str:
        if role == "stranger":
            return STRANGER
        latest_by = BUYER if self.neg.latest.by is Party.BUYER else DESIGNER
        other = DESIGNER if latest_by == BUYER else BUYER
        return other if role == "turn" else latest_by

    def lapsed(self) -> bool:
        return self.now >= self.neg.latest.expires_at

    def expected_answer_error(self, actor: str, *, turn_needed: bool) -> type[DomainError] | None:
        party = self.neg.party_of(actor)
        if party is None:
            return Forbidden
        if not self.neg.is_open or self.lapsed():
            return Conflict
        if turn_needed and self.neg.latest.by is party:
            return Conflict
        return None

    def attempt(self, expected: type[DomainError] | None, action: object) -> object:
        before = self.neg
        try:
            result = action() if callable(action) else None
        except DomainError as error:
            assert expected is not None, f"unexpected {error!r}"
            assert type(error) is expected, f"expected {expected.__name__}, got {error!r}"
            assert self.neg == before
            return None
        assert expected is None, f"expected {expected.__name__}, but it succeeded"
        assert isinstance(result, tuple)
        self.neg, event = result
        self.events.append(event)
        if not self.neg.is_open:
            self.closed_snapshot = self.neg
        return event

    # -- rules -------------------------------------------------------------------------

    @rule(role=answerer, terms=licence_terms, ttl=ttls)
    def make_counter_offer(self, role: str, terms: LicenceTerms, ttl: timedelta) -> None:
        actor = self.resolve(role)
        expected = self.expected_answer_error(actor, turn_needed=True)
        offers_before = len(self.neg.offers)
        event = self.attempt(expected, lambda: counter(self.neg, actor, terms, self.now, ttl))
        if event is not None:
            assert isinstance(event, OfferMade)
            assert len(self.neg.offers) == offers_before + 1
            assert self.neg.latest.terms == terms and self.neg.latest.by is self.neg.party_of(actor)
            assert self.neg.latest.expires_at == self.now + ttl

    @rule(role=answerer)
    def accept_latest(self, role: str) -> None:
        actor = self.resolve(role)
        expected = self.expected_answer_error(actor, turn_needed=True)
        latest = self.neg.latest
        event = self.attempt(expected, lambda: accept(self.neg, actor, latest.id, self.now))
        if event is not None:
            assert isinstance(event, OfferAccepted)
            assert event.terms == latest.terms and event.offer_id == latest.id

    @precondition(lambda self: len(self.neg.offers) >= 2)
    @rule(role=answerer, back=st.integers(1, 4))
    def accept_superseded(self, role: str, back: int) -> None:
        actor = self.resolve(role)
        offer = self.neg.offers[-1 - min(back, len(self.neg.offers) - 1)]
        expected = Forbidden if self.neg.party_of(actor) is None else Conflict
        self.attempt(expected, lambda: accept(self.neg, actor, offer.id, self.now))

    @rule()
    def accept_own_offer(self) -> None:
        own = BUYER if self.neg.latest.by is Party.BUYER else DESIGNER
        self.attempt(Conflict, lambda: accept(self.neg, own, self.neg.latest.id, self.now))

    @rule(actor=who)
    def accept_unknown_offer(self, actor: str) -> None:
        party = self.neg.party_of(ACTORS[actor])
        expected = Forbidden if party is None else Conflict if not self.neg.is_open else NotFound
        self.attempt(expected, lambda: accept(self.neg, ACTORS[actor], "no-such-offer", self.now))

    @rule(role=answerer)
    def reject_latest(self, role: str) -> None:
        actor = self.resolve(role)
        expected = self.expected_answer_error(actor, turn_needed=True)
        self.attempt(expected, lambda: reject(self.neg, actor, self.now))

    @rule(actor=who)
    def withdraw_from_it(self, actor: str) -> None:
        expected = self.expected_answer_error(ACTORS[actor], turn_needed=False)
        self.attempt(expected, lambda: withdraw(self.neg, ACTORS[actor], self.now))

    @rule(minutes=st.integers(1, 60 * 24 * 3))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @precondition(lambda self: self.neg.is_open)
    @rule()
    def time_passes_past_expiry(self) -> None:
        self.now = self.neg.latest.expires_at + timedelta(seconds=1)

    @rule()
    def sweep_expired(self) -> None:
        expected = None if self.neg.is_open and self.lapsed() else Conflict
        event = self.attempt(expected, lambda: expire(self.neg, self.now))
        if event is not None:
            assert self.neg.status is NegotiationStatus.EXPIRED

    @rule(actor=who)
    def read_thread(self, actor: str) -> None:
        if ACTORS[actor] == STRANGER:
            with pytest.raises(Forbidden):
                require_party(self.neg, STRANGER)
        else:
            assert require_party(self.neg, ACTORS[actor]) is Party(actor)

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def at_most_one_acceptance(self) -> None:
        acceptances = [e for e in self.events if isinstance(e, OfferAccepted)]
        assert len(acceptances) <= 1
        assert (self.neg.status is NegotiationStatus.ACCEPTED) == bool(acceptances)
        assert (self.neg.accepted_offer_id is not None) == bool(acceptances)

    @invariant()
    def agreement_terms_are_the_accepted_offer_exactly(self) -> None:
        for event in self.events:
            if isinstance(event, OfferAccepted):
                offer = self.neg.accepted_offer()
                assert offer is not None and offer.id == event.offer_id
                assert event.terms == offer.terms
                assert event.terms_hash == terms_hash(offer.terms)
                assert offer.by is not event.accepted_by
                assert offer is self.neg.latest  # only the latest can have been accepted
                assert event.at < offer.expires_at  # never after expiry

    @invariant()
    def strangers_never_succeed(self) -> None:
        for event in self.events:
            assert event.negotiation_id == self.neg_id
            actor = getattr(event, "actor_id", None)
            assert actor in (None, BUYER, DESIGNER)

    @invariant()
    def nothing_changes_after_closing(self) -> None:
        if self.closed_snapshot is not None:
            assert self.neg == self.closed_snapshot
            assert not self.neg.is_open and self.neg.closed_at is not None
        else:
            assert self.neg.is_open and self.neg.closed_at is None

    @invariant()
    def turns_alternate(self) -> None:
        offers = self.neg.offers
        assert offers[0].by is Party.BUYER
        for earlier, later in itertools.pairwise(offers):
            assert earlier.by is not later.by
            assert earlier.made_at <= later.made_at
        assert all(o.expires_at > o.made_at for o in offers)
        assert len({o.id for o in offers}) == len(offers)
        assert self.neg.whose_turn() in ((offers[-1].by.other,) if self.neg.is_open else (None,))


Negotiating.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
test_negotiation_machine = Negotiating.TestCase


# -- examples: each bad move is one clear error naming the rule ------------------------


def opened(ttl: timedelta = DEFAULT_OFFER_TTL) -> Negotiation:
    neg, _ = open_negotiation(negotiation_id="n1", design_id="d1", option_id="o1", buyer_id=BUYER,
                              designer_id=DESIGNER, terms=sample_terms(), now=T0, ttl=ttl)
    return neg


def test_a_full_round_ends_in_an_agreement_on_the_exact_terms() -> None:
    neg = opened()
    assert neg.latest.expires_at == T0 + timedelta(days=7)
    neg, _ = counter(neg, DESIGNER, sample_terms(600_000), T0 + timedelta(hours=1))
    neg, event = accept(neg, BUYER, neg.latest.id, T0 + timedelta(hours=2))
    assert neg.status is NegotiationStatus.ACCEPTED and neg.accepted_offer_id == "n1.2"
    assert event.terms == sample_terms(600_000) and event.terms_hash == terms_hash(sample_terms(600_000))


def accept_superseded(neg: Negotiation) -> object:
    neg, _ = counter(neg, DESIGNER, sample_terms(1), T0)
    neg, _ = counter(neg, BUYER, sample_terms(2), T0)
    return accept(neg, DESIGNER, "n1.1", T0)  # the buyer's first offer, superseded by their second


@pytest.mark.parametrize(
    ("move", "error", "words"),
    [
        (lambda n: counter(n, STRANGER, sample_terms(), T0), Forbidden, "Only the two parties"),
        (lambda n: accept(n, BUYER, n.latest.id, T0), Conflict, "your own offer"),
        (lambda n: counter(n, BUYER, sample_terms(), T0), Conflict, "Not your turn"),
        (lambda n: reject(n, BUYER, T0), Conflict, "Not your turn"),
        (lambda n: accept_superseded(n), Conflict, "superseded"),
        (lambda n: accept(n, DESIGNER, n.latest.id, T0 + timedelta(days=7)), Conflict, "expired"),
        (lambda n: accept(withdraw(n, BUYER, T0)[0], DESIGNER, "n1.1", T0), Conflict, "closed"),
        (lambda n: expire(n, T0 + timedelta(days=6)), Conflict, "not expired"),
        (lambda n: counter(n, DESIGNER, sample_terms(), T0, timedelta(0)), ValidationFailed, "more than zero"),
        (lambda n: accept(n, DESIGNER, "n1.9", T0), NotFound, "No offer"),
    ],
)
def test_bad_moves_name_the_rule(move: object, error: type[Exception], words: str) -> None:
    with pytest.raises(error) as caught:
        move(opened())  # type: ignore[operator]
    assert words in str(caught.value)


def test_a_designer_cannot_negotiate_with_themselves() -> None:
    with pytest.raises(ValidationFailed, match="their own design"):
        open_negotiation(negotiation_id="n1", design_id="d1", option_id="o1", buyer_id=DESIGNER,
                         designer_id=DESIGNER, terms=sample_terms(), now=T0)


def test_expiry_closes_at_the_moment_the_offer_lapsed() -> None:
    neg = opened(timedelta(days=2))
    closed, event = expire(neg, T0 + timedelta(days=5))
    assert closed.status is NegotiationStatus.EXPIRED
    assert closed.closed_at == event.at == T0 + timedelta(days=2)
    with pytest.raises(Conflict, match="closed"):
        withdraw(closed, BUYER, T0 + timedelta(days=5))
