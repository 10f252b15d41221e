"""Design use cases with fakes: P3 (design assets), P19 (what buyers see), P20/P28
(production CAD), P27 (signed expiring links), P31 (removal starts the clock),
P9/P10 (engagement only with consent)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import attrs
import pytest

from caratzon_core.access import Actor
from caratzon_core.accounts import Role, UserStatus
from caratzon_core.blobs import BlobTooLarge
from caratzon_core.catalog import CatalogQuery, Sort, parse_query
from caratzon_core.designs import DesignStatus
from caratzon_core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from caratzon_core.geometry import CadStatus
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.accounts import AccountService, SignUp
from caratzon_core.services.deps import Settings
from caratzon_core.services.designs import DesignChanges, DesignInput, DesignService, Upload
from caratzon_core.services.engagement import EngagementService
from caratzon_core.testing import FakeClock, fake_deps

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CUBE = b"solid cube\n" + b" " * 64
VISITOR = "v" * 24


@pytest.fixture
def world(tmp_path: Path):
    clock = FakeClock()
    deps, store = fake_deps(clock=clock, settings=Settings(max_image_bytes=1000))
    accounts = AccountService(deps)
    people = {}
    for role, email in [("designer", "dee@example.com"), ("designer", "dan@example.com"),
                        ("buyer", "bea@example.com"), ("manufacturer", "max@example.com")]:
        user = accounts.sign_up(SignUp(email=email, password="Emerald-Cut-Halo-2026", name=email.split("@")[0].title(),
                                       role=role, date_of_birth=date(1985, 1, 1),
                                       accept_policy_version=INITIAL_POLICY_VERSION))
        people[email.split("@")[0]] = accounts.actor_for(user)
    return DesignService(deps), EngagementService(deps), store, deps, clock, people, tmp_path


def upload(tmp: Path, name: str, data: bytes, kind: str = "image", visibility: str = "preview") -> Upload:
    path = tmp / f"upload-{len(list(tmp.iterdir()))}"
    path.write_bytes(data)
    return Upload(filename=name, path=path, kind=kind, visibility=visibility)


def ring(**kw):
    base = dict(title="Halo ring", category="ring", description="A halo of pavé diamonds",
                metals=["18k_white"], gemstones=[{"type": "diamond", "origin": "lab_grown", "carat": "1.2", "count": 1}],
                tags=["Halo", "engagement"], price_amount="1250.00", price_currency="usd")
    base.update(kw)
    return DesignInput(**base)


def published(world, **kw):
    designs, _, _, _, _, p, tmp = world
    design = designs.create(p["dee"], ring(**kw))
    designs.add_asset(p["dee"], design.id, upload(tmp, "front.png", PNG))
    return designs.publish(p["dee"], design.id)


def test_create_validates_every_field(world) -> None:
    designs, _, store, *_ , p, _ = world
    with pytest.raises(ValidationFailed) as err:
        designs.create(p["dee"], ring(title="", category="tiara", metals=["gold"], price_amount="-5",
                                      price_currency="XXX"))
    assert {"title", "category", "metals", "currency"} <= set(err.value.by_field())
    assert store.state.designs == {}
    design = designs.create(p["dee"], ring())
    assert design.status is DesignStatus.DRAFT and design.tags == ("halo", "engagement")
    assert design.price_guidance is not None and design.price_guidance.amount_minor == 125000


def test_only_designers_create_and_only_the_owner_edits(world) -> None:
    designs, _, store, *_ , p, _ = world
    with pytest.raises(Forbidden):
        designs.create(p["bea"], ring())
    design = designs.create(p["dee"], ring())
    with pytest.raises(Forbidden, match="owns"):
        designs.update(p["dan"], design.id, DesignChanges(title="Mine now"))
    assert store.state.designs[design.id].title == "Halo ring"
    assert store.state.audit[-1].outcome == "denied"


def test_publishing_needs_a_preview_image_and_follows_the_lifecycle(world, tmp_path) -> None:
    designs, _, _, _, clock, p, tmp = world
    design = designs.create(p["dee"], ring())
    with pytest.raises(ValidationFailed, match="preview image"):
        designs.publish(p["dee"], design.id)
    designs.add_asset(p["dee"], design.id, upload(tmp, "front.png", PNG))
    assert designs.publish(p["dee"], design.id).status is DesignStatus.PUBLISHED
    with pytest.raises(Conflict):
        designs.publish(p["dee"], design.id)
    assert designs.withdraw(p["dee"], design.id).status is DesignStatus.WITHDRAWN
    clock.advance(timedelta(days=1))
    removed = designs.remove(p["dee"], design.id)
    assert removed.removed_at == clock.now()  # P31: the 90-day clock starts here
    with pytest.raises(Conflict):
        designs.update(p["dee"], design.id, DesignChanges(title="x"))
    with pytest.raises(NotFound):
        designs.view(p["bea"], design.id)


def test_uploads_are_checked_and_failed_ones_leave_nothing(world) -> None:
    designs, _, store, deps, _, p, tmp = world
    design = designs.create(p["dee"], ring())
    bad = [
        ("../etc/passwd.png", PNG, "image", "path parts"),
        ("a\x07b.png", PNG, "image", "control characters"),
        ("noext", PNG, "image", "extension"),
        ("front.png", b"", "image", "empty"),
        ("front.jpg", PNG, "image", "named .jpg"),
        ("front.png", b"GIF89a....", "image", "not an image"),
        ("ring.stl", b"garbage", "cad", "not a valid STL"),
        ("ring.png", PNG, "cad", "must be one of"),
        ("front.png", PNG, "image-ish", "Unknown asset kind"),
        ("front.png", PNG, "production", "Unknown asset kind"),
    ]
    for name, data, kind, message in bad:
        with pytest.raises(ValidationFailed, match=message):
            designs.add_asset(p["dee"], design.id, upload(tmp, name, data, kind))
    with pytest.raises(ValidationFailed, match="Only CAD"):
        designs.add_asset(p["dee"], design.id, upload(tmp, "front.png", PNG, "image", "production"))
    with pytest.raises(BlobTooLarge):
        designs.add_asset(p["dee"], design.id, upload(tmp, "big.png", PNG + b"\x00" * 2000))
    assert store.state.assets == {} and store.state.pending_blobs == {}
    assert deps.blobs.blobs == {}  # type: ignore[union-attr]


def test_a_store_failure_mid_upload_leaves_neither_blob_nor_row(world, monkeypatch) -> None:
    designs, _, store, deps, _, p, tmp = world
    design = designs.create(p["dee"], ring())
    real_put = deps.blobs.put  # type: ignore[union-attr]
    calls = []

    def flaky(key, stream, **kw):
        calls.append(key)
        if len(calls) == 2:  # the thumbnail
            raise OSError("disk full")
        return real_put(key, stream, **kw)

    monkeypatch.setattr(deps.blobs, "put", flaky)
    with pytest.raises(OSError):
        designs.add_asset(p["dee"], design.id, upload(tmp, "front.png", PNG))
    assert store.state.assets == {} and store.state.pending_blobs == {}
    assert deps.blobs.blobs == {}  # type: ignore[union-attr]


def test_an_interrupted_upload_is_swept(world, monkeypatch) -> None:
    designs, _, store, deps, clock, p, tmp = world
    design = designs.create(p["dee"], ring())
    monkeypatch.setattr(designs, "_discard", lambda keys: None)  # the process died before cleaning up
    monkeypatch.setattr(deps.blobs, "put", _put_then_crash(deps.blobs))
    with pytest.raises(KeyboardInterrupt):
        designs.add_asset(p["dee"], design.id, upload(tmp, "front.png", PNG))
    assert store.state.assets == {} and len(store.state.pending_blobs) == 2
    monkeypatch.undo()
    clock.advance(timedelta(hours=2))
    assert designs.sweep_pending(Actor.cli_operator()) == 2
    assert store.state.pending_blobs == {} and deps.blobs.blobs == {}  # type: ignore[union-attr]


def _put_then_crash(blobs):
    real = blobs.put

    def put(key, stream, **kw):
        real(key, stream, **kw)
        raise KeyboardInterrupt

    return put


def test_cad_analysis_is_stored_with_the_asset(world) -> None:
    designs, _, _, _, _, p, tmp = world
    design = designs.create(p["dee"], ring())
    cad = designs.add_asset(p["dee"], design.id, upload(tmp, "ring.stl", CUBE, "cad", "production"))
    assert cad.analysis is not None and cad.analysis.status is CadStatus.ANALYSED
    grams = {w.alloy_code: w.grams for w in cad.analysis.weights}
    assert str(grams["18k_yellow"]) == "17.14"  # 1 cm³ x 15.58 g/cm³ x 1.10
    open_mesh = designs.add_asset(p["dee"], design.id, upload(tmp, "open.stl", b"solid open\n", "cad"))
    assert open_mesh.analysis is not None and open_mesh.analysis.status is CadStatus.NOT_WATERTIGHT
    assert open_mesh.analysis.weights == ()
    other = designs.add_asset(p["dee"], design.id, upload(tmp, "ring.3dm", b"3D Geometry File", "cad"))
    assert other.analysis is not None and other.analysis.status is CadStatus.NOT_ANALYSED


def test_production_cad_never_reaches_buyers_and_every_link_expires(world) -> None:
    designs, _, store, deps, clock, p, tmp = world
    design = published(world)
    cad = designs.add_asset(p["dee"], design.id, upload(tmp, "ring.stl", CUBE, "cad", "production"))
    viewed_at = clock.now()
    view = designs.view(p["bea"], design.id)
    assert [a.asset.kind.value for a in view.assets] == ["image"]  # production CAD not even listed
    with pytest.raises(Forbidden, match="vetted manufacturer"):
        designs.asset_link(p["bea"], cad.id)
    with pytest.raises(Forbidden):
        designs.asset_link(p["max"], cad.id)  # no order, no NDA: no grant
    _, link = designs.asset_link(p["dee"], cad.id)
    assert store.state.audit[-1].action == "asset.production_link"
    _, granted = designs.asset_link(p["max"], cad.id, grantees=frozenset({p["max"].id}))
    assert granted.expires_at == clock.now() + deps.settings.production_link_ttl
    blobs = deps.blobs
    assert blobs.verify_url(link.url).ok  # type: ignore[union-attr]
    clock.advance(deps.settings.production_link_ttl)
    assert not blobs.verify_url(link.url).ok  # type: ignore[union-attr]
    image_link = view.assets[0].link
    assert image_link is not None and image_link.expires_at == viewed_at + deps.settings.link_ttl


def test_drafts_are_private_and_published_designs_public(world) -> None:
    designs, _, _, _, _, p, _ = world
    draft = designs.create(p["dee"], ring())
    with pytest.raises(Forbidden, match="not published"):
        designs.view(p["bea"], draft.id)
    assert designs.view(p["dee"], draft.id).can_edit
    design = published(world)
    view = designs.view(p["bea"], design.id)
    assert not view.can_edit and view.designer_name == "Dee"


def test_catalog_shows_published_designs_only_with_filters_and_cursor(world) -> None:
    designs, _, _, _, clock, p, _ = world
    ids = []
    for i in range(5):
        clock.advance(timedelta(minutes=1))
        ids.append(published(world, title=f"Ring {i}", metals=["18k_white" if i % 2 else "platinum_950"]).id)
    designs.create(p["dee"], ring(title="Secret draft"))
    designs.withdraw(p["dee"], ids[0])
    page = designs.search(p["bea"], parse_query({"limit": "2"}))
    seen = [i.design.id for i in page.items]
    while page.next_cursor:
        page = designs.search(p["bea"], parse_query({"limit": "2", "cursor": page.next_cursor}))
        seen += [i.design.id for i in page.items]
    assert seen == list(reversed(ids[1:]))
    plat = designs.search(p["bea"], CatalogQuery(metal="platinum_950"))
    assert {i.design.id for i in plat.items} == {ids[2], ids[4]}
    assert plat.facets["metal"] == {"platinum_950": 2, "18k_white": 2}
    assert designs.search(p["bea"], CatalogQuery(text="dee")).items  # designer name is searchable
    with pytest.raises(ValidationFailed):
        parse_query({"cursor": "garbage!!", "sort": "newest"})
    with pytest.raises(ValidationFailed):
        parse_query({"sort": Sort.MOST_VIEWED.value, "cursor": page.next_cursor or "x"})


def test_saves_are_for_buyers_and_counted_only_with_consent(world) -> None:
    designs, engagement, store, _, _, p, _ = world
    design = published(world)
    with pytest.raises(Forbidden):
        designs.save(p["dan"], design.id)
    assert designs.save(p["bea"], design.id, visitor_id=VISITOR)
    assert not designs.save(p["bea"], design.id, visitor_id=VISITOR)
    assert [d.id for d in designs.saved_designs(p["bea"])] == [design.id]
    assert store.state.events == []  # no consent: the save is kept, but not counted
    user = store.state.users[p["bea"].id]
    engagement.choose(VISITOR, user, analytics=True)
    designs.save(p["bea"], design.id, visitor_id=VISITOR, saved=False)
    designs.save(p["bea"], design.id, visitor_id=VISITOR)
    assert [e.kind.value for e in store.state.events] == ["save"]


def test_views_need_explicit_consent_and_withdrawal_works_at_once(world) -> None:
    designs, engagement, store, _, _, p, _ = world
    design = published(world)
    assert not engagement.record(VISITOR, None, design.id, "view")
    engagement.choose(VISITOR, None, analytics=True)
    assert engagement.record(VISITOR, None, design.id, "view")
    assert engagement.record(VISITOR, None, design.id, "scroll", 80)
    engagement.choose(VISITOR, None, analytics=False)
    assert not engagement.record(VISITOR, None, design.id, "view")
    assert len(store.state.events) == 2
    proof = store.state.consents[-1]
    assert proof.analytics is False and proof.notice_version and proof.client_address is None
    with pytest.raises(ValidationFailed):
        engagement.record(VISITOR, None, design.id, "scroll", 140)


def test_restricted_users_are_never_tracked(world) -> None:
    designs, engagement, store, _, _, p, _ = world
    design = published(world)
    user = store.state.users[p["bea"].id]
    engagement.choose(VISITOR, user, analytics=True)
    restricted = attrs.evolve(user, status=UserStatus.RESTRICTED)
    assert not engagement.record(VISITOR, restricted, design.id, "view")
    assert engagement.record(VISITOR, user, design.id, "view")


def test_designers_see_daily_figures_for_their_own_designs(world) -> None:
    designs, engagement, _, _, clock, p, _ = world
    design = published(world)
    engagement.choose(VISITOR, None, analytics=True)
    for depth in (20, 60, 90):
        engagement.record(VISITOR, None, design.id, "view")
        engagement.record(VISITOR, None, design.id, "scroll", depth)
    rows = engagement.daily(p["dee"], design.id, days=7)
    assert [(r.views, r.saves, r.median_scroll_depth) for r in rows] == [(3, 0, 60)]
    with pytest.raises(Forbidden):
        engagement.daily(p["dan"], design.id)
    assert engagement.daily(Actor("admin", Role.ADMIN), design.id)


def test_a_withdrawal_in_the_same_clock_tick_still_wins(world) -> None:
    _, engagement, _, _, _, _, _ = world
    engagement.choose(VISITOR, None, analytics=True)
    engagement.choose(VISITOR, None, analytics=False)  # the fake clock has not moved
    current = engagement.current(VISITOR, None)
    assert current is not None and current.analytics is False


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"sort": "cheapest"},
                                    {"category": "tiara"}, {"metal": "gold"}, {"price_min": "10", "price_max": "5"},
                                    {"price_min": "1.234", "currency": "USD"}, {"q": "x" * 201}])
def test_bad_catalog_parameters_name_the_field(params) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_query(params)
    assert err.value.field


def test_catalog_cards_are_signed_from_the_page_without_a_lookup_each(world, monkeypatch) -> None:
    designs, _, store, deps, _, p, _ = world
    published(world)
    page = designs.search(p["bea"], CatalogQuery())
    item = page.items[0]
    assert item.thumbnail_key and item.thumbnail_key.endswith("-thumb.webp")

    opened = []
    real = store.__class__.__call__
    monkeypatch.setattr(store.__class__, "__call__", lambda self: opened.append(1) or real(self))
    links = designs.thumbnail_links(p["bea"], page.items)
    assert opened == []  # no unit of work, no query per card
    assert deps.blobs.verify_url(links[item.thumbnail_asset_id].url).ok  # type: ignore[union-attr]
