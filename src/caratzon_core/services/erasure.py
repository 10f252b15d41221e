"""Erasure of a person and the blobs it leaves to delete (issue #6, part 3).

:meth:`ErasureService.erase_in` runs inside another use case's unit of work (an
admin completing an erasure request, the retention engine purging an account 12
months after it closed): it reads what stands on the person, lets the pure
:func:`~caratzon_core.erasure.decide_erasure` allow or refuse with reasons, and has
the :class:`~caratzon_core.ports.PrivacyStore` apply the data map's masking. The
person's pseudonym is the keyed HMAC the access export uses for counterparties, so
the same person is the same pseudonym everywhere.

Files are deleted after the transaction commits (:meth:`drain_blobs`): their keys
were queued with the rows' deletion, so a blob-store failure only leaves a queued
key that the next drain (or retention run) retries — never a row without its file
or a file nobody remembers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from attrs import frozen

from caratzon_core.audit import AuditRecord, Outcome
from caratzon_core.erasure import Erasee, ErasureDecision, ErasureReport, PersonFacts, decide_erasure
from caratzon_core.errors import Conflict
from caratzon_core.export import Pseudonymiser
from caratzon_core.ports import BlobStore, PrivacyStore, UnitOfWork
from caratzon_core.services.audit import AuditTrail
from caratzon_core.services.deps import Client, Deps


class ErasureRefused(Conflict):
    """Erasure is not possible now; the message gives every reason."""

    code = "erasure_refused"

    def __init__(self, decision: ErasureDecision) -> None:
        super().__init__(decision.message)
        self.decision = decision


@frozen
class DrainResult:
    deleted: int
    failed: int


class ErasureService:
    def __init__(self, deps: Deps, store: PrivacyStore) -> None:
        self._d = deps
        self._store = store
        self._trail = AuditTrail(deps.clock, deps.signer)
        self._pseudonyms = Pseudonymiser(deps.signer)

    @property
    def store(self) -> PrivacyStore:
        return self._store

    def pseudonym(self, user_id: str) -> str:
        return self._pseudonyms.pseudonym(user_id)

    def erase_in(self, uow: UnitOfWork, user_id: str, *, by: str, because: str, now: datetime,
                 client: Client = Client()) -> ErasureReport:
        """Erase one person within ``uow`` or raise :class:`ErasureRefused` (nothing written)."""
        reports, refused = self.erase_many_in(uow, [user_id], by=by, because=lambda _: because, now=now,
                                              client=client)
        if user_id in refused:
            raise ErasureRefused(refused[user_id])
        return reports[0]

    def erase_many_in(self, uow: UnitOfWork, user_ids: Sequence[str], *, by: str,
                      because: Callable[[str], str], now: datetime,
                      client: Client = Client()) -> tuple[list[ErasureReport], dict[str, ErasureDecision]]:
        """Erase every person of ``user_ids`` whom nothing stands on, in one batch
        (a few statements per table); the others are returned with the decision that
        refused them. Each erasure is audited with ids only (P34): who and why, never
        what the person's data was."""
        facts = self._store.people_facts(uow, user_ids, now.date())
        allowed: list[Erasee] = []
        refused: dict[str, ErasureDecision] = {}
        for user_id in user_ids:
            decision = decide_erasure(facts.get(user_id, PersonFacts(user_id, exists=False)))
            if decision.allowed:
                allowed.append(Erasee(user_id, self.pseudonym(user_id), decision.keep_designs))
            else:
                refused[user_id] = decision
        reports = self._store.erase_people(uow, allowed, now=now) if allowed else []
        for report in reports:
            self._trail.record(uow, AuditRecord(
                by, "privacy.erase", f"user:{report.user_id}", Outcome.SUCCESS, client.address,
                {"because": because(report.user_id)[:120], "rows": str(report.rows), "blobs": str(report.blobs),
                 "kept_designs": str(len(report.kept_designs))},
            ))
        return reports, refused

    def drain_blobs(self, *, now: datetime | None = None, limit: int = 500,
                    reason: str | None = None, retries_only: bool = False,
                    tried: set[str] | None = None) -> DrainResult:
        """Delete queued blobs that are due; a failure is remembered and retried later
        (not again in this drain: keys in ``tried`` are skipped, and added to it)."""
        blobs: BlobStore | None = self._d.blobs
        if blobs is None:
            return DrainResult(0, 0)
        now = now or self._d.clock.now()
        deleted = failed = 0
        tried = set() if tried is None else tried
        while True:
            with self._d.uow() as uow:
                keys = [k for k in self._store.due_blobs(uow, now, reason=reason, retries_only=retries_only,
                                                         limit=limit) if k not in tried]
            if not keys:
                break
            done: list[str] = []
            errors: dict[str, str] = {}
            for key in keys:
                tried.add(key)
                try:
                    blobs.delete(key)
                    done.append(key)
                except Exception as exc:  # the store's failure is recorded, the run goes on
                    errors[key] = f"{type(exc).__name__}: {exc}"
            with self._d.uow() as uow:
                if done:
                    self._store.blobs_deleted(uow, done)
                for key, error in errors.items():
                    self._store.blob_failed(uow, key, error=error, now=now)
                uow.commit()
            deleted += len(done)
            failed += len(errors)
        return DrainResult(deleted, failed)
