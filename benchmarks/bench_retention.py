"""Retention speed (issue #6, part 4): on PostgreSQL, a retention run over 1,000,000
analytics events older than 24 months and ~100,000 expired rows of the other
categories completes in under 60 s, within 2x of the same work done by hand-written
bulk SQL.

Run: ``python benchmarks/bench_retention.py [--postgres URL] [--events 1000000]
[--other 100000] [--repeat 1]`` (``--events 20000 --other 2000`` is a smoke test of a
few seconds). ``--postgres`` (or ``CARATZON_BENCH_POSTGRES_URL`` /
``CARATZON_TEST_POSTGRES_URL``) is an admin URL: a scratch database is created,
migrated and seeded, copied (``CREATE DATABASE … TEMPLATE``) once per timed run, and
every one of them is dropped at the end, failure or not. Without PostgreSQL the
benchmark says so and is skipped (the target is PostgreSQL's).

Seeding: the export-test scenario (``caratzon_core.testing_export``) through the use
cases — it supplies the kept rows a run must not touch (a published design under an
active licence, an open order, a live negotiation thread) and the template rows —
then, set-based (``COPY`` and ``INSERT … SELECT generate_series``), live designers,
buyers and published designs, the expired rows of every category, a few kept rows of
each category, and the analytics events in time order, then ``VACUUM ANALYZE``. The
exact mix is printed and recorded in docs/benchmarks.md.

Timed, each on a fresh copy of the seeded database, with a fixed clock and as-of time:
``RetentionService.apply`` (the real service on ``SqlPrivacyStore``, default batch
sizes), per rule from its progress callback; and the same work as hand-written bulk
SQL on the raw ``psycopg`` driver (one set-based statement per table and step). Both
end states are verified: what had to go is gone, what had to stay is intact, and the
analytics folded equal the raw events deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
from sqlalchemy import JSON, URL, Engine, event, select, text
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scenario import export_scenario

from caratzon_adapters.sql import tables
from caratzon_adapters.sql.engine import make_engine, normalize_url
from caratzon_adapters.sql.privacy import SqlPrivacyStore
from caratzon_adapters.sql.repositories import rebuild_catalog_facet_counts
from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory
from caratzon_core.access import Actor
from caratzon_core.erasure import ERASED_EMAIL_DOMAIN, ERASED_NAME
from caratzon_core.export import Pseudonymiser
from caratzon_core.orders import OrderStatus
from caratzon_core.retention import Cutoffs, RuleCode, cutoffs
from caratzon_core.services.audit import AuditService
from caratzon_core.services.erasure import ErasureService
from caratzon_core.services.retention import RetentionService
from caratzon_core.testing import FakeClock, fake_deps

TARGET_S = 60.0
TARGET_RATIO = 2.0
# The scenario is made at FakeClock's default (2026-11-27 09:00 UTC); the runs are as of noon.
AS_OF = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
OPERATOR = Actor.cli_operator("bench")
BLOB = b"\x89PNG\r\n\x1a\n" + b"\x00" * 1016  # 1 KiB per stored file

ORDERS_PER_AGREEMENT = 20
LIVE_DESIGNERS = 20
LIVE_DESIGNS = 200
LIVE_BUYERS = 200
EVENTS_PER_CLOSED_ACCOUNT = 5
KEPT_OPEN_ORDERS = 20
KEPT_RECENT_ORDERS = 20

# Orders that keep their parties (and designs) from being erased or purged.
BLOCKING_STATUSES = sorted(
    s.value for s in OrderStatus if s not in {OrderStatus.DRAFT, OrderStatus.COMPLETED, OrderStatus.CANCELLED}
)


# -- the mix -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mix:
    events: int  # analytics events older than 24 months (anonymous visitors)
    recent_events: int  # newer events that must stay
    orders: int  # completed orders closed more than 7 years ago
    agreements: int  # expired agreements of those orders (with negotiation, offer, retired option)
    removed_designs: int  # designs removed more than 90 days ago (2 assets, 2 tags, stats each)
    accounts: int  # accounts closed more than 12 months ago (erased in batches)

    @classmethod
    def of(cls, events: int, other: int) -> Mix:
        orders = max(ORDERS_PER_AGREEMENT, other * 18 // 100)
        return cls(events=events, recent_events=max(100, events // 50), orders=orders,
                   agreements=math.ceil(orders / ORDERS_PER_AGREEMENT), removed_designs=max(2, other // 100),
                   accounts=max(2, other * 3 // 1000))

    @property
    def account_rows(self) -> int:  # user, policy acceptance, consent, token, 2 saves, their events
        return self.accounts * (6 + EVENTS_PER_CLOSED_ACCOUNT)

    @property
    def other_rows(self) -> int:
        return self.orders * 5 + self.agreements * 4 + self.removed_designs * 6 + self.account_rows

    def describe(self) -> list[str]:
        return [
            f"{self.events:,} analytics events older than 24 months (anonymous, {LIVE_DESIGNS} designs, 730 days) "
            f"+ {self.recent_events:,} newer ones that stay",
            f"{self.orders:,} completed orders closed 7-9 years ago, each with 1 ledger entry, 2 ledger lines and "
            f"1 payment instruction ({self.orders * 5:,} rows)",
            f"{self.agreements:,} expired agreements of those orders, each with its negotiation, offer and retired "
            f"licence option ({self.agreements * 4:,} rows)",
            f"{self.removed_designs:,} designs removed 91 days to 2 years ago, each with 2 assets (2 files), 2 tags "
            f"and stats ({self.removed_designs * 6:,} rows)",
            f"{self.accounts:,} buyer accounts closed 13-24 months ago, each with a policy acceptance, consent, "
            f"API token, 2 saved designs and {EVENTS_PER_CLOSED_ACCOUNT} old events ({self.account_rows:,} rows)",
            f"= {self.other_rows:,} expired rows besides the {self.events:,} events",
        ]


# -- helpers -----------------------------------------------------------------------------


def libpq_url(url: URL) -> str:
    """The URL psycopg itself takes (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def copy_rows(cur: Any, table: str, rows: Sequence[dict[str, Any]]) -> None:
    from psycopg.types.json import Json

    if not rows:
        return
    columns = list(rows[0])
    json_columns = {c.name for c in tables.metadata.tables[table].c if isinstance(c.type, JSON)}
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(tuple(Json(row[c]) if c in json_columns and row[c] is not None else row[c]
                               for c in columns))


def one(conn: Any, table: Any, **where: Any) -> dict[str, Any]:
    stmt = select(table)
    for k, v in where.items():
        stmt = stmt.where(table.c[k] == v)
    row = conn.execute(stmt).mappings().first()
    assert row is not None, f"no {table.name} row where {where}"
    return dict(row)


def spread(i: int, n: int, start: datetime, end: datetime) -> datetime:
    """The i-th of n instants spread evenly over [start, end)."""
    return start + (end - start) * (i / max(n, 1))


def load() -> str:
    one_, five, fifteen = os.getloadavg()
    return f"{one_:.2f} {five:.2f} {fifteen:.2f}"


# -- seeding -----------------------------------------------------------------------------


@dataclass
class Seeded:
    mix: Mix
    cut: Cutoffs
    old_events: int = 0  # events at or before the analytics cut-off, the closed accounts' included
    old_scroll: int = 0  # of which anonymous scroll events (depth counted)
    closed_ids: list[str] = field(default_factory=list)
    removed_keys: list[str] = field(default_factory=list)
    kept_keys: list[str] = field(default_factory=list)  # files of the removed design under an active licence
    counts: dict[str, int] = field(default_factory=dict)  # rows per table after seeding


def seed(url: URL, mix: Mix) -> Seeded:
    import psycopg

    engine = make_engine(url, poolclass=NullPool)
    try:
        _, scenario = export_scenario(engine)
        t = tables
        with engine.connect() as conn:
            dee = one(conn, t.users, id=scenario.people["dee"].id)
            bea = one(conn, t.users, id=scenario.people["bea"].id)
            design = one(conn, t.designs, id=scenario.design_id)
            entry = one(conn, t.catalog_entries, design_id=scenario.design_id)
            image = one(conn, t.assets, design_id=scenario.design_id, kind="image")
            cad = one(conn, t.assets, design_id=scenario.design_id, kind="cad")
            order = one(conn, t.orders, id=scenario.order_id)
            agreement = one(conn, t.agreements, id=order["agreement_id"])
            negotiation = one(conn, t.negotiations, id=agreement["negotiation_id"])
            offer = one(conn, t.negotiation_offers, negotiation_id=negotiation["id"])
            option = one(conn, t.licence_options, id=negotiation["option_id"])
            policy = conn.execute(select(t.policy_versions.c.version)).scalar_one()
        max_id = scenario.people["max"].id
        bob_id = scenario.people["bob"].id
        seeded = Seeded(mix, cutoffs(AS_OF))
        with psycopg.connect(libpq_url(url)) as pg, pg.cursor() as cur:
            _seed_rows(cur, seeded, dee=dee, bea=bea, design=design, entry=entry, image=image, cad=cad, order=order,
                       agreement=agreement, negotiation=negotiation, offer=offer, option=option, policy=policy,
                       max_id=max_id, bob_id=bob_id, scenario_agreement=agreement["id"])
            pg.commit()
            _seed_events(cur, seeded)
            pg.commit()
        with engine.begin() as conn:
            rebuild_catalog_facet_counts(conn)
        with psycopg.connect(libpq_url(url), autocommit=True) as pg:
            pg.execute("VACUUM ANALYZE")
            an_cut = seeded.cut[RuleCode.ANALYTICS]
            old, scroll = pg.execute(
                "SELECT count(*), count(*) FILTER (WHERE kind = 'scroll' AND user_id IS NULL) "
                "FROM engagement_events WHERE at <= %s", (an_cut,)).fetchone() or (0, 0)
            seeded.old_events, seeded.old_scroll = int(old), int(scroll)
            seeded.counts = table_counts(pg)
    finally:
        engine.dispose()
    return seeded


def _seed_rows(cur: Any, s: Seeded, *, dee: dict[str, Any], bea: dict[str, Any], design: dict[str, Any],
               entry: dict[str, Any], image: dict[str, Any], cad: dict[str, Any], order: dict[str, Any],
               agreement: dict[str, Any], negotiation: dict[str, Any], offer: dict[str, Any],
               option: dict[str, Any], policy: str, max_id: str, bob_id: str, scenario_agreement: str) -> None:
    mix, cut = s.mix, s.cut
    long_ago = datetime(2015, 3, 1, 9, 0, tzinfo=UTC)

    def user(uid: str, template: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {**template, "id": uid, "email": f"{uid}@example.com", "name": f"Person {uid}",
                "created_at": long_ago, "updated_at": long_ago, "age_confirmed_at": long_ago, **extra}

    # live people and designs (the events' designs, the orders' parties)
    designers = [f"bd-{i:04d}" for i in range(LIVE_DESIGNERS)]
    buyers = [f"bu-{i:04d}" for i in range(LIVE_BUYERS)]
    users = [user(u, dee) for u in designers] + [user(u, bea) for u in buyers]
    live = [f"ld-{i:04d}" for i in range(LIVE_DESIGNS)]
    owner = {d: designers[i % LIVE_DESIGNERS] for i, d in enumerate(live)}
    designs = [{**design, "id": d, "designer_id": owner[d], "title": f"Live design {d}", "created_at": long_ago,
                "updated_at": long_ago, "published_at": long_ago} for d in live]
    stats = [{"design_id": d, "views": 1000, "saves": 10} for d in live]
    entries = [{k: v for k, v in entry.items() if k != "seq"} | {"design_id": d, "designer_id": owner[d],
                                                                  "published_at": long_ago} for d in live]

    # accounts closed more than 12 months ago, one held and one closed recently
    account_cut = cut[RuleCode.ACCOUNT]
    s.closed_ids = [f"cu-{i:05d}" for i in range(mix.accounts)]
    closed_at = {u: spread(i, mix.accounts, account_cut - timedelta(days=365), account_cut - timedelta(days=1))
                 for i, u in enumerate(s.closed_ids)}
    users += [user(u, bea, status="closed", closed_at=closed_at[u], updated_at=closed_at[u]) for u in s.closed_ids]
    users += [user("cu-held", bea, status="closed", closed_at=account_cut - timedelta(days=180)),
              user("cu-recent", bea, status="closed", closed_at=AS_OF - timedelta(days=90))]
    acceptances = [{"user_id": u, "version": policy, "accepted_at": long_ago} for u in s.closed_ids]
    consents = [{"id": f"cs-{u}", "visitor_id": f"visitor-of-{u}", "user_id": u, "notice_version": "2026-03",
                 "analytics": True, "at": long_ago, "client_address": "203.0.113.0",
                 "user_agent": "Mozilla/5.0 (X11; Linux x86_64)"} for u in s.closed_ids]
    tokens = [{"id": f"tk-{u}", "user_id": u, "digest": secrets.token_hex(32), "created_at": long_ago,
               "expires_at": long_ago + timedelta(days=365), "revoked_at": closed_at[u], "label": "ERP sync"}
              for u in s.closed_ids]
    saves = [{"user_id": u, "design_id": live[(i * 7 + k) % LIVE_DESIGNS], "at": long_ago}
             for i, u in enumerate(s.closed_ids) for k in range(2)]
    an_cut = cut[RuleCode.ANALYTICS]
    their_events = [{"id": f"ev-{u}-{k}", "design_id": live[(i + k) % LIVE_DESIGNS], "kind": "view",
                     "at": an_cut - timedelta(days=30 + 11 * k + i % 300), "visitor_id": f"visitor-of-{u}",
                     "user_id": u, "scroll_depth": None}
                    for i, u in enumerate(s.closed_ids) for k in range(EVENTS_PER_CLOSED_ACCOUNT)]
    holds = [{"id": "hold-bench", "user_id": "cu-held", "reason": "Tax inquiry (benchmark)",
              "placed_by": OPERATOR.id, "placed_at": AS_OF - timedelta(days=30), "active": True,
              "released_by": None, "released_at": None, "release_reason": None}]

    # designs removed more than 90 days ago, and one under an active licence
    design_cut = cut[RuleCode.DESIGN_ASSET]
    removed = [f"rd-{i:05d}" for i in range(mix.removed_designs)]
    removed_at = {d: spread(i, len(removed), design_cut - timedelta(days=600), design_cut - timedelta(days=1))
                  for i, d in enumerate(removed)}
    removed_rows = [{**design, "id": d, "designer_id": designers[i % LIVE_DESIGNERS], "title": f"Removed {d}",
                     "tags": ["vintage", "halo"], "status": "removed", "created_at": long_ago,
                     "updated_at": removed_at[d], "published_at": long_ago, "removed_at": removed_at[d]}
                    for i, d in enumerate(removed)]
    licensed = "rd-licensed"
    removed_rows.append({**design, "id": licensed, "designer_id": dee["id"], "title": "Removed, licensed",
                         "status": "removed", "created_at": long_ago, "updated_at": AS_OF - timedelta(days=200),
                         "published_at": long_ago, "removed_at": AS_OF - timedelta(days=200)})
    assets = []
    for d in [*removed, licensed]:
        for template, ext in ((image, "png"), (cad, "stl")):
            key = f"designs/{d}/{template['kind']}.{ext}"
            (s.kept_keys if d == licensed else s.removed_keys).append(key)
            assets.append({**template, "id": f"as-{d}-{template['kind']}", "design_id": d, "blob_key": key,
                           "thumbnail_key": None, "created_at": long_ago})
    tags = [{"design_id": d, "tag": tag} for d in removed for tag in ("halo", "vintage")]
    stats += [{"design_id": d, "views": 50, "saves": 2} for d in removed]

    # licensing: the expired agreements of the expired orders, and the kept ones
    tx_cut = cut[RuleCode.TRANSACTION]
    options, negotiations, offers, agreements = [], [], [], []

    def licence(k: str, design_id: str, designer: str, buyer: str, *, start: date, end: date | None,
                status: str, retired: datetime | None) -> str:
        made = datetime.combine(start, datetime.min.time(), tzinfo=UTC) - timedelta(days=30)
        options.append({**option, "id": f"xl-{k}", "design_id": design_id, "designer_id": designer,
                        "status": "retired" if retired else "active", "created_at": made - timedelta(days=90),
                        "retired_at": retired})
        negotiations.append({**negotiation, "id": f"xn-{k}", "design_id": design_id, "option_id": f"xl-{k}",
                             "buyer_id": buyer, "designer_id": designer, "accepted_offer_id": f"xn-{k}.0",
                             "closed_at": made + timedelta(days=2), "latest_expires_at": made + timedelta(days=7),
                             "last_activity_at": made + timedelta(days=2)})
        offers.append({**offer, "negotiation_id": f"xn-{k}", "id": f"xn-{k}.0", "made_at": made,
                       "expires_at": made + timedelta(days=7)})
        agreements.append({**agreement, "id": f"xa-{k}", "negotiation_id": f"xn-{k}", "design_id": design_id,
                           "designer_id": designer, "buyer_id": buyer, "effective_date": start, "end_date": end,
                           "status": status, "created_at": made + timedelta(days=2)})
        return f"xa-{k}"

    deal: dict[int, tuple[str, str, str, str]] = {}  # agreement -> (id, design, designer, buyer)
    for k in range(mix.agreements):
        d = live[k % LIVE_DESIGNS]
        b = buyers[k % LIVE_BUYERS]
        deal[k] = (licence(f"{k:05d}", d, owner[d], b, start=date(2017, 1, 1), end=date(2018, 12, 31),
                           status="expired", retired=datetime(2018, 6, 30, tzinfo=UTC)), d, owner[d], b)
    licence("licensed", licensed, dee["id"], bob_id, start=date(2025, 6, 1), end=None, status="active",
            retired=None)
    held_agreement = licence("held", live[0], owner[live[0]], "cu-held", start=date(2017, 1, 1),
                             end=date(2018, 12, 31), status="expired", retired=datetime(2018, 6, 30, tzinfo=UTC))

    # orders: expired ones with their money rows, and the kept ones
    orders, ledger, lines, payments = [], [], [], []
    closed_from = datetime(2018, 1, 1, 10, 0, tzinfo=UTC)
    closed_to = datetime(2019, 6, 30, 10, 0, tzinfo=UTC)

    def completed(oid: str, agreement_id: str, design_id: str, designer: str, buyer: str, closed: datetime,
                  status: str = "completed") -> None:
        created = closed - timedelta(days=60)
        done = status == "completed"
        orders.append({**order, "id": oid, "agreement_id": agreement_id, "design_id": design_id,
                       "designer_id": designer, "buyer_id": buyer, "manufacturer_id": max_id, "status": status,
                       "created_at": created, "updated_at": closed, "submitted_at": created,
                       "offered_at": created, "offer_expires_at": created + timedelta(days=2),
                       "accepted_at": created + timedelta(days=1),
                       "qc_passed_at": closed - timedelta(days=20) if done else None,
                       "carrier": "DHL" if done else None, "tracking": f"JD{oid}" if done else None,
                       "shipped_at": closed - timedelta(days=15) if done else None,
                       "delivered_at": closed - timedelta(days=10) if done else None,
                       "closed_at": closed if status in ("completed", "cancelled") else None,
                       "wanted_by": (created + timedelta(days=45)).date()})
        if status not in ("completed", "cancelled"):
            return
        amount = 1_550_275
        ledger.append({"id": f"le-{oid}", "order_id": oid, "kind": "charge", "currency": "USD",
                       "idempotency_key": f"order:{oid}:charge", "buyer_id": buyer, "at": created})
        lines.extend([
            {"entry_id": f"le-{oid}", "position": 0, "account": "clearing", "debit": amount, "credit": 0},
            {"entry_id": f"le-{oid}", "position": 1, "account": f"payable:designer:{designer}", "debit": 0,
             "credit": amount},
        ])
        payments.append({"id": f"pi-{oid}", "order_id": oid, "kind": "charge", "amount_minor": amount,
                         "currency": "USD", "party_id": buyer, "idempotency_key": f"order:{oid}:charge:{buyer}",
                         "created_at": created, "status": "done", "external_id": f"ch_{oid}", "attempts": 1,
                         "next_attempt_at": None, "claimed_until": None, "last_error": None})

    for j in range(mix.orders):
        agreement_id, d, designer, buyer = deal[j // ORDERS_PER_AGREEMENT]
        completed(f"xo-{j:06d}", agreement_id, d, designer, buyer, spread(j, mix.orders, closed_from, closed_to))
    completed("xo-held", held_agreement, live[0], owner[live[0]], "cu-held", closed_from)
    for j in range(KEPT_OPEN_ORDERS):  # open for years, never closed: not a candidate
        completed(f"ko-{j:04d}", scenario_agreement, design["id"], dee["id"], buyers[j],
                  datetime(2017, 5, 1, tzinfo=UTC), status="in_production")
    for j in range(KEPT_RECENT_ORDERS):  # closed inside the 7 years
        completed(f"ro-{j:04d}", scenario_agreement, design["id"], dee["id"], buyers[j],
                  tx_cut + timedelta(days=400 + j))

    for table, rows in (("users", users), ("designs", designs + removed_rows), ("design_stats", stats),
                        ("catalog_entries", entries), ("design_tags", tags), ("assets", assets),
                        ("policy_acceptances", acceptances), ("consents", consents), ("api_tokens", tokens),
                        ("saved_designs", saves), ("legal_holds", holds), ("licence_options", options),
                        ("negotiations", negotiations), ("negotiation_offers", offers), ("agreements", agreements),
                        ("orders", orders), ("ledger_entries", ledger), ("ledger_lines", lines),
                        ("payment_instructions", payments), ("engagement_events", their_events)):
        copy_rows(cur, table, rows)


_EVENTS = """
INSERT INTO engagement_events (id, design_id, kind, at, visitor_id, user_id, scroll_depth)
SELECT md5('ev' || g.i)::uuid::text, (%(designs)s::text[])[1 + floor(%(n)s::int * g.d * g.d)::int], g.kind, g.at,
       'visitor-' || (g.i %% 50000), NULL, CASE WHEN g.kind = 'scroll' THEN floor(g.s * 101)::int END
FROM (
    SELECT i, d, s, CASE WHEN r < 0.80 THEN 'view' WHEN r < 0.95 THEN 'scroll' ELSE 'save' END AS kind,
           %(start)s::timestamptz + t * %(span)s::float8 * interval '1 second' AS at
    FROM (SELECT i, random() AS r, random() AS d, random() AS s, random() AS t
          FROM generate_series(%(first)s::int, %(last)s::int) AS i OFFSET 0) AS x
) AS g
ORDER BY g.at
"""


def _seed_events(cur: Any, s: Seeded) -> None:
    """Anonymous events, inserted in time order as the site writes them: most-viewed
    designs get most (index ~ uniform squared), 80 % views, 15 % scrolls, 5 % saves."""
    mix, an_cut = s.mix, s.cut[RuleCode.ANALYTICS]
    designs = [f"ld-{i:04d}" for i in range(LIVE_DESIGNS)]
    cur.execute("SET work_mem = '256MB'")
    cur.execute("SELECT setseed(0.2026)")
    old_start = an_cut - timedelta(days=730)
    span = (an_cut - timedelta(seconds=1) - old_start).total_seconds()
    cur.execute(_EVENTS, {"designs": designs, "n": LIVE_DESIGNS, "start": old_start, "span": span, "first": 1,
                          "last": mix.events})
    new_start = an_cut + timedelta(days=1)
    span = (AS_OF - timedelta(hours=1) - new_start).total_seconds()
    cur.execute(_EVENTS, {"designs": designs, "n": LIVE_DESIGNS, "start": new_start, "span": span,
                          "first": mix.events + 1, "last": mix.events + mix.recent_events})


def table_counts(pg: Any) -> dict[str, int]:
    out = {}
    for table in tables.metadata.sorted_tables:
        out[table.name] = int(pg.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0])
    return out


def fill_blobs(blobs: Any, s: Seeded) -> None:
    for key in [*s.removed_keys, *s.kept_keys]:
        blobs.put(key, io.BytesIO(BLOB), content_type="application/octet-stream", max_bytes=1 << 20)


# -- verification ----------------------------------------------------------------------------


def verify(pg: Any, s: Seeded, blobs: Any) -> list[str]:
    """Every promise the run keeps, as (what, found, expected); the failures."""
    mix, an_cut = s.mix, s.cut[RuleCode.ANALYTICS]

    def q(sql: str, *params: Any) -> Any:
        row = pg.execute(sql, params).fetchone()
        return row[0] if len(row) == 1 else tuple(row)

    kept_orders = 1 + 1 + KEPT_OPEN_ORDERS + KEPT_RECENT_ORDERS  # scenario, held, open, recent
    checks: list[tuple[str, Any, Any]] = [
        ("raw events left", q("SELECT count(*) FROM engagement_events"), mix.recent_events),
        ("raw events at or before the cut-off", q("SELECT count(*) FROM engagement_events WHERE at <= %s", an_cut),
         0),
        ("events folded = anonymous old events (the erased accounts' were deleted)",
         q("SELECT coalesce(sum(events), 0) FROM analytics_daily"), mix.events),
        ("scroll depths folded", q("SELECT coalesce(sum(depth_count), 0) FROM analytics_daily"), s.old_scroll),
        ("daily rows name no day after the cut-off",
         q("SELECT count(*) FROM analytics_daily WHERE day > %s", an_cut.date()), 0),
        ("orders left (scenario, held, open, recent)", q("SELECT count(*) FROM orders"), kept_orders),
        ("expired orders left (the held buyer's)", q("SELECT count(*) FROM orders WHERE id LIKE 'xo-%%'"), 1),
        ("open orders untouched",
         q("SELECT count(*) FROM orders WHERE id LIKE 'ko-%%' AND status = 'in_production'"), KEPT_OPEN_ORDERS),
        ("ledger entries left", q("SELECT count(*) FROM ledger_entries"), 1 + KEPT_RECENT_ORDERS),
        ("ledger lines left", q("SELECT count(*) FROM ledger_lines"), 2 * (1 + KEPT_RECENT_ORDERS)),
        ("payment instructions left", q("SELECT count(*) FROM payment_instructions"), 1 + KEPT_RECENT_ORDERS),
        ("agreements left (scenario, licensed, held)", q("SELECT count(*) FROM agreements"), 3),
        ("negotiations left", q("SELECT count(*) FROM negotiations"), 3),
        ("negotiation offers left", q("SELECT count(*) FROM negotiation_offers"), 3),
        ("licence options left", q("SELECT count(*) FROM licence_options"), 3),
        ("designs left (live, scenario, licensed removed)", q("SELECT count(*) FROM designs"), LIVE_DESIGNS + 2),
        ("removed designs left", q("SELECT count(*) FROM designs WHERE id LIKE 'rd-0%%'"), 0),
        ("assets left (scenario 2, licensed removed 2)", q("SELECT count(*) FROM assets"), 4),
        ("design tags left", q("SELECT count(*) FROM design_tags"), 0),
        ("closed accounts left", q("SELECT count(*) FROM users WHERE id LIKE 'cu-0%%'"), 0),
        ("stand-ins (erased)", q("SELECT count(*) FROM users WHERE erased_at IS NOT NULL"), mix.accounts),
        ("held and recently closed accounts kept",
         q("SELECT count(*) FROM users WHERE id IN ('cu-held', 'cu-recent') AND erased_at IS NULL"), 2),
        ("standing hold", q("SELECT count(*) FROM legal_holds WHERE active IS NOT NULL"), 1),
        ("erased accounts' rows left (tokens, acceptances, saves, events)",
         q("SELECT (SELECT count(*) FROM api_tokens) + (SELECT count(*) FROM policy_acceptances "
           "WHERE user_id LIKE 'cu-%%') + (SELECT count(*) FROM saved_designs) + (SELECT count(*) FROM "
           "engagement_events WHERE user_id IS NOT NULL)"), 0),
        ("consents kept without the person",
         q("SELECT count(*) FROM consents WHERE user_id IS NULL AND client_address IS NULL"), mix.accounts),
        ("blob deletions queued", q("SELECT count(*) FROM blob_deletions"), 0),
        ("removed designs' files left", sum(blobs.exists(k) for k in s.removed_keys), 0),
        ("licensed design's files kept", sum(blobs.exists(k) for k in s.kept_keys), len(s.kept_keys)),
    ]
    return [f"{what}: {found} (expected {expected})" for what, found, expected in checks if found != expected]


# -- the adapter run -------------------------------------------------------------------------


@dataclass
class Timing:
    total: float
    steps: dict[str, float]
    notes: list[str] = field(default_factory=list)


class TimedErasure(ErasureService):
    """The real erasure, each batch of the account rule timed (seconds, people)."""

    times: list[tuple[float, int]]

    def erase_many_in(self, uow: Any, user_ids: Sequence[str], **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return super().erase_many_in(uow, user_ids, **kwargs)
        finally:
            self.times.append((time.perf_counter() - start, len(user_ids)))


@contextmanager
def statement_profile(engine: Engine, top: int, notes: list[str]) -> Iterator[None]:
    """Per distinct statement: calls and total time (SQLAlchemy cursor events)."""
    spent: dict[str, list[float]] = {}

    def before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        took = time.perf_counter() - conn.info["bench_t0"].pop()
        key = " ".join(statement.split())
        rec = spent.setdefault(key, [0, 0.0])
        rec[0] += 1
        rec[1] += took

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        total = sum(v[1] for v in spent.values())
        notes.append(f"statements: {sum(int(v[0]) for v in spent.values()):,} calls, {total:.1f} s in the driver")
        for key, (calls, took) in sorted(spent.items(), key=lambda kv: -kv[1][1])[:top]:
            notes.append(f"  {took:7.2f} s {int(calls):6d}x  {key[:150]}")


def run_adapter(url: URL, s: Seeded, *, profile: int) -> tuple[Timing, Any]:
    import psycopg

    engine = make_engine(url)
    try:
        clock = FakeClock(AS_OF)
        deps, _ = fake_deps(clock=clock)
        deps = attrs.evolve(deps, uow=SqlUnitOfWorkFactory(engine))
        fill_blobs(deps.blobs, s)
        store = SqlPrivacyStore()
        erasure = TimedErasure(deps, store)
        erasure.times = []
        service = RetentionService(deps, store, erasure, AuditService(deps))
        marks: list[tuple[float, RuleCode, int]] = []

        def progress(rule: RuleCode, done: int, total: int) -> None:
            marks.append((time.perf_counter(), rule, done))

        notes: list[str] = []
        with psycopg.connect(libpq_url(url), autocommit=True) as pg:
            pg.execute("CHECKPOINT")
        with contextlib.ExitStack() as stack:
            if profile:
                stack.enter_context(statement_profile(engine, profile, notes))
            start = time.perf_counter()
            run = service.apply(OPERATOR, AS_OF, progress=progress)
            total = time.perf_counter() - start
        steps: dict[str, float] = {}
        last = start
        for at, rule, _ in marks:
            steps[rule.value] = steps.get(rule.value, 0.0) + (at - last)
            last = at
        steps["(finish: run row, audit)"] = start + total - last
        batches = [(at, done) for at, rule, done in marks if rule is RuleCode.ANALYTICS]
        if batches:
            prev = None
            times = []
            for at, _ in batches:
                if prev is not None:
                    times.append(at - prev)
                prev = at
            if times:
                notes.append(f"analytics batches of {service.analytics_batch:,}: {len(batches)}, median "
                             f"{statistics.median(times):.2f} s (after the first)")
        if erasure.times:
            spent, people = sum(t for t, _ in erasure.times), sum(n for _, n in erasure.times)
            notes.append(f"erasure batches: {len(erasure.times)}, {people} people, {spent:.2f} s "
                         f"({spent / max(people, 1) * 1000:.1f} ms a person)")
        notes.append("run counts: " + json.dumps(dict(sorted(run.counts.items()))))
        with psycopg.connect(libpq_url(url), autocommit=True) as pg:
            failures = verify(pg, s, deps.blobs)
            counts = table_counts(pg)
        if failures:
            raise AssertionError("the retention run's end state is wrong:\n  " + "\n  ".join(failures))
        return Timing(total, steps, notes), counts
    finally:
        engine.dispose()


# -- the same work in hand-written bulk SQL ------------------------------------------------------


def _threads_gone(which: str) -> list[str]:
    """Delete the threads listed by the SELECT ``which`` (of ids) with everything in them."""
    msgs = f"SELECT m.id FROM messages m WHERE m.thread_id IN ({which})"
    return [
        f"DELETE FROM message_translations WHERE message_id IN ({msgs})",
        f"WITH gone AS (DELETE FROM message_attachments WHERE message_id IN ({msgs}) RETURNING blob_key) "
        "INSERT INTO blob_deletions (key, reason, queued_at, due_at, attempts) "
        "SELECT blob_key, 'transaction', %(now)s, %(now)s, 0 FROM gone ON CONFLICT (key) DO NOTHING",
        f"DELETE FROM messages WHERE thread_id IN ({which})",
        f"DELETE FROM thread_participants WHERE thread_id IN ({which})",
        f"DELETE FROM thread_marks WHERE thread_id IN ({which})",
        f"DELETE FROM threads WHERE id IN ({which})",
    ]


def _held(*columns: str) -> str:
    return " OR ".join(f"EXISTS (SELECT 1 FROM legal_holds h WHERE h.user_id = {c} AND h.active IS NOT NULL)"
                       for c in columns)


_REFERENCED = ("(EXISTS (SELECT 1 FROM licence_options x WHERE x.design_id = d.id) "
               "OR EXISTS (SELECT 1 FROM negotiations x WHERE x.design_id = d.id) "
               "OR EXISTS (SELECT 1 FROM agreements x WHERE x.design_id = d.id) "
               "OR EXISTS (SELECT 1 FROM orders x WHERE x.design_id = d.id))")

# Bare user-id columns that take the pseudonym (the data map's PSEUDONYMISE references).
_PSEUDONYMISED = [
    ("orders", "buyer_id"), ("orders", "designer_id"), ("orders", "manufacturer_id"),
    ("agreements", "buyer_id"), ("agreements", "designer_id"), ("negotiations", "buyer_id"),
    ("negotiations", "designer_id"), ("licence_options", "designer_id"), ("designs", "designer_id"),
    ("ledger_entries", "buyer_id"), ("threads", "created_by"), ("data_requests", "user_id"),
    ("data_requests", "opened_by"), ("data_requests", "handled_by"), ("legal_holds", "user_id"),
    ("legal_holds", "placed_by"), ("legal_holds", "released_by"), ("manufacturers", "vetted_by"),
    ("policy_versions", "published_by"),
]


def _last_segment(column: str) -> str:
    return f"reverse(split_part(reverse({column}), ':', 1))"


ACCOUNT_SQL = [
    "INSERT INTO users (id, email, name, role, password_hash, language, status, age_confirmed_at, created_at, "
    "updated_at, closed_at, ai_objection_at, erased_at) "
    f"SELECT e.pseudonym, e.pseudonym || '@{ERASED_EMAIL_DOMAIN}', '{ERASED_NAME}', u.role, '!erased', 'en', "
    "'closed', %(now)s, %(now)s, %(now)s, %(now)s, %(now)s, %(now)s "
    "FROM erase_ids e JOIN users u ON u.id = e.id ON CONFLICT (id) DO NOTHING",
    "UPDATE negotiations n SET status = 'withdrawn', closed_at = %(now)s, last_activity_at = %(now)s, "
    "version = n.version + 1 FROM erase_ids e WHERE n.status = 'open' AND (n.buyer_id = e.id OR n.designer_id = e.id)",
    # the person's own rows
    "DELETE FROM engagement_events x USING erase_ids e WHERE x.user_id = e.id",
    "UPDATE consents x SET user_id = NULL, visitor_id = e.pseudonym, client_address = NULL, user_agent = NULL "
    "FROM erase_ids e WHERE x.user_id = e.id",
    "DELETE FROM message_translations t USING messages m, erase_ids e WHERE t.message_id = m.id AND m.author_id = e.id",
    "WITH gone AS (DELETE FROM message_attachments a USING messages m, erase_ids e "
    "WHERE a.message_id = m.id AND m.author_id = e.id RETURNING a.blob_key) "
    "INSERT INTO blob_deletions (key, reason, queued_at, due_at, attempts) "
    "SELECT blob_key, 'erasure', %(now)s, %(now)s, 0 FROM gone ON CONFLICT (key) DO NOTHING",
    "UPDATE messages m SET body = '', removed = true, author_id = e.pseudonym FROM erase_ids e "
    "WHERE m.author_id = e.id",
    "UPDATE threads t SET title = '' FROM erase_ids e WHERE t.kind = 'support' AND t.created_by = e.id",
    "UPDATE data_requests r SET details = '' FROM erase_ids e WHERE r.user_id = e.id",
    "UPDATE payment_instructions p SET party_id = e.pseudonym, last_error = NULL FROM erase_ids e "
    "WHERE p.party_id = e.id",
    # every other reference
    *[f"UPDATE {t} x SET {c} = e.pseudonym FROM erase_ids e WHERE x.{c} = e.id" for t, c in _PSEUDONYMISED],
    "UPDATE ledger_lines x SET account = left(x.account, length(x.account) - length(e.id)) || e.pseudonym "
    f"FROM erase_ids e WHERE {_last_segment('x.account')} = e.id",
    "UPDATE payment_instructions x SET idempotency_key = "
    "left(x.idempotency_key, length(x.idempotency_key) - length(e.id)) || e.pseudonym "
    f"FROM erase_ids e WHERE {_last_segment('x.idempotency_key')} = e.id",
    *[f"UPDATE {t} x SET {c} = replace(x.{c}, '\"' || e.id || '\"', '\"' || e.pseudonym || '\"') "
      f"FROM erase_ids e WHERE x.{c} NOT IN ('[]', '{{}}') AND strpos(x.{c}, '\"' || e.id || '\"') > 0"
      for t, c in (("orders", "declined_by_json"), ("messages", "event_data_json"),
                   ("data_requests", "notes_json"))],
    *[f"DELETE FROM {t} x USING erase_ids e WHERE x.{c} = e.id" for t, c in (
        ("saved_designs", "user_id"), ("api_tokens", "user_id"), ("policy_acceptances", "user_id"),
        ("designer_profiles", "user_id"), ("thread_participants", "user_id"), ("thread_marks", "user_id"),
        ("verification_codes", "user_id"), ("verification_codes", "requested_by"), ("catalog_entries", "designer_id"),
        ("manufacturers", "user_id"))],
    f"DELETE FROM outbox x USING erase_ids e WHERE {_last_segment('x.dedupe_key')} = e.id OR x.to_email = e.email",
    "DELETE FROM users x USING erase_ids e WHERE x.id = e.id",
]

DESIGN_SQL = [
    "CREATE TEMP TABLE purge_designs (id text PRIMARY KEY) ON COMMIT DROP",
    "INSERT INTO purge_designs SELECT d.id FROM designs d "
    "WHERE d.status = 'removed' AND d.purged_at IS NULL AND d.removed_at <= %(design_cut)s "
    "AND NOT EXISTS (SELECT 1 FROM agreements a WHERE a.design_id = d.id AND a.status = 'active' "
    "AND a.effective_date <= %(today)s AND (a.end_date IS NULL OR a.end_date > %(today)s)) "
    f"AND NOT ({_held('d.designer_id')}) "
    "AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.design_id = d.id AND o.status = ANY(%(blocking)s))",
    "ANALYZE purge_designs",
    "WITH gone AS (DELETE FROM assets a USING purge_designs p WHERE a.design_id = p.id "
    "RETURNING a.blob_key, a.thumbnail_key) "
    "INSERT INTO blob_deletions (key, reason, queued_at, due_at, attempts) "
    "SELECT k, 'design_asset', %(now)s, %(now)s, 0 FROM gone, LATERAL (VALUES (blob_key), (thumbnail_key)) v(k) "
    "WHERE k IS NOT NULL ON CONFLICT (key) DO NOTHING",
    "DELETE FROM design_tags x USING purge_designs p WHERE x.design_id = p.id",
    "WITH gone AS (DELETE FROM catalog_entries x USING purge_designs p WHERE x.design_id = p.id "
    "RETURNING x.category, x.metal_mask, x.gem_mask), n AS (SELECT category, metal_mask, gem_mask, count(*) AS n "
    "FROM gone GROUP BY 1, 2, 3) UPDATE catalog_facet_counts f SET designs = f.designs - n.n FROM n "
    "WHERE (f.category, f.metal_mask, f.gem_mask) = (n.category, n.metal_mask, n.gem_mask)",
    *[f"DELETE FROM {t} x USING purge_designs p WHERE x.design_id = p.id"
      for t in ("saved_designs", "design_stats", "engagement_events", "analytics_daily")],
    "DELETE FROM licence_options x USING purge_designs p WHERE x.design_id = p.id "
    "AND NOT EXISTS (SELECT 1 FROM negotiations n WHERE n.option_id = x.id)",
    "UPDATE designs d SET title = 'Removed design', description = '', metals = '[]', gemstones = '[]', "
    "tags = '[]', width_mm = NULL, height_mm = NULL, depth_mm = NULL, price_minor = NULL, price_currency = NULL, "
    "removed_at = coalesce(d.removed_at, %(now)s), purged_at = %(now)s, updated_at = %(now)s "
    f"FROM purge_designs p WHERE d.id = p.id AND {_REFERENCED}",
    f"DELETE FROM designs d USING purge_designs p WHERE d.id = p.id AND NOT {_REFERENCED}",
]

TRANSACTION_SQL = [
    "CREATE TEMP TABLE tx_orders (id text PRIMARY KEY, design_id text NOT NULL) ON COMMIT DROP",
    "INSERT INTO tx_orders SELECT o.id, o.design_id FROM orders o "
    "WHERE o.status IN ('completed', 'cancelled') AND coalesce(o.closed_at, o.updated_at) <= %(tx_cut)s "
    f"AND NOT ({_held('o.buyer_id', 'o.designer_id', 'o.manufacturer_id')})",
    "ANALYZE tx_orders",
    "DELETE FROM ledger_lines l USING ledger_entries x, tx_orders t WHERE l.entry_id = x.id AND x.order_id = t.id",
    "DELETE FROM ledger_entries x USING tx_orders t WHERE x.order_id = t.id",
    "DELETE FROM payment_instructions x USING tx_orders t WHERE x.order_id = t.id",
    *_threads_gone("SELECT th.id FROM threads th JOIN tx_orders t ON th.subject_id = t.id WHERE th.kind = 'order'"),
    "DELETE FROM orders x USING tx_orders t WHERE x.id = t.id",
    "CREATE TEMP TABLE tx_agreements (id text PRIMARY KEY, design_id text NOT NULL) ON COMMIT DROP",
    "INSERT INTO tx_agreements SELECT a.id, a.design_id FROM agreements a "
    "WHERE a.end_date <= %(tx_cut_day)s AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.agreement_id = a.id) "
    f"AND NOT ({_held('a.buyer_id', 'a.designer_id')})",
    "DELETE FROM agreements x USING tx_agreements t WHERE x.id = t.id",
    "CREATE TEMP TABLE tx_negotiations (id text PRIMARY KEY, design_id text NOT NULL) ON COMMIT DROP",
    "INSERT INTO tx_negotiations SELECT n.id, n.design_id FROM negotiations n "
    "WHERE n.status <> 'open' AND n.closed_at <= %(tx_cut)s "
    "AND NOT EXISTS (SELECT 1 FROM agreements a WHERE a.negotiation_id = n.id) "
    f"AND NOT ({_held('n.buyer_id', 'n.designer_id')})",
    "DELETE FROM negotiation_offers x USING tx_negotiations t WHERE x.negotiation_id = t.id",
    *_threads_gone("SELECT th.id FROM threads th JOIN tx_negotiations t ON th.subject_id = t.id "
                   "WHERE th.kind = 'negotiation'"),
    "DELETE FROM negotiations x USING tx_negotiations t WHERE x.id = t.id",
    "CREATE TEMP TABLE tx_options (id text PRIMARY KEY, design_id text NOT NULL) ON COMMIT DROP",
    "INSERT INTO tx_options SELECT lo.id, lo.design_id FROM licence_options lo "
    "WHERE lo.status = 'retired' AND lo.retired_at <= %(tx_cut)s "
    "AND NOT EXISTS (SELECT 1 FROM negotiations n WHERE n.option_id = lo.id) "
    f"AND NOT ({_held('lo.designer_id')})",
    "DELETE FROM licence_options x USING tx_options t WHERE x.id = t.id",
    *_threads_gone("SELECT th.id FROM threads th WHERE th.kind = 'support' AND th.activity_at <= %(tx_cut)s "
                   f"AND NOT ({_held('th.created_by')})"),
    "DELETE FROM designs d WHERE d.purged_at IS NOT NULL AND d.id IN (SELECT design_id FROM tx_orders "
    "UNION SELECT design_id FROM tx_agreements UNION SELECT design_id FROM tx_negotiations "
    f"UNION SELECT design_id FROM tx_options) AND NOT {_REFERENCED}",
]

ANALYTICS_SQL = [
    "INSERT INTO analytics_daily AS a (design_id, day, kind, events, depth_sum, depth_count) "
    "SELECT design_id, CAST(timezone('UTC', at) AS date), kind, count(*), coalesce(sum(scroll_depth), 0), "
    "count(scroll_depth) FROM engagement_events WHERE at <= %(an_cut)s GROUP BY 1, 2, 3 "
    "ON CONFLICT (design_id, day, kind) DO UPDATE SET events = a.events + excluded.events, "
    "depth_sum = a.depth_sum + excluded.depth_sum, depth_count = a.depth_count + excluded.depth_count",
    "DELETE FROM engagement_events WHERE at <= %(an_cut)s",
]


def run_raw(url: URL, s: Seeded, deps_blobs: Any, *, profile: int = 0) -> tuple[Timing, Any]:
    """The same work on the raw driver: one transaction per rule, set-based statements."""
    import psycopg

    cut = s.cut
    params = {"now": AS_OF, "today": AS_OF.date(), "blocking": BLOCKING_STATUSES,
              "account_cut": cut[RuleCode.ACCOUNT], "design_cut": cut[RuleCode.DESIGN_ASSET],
              "tx_cut": cut[RuleCode.TRANSACTION], "tx_cut_day": cut[RuleCode.TRANSACTION].date(),
              "an_cut": cut[RuleCode.ANALYTICS]}
    pseudonyms = Pseudonymiser(fake_deps()[0].signer)  # the same key as the service's deps
    fill_blobs(deps_blobs, s)
    steps: dict[str, float] = {}
    notes: list[str] = []
    with psycopg.connect(libpq_url(url), autocommit=True) as pg:
        pg.execute("CHECKPOINT")
    with psycopg.connect(libpq_url(url)) as pg:

        def timed(step: str, fn: Callable[[], None]) -> None:
            t0 = time.perf_counter()
            fn()
            pg.commit()
            steps[step] = time.perf_counter() - t0

        spent: list[tuple[float, str]] = []

        def execute(statements: Sequence[str]) -> None:
            for sql in statements:
                t0 = time.perf_counter()
                pg.execute(sql, params if "%(" in sql else None)
                spent.append((time.perf_counter() - t0, sql))

        def accounts() -> None:
            due = pg.execute(
                "SELECT u.id, u.email FROM users u WHERE u.status = 'closed' AND u.erased_at IS NULL "
                f"AND u.closed_at <= %(account_cut)s AND NOT ({_held('u.id')}) "
                "AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.status = ANY(%(blocking)s) "
                "AND u.id IN (o.buyer_id, o.designer_id, o.manufacturer_id))", params).fetchall()
            pg.execute("CREATE TEMP TABLE erase_ids (id text PRIMARY KEY, pseudonym text NOT NULL, "
                       "email text NOT NULL) ON COMMIT DROP")
            with pg.cursor() as cur, cur.copy("COPY erase_ids (id, pseudonym, email) FROM STDIN") as cp:
                for uid, email in due:
                    cp.write_row((uid, pseudonyms.pseudonym(uid), email))
            pg.execute("ANALYZE erase_ids")
            execute(ACCOUNT_SQL)
            notes.append(f"raw erased {len(due)} accounts")

        def blobs() -> None:
            keys = [k for (k,) in pg.execute("SELECT key FROM blob_deletions WHERE due_at <= %(now)s", params)]
            pg.commit()
            for key in keys:
                deps_blobs.delete(key)
            pg.execute("DELETE FROM blob_deletions WHERE key = ANY(%s)", (keys,))

        t0 = time.perf_counter()
        timed(RuleCode.ACCOUNT.value, accounts)
        timed(RuleCode.DESIGN_ASSET.value, lambda: execute(DESIGN_SQL))
        timed(RuleCode.TRANSACTION.value, lambda: execute(TRANSACTION_SQL))
        timed(RuleCode.ANALYTICS.value, lambda: execute(ANALYTICS_SQL))
        timed("blobs", blobs)
        total = time.perf_counter() - t0
    for took, sql in sorted(spent, reverse=True)[:profile]:
        notes.append(f"  {took:7.2f} s  {' '.join(sql.split())[:150]}")
    with psycopg.connect(libpq_url(url), autocommit=True) as pg:
        failures = verify(pg, s, deps_blobs)
        counts = table_counts(pg)
    if failures:
        raise AssertionError("the hand-written SQL's end state is wrong:\n  " + "\n  ".join(failures))
    return Timing(total, steps, notes), counts


# -- the run ---------------------------------------------------------------------------------


class Scratch:
    """Scratch databases on the server, every one dropped by :meth:`drop_all`."""

    def __init__(self, admin_url: URL) -> None:
        self.base = admin_url
        self.admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.prefix = f"caratzon_bench_ret_{secrets.token_hex(3)}"
        self.made: list[str] = []

    def create(self, suffix: str, template: str | None = None) -> URL:
        name = f"{self.prefix}_{suffix}"
        self.made.append(name)
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        return self.base.set(database=name)

    def drop(self, url: URL) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def _table(rows: list[tuple[str, str, str, str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    out = []
    for n, r in enumerate(rows):
        out.append("  " + "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)))
        if n == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(out)


def run(admin_url: URL, args: argparse.Namespace) -> bool:
    mix = Mix.of(args.events, args.other)
    scratch = Scratch(admin_url)
    seed_url: URL | None = None
    try:
        print(f"load average {load()}; seeding …", flush=True)
        for line in mix.describe():
            print(f"  {line}")
        t0 = time.perf_counter()
        seed_url = scratch.create("seed")
        seeded = seed(seed_url, mix)
        if args.index:
            import psycopg

            with psycopg.connect(libpq_url(seed_url), autocommit=True) as pg:
                for spec in args.index:
                    table, _, column = spec.rstrip(")").partition("(")
                    pg.execute(f"CREATE INDEX ix_bench_{table}_{column} ON {table} ({column})")
                    pg.execute(f"ANALYZE {table}")
                    print(f"  prototype: CREATE INDEX ON {table} ({column})")
        print(f"seeded in {time.perf_counter() - t0:.0f} s: {sum(seeded.counts.values()):,} rows, "
              f"{seeded.old_events:,} events at or before the analytics cut-off", flush=True)
        adapter: list[Timing] = []
        raw: list[Timing] = []
        for n in range(args.repeat):
            url = scratch.create(f"a{n}", template=seed_url.database)
            try:
                print(f"[run {n + 1}] RetentionService.apply … (load {load()})", flush=True)
                timing, adapter_counts = run_adapter(url, seeded, profile=args.profile)
                adapter.append(timing)
                print(f"[run {n + 1}] adapter {timing.total:.1f} s", flush=True)
            finally:
                scratch.drop(url)
            url = scratch.create(f"r{n}", template=seed_url.database)
            try:
                print(f"[run {n + 1}] hand-written bulk SQL … (load {load()})", flush=True)
                timing, raw_counts = run_raw(url, seeded, fake_deps()[0].blobs, profile=args.profile)
                raw.append(timing)
                print(f"[run {n + 1}] raw {timing.total:.1f} s", flush=True)
            finally:
                scratch.drop(url)
        differ = {k: (adapter_counts[k], raw_counts[k]) for k in adapter_counts if adapter_counts[k] != raw_counts[k]}
        a_total = statistics.median(t.total for t in adapter)
        r_total = statistics.median(t.total for t in raw)
        steps = [RuleCode.ACCOUNT.value, RuleCode.DESIGN_ASSET.value, RuleCode.TRANSACTION.value,
                 RuleCode.ANALYTICS.value]
        rows = [("step", "RetentionService.apply", "bulk SQL", "ratio")]
        for step in steps:
            a = statistics.median(t.steps.get(step, 0.0) for t in adapter)
            r = statistics.median(t.steps.get(step, 0.0) for t in raw)
            rows.append((step, f"{a:.2f} s", f"{r:.2f} s", f"{a / r:.1f}x" if r > 0.005 else ""))
        rest_a = statistics.median(t.total - sum(t.steps.get(x, 0.0) for x in steps) for t in adapter)
        rest_r = statistics.median(t.total - sum(t.steps.get(x, 0.0) for x in steps) for t in raw)
        rows.append(("audit, blobs, run row", f"{rest_a:.2f} s", f"{rest_r:.2f} s", ""))
        rows.append(("total", f"{a_total:.2f} s", f"{r_total:.2f} s", f"{a_total / r_total:.2f}x"))
        print(f"\nretention as of {AS_OF:%Y-%m-%d %H:%M} UTC, median of {args.repeat} (load {load()}):")
        print(_table(rows))
        for timing in adapter[-1:]:
            for note in timing.notes:
                print(f"  adapter: {note}")
        for timing in raw[-1:]:
            for note in timing.notes:
                print(f"  raw: {note}")
        if differ:
            print("  end states differ in (adapter, raw) rows: "
                  + ", ".join(f"{k} {a}/{r}" for k, (a, r) in sorted(differ.items())))
        ok_time = a_total < TARGET_S
        ok_ratio = a_total <= TARGET_RATIO * r_total
        print(f"\ntarget < {TARGET_S:.0f} s: {'OK' if ok_time else 'MISSED'} ({a_total:.1f} s); "
              f"within {TARGET_RATIO:.0f}x of bulk SQL: {'OK' if ok_ratio else 'MISSED'} ({a_total / r_total:.2f}x)")
        return ok_time and ok_ratio
    finally:
        if args.keep_seed and seed_url is not None:
            scratch.made.remove(seed_url.database or "")
            print(f"kept the seeded database {seed_url.database} (--keep-seed): drop it when done")
        scratch.drop_all()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("CARATZON_BENCH_POSTGRES_URL")
                        or os.environ.get("CARATZON_TEST_POSTGRES_URL"))
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--other", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print the N most expensive statements of each side")
    parser.add_argument("--index", action="append", default=[], metavar="TABLE(COLUMN)",
                        help="prototype: add this index to the seeded database before the runs (repeatable)")
    parser.add_argument("--keep-seed", action="store_true",
                        help="keep the seeded database (to investigate with EXPLAIN); the copies are dropped")
    args = parser.parse_args()
    if not args.postgres:
        print("bench_retention needs PostgreSQL (the target is PostgreSQL's): pass --postgres URL or set "
              "CARATZON_BENCH_POSTGRES_URL; skipped.")
        return 0
    return 0 if run(normalize_url(args.postgres), args) else 1


if __name__ == "__main__":
    os.environ.setdefault("CARATZON_PASSWORD_HASHING", "fast")
    sys.exit(main())
