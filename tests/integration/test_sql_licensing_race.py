"""Issue #4: exclusive rights are never sold twice, even when the acceptances race.

Eight buyers hold offers for overlapping exclusive licences on one design and all
accept at the same instant in their own threads and
transactions. Exactly one agreement may come out: the use case takes the
design's lock (FOR UPDATE on PostgreSQL; SQLite's write transaction) before it
reads the active agreements. Two simultaneous acceptances of one negotiation
make one agreement as well (the negotiation row lock, and a unique negotiation
id on agreements)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory
from caratzon_core.errors import Conflict
from caratzon_core.negotiation import NegotiationStatus
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.accounts import AccountService, SignUp
from caratzon_core.services.deps import Deps
from caratzon_core.services.designs import DesignInput, DesignService, Upload
from caratzon_core.services.licensing import LicensingService
from caratzon_core.signing import HmacSigner
from caratzon_core.testing import FakeClock, FakeHasher, FakeInspector, FakeStrength, SequentialIds
from caratzon_core.testing_blobs import InMemoryBlobStore

BUYERS = 8
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def run_at_once(n: int, work: Callable[[int], object]) -> list[object]:
    start = threading.Barrier(n)

    def task(i: int) -> object:
        start.wait(timeout=10)
        try:
            return work(i)
        except Exception as exc:  # collected and asserted on below
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(task, range(n)))


def world(sql_uow: SqlUnitOfWorkFactory, tmp_path: Path):
    clock = FakeClock()
    deps = Deps(uow=sql_uow, clock=clock, ids=SequentialIds(), hasher=FakeHasher(), strength=FakeStrength(),
                signer=HmacSigner(b"c" * 32, purpose="audit"), blobs=InMemoryBlobStore(clock=clock),
                inspector=FakeInspector())
    accounts = AccountService(deps)

    def person(email: str, role: str):
        return accounts.actor_for(accounts.sign_up(SignUp(
            email=email, password="Emerald-Cut-Halo-2026", name=email.split("@")[0], role=role,
            date_of_birth=date(1985, 1, 1), accept_policy_version=INITIAL_POLICY_VERSION)))

    designer = person("dee@example.com", "designer")
    buyers = [person(f"buyer{i}@example.com", "buyer") for i in range(BUYERS)]
    designs = DesignService(deps)
    design = designs.create(designer, DesignInput(title="Halo ring", category="ring"))
    image = tmp_path / "front.png"
    image.write_bytes(PNG)
    designs.add_asset(designer, design.id, Upload("front.png", image, "image"))
    designs.publish(designer, design.id)
    return LicensingService(deps), designer, buyers, design, clock


def terms(today: date, exclusive: bool) -> dict[str, object]:
    return {"use": "manufacturing", "exclusivity": "exclusive" if exclusive else "non_exclusive",
            "territory": ["GB", "FR"], "term": {"start": today.isoformat(), "months": 12},
            "fees": {"flat": {"amount": "1500", "currency": "USD"}}}


def test_racing_acceptances_of_overlapping_exclusive_licences_make_exactly_one_agreement(
        sql_uow: SqlUnitOfWorkFactory, tmp_path: Path) -> None:
    licensing, designer, buyers, design, clock = world(sql_uow, tmp_path)
    today = clock.now().date()
    exclusive = licensing.add_option(designer, design.id, "Exclusive", terms(today, True))
    negotiations = []
    for buyer in buyers:
        neg = licensing.open(buyer, exclusive.id)
        licensing.offer(designer, neg.id, {"unit_cap": 90})  # the designer's counter: the buyer accepts it
        negotiations.append(neg)

    results = run_at_once(BUYERS, lambda i: licensing.accept(buyers[i], negotiations[i].id))

    made = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, Conflict) and "Exclusivity" in str(r) for r in refused), refused
    with sql_uow() as uow:
        active = uow.agreements.active_for_design(design.id)
        statuses = [uow.negotiations.get(n.id).status for n in negotiations]
    assert len(made) == len(active) == 1 and len(refused) == BUYERS - 1
    assert statuses.count(NegotiationStatus.ACCEPTED) == 1
    assert statuses.count(NegotiationStatus.OPEN) == BUYERS - 1  # the losers wrote nothing


def test_two_simultaneous_acceptances_of_one_offer_make_one_agreement(
        sql_uow: SqlUnitOfWorkFactory, tmp_path: Path) -> None:
    licensing, designer, buyers, design, clock = world(sql_uow, tmp_path)
    option = licensing.add_option(designer, design.id, "Standard", terms(clock.now().date(), False))
    neg = licensing.open(buyers[0], option.id)
    licensing.offer(designer, neg.id, {"unit_cap": 90})

    results = run_at_once(4, lambda _: licensing.accept(buyers[0], neg.id))

    assert sum(isinstance(r, tuple) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, tuple)), results
    with sql_uow() as uow:
        assert uow.agreements.for_negotiation(neg.id) is not None
        assert len(uow.agreements.active_for_design(design.id)) == 1


def test_racing_orders_never_exceed_the_licence_unit_cap(sql_uow: SqlUnitOfWorkFactory, tmp_path: Path) -> None:
    """Issue #5: units are counted under the design's lock at submission, so eight
    orders racing for the last 10 units of a 40-piece licence cannot all pass."""
    from caratzon_core.errors import ValidationFailed
    from caratzon_core.services.orders import OrderService

    licensing, designer, buyers, design, clock = world(sql_uow, tmp_path)
    today = clock.now().date()
    capped = terms(today, False)
    capped["unit_cap"] = 40
    option = licensing.add_option(designer, design.id, "Capped", capped)
    neg = licensing.open(buyers[0], option.id)
    _, agreement = licensing.accept(designer, neg.id)
    deps = licensing._d  # the same wiring: no manufacturers, so orders wait for routing
    orders = OrderService(deps, None)  # type: ignore[arg-type]
    brief = {"alloy": "18k_yellow", "quantity": 30, "ship_to": "GB",
             "wanted_by": (today + timedelta(days=30)).isoformat()}
    # The design needs an analysed CAD file for the quote.
    from caratzon_core.services.designs import DesignService

    cube = tmp_path / "ring.stl"
    cube.write_bytes(b"solid cube\n" + b" " * 64)
    DesignService(deps).add_asset(designer, design.id, Upload("ring.stl", cube, "cad", "production"))
    orders.create(buyers[0], agreement.id, brief)
    drafts = [orders.create(buyers[0], agreement.id, {**brief, "quantity": 5}, submit_now=False) for _ in range(BUYERS)]

    results = run_at_once(BUYERS, lambda i: orders.submit(buyers[0], drafts[i].id))

    submitted = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(submitted) == 2 and len(refused) == BUYERS - 2
    assert all(isinstance(r, ValidationFailed) and "at most" in str(r) for r in refused), refused
    with sql_uow() as uow:
        assert uow.orders.units_ordered(agreement.id) == 40
