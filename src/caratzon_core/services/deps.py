"""What every use case needs, wired once by the composition root."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from attrs import frozen

from caratzon_core.credentials import DEFAULT_TOKEN_TTL
from caratzon_core.geometry import DEFAULT_CASTING_ALLOWANCE
from caratzon_core.ports import (
    AIService,
    AssetInspector,
    BlobStore,
    Clock,
    IdGenerator,
    Mailer,
    PasswordHasher,
    PasswordStrength,
    PaymentGateway,
    Signer,
    UnitOfWorkFactory,
)
from caratzon_core.throttle import ACCOUNT_RULE, ADDRESS_RULE, ThrottleRule

MB = 1024 * 1024


@frozen
class Settings:
    token_ttl: timedelta = DEFAULT_TOKEN_TTL
    account_throttle: ThrottleRule = ACCOUNT_RULE
    address_throttle: ThrottleRule = ADDRESS_RULE
    max_cad_bytes: int = 200 * MB
    max_image_bytes: int = 20 * MB
    # P27: every asset link is signed and expires; production CAD links sooner.
    link_ttl: timedelta = timedelta(minutes=5)
    production_link_ttl: timedelta = timedelta(minutes=2)
    casting_allowance: Decimal = DEFAULT_CASTING_ALLOWANCE
    # Uploads whose row never got committed are swept after this long.
    pending_blob_grace: timedelta = timedelta(hours=1)
    # Issue #4: how long an offer stays open, where links in mails point, how long a
    # thread must be quiet before one "new messages" mail goes out.
    offer_ttl: timedelta = timedelta(days=7)
    base_url: str = "http://127.0.0.1:8000"
    mail_domain: str = "caratzon.local"
    digest_quiet: timedelta = timedelta(minutes=10)
    expiry_warning: timedelta = timedelta(hours=24)
    # Issue #5: how long a manufacturer has to answer a job offer; route at once.
    job_offer_ttl: timedelta = timedelta(hours=48)
    auto_route: bool = True


@frozen
class Deps:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    hasher: PasswordHasher
    strength: PasswordStrength
    signer: Signer
    settings: Settings = Settings()
    # Needed by the design use cases only; account-only wiring may leave them out.
    blobs: BlobStore | None = None
    inspector: AssetInspector | None = None
    ai: AIService | None = None
    mailer: Mailer | None = None
    payments: PaymentGateway | None = None


@frozen
class Client:
    """Where a request came from; the address is truncated before it is stored."""

    address: str | None = None
    user_agent: str | None = None
