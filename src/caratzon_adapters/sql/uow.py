"""The SQL unit of work: one connection and one transaction per ``with`` block.

Leaving the block without :meth:`SqlUnitOfWork.commit` rolls back. After a
commit the same unit of work can go on: the next statement starts a fresh
transaction (SQLAlchemy's autobegin), which again rolls back on exit unless
committed — the semantics of :class:`caratzon_core.testing.InMemoryUnitOfWork`.
Starting it lazily rather than at once matters on SQLite, where every
transaction begins with ``BEGIN IMMEDIATE`` and would otherwise hold the write
lock between the commit and the end of the block.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy import Connection, Engine

from caratzon_adapters.sql.catalog import SqlCatalogReader
from caratzon_adapters.sql.repositories import (
    SqlAssetRepository,
    SqlAuditRepository,
    SqlConsentRepository,
    SqlDesignRepository,
    SqlEngagementRepository,
    SqlLoginAttemptRepository,
    SqlPendingBlobRepository,
    SqlPolicyRepository,
    SqlProfileRepository,
    SqlSavedDesignRepository,
    SqlTokenRepository,
    SqlUserRepository,
)
from caratzon_adapters.sql.repositories_orders import (
    SqlLedgerRepository,
    SqlManufacturerRepository,
    SqlOrderRepository,
    SqlPaymentInstructionRepository,
    SqlPriceRepository,
)
from caratzon_adapters.sql.repositories_requests import SqlDataRequestRepository, SqlVerificationCodeRepository
from caratzon_adapters.sql.repositories_trade import (
    SqlAgreementRepository,
    SqlLicenceOptionRepository,
    SqlNegotiationRepository,
    SqlOutboxRepository,
    SqlThreadRepository,
    SqlTranslationRepository,
)
from caratzon_core.ports import (
    AgreementRepository,
    AssetRepository,
    AuditRepository,
    CatalogReader,
    ConsentRepository,
    DataRequestRepository,
    DesignRepository,
    EngagementRepository,
    LedgerRepository,
    LicenceOptionRepository,
    LoginAttemptRepository,
    ManufacturerRepository,
    NegotiationRepository,
    OrderRepository,
    OutboxRepository,
    PaymentInstructionRepository,
    PendingBlobRepository,
    PolicyRepository,
    PriceRepository,
    ProfileRepository,
    SavedDesignRepository,
    ThreadRepository,
    TokenRepository,
    TranslationRepository,
    UnitOfWork,
    UnitOfWorkFactory,
    UserRepository,
    VerificationCodeRepository,
)


class SqlUnitOfWork:
    users: UserRepository
    profiles: ProfileRepository
    tokens: TokenRepository
    login_attempts: LoginAttemptRepository
    policies: PolicyRepository
    audit: AuditRepository
    designs: DesignRepository
    assets: AssetRepository
    pending_blobs: PendingBlobRepository
    saved: SavedDesignRepository
    consents: ConsentRepository
    engagement: EngagementRepository
    catalog: CatalogReader
    licence_options: LicenceOptionRepository
    negotiations: NegotiationRepository
    agreements: AgreementRepository
    threads: ThreadRepository
    translations: TranslationRepository
    outbox: OutboxRepository
    manufacturers: ManufacturerRepository
    orders: OrderRepository
    ledger: LedgerRepository
    prices: PriceRepository
    payments: PaymentInstructionRepository
    data_requests: DataRequestRepository
    verification_codes: VerificationCodeRepository

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    @property
    def connection(self) -> Connection:
        """The open connection (for adapters of later features sharing this transaction)."""
        if self._conn is None:
            raise RuntimeError("the unit of work is not active; use it in a `with` block")
        return self._conn

    def __enter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("this unit of work is already active")
        conn = self._engine.connect()
        try:
            conn.begin()
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self.users = SqlUserRepository(conn)
        self.profiles = SqlProfileRepository(conn)
        self.tokens = SqlTokenRepository(conn)
        self.login_attempts = SqlLoginAttemptRepository(conn)
        self.policies = SqlPolicyRepository(conn)
        self.audit = SqlAuditRepository(conn)
        self.designs = SqlDesignRepository(conn)
        self.assets = SqlAssetRepository(conn)
        self.pending_blobs = SqlPendingBlobRepository(conn)
        self.saved = SqlSavedDesignRepository(conn)
        self.consents = SqlConsentRepository(conn)
        self.engagement = SqlEngagementRepository(conn)
        self.catalog = SqlCatalogReader(conn)
        self.licence_options = SqlLicenceOptionRepository(conn)
        self.negotiations = SqlNegotiationRepository(conn)
        self.agreements = SqlAgreementRepository(conn)
        self.threads = SqlThreadRepository(conn)
        self.translations = SqlTranslationRepository(conn)
        self.outbox = SqlOutboxRepository(conn)
        self.manufacturers = SqlManufacturerRepository(conn)
        self.orders = SqlOrderRepository(conn)
        self.ledger = SqlLedgerRepository(conn)
        self.prices = SqlPriceRepository(conn)
        self.payments = SqlPaymentInstructionRepository(conn)
        self.data_requests = SqlDataRequestRepository(conn)
        self.verification_codes = SqlVerificationCodeRepository(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            conn.close()

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()


class SqlUnitOfWorkFactory:
    """``factory()`` gives a new :class:`SqlUnitOfWork` on ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)


if TYPE_CHECKING:  # mypy proves both satisfy the core's protocols.

    def _is_uow(uow: SqlUnitOfWork) -> UnitOfWork:
        return uow

    def _is_factory(factory: SqlUnitOfWorkFactory) -> UnitOfWorkFactory:
        return factory
