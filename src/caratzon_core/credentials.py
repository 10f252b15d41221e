"""API tokens and login attempts.

Tokens are shown to their owner once and stored only as a SHA-256 digest: a
leaked database does not leak usable tokens. (SHA-256, not argon2, is right
here because tokens are 256-bit random values, not guessable passwords.)
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime, timedelta

from attrs import frozen

TOKEN_PREFIX = "czt_"
DEFAULT_TOKEN_TTL = timedelta(days=30)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@frozen
class ApiToken:
    id: str
    user_id: str
    digest: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    label: str = ""

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class ThrottleKey(enum.StrEnum):
    ACCOUNT = "account"  # the normalised email, whether or not an account exists
    ADDRESS = "address"  # the client address


@frozen
class LoginAttempt:
    kind: ThrottleKey
    key: str
    at: datetime
    success: bool
