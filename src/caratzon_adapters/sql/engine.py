"""Engines for SQLite (embedded default) and PostgreSQL (psycopg 3).

SQLite gets WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` for every
transaction (the pysqlite recipe from SQLAlchemy's SQLite dialect docs): writers
take the database lock when the transaction starts, so the audit chain's
read-head-then-append cannot interleave and no transaction has to be retried
because it tried to upgrade a read lock. PostgreSQL serialises the same work with
``SELECT ... FOR UPDATE`` on the chain head row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url

DEFAULT_SQLITE_BUSY_TIMEOUT = 30.0  # seconds a writer waits for the lock before giving up
SQLITE_MMAP_BYTES = 256 * 1024 * 1024  # address space, not memory: pages are the OS page cache's


def normalize_url(url: str | URL) -> URL:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 here (SQLAlchemy's default is psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(
    url: str | URL,
    *,
    sqlite_busy_timeout: float = DEFAULT_SQLITE_BUSY_TIMEOUT,
    **engine_options: Any,
) -> Engine:
    """An engine for ``url``. Extra keyword arguments go to :func:`sqlalchemy.create_engine`."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, **engine_options)
        _configure_sqlite(engine, busy_timeout_ms=int(sqlite_busy_timeout * 1000))
        return engine
    engine_options.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **engine_options)


def _configure_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Stop pysqlite from emitting its own (deferred) BEGIN; "begin" below emits ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms:d}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")  # answers "memory" for :memory: databases
            cursor.execute("PRAGMA synchronous = NORMAL")  # the safe setting under WAL
            # Read through the OS page cache instead of copying pages into each
            # connection's small private cache: catalog searches touch thousands of pages.
            cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES:d}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def ping(engine: Engine) -> bool:
    """True when the database answers ``SELECT 1``; never raises."""
    try:
        with engine.connect() as connection:
            return bool(connection.execute(text("SELECT 1")).scalar_one() == 1)
    except Exception:
        return False
