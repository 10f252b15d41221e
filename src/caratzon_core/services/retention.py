"""The retention engine (issue #6, part 4; policy §8, P30-P34) and legal holds.

:meth:`RetentionService.plan` reads a snapshot and returns the pure
:func:`~caratzon_core.retention.plan`: per rule, what is due and, for every item
kept past its period, why. :meth:`RetentionService.apply` does the work in batches,
each in its own transaction together with the run's counts, so:

* **idempotent**: a batch re-reads its items inside its transaction and re-plans
  them; what is done is gone (or marked), so running again finds only what is left;
* **resumable**: an interrupted run leaves committed batches done and counted, and
  the next run finishes the rest — nothing is counted twice, because each count
  commits with the work it counts;
* **no orphans**: rows and the keys of their blobs go in one transaction; blobs are
  deleted after it, and a failure stays queued for the next run.

A run is refused for an as-of time in the future (it would delete what the policy
still keeps). Every run leaves one ``retention.apply`` audit entry with its counts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import attrs
from attrs import frozen

from caratzon_core.access import Action, Actor, Resource, authorize
from caratzon_core.accounts import User, normalize_email
from caratzon_core.audit import AuditRecord, Outcome
from caratzon_core.errors import Conflict, NotFound, ValidationFailed
from caratzon_core.ports import PrivacyStore, UnitOfWork
from caratzon_core.retention import (
    Candidate,
    Cutoffs,
    LegalHold,
    Plan,
    RetentionRun,
    RuleCode,
    RunStatus,
    cutoffs,
    decide,
    plan,
)
from caratzon_core.services.audit import AuditService, AuditTrail
from caratzon_core.services.deps import Client, Deps
from caratzon_core.services.erasure import ErasureService
from caratzon_core.services.export import EXPORT_FILE_REASON

# progress(rule, done, total): total is the plan's count (0 when unknown).
Progress = Callable[[RuleCode, int, int], None]

MAX_REASON = 500
# A run still marked running after this long was killed: the next run takes over.
RUN_LEASE = timedelta(hours=1)
# Transaction records depend on each other (an agreement is kept while its orders
# remain): passes repeat until one deletes nothing, at most this many times.
TRANSACTION_PASSES = 5


@frozen
class HoldView:
    hold: LegalHold
    email: str
    name: str


def _clean_reason(reason: object, what: str) -> str:
    text = str(reason or "").strip()
    if not text:
        raise ValidationFailed(f"Say why {what}: it is kept as the record of the decision.", field="reason")
    if len(text) > MAX_REASON:
        raise ValidationFailed(f"Keep the reason under {MAX_REASON} characters.", field="reason")
    return " ".join(text.split())


class RetentionService:
    def __init__(self, deps: Deps, store: PrivacyStore, erasure: ErasureService, audit: AuditService, *,
                 batch_size: int = 500, analytics_batch: int = 100_000) -> None:
        self._d = deps
        self._store = store
        self._erasure = erasure
        self._audit = audit
        self._trail = AuditTrail(deps.clock, deps.signer)
        self.batch_size = batch_size
        self.analytics_batch = analytics_batch

    # -- planning ---------------------------------------------------------------------

    def plan(self, actor: Actor, as_of: datetime | None = None) -> Plan:
        """What a run as of ``as_of`` (default: now; a future date previews) would do."""
        authorize(actor, Action.RETENTION_RUN, Resource("retention"))
        cut = cutoffs(as_of or self._d.clock.now())
        with self._d.uow() as uow:
            return plan(self._store.snapshot(uow, cut))

    def runs(self, actor: Actor, *, limit: int = 10) -> list[RetentionRun]:
        authorize(actor, Action.RETENTION_RUN, Resource("retention"))
        with self._d.uow() as uow:
            return self._store.runs(uow, limit=limit)

    # -- applying ---------------------------------------------------------------------

    def apply(self, actor: Actor, as_of: datetime | None = None, *, progress: Progress | None = None,
              client: Client = Client()) -> RetentionRun:
        authorize(actor, Action.RETENTION_RUN, Resource("retention"))
        now = self._d.clock.now()
        as_of = as_of or now
        if as_of > now:
            raise ValidationFailed(
                f"A retention run cannot be applied as of a future time ({as_of:%Y-%m-%d %H:%M} UTC is after "
                f"now, {now:%Y-%m-%d %H:%M} UTC): it would delete what the policy still keeps. A future date "
                "can only be previewed with the plan.", field="as_of")
        cut = cutoffs(as_of)
        report = progress or (lambda rule, done, total: None)
        with self._d.uow() as uow:
            preview = plan(self._store.snapshot(uow, cut))
            run = RetentionRun(self._d.ids.new_id(), as_of, actor.id, now)
            recent = self._store.runs(uow, limit=20)
            busy = [r for r in recent if r.status is RunStatus.RUNNING and now - r.started_at < RUN_LEASE]
            if busy:
                raise Conflict(
                    f"A retention run started at {busy[0].started_at:%Y-%m-%d %H:%M} UTC by {busy[0].started_by} is "
                    "still running; wait for it to finish. (A run that was killed is taken over after "
                    f"{(busy[0].started_at + RUN_LEASE):%H:%M} UTC.)", field="run")
            for old in recent:
                if old.status is RunStatus.RUNNING:  # a run that never finished: say so
                    note = f"interrupted; resumed by run {run.id}"
                    self._store.save_run(uow, old.finish(RunStatus.FAILED, now, note))
            self._store.save_run(uow, run)
            uow.commit()
        try:
            run = self._accounts(run, cut, preview, report, client)
            run = self._items(run, RuleCode.DESIGN_ASSET, cut, preview, report)
            run = self._transactions(run, cut, preview, report)
            run = self._analytics(run, cut, preview, report)
            run = self._audit_log(run, actor, cut, preview, report)
            run = self._blobs(run, preview, report)
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            with self._d.uow() as uow:
                # The step that failed saved its committed batches' counts on the row: keep them.
                stored = {r.id: r for r in self._store.runs(uow, limit=20)}.get(run.id, run)
                failed = stored.finish(RunStatus.FAILED, self._d.clock.now(), error)
                self._store.save_run(uow, failed)
                self._trail.record(uow, AuditRecord(actor.id, "retention.apply", f"retention_run:{run.id}",
                                                    Outcome.FAILURE, client.address, _detail(failed)))
                uow.commit()
            raise
        done = run.finish(RunStatus.COMPLETED, self._d.clock.now())
        with self._d.uow() as uow:
            self._store.save_run(uow, done)
            self._trail.record(uow, AuditRecord(actor.id, "retention.apply", f"retention_run:{run.id}",
                                                Outcome.SUCCESS, client.address, _detail(done)))
            uow.commit()
        return done

    def _batches(self, run: RetentionRun, rule: RuleCode, cut: Cutoffs, total: int, report: Progress,
                 work: Callable[[UnitOfWork, list[Candidate]], int], done: int = 0) -> tuple[RetentionRun, int]:
        """Walk one rule's candidates in ``ref`` order; each batch re-plans its items
        inside its transaction and commits the work with the run's counts."""
        after: str | None = None
        while True:
            with self._d.uow() as uow:
                batch = self._store.due_batch(uow, rule, cut, after=after, limit=self.batch_size)
                if not batch:
                    return run, done
                due = [c for c in batch if not decide(c)]
                n = work(uow, due) if due else 0
                if n:
                    run = run.add({rule.value: n})
                    self._store.save_run(uow, run)
                uow.commit()
            after = batch[-1].ref
            done += n
            report(rule, done, total)

    def _accounts(self, run: RetentionRun, cut: Cutoffs, preview: Plan, report: Progress,
                  client: Client) -> RetentionRun:
        now = self._d.clock.now()

        def erase(uow: UnitOfWork, due: list[Candidate]) -> int:
            since = {c.id: c.since for c in due}
            # Re-decided inside the batch's transaction: anything that now stands on a
            # person (a hold placed since the plan) keeps them, uncounted.
            reports, _ = self._erasure.erase_many_in(
                uow, [c.id for c in due], by=run.started_by, now=now, client=client,
                because=lambda uid: f"account closed {since[uid]:%Y-%m-%d}: 12 months passed (P30)")
            return len(reports)

        total = preview[RuleCode.ACCOUNT].due_count
        run, _ = self._batches(run, RuleCode.ACCOUNT, cut, total, report, erase)
        return run

    def _items(self, run: RetentionRun, rule: RuleCode, cut: Cutoffs, preview: Plan, report: Progress,
               done: int = 0) -> RetentionRun:
        now = self._d.clock.now()

        def purge(uow: UnitOfWork, due: list[Candidate]) -> int:
            self._store.purge(uow, rule, due, now=now)
            return len(due)

        run, _ = self._batches(run, rule, cut, preview[rule].due_count, report, purge, done)
        return run

    def _transactions(self, run: RetentionRun, cut: Cutoffs, preview: Plan, report: Progress) -> RetentionRun:
        for _ in range(TRANSACTION_PASSES):
            before = run.counts.get(RuleCode.TRANSACTION.value, 0)
            run = self._items(run, RuleCode.TRANSACTION, cut, preview, report, done=before)
            if run.counts.get(RuleCode.TRANSACTION.value, 0) == before:
                break
        return run

    def _analytics(self, run: RetentionRun, cut: Cutoffs, preview: Plan, report: Progress) -> RetentionRun:
        total = preview[RuleCode.ANALYTICS].due_count
        done = 0
        while True:
            with self._d.uow() as uow:
                n = self._store.aggregate_analytics(uow, cut[RuleCode.ANALYTICS], limit=self.analytics_batch)
                if n:
                    run = run.add({RuleCode.ANALYTICS.value: n})
                    self._store.save_run(uow, run)
                uow.commit()
            if not n:
                return run
            done += n
            report(RuleCode.ANALYTICS, done, total)

    def _audit_log(self, run: RetentionRun, actor: Actor, cut: Cutoffs, preview: Plan,
                   report: Progress) -> RetentionRun:
        cutoff = cut[RuleCode.AUDIT]
        with self._d.uow() as uow:
            bound = self._store.audit_prune_bound(uow, cutoff)
        pruned = self._audit.prune(actor, older_than=cutoff, before_seq=bound).pruned
        if pruned:
            with self._d.uow() as uow:
                run = run.add({RuleCode.AUDIT.value: pruned})
                self._store.save_run(uow, run)
                uow.commit()
        report(RuleCode.AUDIT, pruned, preview[RuleCode.AUDIT].due_count)
        return run

    def _blobs(self, run: RetentionRun, preview: Plan, report: Progress) -> RetentionRun:
        tried: set[str] = set()
        exports = self._erasure.drain_blobs(reason=EXPORT_FILE_REASON, tried=tried)
        others = self._erasure.drain_blobs(tried=tried)
        counts = {RuleCode.EXPORT_FILE.value: exports.deleted, RuleCode.QUEUED_FILES.value: others.deleted,
                  "blob_failures": exports.failed + others.failed}
        counts = {k: v for k, v in counts.items() if v}
        if counts:
            with self._d.uow() as uow:
                run = run.add(counts)
                self._store.save_run(uow, run)
                uow.commit()
        report(RuleCode.EXPORT_FILE, exports.deleted, preview[RuleCode.EXPORT_FILE].due_count)
        report(RuleCode.QUEUED_FILES, others.deleted, preview[RuleCode.QUEUED_FILES].due_count)
        return run

    # -- legal holds ---------------------------------------------------------------------

    def _user(self, uow: UnitOfWork, who: str) -> User:
        user = uow.users.get_by_email(normalize_email(who)) if "@" in who else uow.users.get(who)
        if user is None or user.erased_at is not None:
            raise NotFound("No account with that email address.", field="email")
        return user

    def place_hold(self, actor: Actor, who: str, reason: object, client: Client = Client()) -> LegalHold:
        """Stop erasure and retention for a person (their data kept as it is) until released."""
        authorize(actor, Action.LEGAL_HOLD, Resource("legal hold"))
        why = _clean_reason(reason, "the data must be kept")
        now = self._d.clock.now()
        with self._d.uow() as uow:
            user = self._user(uow, who)
            if self._store.standing_hold(uow, user.id) is not None:
                raise Conflict("A legal hold already stands on this account.", field="email")
            hold = LegalHold(self._d.ids.new_id(), user.id, why, actor.id, now)
            self._store.add_hold(uow, hold)
            self._trail.record(uow, AuditRecord(actor.id, "legal_hold.place", f"user:{user.id}", Outcome.SUCCESS,
                                                client.address, {"hold": hold.id}))
            uow.commit()
        return hold

    def release_hold(self, actor: Actor, who: str, reason: object, client: Client = Client()) -> LegalHold:
        authorize(actor, Action.LEGAL_HOLD, Resource("legal hold"))
        why = _clean_reason(reason, "the hold is released")
        now = self._d.clock.now()
        with self._d.uow() as uow:
            user = self._user(uow, who)
            hold = self._store.standing_hold(uow, user.id)
            if hold is None:
                raise NotFound("No legal hold stands on this account.", field="email")
            self._store.release_hold(uow, hold.id, by=actor.id, at=now, reason=why)
            self._trail.record(uow, AuditRecord(actor.id, "legal_hold.release", f"user:{user.id}",
                                                Outcome.SUCCESS, client.address, {"hold": hold.id}))
            uow.commit()
        return attrs.evolve(hold, released_by=actor.id, released_at=now, release_reason=why)

    def holds(self, actor: Actor, *, standing_only: bool = True) -> list[HoldView]:
        authorize(actor, Action.LEGAL_HOLD, Resource("legal hold"))
        with self._d.uow() as uow:
            found = self._store.holds(uow, standing_only=standing_only)
            people = {h.user_id: uow.users.get(h.user_id) for h in found}
        out = []
        for h in found:
            u = people.get(h.user_id)
            out.append(HoldView(h, u.email if u else "", u.name if u else ""))
        return out


def _detail(run: RetentionRun) -> dict[str, str]:
    detail = {"as_of": run.as_of.isoformat(), "status": run.status.value}
    detail.update({k: str(v) for k, v in sorted(run.counts.items())})
    return detail
