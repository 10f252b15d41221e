"""Issue #6 part 2 over SQLite and PostgreSQL: the SQL PersonalDataReader finds the
same records as the fake (set-based queries driven by the data map), messages only
the person wrote, no counterparty's name or email, and the export round-trips
through the service with nothing orphaned."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import attrs
import pytest
from sqlalchemy import Engine, func, select

from caratzon_adapters.sql import tables
from caratzon_adapters.sql.export import SqlPersonalDataReader
from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory
from caratzon_core.access import Actor
from caratzon_core.export import SCHEMA, SECTION_KEYS
from caratzon_core.processors import DeploymentFacts, register, register_document
from caratzon_core.services.export import ExportService
from caratzon_core.testing import FakeClock, fake_deps
from caratzon_core.testing_export import ATTACHMENT, SECRET_REPLY, ExportScenario, build_export_scenario


@pytest.fixture
def world(sql_uow: SqlUnitOfWorkFactory, engine: Engine, tmp_path: Path) -> tuple[ExportService, ExportScenario, object]:
    deps, _ = fake_deps(clock=FakeClock())
    deps = attrs.evolve(deps, uow=sql_uow)
    scenario = build_export_scenario(deps, tmp_path)
    export = ExportService(deps, SqlPersonalDataReader(engine), register_document(register(DeploymentFacts())))
    return export, scenario, deps.blobs


def test_the_buyers_export_over_sql(world, engine: Engine) -> None:
    export, scenario, blobs = world
    bea, dee, mx = (scenario.people[n] for n in ("bea", "dee", "max"))
    result = export.export(bea, bea.id)
    doc = result.document
    s = doc["sections"]
    assert doc["schema"] == SCHEMA and set(s) == {*SECTION_KEYS, "processors"}
    assert s["account"][0]["email"] == "bea@example.com" and "password_hash" not in s["account"][0]
    assert [m["body"] for m in s["messages"]] == ["Hello from Beatrix: engraving idea attached"]
    assert [a["filename"] for a in s["message_attachments"]] == ["sketch.png"]
    assert len(s["negotiations"]) == 1 and s["offers"] and len(s["agreements"]) == 1
    [order] = s["orders"]
    assert order["brief_json"]["engraving"] == "For Anna"
    assert s["policy_acceptances"] and s["audit_entries"] and s["ledger_entries"] == []
    text = json.dumps(doc)
    for leak in ("dee@example.com", "Dorothea", "max@example.com", "Maximilian", "Bob", SECRET_REPLY,
                 dee.id, mx.id, scenario.people["bob"].id):
        assert leak not in text, leak
    assert s["negotiations"][0]["designer_id"] == export.pseudonym(dee.id)
    assert s["orders"][0]["manufacturer_id"] == export.pseudonym(mx.id)
    with zipfile.ZipFile(io.BytesIO(blobs.verify_url(result.link.url).data)) as zf:
        [name] = [n for n in zf.namelist() if n.startswith("files/attachments/")]
        assert zf.read(name) == ATTACHMENT
        assert json.loads(zf.read("export.json"))["schema"] == SCHEMA
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.pending_blobs)).scalar_one() == 0
        actions = conn.execute(select(tables.audit_log.c.action, tables.audit_log.c.detail)
                               .where(tables.audit_log.c.action == "privacy.export")).all()
    assert [a.detail["key"] for a in actions] == [result.key]


def test_the_designers_export_over_sql(world) -> None:
    export, scenario, _ = world
    dee, bea = scenario.people["dee"], scenario.people["bea"]
    doc = export.export(Actor.cli_operator(), dee.id).document
    s = doc["sections"]
    assert [d["title"] for d in s["designs"]] == ["Halo ring"]
    assert sorted(a["filename"] for a in s["assets"]) == ["front.png", "ring.stl"]
    assert [m["body"] for m in s["messages"]] == [SECRET_REPLY]
    assert s["orders"][0]["brief_json"] is None
    assert s["licence_options"] and s["threads"][0]["title"] is None  # bea started it
    text = json.dumps(doc)
    assert "Beatrix" not in text and "For Anna" not in text and bea.id not in text
    assert len(doc["files"]) == 2 and doc["subject"]["requested_by"] == "admin"
