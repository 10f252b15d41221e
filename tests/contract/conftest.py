"""The backends every port contract runs against: the in-memory fake the unit
tests use, and the SQL adapter on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from caratzon_core.ports import UnitOfWorkFactory


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def repository_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def uow_factory(repository_backend: str, make_database_url: Callable[..., str]) -> Iterator[UnitOfWorkFactory]:
    if repository_backend == "memory":
        from caratzon_core.testing import InMemoryStore

        yield InMemoryStore()
        return
    from caratzon_adapters.sql.engine import make_engine
    from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory

    engine = make_engine(make_database_url(repository_backend))
    try:
        yield SqlUnitOfWorkFactory(engine)
    finally:
        engine.dispose()
