"""Payment instructions (issue #5, part 6): the gateway calls an order step needs,
written in the step's transaction and made afterwards by the worker with the
instruction's idempotency key, so money moves exactly once even when a call is
retried or the worker dies half-way (an outbox for money)."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import attrs
from attrs import frozen

from caratzon_core.money import Money
from caratzon_core.outbox import MAX_ATTEMPTS, backoff

LEASE = timedelta(minutes=5)


class InstructionKind(enum.StrEnum):
    CHARGE = "charge"
    REFUND = "refund"
    TRANSFER = "transfer"


class InstructionStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # gave up; an operator looks at it


@frozen
class PaymentInstruction:
    id: str
    order_id: str
    kind: InstructionKind
    amount: Money
    party_id: str  # the buyer (charge, refund) or the payee (transfer)
    idempotency_key: str
    created_at: datetime
    status: InstructionStatus = InstructionStatus.PENDING
    external_id: str | None = None  # the gateway's id once made
    attempts: int = 0
    next_attempt_at: datetime | None = None
    claimed_until: datetime | None = None
    last_error: str | None = None

    def due(self, now: datetime) -> bool:
        return (self.status is InstructionStatus.PENDING
                and (self.claimed_until is None or self.claimed_until <= now)
                and (self.next_attempt_at is None or self.next_attempt_at <= now))


def done(instruction: PaymentInstruction, external_id: str) -> PaymentInstruction:
    return attrs.evolve(instruction, status=InstructionStatus.DONE, external_id=external_id, claimed_until=None,
                        attempts=instruction.attempts + 1, last_error=None)


def failed(instruction: PaymentInstruction, error: str, now: datetime) -> PaymentInstruction:
    attempts = instruction.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        return attrs.evolve(instruction, status=InstructionStatus.FAILED, attempts=attempts,
                            last_error=error[:500], claimed_until=None)
    return attrs.evolve(instruction, attempts=attempts, last_error=error[:500], claimed_until=None,
                        next_attempt_at=now + backoff(attempts))
