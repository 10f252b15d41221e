"""Issue #4 notifications (P16): the outbox is delivered with retries and never sends
a mail twice. A hypothesis state machine enqueues notices, lets the mail server
fail at random, moves time and delivers; it checks that no Message-ID is ever
sent twice, that sent rows stay sent, and that everything is sent once the server
recovers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from caratzon_core.access import Actor, Role
from caratzon_core.errors import Forbidden
from caratzon_core.notices import Notice, NoticeKind, message_id_for
from caratzon_core.outbox import MAX_ATTEMPTS, MAX_RETRY, OutboxMessage, OutboxStatus, after_failure, backoff
from caratzon_core.services.notifications import NotificationService
from caratzon_core.testing import FakeClock, fake_deps

WORKER = Actor.cli_operator()


def notice(n: int) -> Notice:
    return Notice(NoticeKind.OFFER_RECEIVED, f"p{n}@example.com", "en",
                  {"name": "P", "counterparty": "Q", "design_title": "Ring", "amount": "USD 1.00", "url": "http://x"})


def enqueue(store, clock, n: int, key: str | None = None) -> bool:
    with store() as uow:
        added = uow.outbox.add(OutboxMessage(id=f"m{n}", dedupe_key=key or f"k{n}", notice=notice(n),
                                             created_at=clock.now()))
        uow.commit()
    return added


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(i) for i in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert backoff(30) == MAX_RETRY


def test_a_failing_row_is_retried_later_then_parked_after_max_attempts() -> None:
    clock = FakeClock()
    message = OutboxMessage(id="m1", dedupe_key="k", notice=notice(1), created_at=clock.now())
    for attempt in range(1, MAX_ATTEMPTS):
        message = after_failure(message, "boom\nsecond line", clock.now())
        assert message.status is OutboxStatus.PENDING and not message.due(clock.now())
        assert message.last_error == "boom second line"
        clock.advance(backoff(attempt))
        assert message.due(clock.now())
    message = after_failure(message, "boom", clock.now())
    assert message.status is OutboxStatus.FAILED and message.attempts == MAX_ATTEMPTS


def test_deliver_sends_once_with_a_stable_message_id_and_dedupes_enqueues() -> None:
    clock = FakeClock()
    deps, store = fake_deps(clock=clock)
    assert enqueue(store, clock, 1) and not enqueue(store, clock, 2, key="k1")
    service = NotificationService(deps)
    report = service.deliver(WORKER)
    assert (report.sent, report.failed, report.pending) == (1, 0, 0)
    assert deps.mailer.sent[0]["message_id"] == message_id_for("m1")
    assert deps.mailer.sent[0]["subject"] == "New offer on Ring"
    assert service.deliver(WORKER).sent == 0
    assert len(deps.mailer.sent) == 1
    with pytest.raises(Forbidden):
        service.deliver(Actor(id="u", role=Role.DESIGNER))


def test_an_unrenderable_notice_fails_visibly_instead_of_sending_half_a_mail() -> None:
    clock = FakeClock()
    deps, store = fake_deps(clock=clock)
    with store() as uow:
        uow.outbox.add(OutboxMessage(id="m1", dedupe_key="k", created_at=clock.now(),
                                     notice=Notice(NoticeKind.OFFER_RECEIVED, "a@example.com", "en", {"name": "A"})))
        uow.commit()
    report = NotificationService(deps).deliver(WORKER)
    assert report.failed == 1 and deps.mailer.sent == []
    assert "missing value" in store.state.trade.outbox["m1"].last_error


class OutboxMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.deps, self.store = fake_deps(clock=self.clock)
        self.service = NotificationService(self.deps)
        self.n = 0

    @rule(dupe=st.booleans())
    def enqueue(self, dupe: bool) -> None:
        if dupe and self.n:
            assert not enqueue(self.store, self.clock, self.n + 1000, key=f"k{self.n}")
            return
        self.n += 1
        assert enqueue(self.store, self.clock, self.n)

    @rule(failures=st.integers(min_value=0, max_value=4))
    def deliver(self, failures: int) -> None:
        self.deps.mailer.fail_next = failures
        self.service.deliver(WORKER, batch=3)
        self.deps.mailer.fail_next = 0

    @rule(minutes=st.integers(min_value=0, max_value=600))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    @precondition(lambda self: self.n > 0)
    @rule()
    def server_recovers_and_everything_pending_goes_out(self) -> None:
        self.clock.advance(MAX_RETRY + timedelta(minutes=1))
        self.service.deliver(WORKER)
        rows = self.store.state.trade.outbox.values()
        assert all(r.status is not OutboxStatus.PENDING for r in rows)

    @invariant()
    def never_twice(self) -> None:
        ids = [m["message_id"] for m in self.deps.mailer.sent]
        assert len(ids) == len(set(ids))

    @invariant()
    def sent_rows_are_exactly_the_sent_mails(self) -> None:
        rows = self.store.state.trade.outbox.values()
        sent = {message_id_for(r.id) for r in rows if r.status is OutboxStatus.SENT}
        assert sent == {m["message_id"] for m in self.deps.mailer.sent}
        assert all(r.attempts <= MAX_ATTEMPTS for r in rows)
        assert all(r.claimed_until is None for r in rows)  # no claim outlives a delivery run


OutboxMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestOutboxMachine = OutboxMachine.TestCase
