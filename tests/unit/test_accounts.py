"""Account use cases with in-memory fakes: P1 (minimal account data), P13, P36
(rectification), P45 (18+ only), P46 (policy acceptance recorded), P17 (throttling)."""

from __future__ import annotations

from datetime import date, timedelta

import attrs
import pytest

from caratzon_core.access import Actor
from caratzon_core.accounts import Role, UserStatus
from caratzon_core.errors import Conflict, Forbidden, NotFound, Throttled, Unauthenticated, ValidationFailed
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.accounts import AccountChanges, AccountService, SignUp, session_stamp
from caratzon_core.services.audit import AuditService, AuditTrail
from caratzon_core.services.deps import Client
from caratzon_core.testing import FakeClock, InMemoryStore, fake_deps

PASSWORD = "Emerald-Cut-Halo-2026"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def world(clock: FakeClock) -> tuple[AccountService, InMemoryStore, AuditService]:
    deps, store = fake_deps(clock=clock)
    return AccountService(deps), store, AuditService(deps)


def signup(**kw: object) -> SignUp:
    base: dict[str, object] = {
        "email": "Ada@Example.COM",
        "password": PASSWORD,
        "name": "Ada Lovelace",
        "role": "designer",
        "date_of_birth": date(1990, 5, 17),
        "business_name": "Lovelace Fine Jewels",
        "accept_policy_version": INITIAL_POLICY_VERSION,
    }
    base.update(kw)
    return SignUp(**base)  # type: ignore[arg-type]


def test_sign_up_stores_only_what_is_needed(world) -> None:
    accounts, store, _ = world
    user = accounts.sign_up(signup(), Client("198.51.100.7"))
    assert user.email == "ada@example.com"
    assert user.role is Role.DESIGNER and user.status is UserStatus.ACTIVE
    # P45 + data minimisation: no date of birth anywhere, only the confirmation time.
    stored = attrs.asdict(store.state.users[user.id])
    assert "date_of_birth" not in stored and date(1990, 5, 17) not in stored.values()
    assert stored["age_confirmed_at"] == user.created_at
    # P46: acceptance of the current policy recorded.
    assert [(a.user_id, a.version) for a in store.state.acceptances] == [(user.id, INITIAL_POLICY_VERSION)]
    # The password is hashed, never stored as given.
    assert PASSWORD not in repr(stored) and PASSWORD not in repr(user)
    # Audited without the password.
    entry = store.state.audit[-1]
    assert entry.action == "account.sign_up" and entry.client_address == "198.51.100.0/24"
    assert PASSWORD not in repr(entry)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "password1234"}, "password"),
        ({"password": "xxAda Lovelacexx"}, "password"),
        ({"accept_policy_version": None}, "accept_policy_version"),
        ({"accept_policy_version": "1999-01-01"}, "accept_policy_version"),
        ({"role": "wizard"}, "role"),
        ({"role": "admin"}, "role"),
        ({"role": "production_manager"}, "role"),
        ({"date_of_birth": None}, "date_of_birth"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "bad\x00name"}, "name"),
        ({"language": "fr"}, "language"),
    ],
)
def test_bad_sign_up_names_the_field_and_writes_nothing(world, changes, field) -> None:
    accounts, store, _ = world
    with pytest.raises(ValidationFailed) as err:
        accounts.sign_up(signup(**changes))
    assert err.value.field == field
    assert store.state.users == {} and store.state.audit == [] and store.state.acceptances == []


def test_under_18_is_refused_and_nothing_is_stored(world, clock) -> None:
    accounts, store, _ = world
    today = clock.now().date()
    almost = date(today.year - 18, today.month, today.day) + timedelta(days=1)
    with pytest.raises(ValidationFailed, match="18 or over") as err:
        accounts.sign_up(signup(date_of_birth=almost))
    assert err.value.field == "date_of_birth"
    assert store.state.users == {} and store.state.audit == []
    exactly = date(today.year - 18, today.month, today.day)
    assert accounts.sign_up(signup(date_of_birth=exactly)).role is Role.DESIGNER


def test_duplicate_email_in_any_case_conflicts(world) -> None:
    accounts, store, _ = world
    accounts.sign_up(signup())
    before = len(store.state.audit)
    with pytest.raises(Conflict):
        accounts.sign_up(signup(email="ADA@example.com", name="Someone Else"))
    assert len(store.state.users) == 1 and len(store.state.audit) == before


def test_login_and_generic_failure_message(world) -> None:
    accounts, store, _ = world
    accounts.sign_up(signup())
    assert accounts.login("ADA@example.com", PASSWORD).email == "ada@example.com"
    with pytest.raises(Unauthenticated) as wrong:
        accounts.login("ada@example.com", "Wrong-password-123")
    with pytest.raises(Unauthenticated) as unknown:
        accounts.login("nobody@example.com", PASSWORD)
    assert wrong.value.message == unknown.value.message == "Email or password is incorrect."
    outcomes = [(e.action, e.outcome) for e in store.state.audit]
    assert ("account.login", "failure") in outcomes and ("account.login", "success") in outcomes


def test_five_failures_lock_the_account_even_for_the_right_password(world, clock) -> None:
    accounts, store, _ = world
    accounts.sign_up(signup())
    for _ in range(4):
        with pytest.raises(Unauthenticated):
            accounts.login("ada@example.com", "Wrong-password-123", Client(f"203.0.113.{_}"))
    with pytest.raises(Throttled) as locked:
        accounts.login("ada@example.com", "Wrong-password-123")
    retry_at = locked.value.retry_at
    assert retry_at == clock.now() + timedelta(minutes=15)
    with pytest.raises(Throttled):
        accounts.login("ada@example.com", PASSWORD)
    assert any(e.action == "account.lock" and e.outcome == "locked" for e in store.state.audit)
    clock.set(retry_at)
    assert accounts.login("ada@example.com", PASSWORD).email == "ada@example.com"


def test_unknown_emails_lock_too_so_locks_do_not_reveal_accounts(world) -> None:
    accounts, _, _ = world
    for _ in range(4):
        with pytest.raises(Unauthenticated):
            accounts.login("ghost@example.com", "Wrong-password-123")
    with pytest.raises(Throttled):
        accounts.login("ghost@example.com", "Wrong-password-123")


def test_an_address_with_many_failures_is_locked_across_accounts(world) -> None:
    accounts, _, _ = world
    accounts.sign_up(signup())
    client = Client("192.0.2.10")
    with pytest.raises(Throttled):
        for i in range(25):
            with pytest.raises(Unauthenticated):
                accounts.login(f"user{i}@example.com", "Wrong-password-123", client)
    with pytest.raises(Throttled):
        accounts.login("ada@example.com", PASSWORD, client)
    assert accounts.login("ada@example.com", PASSWORD, Client("192.0.2.99"))


def test_tokens_expire_and_revoke(world, clock) -> None:
    accounts, store, _ = world
    accounts.sign_up(signup())
    issued = accounts.issue_token("ada@example.com", PASSWORD)
    assert issued.token.startswith("czt_")
    assert issued.token not in repr(store.state.tokens)  # only the digest is stored
    user, record = accounts.authenticate_token(issued.token)
    assert user.email == "ada@example.com"
    accounts.revoke_token(accounts.actor_for(user), record.id)
    with pytest.raises(Unauthenticated):
        accounts.authenticate_token(issued.token)
    second = accounts.issue_token("ada@example.com", PASSWORD)
    clock.advance(timedelta(days=30))
    with pytest.raises(Unauthenticated):
        accounts.authenticate_token(second.token)
    for junk in ("", "czt_", "nope", "czt_" + "a" * 500):
        with pytest.raises(Unauthenticated):
            accounts.authenticate_token(junk)


def test_nobody_revokes_someone_elses_token(world) -> None:
    accounts, _, _ = world
    accounts.sign_up(signup())
    other = accounts.sign_up(signup(email="bob@example.com", name="Bob Buyer", role="buyer"))
    issued = accounts.issue_token("ada@example.com", PASSWORD)
    with pytest.raises(Forbidden):
        accounts.revoke_token(accounts.actor_for(other), issued.record.id)
    with pytest.raises(NotFound):
        accounts.revoke_token(accounts.actor_for(other), "no-such-token")


def test_rectification_changes_only_given_fields_and_is_audited(world, store=None) -> None:
    accounts, store, _ = world
    user = accounts.sign_up(signup())
    actor = accounts.actor_for(user)
    updated = accounts.update_account(actor, user.id, AccountChanges(name="Ada King", language="zh-Hant"))
    assert updated.name == "Ada King" and updated.language.value == "zh-Hant"
    assert updated.business_name == "Lovelace Fine Jewels"
    assert store.state.audit[-1].detail == {"fields": "language,name"}
    with pytest.raises(ValidationFailed):
        accounts.update_account(actor, user.id, AccountChanges(language="klingon"))
    other = accounts.sign_up(signup(email="bob@example.com", name="Bob Buyer", role="buyer"))
    with pytest.raises(Forbidden, match="your own"):
        accounts.update_account(accounts.actor_for(other), user.id, AccountChanges(name="Hacked"))
    assert store.state.users[user.id].name == "Ada King"
    assert store.state.audit[-1].outcome == "denied"


def test_only_designers_have_profiles(world) -> None:
    accounts, _, _ = world
    designer = accounts.sign_up(signup())
    buyer = accounts.sign_up(signup(email="bob@example.com", name="Bob Buyer", role="buyer"))
    profile = accounts.update_profile(accounts.actor_for(designer), designer.id, biography="Goldsmith since 2001")
    assert profile.biography == "Goldsmith since 2001"
    with pytest.raises(Forbidden, match="designers"):
        accounts.update_profile(accounts.actor_for(buyer), buyer.id, biography="x")


def test_closing_disables_login_and_tokens_at_once(world) -> None:
    accounts, _, _ = world
    user = accounts.sign_up(signup())
    issued = accounts.issue_token("ada@example.com", PASSWORD)
    stamp = session_stamp(user)
    closed = accounts.close_account(accounts.actor_for(user), user.id)
    assert closed.status is UserStatus.CLOSED and closed.closed_at is not None
    with pytest.raises(Unauthenticated, match="closed"):
        accounts.login("ada@example.com", PASSWORD)
    with pytest.raises(Unauthenticated):
        accounts.authenticate_token(issued.token)
    assert accounts.user_for_session(user.id, stamp) is None
    # A wrong password on a closed account says nothing about the closure.
    with pytest.raises(Unauthenticated, match="incorrect"):
        accounts.login("ada@example.com", "Wrong-password-123")


def test_password_change_ends_other_sessions_and_tokens(world) -> None:
    accounts, _, _ = world
    user = accounts.sign_up(signup())
    issued = accounts.issue_token("ada@example.com", PASSWORD)
    old_stamp = session_stamp(user)
    actor = accounts.actor_for(user)
    with pytest.raises(ValidationFailed) as err:
        accounts.change_password(actor, "wrong-current-pass", "New-Sapphire-Ring-77")
    assert err.value.field == "current_password"
    updated = accounts.change_password(actor, PASSWORD, "New-Sapphire-Ring-77")
    assert accounts.user_for_session(user.id, old_stamp) is None
    assert accounts.user_for_session(user.id, session_stamp(updated)) is not None
    with pytest.raises(Unauthenticated):
        accounts.authenticate_token(issued.token)
    assert accounts.login("ada@example.com", "New-Sapphire-Ring-77")


def test_operators_create_privileged_accounts_and_others_cannot(world) -> None:
    accounts, _, _ = world
    op = Actor.cli_operator()
    pm = accounts.create_user(op, SignUp(email="pm@example.com", password=PASSWORD, name="Pat Manager",
                                          role="production_manager"))
    assert pm.role is Role.PRODUCTION_MANAGER
    designer = accounts.sign_up(signup())
    with pytest.raises(Forbidden):
        accounts.create_user(accounts.actor_for(designer), SignUp(email="x@example.com", password=PASSWORD,
                                                                   name="X", role="admin"))
    assert [u.email for u in accounts.list_users(op)] == ["pm@example.com", "ada@example.com"]
    with pytest.raises(Forbidden):
        accounts.list_users(accounts.actor_for(designer))


def test_every_step_leaves_a_verifiable_audit_chain(world) -> None:
    accounts, _, audit = world
    user = accounts.sign_up(signup())
    accounts.login("ada@example.com", PASSWORD)
    with pytest.raises(Unauthenticated):
        accounts.login("ada@example.com", "Wrong-password-123")
    accounts.close_account(accounts.actor_for(user), user.id)
    report = audit.verify(Actor.cli_operator())
    assert report.ok and report.entries_checked == 4


def test_a_failure_half_way_leaves_no_partial_rows(world, monkeypatch) -> None:
    accounts, store, _ = world

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(AuditTrail, "record", broken)
    with pytest.raises(RuntimeError):
        accounts.sign_up(signup())
    assert store.state.users == {} and store.state.acceptances == [] and store.state.profiles == {}


def test_every_bad_field_is_reported_at_once(world, clock) -> None:
    accounts, store, _ = world
    with pytest.raises(ValidationFailed) as err:
        accounts.sign_up(signup(email="nope", password="short", role="", date_of_birth=date(2015, 1, 1),
                                accept_policy_version=None))
    assert set(err.value.by_field()) == {"email", "password", "role", "date_of_birth", "accept_policy_version"}
    assert store.state.users == {}
