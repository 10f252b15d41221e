"""The data-subject request and verification code ports (issue #6, part 1) on one
SQLAlchemy ``Connection``, with their row mapping.

As in :mod:`.repositories`, nothing here commits, and an insert that may violate
a constraint runs inside a SAVEPOINT so a refused write leaves the surrounding
transaction usable. UNIQUE(user_id, open_type) is the guard against a second open
request of one type (see :mod:`.tables`); ``get_for_update`` locks the row on
PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` already serialises writers).
"""

from __future__ import annotations

import builtins
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from caratzon_adapters.sql.mapping import utc, utc_or_none
from caratzon_adapters.sql.tables import data_requests, verification_codes
from caratzon_core.errors import Conflict, NotFound
from caratzon_core.requests import (
    OPEN_STATUSES,
    DataRequest,
    Note,
    Origin,
    RequestStatus,
    RequestType,
    VerificationCode,
)

DUPLICATE_OPEN = "This person already has an open request of this type."
_OPEN_VALUES = sorted(s.value for s in OPEN_STATUSES)


# -- mapping ------------------------------------------------------------------------------


def notes_to_text(notes: tuple[Note, ...]) -> str:
    return json.dumps([{"at": n.at.isoformat(), "by": n.by, "text": n.text} for n in notes], ensure_ascii=False,
                      separators=(",", ":"))


def notes_from_text(text: str) -> tuple[Note, ...]:
    return tuple(Note(utc(datetime.fromisoformat(n["at"])), str(n["by"]), str(n["text"])) for n in json.loads(text))


def request_to_row(req: DataRequest) -> dict[str, Any]:
    return {
        "id": req.id,
        "user_id": req.user_id,
        "request_type": req.type.value,
        "status": req.status.value,
        "origin": req.origin.value,
        "opened_by": req.opened_by,
        "received_at": req.received_at,
        "due_at": req.due_at,
        "details": req.details,
        "notes_json": notes_to_text(req.notes),
        "merged": req.merged,
        "urgent": req.urgent,
        "handled_by": req.handled_by,
        "taken_at": req.taken_at,
        "closed_at": req.closed_at,
        "outcome": req.outcome,
        "open_type": req.type.value if req.is_open else None,
    }


def request_from_row(row: RowMapping) -> DataRequest:
    return DataRequest(
        id=row["id"],
        user_id=row["user_id"],
        type=RequestType(row["request_type"]),
        status=RequestStatus(row["status"]),
        origin=Origin(row["origin"]),
        opened_by=row["opened_by"],
        received_at=utc(row["received_at"]),
        due_at=utc(row["due_at"]),
        details=row["details"],
        notes=notes_from_text(row["notes_json"]),
        merged=int(row["merged"]),
        urgent=bool(row["urgent"]),
        handled_by=row["handled_by"],
        taken_at=utc_or_none(row["taken_at"]),
        closed_at=utc_or_none(row["closed_at"]),
        outcome=row["outcome"],
    )


def code_to_row(code: VerificationCode) -> dict[str, Any]:
    return {
        "id": code.id,
        "user_id": code.user_id,
        "purpose": code.purpose,
        "digest": code.digest,
        "requested_by": code.requested_by,
        "created_at": code.created_at,
        "expires_at": code.expires_at,
        "attempts": code.attempts,
        "used_at": code.used_at,
    }


def code_from_row(row: RowMapping) -> VerificationCode:
    return VerificationCode(
        id=row["id"],
        user_id=row["user_id"],
        purpose=row["purpose"],
        digest=row["digest"],
        requested_by=row["requested_by"],
        created_at=utc(row["created_at"]),
        expires_at=utc(row["expires_at"]),
        attempts=int(row["attempts"]),
        used_at=utc_or_none(row["used_at"]),
    )


# -- repositories -----------------------------------------------------------------------------


class SqlDataRequestRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, request: DataRequest) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(data_requests).values(request_to_row(request)))
        except IntegrityError:
            if self.get(request.id) is not None:
                raise Conflict("Duplicate request id.") from None
            r = data_requests
            taken = select(r.c.id).where(r.c.user_id == request.user_id, r.c.open_type == request.type.value)
            if request.is_open and self._conn.execute(taken).first() is not None:  # no lock: only a look
                raise Conflict(DUPLICATE_OPEN, field="type") from None
            raise

    def get(self, request_id: str) -> DataRequest | None:
        return self._get(request_id, lock=False)

    def get_for_update(self, request_id: str) -> DataRequest | None:
        return self._get(request_id, lock=True)

    def _get(self, request_id: str, *, lock: bool) -> DataRequest | None:
        stmt = select(data_requests).where(data_requests.c.id == request_id)
        if lock:
            stmt = stmt.with_for_update(key_share=True)  # PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else request_from_row(row)

    def update(self, request: DataRequest) -> None:
        values = {k: v for k, v in request_to_row(request).items() if k != "id"}
        try:
            with self._conn.begin_nested():
                done = self._conn.execute(update(data_requests).where(data_requests.c.id == request.id)
                                          .values(values)).rowcount
        except IntegrityError:
            raise Conflict(DUPLICATE_OPEN, field="type") from None
        if done != 1:
            raise NotFound("No such request.")

    def open_of_type(self, user_id: str, kind: RequestType) -> DataRequest | None:
        r = data_requests
        # Locked (PostgreSQL): two merges into one request serialise, neither is lost.
        stmt = select(r).where(r.c.user_id == user_id, r.c.open_type == kind.value).with_for_update(key_share=True)
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else request_from_row(row)

    def list_for_user(self, user_id: str, *, limit: int = 200) -> builtins.list[DataRequest]:
        r = data_requests
        stmt = select(r).where(r.c.user_id == user_id).order_by(r.c.received_at.desc(), r.c.id.desc()).limit(limit)
        return [request_from_row(row) for row in self._conn.execute(stmt).mappings()]

    def queue(self, *, include_closed: bool = False, overdue_at: datetime | None = None,
              limit: int = 1000) -> builtins.list[DataRequest]:
        r = data_requests
        stmt = select(r)
        if not include_closed or overdue_at is not None:
            stmt = stmt.where(r.c.status.in_(_OPEN_VALUES))
        if overdue_at is not None:
            stmt = stmt.where(r.c.due_at < overdue_at)
        stmt = stmt.order_by(r.c.urgent.desc(), r.c.due_at, r.c.id).limit(limit)
        return [request_from_row(row) for row in self._conn.execute(stmt).mappings()]


class SqlVerificationCodeRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, code: VerificationCode) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(verification_codes).values(code_to_row(code)))
        except IntegrityError:
            raise Conflict("Duplicate code id.") from None

    def latest(self, user_id: str, purpose: str) -> VerificationCode | None:
        v = verification_codes
        stmt = (select(v).where(and_(v.c.user_id == user_id, v.c.purpose == purpose))
                .order_by(v.c.created_at.desc(), v.c.id.desc()).limit(1))
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else code_from_row(row)

    def update(self, code: VerificationCode) -> None:
        values = {k: v for k, v in code_to_row(code).items() if k != "id"}
        done = self._conn.execute(update(verification_codes).where(verification_codes.c.id == code.id)
                                  .values(values)).rowcount
        if done != 1:
            raise NotFound("No such code.")

    def sent_since(self, user_id: str, since: datetime) -> builtins.list[datetime]:
        v = verification_codes
        stmt = select(v.c.created_at).where(v.c.user_id == user_id, v.c.created_at >= since).order_by(v.c.created_at)
        return [utc(at) for at in self._conn.execute(stmt).scalars()]
