"""Contracts of the issue #6 (part 1) repositories: data-subject requests and
verification codes, against the in-memory fake and the SQL adapter on SQLite and
PostgreSQL. The fake is the reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest

from caratzon_core.accounts import Language, Role, User, UserStatus
from caratzon_core.errors import Conflict, NotFound
from caratzon_core.ports import UnitOfWorkFactory
from caratzon_core.requests import (
    DataRequest,
    Origin,
    RequestStatus,
    RequestType,
    VerificationCode,
    add_note,
    complete,
    merge,
    open_request,
    refuse,
    take,
)

T0 = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)
PLUS_0800 = timezone(timedelta(hours=8))
ANN, BEN, ADMIN = "user-0001", "user-0002", "user-0009"


def make_user(user_id: str, role: Role = Role.BUYER) -> User:
    return User(id=user_id, email=f"{user_id}@example.com", name=f"Person {user_id}", role=role,
                password_hash="fake$salt$hash", language=Language.EN, status=UserStatus.ACTIVE, business_name=None,
                business_address=None, age_confirmed_at=T0, created_at=T0, updated_at=T0)


@pytest.fixture
def uow(uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    with uow_factory() as u:
        for uid, role in ((ANN, Role.BUYER), (BEN, Role.DESIGNER), (ADMIN, Role.ADMIN)):
            u.users.add(make_user(uid, role))
        u.commit()
    return uow_factory


def new(request_id: str, user_id: str = ANN, kind: RequestType = RequestType.ACCESS, *, at: datetime = T0,
        origin: Origin = Origin.SELF, urgent: bool = False) -> DataRequest:
    req, _ = open_request(request_id=request_id, user_id=user_id, type=kind, origin=origin, opened_by=user_id,
                          now=at, details="Everything, please — 全部", urgent=urgent)
    return req


def test_a_request_round_trips_exactly_with_its_notes(uow: UnitOfWorkFactory) -> None:
    req = new("req-0001")
    req, _ = add_note(req, by="platform", now=T0.astimezone(PLUS_0800), text="Queued. 已排队")
    req, _ = merge(req, by=ANN, now=T0 + timedelta(days=1), details="again")
    with uow() as u:
        u.data_requests.add(req)
        u.commit()
    with uow() as u:
        got = u.data_requests.get("req-0001")
        assert u.data_requests.get_for_update("req-0001") == got
    assert got == req
    assert got is not None and got.notes[0].at.tzinfo is not None and got.merged == 1
    assert got.due_at == T0 + timedelta(days=30)


def test_one_open_request_per_person_and_type(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        u.data_requests.add(new("req-0001"))
        u.commit()
    with uow() as u:
        with pytest.raises(Conflict) as caught:
            u.data_requests.add(new("req-0002"))
        assert caught.value.field == "type"
        # The refused insert left the transaction usable: other types and people go in.
        u.data_requests.add(new("req-0003", kind=RequestType.ERASURE))
        u.data_requests.add(new("req-0004", user_id=BEN))
        u.commit()
    with uow() as u:
        assert u.data_requests.get("req-0002") is None
        found = u.data_requests.open_of_type(ANN, RequestType.ACCESS)
        assert found is not None and found.id == "req-0001"
        assert u.data_requests.open_of_type(ANN, RequestType.PORTABILITY) is None
        with pytest.raises(Conflict):
            u.data_requests.add(new("req-0001", kind=RequestType.OBJECTION))  # duplicate id


def test_closing_frees_the_slot_and_closed_ones_stay(uow: UnitOfWorkFactory) -> None:
    first = new("req-0001")
    with uow() as u:
        u.data_requests.add(first)
        u.commit()
    taken, _ = take(first, by=ADMIN, now=T0 + timedelta(hours=1))
    done, _ = refuse(taken, by=ADMIN, now=T0 + timedelta(hours=2), reason="Not our data.")
    with uow() as u:
        u.data_requests.update(done)
        u.commit()
    with uow() as u:
        assert u.data_requests.open_of_type(ANN, RequestType.ACCESS) is None
        u.data_requests.add(new("req-0002", at=T0 + timedelta(days=1)))
        u.commit()
    with uow() as u:
        mine = u.data_requests.list_for_user(ANN)
        assert [r.id for r in mine] == ["req-0002", "req-0001"]  # newest first
        assert mine[1] == done and mine[1].outcome == "Not our data." and mine[1].status is RequestStatus.REFUSED
        assert u.data_requests.list_for_user(BEN) == []


def test_reopening_a_closed_request_into_a_taken_slot_is_refused(uow: UnitOfWorkFactory) -> None:
    """The fake and the database agree even for an update the service never makes."""
    first = new("req-0001")
    taken, _ = take(first, by=ADMIN, now=T0)
    done, _ = complete(taken, by=ADMIN, now=T0)
    with uow() as u:
        u.data_requests.add(done)
        u.data_requests.add(new("req-0002"))
        u.commit()
    with uow() as u, pytest.raises(Conflict):
        u.data_requests.update(first)


def test_update_of_a_missing_request_is_not_found(uow: UnitOfWorkFactory) -> None:
    with uow() as u, pytest.raises(NotFound):
        u.data_requests.update(new("req-0404"))


def test_the_queue_is_urgent_first_then_by_due_date(uow: UnitOfWorkFactory) -> None:
    late = new("req-0001", kind=RequestType.ERASURE, at=T0 - timedelta(days=40))
    soon = new("req-0002", kind=RequestType.ACCESS, at=T0 - timedelta(days=5))
    minor = new("req-0003", user_id=BEN, kind=RequestType.ERASURE, at=T0, origin=Origin.MINOR_REPORT, urgent=True)
    closed, _ = complete(take(new("req-0004", kind=RequestType.PORTABILITY, at=T0 - timedelta(days=50)),
                              by=ADMIN, now=T0)[0], by=ADMIN, now=T0)
    in_progress, _ = take(new("req-0005", user_id=BEN, kind=RequestType.ACCESS, at=T0 - timedelta(days=31)),
                          by=ADMIN, now=T0)
    with uow() as u:
        for r in (late, soon, minor, closed, in_progress):
            u.data_requests.add(r)
        u.commit()
    with uow() as u:
        assert [r.id for r in u.data_requests.queue()] == ["req-0003", "req-0001", "req-0005", "req-0002"]
        assert [r.id for r in u.data_requests.queue(include_closed=True)] == [
            "req-0003", "req-0004", "req-0001", "req-0005", "req-0002"]
        assert [r.id for r in u.data_requests.queue(overdue_at=T0)] == ["req-0001", "req-0005"]
        assert [r.id for r in u.data_requests.queue(overdue_at=T0, include_closed=True)] == ["req-0001", "req-0005"]
        assert [r.id for r in u.data_requests.queue(limit=2)] == ["req-0003", "req-0001"]


def code(code_id: str, at: datetime, purpose: str = "dsr:access", user_id: str = ANN) -> VerificationCode:
    return VerificationCode(id=code_id, user_id=user_id, purpose=purpose, digest="digest-" + code_id,
                            requested_by=ADMIN, created_at=at, expires_at=at + timedelta(minutes=15))


def test_verification_codes_latest_update_and_count(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        u.verification_codes.add(code("code-0001", T0))
        u.verification_codes.add(code("code-0002", T0 + timedelta(minutes=1)))
        u.verification_codes.add(code("code-0003", T0 + timedelta(minutes=2), purpose="dsr:erasure"))
        u.verification_codes.add(code("code-0004", T0 + timedelta(minutes=3), user_id=BEN))
        u.commit()
    with uow() as u:
        latest = u.verification_codes.latest(ANN, "dsr:access")
        assert latest == code("code-0002", T0 + timedelta(minutes=1))
        assert u.verification_codes.latest(ANN, "dsr:objection") is None
        u.verification_codes.update(attrs.evolve(latest, attempts=3, used_at=T0 + timedelta(minutes=4)))
        u.commit()
    with uow() as u:
        stored = u.verification_codes.latest(ANN, "dsr:access")
        assert stored is not None and stored.attempts == 3 and stored.used_at == T0 + timedelta(minutes=4)
        assert u.verification_codes.sent_since(ANN, T0 + timedelta(minutes=1)) == [
            T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
        assert len(u.verification_codes.sent_since(ANN, T0 - timedelta(hours=1))) == 3
        with pytest.raises(NotFound):
            u.verification_codes.update(code("code-0404", T0))
