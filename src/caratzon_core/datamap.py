"""The data map's vocabulary (issue #6, part 0): what kind of personal data a stored
field holds (:class:`Category`), how long the policy lets it live
(:class:`RetentionRule`, section 8) and what erasing its person does to it
(:class:`Masking`). Pure data: the map itself — one entry for every column of every
table — is declared by the SQL adapter (``caratzon_adapters.sql.datamap``) beside
the tables, and export, erasure and retention read it instead of listing tables by
hand.

Two moments act on a column:

* **Erasure** of a person (an erasure request, or the purge of a closed account 12
  months on) applies the column's :class:`Masking` to that person's data. For a user
  reference (category ``user.identifier``) the person is the one it names; for any
  other column, the person the row belongs to.
* **Expiry**: when the column's :class:`RetentionRule` runs out (its ``clock`` plus
  its ``period``), the rule's :class:`Disposal` happens to the row.

A rule admits only the maskings that agree with it (``RetentionRule.maskings``):
analytics events are deleted, audit entries are never rewritten (the hash chain),
transaction records are kept with the person pseudonymised, account data is never
simply kept. :class:`ColumnRule` refuses any other combination when it is built.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TypeAlias

from attrs import field, frozen

_CODE = re.compile(r"^[a-z]+(\.[a-z_]+)+$")
_PROMISE = re.compile(r"^P\d+$")


# -- categories ----------------------------------------------------------------------


def _check_code(instance: object, attribute: object, value: str) -> None:
    if not _CODE.match(value):
        raise ValueError(f"category code {value!r} must be dotted lower-case words, e.g. 'user.contact.email'")


def _check_promises(instance: object, attribute: object, value: tuple[str, ...]) -> None:
    for promise in value:
        if not _PROMISE.match(promise):
            raise ValueError(f"promise {promise!r} must be an ID of shared/spec/promises.md, e.g. 'P30'")


@frozen
class Category:
    """A kind of personal data, in the policy's words: the section of the policy that
    names it and the promises (shared/spec/promises.md) it serves."""

    code: str = field(validator=_check_code)
    description: str
    section: str
    promises: tuple[str, ...] = field(validator=_check_promises)


USER_IDENTIFIER = Category(
    "user.identifier",
    "A person's user id wherever it is stored (a column, a `user:<id>` subject, a ledger account, a list of "
    "ids): how export finds everything about a person and erasure replaces them.",
    "3.1", ("P1", "P35", "P37"))
USER_EMAIL = Category(
    "user.contact.email", "Email address: sign-in name and where notices go.", "3.1", ("P1", "P16"))
USER_NAME = Category("user.name", "The person's name.", "3.1", ("P1",))
USER_BUSINESS = Category("user.business", "Business name and business address.", "3.1", ("P1",))
USER_ACCOUNT = Category(
    "user.account",
    "Role, language, status (closed, restricted), age confirmation, objection to AI, account dates.",
    "3.1", ("P1", "P13", "P40"))
USER_CREDENTIAL = Category(
    "user.credential", "Password hash, API token digests and their labels and dates.", "3.1", ("P1", "P17"))
USER_PROFILE = Category(
    "user.profile", "Designer profile: biography, brand description, professional credentials.", "3.1",
    ("P2", "P19"))
USER_ACTIVITY = Category(
    "user.activity", "What a person keeps on the platform to use it: saved designs, how far they read threads.",
    "3.2", ("P8",))
USER_FINANCIAL = Category(
    "user.financial", "Payment data: charges, transfers and refunds to a party and the processor's reference.",
    "3.1", ("P5", "P11", "P21"))
MANUFACTURER_PROFILE = Category(
    "manufacturer.profile",
    "A workshop's profile: name, capabilities, capacity, labour rates, vetting, NDA dates, partner score.",
    "3.1", ("P15", "P20", "P28"))
DESIGN_ASSET = Category(
    "design.asset", "Designs and their files: CAD, images, descriptions and metadata uploaded by designers.",
    "3.1", ("P3", "P27", "P31"))
TRANSACTION_LICENCE = Category(
    "transaction.licence", "Licensing selections, proposed fees, counter-offers and signed agreements.",
    "3.1", ("P4", "P15", "P32"))
TRANSACTION_ORDER = Category(
    "transaction.order", "Orders: the customization brief (engraving included), the quote, production, shipping.",
    "3.1", ("P4", "P15", "P20", "P32"))
TRANSACTION_LEDGER = Category(
    "transaction.ledger", "The order ledger: money owed to and paid by each party.", "3.1", ("P15", "P32"))
COMMUNICATION_MESSAGE = Category(
    "communication.message", "Platform messages, support requests and feedback, attachments and translations.",
    "3.1", ("P6", "P18"))
COMMUNICATION_NOTICE = Category(
    "communication.notice", "Notice emails queued for a person: address, language and the values shown.",
    "4", ("P16",))
ANALYTICS_EVENT = Category(
    "analytics.event", "Design views, saves and scroll depth, recorded only with analytics consent.", "3.2",
    ("P8", "P9", "P33"))
CONSENT_RECORD = Category(
    "consent.record", "Proof of a choice: cookie consent given or withdrawn, policy versions accepted.", "11, 13",
    ("P10", "P41", "P44", "P46"))
DEVICE_BROWSER = Category(
    "device.browser", "Device and browser data: truncated client addresses, user agents, the visitor cookie id.",
    "3.2", ("P7", "P10"))
SECURITY_EVENT = Category(
    "security.event", "Sign-in attempts kept to throttle guessing: the email or client address tried.", "4",
    ("P17",))
PRIVACY_REQUEST = Category(
    "privacy.request",
    "Data-subject requests: which right a person exercised, when, how and by whom it was answered.", "9",
    ("P35", "P36", "P37", "P38", "P39", "P40", "P41", "P42", "P45"))
AUDIT_ENTRY = Category(
    "audit.entry", "The tamper-evident audit trail: who did what to what, when, with what outcome.", "7, 8",
    ("P17", "P29", "P34"))

CATEGORIES: tuple[Category, ...] = (
    USER_IDENTIFIER, USER_EMAIL, USER_NAME, USER_BUSINESS, USER_ACCOUNT, USER_CREDENTIAL, USER_PROFILE,
    USER_ACTIVITY, USER_FINANCIAL, MANUFACTURER_PROFILE, DESIGN_ASSET, TRANSACTION_LICENCE, TRANSACTION_ORDER,
    TRANSACTION_LEDGER, COMMUNICATION_MESSAGE, COMMUNICATION_NOTICE, ANALYTICS_EVENT, CONSENT_RECORD,
    DEVICE_BROWSER, SECURITY_EVENT, PRIVACY_REQUEST, AUDIT_ENTRY,
)


# -- masking -------------------------------------------------------------------------


class Masking(enum.StrEnum):
    """What erasing a person does to a column holding their data."""

    DELETE_ROW = "delete_row"  # the row goes (and any blob it names)
    NULL_FIELD = "null_field"  # the field becomes NULL; the row stays
    PSEUDONYMISE = "pseudonymise"  # replaced by a keyed HMAC pseudonym of the person: joins still hold
    REDACT = "redact"  # NOT NULL text replaced by a fixed placeholder (a message body becomes "")
    KEEP = "keep"  # kept as is: under a legal duty, or already carries nothing but ids

    @property
    def meaning(self) -> str:
        return _MASKING_MEANING[self]


_MASKING_MEANING: Mapping[Masking, str] = MappingProxyType({
    Masking.DELETE_ROW: "the row is deleted, with any blob it names",
    Masking.NULL_FIELD: "the field is set to NULL; the row stays",
    Masking.PSEUDONYMISE: (
        "replaced by a keyed HMAC pseudonym of the person, the same everywhere, so joins and sums still hold; "
        "a foreign key is pointed at a stand-in account row whose id is that pseudonym"
    ),
    Masking.REDACT: "replaced by a fixed placeholder (empty text), for NOT NULL text whose row must stay",
    Masking.KEEP: "kept as it is",
})


# -- retention -----------------------------------------------------------------------


class Clock(enum.StrEnum):
    """What starts a retention period."""

    ACCOUNT_CLOSED = "account_closed"
    DESIGN_REMOVED = "design_removed"
    RECORD_ENDED = "record_ended"  # closed, completed, expired or retired; else created
    RECORDED = "recorded"  # the time the row was written
    NEVER = "never"

    @property
    def phrase(self) -> str:
        return _CLOCK_PHRASE[self]


_CLOCK_PHRASE: Mapping[Clock, str] = MappingProxyType({
    Clock.ACCOUNT_CLOSED: "the account is closed",
    Clock.DESIGN_REMOVED: "the design is removed",
    Clock.RECORD_ENDED: "the record ends (closed, completed, expired or retired)",
    Clock.RECORDED: "it is recorded",
    Clock.NEVER: "never",
})


class Disposal(enum.StrEnum):
    """What happens to a row when its retention period ends."""

    ERASE = "erase"  # the masking of each column is applied, as for an erasure
    DELETE = "delete"  # rows and their blobs are deleted
    AGGREGATE = "aggregate"  # folded into anonymous aggregates, raw rows deleted
    PRUNE = "prune"  # oldest entries cut off behind a signed checkpoint
    KEEP = "keep"  # nothing automatic


@frozen
class Period:
    """A calendar length: months (years are 12 of them) and days."""

    months: int = 0
    days: int = 0

    def __attrs_post_init__(self) -> None:
        if self.months < 0 or self.days < 0 or self.months == self.days == 0:
            raise ValueError("a retention period is a positive number of months and/or days")

    def describe(self) -> str:
        parts = []
        if self.months:  # as the policy words them: "12 months", "24 months", "3 years", "7 years"
            years_only = self.months % 12 == 0 and self.months >= 36
            parts.append(f"{self.months // 12} years" if years_only else f"{self.months} months")
        if self.days:
            parts.append(f"{self.days} days")
        return " and ".join(parts)


@frozen
class RetentionRule:
    """How long data may live, in the words of the policy section it comes from."""

    code: str
    section: str  # the privacy policy's section that sets it
    policy_text: str  # what the policy says, verbatim or nearly
    period: Period | None
    clock: Clock
    disposal: Disposal
    maskings: frozenset[Masking]  # what erasure may do to data under this rule
    exceptions: tuple[str, ...] = ()
    promises: tuple[str, ...] = field(default=(), validator=_check_promises)

    @property
    def personal(self) -> bool:
        return self is not NONE

    def describe(self) -> str:
        if self.period is None:
            return "kept while the law requires" if self is LEGAL else "not personal: no limit"
        text = f"{self.period.describe()} after {self.clock.phrase}"
        if self.exceptions:
            text += ", except " + " or ".join(self.exceptions)
        return text


ACCOUNT = RetentionRule(
    "account", "8",
    "Account data — retained for the duration of your account plus 12 months after deletion",
    Period(months=12), Clock.ACCOUNT_CLOSED, Disposal.ERASE,
    frozenset({Masking.DELETE_ROW, Masking.NULL_FIELD, Masking.PSEUDONYMISE, Masking.REDACT}),
    ("under a legal hold",), ("P30",))
DESIGN_ASSETS = RetentionRule(
    "design_asset", "8",
    "Design assets — retained while the design is listed on the Platform; upon removal, assets are deleted "
    "within 90 days unless subject to an active license agreement",
    Period(days=90), Clock.DESIGN_REMOVED, Disposal.DELETE,
    frozenset({Masking.DELETE_ROW, Masking.PSEUDONYMISE}),
    ("under an active licence agreement", "under a legal hold"), ("P31",))
TRANSACTION = RetentionRule(
    "transaction", "8",
    "Transaction records — retained for 7 years to comply with financial record-keeping requirements",
    Period(months=84), Clock.RECORD_ENDED, Disposal.DELETE,
    frozenset({Masking.KEEP, Masking.PSEUDONYMISE, Masking.NULL_FIELD, Masking.REDACT}),
    ("while an order or dispute is open", "under a legal hold"), ("P32",))
ANALYTICS = RetentionRule(
    "analytics", "8", "Analytics data — aggregated and anonymized within 24 months",
    Period(months=24), Clock.RECORDED, Disposal.AGGREGATE, frozenset({Masking.DELETE_ROW}), (), ("P33",))
AUDIT = RetentionRule(
    "audit", "8", "Audit logs — retained for 3 years for security and compliance purposes",
    Period(months=36), Clock.RECORDED, Disposal.PRUNE, frozenset({Masking.KEEP}), ("under a legal hold",), ("P34",))
LEGAL = RetentionRule(
    "legal", "9",
    "Erasure — request deletion of your personal data, subject to legal retention requirements "
    "(and section 4: legal compliance)",
    None, Clock.NEVER, Disposal.KEEP,
    frozenset({Masking.KEEP, Masking.PSEUDONYMISE, Masking.NULL_FIELD, Masking.REDACT}), (), ("P37", "P46"))
NONE = RetentionRule(
    "none", "3",
    "Not personal data: none of the kinds of information section 3 lists",
    None, Clock.NEVER, Disposal.KEEP, frozenset({Masking.KEEP}))

RETENTION_RULES: tuple[RetentionRule, ...] = (ACCOUNT, DESIGN_ASSETS, TRANSACTION, ANALYTICS, AUDIT, LEGAL, NONE)


# -- entries of the map ------------------------------------------------------------


def _one_line(instance: object, attribute: object, value: str) -> None:
    if not value.strip() or "\n" in value:
        raise ValueError("a data-map note or reason is one non-empty line")


def _optional_line(instance: object, attribute: object, value: str) -> None:
    if "\n" in value:
        raise ValueError("a data-map note is one line")


@frozen
class ColumnRule:
    """A column holding personal data: what it is, how long it lives, how it is erased."""

    category: Category
    retention: RetentionRule
    masking: Masking
    note: str = field(default="", validator=_optional_line)

    def __attrs_post_init__(self) -> None:
        if not self.retention.personal:
            raise ValueError(f"{self.category.code}: personal data needs a retention rule of section 8, not 'none'")
        if self.masking not in self.retention.maskings:
            allowed = ", ".join(sorted(m.value for m in self.retention.maskings))
            raise ValueError(
                f"{self.category.code}: masking {self.masking.value!r} contradicts the {self.retention.code!r} "
                f"retention rule (allowed: {allowed})"
            )


@frozen
class NotPersonal:
    """A column that holds no personal data, and why (one line)."""

    reason: str = field(validator=_one_line)
    retention: RetentionRule = field(default=NONE, init=False)
    masking: Masking = field(default=Masking.KEEP, init=False)


Entry: TypeAlias = ColumnRule | NotPersonal


def _freeze(tables: Mapping[str, Mapping[str, Entry]]) -> Mapping[str, Mapping[str, Entry]]:
    return MappingProxyType({t: MappingProxyType(dict(cols)) for t, cols in tables.items()})


@frozen
class DataMap:
    """Every column of every table, each with its :class:`ColumnRule` or a
    :class:`NotPersonal` reason. Built once by the SQL adapter."""

    tables: Mapping[str, Mapping[str, Entry]] = field(converter=_freeze)

    def entry(self, table: str, column: str) -> Entry:
        try:
            return self.tables[table][column]
        except KeyError:
            raise KeyError(f"{table}.{column} is not in the data map") from None

    def rule_for(self, table: str, column: str) -> ColumnRule | None:
        """The column's rule; None when it is marked not personal. KeyError when unmapped."""
        entry = self.entry(table, column)
        return entry if isinstance(entry, ColumnRule) else None

    def personal_columns(self, table: str) -> tuple[str, ...]:
        return tuple(c for c, e in self.tables[table].items() if isinstance(e, ColumnRule))

    def personal_tables(self) -> tuple[str, ...]:
        return tuple(t for t in self.tables if self.personal_columns(t))

    def columns_in(self, category: Category) -> tuple[tuple[str, str], ...]:
        """Every (table, column) of a category, in declaration order."""
        return tuple(
            (t, c) for t, cols in self.tables.items() for c, e in cols.items()
            if isinstance(e, ColumnRule) and e.category == category
        )

    def columns_under(self, retention: RetentionRule) -> tuple[tuple[str, str], ...]:
        """Every personal (table, column) governed by a retention rule."""
        return tuple(
            (t, c) for t, cols in self.tables.items() for c, e in cols.items()
            if isinstance(e, ColumnRule) and e.retention == retention
        )

    def user_references(self) -> tuple[tuple[str, str], ...]:
        """Where a person's user id is stored: the starting points of export and erasure."""
        return self.columns_in(USER_IDENTIFIER)

    def categories_used(self) -> frozenset[Category]:
        return frozenset(e.category for cols in self.tables.values() for e in cols.values()
                         if isinstance(e, ColumnRule))

    def retentions_used(self) -> frozenset[RetentionRule]:
        return frozenset(e.retention for cols in self.tables.values() for e in cols.values())


# -- the map as a document ---------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def categories_markdown(categories: Iterable[Category] = CATEGORIES) -> str:
    lines = ["| category | what it is | policy § | promises |", "|---|---|---|---|"]
    for c in categories:
        lines.append(f"| `{c.code}` | {_cell(c.description)} | {c.section} | {', '.join(c.promises)} |")
    return "\n".join(lines) + "\n"


def retention_markdown(rules: Iterable[RetentionRule] = RETENTION_RULES) -> str:
    lines = ["| rule | policy § | the policy says | period | at the end | erasure may |", "|---|---|---|---|---|---|"]
    for r in rules:
        maskings = ", ".join(f"`{m.value}`" for m in Masking if m in r.maskings)
        lines.append(
            f"| `{r.code}` | {r.section} | {_cell(r.policy_text)} | {_cell(r.describe())} | {r.disposal.value} "
            f"| {maskings} |"
        )
    return "\n".join(lines) + "\n"


def masking_markdown() -> str:
    lines = ["| masking | what erasure does |", "|---|---|"]
    lines += [f"| `{m.value}` | {_cell(m.meaning)} |" for m in Masking]
    return "\n".join(lines) + "\n"


def table_markdown(name: str, columns: Mapping[str, Entry]) -> str:
    lines = [f"### `{name}`", "", "| column | category | retention | masking | note |", "|---|---|---|---|---|"]
    for column, e in columns.items():
        if isinstance(e, ColumnRule):
            lines.append(
                f"| `{column}` | `{e.category.code}` | {e.retention.code} | {e.masking.value} | {_cell(e.note)} |"
            )
        else:
            lines.append(f"| `{column}` | — not personal | none | keep | {_cell(e.reason)} |")
    return "\n".join(lines) + "\n"
