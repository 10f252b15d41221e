"""One contract per repository port (and the unit of work), run against the
in-memory fake and the SQL adapter on SQLite and PostgreSQL: whatever the unit
tests learn from the fake holds for the real database too."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import attrs
import pytest

from caratzon_core.accounts import DesignerProfile, Language, Role, User, UserStatus
from caratzon_core.audit import AuditRecord, Checkpoint, Outcome, checkpoint_message, verify_chain
from caratzon_core.credentials import ApiToken, LoginAttempt, ThrottleKey
from caratzon_core.errors import Conflict
from caratzon_core.ports import UnitOfWorkFactory
from caratzon_core.privacy import INITIAL_POLICY_VERSION, PolicyAcceptance, PolicyVersion
from caratzon_core.services.audit import AuditTrail
from caratzon_core.signing import HmacSigner
from caratzon_core.testing import FakeClock

T0 = datetime(2026, 11, 27, 9, 0, 0, 123456, tzinfo=UTC)
PLUS_0530 = timezone(timedelta(hours=5, minutes=30))
SIGNER = HmacSigner(b"k" * 32, purpose="audit")


def make_user(n: int, *, email: str | None = None, created: datetime = T0, **changes: object) -> User:
    user = User(
        id=f"user-{n:04d}",
        email=email or f"person{n}@example.com",
        name=f"Person {n}",
        role=Role.BUYER,
        password_hash=f"fake$salt${n:064d}",
        language=Language.EN,
        status=UserStatus.ACTIVE,
        business_name=f"Business {n}",
        business_address=None,
        age_confirmed_at=created,
        created_at=created,
        updated_at=created,
    )
    return attrs.evolve(user, **changes)  # type: ignore[arg-type]


def assert_utc(value: datetime | None) -> None:
    assert value is not None and value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)


# -- unit of work -------------------------------------------------------------------


def test_leaving_without_commit_rolls_back(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.users.add(make_user(1))
        assert uow.users.get("user-0001") is not None  # visible inside its own transaction
    with uow_factory() as uow:
        assert uow.users.get("user-0001") is None
        assert uow.users.count() == 0


def test_an_exception_rolls_back(uow_factory: UnitOfWorkFactory) -> None:
    with pytest.raises(RuntimeError), uow_factory() as uow:
        uow.users.add(make_user(1))
        raise RuntimeError("boom")
    with uow_factory() as uow:
        assert uow.users.count() == 0


def test_commit_then_continue_in_the_same_unit_of_work(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.users.add(make_user(1))
        uow.commit()
        uow.users.add(make_user(2))  # a fresh transaction, never committed
    with uow_factory() as uow:
        assert uow.users.get("user-0001") is not None
        assert uow.users.get("user-0002") is None


def test_explicit_rollback_then_continue(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.users.add(make_user(1))
        uow.rollback()
        assert uow.users.get("user-0001") is None
        uow.users.add(make_user(2))
        uow.commit()
    with uow_factory() as uow:
        assert [u.id for u in uow.users.list()] == ["user-0002"]


# -- users --------------------------------------------------------------------------


def test_user_add_get_and_get_by_email(uow_factory: UnitOfWorkFactory) -> None:
    user = make_user(1, business_address="1 Gold St\nHatton Garden", closed_at=None)
    with uow_factory() as uow:
        uow.users.add(user)
        uow.commit()
    with uow_factory() as uow:
        assert uow.users.get(user.id) == user
        assert uow.users.get_by_email("person1@example.com") == user
        assert uow.users.get_by_email("PERSON1@Example.COM") == user
        assert uow.users.get("nobody") is None
        assert uow.users.get_by_email("nobody@example.com") is None


def test_user_update(uow_factory: UnitOfWorkFactory) -> None:
    user = make_user(1)
    with uow_factory() as uow:
        uow.users.add(user)
        uow.commit()
    later = T0 + timedelta(days=3)
    changed = attrs.evolve(
        user,
        name="New Name",
        language=Language.ZH_HANT,
        status=UserStatus.CLOSED,
        business_name=None,
        password_hash="fake$new$hash",
        updated_at=later,
        closed_at=later,
    )
    with uow_factory() as uow:
        uow.users.update(changed)
        uow.commit()
    with uow_factory() as uow:
        got = uow.users.get(user.id)
        assert got == changed
        assert got is not None and not got.can_log_in


def test_user_list_orders_by_creation_then_id_and_pages(uow_factory: UnitOfWorkFactory) -> None:
    users = [
        make_user(3, created=T0),
        make_user(1, created=T0 + timedelta(seconds=1)),
        make_user(2, created=T0),
        make_user(4, created=T0 - timedelta(days=1)),
    ]
    with uow_factory() as uow:
        for u in users:
            uow.users.add(u)
        uow.commit()
    with uow_factory() as uow:
        assert [u.id for u in uow.users.list()] == ["user-0004", "user-0002", "user-0003", "user-0001"]
        assert [u.id for u in uow.users.list(limit=2, offset=1)] == ["user-0002", "user-0003"]
        assert uow.users.list(offset=10) == []
        assert uow.users.count() == 4


def test_duplicate_email_is_a_conflict_and_the_unit_of_work_stays_usable(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        uow.users.add(make_user(1, email="ann@example.com"))
        uow.commit()
    with uow_factory() as uow:
        with pytest.raises(Conflict) as caught:
            uow.users.add(make_user(2, email="ann@example.com"))
        assert caught.value.field == "email"
        assert caught.value.message == "An account with this email already exists."
        assert uow.users.get("user-0002") is None
        uow.users.add(make_user(3))  # the transaction is still usable
        uow.commit()
    with uow_factory() as uow:
        assert sorted(u.id for u in uow.users.list()) == ["user-0001", "user-0003"]
        assert uow.users.count() == 2


def test_duplicate_email_in_another_case_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.users.add(make_user(1, email="Ann@Example.com"))
        uow.commit()
    with uow_factory() as uow:
        assert uow.users.get_by_email("ann@example.com") is not None  # stored in canonical case
        with pytest.raises(Conflict):
            uow.users.add(make_user(2, email="ANN@EXAMPLE.COM"))
        uow.commit()
    with uow_factory() as uow:
        assert uow.users.count() == 1


def test_user_times_round_trip_aware_and_exact(uow_factory: UnitOfWorkFactory, repository_backend: str) -> None:
    local = datetime(2026, 11, 27, 14, 30, 0, 999999, tzinfo=PLUS_0530)  # 09:00:00.999999 UTC
    user = make_user(1, created=local, closed_at=local + timedelta(microseconds=1))
    with uow_factory() as uow:
        uow.users.add(user)
        uow.commit()
    with uow_factory() as uow:
        got = uow.users.get(user.id)
    assert got is not None
    assert got.created_at == local and got.closed_at == local + timedelta(microseconds=1)
    for value in (got.created_at, got.updated_at, got.age_confirmed_at, got.closed_at):
        assert value is not None and value.tzinfo is not None
    if repository_backend != "memory":  # the database hands every time back in UTC
        for value in (got.created_at, got.updated_at, got.age_confirmed_at, got.closed_at):
            assert_utc(value)
        assert got.created_at.hour == 9 and got.created_at.microsecond == 999999


# -- designer profiles ----------------------------------------------------------------


def test_profile_upsert_inserts_then_replaces(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.users.add(make_user(1, role=Role.DESIGNER))
        assert uow.profiles.get("user-0001") is None
        uow.profiles.upsert(DesignerProfile(user_id="user-0001", updated_at=T0))
        uow.commit()
    fuller = DesignerProfile(
        user_id="user-0001",
        biography="Goldsmith since 2004.\n珠宝设计",
        brand_description="Rings",
        credentials="GIA GG",
        updated_at=T0 + timedelta(hours=1),
    )
    with uow_factory() as uow:
        assert uow.profiles.get("user-0001") == DesignerProfile(user_id="user-0001", updated_at=T0)
        uow.profiles.upsert(fuller)
        uow.commit()
    with uow_factory() as uow:
        got = uow.profiles.get("user-0001")
        assert got == fuller
        assert got is not None
        assert_utc(got.updated_at)


# -- API tokens -----------------------------------------------------------------------


def make_token(n: int, user_id: str, **changes: object) -> ApiToken:
    token = ApiToken(
        id=f"tok-{n}",
        user_id=user_id,
        digest=f"{n:064x}",
        created_at=T0,
        expires_at=T0 + timedelta(days=30),
        label=f"laptop {n}",
    )
    return attrs.evolve(token, **changes)  # type: ignore[arg-type]


def test_token_add_get_update(uow_factory: UnitOfWorkFactory) -> None:
    token = make_token(1, "user-0001")
    with uow_factory() as uow:
        uow.users.add(make_user(1))
        uow.tokens.add(token)
        uow.commit()
    with uow_factory() as uow:
        assert uow.tokens.get("tok-1") == token
        assert uow.tokens.get_by_digest(token.digest) == token
        assert uow.tokens.get("tok-2") is None
        assert uow.tokens.get_by_digest("f" * 64) is None
        revoked = attrs.evolve(token, revoked_at=T0 + timedelta(minutes=5))
        uow.tokens.update(revoked)
        uow.commit()
    with uow_factory() as uow:
        got = uow.tokens.get("tok-1")
        assert got == revoked
        assert got is not None and not got.usable_at(T0 + timedelta(minutes=6))


def test_revoke_all_for_user_touches_only_that_users_live_tokens(uow_factory: UnitOfWorkFactory) -> None:
    earlier = T0 - timedelta(days=1)
    with uow_factory() as uow:
        uow.users.add(make_user(1))
        uow.users.add(make_user(2))
        uow.tokens.add(make_token(1, "user-0001"))
        uow.tokens.add(make_token(2, "user-0001"))
        uow.tokens.add(make_token(3, "user-0001", revoked_at=earlier))
        uow.tokens.add(make_token(4, "user-0002"))
        uow.commit()
    at = T0 + timedelta(hours=2)
    with uow_factory() as uow:
        assert uow.tokens.revoke_all_for_user("user-0001", at) == 2
        uow.commit()
    with uow_factory() as uow:
        revoked_at = {t: getattr(uow.tokens.get(t), "revoked_at", None) for t in ("tok-1", "tok-2", "tok-3", "tok-4")}
        assert revoked_at == {"tok-1": at, "tok-2": at, "tok-3": earlier, "tok-4": None}
        assert uow.tokens.revoke_all_for_user("user-0001", at) == 0
        assert uow.tokens.revoke_all_for_user("nobody", at) == 0


# -- login attempts -------------------------------------------------------------------


def test_login_attempts_since_filters_by_kind_key_and_time_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    key = "ann@example.com"
    mine = [
        LoginAttempt(ThrottleKey.ACCOUNT, key, T0 + timedelta(minutes=3), False),
        LoginAttempt(ThrottleKey.ACCOUNT, key, T0, False),  # exactly at `since`: included
        LoginAttempt(ThrottleKey.ACCOUNT, key, T0 + timedelta(minutes=1), True),
    ]
    noise = [
        LoginAttempt(ThrottleKey.ACCOUNT, key, T0 - timedelta(microseconds=1), False),
        LoginAttempt(ThrottleKey.ACCOUNT, "bob@example.com", T0 + timedelta(minutes=2), False),
        LoginAttempt(ThrottleKey.ADDRESS, key, T0 + timedelta(minutes=2), False),
    ]
    with uow_factory() as uow:
        for attempt in [*mine, *noise]:
            uow.login_attempts.add(attempt)
        uow.commit()
    with uow_factory() as uow:
        got = uow.login_attempts.since(ThrottleKey.ACCOUNT, key, T0)
        assert got == sorted(mine, key=lambda a: a.at)
        assert [a.success for a in got] == [False, True, False]
        # the same instant given in another zone selects the same attempts
        assert uow.login_attempts.since(ThrottleKey.ACCOUNT, key, T0.astimezone(PLUS_0530)) == got
        assert uow.login_attempts.since(ThrottleKey.ADDRESS, "10.0.0.0/24", T0) == []


# -- privacy policies -----------------------------------------------------------------


def test_initial_policy_is_seeded_and_in_force_from_its_date(uow_factory: UnitOfWorkFactory) -> None:
    initial = PolicyVersion(INITIAL_POLICY_VERSION, date(2026, 3, 4), False)
    with uow_factory() as uow:
        assert uow.policies.get(INITIAL_POLICY_VERSION) == initial
        assert uow.policies.current(datetime(2026, 3, 3, 23, 59, 59, tzinfo=UTC)) is None
        assert uow.policies.current(datetime(2026, 3, 4, 0, 0, tzinfo=UTC)) == initial
        assert uow.policies.current(T0) == initial
        assert uow.policies.get("1999-01-01") is None


def test_policy_versions_current_at_date_and_duplicates(uow_factory: UnitOfWorkFactory) -> None:
    newer = PolicyVersion("2027-01-01", date(2027, 1, 1), material=True)
    with uow_factory() as uow:
        uow.policies.add_version(newer)
        uow.commit()
    with uow_factory() as uow:
        assert uow.policies.current(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)).version == INITIAL_POLICY_VERSION  # type: ignore[union-attr]
        assert uow.policies.current(datetime(2027, 1, 1, tzinfo=UTC)) == newer
        assert uow.policies.get("2027-01-01") == newer
        with pytest.raises(Conflict):
            uow.policies.add_version(PolicyVersion("2027-01-01", date(2027, 2, 1)))
        uow.policies.add_version(PolicyVersion("2027-06-01", date(2027, 6, 1)))  # still usable
        uow.commit()
    with uow_factory() as uow:
        assert uow.policies.get("2027-01-01") == newer
        assert uow.policies.current(datetime(2027, 7, 1, tzinfo=UTC)).version == "2027-06-01"  # type: ignore[union-attr]


def test_policy_acceptances_per_user(uow_factory: UnitOfWorkFactory) -> None:
    newer = PolicyVersion("2027-01-01", date(2027, 1, 1), material=True)
    first = PolicyAcceptance("user-0001", INITIAL_POLICY_VERSION, T0)
    second = PolicyAcceptance("user-0001", "2027-01-01", T0 + timedelta(days=40))
    other = PolicyAcceptance("user-0002", INITIAL_POLICY_VERSION, T0)
    with uow_factory() as uow:
        uow.users.add(make_user(1))
        uow.users.add(make_user(2))
        uow.policies.add_version(newer)
        for acceptance in (first, other, second):
            uow.policies.record_acceptance(acceptance)
        uow.commit()
    with uow_factory() as uow:
        assert uow.policies.acceptances("user-0001") == [first, second]
        assert uow.policies.acceptances("user-0002") == [other]
        assert uow.policies.acceptances("nobody") == []


# -- audit trail ----------------------------------------------------------------------


def append_records(uow_factory: UnitOfWorkFactory, clock: FakeClock, n: int, *, start: int = 1) -> None:
    trail = AuditTrail(clock, SIGNER)
    with uow_factory() as uow:
        for i in range(start, start + n):
            trail.record(
                uow,
                AuditRecord(
                    actor=f"user-{i % 2}",
                    action="account.login",
                    subject=f"user:{i % 3}",
                    outcome=Outcome.SUCCESS if i % 2 else Outcome.FAILURE,
                    client_address="203.0.113.77" if i % 2 else "2001:db8:1234:5678::1",
                    detail={"reason": f"try {i}", "note": "ünïcødé ✓ 设计"} if i % 2 else {},
                ),
            )
            clock.advance(timedelta(minutes=1, microseconds=7))
        uow.commit()


def test_empty_audit_trail(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.audit.head() is None
        assert uow.audit.head_for_update() is None
        assert uow.audit.checkpoint() is None
        assert list(uow.audit.entries()) == []
        assert uow.audit.last_at_or_before(T0) is None
        assert uow.audit.for_subject("user:1") == []


def test_audit_append_and_read_back(uow_factory: UnitOfWorkFactory) -> None:
    clock = FakeClock(T0)
    append_records(uow_factory, clock, 7)
    with uow_factory() as uow:
        entries = list(uow.audit.entries())
        head = uow.audit.head()
        assert head is not None and head == uow.audit.head_for_update()
        assert [e.seq for e in entries] == list(range(1, 8))
        assert (head.seq, head.hash) == (7, entries[-1].hash)
        for e in entries:
            assert_utc(e.at)
        assert entries[0].detail == {"reason": "try 1", "note": "ünïcødé ✓ 设计"}
        assert entries[0].client_address == "203.0.113.0/24"
        assert entries[1].detail == {} and entries[1].client_address == "2001:db8:1234::/48"
        # Stored values hash back to the stored hashes: times, JSON and text round-trip exactly.
        report = verify_chain(entries, head=head, checkpoint=None, verify_signature=SIGNER.verify)
        assert report.ok, report
        # keyset batches give the same stream
        assert list(uow.audit.entries(batch=2)) == entries
        assert list(uow.audit.entries(after_seq=4, batch=2)) == entries[4:]
        assert list(uow.audit.entries(after_seq=7)) == []
        # for_subject: the newest `limit`, oldest first
        subject_1 = [e for e in entries if e.subject == "user:1"]
        assert uow.audit.for_subject("user:1") == subject_1
        assert uow.audit.for_subject("user:1", limit=1) == subject_1[-1:]
        # last_at_or_before
        assert uow.audit.last_at_or_before(entries[3].at) == entries[3]
        assert uow.audit.last_at_or_before(entries[3].at + timedelta(seconds=30)) == entries[3]
        assert uow.audit.last_at_or_before(entries[3].at.astimezone(PLUS_0530)) == entries[3]
        assert uow.audit.last_at_or_before(entries[0].at - timedelta(microseconds=1)) is None


def test_audit_append_rolls_back_with_its_unit_of_work(uow_factory: UnitOfWorkFactory) -> None:
    clock = FakeClock(T0)
    append_records(uow_factory, clock, 2)
    trail = AuditTrail(clock, SIGNER)
    with uow_factory() as uow:
        trail.record(uow, AuditRecord("a", "x.y", "s", Outcome.SUCCESS))
        assert uow.audit.head().seq == 3  # type: ignore[union-attr]
    with uow_factory() as uow:
        assert uow.audit.head().seq == 2  # type: ignore[union-attr]
        assert [e.seq for e in uow.audit.entries()] == [1, 2]


def test_audit_prune_stores_and_replaces_the_checkpoint(uow_factory: UnitOfWorkFactory) -> None:
    clock = FakeClock(T0)
    append_records(uow_factory, clock, 6)
    with uow_factory() as uow:
        entries = list(uow.audit.entries())
        third = entries[2]
        first_cp = Checkpoint(3, third.hash, T0 + timedelta(days=1),
                              SIGNER.sign(checkpoint_message(3, third.hash)))
        assert uow.audit.prune(through_seq=3, checkpoint=first_cp) == 3
        uow.commit()
    with uow_factory() as uow:
        assert uow.audit.checkpoint() == first_cp
        assert_utc(uow.audit.checkpoint().pruned_at)  # type: ignore[union-attr]
        rest = list(uow.audit.entries(after_seq=3))
        assert [e.seq for e in rest] == [4, 5, 6]
        assert list(uow.audit.entries()) == rest
        report = verify_chain(rest, head=uow.audit.head(), checkpoint=first_cp, verify_signature=SIGNER.verify)
        assert report.ok and report.entries_checked == 3
        fourth = rest[0]
        second_cp = Checkpoint(4, fourth.hash, T0 + timedelta(days=2),
                               SIGNER.sign(checkpoint_message(4, fourth.hash)))
        assert uow.audit.prune(through_seq=4, checkpoint=second_cp) == 1
        uow.commit()
    with uow_factory() as uow:
        assert uow.audit.checkpoint() == second_cp
        assert [e.seq for e in uow.audit.entries()] == [5, 6]
        assert uow.audit.last_at_or_before(entries[3].at) is None  # pruned
    append_records(uow_factory, clock, 1)  # the chain goes on after pruning
    with uow_factory() as uow:
        assert [e.seq for e in uow.audit.entries()] == [5, 6, 7]


def test_policy_versions_keep_text_and_publisher_and_list_in_order(uow_factory: UnitOfWorkFactory) -> None:
    """Issue #6 part 5 (migration 0005): the full text of a version, when and by whom
    it was published; ``versions()`` oldest first by effective date."""
    published_at = T0.astimezone(PLUS_0530)  # stored and read back as UTC
    text = "Privacy Policy\n\n13. Changes — 变更 — 變更\n" + "x" * 70_000 + "\n"
    later = PolicyVersion("2027-06-01", date(2027, 6, 1), True, text, published_at, "operator:cli")
    earlier = PolicyVersion("v2", date(2027, 1, 1), False, "Short.\n", T0 + timedelta(seconds=1), "user-0001")
    with uow_factory() as uow:
        uow.policies.add_version(later)
        uow.policies.add_version(earlier)
        uow.commit()
    with uow_factory() as uow:
        got = uow.policies.get("2027-06-01")
        assert got == later
        assert got is not None and got.text == text and got.published_by == "operator:cli"
        assert_utc(got.published_at)
        assert got.published_at == T0
        assert [v.version for v in uow.policies.versions()] == [INITIAL_POLICY_VERSION, "v2", "2027-06-01"]
        initial = uow.policies.versions()[0]
        assert (initial.text, initial.published_at, initial.published_by) == (None, None, None)
        assert uow.policies.current(datetime(2027, 6, 1, tzinfo=UTC)) == later
