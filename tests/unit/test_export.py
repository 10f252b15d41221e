"""Issue #6 part 2 with fakes: the access and portability export (policy §9).
Everything about the person is in it, nothing personal about anyone else
(counterparties by role and a stable pseudonym), the zip carries the JSON and the
files the person uploaded, the link expires in 24 hours, only the person or an
admin may ask, nothing is orphaned, every export is audited."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from caratzon_core.access import Actor
from caratzon_core.errors import Forbidden, NotFound
from caratzon_core.export import SCHEMA, SECTION_KEYS, SECTIONS, Pseudonymiser, schema_markdown_sections
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.processors import DeploymentFacts, register, register_document
from caratzon_core.services.export import ExportService
from caratzon_core.signing import HmacSigner
from caratzon_core.testing import FakeClock, fake_deps
from caratzon_core.testing_export import (
    ATTACHMENT,
    CUBE,
    SECRET_REPLY,
    InMemoryPersonalDataReader,
    build_export_scenario,
)

OPERATOR = Actor.cli_operator()
ROOT = Path(__file__).resolve().parents[2]


@attrs.define
class World:
    export: ExportService
    store: Any
    blobs: Any
    clock: FakeClock
    people: dict[str, Actor]
    attachment: bytes
    secret_reply: str


@pytest.fixture
def world(tmp_path: Path) -> World:
    clock = FakeClock()
    deps, store = fake_deps(clock=clock)
    scenario = build_export_scenario(deps, tmp_path)
    export = ExportService(deps, InMemoryPersonalDataReader(store), register_document(register(DeploymentFacts())))
    return World(export, store, deps.blobs, clock, scenario.people, ATTACHMENT, SECRET_REPLY)


def _text(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False)


def _zip(world: World, url: str) -> zipfile.ZipFile:
    check = world.blobs.verify_url(url)
    assert check.ok, check.reason
    return zipfile.ZipFile(io.BytesIO(check.data))


def test_the_buyers_export_holds_everything_about_her(world: World) -> None:
    bea = world.people["bea"]
    result = world.export.export(bea, bea.id)
    doc = result.document
    assert doc["schema"] == SCHEMA
    assert set(doc["sections"]) == {*SECTION_KEYS, "processors"}
    s = doc["sections"]
    assert doc["subject"]["email"] == "bea@example.com" and doc["subject"]["requested_by"] == "self"
    assert s["account"][0]["business_name"] == "Beatrix Buyer Ltd"
    assert "password_hash" not in s["account"][0]
    assert [a["version"] for a in s["policy_acceptances"]] == [INITIAL_POLICY_VERSION]
    assert len(s["negotiations"]) == 1 and s["offers"]
    assert len(s["agreements"]) == 1
    [order] = s["orders"]
    assert order["brief"]["engraving"] == "For Anna"  # she wrote it
    assert [m["body"] for m in s["messages"]] == ["Hello from Beatrix: engraving idea attached"]
    assert [a["filename"] for a in s["message_attachments"]] == ["sketch.png"]
    assert any(e["action"] == "account.signup" or e["actor"] == bea.id for e in s["audit_entries"])
    assert s["processors"]["processors"], "the processors register is part of the export"
    assert s["designs"] == [] and s["assets"] == []


def test_nothing_personal_about_others_leaks(world: World) -> None:
    bea, dee, mx = world.people["bea"], world.people["dee"], world.people["max"]
    doc = world.export.export(bea, bea.id).document
    text = _text(doc)
    for leak in ("dee@example.com", "Dorothea", "max@example.com", "Maximilian", "Bob Bystander",
                 "bob@example.com", "Pamela", world.secret_reply, dee.id, mx.id, world.people["bob"].id):
        assert leak not in text, leak
    p = world.export
    roles = {c["pseudonym"]: c["role"] for c in doc["counterparties"]}
    assert roles[p.pseudonym(dee.id)] == "designer"
    assert p.pseudonym(mx.id) in roles
    [neg] = doc["sections"]["negotiations"]
    assert neg["designer_id"] == p.pseudonym(dee.id) and neg["buyer_id"] == bea.id


def test_pseudonyms_are_stable_across_exports_and_keyed(world: World) -> None:
    bea, dee = world.people["bea"], world.people["dee"]
    first = world.export.export(bea, bea.id).document
    world.clock.advance(timedelta(days=3))
    second = world.export.export(bea, bea.id).document
    assert first["counterparties"] == second["counterparties"]
    assert first["sections"]["negotiations"][0]["designer_id"] == second["sections"]["negotiations"][0]["designer_id"]
    other_key = Pseudonymiser(HmacSigner(b"z" * 32, purpose="audit"))
    assert other_key.pseudonym(dee.id) not in _text(first)


def test_the_designers_export_has_her_files_but_not_the_buyers_brief(world: World) -> None:
    dee, bea = world.people["dee"], world.people["bea"]
    result = world.export.export(dee, dee.id)
    s = result.document["sections"]
    assert [d["title"] for d in s["designs"]] == ["Halo ring"]
    assert sorted(a["filename"] for a in s["assets"]) == ["front.png", "ring.stl"]
    [order] = s["orders"]
    assert order["brief"] is None and order["quote"] is not None
    text = _text(result.document)
    assert "For Anna" not in text and "Beatrix" not in text and bea.id not in text
    assert "Hello from Beatrix" not in text
    assert [m["body"] for m in s["messages"]] == [world.secret_reply]
    with _zip(world, result.link.url) as zf:
        names = zf.namelist()
        assert "export.json" in names
        files = sorted(n for n in names if n.startswith("files/assets/"))
        assert len(files) == 2 and files[0].endswith("front.png") and files[1].endswith("ring.stl")
        assert zf.read(files[1]) == CUBE
        assert json.loads(zf.read("export.json"))["sections"]["designs"][0]["title"] == "Halo ring"
    assert result.files == 2


def test_the_zip_holds_the_json_and_her_attachment(world: World) -> None:
    bea = world.people["bea"]
    result = world.export.export(bea, bea.id)
    with _zip(world, result.link.url) as zf:
        doc = json.loads(zf.read("export.json"))
        [attachment] = [n for n in zf.namelist() if n.startswith("files/attachments/")]
        assert zf.read(attachment) == world.attachment
        assert [f["path"] for f in doc["files"]] == [attachment]
    assert doc == json.loads(json.dumps(result.document))


def test_the_link_expires_after_24_hours_and_the_export_is_recorded(world: World) -> None:
    bea = world.people["bea"]
    result = world.export.export(bea, bea.id)
    now = world.clock.now()
    assert result.link.expires_at == now + timedelta(hours=24)
    assert result.key.startswith("exports/") and result.key in world.blobs.blobs
    assert world.store.state.pending_blobs == {}, "the transaction that records the export forgets the pending key"
    [entry] = [e for e in world.store.state.audit if e.action == "privacy.export"]
    assert entry.actor == bea.id and entry.subject == f"user:{bea.id}" and entry.outcome == "success"
    assert entry.detail["key"] == result.key and entry.detail["files"] == "1"
    world.clock.advance(timedelta(hours=23, minutes=59))
    assert world.blobs.verify_url(result.link.url).ok
    world.clock.advance(timedelta(minutes=2))
    check = world.blobs.verify_url(result.link.url)
    assert not check.ok and check.code == "expired"


def test_only_the_person_or_an_admin_may_export(world: World) -> None:
    bea, bob = world.people["bea"], world.people["bob"]
    with pytest.raises(Forbidden):
        world.export.export(bob, bea.id)
    [denied] = [e for e in world.store.state.audit if e.action == "privacy.export"]
    assert denied.outcome == "denied" and denied.actor == bob.id
    assert not any(k.startswith("exports/") for k in world.blobs.blobs)
    with pytest.raises(Forbidden):
        world.export.export(world.people["pam"], bea.id)  # a production manager is not an admin
    result = world.export.export(OPERATOR, bea.id)
    assert result.document["subject"]["requested_by"] == "admin"
    assert result.document["subject"]["email"] == "bea@example.com"
    with pytest.raises(NotFound):
        world.export.export(OPERATOR, "no-such-user")


def test_a_failed_upload_leaves_no_blob_and_no_pending_record(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    bea = world.people["bea"]
    original = world.blobs.signed_url

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("store unavailable")

    monkeypatch.setattr(world.blobs, "signed_url", broken)
    with pytest.raises(ConnectionError):
        world.export.export(bea, bea.id)
    monkeypatch.setattr(world.blobs, "signed_url", original)
    assert not any(k.startswith("exports/") for k in world.blobs.blobs)
    assert world.store.state.pending_blobs == {}
    assert not [e for e in world.store.state.audit if e.action == "privacy.export"]


def test_the_schema_document_lists_every_section() -> None:
    doc = (ROOT / "docs" / "export-schema.md").read_text(encoding="utf-8")
    assert schema_markdown_sections() in doc
    assert SCHEMA in doc
    assert len({s.key for s in SECTIONS}) == len(SECTIONS)


def test_every_personal_table_is_exported_or_excluded_for_a_reason() -> None:
    from caratzon_adapters.sql.datamap import DATA_MAP
    from caratzon_adapters.sql.export import CHILDREN, NOT_EXPORTED, SECTION_OF_TABLE, selection_columns

    personal = set(DATA_MAP.personal_tables())
    assert personal - set(SECTION_OF_TABLE) - set(NOT_EXPORTED) == set()
    assert set(SECTION_OF_TABLE.values()) == set(SECTION_KEYS)
    for table in SECTION_OF_TABLE:
        reachable = table in CHILDREN or selection_columns(table) or table in (
            "audit_log", "outbox", "ledger_lines", "login_attempts")
        assert reachable, f"{table}: no way to find the person's rows"
