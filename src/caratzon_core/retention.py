"""The retention engine's rules and its pure planner (issue #6, part 4; policy §8).

Rules are data (:data:`RULES`): one per retention period of section 8, each taking
its period and wording from the data map's :class:`~caratzon_core.datamap.RetentionRule`
so the two cannot disagree, plus two housekeeping rules (export zips past their
link's life, blob deletions a blob store refused earlier).

A run works in three steps:

1. :func:`cutoffs` turns an as-of time into the instant before which each rule's
   clock must have started (calendar months, so "12 months" is 12 months).
2. The store reads a :class:`Snapshot`: every item whose clock started before its
   cut-off, with the exceptions that stand on it (:class:`Keep`), and counts for the
   bulk rules (analytics events, audit entries).
3. :func:`plan` — pure — decides, per rule, what is due and what is kept, with the
   reason for every kept item. ``apply`` (the service) executes only what a fresh
   plan of each batch says is due, in the batch's own transaction.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any

import attrs
from attrs import field, frozen

from caratzon_core import datamap as dm
from caratzon_core.errors import ValidationFailed


class RuleCode(enum.StrEnum):
    ACCOUNT = "account"
    DESIGN_ASSET = "design_asset"
    TRANSACTION = "transaction"
    ANALYTICS = "analytics"
    AUDIT = "audit"
    EXPORT_FILE = "export_file"
    QUEUED_FILES = "queued_files"


class Keep(enum.StrEnum):
    """An exception that keeps an item past its period."""

    LEGAL_HOLD = "legal_hold"
    ACTIVE_LICENCE = "active_licence"
    OPEN_ORDER = "open_order"
    OPEN_DISPUTE = "open_dispute"
    RECORDS_REMAIN = "records_remain"

    @property
    def reason(self) -> str:
        return _KEEP_REASON[self]


_KEEP_REASON: Mapping[Keep, str] = MappingProxyType({
    Keep.LEGAL_HOLD: "under a legal hold placed by an admin",
    Keep.ACTIVE_LICENCE: "under an active licence agreement",
    Keep.OPEN_ORDER: "an order on it is still open",
    Keep.OPEN_DISPUTE: "an order on it is in dispute",
    Keep.RECORDS_REMAIN: "records that depend on it are still inside their own retention period",
})


@frozen
class Rule:
    code: RuleCode
    title: str
    period: dm.Period | None  # None: housekeeping, due by the item's own date
    policy: dm.RetentionRule | None  # the data map's rule it enforces (None: housekeeping)
    applies_to: str  # what the rule looks at, in a sentence
    action: str  # what happens to a due item
    exceptions: tuple[Keep, ...] = ()

    @property
    def section(self) -> str:
        return self.policy.section if self.policy else "—"

    @property
    def policy_text(self) -> str:
        return self.policy.policy_text if self.policy else ""

    @property
    def promises(self) -> tuple[str, ...]:
        return self.policy.promises if self.policy else ()


def _period(rule: dm.RetentionRule) -> dm.Period:
    assert rule.period is not None
    return rule.period


RULES: tuple[Rule, ...] = (
    Rule(RuleCode.ACCOUNT, "Closed accounts", _period(dm.ACCOUNT), dm.ACCOUNT,
         "accounts closed more than 12 months ago",
         "erase the person: account data deleted, transaction records pseudonymised",
         (Keep.LEGAL_HOLD, Keep.OPEN_ORDER, Keep.OPEN_DISPUTE)),
    Rule(RuleCode.DESIGN_ASSET, "Removed designs", _period(dm.DESIGN_ASSETS), dm.DESIGN_ASSETS,
         "designs removed more than 90 days ago",
         "delete the design's files and content (the blobs with them)",
         (Keep.ACTIVE_LICENCE, Keep.LEGAL_HOLD, Keep.OPEN_ORDER, Keep.OPEN_DISPUTE)),
    Rule(RuleCode.TRANSACTION, "Transaction records", _period(dm.TRANSACTION), dm.TRANSACTION,
         "orders, agreements, negotiations, licence options and support threads that ended more than 7 years ago",
         "delete the record with its ledger, payments, thread, messages and attachments",
         (Keep.LEGAL_HOLD, Keep.OPEN_ORDER, Keep.OPEN_DISPUTE, Keep.RECORDS_REMAIN)),
    Rule(RuleCode.ANALYTICS, "Analytics events", _period(dm.ANALYTICS), dm.ANALYTICS,
         "raw design views, saves and scroll events older than 24 months",
         "fold into per-design daily counts without any person's id, then delete the raw rows"),
    Rule(RuleCode.AUDIT, "Audit log", _period(dm.AUDIT), dm.AUDIT,
         "audit entries older than 3 years",
         "prune behind a signed checkpoint (the rest still verifies)",
         (Keep.LEGAL_HOLD,)),
    Rule(RuleCode.EXPORT_FILE, "Export files", None, None,
         "access-export zips whose 24-hour link has expired",
         "delete the zip from the blob store"),
    Rule(RuleCode.QUEUED_FILES, "Files of deleted rows", None, None,
         "files whose rows are already gone: queued by erasure and purges (this run's included) or refused by "
         "the blob store before",
         "delete the file (a refusal stays queued for the next run)"),
)

RULE_BY_CODE: Mapping[RuleCode, Rule] = MappingProxyType({r.code: r for r in RULES})


# -- cut-offs --------------------------------------------------------------------------


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock instant ``months`` calendar months earlier; the day is
    clamped to the month's last (31 March minus one month is 28/29 February)."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def before(moment: datetime, period: dm.Period) -> datetime:
    return months_before(moment, period.months) - timedelta(days=period.days)


def _frozen_times(m: Mapping[RuleCode, datetime]) -> Mapping[RuleCode, datetime]:
    return MappingProxyType(dict(m))


def frozen_counts(m: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(m))


@frozen
class Cutoffs:
    """An item is past its period when its clock started at or before its rule's cut-off."""

    as_of: datetime
    by_rule: Mapping[RuleCode, datetime] = field(converter=_frozen_times)

    def __getitem__(self, code: RuleCode) -> datetime:
        return self.by_rule[code]


def parse_as_of(raw: str | None, *, label: str = "as_of") -> datetime | None:
    """An as-of time typed by an operator: YYYY-MM-DD (the start of that day, UTC) or
    an ISO 8601 date-time (UTC if it names no zone); blank means now (None)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{label}: {raw!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time.",
                               field="as_of") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def cutoffs(as_of: datetime) -> Cutoffs:
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    by_rule = {r.code: (before(as_of, r.period) if r.period else as_of) for r in RULES}
    return Cutoffs(as_of, by_rule)


# -- the snapshot the store reads --------------------------------------------------------


@frozen
class Candidate:
    """An item whose period has run out, with the exceptions standing on it."""

    rule: RuleCode
    kind: str  # user, design, order, agreement, negotiation, licence_option, thread
    id: str
    since: datetime  # when its clock started (closed, removed, ended)
    keeps: frozenset[Keep] = frozenset()
    note: str = ""  # e.g. which agreement or hold keeps it

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"


@frozen
class Snapshot:
    cutoffs: Cutoffs
    candidates: tuple[Candidate, ...] = ()
    analytics_events: int = 0  # raw events recorded at or before the cut-off
    audit_entries: int = 0  # entries that may be pruned: at or before the cut-off, before any held one
    audit_held_from: int | None = None  # seq of the oldest entry before the cut-off about someone held
    audit_held_entries: int = 0  # entries before the cut-off kept because of that hold
    audit_held_note: str = ""
    export_files: int = 0  # export zips due for deletion (first attempt)
    blob_retries: int = 0  # other queued file deletions due: earlier runs' leftovers and refusals

    @property
    def as_of(self) -> datetime:
        return self.cutoffs.as_of


# -- the plan ------------------------------------------------------------------------------


def iso(at: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as the rest of the JSON API writes times."""
    return None if at is None else at.isoformat().replace("+00:00", "Z")


@frozen
class KeptItem:
    kind: str
    id: str
    since: datetime | None
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"item": f"{self.kind}:{self.id}", "since": iso(self.since),
                "reasons": list(self.reasons)}


@frozen
class RulePlan:
    rule: Rule
    cutoff: datetime
    due: tuple[Candidate, ...] = ()
    due_count: int = 0  # item count for the bulk rules, len(due) for the others
    kept: tuple[KeptItem, ...] = ()

    @property
    def kept_count(self) -> int:
        return len(self.kept)

    def explain(self) -> str:
        if not self.due_count and not self.kept:
            return f"nothing {self.rule.applies_to}"
        text = f"{self.due_count} due: {self.rule.action}"
        if self.kept:
            text += f"; {len(self.kept)} kept"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.code.value,
            "title": self.rule.title,
            "section": self.rule.section,
            "policy": self.rule.policy_text,
            "applies_to": self.rule.applies_to,
            "action": self.rule.action,
            "cutoff": iso(self.cutoff),
            "due": self.due_count,
            "kept": [k.to_dict() for k in self.kept],
        }


@frozen
class Plan:
    as_of: datetime
    rules: tuple[RulePlan, ...]

    def __getitem__(self, code: RuleCode) -> RulePlan:
        for r in self.rules:
            if r.rule.code is code:
                return r
        raise KeyError(code)

    @property
    def total_due(self) -> int:
        return sum(r.due_count for r in self.rules)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": iso(self.as_of), "total_due": self.total_due,
                "rules": [r.to_dict() for r in self.rules]}


def _reasons(keeps: Iterable[Keep], note: str) -> tuple[str, ...]:
    standing = frozenset(keeps)
    ordered = [k for k in Keep if k in standing]
    reasons = tuple(k.reason for k in ordered)
    return tuple(f"{r} ({note})" for r in reasons) if note and reasons else reasons


def decide(candidate: Candidate) -> tuple[str, ...]:
    """Why ``candidate`` is kept (empty: it is due). Only the exceptions its rule
    admits count; anything else the store reported is ignored."""
    allowed = RULE_BY_CODE[candidate.rule].exceptions
    return _reasons((k for k in candidate.keeps if k in allowed), candidate.note)


def plan(snapshot: Snapshot) -> Plan:
    """Pure: per rule, what is due and what is kept with its reasons."""
    cut = snapshot.cutoffs
    by_rule: dict[RuleCode, list[Candidate]] = {r.code: [] for r in RULES}
    for c in snapshot.candidates:
        by_rule[c.rule].append(c)
    out = []
    for rule in RULES:
        code = rule.code
        if code is RuleCode.ANALYTICS:
            out.append(RulePlan(rule, cut[code], due_count=snapshot.analytics_events))
        elif code is RuleCode.AUDIT:
            out.append(_audit_plan(rule, snapshot))
        elif code is RuleCode.EXPORT_FILE:
            out.append(RulePlan(rule, cut[code], due_count=snapshot.export_files))
        elif code is RuleCode.QUEUED_FILES:
            out.append(RulePlan(rule, cut[code], due_count=snapshot.blob_retries))
        else:
            due, kept = [], []
            for c in sorted(by_rule[code], key=lambda c: (c.since, c.kind, c.id)):
                reasons = decide(c)
                if reasons:
                    kept.append(KeptItem(c.kind, c.id, c.since, reasons))
                else:
                    due.append(c)
            out.append(RulePlan(rule, cut[code], tuple(due), len(due), tuple(kept)))
    return Plan(snapshot.as_of, tuple(out))


def _audit_plan(rule: Rule, snapshot: Snapshot) -> RulePlan:
    cut = snapshot.cutoffs[rule.code]
    if snapshot.audit_held_from is None:
        return RulePlan(rule, cut, due_count=snapshot.audit_entries)
    # The chain is cut at one place: the first entry about a held person and all
    # after it stay, so the kept item is that stretch of the trail.
    reason = Keep.LEGAL_HOLD.reason
    if snapshot.audit_held_note:
        reason += f" ({snapshot.audit_held_note})"
    kept = KeptItem("audit_seq", str(snapshot.audit_held_from), None,
                    (f"{reason}: {snapshot.audit_held_entries} entries from this one on stay",))
    return RulePlan(rule, cut, due_count=snapshot.audit_entries, kept=(kept,))


# -- runs ----------------------------------------------------------------------------------


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@frozen
class RetentionRun:
    id: str
    as_of: datetime
    started_by: str
    started_at: datetime
    status: RunStatus = RunStatus.RUNNING
    counts: Mapping[str, int] = field(factory=dict, converter=frozen_counts)
    finished_at: datetime | None = None
    error: str | None = None

    def __deepcopy__(self, memo: object) -> RetentionRun:
        return self

    def add(self, counts: Mapping[str, int]) -> RetentionRun:
        merged = dict(self.counts)
        for k, v in counts.items():
            merged[k] = merged.get(k, 0) + v
        return attrs.evolve(self, counts=merged)

    def finish(self, status: RunStatus, at: datetime, error: str | None = None) -> RetentionRun:
        return attrs.evolve(self, status=status, finished_at=at, error=error)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "as_of": iso(self.as_of), "started_by": self.started_by,
            "started_at": iso(self.started_at), "status": self.status.value,
            "finished_at": iso(self.finished_at),
            "counts": dict(self.counts), "error": self.error,
        }


# -- legal holds -----------------------------------------------------------------------------


@frozen
class LegalHold:
    id: str
    user_id: str
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None = None
    released_at: datetime | None = None
    release_reason: str | None = None

    @property
    def standing(self) -> bool:
        return self.released_at is None


# -- the rules as a document -------------------------------------------------------------------


def rules_markdown(rules: Iterable[Rule] = RULES) -> str:
    """The table of docs/retention.md, generated (tests/unit/test_docs.py keeps it equal)."""
    lines = ["| rule | policy § | the policy says | looks at | due items | kept when | promises |",
             "|---|---|---|---|---|---|---|"]
    for r in rules:
        kept = "; ".join(k.reason for k in r.exceptions) or "—"
        lines.append(f"| `{r.code.value}` | {r.section} | {r.policy_text or '(housekeeping)'} | {r.applies_to} "
                     f"| {r.action} | {kept} | {', '.join(r.promises) or '—'} |")
    return "\n".join(lines) + "\n"
