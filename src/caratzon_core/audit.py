"""The tamper-evident audit trail (P17, P29, P34).

Each entry stores its canonical bytes and ``hash = SHA-256(prev_hash || canonical)``,
so editing or deleting any entry in the middle breaks every later link. The head
(last sequence number and hash) is kept apart and HMAC-signed, so cutting entries
off the end is caught too. Pruning the oldest entries (3-year retention) leaves a
signed :class:`Checkpoint` holding the hash of the last pruned entry, from which
verification resumes.

No passwords, tokens or message bodies ever go in: ``detail`` is for short,
non-secret facts (a reason, a lock time), and client addresses are truncated.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

import attrs
from attrs import frozen

GENESIS_HASH = "0" * 64

_SECRET_WORDS = ("password", "token", "secret", "body", "text", "authorization", "cookie")


class Outcome:
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"
    LOCKED = "locked"


def _check_detail(instance: object, attribute: object, value: Mapping[str, str]) -> None:
    for key, val in value.items():
        if not isinstance(key, str) or not isinstance(val, str):
            raise TypeError("audit detail keys and values must be strings")
        if any(word in _SECRET_WORDS for word in key.lower().split("_")):
            raise ValueError(f"audit detail must not carry secrets or bodies (key {key!r})")


@frozen
class AuditRecord:
    """What a use case asks to record; the trail adds sequence, time and hashes."""

    actor: str
    action: str
    subject: str
    outcome: str
    client_address: str | None = None
    detail: Mapping[str, str] = attrs.field(factory=dict, validator=_check_detail)


@frozen
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    outcome: str
    client_address: str | None
    detail: Mapping[str, str]
    prev_hash: str
    hash: str


@frozen
class ChainHead:
    seq: int
    hash: str
    signature: str


@frozen
class Checkpoint:
    """The hash of the last pruned entry, signed, so the chain stays verifiable."""

    seq: int
    hash: str
    pruned_at: datetime
    signature: str


def truncate_address(address: str | None) -> str | None:
    """P7: keep only the network part: IPv4 /24, IPv6 /48."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    network = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
    return str(network)


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_bytes(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    outcome: str,
    client_address: str | None,
    detail: Mapping[str, str],
) -> bytes:
    doc = {
        "seq": seq,
        "at": _iso(at),
        "actor": actor,
        "action": action,
        "subject": subject,
        "outcome": outcome,
        "client_address": client_address,
        "detail": dict(detail),
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical).hexdigest()


def entry_canonical(entry: AuditEntry) -> bytes:
    return canonical_bytes(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        subject=entry.subject,
        outcome=entry.outcome,
        client_address=entry.client_address,
        detail=entry.detail,
    )


def next_entry(record: AuditRecord, *, head: ChainHead | None, at: datetime) -> AuditEntry:
    """Build the entry that follows ``head`` (pure)."""
    seq = 1 if head is None else head.seq + 1
    prev = GENESIS_HASH if head is None else head.hash
    address = truncate_address(record.client_address)
    canonical = canonical_bytes(
        seq=seq,
        at=at,
        actor=record.actor,
        action=record.action,
        subject=record.subject,
        outcome=record.outcome,
        client_address=address,
        detail=record.detail,
    )
    return AuditEntry(
        seq=seq,
        at=at.astimezone(UTC),
        actor=record.actor,
        action=record.action,
        subject=record.subject,
        outcome=record.outcome,
        client_address=address,
        detail=dict(record.detail),
        prev_hash=prev,
        hash=chain_hash(prev, canonical),
    )


def head_message(seq: int, hash_: str) -> bytes:
    return f"audit-head:{seq}:{hash_}".encode("ascii")


def checkpoint_message(seq: int, hash_: str) -> bytes:
    return f"audit-checkpoint:{seq}:{hash_}".encode("ascii")


@frozen
class VerifyReport:
    ok: bool
    entries_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    last_seq: int | None = None


def verify_chain(
    entries: Iterable[AuditEntry],
    *,
    head: ChainHead | None,
    checkpoint: Checkpoint | None,
    verify_signature: Callable[[bytes, str], bool],
) -> VerifyReport:
    """Walk ``entries`` in sequence order and report the first broken link.

    ``verify_signature(message: bytes, signature: str) -> bool`` checks the HMAC
    of the head and checkpoint.
    """
    check = verify_signature
    if checkpoint is not None and not check(checkpoint_message(checkpoint.seq, checkpoint.hash),
                                            checkpoint.signature):
        return VerifyReport(False, 0, checkpoint.seq, "the pruning checkpoint's signature is invalid")
    expected_seq = 1 if checkpoint is None else checkpoint.seq + 1
    prev = GENESIS_HASH if checkpoint is None else checkpoint.hash
    count = 0
    for entry in entries:
        if entry.seq != expected_seq:
            if entry.seq > expected_seq:
                return VerifyReport(False, count, expected_seq, f"entry {expected_seq} is missing")
            return VerifyReport(False, count, entry.seq, f"entry {entry.seq} is out of order or duplicated")
        if entry.prev_hash != prev:
            return VerifyReport(False, count, entry.seq, f"entry {entry.seq} does not link to the one before")
        if chain_hash(prev, entry_canonical(entry)) != entry.hash:
            return VerifyReport(False, count, entry.seq, f"entry {entry.seq} was altered after it was written")
        prev = entry.hash
        expected_seq += 1
        count += 1
    last_seq = expected_seq - 1
    if head is None:
        if count or checkpoint is not None:
            return VerifyReport(False, count, last_seq, "the chain head record is missing")
        return VerifyReport(True, 0, last_seq=0)
    if not check(head_message(head.seq, head.hash), head.signature):
        return VerifyReport(False, count, head.seq, "the chain head's signature is invalid")
    if head.seq != last_seq or head.hash != prev:
        first_missing = last_seq + 1 if head.seq > last_seq else head.seq
        return VerifyReport(
            False, count, first_missing,
            f"the chain ends at entry {last_seq} but the signed head says {head.seq}",
        )
    return VerifyReport(True, count, last_seq=last_seq)
