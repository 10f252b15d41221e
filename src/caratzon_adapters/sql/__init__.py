"""SQL persistence (SQLAlchemy Core + Alembic) for the core's repository ports.

- :mod:`.engine` builds engines (SQLite tuned for one writer at a time, PostgreSQL via psycopg);
- :mod:`.tables` declares the schema; :mod:`.mapping` turns rows into frozen domain objects and back;
- :mod:`.repositories` implements every repository port on one connection;
- :mod:`.uow` is the unit of work (one connection, one transaction);
- :mod:`.migrate` applies the Alembic migrations shipped in ``migrations/``.

Nothing here runs at import time: the composition root calls these functions.
"""
