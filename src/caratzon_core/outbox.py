"""The notification outbox (issue #4, part 6).

A notice is written to the outbox in the same transaction as the event that
causes it, so an event never happens without its mail and a mail is never sent
for an event that rolled back. Each row has a de-duplication key (one notice
per event and recipient: enqueuing twice is a no-op) and a Message-ID derived
from its id, so a retried send is recognisably the same mail.

Delivery claims a row for a lease before sending and marks it sent after; a row
is never claimed again once sent. Failures are retried with exponential backoff
up to :data:`MAX_ATTEMPTS`, then the row is parked as failed for an operator.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import attrs
from attrs import frozen

from caratzon_core.notices import Notice

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=6)
CLAIM_LEASE = timedelta(minutes=5)
MAX_ERROR_CHARS = 500


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after MAX_ATTEMPTS; an operator may retry it


@frozen
class OutboxMessage:
    id: str
    dedupe_key: str
    notice: Notice
    created_at: datetime
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None  # None: due at once
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None

    def due(self, now: datetime) -> bool:
        if self.status is not OutboxStatus.PENDING:
            return False
        if self.claimed_until is not None and self.claimed_until > now:
            return False
        return self.next_attempt_at is None or self.next_attempt_at <= now


def backoff(attempts: int) -> timedelta:
    """Wait before retry number ``attempts`` (1-based): 1, 2, 4, … minutes, capped."""
    if attempts < 1:
        return timedelta(0)
    wait: timedelta = FIRST_RETRY * (2 ** (attempts - 1))
    return min(wait, MAX_RETRY)


def after_failure(message: OutboxMessage, error: str, now: datetime) -> OutboxMessage:
    attempts = message.attempts + 1
    short = error.replace("\n", " ")[:MAX_ERROR_CHARS]
    if attempts >= MAX_ATTEMPTS:
        return attrs.evolve(message, attempts=attempts, status=OutboxStatus.FAILED, last_error=short,
                            claimed_until=None, next_attempt_at=None)
    return attrs.evolve(message, attempts=attempts, last_error=short, claimed_until=None,
                        next_attempt_at=now + backoff(attempts))


def after_success(message: OutboxMessage, now: datetime) -> OutboxMessage:
    return attrs.evolve(message, attempts=message.attempts + 1, status=OutboxStatus.SENT, sent_at=now,
                        claimed_until=None, last_error=None)
