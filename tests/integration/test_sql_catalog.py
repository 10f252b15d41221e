"""The SQL catalog on SQLite and PostgreSQL, beyond the shared contract:

- hypothesis-generated catalogs searched with generated queries give exactly what
  the in-memory fake (the reference) gives: items, cursors and facets, and paging
  through every sort visits each matching published design exactly once;
- hostile search text never errors and is never read as query syntax;
- one search is a fixed number of statements whatever the page size (no N+1), and
  the text match uses the full-text index;
- full-text data follow updates; view/save counters survive concurrent writers;
- the schema refuses values the domain does not know.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.exc import IntegrityError

from caratzon_adapters.sql import tables
from caratzon_adapters.sql.catalog import ENGLISH_STOP_WORDS, search_terms
from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory
from caratzon_core.accounts import Language, Role, User, UserStatus
from caratzon_core.catalog import CatalogPage, CatalogQuery, Sort, decode_cursor
from caratzon_core.consent import EngagementEvent, EventKind
from caratzon_core.designs import (
    METALS,
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
from caratzon_core.money import Money
from caratzon_core.ports import UnitOfWorkFactory
from caratzon_core.testing import InMemoryStore

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

# Words that are their own stem for both Porter (SQLite) and Snowball english
# (PostgreSQL), so stemming databases and the fake's plain word-prefix rule agree.
VOCABULARY = ["arc", "art", "band", "bloom", "bold", "coral", "crown", "curl", "deco", "drop", "fern", "gold", "halo", "knot", "leaf", "loop", "moon", "opal", "pearl", "petal", "ring", "rose", "silver", "spire", "star", "sun", "twist", "vine", "wave"]
PREFIXES = sorted({w[:2] for w in VOCABULARY} - ENGLISH_STOP_WORDS)
TAGS = ("halo", "deco", "bloom", "wave", "star")
DESIGNERS = {"user-0001": "Ada Goldsmith", "user-0002": "Bo Silverman", "user-0003": "Cy Moonwright"}
GEMS = ("diamond", "pearl", "sapphire")


@pytest.fixture
def sql(sql_uow: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    """A migrated database of its own on each backend (``engine`` is the same one's)."""
    return sql_uow


def designer(user_id: str, name: str) -> User:
    return User(
        id=user_id, email=f"{user_id}@example.com", name=name, role=Role.DESIGNER, password_hash="x",
        language=Language.EN, status=UserStatus.ACTIVE, business_name=None, business_address=None,
        age_confirmed_at=T0, created_at=T0, updated_at=T0,
    )


def add_designers(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        for user_id, name in DESIGNERS.items():
            uow.users.add(designer(user_id, name))
        uow.commit()


# -- generated catalogs -------------------------------------------------------------------

words = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=4).map(" ".join)


@st.composite
def designs_strategy(draw: st.DrawFn) -> list[Design]:
    count = draw(st.integers(min_value=0, max_value=14))
    result = []
    for n in range(count):
        status = draw(st.sampled_from([DesignStatus.PUBLISHED] * 4 + list(DesignStatus)))
        # few distinct times, prices and counts: ties are where keyset paging goes wrong
        at = T0 + timedelta(hours=draw(st.integers(0, 3)), microseconds=draw(st.sampled_from([0, 1, 500_000])))
        price = draw(st.one_of(st.none(), st.builds(Money, st.sampled_from([100, 5_000, 99_999]),
                                                    st.sampled_from(["USD", "EUR"]))))
        result.append(
            Design(
                id=f"d-{n:02d}",
                designer_id=draw(st.sampled_from(sorted(DESIGNERS))),
                title=draw(words),
                description=draw(st.one_of(st.just(""), words)),
                category=draw(st.sampled_from(list(Category))),
                metals=tuple(draw(st.lists(st.sampled_from(sorted(METALS)), max_size=3, unique=True))),
                gemstones=tuple(
                    Gemstone(t, draw(st.sampled_from(list(GemOrigin))), Decimal("0.25"), 1)
                    for t in draw(st.lists(st.sampled_from(GEMS), max_size=3))
                ),
                dimensions=Dimensions(width_mm=draw(st.sampled_from([None, Decimal("17.5")]))),
                tags=tuple(draw(st.lists(st.sampled_from(TAGS), max_size=3, unique=True))),
                price_guidance=price,
                status=status,
                created_at=T0,
                updated_at=at,
                published_at=at if status is not DesignStatus.DRAFT else None,
            )
        )
    return result


@st.composite
def catalogs(draw: st.DrawFn) -> tuple[list[Design], list[Asset], list[EngagementEvent]]:
    designs = draw(designs_strategy())
    assets: list[Asset] = []
    events: list[EngagementEvent] = []
    for design in designs:
        for _ in range(draw(st.integers(0, 2))):
            n = len(assets)
            assets.append(Asset(
                id=f"a-{n:03d}", design_id=design.id,
                kind=draw(st.sampled_from([AssetKind.IMAGE, AssetKind.IMAGE, AssetKind.RENDER])),
                visibility=draw(st.sampled_from([Visibility.PREVIEW, Visibility.PREVIEW, Visibility.PRODUCTION])),
                blob_key=f"blobs/{n}", filename="x.png", content_type="image/png", size=1, sha256="0" * 64,
                created_at=T0 + timedelta(seconds=draw(st.integers(0, 1))),
            ))
        for kind in draw(st.lists(st.sampled_from([EventKind.VIEW, EventKind.SAVE, EventKind.SCROLL]), max_size=4)):
            n = len(events)
            events.append(EngagementEvent(f"e-{n:03d}", design.id, kind, T0, f"visitor-{n}", None,
                                          50 if kind is EventKind.SCROLL else None))
    return designs, assets, events


queries = st.builds(
    CatalogQuery,
    text=st.one_of(
        st.none(), st.sampled_from(VOCABULARY), st.sampled_from(PREFIXES), words,
        st.sampled_from(["gold", "silverman", "moonwright", "ada", "Halo STAR", "go ri"]),
    ),
    category=st.one_of(st.none(), st.sampled_from(list(Category))),
    metal=st.one_of(st.none(), st.sampled_from(sorted(METALS))),
    gemstone=st.one_of(st.none(), st.sampled_from(GEMS)),
    designer_id=st.one_of(st.none(), st.none(), st.sampled_from(sorted(DESIGNERS))),
    tags=st.lists(st.sampled_from(TAGS), max_size=2, unique=True).map(tuple),
    currency=st.sampled_from(["USD", "EUR"]),
    price_min_minor=st.one_of(st.none(), st.none(), st.sampled_from([100, 5_000])),
    price_max_minor=st.one_of(st.none(), st.none(), st.sampled_from([5_000, 99_999])),
    sort=st.sampled_from(list(Sort)),
    limit=st.integers(1, 5),
)


def load(uow_factory: UnitOfWorkFactory, designs: list[Design], assets: list[Asset],
         events: list[EngagementEvent]) -> None:
    with uow_factory() as uow:
        for design in designs:
            uow.designs.add(design)
        for asset in assets:
            uow.assets.add(asset)
        for e in events:
            uow.engagement.add(e)
        uow.commit()


def clear(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in (tables.engagement_events, tables.saved_designs, tables.assets, tables.catalog_facet_counts,
                      tables.catalog_entries,
                      tables.design_stats, tables.design_tags, tables.designs):
            conn.execute(table.delete())


def all_pages(uow_factory: UnitOfWorkFactory, query: CatalogQuery) -> list[CatalogPage]:
    pages = []
    with uow_factory() as uow:
        while True:
            page = uow.catalog.search(query)
            pages.append(page)
            if page.next_cursor is None or len(pages) > 50:
                return pages
            query = attrs.evolve(query, after=decode_cursor(page.next_cursor, query.sort))


def test_generated_catalogs_match_the_fake_page_by_page(engine: Engine, sql: SqlUnitOfWorkFactory) -> None:
    add_designers(sql)
    examples = 30 if engine.dialect.name == "sqlite" else 20

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(catalog=catalogs(), searches=st.lists(queries, min_size=1, max_size=4))
    def check(catalog: tuple[list[Design], list[Asset], list[EngagementEvent]],
              searches: list[CatalogQuery]) -> None:
        clear(engine)
        fake = InMemoryStore()
        add_designers(fake)
        for uow_factory in (fake, sql):
            load(uow_factory, *catalog)
        check_facet_counts(sql)
        designs = catalog[0]
        for query in searches:
            expected = all_pages(fake, query)
            got = all_pages(sql, query)
            assert got == expected, query
            seen = [i.design.id for page in got for i in page.items]
            assert len(seen) == len(set(seen)), "a design appeared twice"
            assert all(len(page.items) == query.limit for page in got[:-1])
            published = {d.id for d in designs if d.status is DesignStatus.PUBLISHED}
            assert set(seen) <= published
            if query == CatalogQuery(sort=query.sort, limit=query.limit, currency=query.currency):
                assert set(seen) == published  # no filter: every published design, once
                assert got[0].facets["category"] == count_by(
                    d.category.value for d in designs if d.id in published
                )

    check()


def count_by(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


# -- hostile text -------------------------------------------------------------------------

HOSTILE = [
    '"', '""', "'", "''", "OR", "ring OR halo", "*", "ring*", "NEAR(", "NEAR(ring halo, 2)", "ring NOT halo",
    "-ring", "^ring", "ring AND", "(", ")", "{title}: ring", "title:ring", "ring:*", "!ring", "ring & | halo",
    "ring <-> halo", "'ring':* & 'halo'", "\\", "%", "_", "; DROP TABLE designs; --", "\x00", "ring\x00halo",
    "💍", "星 戒指", "Étoile", "e\u0301toile", "ÉTOILE", "ß", "ﬁligree", "İstanbul", "a" * 200,
    " ".join(["ring"] * 60), "the", "the and of", "s", "18k", "0", "¼", "٣", "\u200b", "\t\n",
]


def test_hostile_search_text_never_errors_nor_reads_as_syntax(sql: SqlUnitOfWorkFactory, engine: Engine) -> None:
    add_designers(sql)
    gold = attrs.evolve(make_simple("d-1"), title="Gold ring", tags=("halo",))
    star = attrs.evolve(make_simple("d-2"), title="Étoile star", description="星 戒指 pendant")
    load(sql, [gold, star], [], [])
    with sql() as uow:
        for hostile in HOSTILE:
            page = uow.catalog.search(CatalogQuery(text=hostile))
            found = {i.design.id for i in page.items}
            assert found <= {"d-1", "d-2"}, hostile
            if not search_terms(hostile):  # nothing searchable: the whole catalog
                assert found == {"d-1", "d-2"}, hostile
        # operators are plain words: "ring OR halo" needs a word starting "ring" AND one starting "halo"
        # ("or" is a stop word); "ring NOT halo" needs "not" too, a stop word, so it finds the gold ring
        assert [i.design.id for i in uow.catalog.search(CatalogQuery(text="ring OR star")).items] == []
        assert [i.design.id for i in uow.catalog.search(CatalogQuery(text="ring NOT halo")).items] == ["d-1"]
        assert [i.design.id for i in uow.catalog.search(CatalogQuery(text="NEAR(gold ring, 2)")).items] == []
        assert [i.design.id for i in uow.catalog.search(CatalogQuery(text="étoile")).items] == ["d-2"]
        assert [i.design.id for i in uow.catalog.search(CatalogQuery(text="星")).items] == ["d-2"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.designs)).scalar_one() == 2


def make_simple(design_id: str) -> Design:
    return Design(
        id=design_id, designer_id="user-0001", title="Plain", description="", category=Category.RING,
        metals=(), gemstones=(), dimensions=Dimensions(), tags=(), price_guidance=None,
        status=DesignStatus.PUBLISHED, created_at=T0, updated_at=T0, published_at=T0,
    )


def test_search_terms_are_words_only() -> None:
    assert search_terms('"Ring" OR  halo* NEAR(x) the; DROP') == ["ring", "halo", "near", "x", "drop"]
    assert search_terms("art_deco 18K ring ring") == ["art", "deco", "18k", "ring"]
    assert search_terms("\"'*()-^:") == []


# -- statements, plans, maintenance ---------------------------------------------------------


def count_statements(engine: Engine) -> tuple[list[str], Callable[[], None]]:
    seen: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    return seen, lambda: event.remove(engine, "before_cursor_execute", listener)


def test_one_search_is_a_fixed_number_of_statements(sql: SqlUnitOfWorkFactory, engine: Engine) -> None:
    add_designers(sql)
    many = [attrs.evolve(make_simple(f"d-{n:02d}"), title=f"Gold ring {n}", tags=("halo",)) for n in range(30)]
    covers = [Asset(f"a-{n:02d}", d.id, AssetKind.IMAGE, Visibility.PREVIEW, f"k/{n}", "x.png", "image/png",
                    1, "0" * 64, T0) for n, d in enumerate(many)]
    load(sql, many, covers, [])
    counts = []
    for limit in (1, 5, 24):
        with sql() as uow:
            uow.designs.get("warm-up")  # the transaction's BEGIN is not the search's
            statements, stop = count_statements(engine)
            try:
                page = uow.catalog.search(CatalogQuery(text="gold", metal=None, limit=limit, sort=Sort.MOST_VIEWED))
            finally:
                stop()
        assert len(page.items) == limit and all(i.thumbnail_asset_id for i in page.items)
        counts.append(len(statements))
    expected = 4 if engine.dialect.name == "postgresql" else 3  # (SET LOCAL,) page, covers, facets
    assert counts == [expected] * 3


def explain(engine: Engine, statement: Any) -> str:
    with engine.connect() as conn:
        sql_text = statement.compile(conn, compile_kwargs={"literal_binds": True})
        if engine.dialect.name == "sqlite":
            return " / ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql_text}"))
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # tiny tables: ask whether an index *can* serve
        return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql_text}"))


@pytest.mark.parametrize(
    ("query", "sqlite_index"),
    [
        (CatalogQuery(text="gold ring", category=Category.RING, metal="18k_yellow", sort=Sort.MOST_VIEWED),
         "ix_catalog_entries_category_views_design_id"),
        (CatalogQuery(text="gold", sort=Sort.MOST_VIEWED), "ix_catalog_entries_views_design_id"),
        (CatalogQuery(text="gold", sort=Sort.MOST_SAVED, after=(3, "d-9")), "ix_catalog_entries_saves_design_id"),
        (CatalogQuery(text="gold", category=Category.PENDANT, sort=Sort.NEWEST, after=(T0.isoformat(), "d-1")),
         "ix_catalog_entries_category_published_at_design_id"),
        (CatalogQuery(text="gold", sort=Sort.PRICE_ASC), None),
        (CatalogQuery(text="gold", designer_id="user-0001"), None),
    ],
    ids=["target", "views", "saves-after", "newest-category-after", "price", "designer"],
)
def test_text_search_plans(engine: Engine, query: CatalogQuery, sqlite_index: str | None) -> None:
    from caratzon_adapters.sql.catalog import SqlCatalogReader

    with engine.connect() as conn:
        reader = SqlCatalogReader(conn)
        page, facets = reader.page_statement(query), reader.facet_statement(query)
    page_plan, facet_plan = explain(engine, page), explain(engine, facets)
    if engine.dialect.name == "sqlite":
        assert "SCAN catalog_fts VIRTUAL TABLE INDEX" in page_plan
        if sqlite_index:  # the sort's index walked in order: no sorting step, whatever the planner thinks
            assert f"INDEX {sqlite_index}" in page_plan and "TEMP B-TREE FOR ORDER BY" not in page_plan.split(
                "SEARCH designs")[0]
        # facets: the matched rowids drive, one lookup each
        assert "SEARCH catalog_by_rowid USING INTEGER PRIMARY KEY (rowid=?)" in facet_plan
    elif query.designer_id is None:  # (a designer's own listing goes by the designer index)
        assert "ix_catalog_entries_search_vector" in facet_plan


def test_full_text_follows_updates_and_deletes(sql: SqlUnitOfWorkFactory, engine: Engine) -> None:
    add_designers(sql)
    load(sql, [attrs.evolve(make_simple("d-1"), title="Coral crown")], [], [])
    with sql() as uow:
        design = uow.designs.get("d-1")
        assert design is not None
        uow.designs.update(attrs.evolve(design, title="Opal loop", tags=("wave",)))
        uow.commit()
    with sql() as uow:
        assert [i.design.id for i in uow.catalog.search(CatalogQuery(text="opal wave")).items] == ["d-1"]
        assert uow.catalog.search(CatalogQuery(text="coral")).items == ()
        design = uow.designs.get("d-1")
        assert design is not None
        uow.designs.update(attrs.evolve(design, status=DesignStatus.WITHDRAWN, withdrawn_at=T0))
        uow.commit()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.catalog_entries)).scalar_one() == 0
        if engine.dialect.name == "sqlite":
            # the external-content index agrees with its table (FTS5's own check), and forgot the design
            conn.exec_driver_sql("INSERT INTO catalog_fts(catalog_fts, rank) VALUES ('integrity-check', 1)")
            assert conn.exec_driver_sql(
                "SELECT count(*) FROM catalog_fts WHERE catalog_fts MATCH 'opal'"
            ).scalar_one() == 0


def test_catalog_entry_follows_the_lifecycle_and_keeps_the_counters(sql: SqlUnitOfWorkFactory) -> None:
    add_designers(sql)
    draft = attrs.evolve(make_simple("d-1"), status=DesignStatus.DRAFT, published_at=None, title="Star knot")
    load(sql, [draft], [], [EngagementEvent("e-1", "d-1", EventKind.VIEW, T0, "v", None)])

    def listed(text: str | None = None) -> list[tuple[str, int, int]]:
        with sql() as uow:
            page = uow.catalog.search(CatalogQuery(text=text))
            return [(i.design.id, i.views, i.saves) for i in page.items]

    def move(**changes: Any) -> None:
        with sql() as uow:
            design = uow.designs.get("d-1")
            assert design is not None
            uow.designs.update(attrs.evolve(design, **changes))
            uow.commit()

    assert listed() == []
    move(status=DesignStatus.PUBLISHED, published_at=T0)
    assert listed("star") == [("d-1", 1, 0)]  # counted while a draft (a preview), shown once published
    with sql() as uow:
        uow.engagement.add(EngagementEvent("e-2", "d-1", EventKind.SAVE, T0, "v", None))
        uow.commit()
    move(status=DesignStatus.WITHDRAWN, withdrawn_at=T0)
    assert listed() == []
    with sql() as uow:
        uow.engagement.add(EngagementEvent("e-3", "d-1", EventKind.VIEW, T0, "v", None))
        uow.commit()
    move(status=DesignStatus.PUBLISHED, title="Moon knot", metals=("platinum_950",))
    assert listed("moon") == [("d-1", 2, 1)]
    assert listed("star") == []
    with sql() as uow:
        assert [i.design.id for i in uow.catalog.search(CatalogQuery(metal="platinum_950")).items] == ["d-1"]
        assert uow.catalog.search(CatalogQuery(metal="18k_yellow")).items == ()
    check_facet_counts(sql)
    move(status=DesignStatus.REMOVED, removed_at=T0)
    assert listed() == []
    check_facet_counts(sql)


def check_facet_counts(sql: SqlUnitOfWorkFactory) -> None:
    """The kept per-combination counts agree with the entries they count."""
    from caratzon_adapters.sql.repositories import facet_counts_from_entries

    with sql() as uow:
        conn = uow.connection
        kept = {(c, m, g): n for c, m, g, n in conn.execute(select(tables.catalog_facet_counts)) if n}
        assert kept == facet_counts_from_entries(conn)


def test_every_metal_and_gemstone_of_the_core_has_a_catalog_bit() -> None:
    from caratzon_core.designs import GEMSTONE_TYPES

    assert set(METALS) <= set(tables.METAL_BITS)
    assert set(GEMSTONE_TYPES) <= set(tables.GEMSTONE_BITS)
    for bits in (tables.METAL_BITS, tables.GEMSTONE_BITS):
        assert sorted(bits.values()) == list(range(len(bits))) and len(bits) <= 31  # fits a signed INTEGER


def test_concurrent_views_are_all_counted(sql: SqlUnitOfWorkFactory) -> None:
    add_designers(sql)
    load(sql, [make_simple("d-1")], [], [])
    errors: list[BaseException] = []

    def viewer(worker: int) -> None:
        try:
            for n in range(10):
                with sql() as uow:
                    uow.engagement.add(EngagementEvent(f"e-{worker}-{n}", "d-1", EventKind.VIEW, T0,
                                                       f"visitor-{worker}", None))
                    uow.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=viewer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sql() as uow:
        assert uow.catalog.search(CatalogQuery()).items[0].views == 40


# -- the schema refuses what the domain does not know ----------------------------------------

GOOD_DESIGN = {
    "id": "d-x", "designer_id": "user-0001", "title": "t", "description": "", "category": "ring",
    "metals": [], "gemstones": [], "tags": [], "width_mm": None, "height_mm": None, "depth_mm": None,
    "price_minor": None, "price_currency": None, "status": "draft", "created_at": T0, "updated_at": T0,
    "published_at": None, "withdrawn_at": None, "removed_at": None,
}
GOOD_ASSET = {
    "id": "a-x", "design_id": "d-0", "kind": "image", "visibility": "preview", "blob_key": "k-x",
    "filename": "f", "content_type": "image/png", "size": 1, "sha256": "0", "analysis": None,
    "thumbnail_key": None, "width_px": None, "height_px": None, "created_at": T0,
}
GOOD_EVENT = {"id": "e-x", "design_id": "d-0", "kind": "view", "at": T0, "visitor_id": "v", "user_id": None,
              "scroll_depth": None}


@pytest.mark.parametrize(
    ("table", "values"),
    [
        (tables.designs, {**GOOD_DESIGN, "category": "tiara"}),
        (tables.designs, {**GOOD_DESIGN, "status": "deleted"}),
        (tables.designs, {**GOOD_DESIGN, "price_minor": 100}),
        (tables.designs, {**GOOD_DESIGN, "price_currency": "USD"}),
        (tables.designs, {**GOOD_DESIGN, "designer_id": "nobody"}),
        (tables.designs, {**GOOD_DESIGN, "id": "d-0"}),
        (tables.assets, {**GOOD_ASSET, "kind": "video"}),
        (tables.assets, {**GOOD_ASSET, "visibility": "public"}),
        (tables.assets, {**GOOD_ASSET, "size": -1}),
        (tables.assets, {**GOOD_ASSET, "design_id": "nowhere"}),
        (tables.engagement_events, {**GOOD_EVENT, "kind": "click"}),
        (tables.engagement_events, {**GOOD_EVENT, "kind": "scroll", "scroll_depth": 101}),
        (tables.design_stats, {"design_id": "d-0", "views": -1, "saves": 0}),
    ],
    ids=["category", "status", "price-without-currency", "currency-without-price", "designer-fk", "duplicate-id",
         "asset-kind", "visibility", "size", "asset-fk", "event-kind", "scroll-depth", "negative-views"],
)
def test_the_schema_refuses_unknown_values(sql: SqlUnitOfWorkFactory, engine: Engine, table: tables.Table,
                                           values: dict[str, object]) -> None:
    add_designers(sql)
    load(sql, [attrs.evolve(make_simple("d-0"))], [], [])
    if table is tables.design_stats:
        with engine.begin() as conn:
            conn.execute(tables.design_stats.delete())
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(table).values(values))
    good = {tables.designs: GOOD_DESIGN, tables.assets: GOOD_ASSET, tables.engagement_events: GOOD_EVENT,
            tables.design_stats: {"design_id": "d-0", "views": 0, "saves": 0}}[table]
    with engine.begin() as conn:  # the good row goes in
        conn.execute(insert(table).values(good))
