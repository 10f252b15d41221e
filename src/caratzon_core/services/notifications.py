"""Delivering the outbox (issue #4, part 6): claim due rows, send each through the
mailer with a Message-ID derived from the row, record the outcome.

A row is claimed (with a lease) and committed before the mail goes out, and
marked sent right after; a sent row is never claimed again. If the process dies
between the send and the mark, the lease runs out and the mail is sent once more
with the same Message-ID, which receivers use to drop the duplicate: that
window is the only way a person can get a mail twice, and it is documented.
"""

from __future__ import annotations

from attrs import frozen

from caratzon_core.access import Action, Actor, Resource, decide
from caratzon_core.errors import Forbidden
from caratzon_core.notices import message_id_for, render
from caratzon_core.outbox import CLAIM_LEASE, OutboxStatus, after_failure, after_success
from caratzon_core.services.deps import Deps


@frozen
class DeliveryReport:
    sent: int
    failed: int  # this run's failures (retried later unless they gave up)
    gave_up: int  # rows parked as failed for good
    pending: int  # still waiting after this run


class NotificationService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps

    def deliver(self, actor: Actor, *, limit: int = 500, batch: int = 50) -> DeliveryReport:
        decision = decide(actor, Action.WORKER_RUN, Resource("outbox"))
        if not decision.allowed:
            raise Forbidden(decision.reason)
        if self._d.mailer is None:
            raise RuntimeError("no mailer is configured")
        sent = failed = gave_up = 0
        while sent + failed < limit:
            now = self._d.clock.now()
            with self._d.uow() as uow:
                claimed = uow.outbox.claim_due(now, now + CLAIM_LEASE, limit=min(batch, limit - sent - failed))
                uow.commit()
            if not claimed:
                break
            for message in claimed:
                try:
                    subject, body = render(message.notice)
                    self._d.mailer.send(to=message.notice.to_email, subject=subject, body=body,
                                        message_id=message_id_for(message.id, self._d.settings.mail_domain))
                except Exception as err:  # every failure is recorded and retried with backoff
                    outcome = after_failure(message, f"{type(err).__name__}: {err}", self._d.clock.now())
                    failed += 1
                    gave_up += outcome.status is OutboxStatus.FAILED
                else:
                    outcome = after_success(message, self._d.clock.now())
                    sent += 1
                with self._d.uow() as uow:
                    uow.outbox.update(outcome)
                    uow.commit()
        with self._d.uow() as uow:
            pending = uow.outbox.counts().get(OutboxStatus.PENDING.value, 0)
        return DeliveryReport(sent, failed, gave_up, pending)

    def counts(self, actor: Actor) -> dict[str, int]:
        decision = decide(actor, Action.WORKER_RUN, Resource("outbox"))
        if not decision.allowed:
            raise Forbidden(decision.reason)
        with self._d.uow() as uow:
            return uow.outbox.counts()
