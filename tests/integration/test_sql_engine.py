"""Engine set-up: URL rewriting, SQLite pragmas and BEGIN IMMEDIATE, ping."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from caratzon_adapters.sql.engine import make_engine, normalize_url, ping


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u:p@db:5432/caratzon", "postgresql+psycopg"),
        ("postgres://u@db/caratzon", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db/caratzon", "postgresql+psycopg"),
        ("sqlite:////tmp/x.sqlite3", "sqlite"),
    ],
)
def test_postgres_urls_use_psycopg_3(given: str, driver: str) -> None:
    url = normalize_url(given)
    assert url.drivername == driver
    assert url.database in ("caratzon", "/tmp/x.sqlite3")


def test_postgres_engine_pings_before_use() -> None:
    engine = make_engine("postgresql://u@127.0.0.1:1/none")
    try:
        assert engine.pool._pre_ping  # type: ignore[attr-defined]
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}", sqlite_busy_timeout=1.5)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 1500
    finally:
        engine.dispose()


def test_sqlite_transactions_take_the_write_lock_when_they_begin(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}", sqlite_busy_timeout=0.05)
    try:
        with engine.connect() as first, engine.connect() as second:
            first.begin()  # BEGIN IMMEDIATE: nothing read or written yet, but the lock is held
            with pytest.raises(OperationalError, match="database is locked"):
                second.begin()
            first.rollback()
            second.begin()  # free again
            second.rollback()
    finally:
        engine.dispose()


def test_ping(engine: Engine) -> None:
    assert ping(engine) is True


def test_ping_is_false_when_the_database_is_unreachable(tmp_path: Path) -> None:
    for url in ("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1",
                f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}"):
        engine = make_engine(url)
        try:
            assert ping(engine) is False
        finally:
            engine.dispose()
