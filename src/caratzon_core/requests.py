"""Data-subject requests (issue #6, parts 1 and 7; policy §9 and §12, P35-P42, P45).

A request for one of the seven rights of §9 is a pure state machine::

    received ──take──▶ in_progress ──complete──▶ completed
                                   └──refuse (reason)──▶ refused

It is due 30 days after it was received (P42) and *overdue* once that moment has
passed while it is still open. Completed and refused requests are final: nothing
changes them again. A person has at most one open request of each type: a second
one is *merged* into the open one (a note records it) and never duplicates it.

Every transition returns the new request and the event it raised; the input is
never changed. Notes form the request's timeline (merges, effects applied, what
is still to be done by hand).

Verification codes prove that whoever asks an administrator to open a request on
their behalf controls the account's email: six digits derived from a fresh
secret, mailed to the account's address, valid for 15 minutes and 5 tries, and
stored only as a keyed digest (the :class:`~caratzon_core.ports.Signer`), never
as the code itself.

Pure: standard library and attrs only.
"""

from __future__ import annotations

import enum
import hashlib
import math
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import attrs
from attrs import frozen

from caratzon_core.accounts import Language, clean_text
from caratzon_core.errors import Conflict, ValidationFailed

RESPONSE_TIME = timedelta(days=30)  # P42: every request answered within 30 days
MAX_DETAILS = 2000
MAX_REASON = 2000
MAX_NOTES = 100  # merges past this are only counted, so a request cannot grow without bound
PLATFORM = "platform"  # the handler of requests whose effect the platform applies at once

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=15)
CODE_MAX_TRIES = 5
CODES_PER_HOUR = 5  # per account: nobody can flood a person's inbox with codes


class RequestType(enum.StrEnum):
    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    PORTABILITY = "portability"
    OBJECTION = "objection"
    WITHDRAW_CONSENT = "withdraw_consent"


class RequestStatus(enum.StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REFUSED = "refused"


OPEN_STATUSES = frozenset({RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS})


class Origin(enum.StrEnum):
    SELF = "self"  # the person, logged in (Privacy Center or API)
    VERIFIED = "verified"  # an admin on the person's behalf, after the emailed code
    MINOR_REPORT = "minor_report"  # an admin flagged the account as a minor's (P45)


# Rights the platform carries out at once when the person asks (P38, P40, P41).
IMMEDIATE = frozenset({RequestType.RESTRICTION, RequestType.OBJECTION, RequestType.WITHDRAW_CONSENT})

# One line per right, as the Privacy Center and the CLI explain them (policy §9).
RIGHTS: Mapping[RequestType, str] = {
    RequestType.ACCESS: "Get a copy of the personal data we hold about you.",
    RequestType.RECTIFICATION: "Have inaccurate or incomplete data corrected.",
    RequestType.ERASURE: "Have your personal data deleted, except what the law obliges us to keep.",
    RequestType.RESTRICTION: "Limit what we do with your data: it stays stored but leaves analytics and AI at once.",
    RequestType.PORTABILITY: "Receive your data in a structured, machine-readable format.",
    RequestType.OBJECTION: "Object to processing based on our legitimate interests: AI and analytics stop at once.",
    RequestType.WITHDRAW_CONSENT: "Withdraw consent you gave (analytics): it stops from your next visit.",
}

# What is still done by hand for the rights that are not automatic yet.
PENDING_AUTOMATION: Mapping[RequestType, str] = {
    RequestType.ACCESS: "An administrator checks the request and sends you a link to your data export; you can "
                        "also download it yourself at any time from the Privacy Center.",
    RequestType.PORTABILITY: "An administrator checks the request and sends you a link to the machine-readable "
                             "export; you can also download it yourself at any time from the Privacy Center.",
    RequestType.ERASURE: "An administrator checks the request, then your data is erased, keeping only what the law "
                         "obliges us to keep (transaction records for 7 years, no longer linked to you).",
    RequestType.RECTIFICATION: "Name, business details and language can be corrected at once on the account page; "
                               "anything else is corrected by an administrator.",
}

TYPE_LABELS: Mapping[str, Mapping[RequestType, str]] = {
    Language.EN: {
        RequestType.ACCESS: "access to your data", RequestType.RECTIFICATION: "correction of your data",
        RequestType.ERASURE: "erasure of your data", RequestType.RESTRICTION: "restriction of processing",
        RequestType.PORTABILITY: "a portable copy of your data", RequestType.OBJECTION: "objection to processing",
        RequestType.WITHDRAW_CONSENT: "withdrawal of consent",
    },
    Language.ZH_HANS: {
        RequestType.ACCESS: "查阅您的数据", RequestType.RECTIFICATION: "更正您的数据",
        RequestType.ERASURE: "删除您的数据", RequestType.RESTRICTION: "限制处理",
        RequestType.PORTABILITY: "获取可携带的数据副本", RequestType.OBJECTION: "反对处理",
        RequestType.WITHDRAW_CONSENT: "撤回同意",
    },
    Language.ZH_HANT: {
        RequestType.ACCESS: "查閱您的資料", RequestType.RECTIFICATION: "更正您的資料",
        RequestType.ERASURE: "刪除您的資料", RequestType.RESTRICTION: "限制處理",
        RequestType.PORTABILITY: "取得可攜式資料副本", RequestType.OBJECTION: "反對處理",
        RequestType.WITHDRAW_CONSENT: "撤回同意",
    },
}


def type_label(kind: RequestType, language: str = "en") -> str:
    table = TYPE_LABELS.get(language) or TYPE_LABELS[Language.EN]
    return table[kind]


def request_ref(request_id: str) -> str:
    """A short reference people can read out (the id's last 8 characters)."""
    return request_id.replace("-", "")[-8:].upper()


@frozen
class Note:
    at: datetime
    by: str
    text: str


@frozen
class DataRequest:
    id: str
    user_id: str
    type: RequestType
    status: RequestStatus
    origin: Origin
    opened_by: str  # the actor's id: the person, or the admin acting for them
    received_at: datetime
    due_at: datetime
    details: str = ""
    notes: tuple[Note, ...] = ()
    merged: int = 0  # how many later requests of the same type were merged into this one
    urgent: bool = False  # a reported minor (P45): first in the queue
    handled_by: str | None = None
    taken_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None  # what was done (completed) or why not (refused)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def overdue(self, now: datetime) -> bool:
        """Still open after its due date (P42)."""
        return self.is_open and now > self.due_at

    def days_left(self, now: datetime) -> int:
        """Days until due, a part-day counting as a day (30 just after receipt); once
        overdue, minus the whole days past it (at least -1)."""
        days = (self.due_at - now).total_seconds() / 86400
        if days >= 0:
            return math.ceil(days)
        return min(-1, -int(-days))


# -- events ----------------------------------------------------------------------------


@frozen
class RequestOpened:
    request_id: str
    user_id: str
    type: RequestType
    origin: Origin
    by: str
    at: datetime


@frozen
class RequestMerged:
    request_id: str
    by: str
    at: datetime


@frozen
class RequestTaken:
    request_id: str
    by: str
    at: datetime


@frozen
class RequestCompleted:
    request_id: str
    by: str
    at: datetime
    outcome: str


@frozen
class RequestRefused:
    request_id: str
    by: str
    at: datetime
    reason: str


@frozen
class RequestNoted:
    request_id: str
    by: str
    at: datetime


RequestEvent = RequestOpened | RequestMerged | RequestTaken | RequestCompleted | RequestRefused | RequestNoted


# -- field rules -------------------------------------------------------------------------


def parse_type(raw: object) -> RequestType:
    try:
        return RequestType(str(raw).strip().lower().replace("-", "_"))
    except ValueError:
        allowed = ", ".join(t.value for t in RequestType)
        raise ValidationFailed(f"Unknown request type {raw!r}; expected one of: {allowed}.", field="type") from None


def clean_details(raw: object) -> str:
    return clean_text(raw, field="details", max_length=MAX_DETAILS, required=False) or ""


def clean_reason(raw: object) -> str:
    """A refusal must say why, in words the person can read."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValidationFailed("Say why the request is refused: the person is told this reason.", field="reason")
    value = clean_text(raw, field="reason", max_length=MAX_REASON, required=True)
    assert value is not None
    return value


def clean_outcome(raw: object) -> str:
    return clean_text(raw, field="outcome", max_length=MAX_REASON, required=False) or ""


# -- transitions ---------------------------------------------------------------------------


def _noted(req: DataRequest, by: str, at: datetime, text: str) -> tuple[Note, ...]:
    if len(req.notes) >= MAX_NOTES:
        return req.notes
    return (*req.notes, Note(at, by, text))


def _require_open(req: DataRequest) -> None:
    if not req.is_open:
        raise Conflict(f"This request is already {req.status.value.replace('_', ' ')}; nothing can change it now.",
                       field="status")


def open_request(*, request_id: str, user_id: str, type: RequestType, origin: Origin, opened_by: str,
                 now: datetime, details: str = "", urgent: bool = False) -> tuple[DataRequest, RequestOpened]:
    """A new request, received now and due in 30 days."""
    req = DataRequest(id=request_id, user_id=user_id, type=type, status=RequestStatus.RECEIVED, origin=origin,
                      opened_by=opened_by, received_at=now, due_at=now + RESPONSE_TIME,
                      details=clean_details(details), urgent=urgent or origin is Origin.MINOR_REPORT)
    return req, RequestOpened(req.id, user_id, type, origin, opened_by, now)


def merge(req: DataRequest, *, by: str, now: datetime, details: str = "",
          urgent: bool = False) -> tuple[DataRequest, RequestMerged]:
    """A second request of the same type while this one is open: recorded on this one.
    The due date stays the first request's (the answer is owed from then)."""
    _require_open(req)
    extra = clean_details(details)
    text = f"A further request of the same type was received and merged into this one on {now:%Y-%m-%d %H:%M} UTC"
    text += f": {extra}" if extra else "."
    merged = attrs.evolve(req, notes=_noted(req, by, now, text), merged=req.merged + 1,
                          urgent=req.urgent or urgent)
    return merged, RequestMerged(req.id, by, now)


def take(req: DataRequest, *, by: str, now: datetime) -> tuple[DataRequest, RequestTaken]:
    """An administrator starts working on it."""
    _require_open(req)
    if req.status is RequestStatus.IN_PROGRESS:
        raise Conflict(f"This request is already in progress (taken by {req.handled_by}).", field="status")
    taken = attrs.evolve(req, status=RequestStatus.IN_PROGRESS, handled_by=by, taken_at=now)
    return taken, RequestTaken(req.id, by, now)


def _require_in_progress(req: DataRequest) -> None:
    _require_open(req)
    if req.status is not RequestStatus.IN_PROGRESS:
        raise Conflict("Take the request first: only a request in progress can be completed or refused.",
                       field="status")


def complete(req: DataRequest, *, by: str, now: datetime, outcome: str = "") -> tuple[DataRequest, RequestCompleted]:
    _require_in_progress(req)
    text = clean_outcome(outcome) or "Your request has been carried out."
    done = attrs.evolve(req, status=RequestStatus.COMPLETED, closed_at=now, outcome=text,
                        handled_by=req.handled_by or by)
    return done, RequestCompleted(req.id, by, now, text)


def refuse(req: DataRequest, *, by: str, now: datetime, reason: object) -> tuple[DataRequest, RequestRefused]:
    text = clean_reason(reason)
    _require_in_progress(req)
    done = attrs.evolve(req, status=RequestStatus.REFUSED, closed_at=now, outcome=text,
                        handled_by=req.handled_by or by)
    return done, RequestRefused(req.id, by, now, text)


def add_note(req: DataRequest, *, by: str, now: datetime, text: str) -> tuple[DataRequest, RequestNoted]:
    """A line on the timeline; closed requests keep theirs as they were."""
    _require_open(req)
    value = clean_text(text, field="note", max_length=MAX_REASON, required=True)
    assert value is not None
    return attrs.evolve(req, notes=_noted(req, by, now, value)), RequestNoted(req.id, by, now)


# -- verification codes ----------------------------------------------------------------------


@frozen
class VerificationCode:
    id: str
    user_id: str
    purpose: str  # "dsr:<type>": a code opens only the type it was sent for
    digest: str = attrs.field(repr=False)
    requested_by: str
    created_at: datetime
    expires_at: datetime
    attempts: int = 0
    used_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def code_purpose(kind: RequestType) -> str:
    return f"dsr:{kind.value}"


def code_from_secret(secret: str) -> str:
    """Six digits from a fresh secret (SHA-256 of 256 random bits: the bias of the
    modulo is far below anything measurable)."""
    number = int.from_bytes(hashlib.sha256(secret.encode("utf-8")).digest(), "big")
    return f"{number % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def code_message(code_id: str, code: str) -> bytes:
    """What the keyed digest is made of: bound to this code's id, so a digest is
    worthless for any other code."""
    return b"dsr-verification-code\x00" + code_id.encode("utf-8") + b"\x00" + code.encode("utf-8")


def normalize_code(raw: object) -> str:
    text = "".join(ch for ch in str(raw or "") if ch not in " -\t")
    if len(text) != CODE_DIGITS or not text.isascii() or not text.isdigit():
        raise ValidationFailed(f"The code is the {CODE_DIGITS} digits from the email we sent.", field="code")
    return text


def new_code(*, code_id: str, user_id: str, kind: RequestType, requested_by: str, now: datetime,
             secret: str, sign: Callable[[bytes], str]) -> tuple[VerificationCode, str]:
    """The stored record (digest only) and the code to mail."""
    code = code_from_secret(secret)
    record = VerificationCode(id=code_id, user_id=user_id, purpose=code_purpose(kind),
                              digest=sign(code_message(code_id, code)), requested_by=requested_by,
                              created_at=now, expires_at=now + CODE_TTL)
    return record, code


def check_code(record: VerificationCode | None, given: str, *, now: datetime,
               matches: Callable[[bytes, str], bool]) -> tuple[VerificationCode, bool]:
    """Judge ``given`` against the latest code sent. Raises ValidationFailed (field
    ``code``) when no usable code exists (none sent, used, expired, out of tries);
    otherwise returns the record with this try counted (or marked used) and
    whether it matched. The caller stores the record either way."""
    if record is None:
        raise ValidationFailed("No code was sent for this request type: send one first.", field="code")
    if record.used_at is not None:
        raise ValidationFailed("This code was used already: send a new one.", field="code")
    if record.expired(now):
        raise ValidationFailed(f"The code expired ({int(CODE_TTL.total_seconds() // 60)} minutes): send a new one.",
                               field="code")
    if record.attempts >= CODE_MAX_TRIES:
        raise ValidationFailed("Too many wrong codes: send a new one.", field="code")
    if matches(code_message(record.id, given), record.digest):
        return attrs.evolve(record, attempts=record.attempts + 1, used_at=now), True
    return attrs.evolve(record, attempts=record.attempts + 1), False


def tries_left(record: VerificationCode) -> int:
    return max(0, CODE_MAX_TRIES - record.attempts)
