"""Password hashing (argon2id via argon2-cffi) and strength checks (zxcvbn, whose
bundled frequency lists include the 30,000 most common leaked passwords)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import argon2
from zxcvbn import zxcvbn

MIN_ZXCVBN_SCORE = 3  # "safely unguessable: moderate protection from offline slow-hash scenario"


class Argon2Hasher:
    def __init__(self, *, fast: bool = False) -> None:
        # "fast" exists so test suites do not spend 110 ms per hash; it is never the default.
        self._ph = (
            argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
            if fast
            else argon2.PasswordHasher()
        )

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._ph.verify(password_hash, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._ph.check_needs_rehash(password_hash)
        except argon2.exceptions.InvalidHashError:
            return True


class ZxcvbnStrength:
    def weakness(self, password: str, user_inputs: Sequence[str]) -> str | None:
        # zxcvbn is quadratic-ish in length; the first 100 characters decide.
        result = zxcvbn(password[:100], user_inputs=[i for i in user_inputs if i][:10])
        if result["score"] >= MIN_ZXCVBN_SCORE:
            return None
        feedback = result.get("feedback") or {}
        warning = (feedback.get("warning") or "").strip()
        suggestion = " ".join(s.strip() for s in feedback.get("suggestions") or [])
        reason = warning or "This password is too common or too easy to guess."
        if reason and not reason.endswith("."):
            reason += "."
        return f"{reason} {suggestion}".strip()


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class RandomIds:
    def new_id(self) -> str:
        return str(uuid.uuid4())

    def new_secret(self) -> str:
        return secrets.token_urlsafe(32)
