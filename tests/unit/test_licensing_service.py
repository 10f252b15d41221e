"""Issue #4 licensing use cases with fakes: licence options with list prices, the
negotiation from opening to agreement, bad input refused with nothing written,
notices in the outbox in the same transaction, the thread showing the steps.
P4 (licensing selections, proposed fees), P15 (licensing workflows), P16 (notices)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from caratzon_core.agreements import AgreementStatus
from caratzon_core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from caratzon_core.licensing import terms_hash
from caratzon_core.messaging import MessageKind, ThreadKind
from caratzon_core.negotiation import NegotiationStatus, Party
from caratzon_core.notices import NoticeKind
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.accounts import AccountService, SignUp
from caratzon_core.services.designs import DesignInput, DesignService, Upload
from caratzon_core.services.licensing import LicensingService, fee_summary
from caratzon_core.services.messaging import MessagingService
from caratzon_core.testing import FakeClock, fake_deps

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TODAY = FakeClock().now().date()


def terms(**changes):
    base = {
        "use": "manufacturing",
        "exclusivity": "non_exclusive",
        "territory": ["GB", "FR"],
        "term": {"start": TODAY.isoformat(), "months": 12},
        "fees": {"flat": {"amount": "1500.00", "currency": "USD"}},
        "unit_cap": 100,
        "may_modify": ["ring_size"],
    }
    base.update(changes)
    return base


@pytest.fixture
def world(tmp_path: Path):
    clock = FakeClock()
    deps, store = fake_deps(clock=clock)
    accounts = AccountService(deps)
    people = {}
    for role, email, language in [("designer", "dee@example.com", "en"), ("designer", "dan@example.com", "en"),
                                  ("buyer", "bea@example.com", "zh-Hans"), ("buyer", "bob@example.com", "en"),
                                  ("manufacturer", "max@example.com", "en")]:
        user = accounts.sign_up(SignUp(email=email, password="Emerald-Cut-Halo-2026",
                                       name=email.split("@")[0].title(), role=role, date_of_birth=date(1985, 1, 1),
                                       accept_policy_version=INITIAL_POLICY_VERSION, language=language))
        people[email.split("@")[0]] = accounts.actor_for(user)
    designs = DesignService(deps)
    design = designs.create(people["dee"], DesignInput(title="Halo ring", category="ring"))
    image = tmp_path / "front.png"
    image.write_bytes(PNG)
    designs.add_asset(people["dee"], design.id, Upload("front.png", image, "image"))
    design = designs.publish(people["dee"], design.id)
    return LicensingService(deps), MessagingService(deps), store, clock, people, design


def outbox(store):
    return sorted(store.state.trade.outbox.values(), key=lambda m: m.created_at)


def test_a_designer_offers_options_with_list_prices_and_only_on_their_own_design(world) -> None:
    licensing, _, store, _, p, design = world
    option = licensing.add_option(p["dee"], design.id, "Standard casting, 100 pieces", terms())
    assert option.terms.fees.flat.amount_minor == 150000 and option.terms.unit_cap == 100
    assert [o.id for o in licensing.options(p["bea"], design.id)] == [option.id]
    with pytest.raises(Forbidden, match="owns a design"):
        licensing.add_option(p["dan"], design.id, "Mine now", terms())
    with pytest.raises(Forbidden):
        licensing.add_option(p["bea"], design.id, "Buyer option", terms())
    with pytest.raises(NotFound):
        licensing.add_option(p["dee"], "nope", "x", terms())
    retired = licensing.retire_option(p["dee"], option.id)
    assert licensing.options(p["bea"], design.id) == []
    assert [o.id for o in licensing.options(p["dee"], design.id, include_retired=True)] == [retired.id]
    with pytest.raises(Conflict, match="retired"):
        licensing.open(p["bea"], option.id)


@pytest.mark.parametrize("bad, field", [
    ({"fees": {"flat": {"amount": "0", "currency": "USD"}}}, "fees.flat"),
    ({"fees": {"flat": {"amount": "-5", "currency": "USD"}}}, "fees.flat"),
    ({"fees": {"flat": {"amount": "5", "currency": "XYZ"}}}, "currency"),
    ({"fees": {"flat": {"amount": "5", "currency": "USD"}, "royalty_per_unit": {"amount": "1", "currency": "EUR"}}},
     "currency"),
    ({"territory": ["UK"]}, "territory"),
    ({"term": {"start": (TODAY - timedelta(days=1)).isoformat(), "months": 12}}, "term.start"),
    ({"cad_redistributable": True}, "cad_redistributable"),
])
def test_bad_terms_are_refused_naming_the_rule_and_nothing_is_written(world, bad, field) -> None:
    licensing, _, store, _, p, design = world
    before = len(store.state.audit)
    with pytest.raises(ValidationFailed) as err:
        licensing.add_option(p["dee"], design.id, "Bad", terms(**bad))
    assert field in err.value.by_field(), err.value.by_field()
    assert store.state.trade.options == {} and len(store.state.audit) == before


def test_open_counter_accept_makes_one_agreement_with_the_exact_terms(world) -> None:
    licensing, messaging, store, clock, p, design = world
    option = licensing.add_option(p["dee"], design.id, "Standard", terms())
    neg = licensing.open(p["bea"], option.id, {"fees": {"flat": {"amount": "1200", "currency": "USD"}}},
                         note="Can we do 1200?")
    assert neg.status is NegotiationStatus.OPEN and neg.latest.terms.fees.flat.amount_minor == 120000
    assert neg.latest.terms.unit_cap == 100  # the rest of the option's terms stand
    # The designer hears of it, in their language, from the outbox written with the offer.
    [notice] = outbox(store)
    assert notice.notice.kind is NoticeKind.OFFER_RECEIVED and notice.notice.to_email == "dee@example.com"
    assert notice.notice.values["amount"] == "USD 1,200.00"
    # Out of turn: the buyer cannot answer her own offer, nor accept it.
    with pytest.raises(Conflict, match="your own offer"):
        licensing.accept(p["bea"], neg.id)
    with pytest.raises(Conflict, match="Not your turn"):
        licensing.offer(p["bea"], neg.id, {"unit_cap": 50})
    clock.advance(timedelta(hours=1))
    neg = licensing.offer(p["dee"], neg.id, {"fees": {"flat": {"amount": "1350", "currency": "USD"}}})
    assert [o.by for o in neg.offers] == [Party.BUYER, Party.DESIGNER]
    assert outbox(store)[-1].notice.kind is NoticeKind.OFFER_COUNTERED
    assert outbox(store)[-1].notice.to_email == "bea@example.com" and outbox(store)[-1].notice.language == "zh-Hans"
    superseded = neg.offers[0].id
    with pytest.raises(Conflict):
        licensing.accept(p["dee"], neg.id, superseded)
    clock.advance(timedelta(hours=1))
    neg, agreement = licensing.accept(p["bea"], neg.id)
    assert neg.status is NegotiationStatus.ACCEPTED and agreement.terms == neg.latest.terms
    assert agreement.terms_hash == terms_hash(neg.latest.terms) and agreement.status is AgreementStatus.ACTIVE
    # The designer made the accepted offer and hears it was accepted; the buyer, who accepted,
    # gets the confirmation that the agreement is in force (in her language).
    [accepted] = [m.notice for m in outbox(store) if m.notice.kind is NoticeKind.OFFER_ACCEPTED]
    [concluded] = [m.notice for m in outbox(store) if m.notice.kind is NoticeKind.AGREEMENT_CONCLUDED]
    assert accepted.to_email == "dee@example.com" and accepted.values["counterparty"] == "Bea"
    assert concluded.to_email == "bea@example.com" and concluded.values["counterparty"] == "Dee"
    assert concluded.language == "zh-Hans" and concluded.values["amount"] == "USD 1,350.00"
    # Nothing more can happen, and no second agreement.
    with pytest.raises(Conflict, match="closed"):
        licensing.accept(p["bea"], neg.id)
    assert len(store.state.trade.agreements) == 1
    assert licensing.licences_in_force(design.id, TODAY) == [agreement]
    view = licensing.agreement(p["dee"], agreement.id)
    assert view.buyer_name == "Bea" and view.design_title == "Halo ring"
    with pytest.raises(Forbidden):
        licensing.agreement(p["bob"], agreement.id)
    # The thread shows every step, with the buyer's note.
    thread = messaging.read(p["dee"], licensing.negotiation(p["dee"], neg.id).thread_id)
    assert thread.thread.kind is ThreadKind.NEGOTIATION
    assert [m.message.event for m in thread.messages if m.message.kind is MessageKind.EVENT] == [
        "offer.made", "offer.made", "offer.accepted"]
    assert any(m.original == "Can we do 1200?" for m in thread.messages)


def test_non_parties_can_neither_see_nor_act_and_each_denial_is_audited(world) -> None:
    licensing, messaging, store, _, p, design = world
    option = licensing.add_option(p["dee"], design.id, "Standard", terms())
    neg = licensing.open(p["bea"], option.id)
    for outsider in ("bob", "dan", "max"):
        with pytest.raises(Forbidden):
            licensing.negotiation(p[outsider], neg.id)
        with pytest.raises(Forbidden):
            licensing.accept(p[outsider], neg.id)
        with pytest.raises(Forbidden):
            messaging.read(p[outsider], licensing.negotiation(p["bea"], neg.id).thread_id)
    denied = [e for e in store.state.audit if e.outcome == "denied"]
    assert len(denied) >= 9
    assert licensing.negotiation(p["bea"], neg.id).can_answer is False
    assert licensing.negotiation(p["dee"], neg.id).can_answer is True


def test_only_buyers_open_and_only_on_published_designs(world) -> None:
    licensing, _, store, _, p, design = world
    option = licensing.add_option(p["dee"], design.id, "Standard", terms())
    with pytest.raises(Forbidden):
        licensing.open(p["dan"], option.id)
    with pytest.raises(Forbidden):
        licensing.open(p["max"], option.id)
    with pytest.raises(NotFound):
        licensing.open(p["bea"], "missing")
    assert store.state.trade.negotiations == {}


def test_exclusive_rights_are_never_sold_twice_through_the_use_cases(world) -> None:
    licensing, _, store, _, p, design = world
    exclusive = licensing.add_option(p["dee"], design.id, "Exclusive UK", terms(exclusivity="exclusive",
                                                                                 territory=["GB"]))
    plain = licensing.add_option(p["dee"], design.id, "Standard", terms())
    first = licensing.open(p["bea"], exclusive.id)
    second = licensing.open(p["bob"], plain.id)  # GB+FR overlaps GB
    licensing.offer(p["dee"], first.id, {"unit_cap": 90})
    licensing.offer(p["dee"], second.id, {"unit_cap": 90})
    licensing.accept(p["bea"], first.id)
    with pytest.raises(Conflict, match="Exclusivity") as err:
        licensing.accept(p["bob"], second.id)
    assert err.value.field == "exclusivity"
    assert len(store.state.trade.agreements) == 1
    assert store.state.trade.negotiations[second.id].status is NegotiationStatus.OPEN  # nothing written
    # New licences that overlap cannot even be offered or opened now.
    with pytest.raises(Conflict, match="Exclusivity"):
        licensing.open(p["bob"], plain.id)
    with pytest.raises(Conflict, match="Exclusivity"):
        licensing.add_option(p["dee"], design.id, "Another UK", terms(territory=["GB"]))
    licensing.add_option(p["dee"], design.id, "US only", terms(territory=["US"]))


def test_expiry_closes_lapsed_negotiations_and_warns_a_day_before(world) -> None:
    licensing, _, store, clock, p, design = world
    admin = type(p["dee"]).cli_operator()
    option = licensing.add_option(p["dee"], design.id, "Standard", terms())
    neg = licensing.open(p["bea"], option.id)
    clock.advance(timedelta(days=6, hours=1))
    result = licensing.sweep(admin)
    assert (result.expired, result.warned) == (0, 1)
    assert licensing.sweep(admin).warned == 0  # once per offer
    warning = [m for m in outbox(store) if m.notice.kind is NoticeKind.OFFER_EXPIRING]
    assert [w.notice.to_email for w in warning] == ["dee@example.com"]
    clock.advance(timedelta(days=1))
    with pytest.raises(Conflict, match="expired"):
        licensing.accept(p["dee"], neg.id)
    assert licensing.sweep(admin).expired == 1
    assert store.state.trade.negotiations[neg.id].status is NegotiationStatus.EXPIRED
    assert licensing.sweep(admin).expired == 0
    assert {m.notice.to_email for m in outbox(store) if m.notice.kind is NoticeKind.NEGOTIATION_EXPIRED} == {
        "dee@example.com", "bea@example.com"}
    with pytest.raises(Forbidden):
        licensing.sweep(p["dee"])


def test_reject_and_withdraw_close_and_tell_the_other_side(world) -> None:
    licensing, _, store, _, p, design = world
    option = licensing.add_option(p["dee"], design.id, "Standard", terms())
    first = licensing.open(p["bea"], option.id)
    with pytest.raises(Conflict, match="Not your turn"):
        licensing.reject(p["bea"], first.id)
    assert licensing.reject(p["dee"], first.id).status is NegotiationStatus.REJECTED
    assert outbox(store)[-1].notice.kind is NoticeKind.OFFER_REJECTED
    assert outbox(store)[-1].notice.to_email == "bea@example.com"
    second = licensing.open(p["bea"], option.id)
    assert licensing.withdraw(p["bea"], second.id).status is NegotiationStatus.WITHDRAWN
    assert outbox(store)[-1].notice.kind is NoticeKind.NEGOTIATION_WITHDRAWN
    summaries = licensing.my_negotiations(p["bea"])
    assert {s.negotiation.id for s in summaries} == {first.id, second.id}
    assert licensing.my_negotiations(p["bob"]) == []


def test_fee_summary_reads_like_a_price_list() -> None:
    from caratzon_core.licensing import parse_terms

    t = parse_terms(terms(fees={"flat": {"amount": "1500", "currency": "USD"},
                                "royalty_per_unit": {"amount": "4", "currency": "USD"}}), today=TODAY)
    assert fee_summary(t) == "USD 1,500.00 + USD 4.00 per piece"
    assert fee_summary(t, "zh-Hans") == "USD 1,500.00 + USD 4.00 每件"


def test_a_counter_must_change_something_and_errors_name_the_callers_fields(world) -> None:
    licensing, messaging, store, _, p, design = world
    option = licensing.add_option(p["dee"], design.id, "Standard", terms())
    neg = licensing.open(p["bea"], option.id, note="Hello")
    with pytest.raises(ValidationFailed, match="must change something") as err:
        licensing.offer(p["dee"], neg.id, {})
    assert err.value.field == "terms"
    with pytest.raises(ValidationFailed) as err:
        licensing.offer(p["dee"], neg.id, ["not", "an", "object"])  # type: ignore[arg-type]
    assert err.value.field == "terms"
    with pytest.raises(ValidationFailed) as err:
        licensing.open(p["bea"], option.id, note="bell\x07")
    assert err.value.field == "note"
    assert len(store.state.trade.negotiations) == 1
    # The opening offer's event always comes before the buyer's note.
    thread = messaging.read(p["dee"], licensing.negotiation(p["dee"], neg.id).thread_id)
    assert [m.message.event or m.original for m in thread.messages] == ["offer.made", "Hello"]
