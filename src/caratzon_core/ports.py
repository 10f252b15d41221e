"""Ports: everything the core needs from the outside world, as ``typing.Protocol``.

Repositories and the unit of work keep state; the clock, id generator, hasher,
password-strength checker and signer keep the core pure and testable. The blob
store, payment gateway, AI service and mailer are declared here now so the shape
of the whole system is visible; later issues fill them in.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import BinaryIO, Protocol, Self

from caratzon_core.accounts import DesignerProfile, User
from caratzon_core.audit import AuditEntry, ChainHead, Checkpoint
from caratzon_core.blobs import SignedLink, StoredBlob
from caratzon_core.credentials import ApiToken, LoginAttempt, ThrottleKey
from caratzon_core.privacy import PolicyAcceptance, PolicyVersion

# -- infrastructure ----------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new unique identifier."""
        ...

    def new_secret(self) -> str:
        """A new unguessable secret (URL-safe, at least 256 bits)."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class PasswordStrength(Protocol):
    def weakness(self, password: str, user_inputs: Sequence[str]) -> str | None:
        """A reason the password is too weak or too common, or ``None``."""
        ...


class Signer(Protocol):
    def sign(self, message: bytes) -> str: ...

    def verify(self, message: bytes, signature: str) -> bool: ...


# -- repositories --------------------------------------------------------------------


class UserRepository(Protocol):
    def add(self, user: User) -> None:
        """Insert; raise :class:`~caratzon_core.errors.Conflict` on a duplicate email."""
        ...

    def get(self, user_id: str) -> User | None: ...

    def get_by_email(self, email: str) -> User | None: ...

    def update(self, user: User) -> None: ...

    def list(self, *, limit: int = 1000, offset: int = 0) -> builtins.list[User]: ...

    def count(self) -> int: ...


class ProfileRepository(Protocol):
    def get(self, user_id: str) -> DesignerProfile | None: ...

    def upsert(self, profile: DesignerProfile) -> None: ...


class TokenRepository(Protocol):
    def add(self, token: ApiToken) -> None: ...

    def get(self, token_id: str) -> ApiToken | None: ...

    def get_by_digest(self, digest: str) -> ApiToken | None: ...

    def update(self, token: ApiToken) -> None: ...

    def revoke_all_for_user(self, user_id: str, at: datetime) -> int: ...


class LoginAttemptRepository(Protocol):
    def add(self, attempt: LoginAttempt) -> None: ...

    def since(self, kind: ThrottleKey, key: str, since: datetime) -> list[LoginAttempt]:
        """Attempts for the key at or after ``since``, oldest first."""
        ...


class PolicyRepository(Protocol):
    def current(self, at: datetime) -> PolicyVersion | None:
        """The version in force at ``at`` (latest effective date not after it)."""
        ...

    def get(self, version: str) -> PolicyVersion | None: ...

    def add_version(self, version: PolicyVersion) -> None: ...

    def record_acceptance(self, acceptance: PolicyAcceptance) -> None: ...

    def acceptances(self, user_id: str) -> list[PolicyAcceptance]: ...


class AuditRepository(Protocol):
    def head_for_update(self) -> ChainHead | None:
        """The chain head, locked until the transaction ends so appends serialise."""
        ...

    def append(self, entry: AuditEntry, head: ChainHead) -> None:
        """Insert the entry and move the head to it."""
        ...

    def entries(self, *, after_seq: int = 0, batch: int = 5000) -> Iterator[AuditEntry]: ...

    def head(self) -> ChainHead | None: ...

    def checkpoint(self) -> Checkpoint | None: ...

    def prune(self, *, through_seq: int, checkpoint: Checkpoint) -> int:
        """Delete entries up to ``through_seq`` and store the checkpoint; return count."""
        ...

    def last_at_or_before(self, at: datetime) -> AuditEntry | None: ...

    def for_subject(self, subject: str, *, limit: int = 100) -> list[AuditEntry]: ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the ``with`` block without :meth:`commit` rolls back."""

    users: UserRepository
    profiles: ProfileRepository
    tokens: TokenRepository
    login_attempts: LoginAttemptRepository
    policies: PolicyRepository
    audit: AuditRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


# -- ports later issues fill in -------------------------------------------------------


class BlobStore(Protocol):
    """Design assets (P22, P27): stored under generated keys, served only through
    signed links that expire."""

    def put(self, key: str, stream: BinaryIO, *, content_type: str, max_bytes: int) -> StoredBlob:
        """Stream ``stream`` into the store, hashing as it goes. Raise
        :class:`~caratzon_core.blobs.BlobTooLarge` past ``max_bytes``. All or nothing:
        on any error no object is left behind under ``key``."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Read a stored blob (raise :class:`~caratzon_core.blobs.BlobMissing`)."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Idempotent: deleting a missing key is not an error."""
        ...

    def signed_url(
        self,
        key: str,
        *,
        expires_in: timedelta,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> SignedLink:
        """A link that works until it expires; ``filename`` sets Content-Disposition."""
        ...


class PaymentGateway(Protocol):
    """Money (P5, P11, P21): charges, transfers to connected accounts, webhooks."""

    def charge(self, *, amount_minor: int, currency: str, idempotency_key: str) -> str: ...

    def transfer(self, *, amount_minor: int, currency: str, destination: str, idempotency_key: str) -> str: ...


class AIService(Protocol):
    """AI (P14, P18, P23): only the five purposes of policy §5; never training."""

    def translate(self, text: str, source: str, target: str) -> str | None:
        """The translation, or ``None`` when none could honestly be made."""
        ...


class Mailer(Protocol):
    def send(self, *, to: str, subject: str, body: str, message_id: str) -> None: ...
