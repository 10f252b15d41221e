"""A :class:`~caratzon_core.ports.PersonalDataReader` over the in-memory store, for
unit tests and e2e tests of the export. Field names are the domain objects'
(``brief``, ``terms``…) rather than the SQL columns'; the selection rules are the
SQL reader's: every record where a user reference names the person, the records
hanging off those, messages the person wrote, files the person uploaded."""

from __future__ import annotations

from typing import Any

import attrs

from caratzon_core.export import ExportFile, PersonalData
from caratzon_core.testing import InMemoryStore

_IDS = frozenset({
    "id", "user_id", "buyer_id", "designer_id", "manufacturer_id", "author_id", "created_by", "party_id",
    "opened_by", "handled_by", "vetted_by", "actor", "subject", "participants", "declined_by", "account",
    "idempotency_key", "dedupe_key", "published_by",
})


def _row(obj: Any, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = attrs.asdict(obj, recurse=True)
    out.update(extra)
    return out


def _names(user: str, account: str) -> bool:
    return account.split(":")[-1] == user


class InMemoryPersonalDataReader:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def read(self, user_id: str) -> PersonalData:
        s = self._store.state
        t, p, r = s.trade, s.production, s.requests
        sections: dict[str, list[dict[str, Any]]] = {}
        files: list[ExportFile] = []
        user = s.users.get(user_id)
        sections["account"] = [_row(user)] if user else []
        profile = s.profiles.get(user_id)
        sections["profile"] = [_row(profile)] if profile else []
        m = p.manufacturers.get(user_id)
        sections["manufacturer"] = [_row(m)] if m else []
        sections["api_tokens"] = [_row(x) for x in s.tokens.values() if x.user_id == user_id]
        email = user.email if user else None
        sections["login_attempts"] = [_row(a) for a in s.attempts if email and a.key == email]
        designs = [d for d in s.designs.values() if d.designer_id == user_id]
        design_ids = {d.id for d in designs}
        sections["designs"] = [_row(d) for d in designs]
        sections["design_tags"] = [{"design_id": d.id, "tag": tag} for d in designs for tag in d.tags]
        assets = [a for a in s.assets.values() if a.design_id in design_ids]
        sections["assets"] = [_row(a) for a in assets]
        files += [ExportFile("assets", a.id, a.blob_key, a.filename, a.content_type, a.size, a.sha256)
                  for a in assets]
        sections["saved_designs"] = [{"user_id": u, "design_id": d, "at": at}
                                     for (u, d), at in s.saved.items() if u == user_id]
        sections["licence_options"] = [_row(o) for o in t.options.values() if o.designer_id == user_id]
        negotiations = [n for n in t.negotiations.values() if user_id in (n.buyer_id, n.designer_id)]
        sections["negotiations"] = [{k: v for k, v in _row(n).items() if k != "offers"} for n in negotiations]
        sections["offers"] = [_row(o, negotiation_id=n.id) for n in negotiations for o in n.offers]
        sections["agreements"] = [_row(a) for a in t.agreements.values() if user_id in (a.buyer_id, a.designer_id)]
        sections["orders"] = [
            _row(o) for o in p.orders.values()
            if user_id in (o.buyer_id, o.designer_id, o.manufacturer_id)
        ]
        entries = [e for e in p.entries if e.buyer_id == user_id or any(_names(user_id, x.account) for x in e.lines)]
        sections["ledger_entries"] = [{k: v for k, v in _row(e).items() if k != "lines"} for e in entries]
        sections["ledger_lines"] = [
            _row(line, entry_id=e.id, position=i) for e in entries for i, line in enumerate(e.lines)
            if e.buyer_id == user_id or _names(user_id, line.account)
        ]
        sections["payments"] = [_row(x) for x in p.payments.values() if x.party_id == user_id]
        threads = [th for th in t.threads.values() if user_id in th.participants or th.created_by == user_id]
        sections["threads"] = [
            {k: v for k, v in _row(th).items() if k != "participants"} for th in threads
        ]
        mine = [msg for msg in t.messages if msg.author_id == user_id]
        sections["messages"] = [{k: v for k, v in _row(msg).items() if k != "attachments"} for msg in mine]
        sections["message_attachments"] = [_row(a) for msg in mine for a in msg.attachments]
        files += [ExportFile("message_attachments", a.id, a.blob_key, a.filename, a.content_type, a.size, a.sha256)
                  for msg in mine for a in msg.attachments]
        mine_ids = {msg.id for msg in mine}
        sections["message_translations"] = [_row(x) for (mid, _), x in t.translations.items() if mid in mine_ids]
        sections["thread_marks"] = [_row(x) for (_, u), x in t.markers.items() if u == user_id]
        sections["notices"] = [
            {"id": o.id, "dedupe_key": o.dedupe_key, "kind": o.notice.kind, "to_email": o.notice.to_email,
             "language": o.notice.language, "created_at": o.created_at, "status": o.status, "sent_at": o.sent_at}
            for o in t.outbox.values() if o.dedupe_key.split(":")[-1] == user_id
        ]
        sections["consents"] = [_row(c) for c in s.consents if c.user_id == user_id]
        sections["policy_acceptances"] = [_row(a) for a in s.acceptances if a.user_id == user_id]
        sections["analytics_events"] = [_row(e) for e in s.events if e.user_id == user_id]
        sections["audit_entries"] = [
            _row(e) for e in s.audit if e.actor == user_id or e.subject == f"user:{user_id}"
        ]
        sections["data_requests"] = [_row(x) for x in r.requests.values() if x.user_id == user_id]
        return PersonalData(
            subject_id=user_id,
            sections=sections,
            identifier_fields={k: _IDS - {"id"} for k in sections},
            files=tuple(files),
        )


# -- a scenario for export tests ------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CUBE = b"solid cube\n" + b" " * 64
SECRET_REPLY = "Dorothea's private reply 7731"
ATTACHMENT = PNG + b"bea's sketch"


@attrs.frozen
class ExportScenario:
    """dee (designer: a design with a preview and a CAD file, a licence option),
    bea (buyer: a negotiation with dee, a message with an attachment, an agreement
    and an order routed to max), bob (an unrelated buyer), max (a vetted workshop),
    pam (a production manager). dee answered bea's message with :data:`SECRET_REPLY`."""

    people: dict[str, Any]
    design_id: str
    thread_id: str
    order_id: str


def build_export_scenario(deps: Any, folder: Any) -> ExportScenario:
    from datetime import date, timedelta
    from pathlib import Path

    from caratzon_core.access import Actor
    from caratzon_core.messaging import ThreadKind
    from caratzon_core.privacy import INITIAL_POLICY_VERSION
    from caratzon_core.services.accounts import AccountService, SignUp
    from caratzon_core.services.designs import DesignInput, DesignService, Upload
    from caratzon_core.services.licensing import LicensingService
    from caratzon_core.services.manufacturing import ManufacturerService, ProfileInput
    from caratzon_core.services.messaging import MessagingService
    from caratzon_core.services.orders import OrderService

    folder = Path(folder)
    operator = Actor.cli_operator()
    password = "Emerald-Cut-Halo-2026"
    accounts = AccountService(deps)
    people: dict[str, Actor] = {}
    for role, email, name in [("designer", "dee@example.com", "Dorothea Designer"),
                              ("buyer", "bea@example.com", "Beatrix Buyer"),
                              ("buyer", "bob@example.com", "Bob Bystander"),
                              ("manufacturer", "max@example.com", "Maximilian Maker")]:
        user = accounts.sign_up(SignUp(email=email, password=password, name=name, role=role,
                                       date_of_birth=date(1985, 1, 1), accept_policy_version=INITIAL_POLICY_VERSION,
                                       business_name=f"{name} Ltd", business_address=f"{name} Street 1, Hong Kong"))
        people[email.split("@")[0]] = accounts.actor_for(user)
    pm = accounts.create_user(operator, SignUp(email="pam@example.com", password=password, name="Pamela Manager",
                                               role="production_manager", date_of_birth=date(1980, 1, 1),
                                               accept_policy_version=INITIAL_POLICY_VERSION))
    people["pam"] = accounts.actor_for(pm)
    designs = DesignService(deps)
    design = designs.create(people["dee"], DesignInput(title="Halo ring", category="ring", metals=["18k_yellow"]))
    for name, data, kind, vis in (("front.png", PNG, "image", "preview"), ("ring.stl", CUBE, "cad", "production")):
        path = folder / name
        path.write_bytes(data)
        designs.add_asset(people["dee"], design.id, Upload(name, path, kind, vis))
    designs.publish(people["dee"], design.id)
    licensing = LicensingService(deps)
    today = deps.clock.now().date()
    option = licensing.add_option(people["dee"], design.id, "Standard", {
        "use": "manufacturing", "territory": ["GB", "HK"], "term": {"start": today.isoformat(), "months": 12},
        "fees": {"flat": {"amount": "1000", "currency": "USD"},
                 "royalty_per_unit": {"amount": "4", "currency": "USD"}},
        "unit_cap": 50, "may_modify": ["ring_size"]})
    neg = licensing.open(people["bea"], option.id)
    with deps.uow() as uow:
        thread = uow.threads.for_subject(ThreadKind.NEGOTIATION, neg.id)
    assert thread is not None
    sketch = folder / "sketch.png"
    sketch.write_bytes(ATTACHMENT)
    messaging = MessagingService(deps)
    messaging.post(people["bea"], thread.id, "Hello from Beatrix: engraving idea attached",
                   [Upload("sketch.png", sketch, "attachment")])
    messaging.post(people["dee"], thread.id, SECRET_REPLY)
    _, agreement = licensing.accept(people["dee"], neg.id)
    makers = ManufacturerService(deps)
    makers.save_profile(people["max"], people["max"].id, ProfileInput(
        processes=["lost_wax_casting", "stone_setting_prong", "engraving"], metals=["18k_yellow"],
        min_quantity=1, max_quantity=500, weekly_capacity=200, lead_time_days=10, ships_to=["GB", "FR", "HK"],
        labour_per_piece="80.00", labour_per_stone="5.00", currency="USD"))
    makers.vet(people["pam"], "max@example.com", nda_until=today + timedelta(days=365))
    order = OrderService(deps, designs).create(people["bea"], agreement.id, {
        "alloy": "18k_yellow", "quantity": 10, "ship_to": "GB", "engraving": "For Anna",
        "wanted_by": (today + timedelta(days=30)).isoformat(), "size": {"system": "us", "value": "6.5"}})
    return ExportScenario(people, design.id, thread.id, order.id)
