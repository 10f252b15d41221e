"""Use cases of the audit trail: append (inside another use case's transaction),
verify, and prune with a signed checkpoint."""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import frozen

from caratzon_core.access import Action, Actor, Resource, authorize
from caratzon_core.audit import (
    AuditEntry,
    AuditRecord,
    ChainHead,
    Checkpoint,
    Outcome,
    VerifyReport,
    checkpoint_message,
    head_message,
    next_entry,
    verify_chain,
)
from caratzon_core.errors import ValidationFailed
from caratzon_core.ports import Clock, Signer, UnitOfWork
from caratzon_core.retention import months_before
from caratzon_core.services.deps import Deps

# P34: audit logs are retained for 3 years: 36 calendar months, as the retention
# engine counts them (caratzon_core.retention). AUDIT_RETENTION is never shorter.
AUDIT_RETENTION = timedelta(days=3 * 365 + 1)
AUDIT_MONTHS = 36


@frozen
class AuditTrail:
    clock: Clock
    signer: Signer

    def record(self, uow: UnitOfWork, record: AuditRecord) -> AuditEntry:
        """Append within ``uow``: the entry commits or rolls back with the change it records."""
        head = uow.audit.head_for_update()
        entry = next_entry(record, head=head, at=self.clock.now())
        new_head = ChainHead(entry.seq, entry.hash, self.signer.sign(head_message(entry.seq, entry.hash)))
        uow.audit.append(entry, new_head)
        return entry


@frozen
class PruneResult:
    pruned: int
    checkpoint: Checkpoint | None


class AuditService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self.trail = AuditTrail(deps.clock, deps.signer)

    def record_alone(self, record: AuditRecord) -> AuditEntry:
        """Record in a transaction of its own (for denials and failures, whose
        use case rolls back but whose attempt must still be on file)."""
        with self._deps.uow() as uow:
            entry = self.trail.record(uow, record)
            uow.commit()
            return entry

    def verify(self, actor: Actor) -> VerifyReport:
        authorize(actor, Action.AUDIT_VERIFY, Resource("audit trail"))
        with self._deps.uow() as uow:
            checkpoint = uow.audit.checkpoint()
            head = uow.audit.head()
            after = checkpoint.seq if checkpoint else 0
            return verify_chain(
                uow.audit.entries(after_seq=after),
                head=head,
                checkpoint=checkpoint,
                verify_signature=self._deps.signer.verify,
            )

    def prune(self, actor: Actor, *, older_than: datetime, before_seq: int | None = None) -> PruneResult:
        """Delete entries written at or before ``older_than`` (P34: kept 3 years),
        leaving a signed checkpoint so the rest still verifies. The newest entry is
        never pruned: the head must keep pointing at a stored entry. ``before_seq``
        stops the cut before that entry (one about a person under a legal hold)."""
        authorize(actor, Action.AUDIT_PRUNE, Resource("audit trail"))
        now = self._deps.clock.now()
        latest = months_before(now, AUDIT_MONTHS)
        if older_than > latest:
            raise ValidationFailed(
                "Audit entries are kept for 3 years (privacy policy §8); choose a cut-off on or before "
                f"{latest:%Y-%m-%d %H:%M} UTC.",
                field="older_than",
            )
        with self._deps.uow() as uow:
            head = uow.audit.head_for_update()
            last = uow.audit.last_at_or_before(older_than)
            if head is None or last is None:
                return PruneResult(0, uow.audit.checkpoint())
            through = min(last.seq, head.seq - 1)
            if before_seq is not None:
                through = min(through, before_seq - 1)
            current = uow.audit.checkpoint()
            if through <= (current.seq if current else 0):
                return PruneResult(0, current)
            boundary = next(uow.audit.entries(after_seq=through - 1, batch=1))
            checkpoint = Checkpoint(
                seq=boundary.seq,
                hash=boundary.hash,
                pruned_at=now,
                signature=self._deps.signer.sign(checkpoint_message(boundary.seq, boundary.hash)),
            )
            count = uow.audit.prune(through_seq=through, checkpoint=checkpoint)
            self.trail.record(
                uow,
                AuditRecord(
                    actor=actor.id,
                    action="audit.prune",
                    subject="audit",
                    outcome=Outcome.SUCCESS,
                    detail={"through_seq": str(through), "pruned": str(count)},
                ),
            )
            uow.commit()
            return PruneResult(count, checkpoint)
