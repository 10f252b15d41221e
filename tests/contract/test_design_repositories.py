"""Contracts of the issue #3 repositories (designs, assets, pending blobs, saved
designs, consents, engagement) and of the catalog reader, run against the in-memory
fake and the SQL adapter on SQLite and PostgreSQL. The catalog's deeper checks
(hypothesis catalogs, hostile search text) live in tests/integration/test_sql_catalog.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest

from caratzon_core.accounts import Language, Role, User, UserStatus
from caratzon_core.catalog import CatalogQuery, Sort, decode_cursor
from caratzon_core.consent import COOKIE_NOTICE_VERSION, ConsentRecord, DailyEngagement, EngagementEvent, EventKind
from caratzon_core.designs import (
    Asset,
    AssetKind,
    Category,
    Design,
    DesignStatus,
    Dimensions,
    GemOrigin,
    Gemstone,
    Visibility,
)
from caratzon_core.errors import Conflict, NotFound
from caratzon_core.geometry import MeshMetrics, assess, invalid_analysis
from caratzon_core.money import Money
from caratzon_core.ports import UnitOfWorkFactory

T0 = datetime(2026, 11, 27, 9, 0, 0, 250000, tzinfo=UTC)
PLUS_0800 = timezone(timedelta(hours=8))


def make_user(n: int, name: str | None = None) -> User:
    return User(
        id=f"user-{n:04d}",
        email=f"designer{n}@example.com",
        name=name or f"Designer {n}",
        role=Role.DESIGNER,
        password_hash="fake$salt$hash",
        language=Language.EN,
        status=UserStatus.ACTIVE,
        business_name=None,
        business_address=None,
        age_confirmed_at=T0,
        created_at=T0,
        updated_at=T0,
    )


def make_design(n: int, designer: int = 1, **changes: object) -> Design:
    design = Design(
        id=f"design-{n:04d}",
        designer_id=f"user-{designer:04d}",
        title=f"Design {n}",
        description="A ring.",
        category=Category.RING,
        metals=("18k_yellow",),
        gemstones=(),
        dimensions=Dimensions(),
        tags=(),
        price_guidance=None,
        status=DesignStatus.DRAFT,
        created_at=T0 + timedelta(minutes=n),
        updated_at=T0 + timedelta(minutes=n),
    )
    return attrs.evolve(design, **changes)  # type: ignore[arg-type]


def published(n: int, designer: int = 1, **changes: object) -> Design:
    at = T0 + timedelta(hours=n)
    return make_design(n, designer, status=DesignStatus.PUBLISHED, published_at=at, **changes)


def make_asset(n: int, design_id: str, *, at: datetime = T0, **changes: object) -> Asset:
    asset = Asset(
        id=f"asset-{n:04d}",
        design_id=design_id,
        kind=AssetKind.IMAGE,
        visibility=Visibility.PREVIEW,
        blob_key=f"designs/{design_id}/{n:04d}",
        filename=f"photo {n}.png",
        content_type="image/png",
        size=1000 + n,
        sha256=f"{n:064x}",
        created_at=at,
        width_px=800,
        height_px=600,
        thumbnail_key=f"thumbs/{n:04d}",
    )
    return attrs.evolve(asset, **changes)  # type: ignore[arg-type]


def seed_designers(uow_factory: UnitOfWorkFactory, *designers: User) -> None:
    with uow_factory() as uow:
        for user in designers or (make_user(1),):
            uow.users.add(user)
        uow.commit()


# -- designs --------------------------------------------------------------------------


FULL_DESIGN = make_design(
    7,
    title="Étoile halo ring — 星",
    description="Pavé halo.\nSecond line with 'quotes' and \"double quotes\".",
    category=Category.RING,
    metals=("platinum_950", "18k_white"),
    gemstones=(
        Gemstone("diamond", GemOrigin.NATURAL, Decimal("1.25"), 1),
        Gemstone("diamond", GemOrigin.LAB_GROWN, Decimal("0.015"), 24),
        Gemstone("sapphire", GemOrigin.NATURAL, Decimal("2"), 2),
    ),
    dimensions=Dimensions(Decimal("17.32"), Decimal("8.5"), Decimal("2.10")),
    tags=("halo", "art deco", "bridal"),
    price_guidance=Money(1_250_000, "HKD"),
    status=DesignStatus.WITHDRAWN,
    published_at=T0 + timedelta(days=1),
    withdrawn_at=T0 + timedelta(days=2),
)


def test_design_add_get_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    seed_designers(uow_factory)
    with uow_factory() as uow:
        uow.designs.add(FULL_DESIGN)
        uow.designs.add(make_design(1))
        uow.commit()
    with uow_factory() as uow:
        got = uow.designs.get(FULL_DESIGN.id)
        assert got == FULL_DESIGN
        assert got is not None and got.dimensions.width_mm == Decimal("17.32")
        assert [g.carat for g in got.gemstones] == [Decimal("1.25"), Decimal("0.015"), Decimal("2")]
        assert got.published_at is not None and got.published_at.utcoffset() == timedelta(0)
        assert uow.designs.get("design-0001") == make_design(1)
        assert uow.designs.get("nope") is None


def test_design_times_in_other_zones_come_back_as_the_same_instant(uow_factory: UnitOfWorkFactory) -> None:
    seed_designers(uow_factory)
    local = T0.astimezone(PLUS_0800)
    design = make_design(1, created_at=local, updated_at=local, published_at=local, status=DesignStatus.PUBLISHED)
    with uow_factory() as uow:
        uow.designs.add(design)
        uow.commit()
    with uow_factory() as uow:
        got = uow.designs.get(design.id)
        assert got is not None and got.published_at == T0 and got.created_at == T0


def test_duplicate_design_id_is_a_conflict_and_the_unit_of_work_stays_usable(uow_factory: UnitOfWorkFactory) -> None:
    seed_designers(uow_factory)
    with uow_factory() as uow:
        uow.designs.add(make_design(1))
        with pytest.raises(Conflict):
            uow.designs.add(make_design(1, title="Again"))
        uow.designs.add(make_design(2))
        uow.commit()
    with uow_factory() as uow:
        assert uow.designs.get("design-0001") == make_design(1)
        assert uow.designs.get("design-0002") is not None


def test_design_update_replaces_every_field(uow_factory: UnitOfWorkFactory) -> None:
    seed_designers(uow_factory)
    with uow_factory() as uow:
        uow.designs.add(FULL_DESIGN)
        uow.commit()
    changed = attrs.evolve(
        FULL_DESIGN,
        title="Plain band",
        metals=("sterling_silver",),
        gemstones=(),
        dimensions=Dimensions(width_mm=Decimal("3")),
        tags=(),
        price_guidance=None,
        status=DesignStatus.REMOVED,
        removed_at=T0 + timedelta(days=3),
        updated_at=T0 + timedelta(days=3),
    )
    with uow_factory() as uow:
        uow.designs.update(changed)
        uow.commit()
    with uow_factory() as uow:
        assert uow.designs.get(FULL_DESIGN.id) == changed
        with pytest.raises(NotFound):
            uow.designs.update(make_design(99))


def test_list_by_designer_is_newest_first_with_drafts(uow_factory: UnitOfWorkFactory) -> None:
    seed_designers(uow_factory, make_user(1), make_user(2))
    mine = [
        make_design(1),
        published(2),
        make_design(3, status=DesignStatus.REMOVED, removed_at=T0),
        make_design(4, created_at=T0 + timedelta(minutes=2)),  # same time as design 2: id decides
    ]
    with uow_factory() as uow:
        for d in [*mine, make_design(5, designer=2)]:
            uow.designs.add(d)
        uow.commit()
    with uow_factory() as uow:
        assert [d.id for d in uow.designs.list_by_designer("user-0001")] == [
            "design-0003", "design-0004", "design-0002", "design-0001"
        ]
        assert [d.id for d in uow.designs.list_by_designer("user-0002")] == ["design-0005"]
        assert uow.designs.list_by_designer("nobody") == []


# -- assets ---------------------------------------------------------------------------


CUBE = MeshMetrics(volume_mm3=1000.0, surface_area_mm2=600.0, bbox_mm=(10.0, 10.0, 10.0),
                   triangle_count=12, watertight=True, thinnest_wall_mm=0.55)


@pytest.mark.parametrize(
    "analysis",
    [
        assess(CUBE),
        assess(attrs.evolve(CUBE, watertight=False, thinnest_wall_mm=None)),
        assess(None),
        invalid_analysis("Not an STL file: ünïcødé"),
        assess(attrs.evolve(CUBE, volume_mm3=1234.5678901234567), casting_allowance=Decimal("0.075")),
    ],
    ids=["analysed", "not-watertight", "not-analysed", "invalid", "odd-figures"],
)
def test_cad_asset_round_trips_its_analysis_exactly(uow_factory: UnitOfWorkFactory, analysis: object) -> None:
    seed_designers(uow_factory)
    asset = make_asset(1, "design-0001", kind=AssetKind.CAD, visibility=Visibility.PRODUCTION,
                       filename="ring.stl", content_type="model/stl", analysis=analysis,
                       thumbnail_key=None, width_px=None, height_px=None)
    with uow_factory() as uow:
        uow.designs.add(make_design(1))
        uow.assets.add(asset)
        uow.commit()
    with uow_factory() as uow:
        got = uow.assets.get(asset.id)
        assert got == asset
        assert got is not None and got.analysis is not None
        for weight in got.analysis.weights:
            assert isinstance(weight.grams, Decimal)


def test_assets_list_oldest_first_and_delete(uow_factory: UnitOfWorkFactory) -> None:
    seed_designers(uow_factory)
    a3 = make_asset(3, "design-0001", at=T0)
    a2 = make_asset(2, "design-0001", at=T0 + timedelta(seconds=1))
    a1 = make_asset(1, "design-0001", at=T0 + timedelta(seconds=1))
    other = make_asset(4, "design-0002", at=T0 - timedelta(days=1))
    with uow_factory() as uow:
        uow.designs.add(make_design(1))
        uow.designs.add(make_design(2))
        for a in (a2, other, a1, a3):
            uow.assets.add(a)
        uow.commit()
    with uow_factory() as uow:
        assert uow.assets.list_for_design("design-0001") == [a3, a1, a2]
        uow.assets.delete(a1.id)
        uow.assets.delete("no-such-asset")  # idempotent
        uow.commit()
    with uow_factory() as uow:
        assert uow.assets.list_for_design("design-0001") == [a3, a2]
        assert uow.assets.get(a1.id) is None
        assert uow.assets.list_for_design("design-0002") == [other]


# -- pending blobs -------------------------------------------------------------------------


def test_pending_blobs_older_than_and_remove(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.pending_blobs.add("k/old", T0 - timedelta(hours=2))
        uow.pending_blobs.add("k/older", T0 - timedelta(hours=3))
        uow.pending_blobs.add("k/edge", T0)  # exactly at the bound: not older
        uow.pending_blobs.add("k/new", T0 + timedelta(minutes=1))
        uow.commit()
    with uow_factory() as uow:
        assert sorted(uow.pending_blobs.older_than(T0)) == ["k/old", "k/older"]
        assert len(uow.pending_blobs.older_than(T0, limit=1)) == 1
        assert sorted(uow.pending_blobs.older_than(T0.astimezone(PLUS_0800))) == ["k/old", "k/older"]
        uow.pending_blobs.remove("k/old")
        uow.pending_blobs.remove("k/never-there")
        uow.commit()
    with uow_factory() as uow:
        assert sorted(uow.pending_blobs.older_than(T0 + timedelta(days=1))) == ["k/edge", "k/new", "k/older"]


# -- saved designs --------------------------------------------------------------------------


def test_save_unsave_and_list(uow_factory: UnitOfWorkFactory) -> None:
    seed_designers(uow_factory, make_user(1), make_user(2))
    with uow_factory() as uow:
        for n in (1, 2, 3):
            uow.designs.add(published(n))
        assert uow.saved.save("user-0002", "design-0001", T0) is True
        assert uow.saved.save("user-0002", "design-0001", T0 + timedelta(hours=1)) is False
        assert uow.saved.save("user-0002", "design-0003", T0 + timedelta(minutes=5)) is True
        assert uow.saved.save("user-0002", "design-0002", T0 + timedelta(minutes=1)) is True
        assert uow.saved.save("user-0001", "design-0002", T0) is True
        uow.commit()
    with uow_factory() as uow:
        assert uow.saved.list_for_user("user-0002") == ["design-0003", "design-0002", "design-0001"]
        assert uow.saved.is_saved("user-0002", "design-0001")
        assert not uow.saved.is_saved("user-0001", "design-0001")
        assert uow.saved.unsave("user-0002", "design-0002") is True
        assert uow.saved.unsave("user-0002", "design-0002") is False
        uow.commit()
    with uow_factory() as uow:
        assert uow.saved.list_for_user("user-0002") == ["design-0003", "design-0001"]
        assert uow.saved.list_for_user("user-0001") == ["design-0002"]
        assert uow.saved.list_for_user("nobody") == []


# -- consents -------------------------------------------------------------------------------


def consent(n: int, visitor: str, user: str | None, at: datetime, analytics: bool = True) -> ConsentRecord:
    return ConsentRecord(
        id=f"consent-{n:04d}",
        visitor_id=visitor,
        user_id=user,
        notice_version=COOKIE_NOTICE_VERSION,
        analytics=analytics,
        at=at,
        client_address="203.0.113.0/24",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) ünï",
    )


def test_consent_latest_by_visitor_or_user(uow_factory: UnitOfWorkFactory) -> None:
    seed_designers(uow_factory, make_user(1), make_user(2))
    c1 = consent(1, "visitor-a", None, T0, analytics=True)
    c2 = consent(2, "visitor-a", None, T0 + timedelta(hours=1), analytics=False)
    c3 = consent(3, "visitor-b", "user-0001", T0 + timedelta(hours=2), analytics=True)
    c4 = consent(4, "visitor-c", "user-0001", T0 + timedelta(hours=1))
    c5 = consent(5, "visitor-d", None, T0 + timedelta(hours=5))
    same_time = consent(6, "visitor-e", None, T0)
    same_time_later_id = consent(7, "visitor-e", None, T0)
    with uow_factory() as uow:
        for c in (c1, c2, c3, c4, c5, same_time_later_id, same_time):
            uow.consents.add(c)
        uow.commit()
    with uow_factory() as uow:
        assert uow.consents.latest("visitor-a", None) == c2
        assert uow.consents.latest(None, "user-0001") == c3
        # logged in on a new browser: the user's choice wins if it is the newer one
        assert uow.consents.latest("visitor-a", "user-0001") == c3
        assert uow.consents.latest("visitor-d", "user-0001") == c5
        assert uow.consents.latest("visitor-e", None) == same_time_later_id  # ties: the larger id
        assert uow.consents.latest("visitor-z", "user-0002") is None
        assert uow.consents.latest(None, None) is None
        assert sorted(uow.consents.for_user("user-0001"), key=lambda c: (c.at, c.id)) == [c4, c3]
        assert uow.consents.for_user("user-0002") == []


# -- engagement -----------------------------------------------------------------------------


def event(n: int, kind: EventKind, at: datetime, design: str = "design-0001", depth: int | None = None) -> EngagementEvent:
    return EngagementEvent(
        id=f"event-{n:05d}", design_id=design, kind=kind, at=at, visitor_id=f"visitor-{n % 3}",
        user_id=None, scroll_depth=depth,
    )


def test_engagement_daily_aggregates_by_utc_day_with_the_median_scroll(uow_factory: UnitOfWorkFactory) -> None:
    seed_designers(uow_factory)
    day1 = datetime(2026, 11, 27, tzinfo=UTC)
    events = [
        event(1, EventKind.VIEW, day1 + timedelta(hours=1)),
        event(2, EventKind.VIEW, day1 + timedelta(hours=23, minutes=59, seconds=59, microseconds=999999)),
        event(3, EventKind.SAVE, day1 + timedelta(hours=5)),
        event(4, EventKind.SCROLL, day1 + timedelta(hours=5), depth=10),
        event(5, EventKind.SCROLL, day1 + timedelta(hours=6), depth=45),
        event(6, EventKind.SCROLL, day1 + timedelta(hours=7), depth=100),
        event(7, EventKind.SCROLL, day1 + timedelta(hours=8), depth=20),  # median of 10,20,45,100 = 32.5 -> 33
        # 01:00 on the 28th in Hong Kong is 17:00 on the 27th in UTC: a day is a UTC day
        event(8, EventKind.VIEW, datetime(2026, 11, 28, 1, 0, tzinfo=PLUS_0800)),
        # the next UTC day: only scrolls
        event(9, EventKind.SCROLL, day1 + timedelta(days=1), depth=70),
        event(10, EventKind.SCROLL, day1 + timedelta(days=1, hours=3), depth=30),
        event(11, EventKind.SCROLL, day1 + timedelta(days=1, hours=4), depth=50),
        # outside the range, and another design
        event(12, EventKind.VIEW, day1 - timedelta(microseconds=1)),
        event(13, EventKind.VIEW, day1 + timedelta(days=3)),
        event(14, EventKind.VIEW, day1 + timedelta(hours=2), design="design-0002"),
    ]
    with uow_factory() as uow:
        uow.designs.add(published(1))
        uow.designs.add(published(2))
        for e in events:
            uow.engagement.add(e)
        uow.commit()
    with uow_factory() as uow:
        assert uow.engagement.daily("design-0001", date(2026, 11, 27), date(2026, 11, 29)) == [
            DailyEngagement("design-0001", date(2026, 11, 27), views=3, saves=1, median_scroll_depth=33),
            DailyEngagement("design-0001", date(2026, 11, 28), views=0, saves=0, median_scroll_depth=50),
        ]
        assert uow.engagement.daily("design-0001", date(2026, 11, 30), date(2026, 11, 30)) == [
            DailyEngagement("design-0001", date(2026, 11, 30), views=1, saves=0, median_scroll_depth=None),
        ]
        assert uow.engagement.daily("design-0002", date(2026, 11, 28), date(2026, 12, 31)) == []
        # the counters the catalog sorts by moved with the events, in the same transaction
        page = uow.catalog.search(CatalogQuery(sort=Sort.MOST_VIEWED))
        assert [(i.design.id, i.views, i.saves) for i in page.items] == [
            ("design-0001", 5, 1), ("design-0002", 1, 0)
        ]


def test_engagement_rolls_back_with_the_events(uow_factory: UnitOfWorkFactory) -> None:
    seed_designers(uow_factory)
    with uow_factory() as uow:
        uow.designs.add(published(1))
        uow.commit()
    with uow_factory() as uow:
        uow.engagement.add(event(1, EventKind.VIEW, T0))
        uow.engagement.add(event(2, EventKind.SAVE, T0))
    with uow_factory() as uow:
        item = uow.catalog.search(CatalogQuery()).items[0]
        assert (item.views, item.saves) == (0, 0)
        assert uow.engagement.daily("design-0001", T0.date(), T0.date()) == []


# -- the catalog ----------------------------------------------------------------------------


def catalog_fixture(uow_factory: UnitOfWorkFactory) -> None:
    seed_designers(uow_factory, make_user(1, "Ada Goldsmith"), make_user(2, "Bo Silverman"))
    designs = [
        published(1, title="Twist band", description="A twisted gold band.", tags=("minimal",),
                  metals=("18k_yellow",), price_guidance=Money(50_000, "USD")),
        published(2, title="Halo ring", description="Classic halo.", tags=("bridal", "halo"),
                  metals=("platinum_950", "18k_white"),
                  gemstones=(Gemstone("diamond", GemOrigin.NATURAL, Decimal("1"), 1),),
                  price_guidance=Money(250_000, "USD")),
        published(3, designer=2, title="Pearl drop", description="Drop earrings.", category=Category.EARRINGS,
                  tags=("bridal",), metals=("sterling_silver",),
                  gemstones=(Gemstone("pearl", GemOrigin.NATURAL, Decimal("4"), 2),),
                  price_guidance=Money(20_000, "EUR")),
        published(4, designer=2, title="Wave pendant", description="Ocean wave.", category=Category.PENDANT,
                  metals=("18k_yellow", "sterling_silver"),
                  gemstones=(Gemstone("sapphire", GemOrigin.LAB_GROWN, Decimal("0.5"), 3),
                             Gemstone("diamond", GemOrigin.NATURAL, Decimal("0.1"), 10))),
        make_design(5, title="Secret halo draft", tags=("halo",)),
        make_design(6, title="Withdrawn halo", status=DesignStatus.WITHDRAWN, published_at=T0,
                    withdrawn_at=T0 + timedelta(hours=1), tags=("halo",)),
        make_design(7, title="Removed halo", status=DesignStatus.REMOVED, published_at=T0,
                    removed_at=T0 + timedelta(hours=1), tags=("halo",)),
    ]
    with uow_factory() as uow:
        for d in designs:
            uow.designs.add(d)
        uow.assets.add(make_asset(1, "design-0002", at=T0 + timedelta(seconds=5)))
        uow.assets.add(make_asset(2, "design-0002", at=T0 + timedelta(seconds=1), kind=AssetKind.RENDER))
        uow.assets.add(make_asset(3, "design-0002", at=T0 + timedelta(seconds=1), visibility=Visibility.PRODUCTION))
        uow.assets.add(make_asset(4, "design-0002", at=T0 + timedelta(seconds=5)))  # same time: id decides
        uow.assets.add(make_asset(5, "design-0003", at=T0))
        for n, (design, kind) in enumerate([("design-0003", EventKind.VIEW)] * 3 + [("design-0001", EventKind.VIEW)]
                                           + [("design-0004", EventKind.SAVE)] * 2):
            uow.engagement.add(event(n, kind, T0, design=design))
        uow.commit()


def ids(uow_factory: UnitOfWorkFactory, **query: object) -> list[str]:
    with uow_factory() as uow:
        return [i.design.id for i in uow.catalog.search(CatalogQuery(**query)).items]  # type: ignore[arg-type]


def test_catalog_shows_published_designs_only_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    catalog_fixture(uow_factory)
    assert ids(uow_factory) == ["design-0004", "design-0003", "design-0002", "design-0001"]
    assert ids(uow_factory, text="halo") == ["design-0002"]  # never the draft, withdrawn or removed ones


def test_catalog_items_carry_designer_counts_and_cover(uow_factory: UnitOfWorkFactory) -> None:
    catalog_fixture(uow_factory)
    with uow_factory() as uow:
        page = uow.catalog.search(CatalogQuery(sort=Sort.NEWEST))
        items = {i.design.id: i for i in page.items}
        assert items["design-0002"].design == uow.designs.get("design-0002")
    assert items["design-0002"].designer_name == "Ada Goldsmith"
    assert items["design-0003"].designer_name == "Bo Silverman"
    assert items["design-0002"].thumbnail_asset_id == "asset-0001"  # oldest *preview image*
    assert items["design-0003"].thumbnail_asset_id == "asset-0005"
    assert items["design-0001"].thumbnail_asset_id is None
    assert (items["design-0003"].views, items["design-0003"].saves) == (3, 0)
    assert (items["design-0004"].views, items["design-0004"].saves) == (0, 2)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": Category.RING}, ["design-0002", "design-0001"]),
        ({"metal": "sterling_silver"}, ["design-0004", "design-0003"]),
        ({"gemstone": "diamond"}, ["design-0004", "design-0002"]),
        ({"designer_id": "user-0002"}, ["design-0004", "design-0003"]),
        ({"tags": ("bridal",)}, ["design-0003", "design-0002"]),
        ({"tags": ("bridal", "halo")}, ["design-0002"]),
        ({"tags": ("bridal", "minimal")}, []),
        ({"currency": "USD", "price_min_minor": 50_000}, ["design-0002", "design-0001"]),
        ({"currency": "USD", "price_min_minor": 50_001, "price_max_minor": 250_000}, ["design-0002"]),
        ({"currency": "EUR", "price_max_minor": 20_000}, ["design-0003"]),
        ({"currency": "GBP", "price_min_minor": 0}, []),
        ({"text": "gold"}, ["design-0002", "design-0001"]),  # design 2 by its designer, Ada *Gold*smith
        ({"text": "silverman"}, ["design-0004", "design-0003"]),
        ({"text": "bridal"}, ["design-0003", "design-0002"]),  # a tag
        ({"text": "ocean"}, ["design-0004"]),  # the description
        ({"text": "TWIST band"}, ["design-0001"]),
        ({"text": "pearl drop"}, ["design-0003"]),
        ({"text": "pearl twist"}, []),
        ({"text": "hal"}, ["design-0002"]),  # words are matched from their start
        ({"text": "alo"}, []),
        ({"text": "bridal", "metal": "platinum_950", "gemstone": "diamond", "category": Category.RING},
         ["design-0002"]),
    ],
)
def test_catalog_filters(uow_factory: UnitOfWorkFactory, query: dict[str, object], expected: list[str]) -> None:
    catalog_fixture(uow_factory)
    assert ids(uow_factory, **query) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (Sort.NEWEST, ["design-0004", "design-0003", "design-0002", "design-0001"]),
        (Sort.MOST_VIEWED, ["design-0003", "design-0001", "design-0004", "design-0002"]),
        (Sort.MOST_SAVED, ["design-0004", "design-0003", "design-0002", "design-0001"]),
        (Sort.PRICE_ASC, ["design-0003", "design-0001", "design-0002", "design-0004"]),
        (Sort.PRICE_DESC, ["design-0002", "design-0001", "design-0003", "design-0004"]),
    ],
)
def test_catalog_sorts_and_pages(uow_factory: UnitOfWorkFactory, sort: Sort, expected: list[str]) -> None:
    catalog_fixture(uow_factory)
    assert ids(uow_factory, sort=sort) == expected
    seen: list[str] = []
    after = None
    with uow_factory() as uow:
        for _ in range(10):
            page = uow.catalog.search(CatalogQuery(sort=sort, after=after, limit=1))
            seen.extend(i.design.id for i in page.items)
            if page.next_cursor is None:
                break
            after = decode_cursor(page.next_cursor, sort)
    assert seen == expected


def test_catalog_facets_count_each_dimension_without_its_own_filter(uow_factory: UnitOfWorkFactory) -> None:
    catalog_fixture(uow_factory)
    with uow_factory() as uow:
        everything = uow.catalog.search(CatalogQuery()).facets
        rings_in_yellow = uow.catalog.search(CatalogQuery(category=Category.RING, metal="18k_yellow")).facets
        nothing = uow.catalog.search(CatalogQuery(text="nonexistentword")).facets
    assert everything == {
        "category": {"ring": 2, "earrings": 1, "pendant": 1},
        "metal": {"18k_yellow": 2, "platinum_950": 1, "18k_white": 1, "sterling_silver": 2},
        "gemstone": {"diamond": 2, "pearl": 1, "sapphire": 1},
    }
    assert rings_in_yellow == {
        "category": {"ring": 1, "pendant": 1},  # yellow gold designs, any category
        "metal": {"18k_yellow": 1, "platinum_950": 1, "18k_white": 1},  # rings, any metal
        "gemstone": {},  # yellow gold rings: only the twist band, which has no stones
    }
    assert nothing == {"category": {}, "metal": {}, "gemstone": {}}


def test_designer_rename_is_found_by_text_search(uow_factory: UnitOfWorkFactory) -> None:
    catalog_fixture(uow_factory)
    with uow_factory() as uow:
        user = uow.users.get("user-0002")
        assert user is not None
        uow.users.update(attrs.evolve(user, name="Cleo Platinova"))
        uow.commit()
    assert ids(uow_factory, text="platinova") == ["design-0004", "design-0003"]
    assert ids(uow_factory, text="silverman") == []
