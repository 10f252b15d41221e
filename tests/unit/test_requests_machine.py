"""A stateful model of data-subject requests (issue #6, part 1): people open requests
of any type (a second open one of the same type merges), admins take, complete or
refuse them (with or without a reason), time passes. Invariants: at most one open
request per person and type; due = received + 30 days and never moves; overdue
exactly when open past the due date; closed requests never change; a refusal
always carries a reason; every transition is one the diagram allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from caratzon_core.errors import Conflict, ValidationFailed
from caratzon_core.requests import (
    OPEN_STATUSES,
    RESPONSE_TIME,
    DataRequest,
    Origin,
    RequestCompleted,
    RequestMerged,
    RequestRefused,
    RequestStatus,
    RequestTaken,
    RequestType,
    complete,
    merge,
    open_request,
    refuse,
    take,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PEOPLE = ["ann", "ben"]
ADMINS = ["admin-1", "admin-2"]
ALLOWED = {
    RequestStatus.RECEIVED: {RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS},
    RequestStatus.IN_PROGRESS: {RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED, RequestStatus.REFUSED},
    RequestStatus.COMPLETED: {RequestStatus.COMPLETED},
    RequestStatus.REFUSED: {RequestStatus.REFUSED},
}
reasons = st.sampled_from(["", "   ", "Legal duty to keep invoices.", "Not your data.", "\x00bad"])


class Requests(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.requests: dict[str, DataRequest] = {}
        self.closed: dict[str, DataRequest] = {}
        self.first_due: dict[str, datetime] = {}
        self.n = 0

    def _open_of(self, person: str, kind: RequestType) -> DataRequest | None:
        return next((r for r in self.requests.values() if r.user_id == person and r.type is kind and r.is_open), None)

    def _pick(self, index: int) -> DataRequest | None:
        if not self.requests:
            return None
        ids = sorted(self.requests)
        return self.requests[ids[index % len(ids)]]

    def _store(self, before: DataRequest, after: DataRequest) -> None:
        assert after.status in ALLOWED[before.status]
        assert after.id == before.id and after.received_at == before.received_at
        self.requests[after.id] = after
        if not after.is_open:
            self.closed.setdefault(after.id, after)

    @rule(person=st.sampled_from(PEOPLE), kind=st.sampled_from(RequestType), details=st.text(max_size=30))
    def open(self, person: str, kind: RequestType, details: str) -> None:
        existing = self._open_of(person, kind)
        try:
            if existing is not None:
                merged, event = merge(existing, by=person, now=self.now, details=details)
                assert isinstance(event, RequestMerged) and merged.merged == existing.merged + 1
                assert merged.due_at == existing.due_at
                self._store(existing, merged)
                return
            self.n += 1
            req, event = open_request(request_id=f"r{self.n:04d}", user_id=person, type=kind, origin=Origin.SELF,
                                      opened_by=person, now=self.now, details=details)
        except ValidationFailed as exc:
            assert exc.field == "details"  # control characters in what was typed
            return
        assert req.status is RequestStatus.RECEIVED and event.request_id == req.id
        assert req.due_at == self.now + RESPONSE_TIME
        self.requests[req.id] = req
        self.first_due[req.id] = req.due_at

    @rule(index=st.integers(0, 50), admin=st.sampled_from(ADMINS))
    def take_one(self, index: int, admin: str) -> None:
        req = self._pick(index)
        if req is None:
            return
        if req.status is not RequestStatus.RECEIVED:
            with pytest.raises(Conflict):
                take(req, by=admin, now=self.now)
            return
        taken, event = take(req, by=admin, now=self.now)
        assert isinstance(event, RequestTaken) and taken.handled_by == admin and taken.taken_at == self.now
        self._store(req, taken)

    @rule(index=st.integers(0, 50), admin=st.sampled_from(ADMINS), outcome=st.sampled_from(["", "Export sent."]))
    def complete_one(self, index: int, admin: str, outcome: str) -> None:
        req = self._pick(index)
        if req is None:
            return
        if req.status is not RequestStatus.IN_PROGRESS:
            with pytest.raises(Conflict):
                complete(req, by=admin, now=self.now, outcome=outcome)
            return
        done, event = complete(req, by=admin, now=self.now, outcome=outcome)
        assert isinstance(event, RequestCompleted) and done.outcome and done.closed_at == self.now
        self._store(req, done)

    @rule(index=st.integers(0, 50), admin=st.sampled_from(ADMINS), reason=reasons)
    def refuse_one(self, index: int, admin: str, reason: str) -> None:
        req = self._pick(index)
        if req is None:
            return
        if not reason.strip() or "\x00" in reason:
            with pytest.raises(ValidationFailed) as caught:
                refuse(req, by=admin, now=self.now, reason=reason)
            assert caught.value.field == "reason"
            return
        if req.status is not RequestStatus.IN_PROGRESS:
            with pytest.raises(Conflict):
                refuse(req, by=admin, now=self.now, reason=reason)
            return
        done, event = refuse(req, by=admin, now=self.now, reason=reason)
        assert isinstance(event, RequestRefused) and done.outcome == reason.strip()
        self._store(req, done)

    @rule(days=st.integers(0, 40), hours=st.integers(0, 23))
    def time_passes(self, days: int, hours: int) -> None:
        self.now += timedelta(days=days, hours=hours)

    @invariant()
    def one_open_request_per_person_and_type(self) -> None:
        keys = [(r.user_id, r.type) for r in self.requests.values() if r.is_open]
        assert len(keys) == len(set(keys))

    @invariant()
    def due_dates_never_move_and_overdue_is_open_past_due(self) -> None:
        for r in self.requests.values():
            assert r.due_at == self.first_due[r.id] == r.received_at + RESPONSE_TIME
            assert r.overdue(self.now) == (r.status in OPEN_STATUSES and self.now > r.due_at)
            assert (r.days_left(self.now) < 0) == (self.now > r.due_at)

    @invariant()
    def closed_requests_never_change_and_say_why(self) -> None:
        for rid, snapshot in self.closed.items():
            assert self.requests[rid] == snapshot
            assert snapshot.outcome and snapshot.closed_at is not None and snapshot.handled_by
            assert snapshot.taken_at is not None and snapshot.taken_at <= snapshot.closed_at


TestRequests = Requests.TestCase
TestRequests.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
