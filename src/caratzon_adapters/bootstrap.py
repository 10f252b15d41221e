"""The composition root: builds every adapter from :class:`Config` and hands the
web portal, the CLI and the tests the same use-case services.

Nothing happens at import time; call :func:`bootstrap`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import attrs

from caratzon_adapters.config import Config, mail_domain
from caratzon_core.export import PersonalData
from caratzon_core.ports import (
    AIService,
    AssetInspector,
    BlobStore,
    Clock,
    Mailer,
    PasswordHasher,
    PasswordStrength,
    PaymentGateway,
    PersonalDataReader,
    PrivacyStore,
    UnitOfWorkFactory,
)
from caratzon_core.services.accounts import AccountService
from caratzon_core.services.audit import AuditService
from caratzon_core.services.deps import MB, Deps, Settings
from caratzon_core.services.designs import DesignService
from caratzon_core.services.engagement import EngagementService
from caratzon_core.services.erasure import ErasureService
from caratzon_core.services.export import ExportService
from caratzon_core.services.licensing import LicensingService
from caratzon_core.services.manufacturing import ManufacturerService
from caratzon_core.services.messaging import MessagingService
from caratzon_core.services.notifications import NotificationService
from caratzon_core.services.orders import OrderService
from caratzon_core.services.policy import PolicyService
from caratzon_core.services.requests import RequestService
from caratzon_core.services.retention import RetentionService
from caratzon_core.signing import HmacSigner


@attrs.define
class Services:
    config: Config
    deps: Deps
    accounts: AccountService
    audit: AuditService
    designs: DesignService
    engagement: EngagementService
    licensing: LicensingService
    messaging: MessagingService
    notifications: NotificationService
    manufacturers: ManufacturerService
    orders: OrderService
    requests: RequestService
    policy: PolicyService
    blobs: BlobStore
    export: ExportService
    erasure: ErasureService
    retention: RetentionService
    _engine: Any = None

    def healthy(self) -> bool:
        """True when the database answers."""
        if self._engine is None:
            return True
        from caratzon_adapters.sql.engine import ping

        return ping(self._engine)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def bootstrap(
    config: Config | None = None,
    *,
    migrate: bool = False,
    uow: UnitOfWorkFactory | None = None,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
    strength: PasswordStrength | None = None,
    blobs: BlobStore | None = None,
    inspector: AssetInspector | None = None,
    ai: AIService | None = None,
    mailer: Mailer | None = None,
    payments: PaymentGateway | None = None,
) -> Services:
    """Wire the services. Every adapter may be overridden by keyword (tests do)."""
    from caratzon_adapters.blobs.factory import make_blob_store
    from caratzon_adapters.inspection import FileInspector
    from caratzon_adapters.payments import OfflineGateway
    from caratzon_adapters.security import Argon2Hasher, RandomIds, SystemClock, ZxcvbnStrength

    config = config or Config.from_env()
    engine = None
    if uow is None:
        from caratzon_adapters.sql.engine import make_engine
        from caratzon_adapters.sql.migrate import upgrade
        from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory

        if config.is_embedded_database:
            config.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(config.database_url)
        if migrate:
            upgrade(engine)
        uow = SqlUnitOfWorkFactory(engine)
    key = config.secret_key.encode("utf-8")
    clock = clock or SystemClock()
    if blobs is None:
        blobs = make_blob_store(
            config.blob_store,
            data_dir=config.data_dir,
            signer=HmacSigner(key, purpose="blob-links"),
            clock=clock,
            endpoint_url=config.s3_endpoint_url,
            region=config.s3_region,
        )
    if inspector is None:
        work = config.data_dir / "tmp"
        work.mkdir(parents=True, exist_ok=True)
        inspector = FileInspector(work)
    if ai is None:
        ai = make_ai(config)
    if mailer is None:
        from caratzon_adapters.mail import make_mailer

        mailer = make_mailer(smtp_url=config.smtp_url, data_dir=config.data_dir, sender=config.mail_from)
    deps = Deps(
        uow=uow,
        clock=clock,
        ids=RandomIds(),
        hasher=hasher or Argon2Hasher(fast=config.password_hashing == "fast"),
        strength=strength or ZxcvbnStrength(),
        signer=HmacSigner(key, purpose="audit"),
        settings=Settings(
            token_ttl=config.token_ttl,
            max_cad_bytes=config.max_cad_mb * MB,
            max_image_bytes=config.max_image_mb * MB,
            link_ttl=timedelta(seconds=config.link_ttl_seconds),
            offer_ttl=timedelta(days=config.offer_ttl_days),
            base_url=config.base_url,
            mail_domain=mail_domain(config.mail_from),
        ),
        blobs=blobs,
        inspector=inspector,
        ai=ai,
        mailer=mailer,
        payments=payments or OfflineGateway(),
    )
    designs = DesignService(deps)
    audit = AuditService(deps)
    privacy = make_privacy_store(uow)
    # Without the SQL store (the in-memory fake) the export still works; its zip is then
    # not queued for deletion, as nothing could delete it.
    export = ExportService(deps, make_personal_data_reader(uow), export_processors(config),
                           privacy=None if isinstance(privacy, _NoPrivacyStore) else privacy)
    erasure = ErasureService(deps, privacy)
    return Services(
        config=config,
        deps=deps,
        accounts=AccountService(deps),
        audit=audit,
        designs=designs,
        engagement=EngagementService(deps),
        licensing=LicensingService(deps),
        messaging=MessagingService(deps),
        notifications=NotificationService(deps),
        manufacturers=ManufacturerService(deps),
        orders=OrderService(deps, designs),
        requests=RequestService(deps, erasure=erasure, exporter=export),
        policy=PolicyService(deps),
        blobs=blobs,
        export=export,
        erasure=erasure,
        retention=RetentionService(deps, privacy, erasure, audit),
        engine=engine,
    )


def make_personal_data_reader(uow: UnitOfWorkFactory) -> PersonalDataReader:
    """The export's reader for the store the unit of work runs on (issue #6, part 2)."""
    from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory

    if isinstance(uow, SqlUnitOfWorkFactory):
        from caratzon_adapters.sql.export import SqlPersonalDataReader

        return SqlPersonalDataReader(uow.engine)
    from caratzon_core.testing import InMemoryStore

    if isinstance(uow, InMemoryStore):
        from caratzon_core.testing_export import InMemoryPersonalDataReader

        return InMemoryPersonalDataReader(uow)
    return _NoReader()


class _NoReader:
    """For a unit of work this module cannot read from (a test's wrapper): the
    export refuses, everything else works."""

    def read(self, user_id: str) -> PersonalData:
        raise NotImplementedError("this store has no personal-data reader")


def make_privacy_store(uow: UnitOfWorkFactory) -> PrivacyStore:
    """Erasure and retention work for the store the unit of work runs on (issue #6,
    parts 3 and 4): set-based SQL, driven by the data map. Other stores (the unit
    tests' in-memory fake) have none: those use cases refuse, the rest works."""
    from caratzon_adapters.sql.uow import SqlUnitOfWorkFactory

    if isinstance(uow, SqlUnitOfWorkFactory):
        from caratzon_adapters.sql.privacy import SqlPrivacyStore

        return SqlPrivacyStore()
    return cast(PrivacyStore, _NoPrivacyStore())


class _NoPrivacyStore:
    """Refuses every call: erasure and retention need the SQL store."""

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError("erasure and retention need the SQL store (SQLite or PostgreSQL)")

        return refuse


def export_processors(config: Config) -> dict[str, Any]:
    """The processors register as the access export carries it."""
    from caratzon_adapters.processors import processors_register
    from caratzon_core.processors import register_document

    return register_document(processors_register(config))


def make_ai(config: Config) -> AIService:
    """The offline adapter (honest: no fake translations) unless Gemini is configured."""
    if config.ai == "gemini":
        from caratzon_adapters.ai.gemini import make_gemini

        assert config.gemini_api_key
        kwargs: dict[str, Any] = {"model": config.gemini_model} if config.gemini_model else {}
        return make_gemini(config.gemini_api_key, config.gemini_base_url, **kwargs)
    from caratzon_adapters.ai.offline import OfflineAI

    return OfflineAI()


def upgrade_database(config: Config | None = None) -> str:
    """Apply every migration; return the revision the database is now at."""
    from caratzon_adapters.sql.engine import make_engine
    from caratzon_adapters.sql.migrate import current_revision, upgrade

    config = config or Config.from_env()
    if config.is_embedded_database:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(config.database_url)
    try:
        upgrade(engine)
        return current_revision(engine) or "base"
    finally:
        engine.dispose()
