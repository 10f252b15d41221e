"""Catalog search speed (issue #3): a filtered text-search page of 24 over 100,000
published designs, through ``CatalogReader.search`` and as the same SQL on the raw
driver, on SQLite and PostgreSQL.

Target: p95 under 25 ms for each, and the adapter no slower than 1.5x the raw driver.

Run: ``python benchmarks/bench_catalog.py [--rows N] [--pg URL] [--repeat 300]``.
SQLite gets a file in a temporary directory; PostgreSQL (when ``--pg`` is given, e.g.
``postgresql://postgres@127.0.0.1:5432/postgres``) a temporary database, dropped at the
end. Seeding is set-based: ``executemany`` on SQLite, ``COPY`` on PostgreSQL, with rows
made by the adapter's own mapping (not the use cases).

"Raw" replays, on a plain ``sqlite3`` / ``psycopg`` connection (with the engine's
connection settings), exactly the statements and parameters the adapter sent for the
same search (captured from SQLAlchemy), and fetches every row; the adapter additionally
builds the domain objects. Both run inside one open transaction, so neither pays for
connecting or BEGIN, and they are timed in alternation so that load from neighbours on
a shared machine falls on both alike.

Besides the target query, a few other shapes are timed for the record (a very common
word, two words, the unfiltered first page, a deep page).
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from caratzon_adapters.sql import mapping, tables
from caratzon_adapters.sql.engine import SQLITE_MMAP_BYTES, make_engine, normalize_url
from caratzon_adapters.sql.migrate import upgrade
from caratzon_adapters.sql.repositories import rebuild_catalog_facet_counts
from caratzon_adapters.sql.uow import SqlUnitOfWork
from caratzon_core.accounts import Language, Role, User, UserStatus
from caratzon_core.catalog import CatalogQuery, Sort, decode_cursor
from caratzon_core.designs import Category, Design, DesignStatus, Dimensions, GemOrigin, Gemstone
from caratzon_core.money import Money

TARGET_P95_MS = 25.0
TARGET_RATIO = 1.5
T0 = datetime(2025, 1, 1, tzinfo=UTC)

STYLES = ["vintage", "modern", "classic", "deco", "minimal", "bold", "floral", "geometric", "twisted", "organic",
          "baroque", "nordic", "celestial", "botanical", "sculptural", "romantic", "industrial", "tribal",
          "victorian", "edwardian", "retro", "futurist", "gothic", "bohemian", "coastal"]
MOTIFS = ["halo", "solitaire", "eternity", "signet", "cluster", "bezel", "pave", "cathedral", "tension", "bypass",
          "knot", "leaf", "star", "moon", "wave", "heart", "snake", "feather", "flower", "crown", "arrow", "drop",
          "hoop", "chain", "bar", "disc", "coin", "shell", "branch", "vine"]
NOUNS = {Category.RING: "ring", Category.NECKLACE: "necklace", Category.PENDANT: "pendant",
         Category.EARRINGS: "earrings", Category.BRACELET: "bracelet", Category.BROOCH: "brooch",
         Category.OTHER: "piece"}
FILLER = [f"{a}{b}" for a in ("lum", "var", "cor", "sel", "tam", "bri", "gal", "mor", "pen", "ros")
          for b in ("ent", "ara", "ic", "ous", "ine", "ade", "ion", "ity", "al", "ery", "ette", "ish", "ory",
                    "ant", "ive", "ure", "age", "ing", "ism", "ful", "less", "ward", "wise", "ling", "ster",
                    "dom", "hood", "ship", "ness", "ment", "ance", "ence", "ist", "ite", "ize", "ify", "oid",
                    "ular")]
TAGS = ["bridal", "engagement", "everyday", "statement", "stackable", "minimalist", "vintage", "art deco",
        "nature", "geometric", "celestial", "men", "unisex", "gift", "anniversary", "birthstone", "heirloom",
        "custom", "sustainable", "recycled gold", "ethical", "lab grown", "colour", "pearl", "layering",
        "cocktail", "signet", "eternity", "halo", "solitaire", "pave", "bezel", "cluster", "three stone",
        "toi et moi", "charm", "initial", "zodiac", "talisman", "keepsake"]
METAL_CODES = ["18k_yellow", "18k_white", "18k_rose", "14k_yellow", "14k_white", "14k_rose", "platinum_950",
               "sterling_silver"]
GEMS = ["diamond", "sapphire", "ruby", "emerald", "pearl", "spinel", "tourmaline", "topaz", "aquamarine",
        "amethyst", "garnet", "opal", "tanzanite", "morganite", "moissanite"]
FIRST = ["Ada", "Bo", "Cy", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Mo", "Nia", "Oz",
         "Pia", "Quin", "Rae", "Sol", "Tia"]
LAST = ["Goldsmith", "Silverman", "Stone", "Castellan", "Okafor", "Nakamura", "Lindqvist", "Moreau", "Chen",
        "Rossi", "Haddad", "Kowalski", "Novak", "Singh", "Tanaka", "Duarte", "Byrne", "Petrov", "Mensah", "Vogel"]

TARGET = CatalogQuery(text="vintage", category=Category.RING, metal="18k_yellow", sort=Sort.MOST_VIEWED, limit=24)
OTHERS = {
    "common word ('ring' in ~1/7 titles + tags)": CatalogQuery(text="ring", metal="18k_yellow",
                                                                sort=Sort.MOST_VIEWED),
    "two words, newest": CatalogQuery(text="celestial moon", sort=Sort.NEWEST),
    "prefix 'vin', price range": CatalogQuery(text="vin", currency="USD", price_min_minor=50_000,
                                              price_max_minor=500_000, sort=Sort.PRICE_ASC),
    "no text, category + metal, most viewed": CatalogQuery(category=Category.NECKLACE, metal="platinum_950",
                                                           sort=Sort.MOST_VIEWED),
    "no text, no filter, newest (front page)": CatalogQuery(sort=Sort.NEWEST),
}


@dataclass
class Timing:
    p50: float
    p95: float


def percentiles(samples: list[float]) -> Timing:
    ordered = sorted(samples)
    return Timing(statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000)


# -- data -------------------------------------------------------------------------------


Catalog = tuple[list[User], dict[str, list[dict[str, Any]]]]


def make_catalog(rows: int, seed: int = 20261127) -> Catalog:
    """Designers and the rows of every table a published design touches, made with the
    adapter's own mapping functions so they are what the repositories would write."""
    rnd = random.Random(seed)
    designers = [
        User(id=f"designer-{n:05d}", email=f"designer{n}@example.com",
             name=f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]}{'' if n < 400 else n}",
             role=Role.DESIGNER, password_hash="x", language=Language.EN, status=UserStatus.ACTIVE,
             business_name=None, business_address=None, age_confirmed_at=T0, created_at=T0, updated_at=T0)
        for n in range(max(1, rows // 50))
    ]
    names = {u.id: u.name for u in designers}
    tables_rows: dict[str, list[dict[str, Any]]] = {"designs": [], "design_tags": [], "design_stats": [],
                                                    "catalog_entries": []}
    categories = list(Category)
    for n in range(rows):
        category = rnd.choice(categories)
        title = f"{rnd.choice(STYLES).capitalize()} {rnd.choice(MOTIFS)} {NOUNS[category]}"
        description = " ".join(rnd.choices(FILLER, k=rnd.randint(12, 40))) + "."
        published = T0 + timedelta(seconds=rnd.randrange(60 * 60 * 24 * 600), microseconds=rnd.randrange(10**6))
        design = Design(
            id=f"design-{n:07d}",
            designer_id=rnd.choice(designers).id,
            title=title,
            description=description,
            category=category,
            metals=tuple(rnd.sample(METAL_CODES, rnd.choice([1, 1, 1, 2, 2, 3]))),
            gemstones=tuple(Gemstone(g, GemOrigin.NATURAL, Decimal("0.5"), 1)
                            for g in rnd.sample(GEMS, rnd.choice([0, 1, 1, 2]))),
            dimensions=Dimensions(Decimal("17.3"), None, None),
            tags=tuple(rnd.sample(TAGS, rnd.randint(1, 4))),
            price_guidance=None if rnd.random() < 0.2 else Money(rnd.randrange(10_000, 2_000_000), "USD"),
            status=DesignStatus.PUBLISHED,
            created_at=published,
            updated_at=published,
            published_at=published,
        )
        stats = {"views": int(rnd.paretovariate(1.1) * 20), "saves": int(rnd.paretovariate(1.3) * 2)}
        tables_rows["designs"].append(mapping.design_to_row(design))
        tables_rows["design_tags"].extend({"design_id": design.id, "tag": t} for t in design.tags)
        tables_rows["design_stats"].append({"design_id": design.id, **stats})
        tables_rows["catalog_entries"].append(
            {**mapping.catalog_entry(design, designer_name=names[design.designer_id]), **stats}
        )
    return designers, tables_rows


def seed_sqlite(engine: Engine, catalog: Catalog) -> None:
    designers, rows = catalog
    with engine.begin() as conn:
        conn.execute(insert(tables.users), [mapping.user_to_row(u) for u in designers])
        for name, table_rows in rows.items():  # catalog_entries last: its FTS5 triggers index each row
            conn.execute(insert(tables.metadata.tables[name]), table_rows)
        rebuild_catalog_facet_counts(conn)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def seed_postgres(url: str, catalog: Catalog) -> None:
    import psycopg
    from psycopg.types.json import Json

    designers, rows = catalog

    def copy(cur: Any, table: str, table_rows: list[dict[str, Any]]) -> None:
        columns = list(table_rows[0])
        json_columns = {c.name for c in tables.metadata.tables[table].c if isinstance(c.type, JSON)}
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
            for row in table_rows:
                cp.write_row(tuple(Json(row[c]) if c in json_columns else row[c] for c in columns))

    with psycopg.connect(url) as pg, pg.cursor() as cur:
        copy(cur, "users", [mapping.user_to_row(u) for u in designers])
        for name, table_rows in rows.items():
            copy(cur, name, table_rows)
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            rebuild_catalog_facet_counts(conn)
    finally:
        engine.dispose()
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("VACUUM ANALYZE")


# -- timing -----------------------------------------------------------------------------


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def listener(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def time_calls(fn: Callable[[], object], repeat: int) -> Timing:
    for _ in range(min(20, repeat)):
        fn()  # warm caches, statement caches and psycopg's prepared statements
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


def time_pair(first: Callable[[], object], second: Callable[[], object], repeat: int) -> tuple[Timing, Timing]:
    """Both timed in alternation, so a busy neighbour on a shared machine slows both alike."""
    for _ in range(min(20, repeat)):
        first()
        second()
    a, b = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        first()
        middle = time.perf_counter()
        second()
        b.append(time.perf_counter() - middle)
        a.append(middle - start)
    return percentiles(a), percentiles(b)


def bench(name: str, engine: Engine, raw_connect: Callable[[], Any], repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    raw = raw_connect()
    try:
        with SqlUnitOfWork(engine) as uow:
            first = uow.catalog.search(TARGET)
            with captured(engine) as statements:
                uow.catalog.search(TARGET)
            cur = raw.cursor()

            def replay() -> None:
                for statement, parameters in statements:
                    cur.execute(statement, parameters)
                    if cur.description is not None:
                        cur.fetchall()

            adapter, raw_timing = time_pair(lambda: uow.catalog.search(TARGET), replay, repeat)
            others = {label: time_calls(lambda q=q: uow.catalog.search(q), max(50, repeat // 3))
                      for label, q in OTHERS.items()}
            if first.next_cursor:
                page = TARGET
                for _ in range(8):  # the ninth page of the target search
                    result = uow.catalog.search(page)
                    if result.next_cursor is None:
                        break
                    page = CatalogQuery(**{**_fields(TARGET), "after": decode_cursor(result.next_cursor, TARGET.sort)})
                others["target search, 9th page (keyset)"] = time_calls(lambda: uow.catalog.search(page),
                                                                        max(50, repeat // 3))
            results["items"] = len(first.items)
    finally:
        raw.rollback()
        raw.close()
    results.update(adapter=adapter, raw=raw_timing, others=others, statements=len(statements))
    ratio50, ratio95 = adapter.p50 / raw_timing.p50, adapter.p95 / raw_timing.p95
    print(f"\n{name}: target search {TARGET.text!r} + category={TARGET.category} + metal={TARGET.metal}, "
          f"sort={TARGET.sort}, limit {TARGET.limit} ({results['items']} items; "
          f"{len(statements)} statements per search; {repeat} runs, adapter and raw in alternation)")
    print(f"  CatalogReader.search  p50 {adapter.p50:6.2f} ms   p95 {adapter.p95:6.2f} ms")
    print(f"  raw driver, same SQL  p50 {raw_timing.p50:6.2f} ms   p95 {raw_timing.p95:6.2f} ms")
    print(f"  ratio                 p50 {ratio50:6.2f} x    p95 {ratio95:6.2f} x")
    for label, timing in others.items():
        print(f"  other: {label:45s} p50 {timing.p50:6.2f} ms   p95 {timing.p95:6.2f} ms")
    ok = adapter.p95 < TARGET_P95_MS and raw_timing.p95 < TARGET_P95_MS and ratio95 <= TARGET_RATIO
    results["ok"] = ok
    print(f"  target (p95 < {TARGET_P95_MS:g} ms each, adapter <= {TARGET_RATIO:g}x raw): {'met' if ok else 'MISSED'}")
    return results


def _fields(query: CatalogQuery) -> dict[str, Any]:
    return {f: getattr(query, f) for f in ("text", "category", "metal", "gemstone", "designer_id", "tags",
                                           "currency", "price_min_minor", "price_max_minor", "sort", "limit")}


def run_sqlite(catalog: Catalog, repeat: int) -> dict[str, Any]:
    import sqlite3

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalog.sqlite3"
        engine = make_engine(f"sqlite:///{path}", poolclass=NullPool)
        try:
            upgrade(engine)
            start = time.perf_counter()
            seed_sqlite(engine, catalog)
            print(f"SQLite {sqlite3.sqlite_version}: seeded {len(catalog[1]['designs']):,} designs in "
                  f"{time.perf_counter() - start:.1f} s ({path.stat().st_size / 1e6:.0f} MB)")

            def raw_connect() -> Any:  # the connection settings the adapter's engine makes
                raw = sqlite3.connect(path, isolation_level=None)
                raw.execute("PRAGMA foreign_keys = ON")
                raw.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES:d}")
                raw.execute("BEGIN")
                return raw

            return bench("SQLite", engine, raw_connect, repeat)
        finally:
            engine.dispose()


def run_postgres(admin_url: str, catalog: Catalog, repeat: int) -> dict[str, Any]:
    import psycopg

    base = normalize_url(admin_url)
    name = f"caratzon_bench_{secrets.token_hex(4)}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name)
    libpq_url = make_url(url.render_as_string(hide_password=False)).set(drivername="postgresql")
    libpq = libpq_url.render_as_string(hide_password=False)
    engine = make_engine(url, poolclass=NullPool)
    try:
        upgrade(engine)
        start = time.perf_counter()
        seed_postgres(libpq, catalog)
        with admin.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
        seconds = time.perf_counter() - start
        print(f"\nPostgreSQL {version}: seeded {len(catalog[1]['designs']):,} designs in {seconds:.1f} s "
              f"(COPY + VACUUM ANALYZE)")
        return bench("PostgreSQL", engine, lambda: psycopg.connect(libpq), repeat)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", help="PostgreSQL admin URL; a temporary database is created and dropped")
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    catalog = make_catalog(args.rows)
    print(f"made {args.rows:,} designs in {time.perf_counter() - start:.1f} s")
    ok = True
    if not args.skip_sqlite:
        ok &= run_sqlite(catalog, args.repeat)["ok"]
    if args.pg:
        ok &= run_postgres(args.pg, catalog, args.repeat)["ok"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
