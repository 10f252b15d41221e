"""A stateful model of accounts: sign-ups, logins (right and wrong), closing,
time passing. Invariants: a closed account never logs in; a locked key never
logs in, even with the right password; the audit chain always verifies; the
store holds exactly the accounts signed up (P13, P17, P45)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from caratzon_core.access import Actor
from caratzon_core.errors import Conflict, Forbidden, Throttled, Unauthenticated
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.accounts import AccountService, SignUp
from caratzon_core.services.audit import AuditService
from caratzon_core.testing import FakeClock, fake_deps

PASSWORD = "Emerald-Cut-Halo-2026"
EMAILS = ["ada@example.com", "bob@example.com", "cy@example.com"]


class Accounts(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        deps, self.store = fake_deps(clock=self.clock)
        self.accounts = AccountService(deps)
        self.audit = AuditService(deps)
        self.signed_up: dict[str, str] = {}  # email -> user id
        self.closed: set[str] = set()
        self.locked_until: dict[str, object] = {}

    @rule(
        email=st.sampled_from(EMAILS),
        upper=st.booleans(),
        role=st.sampled_from(["designer", "buyer", "manufacturer"]),
    )
    def sign_up(self, email: str, upper: bool, role: str) -> None:
        cmd = SignUp(email=email.upper() if upper else email, password=PASSWORD, name="Some Person",
                     role=role, date_of_birth=date(1980, 1, 1), accept_policy_version=INITIAL_POLICY_VERSION)
        try:
            user = self.accounts.sign_up(cmd)
        except Conflict:
            assert email in self.signed_up
            return
        assert email not in self.signed_up
        self.signed_up[email] = user.id

    @rule(email=st.sampled_from(EMAILS), right=st.booleans())
    def login(self, email: str, right: bool) -> None:
        try:
            user = self.accounts.login(email, PASSWORD if right else "Wrong-password-123")
        except Throttled as locked:
            assert locked.retry_at > self.clock.now()
            self.locked_until[email] = locked.retry_at
            return
        except Unauthenticated:
            assert not right or email not in self.signed_up or email in self.closed
            return
        assert right and email in self.signed_up and email not in self.closed
        lock = self.locked_until.get(email)
        assert lock is None or lock <= self.clock.now(), "logged in while locked"  # type: ignore[operator]
        assert user.id == self.signed_up[email]

    @precondition(lambda self: bool(set(self.signed_up) - self.closed))
    @rule(data=st.data())
    def close(self, data: st.DataObject) -> None:
        email = data.draw(st.sampled_from(sorted(set(self.signed_up) - self.closed)))
        user = self.store.state.users[self.signed_up[email]]
        self.accounts.close_account(self.accounts.actor_for(user), user.id)
        self.closed.add(email)

    @precondition(lambda self: bool(self.closed))
    @rule(data=st.data())
    def closed_accounts_can_do_nothing(self, data: st.DataObject) -> None:
        email = data.draw(st.sampled_from(sorted(self.closed)))
        user = self.store.state.users[self.signed_up[email]]
        try:
            self.accounts.close_account(self.accounts.actor_for(user), user.id)
        except Forbidden as denied:
            assert "closed" in denied.message
        else:
            raise AssertionError("a closed account acted")

    @rule(minutes=st.integers(min_value=1, max_value=120))
    def wait(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    @invariant()
    def store_matches_model(self) -> None:
        assert {u.email for u in self.store.state.users.values()} == set(self.signed_up)
        assert {u.email for u in self.store.state.users.values() if u.closed_at} == self.closed

    @invariant()
    def audit_chain_verifies(self) -> None:
        assert self.audit.verify(Actor.cli_operator()).ok


TestAccounts = Accounts.TestCase
TestAccounts.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
