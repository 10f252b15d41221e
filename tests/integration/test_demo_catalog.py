"""`caratzon demo seed` fills a newcomer's catalog: at least 30 published designs,
each with a generated image and a real generated STL that the real inspector
measures (rings as bands of real US ring sizes, pendants, studs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.config import Config
from caratzon_adapters.demo import seed_demo
from caratzon_core.access import Actor
from caratzon_core.catalog import CatalogQuery
from caratzon_core.designs import AssetKind, DesignStatus
from caratzon_core.geometry import CadStatus
from caratzon_core.testing import FakeHasher, InMemoryStore


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    config = Config.from_env({"CARATZON_DATA_DIR": str(tmp_path)})
    services = bootstrap(config, uow=InMemoryStore(), hasher=FakeHasher())
    yield services
    services.close()


@pytest.mark.slow
def test_the_demo_catalog_is_alive_and_seeding_is_idempotent(services: Services) -> None:
    seed_demo(services)
    buyer = next(u for u in services.accounts.list_users(Actor.cli_operator()) if u.role.value == "buyer")
    actor = services.accounts.actor_for(buyer)
    items = []
    page = services.designs.search(actor, CatalogQuery(limit=100))
    items += page.items
    assert len(items) >= 30
    assert {i.design.category.value for i in items} >= {"ring", "pendant", "earrings"}
    assert len({i.designer_name for i in items}) == 3
    assert all(i.thumbnail_asset_id for i in items)
    ring = next(i.design for i in items if i.design.category.value == "ring")
    owner = services.accounts.actor_for(next(u for u in services.accounts.list_users(Actor.cli_operator())
                                             if u.id == ring.designer_id))
    view = services.designs.view(owner, ring.id)
    cad = [a.asset for a in view.assets if a.asset.kind is AssetKind.CAD]
    assert cad and cad[0].analysis is not None and cad[0].analysis.status is CadStatus.ANALYSED
    assert cad[0].analysis.weights  # grams per alloy for a watertight ring
    assert all(d.status is DesignStatus.PUBLISHED for d in (i.design for i in items))

    seed_demo(services)  # idempotent
    assert len(services.designs.search(actor, CatalogQuery(limit=100)).items) == len(items)
