"""Contracts of the issue #4 repositories (licence options, negotiations, agreements,
threads and messages, cached translations, the outbox), run against the in-memory
fake and the SQL adapter on SQLite and PostgreSQL. The fake is the reference: what
the unit tests learn from it must hold for the real database too. Races that only
the database can settle are in tests/integration/test_sql_trade_concurrency.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import attrs
import pytest

from caratzon_core.accounts import Language, Role, User, UserStatus
from caratzon_core.agreements import Agreement, AgreementStatus
from caratzon_core.designs import Category, Design, DesignStatus, Dimensions
from caratzon_core.errors import Conflict, NotFound
from caratzon_core.licence_options import LicenceOption, OptionStatus
from caratzon_core.licensing import (
    Exclusivity,
    Fees,
    LicenceTerms,
    Modification,
    Term,
    Territory,
    Use,
    terms_hash,
)
from caratzon_core.messaging import (
    Attachment,
    CachedTranslation,
    Message,
    MessageKind,
    ReadMarker,
    SupportTopic,
    Thread,
    ThreadKind,
    UnreadDigest,
)
from caratzon_core.money import Money
from caratzon_core.negotiation import Negotiation, NegotiationStatus, Offer, Party
from caratzon_core.notices import Notice, NoticeKind
from caratzon_core.outbox import OutboxMessage, OutboxStatus, after_failure, after_success
from caratzon_core.ports import UnitOfWork, UnitOfWorkFactory

T0 = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)
PLUS_0800 = timezone(timedelta(hours=8))

DESIGNER, BUYER, OTHER_BUYER, ADMIN = "user-0001", "user-0002", "user-0003", "user-0009"
DESIGN, OTHER_DESIGN = "design-0001", "design-0002"


# -- seeds ----------------------------------------------------------------------------


def make_user(user_id: str, role: Role = Role.BUYER, **changes: object) -> User:
    user = User(
        id=user_id,
        email=f"{user_id}@example.com",
        name=f"Person {user_id}",
        role=role,
        password_hash="fake$salt$hash",
        language=Language.EN,
        status=UserStatus.ACTIVE,
        business_name=None,
        business_address=None,
        age_confirmed_at=T0,
        created_at=T0,
        updated_at=T0,
    )
    return attrs.evolve(user, **changes)  # type: ignore[arg-type]


def make_design(design_id: str, designer_id: str = DESIGNER) -> Design:
    return Design(
        id=design_id,
        designer_id=designer_id,
        title=f"Design {design_id}",
        description="A ring.",
        category=Category.RING,
        metals=("18k_yellow",),
        gemstones=(),
        dimensions=Dimensions(),
        tags=(),
        price_guidance=None,
        status=DesignStatus.PUBLISHED,
        created_at=T0,
        updated_at=T0,
        published_at=T0,
    )


@pytest.fixture
def uow_factory(uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    """The parametrised backend with the people and designs every test refers to."""
    with uow_factory() as uow:
        uow.users.add(make_user(DESIGNER, Role.DESIGNER))
        uow.users.add(make_user(BUYER))
        uow.users.add(make_user(OTHER_BUYER, language=Language.ZH_HANS))
        uow.users.add(make_user(ADMIN, Role.ADMIN))
        uow.designs.add(make_design(DESIGN))
        uow.designs.add(make_design(OTHER_DESIGN))
        uow.commit()
    return uow_factory


# -- terms ----------------------------------------------------------------------------


def simple_terms(start: date = date(2027, 1, 1), months: int | None = 12, **changes: object) -> LicenceTerms:
    terms = LicenceTerms(
        use=Use.MANUFACTURING,
        exclusivity=Exclusivity.NON_EXCLUSIVE,
        territory=Territory.of("HK", "SG"),
        term=Term(start, months),
        fees=Fees(flat=Money(250_000, "USD")),
    )
    return attrs.evolve(terms, **changes)  # type: ignore[arg-type]


# Every optional field exercised: perpetual, worldwide, royalty only, no unit cap, no
# attribution, every modification; and one in the past (stored terms may have begun).
PERPETUAL_WORLD = LicenceTerms(
    use=Use.EDITORIAL,
    exclusivity=Exclusivity.EXCLUSIVE,
    territory=Territory.world(),
    term=Term(date(2027, 2, 28), None),
    fees=Fees(royalty_per_unit=Money(1250, "JPY")),
    unit_cap=None,
    may_modify=frozenset(Modification),
    attribution_required=False,
)
STARTED_LONG_AGO = simple_terms(start=date(2020, 1, 31), months=1, unit_cap=5,
                                fees=Fees(flat=Money(1, "HKD"), royalty_per_unit=Money(99, "HKD")),
                                may_modify=frozenset({Modification.METAL}))


# -- builders -------------------------------------------------------------------------


def make_option(n: int, design_id: str = DESIGN, *, at: datetime = T0, **changes: object) -> LicenceOption:
    option = LicenceOption(
        id=f"option-{n:04d}",
        design_id=design_id,
        designer_id=DESIGNER,
        name=f"Option {n}",
        terms=simple_terms(),
        status=OptionStatus.ACTIVE,
        created_at=at,
    )
    return attrs.evolve(option, **changes)  # type: ignore[arg-type]


def make_offer(neg_id: str, n: int, by: Party, made: datetime, *, ttl: timedelta = timedelta(days=7),
               terms: LicenceTerms | None = None) -> Offer:
    return Offer(id=f"{neg_id}.{n}", by=by, terms=terms or simple_terms(), made_at=made, expires_at=made + ttl)


def make_negotiation(n: int, *, buyer: str = BUYER, design_id: str = DESIGN, option: str = "option-0001",
                     made: datetime = T0, ttl: timedelta = timedelta(days=7), **changes: object) -> Negotiation:
    neg_id = f"neg-{n:04d}"
    negotiation = Negotiation(
        id=neg_id,
        design_id=design_id,
        option_id=option,
        buyer_id=buyer,
        designer_id=DESIGNER,
        status=NegotiationStatus.OPEN,
        offers=(make_offer(neg_id, 1, Party.BUYER, made, ttl=ttl),),
    )
    return attrs.evolve(negotiation, **changes)  # type: ignore[arg-type]


def countered(neg: Negotiation, at: datetime, terms: LicenceTerms | None = None,
              ttl: timedelta = timedelta(days=7)) -> Negotiation:
    offer = make_offer(neg.id, len(neg.offers) + 1, neg.latest.by.other, at, ttl=ttl, terms=terms)
    return attrs.evolve(neg, offers=(*neg.offers, offer))


def make_agreement(n: int, negotiation_id: str, *, terms: LicenceTerms | None = None, design_id: str = DESIGN,
                   buyer: str = BUYER, at: datetime = T0, status: AgreementStatus = AgreementStatus.ACTIVE,
                   **changes: object) -> Agreement:
    terms = terms or simple_terms()
    agreement = Agreement(
        id=f"agreement-{n:04d}",
        negotiation_id=negotiation_id,
        design_id=design_id,
        designer_id=DESIGNER,
        buyer_id=buyer,
        terms=terms,
        terms_hash=terms_hash(terms),
        effective_date=terms.term.start,
        end_date=terms.term.end,
        status=status,
        created_at=at,
    )
    return attrs.evolve(agreement, **changes)  # type: ignore[arg-type]


def make_thread(n: int, *, kind: ThreadKind = ThreadKind.NEGOTIATION, subject: str | None = None,
                participants: frozenset[str] = frozenset({BUYER, DESIGNER}), at: datetime = T0,
                **changes: object) -> Thread:
    thread = Thread(
        id=f"thread-{n:04d}",
        kind=kind,
        title=f"Licence: Thread {n}",
        created_by=BUYER,
        created_at=at,
        participants=participants,
        subject_id=subject if subject is not None or kind is not ThreadKind.NEGOTIATION else f"neg-{n:04d}",
    )
    return attrs.evolve(thread, **changes)  # type: ignore[arg-type]


def make_message(n: int, thread_id: str, author: str | None, at: datetime, **changes: object) -> Message:
    message = Message(
        id=f"msg-{n:04d}",
        thread_id=thread_id,
        author_id=author,
        kind=MessageKind.TEXT if author else MessageKind.EVENT,
        body=f"Message {n}" if author else "",
        language="en",
        created_at=at,
        event=None if author else "offer.made",
        event_data={} if author else {"offer_id": "neg-0001.1"},
    )
    return attrs.evolve(message, **changes)  # type: ignore[arg-type]


def make_outbox(n: int, *, at: datetime = T0, key: str | None = None, **changes: object) -> OutboxMessage:
    message = OutboxMessage(
        id=f"out-{n:04d}",
        dedupe_key=key or f"offer:neg-{n:04d}.1:{DESIGNER}",
        notice=Notice(NoticeKind.OFFER_RECEIVED, "designer@example.com", "en",
                      {"name": "Ada", "amount": "US$2,500.00", "url": f"https://caratzon.test/n/{n}"}),
        created_at=at,
    )
    return attrs.evolve(message, **changes)  # type: ignore[arg-type]


def seed_options(uow: UnitOfWork, *options: LicenceOption) -> None:
    for option in options or (make_option(1),):
        uow.licence_options.add(option)


def seed_negotiations(uow: UnitOfWork, *negotiations: Negotiation) -> None:
    for negotiation in negotiations:
        uow.negotiations.add(negotiation)


# -- users: the AI objection (P40) -----------------------------------------------------


def test_user_ai_objection_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    objected = datetime(2026, 12, 2, 17, 30, 0, 5, tzinfo=PLUS_0800)
    with uow_factory() as uow:
        user = uow.users.get(BUYER)
        assert user is not None and user.ai_objection_at is None
        uow.users.update(attrs.evolve(user, ai_objection_at=objected))
        uow.commit()
    with uow_factory() as uow:
        stored = uow.users.get(BUYER)
        assert stored is not None and stored.ai_objection_at == objected
        uow.users.update(attrs.evolve(stored, ai_objection_at=None))
        uow.commit()
    with uow_factory() as uow:
        assert uow.users.get(BUYER) == make_user(BUYER)


# -- licence options --------------------------------------------------------------------


def test_option_round_trips_with_every_kind_of_terms(uow_factory: UnitOfWorkFactory) -> None:
    options = [
        make_option(1, name="Édition limitée — 限量版 “ring”", terms=PERPETUAL_WORLD),
        make_option(2, terms=STARTED_LONG_AGO, at=T0 + timedelta(seconds=1)),
        make_option(3, status=OptionStatus.RETIRED, retired_at=T0.astimezone(PLUS_0800) + timedelta(days=1)),
    ]
    with uow_factory() as uow:
        seed_options(uow, *options)
        uow.commit()
    with uow_factory() as uow:
        for option in options:
            assert uow.licence_options.get(option.id) == option
        assert uow.licence_options.get("option-9999") is None


def test_options_list_oldest_first_without_retired_unless_asked(uow_factory: UnitOfWorkFactory) -> None:
    later = make_option(1, at=T0 + timedelta(hours=2))
    earliest = make_option(2, at=T0)
    tie_b = make_option(4, at=T0 + timedelta(hours=1))
    tie_a = make_option(3, at=T0 + timedelta(hours=1))
    retired = make_option(5, at=T0 - timedelta(hours=1), status=OptionStatus.RETIRED, retired_at=T0)
    elsewhere = make_option(6, OTHER_DESIGN)
    with uow_factory() as uow:
        seed_options(uow, later, earliest, tie_b, tie_a, retired, elsewhere)
        uow.commit()
    with uow_factory() as uow:
        assert [o.id for o in uow.licence_options.list_for_design(DESIGN)] == [
            "option-0002", "option-0003", "option-0004", "option-0001"]
        assert [o.id for o in uow.licence_options.list_for_design(DESIGN, include_retired=True)] == [
            "option-0005", "option-0002", "option-0003", "option-0004", "option-0001"]
        assert uow.licence_options.list_for_design(OTHER_DESIGN) == [elsewhere]
        assert uow.licence_options.list_for_design("design-9999") == []


def test_option_update_and_its_errors(uow_factory: UnitOfWorkFactory) -> None:
    option = make_option(1)
    with uow_factory() as uow:
        seed_options(uow, option)
        uow.commit()
    retired = attrs.evolve(option, status=OptionStatus.RETIRED, retired_at=T0 + timedelta(days=3), name="Old")
    with uow_factory() as uow:
        uow.licence_options.update(retired)
        with pytest.raises(NotFound):
            uow.licence_options.update(make_option(2))
        with pytest.raises(Conflict):
            uow.licence_options.add(attrs.evolve(option, name="Same id"))
        uow.licence_options.add(make_option(3))  # still usable after the refusals
        uow.commit()
    with uow_factory() as uow:
        assert uow.licence_options.get(option.id) == retired
        assert uow.licence_options.get("option-0002") is None
        assert uow.licence_options.list_for_design(DESIGN) == [make_option(3)]


# -- negotiations ---------------------------------------------------------------------


def test_negotiation_round_trips_with_its_offers(uow_factory: UnitOfWorkFactory) -> None:
    neg = make_negotiation(1)
    neg = countered(neg, T0 + timedelta(hours=1), terms=PERPETUAL_WORLD)
    neg = countered(neg, (T0 + timedelta(hours=2)).astimezone(PLUS_0800), terms=STARTED_LONG_AGO,
                    ttl=timedelta(days=90))
    with uow_factory() as uow:
        seed_options(uow)
        seed_negotiations(uow, neg)
        uow.commit()
    with uow_factory() as uow:
        assert uow.negotiations.get(neg.id) == neg
        assert uow.negotiations.get_for_update(neg.id) == neg
        assert uow.negotiations.get("neg-9999") is None
        assert uow.negotiations.get_for_update("neg-9999") is None
        with pytest.raises(Conflict):
            uow.negotiations.add(make_negotiation(1))
        uow.negotiations.add(make_negotiation(2))  # usable after the refusal
        uow.commit()
    with uow_factory() as uow:
        stored = uow.negotiations.get(neg.id)
        assert stored is not None and [o.by for o in stored.offers] == [Party.BUYER, Party.DESIGNER, Party.BUYER]
        assert uow.negotiations.get("neg-0002") == make_negotiation(2)


def test_negotiation_update_appends_offers_and_stores_the_status(uow_factory: UnitOfWorkFactory) -> None:
    neg = make_negotiation(1)
    with uow_factory() as uow:
        seed_options(uow)
        seed_negotiations(uow, neg)
        uow.commit()
    two = countered(neg, T0 + timedelta(hours=1))
    three = countered(two, T0 + timedelta(hours=2), terms=PERPETUAL_WORLD)
    with uow_factory() as uow:
        current = uow.negotiations.get_for_update(neg.id)
        assert current == neg
        uow.negotiations.update(three)  # two offers at once
        uow.commit()
    accepted = attrs.evolve(three, status=NegotiationStatus.ACCEPTED, accepted_offer_id=three.latest.id,
                            closed_at=T0 + timedelta(hours=3))
    with uow_factory() as uow:
        assert uow.negotiations.get(neg.id) == three
        uow.negotiations.update(accepted)  # no new offers: only the status
        uow.commit()
    with uow_factory() as uow:
        assert uow.negotiations.get(neg.id) == accepted


def test_negotiation_update_never_changes_or_removes_stored_offers(uow_factory: UnitOfWorkFactory) -> None:
    neg = countered(make_negotiation(1), T0 + timedelta(hours=1))
    with uow_factory() as uow:
        seed_options(uow)
        seed_negotiations(uow, neg)
        uow.commit()
    changed_terms = attrs.evolve(neg, offers=(neg.offers[0], attrs.evolve(neg.offers[1], terms=PERPETUAL_WORLD)))
    changed_time = attrs.evolve(neg, offers=(attrs.evolve(neg.offers[0], expires_at=T0 + timedelta(days=30)),
                                             neg.offers[1]))
    reordered = attrs.evolve(neg, offers=(neg.offers[1], neg.offers[0]))
    removed = attrs.evolve(neg, offers=(neg.offers[0],), status=NegotiationStatus.WITHDRAWN, closed_at=T0)
    replaced_and_appended = countered(changed_terms, T0 + timedelta(hours=2))
    with uow_factory() as uow:
        for bad in (changed_terms, changed_time, reordered, removed, replaced_and_appended):
            with pytest.raises(Conflict):
                uow.negotiations.update(bad)
        assert uow.negotiations.get(neg.id) == neg  # nothing of a refused update stayed
        with pytest.raises(NotFound):
            uow.negotiations.update(make_negotiation(9))
        closed = attrs.evolve(neg, status=NegotiationStatus.WITHDRAWN, closed_at=T0 + timedelta(hours=5))
        uow.negotiations.update(closed)  # still usable
        uow.commit()
    with uow_factory() as uow:
        assert uow.negotiations.get(neg.id) == closed


def test_negotiations_for_a_user_latest_activity_first(uow_factory: UnitOfWorkFactory) -> None:
    old = make_negotiation(1, made=T0)
    closed_late = attrs.evolve(make_negotiation(2, made=T0 - timedelta(days=1)),
                               status=NegotiationStatus.REJECTED, closed_at=T0 + timedelta(hours=5))
    countered_mid = countered(make_negotiation(3, made=T0), T0 + timedelta(hours=3))
    tie_low = make_negotiation(4, made=T0 + timedelta(hours=1))
    tie_high = make_negotiation(5, made=T0 + timedelta(hours=1))
    someone_else = make_negotiation(6, buyer=OTHER_BUYER, made=T0 + timedelta(days=2))
    with uow_factory() as uow:
        seed_options(uow)
        seed_negotiations(uow, old, closed_late, countered_mid, tie_low, tie_high, someone_else)
        uow.commit()
    with uow_factory() as uow:
        mine = uow.negotiations.list_for_user(BUYER)
        assert [n.id for n in mine] == ["neg-0002", "neg-0003", "neg-0005", "neg-0004", "neg-0001"]
        assert mine[1] == countered_mid
        assert [n.id for n in uow.negotiations.list_for_user(BUYER, limit=2)] == ["neg-0002", "neg-0003"]
        assert [n.id for n in uow.negotiations.list_for_user(DESIGNER)][:2] == ["neg-0006", "neg-0002"]
        assert len(uow.negotiations.list_for_user(DESIGNER)) == 6
        assert uow.negotiations.list_for_user(OTHER_BUYER) == [someone_else]
        assert uow.negotiations.list_for_user(ADMIN) == []


def test_open_expired_and_open_expiring_use_the_latest_offer(uow_factory: UnitOfWorkFactory) -> None:
    day = timedelta(days=1)
    now = T0 + 10 * day
    exactly_now = make_negotiation(3, made=now - 7 * day)  # expires at now: expired
    long_gone = make_negotiation(1, made=T0)
    just_open = make_negotiation(2, made=now - 7 * day + timedelta(microseconds=1))  # one microsecond left
    rescued = countered(make_negotiation(4, made=T0), now - day)  # first offer expired, latest open
    closed = attrs.evolve(make_negotiation(5, made=T0), status=NegotiationStatus.WITHDRAWN, closed_at=T0 + day)
    soon = make_negotiation(6, made=now - 6 * day)  # expires now + 1 day
    later = make_negotiation(7, made=now - 4 * day)  # expires now + 3 days
    with uow_factory() as uow:
        seed_options(uow)
        seed_negotiations(uow, exactly_now, long_gone, just_open, rescued, closed, soon, later)
        uow.commit()
    with uow_factory() as uow:
        assert uow.negotiations.open_expired(now) == ["neg-0001", "neg-0003"]
        assert uow.negotiations.open_expired(now, limit=1) == ["neg-0001"]
        assert uow.negotiations.open_expired(T0) == []
        # (start, end]: the start is excluded, the end included; soonest first
        expiring = uow.negotiations.open_expiring(now, now + 3 * day)
        assert [n.id for n in expiring] == ["neg-0002", "neg-0006", "neg-0007"]
        assert expiring[0] == just_open
        assert [n.id for n in uow.negotiations.open_expiring(now, now + day)] == ["neg-0002", "neg-0006"]
        assert [n.id for n in uow.negotiations.open_expiring(now + day, now + 3 * day)] == ["neg-0007"]
        assert [n.id for n in uow.negotiations.open_expiring(now, now + 3 * day, limit=1)] == ["neg-0002"]
        assert [n.id for n in uow.negotiations.open_expiring(now, now + 7 * day)] == [
            "neg-0002", "neg-0006", "neg-0007", "neg-0004"]
        # once expired and stored as such, neither query finds it again
        uow.negotiations.update(attrs.evolve(exactly_now, status=NegotiationStatus.EXPIRED,
                                             closed_at=exactly_now.latest.expires_at))
        assert uow.negotiations.open_expired(now) == ["neg-0001"]


# -- agreements -----------------------------------------------------------------------


def seed_trade(uow: UnitOfWork, count: int = 4) -> None:
    """An option and ``count`` negotiations (neg-0001 ...) to hang agreements on."""
    seed_options(uow)
    seed_negotiations(uow, *(make_negotiation(n) for n in range(1, count + 1)))


def test_agreement_round_trips_and_one_per_negotiation(uow_factory: UnitOfWorkFactory) -> None:
    perpetual = make_agreement(1, "neg-0001", terms=PERPETUAL_WORLD, at=T0.astimezone(PLUS_0800))
    past = make_agreement(2, "neg-0002", terms=STARTED_LONG_AGO, status=AgreementStatus.EXPIRED)
    with uow_factory() as uow:
        seed_trade(uow)
        uow.agreements.lock_design(DESIGN)
        uow.agreements.lock_design("design-9999")  # nothing to lock is no error
        uow.agreements.add(perpetual)
        uow.agreements.add(past)
        uow.commit()
    with uow_factory() as uow:
        assert uow.agreements.get(perpetual.id) == perpetual
        assert uow.agreements.get(past.id) == past
        assert perpetual.end_date is None and past.end_date == date(2020, 2, 29)
        assert uow.agreements.for_negotiation("neg-0001") == perpetual
        assert uow.agreements.for_negotiation("neg-0003") is None
        assert uow.agreements.get("agreement-9999") is None
        with pytest.raises(Conflict):  # another agreement for the same negotiation
            uow.agreements.add(make_agreement(3, "neg-0001"))
        with pytest.raises(Conflict):  # the same id again
            uow.agreements.add(make_agreement(1, "neg-0003"))
        third = make_agreement(4, "neg-0003")
        uow.agreements.add(third)  # the transaction is still usable
        uow.commit()
    with uow_factory() as uow:
        assert uow.agreements.for_negotiation("neg-0003") == make_agreement(4, "neg-0003")
        assert uow.agreements.get("agreement-0003") is None


def test_active_and_in_force_agreements_on_a_design(uow_factory: UnitOfWorkFactory) -> None:
    year = make_agreement(1, "neg-0001", terms=simple_terms(date(2027, 1, 31), 1), at=T0 + timedelta(hours=2))
    perpetual = make_agreement(2, "neg-0002", terms=PERPETUAL_WORLD, at=T0 + timedelta(hours=1))
    terminated = make_agreement(3, "neg-0003", status=AgreementStatus.TERMINATED, at=T0)
    elsewhere = make_agreement(4, "neg-0004", design_id=OTHER_DESIGN)
    with uow_factory() as uow:
        seed_trade(uow)
        for agreement in (year, perpetual, terminated, elsewhere):
            uow.agreements.add(agreement)
        uow.commit()
    with uow_factory() as uow:
        assert uow.agreements.active_for_design(DESIGN) == [perpetual, year]
        assert uow.agreements.active_for_design(OTHER_DESIGN) == [elsewhere]
        in_force = uow.agreements.in_force
        assert in_force(DESIGN, date(2027, 1, 30)) == []  # before either starts
        assert in_force(DESIGN, date(2027, 1, 31)) == [year]  # the first day is covered
        assert in_force(DESIGN, date(2027, 2, 27)) == [year]  # 31 Jan + 1 month ends 28 Feb (exclusive)
        assert in_force(DESIGN, date(2027, 2, 28)) == [perpetual]
        assert in_force(DESIGN, date(2999, 1, 1)) == [perpetual]
        assert in_force(DESIGN, date(2027, 6, 1)) == [a for a in uow.agreements.active_for_design(DESIGN)
                                                      if a.in_force_on(date(2027, 6, 1))]


def test_agreements_for_a_user_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        seed_options(uow)
        seed_negotiations(uow, make_negotiation(1), make_negotiation(2), make_negotiation(3),
                          make_negotiation(4, buyer=OTHER_BUYER))
        uow.agreements.add(make_agreement(1, "neg-0001", at=T0))
        uow.agreements.add(make_agreement(2, "neg-0002", at=T0 + timedelta(hours=1)))
        uow.agreements.add(make_agreement(3, "neg-0003", at=T0 + timedelta(hours=1)))
        uow.agreements.add(make_agreement(4, "neg-0004", buyer=OTHER_BUYER, at=T0 + timedelta(days=1)))
        uow.commit()
    with uow_factory() as uow:
        ids = [a.id for a in uow.agreements.list_for_user(BUYER)]
        assert ids == ["agreement-0003", "agreement-0002", "agreement-0001"]
        assert [a.id for a in uow.agreements.list_for_user(BUYER, limit=1)] == ["agreement-0003"]
        assert [a.id for a in uow.agreements.list_for_user(DESIGNER)] == [
            "agreement-0004", "agreement-0003", "agreement-0002", "agreement-0001"]
        assert [a.id for a in uow.agreements.list_for_user(OTHER_BUYER)] == ["agreement-0004"]
        assert uow.agreements.list_for_user(ADMIN) == []


# -- threads and messages -------------------------------------------------------------


def test_thread_round_trips_and_one_thread_per_subject(uow_factory: UnitOfWorkFactory) -> None:
    negotiation = make_thread(1, title="Licence: Étoile — 星 " + "x" * 250)
    support = make_thread(2, kind=ThreadKind.SUPPORT, topic=SupportTopic.FEEDBACK, participants=frozenset({BUYER}),
                          at=T0.astimezone(PLUS_0800))
    support_too = make_thread(3, kind=ThreadKind.SUPPORT, topic=SupportTopic.SUPPORT,
                              participants=frozenset({BUYER}), last_message_at=T0 + timedelta(hours=1))
    lonely = make_thread(4, kind=ThreadKind.ORDER, subject="order-1", participants=frozenset())
    with uow_factory() as uow:
        for thread in (negotiation, support, support_too, lonely):
            uow.threads.add(thread)
        uow.commit()
    with uow_factory() as uow:
        for thread in (negotiation, support, support_too, lonely):
            assert uow.threads.get(thread.id) == thread
        assert uow.threads.get("thread-9999") is None
        assert uow.threads.for_subject(ThreadKind.NEGOTIATION, "neg-0001") == negotiation
        assert uow.threads.for_subject(ThreadKind.ORDER, "neg-0001") is None
        assert uow.threads.for_subject(ThreadKind.ORDER, "order-1") == lonely
        with pytest.raises(Conflict):  # a second thread for the same negotiation
            uow.threads.add(make_thread(5, subject="neg-0001"))
        with pytest.raises(Conflict):  # the same id again
            uow.threads.add(make_thread(1, subject="neg-0077"))
        uow.threads.add(make_thread(6, kind=ThreadKind.ORDER, subject="neg-0001"))  # another kind may share it
        uow.commit()
    with uow_factory() as uow:
        assert uow.threads.get("thread-0005") is None
        assert uow.threads.get("thread-0006") is not None


def test_add_participant_is_idempotent(uow_factory: UnitOfWorkFactory) -> None:
    thread = make_thread(1, kind=ThreadKind.SUPPORT, participants=frozenset({BUYER}))
    with uow_factory() as uow:
        uow.threads.add(thread)
        uow.threads.add_participant(thread.id, ADMIN)
        uow.threads.add_participant(thread.id, ADMIN)
        uow.threads.add_participant(thread.id, BUYER)
        with pytest.raises(NotFound):
            uow.threads.add_participant("thread-9999", ADMIN)
        uow.commit()
    with uow_factory() as uow:
        assert uow.threads.get(thread.id) == attrs.evolve(thread, participants=frozenset({BUYER, ADMIN}))
        assert [t.id for t in uow.threads.list_for_user(ADMIN)] == [thread.id]


def test_thread_lists_latest_message_first(uow_factory: UnitOfWorkFactory) -> None:
    quiet = make_thread(1, at=T0 + timedelta(hours=5))  # no messages: sorts by its creation
    busy = make_thread(2, at=T0)
    old = make_thread(3, at=T0)
    support = make_thread(4, kind=ThreadKind.SUPPORT, participants=frozenset({OTHER_BUYER}), at=T0)
    support_busy = make_thread(5, kind=ThreadKind.SUPPORT, participants=frozenset({BUYER}), at=T0)
    with uow_factory() as uow:
        for thread in (quiet, busy, old, support, support_busy):
            uow.threads.add(thread)
        uow.threads.add_message(make_message(1, busy.id, BUYER, T0 + timedelta(hours=6)))
        uow.threads.add_message(make_message(2, old.id, DESIGNER, T0 + timedelta(hours=1)))
        uow.threads.add_message(make_message(3, support_busy.id, BUYER, T0 + timedelta(hours=2)))
        uow.commit()
    with uow_factory() as uow:
        assert [t.id for t in uow.threads.list_for_user(BUYER)] == [
            "thread-0002", "thread-0001", "thread-0005", "thread-0003"]
        assert [t.id for t in uow.threads.list_for_user(BUYER, limit=2)] == ["thread-0002", "thread-0001"]
        assert [t.id for t in uow.threads.list_for_user(DESIGNER)] == ["thread-0002", "thread-0001", "thread-0003"]
        assert [t.id for t in uow.threads.list_for_user(OTHER_BUYER)] == ["thread-0004"]
        assert uow.threads.list_for_user(ADMIN) == []
        support_queue = uow.threads.list_support()
        assert [t.id for t in support_queue] == ["thread-0005", "thread-0004"]
        assert support_queue[0].last_message_at == T0 + timedelta(hours=2)
        assert support_queue[0].participants == frozenset({BUYER})
        assert [t.id for t in uow.threads.list_support(limit=1)] == ["thread-0005"]


def test_messages_with_attachments_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    thread = make_thread(1)
    files = (
        Attachment("att-1", "msg-0002", "messages/thread-0001/att-1", "ring sketch 戒指.png", "image/png", 123_456,
                   "a" * 64),
        Attachment("att-2", "msg-0002", "messages/thread-0001/att-2", "terms.pdf", "application/pdf", 0, "b" * 64),
    )
    event = make_message(1, thread.id, None, T0, event_data={"offer_id": "neg-0001.1", "fees": "US$2,500 · 版税"})
    text = make_message(2, thread.id, BUYER, T0.astimezone(PLUS_0800) + timedelta(minutes=1),
                        body="Bonjour — 你好\n\n“quoted”", language="zh-Hans", attachments=files)
    removed = make_message(3, thread.id, DESIGNER, T0 + timedelta(minutes=2), body="", removed=True)
    with uow_factory() as uow:
        uow.threads.add(thread)
        for message in (event, text, removed):
            uow.threads.add_message(message)
        uow.commit()
    with uow_factory() as uow:
        assert uow.threads.messages(thread.id) == [event, text, removed]
        assert uow.threads.get_attachment("att-2") == (text, 1)
        assert uow.threads.get_attachment("att-1") == (text, 0)
        assert uow.threads.get_attachment("att-9") is None
        assert uow.threads.messages("thread-9999") == []


def test_add_message_moves_the_thread_forward_only_and_refuses_strangers(uow_factory: UnitOfWorkFactory) -> None:
    thread = make_thread(1)
    with uow_factory() as uow:
        uow.threads.add(thread)
        uow.threads.add_message(make_message(1, thread.id, BUYER, T0 + timedelta(hours=2)))
        uow.threads.add_message(make_message(2, thread.id, DESIGNER, T0 + timedelta(hours=1)))  # late arrival
        with pytest.raises(NotFound):
            uow.threads.add_message(make_message(3, "thread-9999", BUYER, T0))
        with pytest.raises(Conflict):
            uow.threads.add_message(make_message(1, thread.id, BUYER, T0 + timedelta(hours=3)))
        uow.commit()
    with uow_factory() as uow:
        stored = uow.threads.get(thread.id)
        assert stored is not None and stored.last_message_at == T0 + timedelta(hours=2)
        assert [m.id for m in uow.threads.messages(thread.id)] == ["msg-0002", "msg-0001"]


def test_messages_are_the_latest_ones_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    thread = make_thread(1)
    with uow_factory() as uow:
        uow.threads.add(thread)
        for n in range(1, 8):
            uow.threads.add_message(make_message(n, thread.id, BUYER, T0 + timedelta(minutes=n // 2)))
        uow.commit()
    with uow_factory() as uow:
        assert [m.id for m in uow.threads.messages(thread.id, limit=3)] == ["msg-0005", "msg-0006", "msg-0007"]
        assert len(uow.threads.messages(thread.id)) == 7


def test_read_marker_upserts_and_never_moves_backwards(uow_factory: UnitOfWorkFactory) -> None:
    thread = make_thread(1, kind=ThreadKind.SUPPORT, participants=frozenset({BUYER}))
    with uow_factory() as uow:
        uow.threads.add(thread)
        assert uow.threads.read_marker(thread.id, BUYER) is None
        uow.threads.mark_read(ReadMarker(thread.id, BUYER, T0 + timedelta(hours=2)))
        uow.threads.mark_read(ReadMarker(thread.id, BUYER, T0 + timedelta(hours=1)))  # older: ignored
        uow.threads.mark_read(ReadMarker(thread.id, ADMIN, T0.astimezone(PLUS_0800)))  # a non-participant admin
        uow.threads.mark_digested(thread.id, BUYER, T0 + timedelta(days=9))  # digest marks are separate
        uow.commit()
    with uow_factory() as uow:
        assert uow.threads.read_marker(thread.id, BUYER) == ReadMarker(thread.id, BUYER, T0 + timedelta(hours=2))
        assert uow.threads.read_marker(thread.id, ADMIN) == ReadMarker(thread.id, ADMIN, T0)
        assert uow.threads.read_marker(thread.id, DESIGNER) is None
        assert uow.threads.get(thread.id) == thread  # reading does not make a participant
        uow.threads.mark_read(ReadMarker(thread.id, BUYER, T0 + timedelta(hours=3)))
        uow.commit()
    with uow_factory() as uow:
        assert uow.threads.read_marker(thread.id, BUYER) == ReadMarker(thread.id, BUYER, T0 + timedelta(hours=3))


def test_unread_counts(uow_factory: UnitOfWorkFactory) -> None:
    one, two, three = make_thread(1), make_thread(2), make_thread(3)
    not_mine = make_thread(4, participants=frozenset({OTHER_BUYER, DESIGNER}))
    minute = timedelta(minutes=1)
    with uow_factory() as uow:
        for thread in (one, two, three, not_mine):
            uow.threads.add(thread)
        add = uow.threads.add_message
        add(make_message(1, one.id, DESIGNER, T0 + 1 * minute))
        add(make_message(2, one.id, BUYER, T0 + 2 * minute))  # own: never unread
        add(make_message(3, one.id, None, T0 + 3 * minute))  # platform event: never unread
        add(make_message(4, one.id, DESIGNER, T0 + 4 * minute, removed=True, body=""))  # removed still counts
        add(make_message(5, two.id, DESIGNER, T0 + 1 * minute))
        add(make_message(6, two.id, DESIGNER, T0 + 5 * minute))
        add(make_message(7, three.id, BUYER, T0 + 1 * minute))  # only own messages
        add(make_message(8, not_mine.id, DESIGNER, T0 + 1 * minute))
        uow.commit()
    with uow_factory() as uow:
        assert uow.threads.unread_counts(BUYER) == {one.id: 2, two.id: 2}
        assert uow.threads.unread_counts(DESIGNER) == {one.id: 1, three.id: 1}
        assert uow.threads.unread_counts(ADMIN) == {}
        uow.threads.mark_read(ReadMarker(two.id, BUYER, T0 + 5 * minute))  # at the newest: all read
        uow.threads.mark_read(ReadMarker(one.id, BUYER, T0 + 3 * minute))  # only msg 4 is left
        uow.threads.mark_read(ReadMarker(not_mine.id, BUYER, T0))  # a mark does not make a participant
        uow.commit()
    with uow_factory() as uow:
        assert uow.threads.unread_counts(BUYER) == {one.id: 1}


def test_undigested_waits_for_quiet_and_respects_marks(uow_factory: UnitOfWorkFactory) -> None:
    minute = timedelta(minutes=1)
    one, two, three = make_thread(1), make_thread(2), make_thread(3, participants=frozenset({BUYER}))
    with uow_factory() as uow:
        for thread in (one, two, three):
            uow.threads.add(thread)
        add = uow.threads.add_message
        add(make_message(1, one.id, DESIGNER, T0 + 1 * minute))
        add(make_message(2, one.id, None, T0 + 2 * minute))  # platform event: never mailed about
        add(make_message(3, one.id, BUYER, T0 + 3 * minute))
        add(make_message(8, one.id, DESIGNER, T0 + 3 * minute - timedelta(seconds=30)))
        add(make_message(4, two.id, DESIGNER, T0 + 1 * minute))
        add(make_message(5, two.id, DESIGNER, T0 + 10 * minute))  # two is not quiet before minute 10
        add(make_message(6, three.id, BUYER, T0 + 1 * minute))  # only own messages
        uow.commit()
    with uow_factory() as uow:
        quiet = T0 + 5 * minute
        assert uow.threads.undigested(quiet) == [  # by thread, then user id (the designer is user-0001)
            UnreadDigest(one.id, DESIGNER, 1, T0 + 3 * minute),  # the buyer's
            UnreadDigest(one.id, BUYER, 2, T0 + 3 * minute - timedelta(seconds=30)),
        ]
        assert uow.threads.undigested(quiet, limit=1) == [UnreadDigest(one.id, DESIGNER, 1, T0 + 3 * minute)]
        quiet_buyer = T0 + 3 * minute - timedelta(seconds=30)  # exactly the newest: quiet enough
        assert uow.threads.undigested(quiet_buyer) == [UnreadDigest(one.id, BUYER, 2, quiet_buyer)]
        assert uow.threads.undigested(quiet_buyer - timedelta(microseconds=1)) == []
        assert UnreadDigest(two.id, BUYER, 2, T0 + 10 * minute) in uow.threads.undigested(T0 + 10 * minute)

        uow.threads.mark_digested(one.id, BUYER, quiet_buyer)  # told about both
        uow.threads.mark_read(ReadMarker(one.id, DESIGNER, T0 + 2 * minute))  # read up to the event
        uow.threads.mark_digested(one.id, DESIGNER, T0 + 1 * minute)  # older than the read mark: no effect
        uow.commit()
    with uow_factory() as uow:
        assert uow.threads.undigested(quiet) == [UnreadDigest(one.id, DESIGNER, 1, T0 + 3 * minute)]
        uow.threads.add_message(make_message(7, one.id, DESIGNER, T0 + 4 * minute))
        uow.threads.mark_digested(one.id, DESIGNER, T0 + 3 * minute)
        uow.threads.mark_digested(one.id, DESIGNER, T0 + 1 * minute)  # never moves backwards
        uow.commit()
    with uow_factory() as uow:
        assert uow.threads.undigested(quiet) == [UnreadDigest(one.id, BUYER, 1, T0 + 4 * minute)]


# -- translations ---------------------------------------------------------------------


def test_translations_put_once_and_read_many(uow_factory: UnitOfWorkFactory) -> None:
    thread = make_thread(1)
    first = CachedTranslation("msg-0001", "zh-Hans", "你好 — “译文”", T0.astimezone(PLUS_0800))
    with uow_factory() as uow:
        uow.threads.add(thread)
        for n in (1, 2, 3):
            uow.threads.add_message(make_message(n, thread.id, BUYER, T0 + timedelta(minutes=n)))
        assert uow.translations.get("msg-0001", "zh-Hans") is None
        uow.translations.put(first)
        uow.translations.put(CachedTranslation("msg-0001", "zh-Hans", "second attempt", T0 + timedelta(hours=1)))
        uow.translations.put(CachedTranslation("msg-0001", "zh-Hant", "你好 繁體", T0))
        uow.translations.put(CachedTranslation("msg-0003", "zh-Hans", "第三", T0))
        uow.commit()
    with uow_factory() as uow:
        assert uow.translations.get("msg-0001", "zh-Hans") == first  # the first put wins
        assert uow.translations.get("msg-0001", "en") is None
        many = uow.translations.get_many(["msg-0001", "msg-0002", "msg-0003", "msg-9999", "msg-0001"], "zh-Hans")
        assert many == {"msg-0001": first, "msg-0003": CachedTranslation("msg-0003", "zh-Hans", "第三", T0)}
        assert uow.translations.get_many([], "zh-Hans") == {}


# -- the outbox -----------------------------------------------------------------------


def test_outbox_add_deduplicates_without_breaking_the_transaction(uow_factory: UnitOfWorkFactory) -> None:
    first = make_outbox(1, notice=Notice(NoticeKind.NEW_MESSAGES, "李@example.com", "zh-Hant",
                                         {"name": "李 “小龍”", "count": "2", "thread_title": "Étoile\nring",
                                          "url": "https://caratzon.test/t/1"}))
    with uow_factory() as uow:
        assert uow.outbox.add(first) is True
        assert uow.outbox.add(make_outbox(2, key=first.dedupe_key)) is False  # same event and recipient
        with pytest.raises(Conflict):
            uow.outbox.add(make_outbox(1, key="another-key"))  # the same id
        assert uow.outbox.add(make_outbox(3)) is True  # the transaction goes on
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.get(first.id) == first
        assert uow.outbox.get("out-0002") is None
        assert uow.outbox.add(make_outbox(4, key=first.dedupe_key)) is False  # committed earlier
        assert uow.outbox.counts() == {"pending": 2, "sent": 0, "failed": 0}


def test_outbox_update_and_counts(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        for n in (1, 2, 3):
            uow.outbox.add(make_outbox(n))
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.counts() == {"pending": 3, "sent": 0, "failed": 0}
        sent = after_success(make_outbox(1), T0 + timedelta(minutes=1))
        retry = after_failure(make_outbox(2), "SMTP 451: try later\nsecond line", T0 + timedelta(minutes=1))
        gave_up = attrs.evolve(make_outbox(3), attempts=8, status=OutboxStatus.FAILED, last_error="x" * 500)
        for message in (sent, retry, gave_up):
            uow.outbox.update(message)
        with pytest.raises(NotFound):
            uow.outbox.update(make_outbox(4))
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.get("out-0001") == sent
        assert uow.outbox.get("out-0002") == retry
        assert uow.outbox.get("out-0003") == gave_up
        assert uow.outbox.get("out-0004") is None
        assert uow.outbox.counts() == {"pending": 1, "sent": 1, "failed": 1}


def test_claim_due_skips_what_is_not_due_and_respects_the_lease(uow_factory: UnitOfWorkFactory) -> None:
    now = T0 + timedelta(hours=1)
    lease = now + timedelta(minutes=5)
    rows = [
        make_outbox(1, at=T0 + timedelta(seconds=3)),  # due: never tried
        make_outbox(2, at=T0 + timedelta(seconds=1), next_attempt_at=now),  # due exactly now
        make_outbox(3, at=T0, next_attempt_at=now + timedelta(microseconds=1)),  # not yet
        make_outbox(4, at=T0, claimed_until=now),  # the lease ran out exactly now: due
        make_outbox(5, at=T0, claimed_until=now + timedelta(minutes=1)),  # another worker holds it
        make_outbox(6, at=T0, status=OutboxStatus.SENT, sent_at=T0, attempts=1),
        make_outbox(7, at=T0, status=OutboxStatus.FAILED, attempts=8),
        make_outbox(8, at=T0 + timedelta(seconds=2)),  # due
    ]
    with uow_factory() as uow:
        for row in rows:
            uow.outbox.add(row)
        uow.commit()
    with uow_factory() as uow:
        first = uow.outbox.claim_due(now, lease, limit=2)
        assert [m.id for m in first] == ["out-0004", "out-0002"]  # oldest first
        assert all(m.claimed_until == lease for m in first)
        assert first[1] == attrs.evolve(rows[1], claimed_until=lease)
        rest = uow.outbox.claim_due(now, lease)
        assert [m.id for m in rest] == ["out-0008", "out-0001"]
        assert uow.outbox.claim_due(now, lease) == []  # everything due is claimed now
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.get("out-0001") == attrs.evolve(rows[0], claimed_until=lease)
        # a microsecond before our leases end: only what became due meanwhile
        early = uow.outbox.claim_due(lease - timedelta(microseconds=1), lease + timedelta(minutes=5))
        assert [m.id for m in early] == ["out-0003", "out-0005"]
        again = uow.outbox.claim_due(lease, lease + timedelta(minutes=10))  # our leases ran out: claimable again
        assert [m.id for m in again] == ["out-0004", "out-0002", "out-0008", "out-0001"]
        uow.outbox.update(after_success(again[0], lease))
        uow.commit()
    with uow_factory() as uow:
        later = lease + timedelta(hours=1)
        assert [m.id for m in uow.outbox.claim_due(later, later + timedelta(minutes=5))] == [
            "out-0003", "out-0005", "out-0002", "out-0008", "out-0001"]  # never the sent one


# -- the unit of work -----------------------------------------------------------------


def test_leaving_without_commit_leaves_nothing(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        seed_trade(uow, count=1)
        uow.agreements.add(make_agreement(1, "neg-0001"))
        uow.threads.add(make_thread(1))
        uow.threads.add_message(make_message(1, "thread-0001", BUYER, T0))
        uow.threads.mark_read(ReadMarker("thread-0001", DESIGNER, T0))
        uow.threads.mark_digested("thread-0001", DESIGNER, T0)
        uow.translations.put(CachedTranslation("msg-0001", "zh-Hans", "你好", T0))
        uow.outbox.add(make_outbox(1))
    with uow_factory() as uow:
        assert uow.licence_options.get("option-0001") is None
        assert uow.negotiations.get("neg-0001") is None
        assert uow.negotiations.list_for_user(BUYER) == []
        assert uow.agreements.for_negotiation("neg-0001") is None
        assert uow.threads.get("thread-0001") is None
        assert uow.threads.messages("thread-0001") == []
        assert uow.threads.read_marker("thread-0001", DESIGNER) is None
        assert uow.threads.undigested(T0 + timedelta(days=1)) == []
        assert uow.translations.get("msg-0001", "zh-Hans") is None
        assert uow.outbox.counts() == {"pending": 0, "sent": 0, "failed": 0}


def test_remove_participant_drops_the_person_and_their_marks(uow_factory) -> None:
    """Issue #5: a reassigned manufacturer leaves the order's thread at once."""
    from caratzon_core.messaging import ReadMarker, Thread, ThreadKind

    with uow_factory() as uow:
        thread = Thread(id="t-remove", kind=ThreadKind.SUPPORT, title="T", created_by=BUYER, created_at=T0,
                        participants=frozenset({BUYER, DESIGNER}))
        uow.threads.add(thread)
        uow.threads.mark_read(ReadMarker(thread.id, DESIGNER, T0))
        uow.threads.remove_participant(thread.id, DESIGNER)
        uow.threads.remove_participant(thread.id, DESIGNER)  # idempotent
        uow.commit()
    with uow_factory() as uow:
        assert uow.threads.get(thread.id).participants == frozenset({BUYER})
        assert uow.threads.read_marker(thread.id, DESIGNER) is None
        assert uow.threads.list_for_user(DESIGNER) == []


def test_outbox_add_many_inserts_a_batch_and_skips_known_keys(uow_factory: UnitOfWorkFactory) -> None:
    """Issue #6 part 5: a material policy change queues its notices 1,000 per statement."""
    with uow_factory() as uow:
        assert uow.outbox.add(make_outbox(1, key="policy_changed:v2:u1")) is True
        uow.commit()
    batch = [make_outbox(n, key=f"policy_changed:v2:u{n - 1}") for n in range(2, 6)]  # u1 is known already
    batch.append(make_outbox(6, key="policy_changed:v2:u3"))  # twice in the same batch
    with uow_factory() as uow:
        assert uow.outbox.add_many([]) == 0
        assert uow.outbox.add_many(batch) == 3
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.get("out-0002") is None  # its key was taken
        assert uow.outbox.get("out-0003") == batch[1]
        assert uow.outbox.get("out-0006") is None
        assert uow.outbox.counts() == {"pending": 4, "sent": 0, "failed": 0}
        assert uow.outbox.add_many(batch) == 0  # all known now


def test_outbox_add_many_rolls_back_with_its_transaction(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.outbox.add_many([make_outbox(n, key=f"k{n}") for n in range(1, 1001)]) == 1000
    with uow_factory() as uow:
        assert uow.outbox.counts() == {"pending": 0, "sent": 0, "failed": 0}
