"""In-memory fakes of every port, for unit tests of the core and for library users.

The unit of work copies state on entry and publishes it only on commit, so a use
case that fails half-way leaves nothing behind here either.
"""

from __future__ import annotations

import builtins
import copy
import hashlib
import itertools
import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

import attrs

from caratzon_core.accounts import DesignerProfile, User
from caratzon_core.audit import AuditEntry, ChainHead, Checkpoint
from caratzon_core.credentials import ApiToken, LoginAttempt, ThrottleKey
from caratzon_core.errors import Conflict, NotFound
from caratzon_core.ports import (
    AuditRepository,
    LoginAttemptRepository,
    PolicyRepository,
    ProfileRepository,
    TokenRepository,
    UserRepository,
)
from caratzon_core.privacy import INITIAL_POLICY_VERSION, PolicyAcceptance, PolicyVersion
from caratzon_core.services.deps import Deps, Settings
from caratzon_core.signing import HmacSigner


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, at: datetime) -> None:
        self._now = at


class SequentialIds:
    def __init__(self) -> None:
        self._n = itertools.count(1)

    def new_id(self) -> str:
        return f"id-{next(self._n):06d}"

    def new_secret(self) -> str:
        return secrets.token_urlsafe(32)


class FakeHasher:
    """Fast and salted, never for production: unit tests hash thousands of times."""

    def hash(self, password: str) -> str:
        salt = secrets.token_hex(4)
        return f"fake${salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            _, salt, digest = password_hash.split("$")
        except ValueError:
            return False
        return hashlib.sha256((salt + password).encode()).hexdigest() == digest

    def needs_rehash(self, password_hash: str) -> bool:
        return False


class FakeStrength:
    COMMON = frozenset({"password1234", "123456789012", "qwertyuiopas", "passwordpassword", "iloveyou1234"})

    def weakness(self, password: str, user_inputs: Sequence[str]) -> str | None:
        lowered = password.lower()
        if lowered in self.COMMON:
            return "This password is too common."
        if any(inp and inp.lower() in lowered for inp in user_inputs):
            return "The password must not contain your email or name."
        return None


@attrs.define
class _State:
    users: dict[str, User] = attrs.Factory(dict)
    profiles: dict[str, DesignerProfile] = attrs.Factory(dict)
    tokens: dict[str, ApiToken] = attrs.Factory(dict)
    attempts: list[LoginAttempt] = attrs.Factory(list)
    policies: dict[str, PolicyVersion] = attrs.Factory(dict)
    acceptances: list[PolicyAcceptance] = attrs.Factory(list)
    audit: list[AuditEntry] = attrs.Factory(list)
    head: ChainHead | None = None
    checkpoint: Checkpoint | None = None


class _Users:
    def __init__(self, s: _State) -> None:
        self.s = s

    def add(self, user: User) -> None:
        # Emails are unique case-insensitively and stored in canonical (lower) case.
        user = attrs.evolve(user, email=user.email.lower())
        if any(u.email == user.email for u in self.s.users.values()):
            raise Conflict("An account with this email already exists.", field="email")
        self.s.users[user.id] = user

    def get(self, user_id: str) -> User | None:
        return self.s.users.get(user_id)

    def get_by_email(self, email: str) -> User | None:
        return next((u for u in self.s.users.values() if u.email == email.lower()), None)

    def update(self, user: User) -> None:
        if user.id not in self.s.users:
            raise NotFound("No such account.")
        self.s.users[user.id] = user

    def list(self, *, limit: int = 1000, offset: int = 0) -> builtins.list[User]:
        ordered = sorted(self.s.users.values(), key=lambda u: (u.created_at, u.id))
        return ordered[offset : offset + limit]

    def count(self) -> int:
        return len(self.s.users)


class _Profiles:
    def __init__(self, s: _State) -> None:
        self.s = s

    def get(self, user_id: str) -> DesignerProfile | None:
        return self.s.profiles.get(user_id)

    def upsert(self, profile: DesignerProfile) -> None:
        self.s.profiles[profile.user_id] = profile


class _Tokens:
    def __init__(self, s: _State) -> None:
        self.s = s

    def add(self, token: ApiToken) -> None:
        self.s.tokens[token.id] = token

    def get(self, token_id: str) -> ApiToken | None:
        return self.s.tokens.get(token_id)

    def get_by_digest(self, digest: str) -> ApiToken | None:
        return next((t for t in self.s.tokens.values() if t.digest == digest), None)

    def update(self, token: ApiToken) -> None:
        if token.id not in self.s.tokens:
            raise NotFound("No such token.")
        self.s.tokens[token.id] = token

    def revoke_all_for_user(self, user_id: str, at: datetime) -> int:
        n = 0
        for t in list(self.s.tokens.values()):
            if t.user_id == user_id and t.revoked_at is None:
                self.s.tokens[t.id] = attrs.evolve(t, revoked_at=at)
                n += 1
        return n


class _Attempts:
    def __init__(self, s: _State) -> None:
        self.s = s

    def add(self, attempt: LoginAttempt) -> None:
        self.s.attempts.append(attempt)

    def since(self, kind: ThrottleKey, key: str, since: datetime) -> list[LoginAttempt]:
        return sorted(
            (a for a in self.s.attempts if a.kind == kind and a.key == key and a.at >= since),
            key=lambda a: a.at,
        )


class _Policies:
    def __init__(self, s: _State) -> None:
        self.s = s

    def current(self, at: datetime) -> PolicyVersion | None:
        live = [p for p in self.s.policies.values() if p.effective_date <= at.date()]
        return max(live, key=lambda p: (p.effective_date, p.version), default=None)

    def get(self, version: str) -> PolicyVersion | None:
        return self.s.policies.get(version)

    def add_version(self, version: PolicyVersion) -> None:
        if version.version in self.s.policies:
            raise Conflict(f"Policy version {version.version} exists already.")
        self.s.policies[version.version] = version

    def record_acceptance(self, acceptance: PolicyAcceptance) -> None:
        self.s.acceptances.append(acceptance)

    def acceptances(self, user_id: str) -> list[PolicyAcceptance]:
        return [a for a in self.s.acceptances if a.user_id == user_id]


class _Audit:
    def __init__(self, s: _State) -> None:
        self.s = s

    def head_for_update(self) -> ChainHead | None:
        return self.s.head

    def head(self) -> ChainHead | None:
        return self.s.head

    def append(self, entry: AuditEntry, head: ChainHead) -> None:
        self.s.audit.append(entry)
        self.s.head = head

    def entries(self, *, after_seq: int = 0, batch: int = 5000) -> Iterator[AuditEntry]:
        return iter(sorted((e for e in self.s.audit if e.seq > after_seq), key=lambda e: e.seq))

    def checkpoint(self) -> Checkpoint | None:
        return self.s.checkpoint

    def prune(self, *, through_seq: int, checkpoint: Checkpoint) -> int:
        before = len(self.s.audit)
        self.s.audit = [e for e in self.s.audit if e.seq > through_seq]
        self.s.checkpoint = checkpoint
        return before - len(self.s.audit)

    def last_at_or_before(self, at: datetime) -> AuditEntry | None:
        older = [e for e in self.s.audit if e.at <= at]
        return max(older, key=lambda e: e.seq, default=None)

    def for_subject(self, subject: str, *, limit: int = 100) -> list[AuditEntry]:
        return [e for e in self.s.audit if e.subject == subject][-limit:]


class InMemoryUnitOfWork:
    users: UserRepository
    profiles: ProfileRepository
    tokens: TokenRepository
    login_attempts: LoginAttemptRepository
    policies: PolicyRepository
    audit: AuditRepository

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.committed = False

    def __enter__(self) -> Self:
        self._work = copy.deepcopy(self._store.state)
        self._rebind()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        self._store.state = self._work
        self._work = copy.deepcopy(self._work)
        self._rebind()
        self.committed = True

    def rollback(self) -> None:
        self._work = copy.deepcopy(self._store.state)
        self._rebind()

    def _rebind(self) -> None:
        self.users = _Users(self._work)
        self.profiles = _Profiles(self._work)
        self.tokens = _Tokens(self._work)
        self.login_attempts = _Attempts(self._work)
        self.policies = _Policies(self._work)
        self.audit = _Audit(self._work)


class InMemoryStore:
    """Shared state behind every fake unit of work: the fake 'database'."""

    def __init__(self) -> None:
        self.state = _State()
        self.state.policies[INITIAL_POLICY_VERSION] = PolicyVersion(
            INITIAL_POLICY_VERSION, datetime(2026, 3, 4).date()
        )

    def __call__(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self)


def fake_deps(*, clock: FakeClock | None = None, settings: Settings | None = None) -> tuple[Deps, InMemoryStore]:
    store = InMemoryStore()
    deps = Deps(
        uow=store,
        clock=clock or FakeClock(),
        ids=SequentialIds(),
        hasher=FakeHasher(),
        strength=FakeStrength(),
        signer=HmacSigner(b"k" * 32, purpose="audit"),
        settings=settings or Settings(),
    )
    return deps, store

