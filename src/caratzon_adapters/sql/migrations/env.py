"""Alembic environment: runs on the connection that
:func:`caratzon_adapters.sql.migrate.upgrade` puts in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from caratzon_adapters.sql.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Run migrations with caratzon_adapters.sql.migrate.upgrade(engine) "
        "(or `caratzon db upgrade`); there is no alembic.ini."
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things: later migrations rebuild tables in batch mode.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
