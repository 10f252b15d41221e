"""Contracts of the issue #5 repositories (manufacturers, orders, the order ledger,
price tables, payment instructions), run against the in-memory fake and the SQL
adapter on SQLite and PostgreSQL. The fake is the reference: what the unit tests
learn from it must hold for the real database too. Races that only the database
can settle are in tests/integration/test_sql_order_concurrency.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest

from caratzon_core.accounts import Language, Role, User, UserStatus
from caratzon_core.agreements import Agreement, AgreementStatus
from caratzon_core.designs import Category, Design, DesignStatus, Dimensions
from caratzon_core.errors import Conflict, NotFound
from caratzon_core.ledger import EntryKind, JournalEntry, LedgerLine, balances, payout_entry, reverse
from caratzon_core.licence_options import LicenceOption, OptionStatus
from caratzon_core.licensing import Exclusivity, Fees, LicenceTerms, Term, Territory, Use, terms_hash
from caratzon_core.manufacturers import (
    NEW_PARTNER,
    CompletedJob,
    LabourPrice,
    Manufacturer,
    PartnerScore,
    Process,
    Vetting,
)
from caratzon_core.money import Money
from caratzon_core.negotiation import Negotiation, NegotiationStatus, Offer, Party
from caratzon_core.orders import (
    OPEN_STATUSES,
    Brief,
    Finish,
    Order,
    OrderStatus,
    Setting,
    Shipment,
    Size,
    SizeSystem,
    StoneLine,
)
from caratzon_core.payments import InstructionKind, InstructionStatus, PaymentInstruction, done, failed
from caratzon_core.ports import UnitOfWork, UnitOfWorkFactory
from caratzon_core.quote import DEFAULT_PRICES, PriceTable, Quote, QuoteLine

T0 = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)
PLUS_0800 = timezone(timedelta(hours=8))
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

DESIGNER, BUYER, OTHER_BUYER, ADMIN = "user-0001", "user-0002", "user-0003", "user-0009"
MAKER_A, MAKER_B, MAKER_C = "user-0101", "user-0102", "user-0103"
DESIGN = "design-0001"
AGREEMENT, OTHER_AGREEMENT = "agreement-0001", "agreement-0002"


# -- seeds ----------------------------------------------------------------------------


def make_user(user_id: str, role: Role = Role.BUYER) -> User:
    return User(id=user_id, email=f"{user_id}@example.com", name=f"Person {user_id}", role=role,
                password_hash="fake$salt$hash", language=Language.EN, status=UserStatus.ACTIVE,
                business_name=None, business_address=None, age_confirmed_at=T0, created_at=T0, updated_at=T0)


TERMS = LicenceTerms(use=Use.MANUFACTURING, exclusivity=Exclusivity.NON_EXCLUSIVE, territory=Territory.world(),
                     term=Term(date(2027, 1, 1), 12), fees=Fees(flat=Money(250_000, "USD")))


def seed_agreement(uow: UnitOfWork, n: int) -> None:
    neg_id = f"neg-{n:04d}"
    offer = Offer(id=f"{neg_id}.1", by=Party.BUYER, terms=TERMS, made_at=T0, expires_at=T0 + 7 * DAY)
    uow.negotiations.add(Negotiation(id=neg_id, design_id=DESIGN, option_id="option-0001", buyer_id=BUYER,
                                     designer_id=DESIGNER, status=NegotiationStatus.ACCEPTED, offers=(offer,),
                                     accepted_offer_id=offer.id, closed_at=T0))
    uow.agreements.add(Agreement(id=f"agreement-{n:04d}", negotiation_id=neg_id, design_id=DESIGN,
                                 designer_id=DESIGNER, buyer_id=BUYER, terms=TERMS, terms_hash=terms_hash(TERMS),
                                 effective_date=TERMS.term.start, end_date=TERMS.term.end,
                                 status=AgreementStatus.ACTIVE, created_at=T0))


@pytest.fixture
def uow_factory(uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    """The parametrised backend with the people, the design and the agreements every
    test refers to (the SQL schema's foreign keys need them)."""
    with uow_factory() as uow:
        uow.users.add(make_user(DESIGNER, Role.DESIGNER))
        for user_id in (BUYER, OTHER_BUYER):
            uow.users.add(make_user(user_id))
        uow.users.add(make_user(ADMIN, Role.ADMIN))
        for user_id in (MAKER_A, MAKER_B, MAKER_C):
            uow.users.add(make_user(user_id, Role.MANUFACTURER))
        uow.designs.add(Design(id=DESIGN, designer_id=DESIGNER, title="Ring", description="A ring.",
                               category=Category.RING, metals=("18k_yellow",), gemstones=(),
                               dimensions=Dimensions(), tags=(), price_guidance=None,
                               status=DesignStatus.PUBLISHED, created_at=T0, updated_at=T0, published_at=T0))
        uow.licence_options.add(LicenceOption(id="option-0001", design_id=DESIGN, designer_id=DESIGNER,
                                              name="Production", terms=TERMS, status=OptionStatus.ACTIVE,
                                              created_at=T0))
        seed_agreement(uow, 1)
        seed_agreement(uow, 2)
        uow.commit()
    return uow_factory


# -- builders -------------------------------------------------------------------------

# Scales kept on purpose: a stored Decimal must come back with the same digits.
FULL_SCORE = PartnerScore(jobs=14, on_time_rate=Decimal("0.8571"), qc_failure_rate=Decimal("0.0700"),
                          responsiveness_hours=Decimal("13.50"), rating=Decimal("0.8000"),
                          computed_at=(T0 + DAY).astimezone(PLUS_0800))
PROBATION_SCORE = PartnerScore(jobs=3, on_time_rate=Decimal("1.0000"), qc_failure_rate=Decimal("0.0000"),
                               responsiveness_hours=Decimal("0.02"), rating=None, computed_at=T0)


def make_manufacturer(user_id: str = MAKER_A, name: str = "Atelier Lumière", **changes: object) -> Manufacturer:
    m = Manufacturer(
        user_id=user_id,
        name=name,
        processes=frozenset({Process.LOST_WAX_CASTING, Process.STONE_SETTING_PRONG}),
        metals=frozenset({"18k_yellow", "platinum_950"}),
        min_quantity=1,
        max_quantity=500,
        weekly_capacity=120,
        current_load=0,
        lead_time_days=21,
        ships_to=frozenset({"HK", "SG", "US"}),
        labour=LabourPrice(per_piece=Money(9000, "USD"), per_stone=Money(800, "USD")),
    )
    return attrs.evolve(m, **changes)  # type: ignore[arg-type]


FULL_MANUFACTURER = make_manufacturer(
    MAKER_B,
    "深圳 “金匠” Workshop — Ünïcode",
    processes=frozenset(Process),
    metals=frozenset({"18k_white", "18k_rose", "sterling_silver", "14k_yellow"}),
    min_quantity=5,
    max_quantity=100_000,
    weekly_capacity=2500,
    current_load=740,
    lead_time_days=365,
    ships_to=frozenset({"CN", "HK", "GB", "DE", "JP"}),
    labour=LabourPrice(per_piece=Money(123_456, "JPY"), per_stone=Money(0, "JPY")),
    vetting=Vetting.VETTED,
    vetted_by=ADMIN,
    vetted_at=T0.astimezone(PLUS_0800),
    nda_signed_on=date(2026, 11, 30),
    nda_expires_on=date(2028, 2, 29),
    score=FULL_SCORE,
    updated_at=T0 + timedelta(microseconds=1),
)

FULL_BRIEF = Brief(
    alloy="platinum_950",
    quantity=12,
    ship_to="HK",
    wanted_by=date(2027, 3, 31),
    size=Size(SizeSystem.UK, "O 1/2"),
    stones=(StoneLine("diamond", Decimal("0.250"), 1, Setting.PRONG),
            StoneLine("sapphire", Decimal("0.015"), 24, Setting.PAVE),
            StoneLine("ruby", Decimal("1E+1"), 2, Setting.BEZEL)),
    engraving="永远 — “A & B”",
    finish=Finish.RHODIUM_PLATED,
    notes="Line one.\nLine two: 'quotes' and \"double\" and \\ backslash.",
)


def make_brief(quantity: int = 10, **changes: object) -> Brief:
    brief = Brief(alloy="18k_yellow", quantity=quantity, ship_to="SG", wanted_by=date(2027, 2, 1))
    return attrs.evolve(brief, **changes)  # type: ignore[arg-type]


def make_order(n: int, status: OrderStatus = OrderStatus.SUBMITTED, *, at: datetime = T0,
               quantity: int = 10, agreement: str = AGREEMENT, **changes: object) -> Order:
    order = Order(
        id=f"order-{n:04d}",
        buyer_id=BUYER,
        design_id=DESIGN,
        designer_id=DESIGNER,
        agreement_id=agreement,
        brief=make_brief(quantity),
        status=status,
        created_at=at,
        updated_at=at,
        submitted_at=None if status is OrderStatus.DRAFT else at,
    )
    return attrs.evolve(order, **changes)  # type: ignore[arg-type]


def _usd(n: int) -> Money:
    return Money(n, "USD")


FULL_QUOTE = Quote(
    currency="USD", quantity=3,
    lines=(QuoteLine("metal", "Metal", _usd(134_144), _usd(402_432), "15.580 g net \u00d7 USD 82.00/g \u00d7 (1 + 0.05)"),
           QuoteLine("labour", "Labour", _usd(9_000), _usd(27_000), "per piece"),
           QuoteLine("stones", "Stones and setting", _usd(0), _usd(0), "no stones — ünïcode"),
           QuoteLine("licence_royalty", "Licence royalty", _usd(400), _usd(1_200), "per piece")),
    subtotal=_usd(430_632), platform_fee=_usd(34_451), platform_fee_rate=Decimal("0.08"), total=_usd(465_083),
    net_grams_per_piece=Decimal("15.580"), prices_effective=date(2026, 11, 1),
)

FULL_ORDER = Order(
    id="order-full",
    buyer_id=BUYER,
    design_id=DESIGN,
    designer_id=DESIGNER,
    agreement_id=AGREEMENT,
    brief=FULL_BRIEF,
    quote=FULL_QUOTE,
    status=OrderStatus.SHIPPED,
    created_at=T0,
    updated_at=(T0 + 9 * DAY).astimezone(PLUS_0800),
    submitted_at=T0 + HOUR,
    manufacturer_id=MAKER_A,
    offered_at=T0 + 2 * HOUR,
    offer_expires_at=T0 + 50 * HOUR,
    accepted_at=T0 + 3 * HOUR,
    declined_by=frozenset({MAKER_C, MAKER_B}),
    qc_failures=2,
    qc_passed_at=T0 + 8 * DAY,
    shipment=Shipment("DHL Express", "JD0146 “ü”", (T0 + 9 * DAY).astimezone(PLUS_0800)),
    delivered_at=None,
    closed_at=None,
    reason="QC: prong lifted on piece 7",
)


def entry(n: int, order_id: str, kind: EntryKind, lines: tuple[LedgerLine, ...], *, at: datetime = T0,
          key: str | None = None, buyer: str | None = BUYER, currency: str = "USD") -> JournalEntry:
    return JournalEntry(id=f"entry-{n:04d}", order_id=order_id, kind=kind, currency=currency,
                        idempotency_key=key or f"order:{order_id}:{kind.value}", lines=lines, at=at,
                        buyer_id=buyer)


def charge(n: int, order_id: str, *, at: datetime = T0, key: str | None = None) -> JournalEntry:
    return entry(n, order_id, EntryKind.CHARGE, (
        LedgerLine("clearing", 108_000, 0),
        LedgerLine(f"payable:manufacturer:{MAKER_A}", 0, 80_000),
        LedgerLine(f"payable:designer:{DESIGNER}", 0, 20_000),
        LedgerLine("revenue:platform_fee", 0, 8000),
    ), at=at, key=key)


def instruction(n: int, order_id: str = "order-0001", *, at: datetime = T0, key: str | None = None,
                **changes: object) -> PaymentInstruction:
    made = PaymentInstruction(id=f"pay-{n:04d}", order_id=order_id, kind=InstructionKind.CHARGE,
                              amount=Money(108_000, "USD"), party_id=BUYER,
                              idempotency_key=key or f"order:{order_id}:charge:{n}", created_at=at)
    return attrs.evolve(made, **changes)  # type: ignore[arg-type]


def seed_orders(uow: UnitOfWork, *orders: Order) -> None:
    for order in orders:
        uow.orders.add(order)


# -- manufacturers --------------------------------------------------------------------


def test_manufacturer_round_trips_with_every_field(uow_factory: UnitOfWorkFactory) -> None:
    minimal = make_manufacturer(MAKER_A)
    probation = make_manufacturer(MAKER_C, "Probation", score=PROBATION_SCORE, vetting=Vetting.SUSPENDED,
                                  vetted_by="cli:ops", vetted_at=T0)
    with uow_factory() as uow:
        for m in (FULL_MANUFACTURER, minimal, probation):
            uow.manufacturers.add(m)
        uow.commit()
    with uow_factory() as uow:
        full = uow.manufacturers.get(MAKER_B)
        assert full == FULL_MANUFACTURER
        assert uow.manufacturers.get(MAKER_A) == minimal
        assert uow.manufacturers.get(MAKER_C) == probation
        assert uow.manufacturers.get(DESIGNER) is None
    # exact digits, not just equal values; aware UTC datetimes
    assert full is not None and full.score.rating is not None and full.score.responsiveness_hours is not None
    assert str(full.score.rating) == "0.8000" and str(full.score.responsiveness_hours) == "13.50"
    assert full.score.computed_at == FULL_SCORE.computed_at and full.vetted_at == T0
    assert full.score.on_probation is False and full.labour.per_piece == Money(123_456, "JPY")


def test_manufacturer_add_update_and_their_errors(uow_factory: UnitOfWorkFactory) -> None:
    m = make_manufacturer()
    with uow_factory() as uow:
        uow.manufacturers.add(m)
        with pytest.raises(Conflict):
            uow.manufacturers.add(make_manufacturer(name="Same user"))
        with pytest.raises(NotFound):
            uow.manufacturers.update(make_manufacturer(MAKER_C))
        uow.manufacturers.add(make_manufacturer(MAKER_B, "Second"))  # the transaction is still usable
        uow.commit()
    changed = attrs.evolve(FULL_MANUFACTURER, user_id=m.user_id, name="Renamed")
    with uow_factory() as uow:
        uow.manufacturers.update(changed)
        uow.commit()
    with uow_factory() as uow:
        # Everything but the score changed: only set_scores writes scores (see the port).
        assert uow.manufacturers.get(m.user_id) == attrs.evolve(changed, score=m.score)
        assert uow.manufacturers.get(MAKER_B) == make_manufacturer(MAKER_B, "Second")
        assert uow.manufacturers.get(MAKER_C) is None
        assert uow.manufacturers.set_scores({m.user_id: FULL_MANUFACTURER.score}) == 1
        uow.manufacturers.update(m)  # back to no vetting; the stored score stays
        uow.commit()
    with uow_factory() as uow:
        assert uow.manufacturers.get(m.user_id) == attrs.evolve(m, score=FULL_MANUFACTURER.score)


def test_manufacturers_list_by_name_in_code_point_order_then_id(uow_factory: UnitOfWorkFactory) -> None:
    # code point order: upper case before lower case before accented letters
    with uow_factory() as uow:
        uow.users.add(make_user("user-0100", Role.MANUFACTURER))
        uow.manufacturers.add(make_manufacturer(MAKER_A, "alpha", vetting=Vetting.VETTED))
        uow.manufacturers.add(make_manufacturer(MAKER_B, "Émile"))
        uow.manufacturers.add(make_manufacturer(MAKER_C, "Zebra", vetting=Vetting.VETTED))
        uow.manufacturers.add(make_manufacturer("user-0100", "alpha", vetting=Vetting.SUSPENDED))
        uow.commit()
    with uow_factory() as uow:
        listed = uow.manufacturers.list()
        assert [(m.name, m.user_id) for m in listed] == [
            ("Zebra", MAKER_C), ("alpha", "user-0100"), ("alpha", MAKER_A), ("Émile", MAKER_B)]
        assert listed[2] == make_manufacturer(MAKER_A, "alpha", vetting=Vetting.VETTED)
        assert [m.user_id for m in uow.manufacturers.list(vetting=Vetting.VETTED)] == [MAKER_C, MAKER_A]
        assert [m.user_id for m in uow.manufacturers.list(vetting=Vetting.PENDING)] == [MAKER_B]
        assert [m.user_id for m in uow.manufacturers.list(limit=2)] == [MAKER_C, "user-0100"]
        assert [m.user_id for m in uow.manufacturers.list(vetting=Vetting.VETTED, limit=1)] == [MAKER_C]


def test_set_scores_stores_the_changed_ones_and_counts_them(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.manufacturers.add(make_manufacturer(MAKER_A, "A"))
        uow.manufacturers.add(make_manufacturer(MAKER_B, "B", score=FULL_SCORE))
        uow.manufacturers.add(make_manufacturer(MAKER_C, "C", score=PROBATION_SCORE))
        assert uow.manufacturers.set_scores({}) == 0
        uow.commit()
    same_value_other_scale = attrs.evolve(FULL_SCORE, rating=Decimal("0.80"))  # equal: not a change
    with uow_factory() as uow:
        changed = uow.manufacturers.set_scores({
            MAKER_A: FULL_SCORE,
            MAKER_B: same_value_other_scale,
            MAKER_C: NEW_PARTNER,
            "user-9999": FULL_SCORE,  # no such manufacturer: ignored
        })
        assert changed == 2
        uow.commit()
    with uow_factory() as uow:
        assert uow.manufacturers.get(MAKER_A) == make_manufacturer(MAKER_A, "A", score=FULL_SCORE)
        assert uow.manufacturers.get(MAKER_B) == make_manufacturer(MAKER_B, "B", score=FULL_SCORE)
        assert uow.manufacturers.get(MAKER_C) == make_manufacturer(MAKER_C, "C")
        assert uow.manufacturers.get("user-9999") is None
        assert uow.manufacturers.set_scores({MAKER_A: FULL_SCORE, MAKER_C: NEW_PARTNER}) == 0  # nothing new
        later = attrs.evolve(FULL_SCORE, computed_at=T0 + 2 * DAY)
        assert uow.manufacturers.set_scores({MAKER_A: later}) == 1  # a new computation time is a change
        uow.commit()
    with uow_factory() as uow:
        stored = uow.manufacturers.get(MAKER_A)
        assert stored is not None and stored.score == later and stored.name == "A"


# -- orders ---------------------------------------------------------------------------


def test_order_round_trips_with_a_full_brief(uow_factory: UnitOfWorkFactory) -> None:
    draft = make_order(1, OrderStatus.DRAFT)
    delivered = attrs.evolve(FULL_ORDER, id="order-delivered", status=OrderStatus.COMPLETED, brief=make_brief(1),
                             delivered_at=T0 + 12 * DAY, closed_at=T0 + 13 * DAY, declined_by=frozenset(),
                             reason=None, agreement_id=OTHER_AGREEMENT)
    with uow_factory() as uow:
        seed_orders(uow, FULL_ORDER, draft, delivered)
        uow.commit()
    with uow_factory() as uow:
        assert uow.orders.get(FULL_ORDER.id) == FULL_ORDER
        assert uow.orders.get_for_update(FULL_ORDER.id) == FULL_ORDER
        assert uow.orders.get(draft.id) == draft
        assert uow.orders.get(delivered.id) == delivered
        assert uow.orders.get("order-9999") is None
        assert uow.orders.get_for_update("order-9999") is None
        stored = uow.orders.get(FULL_ORDER.id)
    assert stored is not None
    assert [str(s.carat) for s in stored.brief.stones] == ["0.250", "0.015", "1E+1"]
    assert stored.brief.processes() == FULL_BRIEF.processes()


def test_order_add_update_and_their_errors(uow_factory: UnitOfWorkFactory) -> None:
    order = make_order(1, OrderStatus.DRAFT)
    with uow_factory() as uow:
        uow.orders.add(order)
        with pytest.raises(Conflict):
            uow.orders.add(make_order(1))
        with pytest.raises(NotFound):
            uow.orders.update(make_order(2))
        uow.orders.add(make_order(3))  # the transaction is still usable
        uow.commit()
    routed = attrs.evolve(order, status=OrderStatus.ROUTED, submitted_at=T0 + HOUR, manufacturer_id=MAKER_A,
                          offered_at=T0 + 2 * HOUR, offer_expires_at=T0 + 50 * HOUR, updated_at=T0 + 2 * HOUR,
                          brief=FULL_BRIEF, declined_by=frozenset({MAKER_B}))
    with uow_factory() as uow:
        current = uow.orders.get_for_update(order.id)
        assert current == order
        uow.orders.update(routed)
        uow.commit()
    with uow_factory() as uow:
        assert uow.orders.get(order.id) == routed
        assert uow.orders.get("order-0002") is None
        assert uow.orders.get("order-0003") == make_order(3)


def test_orders_for_a_party_latest_change_first(uow_factory: UnitOfWorkFactory) -> None:
    orders = [
        make_order(1, at=T0),
        make_order(2, at=T0 + 2 * HOUR, manufacturer_id=MAKER_A, status=OrderStatus.ACCEPTED),
        make_order(3, at=T0 + HOUR),
        make_order(4, at=T0 + HOUR),  # ties on the time: the higher id first
        make_order(5, at=T0 + 3 * HOUR, buyer_id=OTHER_BUYER, declined_by=frozenset({MAKER_A})),
        make_order(6, at=T0 - HOUR, buyer_id=OTHER_BUYER, manufacturer_id=MAKER_B, status=OrderStatus.ROUTED),
    ]
    with uow_factory() as uow:
        seed_orders(uow, *orders)
        uow.commit()
    with uow_factory() as uow:
        mine = uow.orders.list_for_party(BUYER)
        assert [o.id for o in mine] == ["order-0002", "order-0004", "order-0003", "order-0001"]
        assert mine[0] == orders[1]
        assert [o.id for o in uow.orders.list_for_party(BUYER, limit=2)] == ["order-0002", "order-0004"]
        assert [o.id for o in uow.orders.list_for_party(DESIGNER)] == [
            "order-0005", "order-0002", "order-0004", "order-0003", "order-0001", "order-0006"]
        assert [o.id for o in uow.orders.list_for_party(MAKER_A)] == ["order-0002"]  # declining is no part
        assert uow.orders.list_for_party(MAKER_B) == [orders[5]]
        assert [o.id for o in uow.orders.list_for_party(OTHER_BUYER)] == ["order-0005", "order-0006"]
        assert uow.orders.list_for_party(ADMIN) == []


def test_orders_by_status_oldest_submission_first(uow_factory: UnitOfWorkFactory) -> None:
    orders = [
        make_order(1, at=T0 + 2 * HOUR),
        make_order(2, OrderStatus.ROUTED, at=T0, submitted_at=T0 + 3 * HOUR, manufacturer_id=MAKER_A),
        make_order(3, OrderStatus.DRAFT, at=T0 + HOUR),  # never submitted: by its creation
        make_order(4, at=T0 + HOUR),
        make_order(5, OrderStatus.CANCELLED, at=T0),
        make_order(6, at=T0 + HOUR),
    ]
    with uow_factory() as uow:
        seed_orders(uow, *orders)
        uow.commit()
    with uow_factory() as uow:
        board = uow.orders.list_by_status(frozenset({OrderStatus.SUBMITTED, OrderStatus.ROUTED}))
        assert [o.id for o in board] == ["order-0004", "order-0006", "order-0001", "order-0002"]
        assert board[3] == orders[1]
        assert [o.id for o in uow.orders.list_by_status(OPEN_STATUSES)] == [
            "order-0003", "order-0004", "order-0006", "order-0001", "order-0002"]
        assert [o.id for o in uow.orders.list_by_status(OPEN_STATUSES, limit=2)] == ["order-0003", "order-0004"]
        assert [o.id for o in uow.orders.list_by_status(frozenset({OrderStatus.CANCELLED}))] == ["order-0005"]
        assert uow.orders.list_by_status(frozenset({OrderStatus.DISPUTED})) == []
        assert uow.orders.list_by_status(frozenset()) == []


def test_units_ordered_counts_pieces_under_the_agreement(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.orders.units_ordered(AGREEMENT) == 0
        seed_orders(
            uow,
            make_order(1, quantity=10),
            make_order(2, OrderStatus.COMPLETED, quantity=7),
            make_order(3, OrderStatus.DRAFT, quantity=1000),  # not counted
            make_order(4, OrderStatus.CANCELLED, quantity=500),  # not counted
            make_order(5, OrderStatus.DISPUTED, quantity=3),
            make_order(6, quantity=99, agreement=OTHER_AGREEMENT),
        )
        assert uow.orders.units_ordered(AGREEMENT) == 20  # within the transaction
        uow.commit()
    with uow_factory() as uow:
        assert uow.orders.units_ordered(AGREEMENT) == 20
        assert uow.orders.units_ordered(OTHER_AGREEMENT) == 99
        assert uow.orders.units_ordered("agreement-9999") == 0


def test_lapsed_offers_are_routed_orders_whose_offer_ran_out(uow_factory: UnitOfWorkFactory) -> None:
    now = T0 + 3 * DAY

    def routed(n: int, expires: datetime | None, status: OrderStatus = OrderStatus.ROUTED) -> Order:
        return make_order(n, status, manufacturer_id=MAKER_A, offered_at=T0, offer_expires_at=expires)

    with uow_factory() as uow:
        seed_orders(
            uow,
            routed(3, now),  # exactly now: lapsed
            routed(1, T0 + DAY),
            routed(2, now + timedelta(microseconds=1)),  # one microsecond left
            routed(4, now.astimezone(PLUS_0800) - HOUR),
            routed(5, T0, OrderStatus.ACCEPTED),  # answered in time
            routed(6, None),
        )
        uow.commit()
    with uow_factory() as uow:
        assert uow.orders.lapsed_offers(now) == ["order-0001", "order-0003", "order-0004"]
        assert uow.orders.lapsed_offers(now, limit=2) == ["order-0001", "order-0003"]
        assert uow.orders.lapsed_offers(T0) == []


def test_open_load_sums_pieces_in_production_per_manufacturer(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.orders.open_load() == {}
        seed_orders(
            uow,
            make_order(1, OrderStatus.ACCEPTED, quantity=10, manufacturer_id=MAKER_A),
            make_order(2, OrderStatus.IN_PRODUCTION, quantity=5, manufacturer_id=MAKER_A),
            make_order(3, OrderStatus.QUALITY_CHECK, quantity=7, manufacturer_id=MAKER_B),
            make_order(4, OrderStatus.ROUTED, quantity=100, manufacturer_id=MAKER_A),  # offered, not taken
            make_order(5, OrderStatus.SHIPPED, quantity=100, manufacturer_id=MAKER_B),  # out of the workshop
            make_order(6, OrderStatus.CANCELLED, quantity=100, manufacturer_id=MAKER_C),
        )
        uow.commit()
    with uow_factory() as uow:
        assert uow.orders.open_load() == {MAKER_A: 15, MAKER_B: 7}


def test_completed_jobs_in_the_window(uow_factory: UnitOfWorkFactory) -> None:
    since = T0 + 10 * DAY

    def job(n: int, maker: str, accepted: datetime, **changes: object) -> Order:
        fields: dict[str, object] = {"status": OrderStatus.COMPLETED, "manufacturer_id": maker,
                                     "offered_at": accepted - 5 * HOUR, "accepted_at": accepted}
        return make_order(n, **{**fields, **changes})  # type: ignore[arg-type]

    delivered_late = T0 + 60 * DAY + 23 * HOUR  # 23:00 UTC: the UTC date counts
    with uow_factory() as uow:
        seed_orders(
            uow,
            job(3, MAKER_A, since, delivered_at=T0 + 20 * DAY),  # exactly at the window's start
            job(1, MAKER_A, since + DAY, delivered_at=delivered_late, brief=FULL_BRIEF),
            job(2, MAKER_B, since + DAY, status=OrderStatus.IN_PRODUCTION, qc_failures=1),  # failed QC
            job(4, MAKER_A, since - timedelta(microseconds=1), delivered_at=T0 + 20 * DAY),  # before the window
            job(5, MAKER_B, since + DAY, status=OrderStatus.IN_PRODUCTION),  # neither delivered nor failed
            job(6, MAKER_C, since + DAY, offered_at=None, delivered_at=T0 + 20 * DAY),  # never offered
            make_order(7, OrderStatus.SUBMITTED, accepted_at=since + DAY, offered_at=since,
                       delivered_at=T0 + 20 * DAY),  # no manufacturer
        )
        uow.commit()
    with uow_factory() as uow:
        jobs = uow.orders.completed_jobs(since)
    assert jobs == {
        MAKER_A: [
            CompletedJob(accepted_at=since + DAY, offered_at=since + DAY - 5 * HOUR, due=date(2027, 3, 31),
                         delivered_on=delivered_late.date(), qc_failed=False),
            CompletedJob(accepted_at=since, offered_at=since - 5 * HOUR, due=date(2027, 2, 1),
                         delivered_on=(T0 + 20 * DAY).date(), qc_failed=False),
        ],
        MAKER_B: [CompletedJob(accepted_at=since + DAY, offered_at=since + DAY - 5 * HOUR, due=date(2027, 2, 1),
                               delivered_on=None, qc_failed=True)],
    }


# -- the ledger -----------------------------------------------------------------------


def test_ledger_round_trips_entries_with_their_lines_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    the_charge = charge(2, "order-0001", at=T0 + HOUR)
    refund = reverse("entry-0003", the_charge, EntryKind.REFUND, (T0 + 2 * HOUR).astimezone(PLUS_0800))
    tie = charge(1, "order-0002", at=T0 + HOUR)
    jpy = entry(4, "order-0002", EntryKind.PAYOUT, (LedgerLine("payable:designer:x", 5, 0),
                                                     LedgerLine("clearing", 0, 5)),
                at=T0 + HOUR, buyer=None, currency="JPY")
    with uow_factory() as uow:
        seed_orders(uow, make_order(1), make_order(2))
        for e in (refund, the_charge, jpy, tie):
            uow.ledger.add(e)
        uow.commit()
    with uow_factory() as uow:
        assert uow.ledger.for_order("order-0001") == [the_charge, refund]
        assert uow.ledger.for_order("order-0002") == [tie, jpy]  # same time: by id
        assert uow.ledger.for_order("order-9999") == []
        assert uow.ledger.for_order("order-0001")[1].lines == refund.lines  # in their order


def test_ledger_balances_are_debit_positive_per_account(uow_factory: UnitOfWorkFactory) -> None:
    the_charge = charge(1, "order-0001")
    with uow_factory() as uow:
        seed_orders(uow, make_order(1), make_order(2))
        assert uow.ledger.balances_for_order("order-0001") == {}
        uow.ledger.add(the_charge)
        uow.ledger.add(charge(9, "order-0002"))  # another order's entries never count
        assert uow.ledger.balances_for_order("order-0001") == balances([the_charge])
        uow.commit()
    with uow_factory() as uow:
        charged = uow.ledger.balances_for_order("order-0001")
        assert charged == {"clearing": 108_000, f"payable:manufacturer:{MAKER_A}": -80_000,
                           f"payable:designer:{DESIGNER}": -20_000, "revenue:platform_fee": -8000}
        payables = {k: v for k, v in charged.items() if k.startswith("payable:")}
        uow.ledger.add(payout_entry("entry-0002", "order-0001", "USD", payables, T0 + DAY))
        uow.commit()
    with uow_factory() as uow:
        settled = uow.ledger.balances_for_order("order-0001")
        assert settled == {"clearing": 8000, f"payable:manufacturer:{MAKER_A}": 0,
                           f"payable:designer:{DESIGNER}": 0, "revenue:platform_fee": -8000}
        assert sum(settled.values()) == 0  # every order's ledger balances
        assert settled == balances(uow.ledger.for_order("order-0001"))


def test_a_duplicate_ledger_key_is_a_conflict_that_leaves_the_transaction_usable(
    uow_factory: UnitOfWorkFactory,
) -> None:
    first = charge(1, "order-0001")
    again = attrs.evolve(charge(2, "order-0001"), lines=(LedgerLine("clearing", 1, 0), LedgerLine("other", 0, 1)))
    with uow_factory() as uow:
        seed_orders(uow, make_order(1))
        uow.ledger.add(first)
        with pytest.raises(Conflict) as refused:
            uow.ledger.add(again)  # the same idempotency key, another id
        assert refused.value.field == "idempotency_key"
        refund = reverse("entry-0003", first, EntryKind.REFUND, T0 + HOUR)
        uow.ledger.add(refund)  # still usable
        uow.commit()
    with uow_factory() as uow:
        assert uow.ledger.for_order("order-0001") == [first, refund]  # nothing of the refused entry
        assert "other" not in uow.ledger.balances_for_order("order-0001")
        with pytest.raises(Conflict):
            uow.ledger.add(charge(4, "order-0001"))  # committed earlier
        uow.ledger.add(charge(5, "order-0001", key="order:order-0001:charge:retry"))
        uow.commit()
    with uow_factory() as uow:
        assert [e.id for e in uow.ledger.for_order("order-0001")] == ["entry-0001", "entry-0005", "entry-0003"]


# -- prices ---------------------------------------------------------------------------


def test_price_tables_by_effective_date(uow_factory: UnitOfWorkFactory) -> None:
    hkd = PriceTable(currency="HKD", effective=date(2027, 1, 1), metal_per_gram={"18k_yellow": 64_000},
                     stone_per_carat={}, setting_per_stone=0, labour_per_piece=70_000,
                     casting_loss=Decimal("0.050"), platform_fee_rate=Decimal("0.1250"))
    with uow_factory() as uow:
        assert uow.prices.current(date(2030, 1, 1)) is None
        uow.prices.add(DEFAULT_PRICES)
        uow.prices.add(hkd)
        uow.commit()
    with uow_factory() as uow:
        assert uow.prices.current(DEFAULT_PRICES.effective - DAY) is None
        assert uow.prices.current(DEFAULT_PRICES.effective) == DEFAULT_PRICES
        assert uow.prices.current(date(2026, 12, 31)) == DEFAULT_PRICES
        current = uow.prices.current(date(2027, 1, 1))
        assert current == hkd
        assert uow.prices.current(date(2099, 1, 1)) == hkd
    assert current is not None and str(current.casting_loss) == "0.050" and str(current.platform_fee_rate) == "0.1250"
    assert dict(current.metal_per_gram) == {"18k_yellow": 64_000} and dict(current.stone_per_carat) == {}
    replaced = attrs.evolve(DEFAULT_PRICES, labour_per_piece=9500, metal_per_gram={"platinum_950": 4000})
    with uow_factory() as uow:
        uow.prices.add(replaced)  # the same effective date: replaces
        uow.commit()
    with uow_factory() as uow:
        assert uow.prices.current(date(2026, 12, 31)) == replaced
        assert dict(replaced.metal_per_gram) == {"platinum_950": 4000}


# -- payment instructions -------------------------------------------------------------


def test_payment_instructions_deduplicate_by_key(uow_factory: UnitOfWorkFactory) -> None:
    transfer = instruction(1, kind=InstructionKind.TRANSFER, party_id=MAKER_A, amount=Money(80_000, "HKD"),
                           created_at=T0.astimezone(PLUS_0800))
    with uow_factory() as uow:
        seed_orders(uow, make_order(1), make_order(2))
        assert uow.payments.add(transfer) is True
        assert uow.payments.add(instruction(2, key=transfer.idempotency_key)) is False  # same key: a no-op
        assert uow.payments.add(instruction(3, "order-0002")) is True  # the transaction goes on
        uow.commit()
    with uow_factory() as uow:
        assert uow.payments.for_order("order-0001") == [transfer]
        assert uow.payments.for_order("order-0002") == [instruction(3, "order-0002")]
        assert uow.payments.add(instruction(4, key=transfer.idempotency_key)) is False  # committed earlier
        assert uow.payments.for_order("order-9999") == []


def test_payment_instruction_update_and_order(uow_factory: UnitOfWorkFactory) -> None:
    rows = [instruction(2, at=T0 + HOUR), instruction(1, at=T0 + HOUR), instruction(3, at=T0)]
    with uow_factory() as uow:
        seed_orders(uow, make_order(1))
        for row in rows:
            uow.payments.add(row)
        uow.commit()
    made = done(rows[0], "ch_3Qx…")
    retry = failed(rows[1], "gateway 503\nsecond line", T0 + 2 * HOUR)
    gave_up = attrs.evolve(rows[2], status=InstructionStatus.FAILED, attempts=8, last_error="x" * 500)
    with uow_factory() as uow:
        for changed in (made, retry, gave_up):
            uow.payments.update(changed)
        with pytest.raises(NotFound):
            uow.payments.update(instruction(9))
        uow.commit()
    with uow_factory() as uow:
        assert uow.payments.for_order("order-0001") == [gave_up, retry, made]  # created_at, then id
        assert retry.next_attempt_at is not None and retry.attempts == 1


def test_claim_due_skips_what_is_not_due_and_respects_the_lease(uow_factory: UnitOfWorkFactory) -> None:
    now = T0 + HOUR
    lease = now + timedelta(minutes=5)
    rows = [
        instruction(1, at=T0 + timedelta(seconds=3)),  # due: never tried
        instruction(2, at=T0 + timedelta(seconds=1), next_attempt_at=now),  # due exactly now
        instruction(3, at=T0, next_attempt_at=now + timedelta(microseconds=1)),  # not yet
        instruction(4, at=T0, claimed_until=now),  # the lease ran out exactly now: due
        instruction(5, at=T0, claimed_until=now + timedelta(minutes=1)),  # another worker holds it
        instruction(6, at=T0, status=InstructionStatus.DONE, external_id="ch_1", attempts=1),
        instruction(7, at=T0, status=InstructionStatus.FAILED, attempts=8),
        instruction(8, at=T0 + timedelta(seconds=2)),  # due
    ]
    with uow_factory() as uow:
        seed_orders(uow, make_order(1))
        for row in rows:
            uow.payments.add(row)
        uow.commit()
    with uow_factory() as uow:
        first = uow.payments.claim_due(now, lease, limit=2)
        assert [p.id for p in first] == ["pay-0004", "pay-0002"]  # oldest first
        assert first[1] == attrs.evolve(rows[1], claimed_until=lease)
        rest = uow.payments.claim_due(now, lease)
        assert [p.id for p in rest] == ["pay-0008", "pay-0001"]
        assert uow.payments.claim_due(now, lease) == []  # everything due is claimed now
        uow.commit()
    with uow_factory() as uow:
        stored = {p.id: p for p in uow.payments.for_order("order-0001")}
        assert stored["pay-0001"] == attrs.evolve(rows[0], claimed_until=lease)
        early = uow.payments.claim_due(lease - timedelta(microseconds=1), lease + timedelta(minutes=5))
        assert [p.id for p in early] == ["pay-0003", "pay-0005"]
        again = uow.payments.claim_due(lease, lease + timedelta(minutes=10))  # our leases ran out
        assert [p.id for p in again] == ["pay-0004", "pay-0002", "pay-0008", "pay-0001"]
        uow.payments.update(done(again[0], "ch_4"))
        uow.commit()
    with uow_factory() as uow:
        later = lease + HOUR
        assert [p.id for p in uow.payments.claim_due(later, later + timedelta(minutes=5))] == [
            "pay-0003", "pay-0005", "pay-0002", "pay-0008", "pay-0001"]  # never the done one


# -- duplicate ids ----------------------------------------------------------------------

def test_a_duplicate_payment_instruction_id_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        seed_orders(uow, make_order(1))
        assert uow.payments.add(instruction(1)) is True
        with pytest.raises(Conflict):
            uow.payments.add(instruction(1, key="another-key"))  # the same id, a new key
        assert uow.payments.add(instruction(2)) is True  # the transaction goes on
        uow.commit()
    with uow_factory() as uow:
        assert uow.payments.for_order("order-0001") == [instruction(1), instruction(2)]


def test_a_duplicate_ledger_entry_id_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        seed_orders(uow, make_order(1))
        uow.ledger.add(charge(1, "order-0001"))
        with pytest.raises(Conflict):
            uow.ledger.add(charge(1, "order-0001", key="a-new-key"))  # the same id, a new key
        uow.ledger.add(charge(2, "order-0001", key="another-key"))  # the transaction goes on
        uow.commit()
    with uow_factory() as uow:
        assert [e.id for e in uow.ledger.for_order("order-0001")] == ["entry-0001", "entry-0002"]


# -- the unit of work -----------------------------------------------------------------


def test_leaving_without_commit_leaves_nothing(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.manufacturers.add(make_manufacturer())
        uow.orders.add(make_order(1, OrderStatus.ACCEPTED, manufacturer_id=MAKER_A))
        uow.ledger.add(charge(1, "order-0001"))
        uow.prices.add(DEFAULT_PRICES)
        uow.payments.add(instruction(1))
    with uow_factory() as uow:
        assert uow.manufacturers.get(MAKER_A) is None
        assert uow.manufacturers.list() == []
        assert uow.orders.get("order-0001") is None
        assert uow.orders.units_ordered(AGREEMENT) == 0
        assert uow.orders.open_load() == {}
        assert uow.ledger.for_order("order-0001") == []
        assert uow.ledger.balances_for_order("order-0001") == {}
        assert uow.prices.current(date(2099, 1, 1)) is None
        assert uow.payments.for_order("order-0001") == []
        assert uow.payments.claim_due(T0 + DAY, T0 + 2 * DAY) == []


def test_rollback_then_commit_keeps_only_what_came_after(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.manufacturers.add(make_manufacturer(MAKER_A, "Rolled back"))
        uow.orders.add(make_order(1))
        uow.rollback()
        uow.manufacturers.add(make_manufacturer(MAKER_B, "Kept"))
        uow.orders.add(make_order(2))
        uow.commit()
    with uow_factory() as uow:
        assert [m.user_id for m in uow.manufacturers.list()] == [MAKER_B]
        assert uow.orders.get("order-0001") is None and uow.orders.get("order-0002") == make_order(2)
