"""Apply the Alembic migrations shipped inside this package (no ``alembic.ini``).

The Alembic configuration is built in code: ``script_location`` is the
``migrations`` folder next to this module and the connection is handed to
``migrations/env.py`` through ``config.attributes["connection"]``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Taken for the length of an upgrade so two processes starting at once cannot both migrate.
_PG_MIGRATION_LOCK = 0x6361_7261_747A  # "caratz"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    # configparser interpolates "%": escape it in the path.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (the newest by default); a no-op when already there."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        command.upgrade(alembic_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` when it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
