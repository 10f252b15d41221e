"""What every use case needs, wired once by the composition root."""

from __future__ import annotations

from datetime import timedelta

from attrs import frozen

from caratzon_core.credentials import DEFAULT_TOKEN_TTL
from caratzon_core.ports import (
    Clock,
    IdGenerator,
    PasswordHasher,
    PasswordStrength,
    Signer,
    UnitOfWorkFactory,
)
from caratzon_core.throttle import ACCOUNT_RULE, ADDRESS_RULE, ThrottleRule


@frozen
class Settings:
    token_ttl: timedelta = DEFAULT_TOKEN_TTL
    account_throttle: ThrottleRule = ACCOUNT_RULE
    address_throttle: ThrottleRule = ADDRESS_RULE


@frozen
class Deps:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    hasher: PasswordHasher
    strength: PasswordStrength
    signer: Signer
    settings: Settings = Settings()


@frozen
class Client:
    """Where a request came from; the address is truncated before it is stored."""

    address: str | None = None
    user_agent: str | None = None
