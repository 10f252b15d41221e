"""Issue #5 use cases with fakes: an order under a licence from brief to payout.
P15 (orders processed, production routed, payments handled), P19 (buyer identity
only within the order), P20/P28 (production CAD only for the assigned, vetted
manufacturer under NDA, while it holds the job), P16 (order notices)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from caratzon_core.access import Actor
from caratzon_core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from caratzon_core.ledger import EntryKind, balances
from caratzon_core.notices import NoticeKind
from caratzon_core.orders import OrderStatus
from caratzon_core.payments import InstructionStatus
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.accounts import AccountService, SignUp
from caratzon_core.services.designs import DesignInput, DesignService, Upload
from caratzon_core.services.licensing import LicensingService
from caratzon_core.services.manufacturing import ManufacturerService, ProfileInput
from caratzon_core.services.orders import OrderService
from caratzon_core.testing import FakeClock, fake_deps

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CUBE = b"solid cube\n" + b" " * 64
OPERATOR = Actor.cli_operator()


class RecordingGateway:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    def charge(self, *, amount_minor, currency, customer, idempotency_key, description):
        self.calls.append(("charge", idempotency_key, amount_minor))
        return f"ch_{idempotency_key}"

    def refund(self, *, charge_id, amount_minor, currency, idempotency_key):
        self.calls.append(("refund", idempotency_key, amount_minor))
        return f"re_{idempotency_key}"

    def transfer(self, *, amount_minor, currency, destination, idempotency_key, transfer_group):
        self.calls.append(("transfer", idempotency_key, amount_minor))
        return f"tr_{idempotency_key}"


def profile(**changes) -> ProfileInput:
    base = dict(processes=["lost_wax_casting", "stone_setting_prong", "engraving"], metals=["18k_yellow"],
                min_quantity=1, max_quantity=500, weekly_capacity=200, lead_time_days=10,
                ships_to=["GB", "FR", "HK"], labour_per_piece="80.00", labour_per_stone="5.00", currency="USD")
    base.update(changes)
    return ProfileInput(**base)


@pytest.fixture
def world(tmp_path: Path):
    clock = FakeClock()
    deps, store = fake_deps(clock=clock)
    gateway = RecordingGateway()
    deps = attrs.evolve(deps, payments=gateway)
    accounts = AccountService(deps)
    people = {}
    for role, email in [("designer", "dee@example.com"), ("buyer", "bea@example.com"),
                        ("buyer", "bob@example.com"), ("manufacturer", "max@example.com"),
                        ("manufacturer", "mia@example.com"), ("manufacturer", "mo@example.com")]:
        user = accounts.sign_up(SignUp(email=email, password="Emerald-Cut-Halo-2026",
                                       name=email.split("@")[0].title(), role=role, date_of_birth=date(1985, 1, 1),
                                       accept_policy_version=INITIAL_POLICY_VERSION,
                                       business_name=f"{email.split('@')[0].title()} Ltd",
                                       business_address="1 Queen's Road, Hong Kong"))
        people[email.split("@")[0]] = accounts.actor_for(user)
    pm = accounts.create_user(OPERATOR, SignUp(email="pam@example.com", password="Emerald-Cut-Halo-2026",
                                               name="Pam", role="production_manager", date_of_birth=date(1980, 1, 1),
                                               accept_policy_version=INITIAL_POLICY_VERSION))
    people["pam"] = accounts.actor_for(pm)
    designs = DesignService(deps)
    design = designs.create(people["dee"], DesignInput(title="Halo ring", category="ring", metals=["18k_yellow"]))

    def upload(name, data, kind="image", visibility="preview"):
        path = tmp_path / f"u{len(list(tmp_path.iterdir()))}"
        path.write_bytes(data)
        return designs.add_asset(people["dee"], design.id, Upload(name, path, kind, visibility))

    upload("front.png", PNG)
    cad = upload("ring.stl", CUBE, "cad", "production")
    designs.publish(people["dee"], design.id)
    licensing = LicensingService(deps)
    today = clock.now().date()
    option = licensing.add_option(people["dee"], design.id, "Standard", {
        "use": "manufacturing", "territory": ["GB", "HK"], "term": {"start": today.isoformat(), "months": 12},
        "fees": {"flat": {"amount": "1000", "currency": "USD"}, "royalty_per_unit": {"amount": "4", "currency": "USD"}},
        "unit_cap": 50, "may_modify": ["ring_size"]})
    neg = licensing.open(people["bea"], option.id)
    _, agreement = licensing.accept(people["dee"], neg.id)
    makers = ManufacturerService(deps)
    for name, lead in (("max", 10), ("mia", 20), ("mo", 5)):
        makers.save_profile(people[name], people[name].id, profile(lead_time_days=lead))
    nda_until = today + timedelta(days=365)
    makers.vet(people["pam"], "max@example.com", nda_until=nda_until)
    makers.vet(people["pam"], "mia@example.com", nda_until=nda_until)
    # "mo" has the shortest lead time but is not vetted: never chosen, never assignable.
    orders = OrderService(deps, designs)
    return orders, makers, store, clock, people, agreement, cad, gateway


def brief(today: date, **changes):
    base = {"alloy": "18k_yellow", "quantity": 10, "ship_to": "GB",
            "wanted_by": (today + timedelta(days=30)).isoformat(), "size": {"system": "us", "value": "6.5"}}
    base.update(changes)
    return base


def test_an_order_from_brief_to_payout(world) -> None:
    orders, makers, store, clock, p, agreement, cad, gateway = world
    today = clock.now().date()
    preview = orders.quote_for(p["bea"], agreement.id, brief(today))
    assert [line.code for line in preview.lines] == ["metal", "labour", "stones", "licence_royalty"]
    assert preview.line("licence_royalty").amount.amount_minor == 400 * 10
    assert sum(line.amount.amount_minor for line in preview.lines) + preview.platform_fee.amount_minor == \
        preview.total.amount_minor

    order = orders.create(p["bea"], agreement.id, brief(today))
    # Auto-routed at once to the best vetted manufacturer ("mo" is not vetted).
    assert order.status is OrderStatus.ROUTED and order.manufacturer_id == p["max"].id
    assert order.quote == preview
    offered = [m for m in store.state.trade.outbox.values() if m.notice.kind is NoticeKind.JOB_OFFERED]
    assert [m.notice.to_email for m in offered] == ["max@example.com"]

    # Only the assigned manufacturer answers.
    with pytest.raises(Forbidden):
        orders.transition(p["mia"], order.id, "accepted")
    with pytest.raises(Forbidden):  # not even a party: production CAD is out of reach too
        orders.cad_links(p["mia"], order.id)
    order = orders.transition(p["max"], order.id, "accepted")
    assert order.status is OrderStatus.ACCEPTED
    [charge] = [e for e in store.state.production.entries if e.kind is EntryKind.CHARGE]
    assert charge.amount == preview.total.amount_minor

    # Production CAD: the assigned manufacturer gets short links, audited with the order id.
    [(asset, link)] = orders.cad_links(p["max"], order.id)
    assert asset.id == cad.id and link.expires_at <= clock.now() + timedelta(minutes=2)
    audited = [e for e in store.state.audit if e.action == "asset.production_link"]
    assert audited[-1].detail["order"] == order.id
    for outsider in ("bea", "dee"):
        with pytest.raises(Forbidden):
            orders.cad_links(p[outsider], order.id)

    # The buyer's identity within the order only.
    view = orders.view(p["max"], order.id)
    assert view.buyer.business_address == "1 Queen's Road, Hong Kong" and view.ledger == ()
    with pytest.raises(Forbidden):
        orders.view(p["bob"], order.id)
    with pytest.raises(Forbidden):
        orders.view(p["mia"], order.id)

    for step in ("in_production", "quality_check"):
        order = orders.transition(p["max"], order.id, step)
    with pytest.raises(Conflict, match="quality check"):
        orders.transition(p["max"], order.id, "shipped", carrier="DHL", tracking="JD0001")
    with pytest.raises(ValidationFailed, match="reason"):
        orders.transition(p["pam"], order.id, "in_production")  # a QC failure needs a reason
    order = orders.transition(p["pam"], order.id, "in_production", reason="Prong loose on 2 pieces")
    assert order.qc_failures == 1
    order = orders.transition(p["max"], order.id, "quality_check")
    order = orders.transition(p["pam"], order.id, "qc_passed")
    with pytest.raises(ValidationFailed):
        orders.transition(p["max"], order.id, "shipped", carrier="", tracking="")
    order = orders.transition(p["max"], order.id, "shipped", carrier="DHL", tracking="JD0001")
    # Once shipped, the job's production files are closed to the manufacturer.
    with pytest.raises(Forbidden, match="until the pieces ship"):
        orders.cad_links(p["max"], order.id)
    order = orders.transition(p["bea"], order.id, "delivered")
    order = orders.transition(p["bea"], order.id, "completed")
    assert order.status is OrderStatus.COMPLETED

    entries = store.state.production.entries
    totals = balances(e for e in entries if e.order_id == order.id)
    assert totals["clearing"] == preview.platform_fee.amount_minor
    assert all(v == 0 for k, v in totals.items() if k.startswith("payable:"))
    assert sum(totals.values()) == 0  # balanced

    # The worker makes the gateway calls once, with the ledger's idempotency keys.
    assert orders.settle_payments(OPERATOR) == {"made": 3, "failed": 0}
    assert orders.settle_payments(OPERATOR) == {"made": 0, "failed": 0}
    assert [c[0] for c in gateway.calls] == ["charge", "transfer", "transfer"]
    assert all(p_.status is InstructionStatus.DONE for p_ in store.state.production.payments.values())

    # The buyer heard of every step that matters to them.
    steps = [m.notice.values["step"] for m in store.state.trade.outbox.values()
             if m.notice.kind is NoticeKind.ORDER_UPDATE]
    assert steps[0] == "submitted for production" and steps[-1] == "completed" and "shipped" in steps
    timeline = [m.event for m in orders.view(p["bea"], order.id).timeline]
    assert timeline[:3] == ["order.submitted", "order.routed", "order.accepted"] and timeline[-1] == "order.completed"


def test_bad_orders_are_refused_with_the_rule_and_nothing_written(world) -> None:
    orders, _, store, clock, p, agreement, _, _ = world
    today = clock.now().date()
    cases = [
        (brief(today, quantity=51), "quantity"),
        (brief(today, ship_to="US"), "ship_to"),
        (brief(today, wanted_by=(today - timedelta(days=1)).isoformat()), "wanted_by"),
        (brief(today, alloy="platinum_950"), "alloy"),  # may-modify does not include metal
        (brief(today, stones=[{"type": "diamond", "carat": "0.1", "count": 4, "setting": "prong"}]), "stones"),
        (brief(today, wanted_by=(today + timedelta(days=400)).isoformat()), "wanted_by"),  # after the term
    ]
    for raw, field in cases:
        with pytest.raises(ValidationFailed) as err:
            orders.create(p["bea"], agreement.id, raw)
        assert field in err.value.by_field(), (field, err.value.by_field())
    with pytest.raises(NotFound):
        orders.create(p["bob"], agreement.id, brief(today))  # someone else's licence
    with pytest.raises(Forbidden):
        orders.create(p["dee"], agreement.id, brief(today))
    assert store.state.production.orders == {}
    # The cap counts what was already ordered.
    orders.create(p["bea"], agreement.id, brief(today, quantity=45))
    with pytest.raises(ValidationFailed, match="at most 5 more"):
        orders.create(p["bea"], agreement.id, brief(today, quantity=6))


def test_overrides_need_a_reason_and_never_reach_unvetted_or_nda_less_workshops(world) -> None:
    orders, makers, store, clock, p, agreement, _, _ = world
    order = orders.create(p["bea"], agreement.id, brief(clock.now().date()))
    decision = orders.routing(p["pam"], order.id)
    assert decision.chosen == p["max"].id
    assert {e.manufacturer_id: e.reason.value for e in decision.excluded}[p["mo"].id] == "not_vetted"
    with pytest.raises(Conflict, match="cannot be overridden"):
        orders.assign(p["pam"], order.id, p["mo"].id, reason="Fastest")
    with pytest.raises(ValidationFailed, match="reason"):
        orders.assign(p["pam"], order.id, p["mia"].id)
    moved = orders.assign(p["pam"], order.id, p["mia"].id, reason="Max is on holiday")
    assert moved.manufacturer_id == p["mia"].id
    assert store.state.audit[-1].detail["override"] == "yes"
    with pytest.raises(Forbidden):
        orders.assign(p["bea"], order.id, p["mia"].id, reason="I prefer her")


def test_reassigning_suspending_or_an_nda_lapsing_cuts_cad_access_at_once(world) -> None:
    orders, makers, store, clock, p, agreement, _, _ = world
    order = orders.create(p["bea"], agreement.id, brief(clock.now().date()))
    orders.transition(p["max"], order.id, "accepted")
    assert orders.cad_links(p["max"], order.id)
    makers.suspend(p["pam"], p["max"].id, reason="Audit finding")
    with pytest.raises(Forbidden, match="vetted manufacturer with a valid NDA"):
        orders.cad_links(p["max"], order.id)
    makers.vet(p["pam"], p["max"].id, nda_until=clock.now().date() + timedelta(days=60))
    assert orders.cad_links(p["max"], order.id)
    orders.assign(p["pam"], order.id, p["mia"].id, reason="Moving the job")
    with pytest.raises(Forbidden):
        orders.cad_links(p["max"], order.id)
    with pytest.raises(Forbidden):
        orders.view(p["max"], order.id)
    # The manufacturer's share moved with the job.
    totals = balances(e for e in store.state.production.entries if e.order_id == order.id)
    assert totals.get(f"payable:manufacturer:{p['max'].id}", 0) == 0
    assert totals[f"payable:manufacturer:{p['mia'].id}"] < 0
    orders.transition(p["mia"], order.id, "accepted")
    assert orders.cad_links(p["mia"], order.id)
    clock.advance(timedelta(days=366))  # her NDA lapses
    with pytest.raises(Forbidden):
        orders.cad_links(p["mia"], order.id)


def test_declined_and_lapsed_offers_go_back_to_routing_without_that_manufacturer(world) -> None:
    orders, _, store, clock, p, agreement, _, _ = world
    order = orders.create(p["bea"], agreement.id, brief(clock.now().date()))
    assert order.manufacturer_id == p["max"].id
    order = orders.transition(p["max"], order.id, "declined", reason="Full this month")
    assert order.status is OrderStatus.ROUTED and order.manufacturer_id == p["mia"].id  # re-routed at once
    clock.advance(timedelta(hours=49))
    with pytest.raises(Conflict, match="lapsed"):
        orders.transition(p["mia"], order.id, "accepted")
    assert orders.release_lapsed(OPERATOR) == 1
    order = store.state.production.orders[order.id]
    assert order.status is OrderStatus.SUBMITTED and order.declined_by == {p["max"].id, p["mia"].id}
    board = orders.board(p["pam"])
    assert [row.order.id for row in board] == [order.id] and board[0].decision.chosen is None


def test_cancel_before_production_refunds_everything(world) -> None:
    orders, _, store, clock, p, agreement, _, gateway = world
    order = orders.create(p["bea"], agreement.id, brief(clock.now().date()))
    orders.transition(p["max"], order.id, "accepted")
    with pytest.raises(ValidationFailed, match="reason"):
        orders.transition(p["bea"], order.id, "cancelled")
    orders.transition(p["bea"], order.id, "cancelled", reason="Client changed their mind")
    totals = balances(e for e in store.state.production.entries if e.order_id == order.id)
    assert all(v == 0 for v in totals.values())
    orders.settle_payments(OPERATOR)
    assert [c[0] for c in gateway.calls] == ["charge", "refund"]
    # In production it is too late.
    second = orders.create(p["bea"], agreement.id, brief(clock.now().date()))
    orders.transition(p["max"], second.id, "accepted")
    orders.transition(p["max"], second.id, "in_production")
    with pytest.raises(Conflict):
        orders.transition(p["bea"], second.id, "cancelled", reason="Too late?")


def test_stones_left_as_designed_are_made_quoted_and_routed(world, tmp_path) -> None:
    """An order that names no stones makes the design's own: they are quoted (not
    "no stones") and need a workshop that can set them, though the licence does not
    allow changing the stones."""
    orders, _, store, clock, p, agreement, _, _ = world
    design = store.state.designs[agreement.design_id]
    from caratzon_core.designs import GemOrigin, Gemstone

    store.state.designs[design.id] = attrs.evolve(design, gemstones=(
        Gemstone("diamond", GemOrigin.NATURAL, Decimal("0.40"), 4),))
    quote = orders.quote_for(p["bea"], agreement.id, brief(clock.now().date()))
    stones = quote.line("stones")
    assert stones.per_piece.amount_minor == 4 * (15000 + 800)  # 4 x (0.1 ct x 1,500.00 + 8.00)
    order = orders.create(p["bea"], agreement.id, brief(clock.now().date()))
    assert order.brief.stones[0].count == 4 and order.brief.stones[0].carat == Decimal("0.100")
    # Changing them is still refused under this licence.
    other = brief(clock.now().date(), stones=[{"type": "ruby", "carat": "0.1", "count": 4, "setting": "prong"}])
    with pytest.raises(ValidationFailed, match="changing the stones"):
        orders.create(p["bea"], agreement.id, other)


def test_empty_fields_say_what_is_missing_and_typed_line_breaks_are_kept(world) -> None:
    orders, _, _, clock, p, agreement, _, _ = world
    with pytest.raises(ValidationFailed) as err:
        orders.create(p["bea"], agreement.id, {"alloy": "", "quantity": "", "ship_to": "", "wanted_by": ""})
    assert err.value.by_field() == {"alloy": "Choose the alloy.", "quantity": "Say how many pieces.",
                                    "ship_to": "Say which country the pieces ship to.",
                                    "wanted_by": "Say by when the pieces are wanted."}
    order = orders.create(p["bea"], agreement.id, brief(clock.now().date(), notes="Line one\r\nLine two"))
    assert order.brief.notes == "Line one\nLine two"
