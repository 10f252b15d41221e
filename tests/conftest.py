"""Database fixtures shared by every test layer.

- SQLite: one migrated file per test run is the template; each test gets a copy
  in its own ``tmp_path``.
- PostgreSQL (only when ``CARATZON_TEST_POSTGRES_URL`` is set, e.g.
  ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``): one fresh database
  ``caratzon_test_<random>`` per run is migrated once and used as a TEMPLATE;
  each test gets ``CREATE DATABASE ... TEMPLATE ...`` (a few ms), and every one of
  them is dropped when the run ends. Unset: PostgreSQL tests skip. Set but
  unreachable: they skip, or fail when ``CI`` is set.

Fixtures: ``database_url`` (parametrized sqlite/postgres), ``engine``, ``sql_uow``,
and ``make_database_url(backend, migrated=True)`` for tests that need more
databases or an empty one. Heavy imports happen inside the fixtures.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory

POSTGRES_URL_ENV = "CARATZON_TEST_POSTGRES_URL"
POSTGRES_NOT_SET = "CARATZON_TEST_POSTGRES_URL not set: PostgreSQL tests skipped"

# Use as ``@pytest.fixture(params=DATABASE_BACKENDS)`` or in ``parametrize``.
DATABASE_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class SqliteDatabases:
    """Copies of one migrated SQLite file."""

    def __init__(self, template: Path) -> None:
        self.template = template

    def new(self, directory: Path, *, migrated: bool = True) -> str:
        path = directory / f"caratzon-{secrets.token_hex(4)}.sqlite3"
        if migrated:
            shutil.copyfile(self.template, path)
            wal = self.template.with_name(self.template.name + "-wal")
            if wal.exists():  # normally folded in when the last connection closed
                shutil.copyfile(wal, path.with_name(path.name + "-wal"))
        return f"sqlite:///{path}"


class PostgresDatabases:
    """Databases cloned from a migrated template, all dropped at the end of the run."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy.pool import NullPool

        from caratzon_adapters.sql.engine import make_engine, normalize_url

        self.base_url = normalize_url(admin_url)
        self.admin = make_engine(
            self.base_url, isolation_level="AUTOCOMMIT", poolclass=NullPool,
            connect_args={"connect_timeout": 3},
        )
        self.prefix = f"caratzon_test_{secrets.token_hex(4)}"
        self.template: str | None = None
        self.created: list[str] = []
        self._n = 0

    def url_for(self, name: str) -> str:
        return self.base_url.set(database=name).render_as_string(hide_password=False)

    def _execute(self, sql: str) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def check_reachable(self) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text("SELECT 1"))

    def build_template(self) -> None:
        from caratzon_adapters.sql.engine import make_engine
        from caratzon_adapters.sql.migrate import upgrade

        name = f"{self.prefix}_tpl"
        self._execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        engine = make_engine(self.url_for(name))
        try:
            upgrade(engine)
        finally:
            engine.dispose()  # a template must have no open sessions
        self.template = name

    def new(self, *, migrated: bool = True) -> str:
        self._n += 1
        name = f"{self.prefix}_{self._n}"
        if migrated:
            assert self.template is not None
            self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        else:
            self._execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url_for(name)

    def drop_all(self) -> None:
        """Drop every database of this run, clones before the template (~70 ms each)."""
        try:
            for name in reversed(self.created):
                self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.created.clear()
        finally:
            self.admin.dispose()


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    from caratzon_adapters.sql.engine import make_engine
    from caratzon_adapters.sql.migrate import upgrade

    template = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{template}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return SqliteDatabases(template)


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        pytest.skip(POSTGRES_NOT_SET)
    databases = PostgresDatabases(url)
    try:
        databases.check_reachable()
    except Exception as exc:
        databases.admin.dispose()
        reason = f"{POSTGRES_URL_ENV} is set but PostgreSQL is unreachable: {type(exc).__name__}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        databases.build_template()
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture
def make_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., str]:
    """``make_database_url("sqlite" | "postgres", migrated=True)``: a new database for this test."""

    def make(backend: str, *, migrated: bool = True) -> str:
        if backend == "sqlite":
            sqlite: SqliteDatabases = request.getfixturevalue("sqlite_databases")
            return sqlite.new(tmp_path, migrated=migrated)
        if backend == "postgres":
            postgres: PostgresDatabases = request.getfixturevalue("postgres_databases")
            return postgres.new(migrated=migrated)
        raise ValueError(f"unknown database backend {backend!r}")

    return make


@pytest.fixture(params=DATABASE_BACKENDS)
def database_url(request: pytest.FixtureRequest, make_database_url: Callable[..., str]) -> str:
    """A migrated, empty database of its own for this test, on each backend."""
    return make_database_url(request.param)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    from caratzon_adapters.sql.engine import make_engine

    eng = make_engine(database_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def sql_uow(engine: Engine) -> SqlUnitOfWorkFactory:
    from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory

    return SqlUnitOfWorkFactory(engine)


# -- S3 against moto's server on loopback (FACTS.md: real HTTP, reset between tests) --------


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def fresh_s3(moto_endpoint: str) -> Callable[[str], object]:
    """Wipe moto's state and return a client with ``bucket`` created."""
    import urllib.request

    import boto3
    import botocore.config

    def make(bucket: str) -> object:
        reset = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(reset):
            pass
        client = boto3.client(
            "s3",
            endpoint_url=moto_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        client.create_bucket(Bucket=bucket)
        return client

    return make
