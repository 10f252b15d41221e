"""The access and portability export (issue #6, part 2; policy §9 "Access" and
"Portability"): one versioned JSON document, :data:`SCHEMA`, holding every category
of section 3 that the platform keeps about a person, and nothing personal about
anybody else.

Readers (the :class:`~caratzon_core.ports.PersonalDataReader` port) find the rows
with set-based queries driven by the data map and hand them over as
:class:`PersonalData`: plain rows per section, the names of the fields that hold a
user id (``user.identifier`` in the data map) and the files the person uploaded.
:func:`build_document` is pure: it turns those rows into the document, and on the
way

* replaces every *other* person's user id — wherever it sits: a column, a
  ``user:<id>`` subject, a ledger account ``payable:designer:<id>``, a list of
  declined manufacturers, an audit detail — by a stable keyed pseudonym
  (:class:`Pseudonymiser`, an HMAC of the id), so a counterparty appears by role
  and pseudonym, never by id, name, email or address;
* withholds what is not the person's to take away or would expose someone else:
  secrets (password hash, token digests), an order's brief when the person is not
  the buyer who wrote it, a thread's title when someone else wrote it, the client
  address of audit entries made by someone else, messages written by others.

``docs/export-schema.md`` documents the format; :data:`SECTIONS` is its table of
contents and a test keeps the two in step.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from attrs import field, frozen

SCHEMA = "caratzon.export/1"
DOCUMENT_NAME = "export.json"
PSEUDONYM_PREFIX = "anon-"


class _Signs(Protocol):
    def sign(self, message: bytes) -> str: ...


@frozen
class Section:
    """One part of the document: its key, the data-map categories it carries and
    what it holds, in plain words."""

    key: str
    categories: tuple[str, ...]
    description: str


SECTIONS: tuple[Section, ...] = (
    Section("account", ("user.identifier", "user.contact.email", "user.name", "user.business", "user.account"),
            "Your account: email, name, role, business name and address, language, status and dates. "
            "The password hash is withheld."),
    Section("profile", ("user.profile",), "Your designer profile: biography, brand description, credentials."),
    Section("manufacturer", ("manufacturer.profile",),
            "Your workshop's profile, capacity, vetting and partner score (manufacturers)."),
    Section("api_tokens", ("user.credential",), "Your API tokens' labels and dates; digests are withheld."),
    Section("login_attempts", ("security.event",), "Sign-in attempts made with your email address."),
    Section("designs", ("design.asset",), "Your designs and their metadata."),
    Section("design_tags", ("design.asset",), "The tags of your designs."),
    Section("assets", ("design.asset",),
            "Metadata of the files you uploaded to your designs; the files are in the zip under files/assets/."),
    Section("saved_designs", ("user.activity",), "Designs you saved."),
    Section("licence_options", ("transaction.licence",), "Licence options you offered on your designs."),
    Section("negotiations", ("transaction.licence",), "Negotiations you took part in, as buyer or designer."),
    Section("offers", ("transaction.licence",), "Every offer and counter-offer of those negotiations."),
    Section("agreements", ("transaction.licence",), "Licence agreements you are a party to."),
    Section("orders", ("transaction.order",),
            "Orders you are a party to (buyer, designer or manufacturer) with their quotes; the customization "
            "brief only when you are the buyer who wrote it."),
    Section("ledger_entries", ("transaction.ledger",), "Ledger journal entries of orders you bought."),
    Section("ledger_lines", ("transaction.ledger",),
            "Ledger lines of those entries and every line paying you; other parties' accounts by pseudonym."),
    Section("payments", ("user.financial",), "Charges, transfers and refunds made to or from you."),
    Section("threads", ("communication.message",),
            "Conversations you are in; a title only when you started the conversation."),
    Section("messages", ("communication.message",), "Messages you wrote (never other people's text)."),
    Section("message_attachments", ("communication.message",),
            "Metadata of files you attached to your messages; the files are in the zip under files/attachments/."),
    Section("message_translations", ("communication.message",), "Machine translations of your messages."),
    Section("thread_marks", ("user.activity",), "How far you have read each conversation."),
    Section("notices", ("communication.notice",), "Notice emails queued or sent to you."),
    Section("consents", ("consent.record", "device.browser"), "Your cookie and analytics consent choices."),
    Section("policy_acceptances", ("consent.record",), "Privacy policy versions you accepted, and when."),
    Section("analytics_events", ("analytics.event",), "Design views, saves and scroll depth recorded about you."),
    Section("audit_entries", ("audit.entry", "device.browser"),
            "Audit-trail entries you made or that are about you; others' addresses withheld."),
    Section("data_requests", ("privacy.request",), "Data-subject requests about you and how they were answered."),
)
SECTION_KEYS: tuple[str, ...] = tuple(s.key for s in SECTIONS)

# (section, field) never exported: secrets that are not the person's to take away.
WITHHELD: frozenset[tuple[str, str]] = frozenset({
    ("account", "password_hash"),
    ("api_tokens", "digest"),
    ("notices", "values_json"),  # may name the counterparty the mail was about
    ("notices", "last_error"),  # the mail server's answer
})
# Fields that are text written by the platform or the person and may carry user ids inside.
_NESTED_ID_FIELDS: frozenset[tuple[str, str]] = frozenset({
    ("audit_entries", "detail"),
    ("data_requests", "notes_json"),
    ("data_requests", "notes"),
    ("messages", "event_data_json"),
    ("messages", "event_data"),
})
# A segment following one of these names in a ``a:b:c`` string is a user id.
_ROLE_PREFIXES = frozenset({"user", "designer", "manufacturer", "buyer", "party"})

Row = dict[str, Any]


@frozen
class ExportFile:
    """A file the person uploaded, to be copied into the zip."""

    section: str  # "assets" or "message_attachments"
    record_id: str
    blob_key: str
    filename: str
    content_type: str
    size: int
    sha256: str

    @property
    def zip_path(self) -> str:
        folder = "assets" if self.section == "assets" else "attachments"
        return f"files/{folder}/{self.record_id}-{safe_filename(self.filename)}"


def _freeze_sections(value: Mapping[str, Sequence[Row]]) -> dict[str, tuple[Row, ...]]:
    return {k: tuple(v) for k, v in value.items()}


@frozen
class PersonalData:
    """What a reader found about a person: rows per section (keys of
    :data:`SECTION_KEYS`), which fields of each section hold user ids, and files."""

    subject_id: str
    sections: Mapping[str, tuple[Row, ...]] = field(converter=_freeze_sections)
    identifier_fields: Mapping[str, frozenset[str]] = field(factory=dict)
    files: tuple[ExportFile, ...] = ()

    def rows(self, section: str) -> tuple[Row, ...]:
        return self.sections.get(section, ())


class Pseudonymiser:
    """A stable keyed pseudonym for a user id: the same id always maps to the same
    pseudonym under one key, and the id cannot be recovered without the key."""

    def __init__(self, signer: _Signs, *, purpose: str = "caratzon.pseudonym/1") -> None:
        self._signer = signer
        self._purpose = purpose.encode("utf-8")
        self._cache: dict[str, str] = {}

    def pseudonym(self, user_id: str) -> str:
        found = self._cache.get(user_id)
        if found is None:
            mac = self._signer.sign(self._purpose + b"\x00" + user_id.encode("utf-8"))
            raw = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
            found = PSEUDONYM_PREFIX + raw[:10].hex()
            self._cache[user_id] = found
        return found


def safe_filename(name: str) -> str:
    """A filename safe inside a zip: no directories, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c if (c.isalnum() or c in "._- ") else "_" for c in base).strip(" .")
    return cleaned[:120] or "file"


def json_value(value: object) -> Any:
    """Plain JSON: datetimes as ISO 8601, decimals as strings, enums as their value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return json_value(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [json_value(v) for v in value]
    return str(value)


class _Scrubber:
    """Replaces every user id but the subject's by its pseudonym."""

    def __init__(self, subject_id: str, others: set[str], pseudonymiser: Pseudonymiser) -> None:
        self.subject = subject_id
        self.others = others
        self.p = pseudonymiser
        self.counterparties: dict[str, str] = {}  # pseudonym -> role first seen

    def person(self, user_id: str, role: str) -> str:
        pseudonym = self.p.pseudonym(user_id)
        self.counterparties.setdefault(pseudonym, role)
        return pseudonym

    def text(self, value: str, role: str) -> str:
        if value == self.subject:
            return value
        if value in self.others:
            return self.person(value, role)
        if ":" not in value:
            return value
        parts = value.split(":")
        out = []
        for i, part in enumerate(parts):
            named = i > 0 and parts[i - 1] in _ROLE_PREFIXES
            if part != self.subject and part and (part in self.others or named):
                out.append(self.person(part, parts[i - 1] if named else role))
            else:
                out.append(part)
        return ":".join(out)

    def value(self, value: Any, role: str) -> Any:
        if isinstance(value, str):
            return self.text(value, role)
        if isinstance(value, list):
            return [self.value(v, role) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v, k) for k, v in value.items()}
        return value


def _role_of(field_name: str) -> str:
    for suffix in ("_id", "_by", "_json"):
        if field_name.endswith(suffix):
            return field_name[: -len(suffix)]
    return field_name


def _collect_others(data: PersonalData) -> set[str]:
    others: set[str] = set()
    for section, names in data.identifier_fields.items():
        for row in data.rows(section):
            for name in names:
                v = row.get(name)
                if isinstance(v, str) and ":" not in v:
                    others.add(v)
                elif isinstance(v, list | tuple):
                    others.update(x for x in v if isinstance(x, str) and ":" not in x)
    others.discard(data.subject_id)
    # Operators at the CLI and the anonymous actor are not people's ids.
    others.discard("anonymous")
    return others


def _shape(section: str, row: Row, subject_id: str) -> Row | None:
    """Section rules: what of a shared record is the person's."""
    out = {k: json_value(v) for k, v in row.items() if (section, k) not in WITHHELD}
    if section == "messages" and out.get("author_id") != subject_id:
        return None
    if section == "orders" and out.get("buyer_id") != subject_id:
        for brief in ("brief_json", "brief"):
            if brief in out:
                out[brief] = None
    if section == "threads" and out.get("created_by") != subject_id and "title" in out:
        out["title"] = None
    if section == "audit_entries" and out.get("actor") != subject_id and "client_address" in out:
        out["client_address"] = None
    return out


def build_document(
    data: PersonalData,
    *,
    generated_at: datetime,
    pseudonymiser: Pseudonymiser,
    processors: Mapping[str, Any],
    requested_by: str,
) -> dict[str, Any]:
    """The export document (``caratzon.export/1``), JSON-ready."""
    scrub = _Scrubber(data.subject_id, _collect_others(data), pseudonymiser)
    sections: dict[str, list[Row]] = {}
    for section in SECTION_KEYS:
        id_fields = data.identifier_fields.get(section, frozenset())
        rows: list[Row] = []
        for raw in data.rows(section):
            shaped = _shape(section, raw, data.subject_id)
            if shaped is None:
                continue
            for name in list(shaped):
                if name in id_fields or (section, name) in _NESTED_ID_FIELDS:
                    shaped[name] = scrub.value(shaped[name], _role_of(name))
            rows.append(shaped)
        sections[section] = rows
    account = sections["account"][0] if sections["account"] else {}
    return {
        "schema": SCHEMA,
        "generated_at": json_value(generated_at),
        "subject": {
            "user_id": data.subject_id,
            "email": account.get("email"),
            "name": account.get("name"),
            "role": account.get("role"),
            "requested_by": "self" if requested_by == data.subject_id else "admin",
        },
        "counterparties": [
            {"pseudonym": p, "role": r} for p, r in sorted(scrub.counterparties.items())
        ],
        "files": [
            {"section": f.section, "record_id": f.record_id, "path": f.zip_path, "filename": f.filename,
             "content_type": f.content_type, "size": f.size, "sha256": f.sha256}
            for f in data.files
        ],
        "sections": {**sections, "processors": dict(processors)},
    }


def schema_markdown_sections() -> str:
    """The table of sections in docs/export-schema.md."""
    lines = ["| section | data-map categories | what it holds |", "|---|---|---|"]
    for s in SECTIONS:
        cats = ", ".join(f"`{c}`" for c in s.categories)
        lines.append(f"| `{s.key}` | {cats} | {s.description} |")
    lines.append("| `processors` | — | The processors and transfers register (policy §6 and §10), "
                 "as `/legal/processors` shows it. |")
    return "\n".join(lines) + "\n"
