"""Access export speed (issue #6, part 2): the export of a heavy user — 10,000
messages, 500 orders, 100 designs with an asset each — must take under 5 s on
PostgreSQL.

Run: ``python benchmarks/bench_export.py [--postgres URL] [--messages 10000]
[--orders 500] [--designs 100] [--repeat 3]``. With ``--postgres`` (or
``CARATZON_BENCH_POSTGRES_URL`` / ``CARATZON_TEST_POSTGRES_URL``: an admin URL; a
scratch database is created and dropped) the run is on PostgreSQL, else on a SQLite
file in a temporary directory.

Seeding: the export-test scenario (``caratzon_core.testing_export``) is made
through the use cases; then the designer's rows are multiplied in bulk from those
templates: designs with one 16 KB asset each (blobs in the in-memory store),
orders where she is the designer, messages she wrote. Timed: the SQL reader alone,
the document build, and the whole ``ExportService.export`` (read, build, zip with
every file, store, sign, audit).
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scenario import export_scenario

from caratzon_adapters.sql import tables
from caratzon_adapters.sql.engine import make_engine, normalize_url
from caratzon_adapters.sql.export import SqlPersonalDataReader
from caratzon_core.export import Pseudonymiser, build_document
from caratzon_core.processors import DeploymentFacts, register, register_document
from caratzon_core.services.export import ExportService

TARGET_S = 5.0
BATCH = 2000


def _one(conn: Any, table: Any, **where: Any) -> dict[str, Any]:
    stmt = select(table)
    for k, v in where.items():
        stmt = stmt.where(table.c[k] == v)
    return dict(conn.execute(stmt).mappings().first())


def _bulk(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[i : i + BATCH])


def seed(engine: Engine, blobs: Any, user_id: str, design_id: str, order_id: str, *, messages: int, orders: int,
         designs: int) -> None:
    t = tables
    with engine.begin() as conn:
        design = _one(conn, t.designs, id=design_id)
        asset = _one(conn, t.assets, design_id=design_id, kind="image")
        order = _one(conn, t.orders, id=order_id)
        message = _one(conn, t.messages, author_id=user_id)
        design_rows, asset_rows = [], []
        for _ in range(designs):
            did = str(uuid.uuid4())
            aid = str(uuid.uuid4())
            key = f"designs/{did}/{aid}.png"
            blobs.put(key, io.BytesIO(secrets.token_bytes(16 * 1024)), content_type="image/png", max_bytes=1 << 20)
            design_rows.append({**design, "id": did})
            asset_rows.append({**asset, "id": aid, "design_id": did, "blob_key": key, "thumbnail_key": None,
                               "size": 16 * 1024})
        _bulk(conn, t.designs, design_rows)
        _bulk(conn, t.assets, asset_rows)
        _bulk(conn, t.orders, [{**order, "id": str(uuid.uuid4())} for _ in range(orders)])
        _bulk(conn, t.messages, [{**message, "id": str(uuid.uuid4()), "body": f"Message {i}: " + "x" * 200}
                                 for i in range(messages)])


def _timed(fn: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run(url: str, label: str, args: argparse.Namespace) -> bool:
    engine = make_engine(url)
    try:
        deps, scenario = export_scenario(engine)
        dee = scenario.people["dee"]
        start = time.perf_counter()
        seed(engine, deps.blobs, dee.id, scenario.design_id, scenario.order_id, messages=args.messages,
             orders=args.orders, designs=args.designs)
        print(f"[{label}] seeded {args.messages} messages, {args.orders} orders, {args.designs} designs "
              f"in {time.perf_counter() - start:.1f} s")
        reader = SqlPersonalDataReader(engine)
        service = ExportService(deps, reader, register_document(register(DeploymentFacts())))
        read_s, data = _timed(lambda: reader.read(dee.id), args.repeat)
        p = Pseudonymiser(deps.signer)
        build_s, _ = _timed(lambda: build_document(data, generated_at=deps.clock.now(), pseudonymiser=p,
                                                   processors={}, requested_by=dee.id), args.repeat)
        total_s, result = _timed(lambda: service.export(dee, dee.id), args.repeat)
        counts = {k: len(v) for k, v in data.sections.items() if v}
        print(f"[{label}] rows: messages {counts.get('messages')}, orders {counts.get('orders')}, "
              f"designs {counts.get('designs')}, assets {counts.get('assets')}, "
              f"audit {counts.get('audit_entries')}; files {len(data.files)}; zip {result.size / 1e6:.1f} MB")
        ok = total_s < TARGET_S
        print(f"[{label}] read {read_s * 1000:.0f} ms · build {build_s * 1000:.0f} ms · "
              f"whole export {total_s * 1000:.0f} ms (median of {args.repeat}; target < {TARGET_S:.0f} s) "
              f"{'OK' if ok else 'TOO SLOW'}")
        return ok
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("CARATZON_BENCH_POSTGRES_URL")
                        or os.environ.get("CARATZON_TEST_POSTGRES_URL"))
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--designs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.postgres:
        base = normalize_url(args.postgres)
        admin = make_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        name = f"caratzon_bench_{secrets.token_hex(4)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            ok = run(base.set(database=name).render_as_string(hide_password=False), "postgresql", args)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            ok = run(f"sqlite:///{Path(tmp) / 'bench.db'}", "sqlite", args)
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("CARATZON_PASSWORD_HASHING", "fast")
    sys.exit(main())
