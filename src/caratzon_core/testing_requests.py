"""In-memory fakes of the data-subject request and verification code repositories
(issue #6, part 1). The fake unit of work in :mod:`caratzon_core.testing` binds
them to its state; they keep the same rules as the SQL adapter (one open request
per person and type, newest-first and queue orders)."""

from __future__ import annotations

import builtins
from datetime import datetime

import attrs

from caratzon_core.errors import Conflict, NotFound
from caratzon_core.requests import DataRequest, RequestType, VerificationCode

DUPLICATE_OPEN = "This person already has an open request of this type."


@attrs.define
class RequestState:
    requests: dict[str, DataRequest] = attrs.Factory(dict)
    codes: dict[str, VerificationCode] = attrs.Factory(dict)


def queue_key(r: DataRequest) -> tuple[bool, datetime, str]:
    """Urgent first, then the earliest due, then id (the SQL ORDER BY)."""
    return (not r.urgent, r.due_at, r.id)


class DataRequests:
    def __init__(self, s: RequestState) -> None:
        self.s = s

    def add(self, request: DataRequest) -> None:
        if request.id in self.s.requests:
            raise Conflict("Duplicate request id.")
        if request.is_open and self.open_of_type(request.user_id, request.type) is not None:
            raise Conflict(DUPLICATE_OPEN, field="type")
        self.s.requests[request.id] = request

    def get(self, request_id: str) -> DataRequest | None:
        return self.s.requests.get(request_id)

    def get_for_update(self, request_id: str) -> DataRequest | None:
        return self.get(request_id)

    def update(self, request: DataRequest) -> None:
        if request.id not in self.s.requests:
            raise NotFound("No such request.")
        other = self.open_of_type(request.user_id, request.type)
        if request.is_open and other is not None and other.id != request.id:
            raise Conflict(DUPLICATE_OPEN, field="type")
        self.s.requests[request.id] = request

    def open_of_type(self, user_id: str, kind: RequestType) -> DataRequest | None:
        return next((r for r in self.s.requests.values()
                     if r.user_id == user_id and r.type is kind and r.is_open), None)

    def list_for_user(self, user_id: str, *, limit: int = 200) -> builtins.list[DataRequest]:
        mine = [r for r in self.s.requests.values() if r.user_id == user_id]
        return sorted(mine, key=lambda r: (r.received_at, r.id), reverse=True)[:limit]

    def queue(self, *, include_closed: bool = False, overdue_at: datetime | None = None,
              limit: int = 1000) -> builtins.list[DataRequest]:
        found = [r for r in self.s.requests.values()
                 if (include_closed or r.is_open) and (overdue_at is None or (r.is_open and r.due_at < overdue_at))]
        return sorted(found, key=queue_key)[:limit]


class VerificationCodes:
    def __init__(self, s: RequestState) -> None:
        self.s = s

    def add(self, code: VerificationCode) -> None:
        if code.id in self.s.codes:
            raise Conflict("Duplicate code id.")
        self.s.codes[code.id] = code

    def latest(self, user_id: str, purpose: str) -> VerificationCode | None:
        mine = [c for c in self.s.codes.values() if c.user_id == user_id and c.purpose == purpose]
        return max(mine, key=lambda c: (c.created_at, c.id), default=None)

    def update(self, code: VerificationCode) -> None:
        if code.id not in self.s.codes:
            raise NotFound("No such code.")
        self.s.codes[code.id] = code

    def sent_since(self, user_id: str, since: datetime) -> builtins.list[datetime]:
        return sorted(c.created_at for c in self.s.codes.values() if c.user_id == user_id and c.created_at >= since)
