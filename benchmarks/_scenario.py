"""What more than one benchmark starts from: a migrated database holding the
export-test scenario (``caratzon_core.testing_export``), made through the use cases."""

from __future__ import annotations

import tempfile

import attrs
from sqlalchemy import Engine

from caratzon_adapters.sql.migrate import upgrade
from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory
from caratzon_core.services.deps import Deps
from caratzon_core.testing import FakeClock, fake_deps
from caratzon_core.testing_export import ExportScenario, build_export_scenario


def export_scenario(engine: Engine) -> tuple[Deps, ExportScenario]:
    """Migrate ``engine``'s database and build the scenario in it, with fake
    dependencies (the fake clock at its default time) on its unit of work."""
    upgrade(engine)
    deps, _ = fake_deps(clock=FakeClock())
    deps = attrs.evolve(deps, uow=SqlUnitOfWorkFactory(engine))
    with tempfile.TemporaryDirectory() as tmp:
        return deps, build_export_scenario(deps, tmp)
