"""Issue #6 parts 3 and 4 over SQLite and PostgreSQL: the SQL PrivacyStore.

Erasure (P30, P37): after a person is erased no column outside the audit trail holds
their id, name or email; records that must outlive them (orders, agreements, the
ledger, payments) name a stand-in account instead and still add up; the other party
still sees the conversation with the person's words removed; their files are queued
for deletion, except the designs kept under an active licence (P31). Erasing twice
changes nothing. Adding a user reference to the data map without teaching erasure
fails here.

Retention (P30-P34): the candidates of each rule and the exceptions standing on
them, the purges of design assets and transaction records, the folding of raw
analytics into daily counts (never counted twice, even when a batch is rolled
back), the audit pruning bound under a legal hold, holds, the blob queue and runs.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import JSON, Engine, String, Text, cast, delete, func, insert, select, text, update

from caratzon_adapters.security import RandomIds
from caratzon_adapters.sql import tables
from caratzon_adapters.sql.datamap import DATA_MAP
from caratzon_adapters.sql.privacy import (
    BLOB_COLUMNS,
    ErasureMapError,
    SqlPrivacyStore,
    check_handlers,
    handler_problems,
)
from caratzon_adapters.sql.repositories import facet_counts_from_entries
from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory
from caratzon_core import datamap as dm
from caratzon_core.datamap import ColumnRule, DataMap, Masking
from caratzon_core.designs import DesignStatus
from caratzon_core.erasure import ERASED_EMAIL_DOMAIN, ERASED_NAME, Erasee, ErasureReport, PersonFacts
from caratzon_core.errors import Conflict, NotFound
from caratzon_core.ledger import EntryKind, JournalEntry, LedgerLine
from caratzon_core.money import Money
from caratzon_core.payments import InstructionKind, PaymentInstruction
from caratzon_core.requests import DataRequest, Note, Origin, RequestStatus, RequestType
from caratzon_core.retention import (
    Candidate,
    Keep,
    LegalHold,
    RetentionRun,
    RuleCode,
    RunStatus,
    cutoffs,
    decide,
    plan,
)
from caratzon_core.services.designs import DesignInput, DesignService, Upload
from caratzon_core.services.messaging import MessagingService
from caratzon_core.testing import FakeClock, fake_deps
from caratzon_core.testing_export import PNG, SECRET_REPLY, ExportScenario, build_export_scenario

# Columns that keep a person's data by law after erasure: the audit trail (hash-chained,
# pruned after 3 years), the sign-in attempts throttling guesses, who ran retention.
AUDIT_KEPT = frozenset(
    (t, c) for t, cols in DATA_MAP.tables.items() for c, e in cols.items()
    if isinstance(e, ColumnRule) and e.masking is Masking.KEEP and e.retention is dm.AUDIT
)
TEXT_TYPES = (String, Text, JSON)


@attrs.frozen
class World:
    deps: Any
    s: ExportScenario
    engine: Engine
    store: SqlPrivacyStore

    def id(self, name: str) -> str:
        return str(self.s.people[name].id)

    @property
    def now(self) -> datetime:
        return self.deps.clock.now()

    def uow(self) -> Any:
        return self.deps.uow()


@pytest.fixture
def world(sql_uow: SqlUnitOfWorkFactory, engine: Engine, tmp_path: Path) -> World:
    deps, _ = fake_deps(clock=FakeClock())
    # random uuids: no person's id is the prefix of another record's id
    deps = attrs.evolve(deps, uow=sql_uow, ids=RandomIds())
    return World(deps, build_export_scenario(deps, tmp_path), engine, SqlPrivacyStore())


def pseudonym(user_id: str) -> str:
    return "anon-" + hashlib.sha256(user_id.encode()).hexdigest()[:20]


def columns_containing(conn: Any, needle: str) -> set[tuple[str, str]]:
    """Every text column of every table where some row contains ``needle``."""
    found = set()
    for table in tables.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, TEXT_TYPES):
                hit = select(func.count()).select_from(table).where(
                    cast(column, Text).contains(needle, autoescape=True))
                if conn.execute(hit).scalar_one():
                    found.add((table.name, column.name))
    return found


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return dump_of(conn)


def dump_of(conn: Any) -> dict[str, list[tuple[Any, ...]]]:
    return {t.name: sorted(tuple(str(v) for v in row) for row in conn.execute(select(t)))
            for t in tables.metadata.sorted_tables}


def one(conn: Any, table: Any, **where: Any) -> Any:
    return conn.execute(select(table).where(*(table.c[k] == v for k, v in where.items()))).mappings().one()


def count(conn: Any, table: Any, *conds: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(*conds)).scalar_one())


def blob_keys(conn: Any) -> dict[str, str]:
    return {k: r for k, r in conn.execute(select(tables.blob_deletions.c.key, tables.blob_deletions.c.reason))}


def facets_consistent(conn: Any) -> bool:
    stored = {(c, m, g): n for c, m, g, n in conn.execute(select(tables.catalog_facet_counts)) if n}
    return stored == facet_counts_from_entries(conn)


def copy_row(conn: Any, table: Any, key: str, **changes: Any) -> None:
    row = dict(conn.execute(select(table).where(table.c.id == key)).mappings().one())
    conn.execute(insert(table).values({**row, **changes}))


def enrich(w: World) -> dict[str, Any]:
    """More of what a person leaves behind than the export scenario has: consent
    proofs, analytics, a data request, money on the order, a support thread, a draft
    order and an open negotiation."""
    bea, dee, mx = w.id("bea"), w.id("dee"), w.id("max")
    now, ids = w.now, w.deps.ids
    support = MessagingService(w.deps).open_support(
        w.s.people["bea"], "Help for Beatrix Buyer", "Please write to bea@example.com")
    out: dict[str, Any] = {"support": support.id, "draft": ids.new_id(), "open_negotiation": ids.new_id()}
    with w.uow() as uow:
        conn = uow.connection
        from caratzon_core.consent import ConsentRecord, EngagementEvent, EventKind

        uow.consents.add(ConsentRecord(ids.new_id(), "visitor-of-bea", bea, "1", True, now, "203.0.113.0",
                                       "Mozilla/5.0 (Beatrix)"))
        uow.consents.add(ConsentRecord(ids.new_id(), "visitor-of-bob", w.id("bob"), "1", True, now, "198.51.100.0",
                                       "Mozilla/5.0"))
        uow.engagement.add(EngagementEvent(ids.new_id(), w.s.design_id, EventKind.VIEW, now, "visitor-of-bea", bea))
        uow.engagement.add(EngagementEvent(ids.new_id(), w.s.design_id, EventKind.VIEW, now, "visitor-of-bob",
                                           w.id("bob")))
        uow.data_requests.add(DataRequest(
            ids.new_id(), bea, RequestType.ERASURE, RequestStatus.RECEIVED, Origin.SELF, bea, now,
            now + timedelta(days=30), details="I am Beatrix Buyer (bea@example.com): erase me",
            notes=(Note(now, bea, "opened"),)))
        uow.ledger.add(JournalEntry(ids.new_id(), w.s.order_id, EntryKind.CHARGE, "USD", f"order:{w.s.order_id}:charge",
                                    (LedgerLine("clearing", 10_000, 0),
                                     LedgerLine(f"payable:designer:{dee}", 0, 6_000),
                                     LedgerLine(f"payable:manufacturer:{mx}", 0, 3_000),
                                     LedgerLine("revenue:platform", 0, 1_000)), now, buyer_id=bea))
        uow.payments.add(PaymentInstruction(
            ids.new_id(), w.s.order_id, InstructionKind.CHARGE, Money(10_000, "USD"), bea,
            f"order:{w.s.order_id}:charge", now, last_error="card of bea@example.com declined"))
        uow.payments.add(PaymentInstruction(
            ids.new_id(), w.s.order_id, InstructionKind.TRANSFER, Money(6_000, "USD"), dee,
            f"order:{w.s.order_id}:payout:payable:designer:{dee}", now, last_error="no account for Dorothea"))
        conn.execute(update(tables.orders).where(tables.orders.c.id == w.s.order_id)
                     .values(declined_by_json=json.dumps(sorted([mx, "someone-else"]), separators=(",", ":"))))
        copy_row(conn, tables.orders, w.s.order_id, id=out["draft"], status="draft", submitted_at=None,
                 manufacturer_id=None, offered_at=None, offer_expires_at=None, declined_by_json="[]")
        negotiation = conn.execute(select(tables.negotiations.c.id).where(tables.negotiations.c.buyer_id == bea)
                                   ).scalar_one()
        copy_row(conn, tables.negotiations, negotiation, id=out["open_negotiation"], status="open", closed_at=None,
                 accepted_offer_id=None)
        pam = w.id("pam")  # notices to someone else that quote the person
        for key, values in ((f"digest:{support.id}:{pam}:20261127", {"count": "1", "thread_title": support.title}),
                            (f"dsr:{pam}", {"detail": "A request from bea@example.com", "company": "Beatrix Buyer Ltd"})):
            conn.execute(insert(tables.outbox).values(
                id=ids.new_id(), dedupe_key=key, kind="test", to_email="pam@example.com", language="en",
                values_json=json.dumps(values), created_at=now, status="pending", attempts=0))
        uow.commit()
    return out


def erase(w: World, name: str, keep: tuple[str, ...] = ()) -> Any:
    with w.uow() as uow:
        report = w.store.erase_person(uow, w.id(name), pseudonym=pseudonym(w.id(name)), now=w.now,
                                      keep_designs=keep)
        uow.commit()
    return report


def assert_no_trace(w: World, name: str, email: str, person_name: str) -> None:
    """P30/P37: outside the audit trail, nothing holds the person's id, name or email."""
    uid = w.id(name)
    with w.engine.connect() as conn:
        for table, column in DATA_MAP.user_references():
            t = tables.metadata.tables[table]
            named = count(conn, t, cast(t.c[column], Text).contains(uid, autoescape=True))
            rule = DATA_MAP.rule_for(table, column)
            assert rule is not None
            if rule.masking is not Masking.KEEP:
                assert named == 0, f"{table}.{column} still names the erased person"
        for needle in (uid, email, person_name, f"{person_name} Ltd"):
            assert columns_containing(conn, needle) <= AUDIT_KEPT, needle


# -- the map and erasure agree -------------------------------------------------------------


def test_erasure_has_a_handler_for_every_user_reference_and_knows_whose_rows_it_masks() -> None:
    assert handler_problems() == []
    check_handlers()
    tables_with_extra = {t: dict(cols) for t, cols in DATA_MAP.tables.items()}
    tables_with_extra["orders"]["referee_id"] = ColumnRule(dm.USER_IDENTIFIER, dm.TRANSACTION, Masking.PSEUDONYMISE)
    with pytest.raises(ErasureMapError, match=r"orders\.referee_id: a user reference \(masking pseudonymise\)"):
        check_handlers(DataMap(tables_with_extra))
    with pytest.raises(ErasureMapError):
        SqlPrivacyStore(DataMap(tables_with_extra))
    changed = {t: dict(cols) for t, cols in DATA_MAP.tables.items()}
    changed["ledger_lines"]["account"] = ColumnRule(dm.USER_IDENTIFIER, dm.TRANSACTION, Masking.KEEP)
    changed["orders"]["brief_json"] = ColumnRule(dm.TRANSACTION_ORDER, dm.TRANSACTION, Masking.REDACT)
    changed["price_tables"]["currency"] = ColumnRule(dm.USER_NAME, dm.ACCOUNT, Masking.DELETE_ROW)
    problems = handler_problems(DataMap(changed))
    assert any(p.startswith("ledger_lines.account: the data map says keep") for p in problems)
    assert any(p.startswith("orders: erasure masks brief_json (redact)") for p in problems)
    assert any(p.startswith("price_tables: erasure masks currency (delete_row)") for p in problems)
    # every column that names a blob is known, so deleting its row queues the blob
    named_blobs = {(t.name, c.name) for t in tables.metadata.sorted_tables for c in t.columns
                   if c.name in ("blob_key", "thumbnail_key")}
    assert named_blobs == {(t, c) for t, cols in BLOB_COLUMNS.items() for c in cols}


# -- erasure --------------------------------------------------------------------------------


def test_erasing_the_buyer_keeps_the_records_under_a_stand_in_and_nothing_else(world: World) -> None:
    """P30, P37: the buyer of the export scenario, with a support thread, consent proofs,
    analytics, a request, payments, a draft order and an open negotiation."""
    w = world
    bea, dee = w.id("bea"), w.id("dee")
    p = pseudonym(bea)
    extra = enrich(w)
    with w.uow() as uow:
        balances = uow.ledger.balances_for_order(w.s.order_id)
        facts = w.store.person_facts(uow, bea, w.now.date())
    assert facts.exists and not facts.already_erased and facts.open_orders == (w.s.order_id,)
    with w.engine.connect() as conn:
        attachment = conn.execute(select(tables.message_attachments.c.blob_key)).scalar_one()
        titles = dict(conn.execute(select(tables.threads.c.id, tables.threads.c.title)).all())

    report = erase(w, "bea")

    assert_no_trace(w, "bea", "bea@example.com", "Beatrix Buyer")
    assert report.user_id == bea and report.pseudonym == p and report.blobs == 1
    assert report.counts["users.delete_row"] == 1 and report.counts["messages.redact"] == 2
    with w.engine.connect() as conn:
        stand_in = one(conn, tables.users, id=p)
        assert (stand_in["name"], stand_in["email"], stand_in["role"], stand_in["status"]) == (
            ERASED_NAME, f"{p}@{ERASED_EMAIL_DOMAIN}", "buyer", "closed")
        assert stand_in["erased_at"] == w.now and stand_in["business_name"] is None
        assert stand_in["password_hash"] == "!erased"
        # the records that outlive the person name the stand-in
        for table in (tables.orders, tables.agreements, tables.negotiations):
            assert {r.buyer_id for r in conn.execute(select(table.c.buyer_id))} == {p}
        order = one(conn, tables.orders, id=w.s.order_id)
        assert order["designer_id"] == dee and count(conn, tables.orders, tables.orders.c.id == extra["draft"]) == 0
        assert one(conn, tables.negotiations, id=extra["open_negotiation"])["status"] == "withdrawn"
        assert one(conn, tables.ledger_entries, order_id=w.s.order_id)["buyer_id"] == p
        charge = one(conn, tables.payment_instructions, kind="charge")
        assert (charge["party_id"], charge["last_error"]) == (p, None)
        # consent proof stays without the person; their analytics and notices go
        consent = one(conn, tables.consents, visitor_id=p)
        assert (consent["user_id"], consent["client_address"], consent["user_agent"]) == (None, None, None)
        assert one(conn, tables.consents, visitor_id="visitor-of-bob")["user_id"] == w.id("bob")
        assert [r.visitor_id for r in conn.execute(select(tables.engagement_events))] == ["visitor-of-bob"]
        request = one(conn, tables.data_requests, user_id=p)
        assert request["details"] == "" and json.loads(request["notes_json"])[0]["by"] == p
        support = one(conn, tables.threads, id=extra["support"])
        assert (support["title"], support["created_by"]) == ("", p)
        negotiation = one(conn, tables.threads, id=w.s.thread_id)  # titled by the platform after the design
        assert negotiation["created_by"] == p and negotiation["title"] == titles[w.s.thread_id] != ""
        # their upload is queued for deletion in the same transaction
        assert blob_keys(conn) == {attachment: "erasure"}
        assert count(conn, tables.message_attachments) == 0
        notice_to_dee = [json.loads(v) for (v,) in conn.execute(select(tables.outbox.c.values_json))]
        assert notice_to_dee and all(n.get("counterparty") != "Beatrix Buyer" for n in notice_to_dee)
        assert any(n.get("counterparty") == ERASED_NAME for n in notice_to_dee)
    with w.uow() as uow:
        # the ledger still adds up, under the stand-in's accounts
        assert uow.ledger.balances_for_order(w.s.order_id) == balances
        # the designer still sees the conversation, with the buyer's words removed
        messages = {m.author_id: m for m in uow.threads.messages(w.s.thread_id)}
        assert messages[p].body == "" and messages[p].removed and not messages[p].attachments
        assert messages[dee].body == SECRET_REPLY and not messages[dee].removed
        assert w.store.person_facts(uow, bea, w.now.date()).exists is False
        assert w.store.person_facts(uow, p, w.now.date()).already_erased is True

    before = dump(w.engine)
    again = erase(w, "bea")
    assert again.rows == 0 and again.blobs == 0 and dump(w.engine) == before


def test_erasing_a_designer_keeps_designs_under_an_active_licence(world: World) -> None:
    """P31, P30: the licensed design stays (files and all) as a removed design of the
    stand-in, out of the catalog; their money is still owed under the pseudonym."""
    w = world
    dee, bea = w.id("dee"), w.id("bea")
    p = pseudonym(dee)
    enrich(w)
    with w.uow() as uow:
        facts = w.store.person_facts(uow, dee, w.now.date())
        balances = uow.ledger.balances_for_order(w.s.order_id)
    assert facts.licensed_designs == (w.s.design_id,)
    with w.engine.connect() as conn:
        assert count(conn, tables.catalog_entries) == 1

    report = erase(w, "dee", keep=facts.licensed_designs)

    assert_no_trace(w, "dee", "dee@example.com", "Dorothea Designer")
    assert report.kept_designs == (w.s.design_id,) and report.blobs == 0
    with w.engine.connect() as conn:
        design = one(conn, tables.designs, id=w.s.design_id)
        assert (design["status"], design["designer_id"], design["title"]) == ("removed", p, "Halo ring")
        assert design["removed_at"] == w.now and design["purged_at"] is None
        assert count(conn, tables.assets, tables.assets.c.design_id == w.s.design_id) == 2
        assert blob_keys(conn) == {}
        assert count(conn, tables.catalog_entries) == 0 and facets_consistent(conn)
        assert one(conn, tables.licence_options, design_id=w.s.design_id)["designer_id"] == p
        accounts = {r.account for r in conn.execute(select(tables.ledger_lines.c.account))}
        assert f"payable:designer:{p}" in accounts
        transfer = one(conn, tables.payment_instructions, kind="transfer")
        assert transfer["idempotency_key"].endswith(f":payable:designer:{p}") and transfer["last_error"] is None
        assert transfer["party_id"] == p
    with w.uow() as uow:
        assert uow.ledger.balances_for_order(w.s.order_id) == {
            k.replace(dee, p): v for k, v in balances.items()}
        messages = {m.author_id: m for m in uow.threads.messages(w.s.thread_id)}
        assert messages[p].body == "" and messages[p].removed
        assert messages[bea].body.startswith("Hello from Beatrix") and messages[bea].attachments
        # 90 days on, the kept design is a design-asset candidate held by its licence
        later = cutoffs(w.now + timedelta(days=91))
        [candidate] = w.store.due_batch(uow, RuleCode.DESIGN_ASSET, later, after=None, limit=10)
    agreement = candidate.note
    assert Keep.ACTIVE_LICENCE in candidate.keeps and agreement and decide(candidate)


def test_erasing_a_designer_purges_their_other_designs(world: World, tmp_path: Path) -> None:
    """P31, P30: without a licence to keep them, every design's files are queued for
    deletion; a design records still name stays as a husk, any other row goes."""
    w = world
    dee = w.s.people["dee"]
    designs = DesignService(w.deps)
    loose = designs.create(dee, DesignInput(title="Unsold brooch", category="brooch", metals=["18k_white"],
                                            tags=["floral"]))
    image = tmp_path / "brooch.png"
    image.write_bytes(PNG)
    designs.add_asset(dee, loose.id, Upload("brooch.png", image, "image", "preview"))
    designs.publish(dee, loose.id)
    with w.engine.connect() as conn:
        assert count(conn, tables.catalog_entries) == 2
        keys = {k for row in conn.execute(select(tables.assets.c.blob_key, tables.assets.c.thumbnail_key))
                for k in row if k}
    assert len(keys) == 5  # two images with thumbnails and a CAD file

    report = erase(w, "dee")

    assert_no_trace(w, "dee", "dee@example.com", "Dorothea Designer")
    assert report.blobs == 5 and report.counts["designs.purged"] == 2
    with w.engine.connect() as conn:
        assert blob_keys(conn) == dict.fromkeys(keys, "erasure")
        assert count(conn, tables.assets) == 0 and count(conn, tables.design_tags) == 0
        assert count(conn, tables.designs, tables.designs.c.id == loose.id) == 0
        husk = one(conn, tables.designs, id=w.s.design_id)  # the agreement and the order name it
        assert (husk["title"], husk["description"], husk["metals"], husk["tags"], husk["price_minor"]) == (
            "Removed design", "", [], [], None)
        assert (husk["status"], husk["purged_at"], husk["designer_id"]) == ("removed", w.now, pseudonym(w.id("dee")))
        assert count(conn, tables.catalog_entries) == 0 and facets_consistent(conn)


def test_erasing_a_manufacturer_pseudonymises_their_jobs(world: World) -> None:
    """P30: the workshop's profile goes; the orders it made or declined name the stand-in."""
    w = world
    mx = w.id("max")
    p = pseudonym(mx)
    enrich(w)
    report = erase(w, "max")
    assert_no_trace(w, "max", "max@example.com", "Maximilian Maker")
    assert report.counts["manufacturers.delete_row"] == 1
    with w.engine.connect() as conn:
        order = one(conn, tables.orders, id=w.s.order_id)
        assert order["manufacturer_id"] == p
        assert set(json.loads(order["declined_by_json"])) == {p, "someone-else"}
        assert count(conn, tables.manufacturers) == 0
        assert one(conn, tables.users, id=p)["role"] == "manufacturer"
        steps = [json.loads(v) for (v,) in conn.execute(select(tables.messages.c.event_data_json))]
        assert any(s.get("manufacturer_id") == p for s in steps)


def test_erasing_people_together_ends_as_erasing_them_one_at_a_time(world: World) -> None:
    """The retention engine erases a batch of people at once (a few statements per
    table): the database ends exactly as erasing them one by one in the same order
    leaves it — stand-ins, withdrawn negotiations, deleted drafts, designs kept, purged
    or left as husks, owned rows masked, embedded ids and mentions rewritten, files
    queued — and each person gets the report of their own erasure."""
    w = world
    extra = enrich(w)
    # A design of Dee's that only a draft order of Bea's names: erased one at a time,
    # Dee before Bea, it is still named when her designs go (a husk) and the draft goes
    # after; Bea before Dee, the draft goes first and so does the design.
    sketch = DesignService(w.deps).create(w.s.people["dee"], DesignInput(title="Sketch", category="ring",
                                                                         metals=["18k_rose"]))
    with w.uow() as uow:
        copy_row(uow.connection, tables.orders, extra["draft"], id=w.deps.ids.new_id(), design_id=sketch.id)
        uow.commit()
    everyone = [w.id(n) for n in ("bea", "max", "dee")]  # the buyer, the workshop and the designer of one order
    with w.uow() as uow:
        facts = w.store.people_facts(uow, [*everyone, "nobody", everyone[0]], w.now.date())
        assert facts == {**{u: w.store.person_facts(uow, u, w.now.date()) for u in everyone},
                         "nobody": PersonFacts("nobody", exists=False)}
    assert facts[w.id("dee")].licensed_designs == (w.s.design_id,) and facts[w.id("bea")].open_orders

    def both_ways(order: list[str], *, commit: bool = False) -> tuple[list[ErasureReport], list[ErasureReport]]:
        people = [Erasee(u, pseudonym(u), facts[u].licensed_designs) for u in order]
        with w.uow() as uow:  # rolled back
            one_by_one = [w.store.erase_person(uow, e.user_id, pseudonym=e.pseudonym, now=w.now,
                                               keep_designs=e.keep_designs) for e in people]
            expected = dump_of(uow.connection)
        with w.uow() as uow:
            together = w.store.erase_people(uow, [*people, people[0]], now=w.now)
            assert dump_of(uow.connection) == expected
            sketched = count(uow.connection, tables.designs, tables.designs.c.id == sketch.id)
            if commit:
                uow.commit()
        assert together[-1] == ErasureReport(people[0].user_id, people[0].pseudonym)  # a second erasure does nothing
        assert [(r.user_id, r.pseudonym, r.kept_designs, r.blobs) for r in together[:-1]] == [
            (r.user_id, r.pseudonym, r.kept_designs, r.blobs) for r in one_by_one]
        assert sketched == (order.index(w.id("dee")) < order.index(w.id("bea")))
        return one_by_one, together[:-1]

    one_by_one, together = both_ways(everyone)
    assert together == one_by_one
    bea, mx, dee = together
    assert dee.kept_designs == (w.s.design_id,) and dee.counts["designs.purged"] == 1 and bea.blobs == 1
    assert bea.counts["negotiations.withdrawn"] == 1 and mx.counts["orders.pseudonymise"] == 2

    one_by_one, together = both_ways([w.id("dee"), w.id("bea"), w.id("max")], commit=True)
    assert together == one_by_one
    for name, email, full in (("dee", "dee@example.com", "Dorothea Designer"), ("bea", "bea@example.com",
                              "Beatrix Buyer"), ("max", "max@example.com", "Maximilian Maker")):
        assert_no_trace(w, name, email, full)
    with w.engine.connect() as conn:
        husk = one(conn, tables.designs, id=sketch.id)
        assert (husk["title"], husk["purged_at"], husk["designer_id"]) == ("Removed design", w.now, pseudonym(dee.user_id))
        assert count(conn, tables.orders, tables.orders.c.status == "draft") == 0
        assert count(conn, tables.users, tables.users.c.erased_at.is_not(None)) == 3
    with w.uow() as uow:
        with pytest.raises(ValueError, match="pseudonyms of their own"):
            w.store.erase_people(uow, [Erasee("a", "same"), Erasee("b", "same")], now=w.now)
        with pytest.raises(ValueError, match="pseudonym other than the user id"):
            w.store.erase_people(uow, [Erasee("a", "a")], now=w.now)


# -- retention: candidates and exceptions ------------------------------------------------------


def close(conn: Any, user_id: str, at: datetime) -> None:
    conn.execute(update(tables.users).where(tables.users.c.id == user_id).values(status="closed", closed_at=at))


def hold(w: World, name: str, reason: str = "litigation") -> LegalHold:
    placed = LegalHold(w.deps.ids.new_id(), w.id(name), reason, "operator:test", w.now)
    with w.uow() as uow:
        w.store.add_hold(uow, placed)
        uow.commit()
    return placed


def all_due(w: World, rule: RuleCode, cut: Any, limit: int) -> list[Candidate]:
    out: list[Candidate] = []
    after = None
    with w.uow() as uow:
        while batch := w.store.due_batch(uow, rule, cut, after=after, limit=limit):
            assert len(batch) <= limit
            out += batch
            after = batch[-1].ref
    return out


def test_closed_accounts_past_12_months_with_their_exceptions(world: World) -> None:
    """P30: closed accounts are erased 12 months on, unless held, or a party to an open
    or disputed order."""
    w = world
    long_ago = w.now - timedelta(days=400)
    with w.uow() as uow:
        for name in ("bob", "bea", "max"):
            close(uow.connection, w.id(name), long_ago)
        close(uow.connection, w.id("pam"), w.now - timedelta(days=30))
        uow.commit()
    hold(w, "bob")
    cut = cutoffs(w.now)
    by_id = {c.id: c for c in all_due(w, RuleCode.ACCOUNT, cut, limit=1)}
    assert set(by_id) == {w.id("bob"), w.id("bea"), w.id("max")}
    assert by_id[w.id("bob")].keeps == {Keep.LEGAL_HOLD} and by_id[w.id("bob")].since == long_ago
    assert by_id[w.id("bea")].keeps == {Keep.OPEN_ORDER} == by_id[w.id("max")].keeps
    with w.uow() as uow:
        uow.connection.execute(update(tables.orders).values(status="disputed"))
        snapshot = w.store.snapshot(uow, cut)
    accounts = {c.id: c.keeps for c in snapshot.candidates if c.rule is RuleCode.ACCOUNT}
    assert accounts[w.id("bea")] == {Keep.OPEN_DISPUTE}
    assert plan(snapshot)[RuleCode.ACCOUNT].due_count == 0


def remove_design(w: World, design_id: str, at: datetime) -> None:
    with w.uow() as uow:
        design = uow.designs.get(design_id)
        uow.designs.update(attrs.evolve(design, status=DesignStatus.REMOVED, removed_at=at))
        uow.commit()


def test_removed_designs_after_90_days_unless_licensed_held_or_ordered(world: World, tmp_path: Path) -> None:
    """P31: a removed design's files go 90 days on, unless a licence on it is active,
    its designer is held, or an order on it is open; the purge queues every blob and
    keeps the catalog's counts right."""
    w = world
    designs = DesignService(w.deps)
    loose = designs.create(w.s.people["dee"], DesignInput(title="Old pendant", category="pendant",
                                                          metals=["platinum_950"], tags=["art-deco"]))
    image = tmp_path / "pendant.png"
    image.write_bytes(PNG)
    designs.add_asset(w.s.people["dee"], loose.id, Upload("pendant.png", image, "image", "preview"))
    removed = w.now - timedelta(days=91)
    remove_design(w, w.s.design_id, removed)
    remove_design(w, loose.id, removed)
    third = designs.create(w.s.people["dee"], DesignInput(title="Recent", category="ring", metals=["18k_rose"]))
    remove_design(w, third.id, w.now - timedelta(days=89))  # not yet
    held = hold(w, "dee")
    cut = cutoffs(w.now)
    with w.uow() as uow:
        assert facets_consistent(uow.connection)
        [licensed, free] = sorted(w.store.due_batch(uow, RuleCode.DESIGN_ASSET, cut, after=None, limit=5),
                                  key=lambda c: c.id != w.s.design_id)
        agreement = uow.connection.execute(select(tables.agreements.c.id)).scalar_one()
    assert licensed.id == w.s.design_id and free.id == loose.id and licensed.since == removed
    assert licensed.keeps == {Keep.ACTIVE_LICENCE, Keep.OPEN_ORDER, Keep.LEGAL_HOLD} and licensed.note == agreement
    assert free.keeps == {Keep.LEGAL_HOLD}
    with w.uow() as uow:
        w.store.release_hold(uow, held.id, by="operator:test", at=w.now, reason="settled")
        conn = uow.connection
        conn.execute(update(tables.agreements).values(status="expired", end_date=w.now.date() - timedelta(days=1)))
        conn.execute(update(tables.orders).values(status="completed", closed_at=w.now))
        due = w.store.due_batch(uow, RuleCode.DESIGN_ASSET, cut, after=None, limit=5)
        assert all(not decide(c) for c in due) and len(due) == 2
        asset_keys = {k for row in conn.execute(select(tables.assets.c.blob_key, tables.assets.c.thumbnail_key))
                      .all() for k in row if k}
        third_keys = {k for (k,) in conn.execute(select(tables.assets.c.blob_key)
                                                 .where(tables.assets.c.design_id == third.id))}
        deleted = w.store.purge(uow, RuleCode.DESIGN_ASSET, due, now=w.now)
        uow.commit()
    assert deleted >= 5 + 2  # three assets, tags, stats... and the loose design's row
    with w.engine.connect() as conn:
        assert blob_keys(conn) == dict.fromkeys(asset_keys - third_keys, "design_asset")
        assert count(conn, tables.designs, tables.designs.c.id == loose.id) == 0
        husk = one(conn, tables.designs, id=w.s.design_id)
        assert husk["title"] == "Removed design" and husk["purged_at"] == w.now and husk["removed_at"] == removed
        assert count(conn, tables.design_tags, tables.design_tags.c.design_id.in_([loose.id])) == 0
        assert facets_consistent(conn)
    assert all_due(w, RuleCode.DESIGN_ASSET, cut, limit=5) == []


def test_transaction_records_after_7_years_in_dependency_order(world: World) -> None:
    """P32: an order goes with its ledger, payments and thread; an agreement, a
    negotiation or a licence option stays while records that depend on it remain;
    a support thread goes with its messages; attachments' blobs are queued."""
    w = world
    extra = enrich(w)
    old = w.now - timedelta(days=7 * 366)
    with w.uow() as uow:
        conn = uow.connection
        conn.execute(delete(tables.orders).where(tables.orders.c.id == extra["draft"]))
        conn.execute(delete(tables.negotiations).where(tables.negotiations.c.id == extra["open_negotiation"]))
        conn.execute(update(tables.orders).values(status="completed", closed_at=old))
        conn.execute(update(tables.agreements).values(status="expired", end_date=old.date()))
        conn.execute(update(tables.negotiations).values(closed_at=old))
        conn.execute(update(tables.licence_options).values(status="retired", retired_at=old))
        conn.execute(update(tables.threads).where(tables.threads.c.id == extra["support"]).values(activity_at=old))
        attachment = conn.execute(select(tables.message_attachments.c.blob_key)).scalar_one()
        uow.commit()
    # the design went long ago: only a husk stays while the records name it
    remove_design(w, w.s.design_id, old)
    with w.uow() as uow:
        [design] = w.store.due_batch(uow, RuleCode.DESIGN_ASSET, cutoffs(w.now), after=None, limit=5)
        assert not decide(design) and w.store.purge(uow, RuleCode.DESIGN_ASSET, [design], now=w.now) == 5
        uow.commit()
    hold(w, "bea")
    cut = cutoffs(w.now)
    everything = all_due(w, RuleCode.TRANSACTION, cut, limit=2)
    assert [c.ref for c in everything] == sorted(c.ref for c in everything)
    keeps = {c.kind: c.keeps for c in everything}
    assert keeps == {
        "agreement": {Keep.RECORDS_REMAIN, Keep.LEGAL_HOLD}, "licence_option": {Keep.RECORDS_REMAIN},
        "negotiation": {Keep.RECORDS_REMAIN, Keep.LEGAL_HOLD}, "order": {Keep.LEGAL_HOLD},
        "thread": {Keep.LEGAL_HOLD},
    }
    with w.uow() as uow:  # a record others still depend on is never deleted, whatever it is asked
        [agreement] = [c for c in everything if c.kind == "agreement"]
        assert w.store.purge(uow, RuleCode.TRANSACTION, [agreement], now=w.now) == 0
    with w.uow() as uow:
        [standing] = w.store.holds(uow)
        w.store.release_hold(uow, standing.id, by="operator:test", at=w.now, reason="over")
        uow.commit()
    runs = 0
    while True:  # what the engine does: each run purges what a fresh plan says is due
        with w.uow() as uow:
            due = [c for c in w.store.due_batch(uow, RuleCode.TRANSACTION, cut, after=None, limit=100)
                   if not decide(c)]
            if not due:
                break
            assert w.store.purge(uow, RuleCode.TRANSACTION, due, now=w.now) > 0
            uow.commit()
        runs += 1
    assert runs == 4  # order and thread; agreement; negotiation; licence option
    with w.engine.connect() as conn:
        for table in (tables.orders, tables.ledger_entries, tables.ledger_lines, tables.payment_instructions,
                      tables.agreements, tables.negotiations, tables.negotiation_offers, tables.licence_options,
                      tables.threads, tables.messages, tables.message_attachments, tables.thread_participants):
            assert count(conn, table) == 0, table.name
        assert blob_keys(conn) == {attachment: "transaction"} | dict.fromkeys(
            [k for k in blob_keys(conn) if k.startswith("designs/")], "design_asset")
        assert count(conn, tables.designs) == 0  # its husk went with the last record naming it


# -- analytics ---------------------------------------------------------------------------------------


def test_analytics_fold_into_daily_counts_exactly_once(world: World) -> None:
    """P33: raw events older than 24 months become per-design, per-UTC-day counts; a
    batch rolled back folds nothing, and no event is ever counted twice."""
    w = world
    other = DesignService(w.deps).create(w.s.people["dee"], DesignInput(title="Cuff", category="bracelet",
                                                                        metals=["sterling_silver"]))
    cut = cutoffs(w.now)[RuleCode.ANALYTICS]
    first_day = (cut - timedelta(days=10)).date()
    rows = []
    for i in range(240):
        # a quarter of an hour either side of UTC midnight: a day taken in another zone is wrong
        day = first_day - timedelta(days=i % 5)
        at = datetime(day.year, day.month, day.day, 23, 45, tzinfo=UTC) if i % 2 else datetime(
            day.year, day.month, day.day, 0, 15, tzinfo=UTC)
        kind = ("view", "save", "scroll")[i % 3]
        rows.append({"id": f"ev-{i:04d}", "design_id": (w.s.design_id, other.id)[i % 4 // 2], "kind": kind,
                     "at": at, "visitor_id": f"v{i % 7}", "user_id": None,
                     "scroll_depth": (i % 101) if kind == "scroll" else None})
    recent = [{**r, "id": f"new-{n}", "at": w.now - timedelta(days=n)} for n, r in enumerate(rows[:12])]
    with w.uow() as uow:
        uow.connection.execute(insert(tables.engagement_events), rows + recent)
        uow.commit()
    expected: Counter[tuple[str, date, str]] = Counter()
    depth: Counter[tuple[str, date, str]] = Counter()
    depths: Counter[tuple[str, date, str]] = Counter()
    for r in rows:
        key = (r["design_id"], r["at"].astimezone(UTC).date(), r["kind"])
        expected[key] += 1
        if r["scroll_depth"] is not None:
            depth[key] += r["scroll_depth"]
            depths[key] += 1
    with w.uow() as uow:
        assert w.store.snapshot(uow, cutoffs(w.now)).analytics_events == len(rows)

    def fold(limit: int, *, commit: bool) -> int:
        with w.uow() as uow:
            if w.engine.dialect.name == "postgresql":  # the day must not follow the session's zone
                uow.connection.execute(text("SET LOCAL TIME ZONE 'Pacific/Kiritimati'"))
            n = w.store.aggregate_analytics(uow, cut, limit=limit)
            if commit:
                uow.commit()
            return n

    assert fold(100, commit=False) == 100  # interrupted: rolled back with its transaction
    folded = []
    for _ in range(6):  # bounded: a fold that never empties the backlog fails, not hangs
        folded.append(fold(70, commit=True))
        if len(folded) == 2:
            assert fold(50, commit=False) == 50
    assert folded == [70, 70, 70, 30, 0, 0]
    with w.engine.connect() as conn:
        daily = {(r.design_id, r.day, r.kind): r for r in conn.execute(select(tables.analytics_daily))}
        raw = count(conn, tables.engagement_events)
    assert {k: r.events for k, r in daily.items()} == dict(expected)
    assert {k: r.depth_sum for k, r in daily.items() if r.depth_count} == dict(depth)
    assert {k: r.depth_count for k, r in daily.items() if r.depth_count} == dict(depths)
    assert sum(r.events for r in daily.values()) + raw == len(rows) + len(recent) and raw == len(recent)


# -- the audit trail under a legal hold -----------------------------------------------------------------


def test_audit_pruning_stops_before_the_first_entry_about_someone_held(world: World) -> None:
    """P34: entries older than 3 years may be pruned, never the newest one, and not from
    the first entry about a person under a legal hold on."""
    w = world
    later = cutoffs(w.now + timedelta(days=4 * 366))  # every entry is past 3 years
    with w.engine.connect() as conn:
        entries = conn.execute(select(tables.audit_log.c.seq, tables.audit_log.c.actor, tables.audit_log.c.subject)
                               .order_by(tables.audit_log.c.seq)).all()
    head = entries[-1].seq
    with w.uow() as uow:
        assert w.store.audit_prune_bound(uow, later[RuleCode.AUDIT]) is None
        free = w.store.snapshot(uow, later)
    assert free.audit_entries == len(entries) - 1 and free.audit_held_from is None
    bea = w.id("bea")
    first_about_bea = min(e.seq for e in entries if bea in (e.actor, e.subject.removeprefix("user:")))
    hold(w, "bea")
    with w.uow() as uow:
        assert w.store.audit_prune_bound(uow, later[RuleCode.AUDIT]) == first_about_bea
        assert w.store.audit_prune_bound(uow, w.now - timedelta(days=1)) is None  # none that old
        held = w.store.snapshot(uow, later)
    assert held.audit_held_from == first_about_bea and held.audit_held_note == f"user {bea}"
    assert held.audit_entries == first_about_bea - entries[0].seq
    assert held.audit_held_entries == head - first_about_bea + 1
    [kept] = plan(held)[RuleCode.AUDIT].kept
    assert kept.id == str(first_about_bea)


# -- holds, the blob queue and runs ---------------------------------------------------------------------


def test_legal_holds_one_standing_per_person(world: World) -> None:
    w = world
    placed = hold(w, "bea", "tax inquiry")
    with w.uow() as uow:
        assert w.store.standing_hold(uow, w.id("bea")) == placed
        assert w.store.person_facts(uow, w.id("bea"), w.now.date()).hold_reason == "tax inquiry"
        with pytest.raises(Conflict, match="already stands"):
            w.store.add_hold(uow, attrs.evolve(placed, id="another"))
    # two admins racing past the check: the unique constraint still refuses the second

    class Racing(SqlPrivacyStore):
        calls = 0

        def standing_hold(self, uow: Any, user_id: str) -> LegalHold | None:
            self.calls += 1
            return None if self.calls == 1 else super().standing_hold(uow, user_id)

    with w.uow() as uow:
        with pytest.raises(Conflict, match="already stands"):
            Racing().add_hold(uow, attrs.evolve(placed, id="racer"))
        w.store.release_hold(uow, placed.id, by="operator:test", at=w.now, reason="closed")
        with pytest.raises(NotFound):
            w.store.release_hold(uow, placed.id, by="operator:test", at=w.now, reason="again")
        assert w.store.standing_hold(uow, w.id("bea")) is None and w.store.holds(uow) == []
        [released] = w.store.holds(uow, standing_only=False)
        assert (released.released_by, released.release_reason, released.standing) == ("operator:test", "closed", False)
        w.store.add_hold(uow, attrs.evolve(placed, id="second", placed_at=w.now + timedelta(hours=1)))
        assert [h.id for h in w.store.holds(uow, standing_only=False)] == ["second", placed.id]
        uow.commit()


def test_blob_queue(world: World) -> None:
    w = world
    now = w.now
    with w.uow() as uow:
        s = w.store
        assert s.queue_blobs(uow, ["a", "b", "a"], reason="design_asset", now=now) == 2
        assert s.queue_blobs(uow, ["b", "c"], reason="transaction", now=now) == 1
        assert s.queue_blobs(uow, ["zip-1"], reason="export_file", now=now, due_at=now + timedelta(days=1)) == 1
        assert s.due_blobs(uow, now) == ["a", "b", "c"]
        assert s.due_blobs(uow, now, reason="design_asset") == ["a", "b"]
        assert s.due_blobs(uow, now + timedelta(days=1), reason="export_file") == ["zip-1"]
        # Each due key counted once: the zip is not due yet, the three other files are.
        assert s.count_due_blobs(uow, now) == (0, 3)
        s.blob_failed(uow, "a", error="x" * 900, now=now)
        assert s.due_blobs(uow, now, retries_only=True) == ["a"]
        assert s.count_due_blobs(uow, now + timedelta(days=2)) == (1, 3)
        s.blob_failed(uow, "zip-1", error="refused", now=now)
        assert s.count_due_blobs(uow, now + timedelta(days=2)) == (0, 4)  # a refused zip is a retry
        failed = one(uow.connection, tables.blob_deletions, key="a")
        assert (failed["attempts"], len(failed["last_error"]), failed["last_attempt_at"]) == (1, 500, now)
        s.blobs_deleted(uow, ["a", "b", "missing"])
        assert s.due_blobs(uow, now + timedelta(days=2), limit=1) == ["c"]
        uow.commit()


def test_runs_are_saved_and_listed_newest_first(world: World) -> None:
    w = world
    first = RetentionRun("run-1", w.now, "operator:test", w.now)
    second = RetentionRun("run-2", w.now, "operator:test", w.now + timedelta(minutes=5))
    with w.uow() as uow:
        w.store.save_run(uow, first)
        w.store.save_run(uow, second)
        done = first.add({"design_asset": 3}).add({"design_asset": 2, "analytics": 10}).finish(
            RunStatus.COMPLETED, w.now + timedelta(minutes=1))
        w.store.save_run(uow, done)
        uow.commit()
    with w.uow() as uow:
        assert w.store.runs(uow) == [second, done]
        assert w.store.runs(uow, limit=1) == [second]
    assert done.counts == {"design_asset": 5, "analytics": 10}
