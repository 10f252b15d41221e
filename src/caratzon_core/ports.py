"""Ports: everything the core needs from the outside world, as ``typing.Protocol``.

Repositories and the unit of work keep state; the clock, id generator, hasher,
password-strength checker and signer keep the core pure and testable. The blob
store, payment gateway, AI service and mailer are declared here now so the shape
of the whole system is visible; later issues fill them in.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, Self

from caratzon_core.accounts import DesignerProfile, User
from caratzon_core.agreements import Agreement
from caratzon_core.audit import AuditEntry, ChainHead, Checkpoint
from caratzon_core.blobs import SignedLink, StoredBlob
from caratzon_core.catalog import CatalogPage, CatalogQuery
from caratzon_core.consent import ConsentRecord, DailyEngagement, EngagementEvent
from caratzon_core.credentials import ApiToken, LoginAttempt, ThrottleKey
from caratzon_core.designs import Asset, AssetKind, Design, Inspection
from caratzon_core.erasure import Erasee, ErasureReport, PersonFacts
from caratzon_core.export import PersonalData
from caratzon_core.ledger import JournalEntry
from caratzon_core.licence_options import LicenceOption
from caratzon_core.manufacturers import CompletedJob, Manufacturer, PartnerScore, Vetting
from caratzon_core.messaging import CachedTranslation, Message, ReadMarker, Thread, ThreadKind, UnreadDigest
from caratzon_core.negotiation import Negotiation
from caratzon_core.orders import Order, OrderStatus
from caratzon_core.outbox import OutboxMessage
from caratzon_core.payments import PaymentInstruction
from caratzon_core.privacy import PolicyAcceptance, PolicyVersion
from caratzon_core.quote import PriceTable
from caratzon_core.requests import DataRequest, RequestType, VerificationCode
from caratzon_core.retention import Candidate, Cutoffs, LegalHold, RetentionRun, RuleCode, Snapshot

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

    def versions(self) -> list[PolicyVersion]:
        """Every version, oldest first (by effective date, then version)."""
        ...

    def add_version(self, version: PolicyVersion) -> None:
        """Insert; raise :class:`~caratzon_core.errors.Conflict` on a duplicate version."""
        ...

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


class DesignRepository(Protocol):
    def add(self, design: Design) -> None: ...

    def get(self, design_id: str) -> Design | None: ...

    def update(self, design: Design) -> None:
        """Raise :class:`~caratzon_core.errors.NotFound` if it does not exist."""
        ...

    def list_by_designer(self, designer_id: str) -> builtins.list[Design]:
        """Every design of the designer, newest first (drafts included)."""
        ...


class AssetRepository(Protocol):
    def add(self, asset: Asset) -> None: ...

    def get(self, asset_id: str) -> Asset | None: ...

    def list_for_design(self, design_id: str) -> builtins.list[Asset]:
        """Oldest first: the first preview image is the design's cover."""
        ...

    def delete(self, asset_id: str) -> None: ...


class PendingBlobRepository(Protocol):
    """Keys written to the blob store whose row is not committed yet. A key is
    recorded (and committed) before the upload starts and removed in the same
    transaction that adds the asset row, so a crash in between leaves a record
    that a sweep turns into a deletion: never an orphaned blob."""

    def add(self, key: str, at: datetime) -> None: ...

    def remove(self, key: str) -> None: ...

    def older_than(self, at: datetime, *, limit: int = 1000) -> builtins.list[str]: ...


class SavedDesignRepository(Protocol):
    def save(self, user_id: str, design_id: str, at: datetime) -> bool:
        """True if newly saved, False if it was saved already."""
        ...

    def unsave(self, user_id: str, design_id: str) -> bool: ...

    def is_saved(self, user_id: str, design_id: str) -> bool: ...

    def list_for_user(self, user_id: str) -> builtins.list[str]:
        """Design ids, most recently saved first."""
        ...


class ConsentRepository(Protocol):
    def add(self, record: ConsentRecord) -> None: ...

    def latest(self, visitor_id: str | None, user_id: str | None) -> ConsentRecord | None:
        """The most recent choice made by this visitor or, when logged in, this user."""
        ...

    def for_user(self, user_id: str) -> builtins.list[ConsentRecord]: ...


class EngagementRepository(Protocol):
    def add(self, event: EngagementEvent) -> None:
        """Record the event and bump the design's view/save counters."""
        ...

    def daily(self, design_id: str, since: date, until: date) -> builtins.list[DailyEngagement]:
        """One row per day with any events, oldest first (UTC days)."""
        ...


class CatalogReader(Protocol):
    """The read side of the catalog: published designs only."""

    def search(self, query: CatalogQuery) -> CatalogPage: ...


class LicenceOptionRepository(Protocol):
    def add(self, option: LicenceOption) -> None: ...

    def get(self, option_id: str) -> LicenceOption | None: ...

    def update(self, option: LicenceOption) -> None: ...

    def list_for_design(self, design_id: str, *, include_retired: bool = False) -> builtins.list[LicenceOption]:
        """Oldest first."""
        ...


class NegotiationRepository(Protocol):
    def add(self, negotiation: Negotiation) -> None:
        """Insert the negotiation with its offers."""
        ...

    def get(self, negotiation_id: str) -> Negotiation | None: ...

    def get_for_update(self, negotiation_id: str) -> Negotiation | None:
        """Read and lock the row until the transaction ends, so two answers to the
        same offer serialise and the second sees the first."""
        ...

    def update(self, negotiation: Negotiation) -> None:
        """Store the new status and append offers not stored yet (offers are never
        changed or removed)."""
        ...

    def list_for_user(self, user_id: str, *, limit: int = 200) -> builtins.list[Negotiation]:
        """Negotiations where the user is buyer or designer, latest activity first."""
        ...

    def open_expired(self, now: datetime, *, limit: int = 500) -> builtins.list[str]:
        """Ids of open negotiations whose latest offer expired at or before ``now``."""
        ...

    def open_expiring(self, start: datetime, end: datetime, *, limit: int = 500) -> builtins.list[Negotiation]:
        """Open negotiations whose latest offer expires in (start, end]."""
        ...


class AgreementRepository(Protocol):
    def lock_design(self, design_id: str) -> None:
        """Serialise agreement-making on a design until the transaction ends (row lock
        on PostgreSQL; SQLite's write transaction already serialises)."""
        ...

    def add(self, agreement: Agreement) -> None:
        """Insert; raise :class:`~caratzon_core.errors.Conflict` if the negotiation
        already has an agreement."""
        ...

    def get(self, agreement_id: str) -> Agreement | None: ...

    def for_negotiation(self, negotiation_id: str) -> Agreement | None: ...

    def active_for_design(self, design_id: str) -> builtins.list[Agreement]:
        """Agreements with status active on the design, whatever their term."""
        ...

    def in_force(self, design_id: str, day: date) -> builtins.list[Agreement]:
        """Active licences on the design whose term covers ``day``."""
        ...

    def list_for_user(self, user_id: str, *, limit: int = 200) -> builtins.list[Agreement]:
        """Where the user is buyer or designer, newest first."""
        ...


class ThreadRepository(Protocol):
    def add(self, thread: Thread) -> None: ...

    def get(self, thread_id: str) -> Thread | None: ...

    def for_subject(self, kind: ThreadKind, subject_id: str) -> Thread | None: ...

    def add_participant(self, thread_id: str, user_id: str) -> None:
        """Idempotent."""
        ...

    def remove_participant(self, thread_id: str, user_id: str) -> None:
        """Idempotent; the person's read and digest marks go too."""
        ...

    def list_for_user(self, user_id: str, *, limit: int = 200) -> builtins.list[Thread]:
        """Threads the user takes part in, latest message first."""
        ...

    def list_support(self, *, limit: int = 200) -> builtins.list[Thread]:
        """Every support thread, latest message first (the admins' queue)."""
        ...

    def add_message(self, message: Message) -> None:
        """Insert the message with its attachments and move the thread's last-message time."""
        ...

    def messages(self, thread_id: str, *, limit: int = 500) -> builtins.list[Message]:
        """The latest ``limit`` messages, oldest first."""
        ...

    def get_attachment(self, attachment_id: str) -> tuple[Message, int] | None:
        """The message holding the attachment and its index in ``message.attachments``."""
        ...

    def mark_read(self, marker: ReadMarker) -> None:
        """Upsert; a marker never moves backwards."""
        ...

    def read_marker(self, thread_id: str, user_id: str) -> ReadMarker | None: ...

    def unread_counts(self, user_id: str) -> dict[str, int]:
        """Thread id → messages written by others (platform events do not count: they
        have their own notices) newer than the user's read marker; zeros left out."""
        ...

    def undigested(self, quiet_since: datetime, *, limit: int = 500) -> builtins.list[UnreadDigest]:
        """Per participant and thread: messages written by others (not platform events)
        that are newer than both the
        participant's read marker and their last digest, when the newest of them is at
        or before ``quiet_since`` (batching: one mail once a thread goes quiet)."""
        ...

    def mark_digested(self, thread_id: str, user_id: str, through: datetime) -> None: ...


class TranslationRepository(Protocol):
    def get(self, message_id: str, language: str) -> CachedTranslation | None: ...

    def get_many(self, message_ids: builtins.list[str], language: str) -> dict[str, CachedTranslation]: ...

    def put(self, translation: CachedTranslation) -> None:
        """Idempotent: a second put for the same message and language is ignored."""
        ...


class OutboxRepository(Protocol):
    def add(self, message: OutboxMessage) -> bool:
        """Insert unless a row with the same de-duplication key exists; True if inserted."""
        ...

    def add_many(self, messages: Sequence[OutboxMessage]) -> int:
        """:meth:`add` for many rows in one statement (a batch of at most a few thousand,
        with fresh ids); those whose de-duplication key exists are skipped. Returns
        how many were inserted."""
        ...

    def get(self, message_id: str) -> OutboxMessage | None: ...

    def claim_due(self, now: datetime, lease_until: datetime, *, limit: int = 100) -> builtins.list[OutboxMessage]:
        """Pending rows due at ``now`` and not claimed by another worker, claimed until
        ``lease_until`` (skipping rows other transactions hold)."""
        ...

    def update(self, message: OutboxMessage) -> None: ...

    def counts(self) -> dict[str, int]:
        """Rows per status."""
        ...


class ManufacturerRepository(Protocol):
    def add(self, manufacturer: Manufacturer) -> None:
        """Insert; Conflict if the user already has a manufacturer profile."""
        ...

    def get(self, user_id: str) -> Manufacturer | None: ...

    def update(self, manufacturer: Manufacturer) -> None:
        """Everything but the partner score, which only :meth:`set_scores` writes (so a
        profile edit racing the daily recompute cannot put an old score back)."""
        ...

    def list(self, *, vetting: Vetting | None = None, limit: int = 20_000) -> builtins.list[Manufacturer]:
        """By name, then id."""
        ...

    def set_scores(self, scores: dict[str, PartnerScore]) -> int:
        """Store each manufacturer's recomputed partner score; return how many changed."""
        ...


class OrderRepository(Protocol):
    def add(self, order: Order) -> None: ...

    def get(self, order_id: str) -> Order | None: ...

    def get_for_update(self, order_id: str) -> Order | None:
        """Read and lock the row until the transaction ends."""
        ...

    def update(self, order: Order) -> None: ...

    def list_for_party(self, user_id: str, *, limit: int = 200) -> builtins.list[Order]:
        """Orders where the user is the buyer, the design's designer or the assigned
        manufacturer, latest change first."""
        ...

    def list_by_status(self, statuses: frozenset[OrderStatus], *, limit: int = 2000) -> builtins.list[Order]:
        """Oldest submission first (the routing board)."""
        ...

    def units_ordered(self, agreement_id: str) -> int:
        """Pieces ordered under the agreement in orders that are not drafts or cancelled."""
        ...

    def lapsed_offers(self, now: datetime, *, limit: int = 500) -> builtins.list[str]:
        """Ids of routed orders whose job offer expired at or before ``now``."""
        ...

    def open_load(self) -> dict[str, int]:
        """Pieces per manufacturer in accepted, in-production and quality-check orders."""
        ...

    def completed_jobs(self, since: datetime) -> dict[str, builtins.list[CompletedJob]]:
        """Per manufacturer, jobs accepted at or after ``since`` that were delivered or
        failed a quality check (the partner score's inputs)."""
        ...


class LedgerRepository(Protocol):
    def add(self, entry: JournalEntry) -> None:
        """Insert with its lines; Conflict on a duplicate idempotency key."""
        ...

    def for_order(self, order_id: str) -> builtins.list[JournalEntry]:
        """Oldest first."""
        ...

    def balances_for_order(self, order_id: str) -> dict[str, int]:
        """Debit-positive balance per account over the order's entries (one SQL sum)."""
        ...


class PriceRepository(Protocol):
    def current(self, on: date) -> PriceTable | None:
        """The table with the latest effective date not after ``on``."""
        ...

    def add(self, table: PriceTable) -> None:
        """Insert or replace the table for its effective date."""
        ...


class PaymentInstructionRepository(Protocol):
    """Calls to the payment gateway waiting to be made (an outbox for money)."""

    def add(self, instruction: PaymentInstruction) -> bool:
        """Insert unless the idempotency key exists; True if inserted."""
        ...

    def claim_due(self, now: datetime, lease_until: datetime, *,
                  limit: int = 100) -> builtins.list[PaymentInstruction]: ...

    def update(self, instruction: PaymentInstruction) -> None: ...

    def for_order(self, order_id: str) -> builtins.list[PaymentInstruction]: ...


class DataRequestRepository(Protocol):
    """Data-subject requests (issue #6, part 1)."""

    def add(self, request: DataRequest) -> None:
        """Insert; raise :class:`~caratzon_core.errors.Conflict` when the person already
        has an open request of the same type (the database refuses the duplicate even
        if two transactions raced past the service's check)."""
        ...

    def get(self, request_id: str) -> DataRequest | None: ...

    def get_for_update(self, request_id: str) -> DataRequest | None:
        """Read and lock the row until the transaction ends."""
        ...

    def update(self, request: DataRequest) -> None:
        """Raise :class:`~caratzon_core.errors.NotFound` if it does not exist."""
        ...

    def open_of_type(self, user_id: str, kind: RequestType) -> DataRequest | None:
        """The person's open (received or in progress) request of this type, if any,
        locked until the transaction ends (so two merges into it serialise)."""
        ...

    def list_for_user(self, user_id: str, *, limit: int = 200) -> builtins.list[DataRequest]:
        """Newest first."""
        ...

    def queue(self, *, include_closed: bool = False, overdue_at: datetime | None = None,
              limit: int = 1000) -> builtins.list[DataRequest]:
        """Open requests (every request with ``include_closed``), urgent ones first, then
        by due date, then id. ``overdue_at``: only open ones due before that moment."""
        ...


class VerificationCodeRepository(Protocol):
    """One-time codes proving control of an account's email (issue #6, part 1)."""

    def add(self, code: VerificationCode) -> None: ...

    def latest(self, user_id: str, purpose: str) -> VerificationCode | None:
        """The most recently sent code for this person and purpose."""
        ...

    def update(self, code: VerificationCode) -> None: ...

    def sent_since(self, user_id: str, since: datetime) -> builtins.list[datetime]:
        """When codes were sent to this person at or after ``since``, oldest first."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the ``with`` block without :meth:`commit` rolls back."""

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


class AssetInspector(Protocol):
    """Judges an uploaded file by its bytes (P3): images are opened and re-encoded
    without EXIF/GPS metadata and thumbnailed; meshes are parsed and measured."""

    def inspect(self, path: Path, *, extension: str, kind: AssetKind) -> Inspection:
        """Raise :class:`~caratzon_core.errors.ValidationFailed` (field ``file``) when
        the bytes do not match the extension, are malformed, or are an image bomb."""
        ...


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
    """Money (P5, P11, P21), shaped for Stripe Connect: the platform charges the
    buyer, transfers each party's share to their connected account and keeps its
    application fee. Every call carries an idempotency key: repeating it returns
    the first call's result and moves no money twice. Card numbers never reach us."""

    def charge(self, *, amount_minor: int, currency: str, customer: str, idempotency_key: str,
               description: str) -> str:
        """Take the payment; return the gateway's charge id."""
        ...

    def refund(self, *, charge_id: str, amount_minor: int, currency: str, idempotency_key: str) -> str: ...

    def transfer(self, *, amount_minor: int, currency: str, destination: str, idempotency_key: str,
                 transfer_group: str) -> str:
        """Pay a party's connected account (``destination`` is our user id; the
        adapter maps it to the account)."""
        ...


class AIService(Protocol):
    """AI (P14, P18, P23): only the five purposes of policy §5; never training."""

    def translate(self, text: str, source: str, target: str) -> str | None:
        """The translation, or ``None`` when none could honestly be made."""
        ...


class Mailer(Protocol):
    def send(self, *, to: str, subject: str, body: str, message_id: str) -> None: ...


# -- access and portability export (issue #6, part 2) -----------------------------------


class PersonalDataReader(Protocol):
    """Finds everything stored about a person, driven by the data map: every row
    where a user-reference column names them, and the rows hanging off those."""

    def read(self, user_id: str) -> PersonalData:
        """Rows per section of :data:`caratzon_core.export.SECTION_KEYS`; messages
        only those the person wrote; files only those the person uploaded."""
        ...


# -- erasure and retention (issue #6, parts 3 and 4) ---------------------------------------


class PrivacyStore(Protocol):
    """Set-based erasure and retention work, driven by the data map, inside the
    caller's unit of work (``uow``): everything a method writes commits or rolls back
    with the caller's change. Blobs are never deleted here: their keys are queued
    (:meth:`queue_blobs`) in the same transaction as the rows that named them."""

    # -- erasure --
    def person_facts(self, uow: UnitOfWork, user_id: str, today: date) -> PersonFacts:
        """A standing hold, open or disputed orders the person is a party to, and
        their designs under a licence active on ``today``."""
        ...

    def erase_person(self, uow: UnitOfWork, user_id: str, *, pseudonym: str, now: datetime,
                     keep_designs: Sequence[str] = ()) -> ErasureReport:
        """Apply every column's masking to the person: a stand-in account row whose
        id is ``pseudonym`` takes their place in records that outlive them; the
        original account row and everything that goes with it is deleted. Designs
        in ``keep_designs`` keep their files (marked removed, designer pseudonymised);
        the person's other designs are purged. Open negotiations are withdrawn."""
        ...

    def people_facts(self, uow: UnitOfWork, user_ids: Sequence[str], today: date) -> dict[str, PersonFacts]:
        """:meth:`person_facts` for many people in a few set-based queries."""
        ...

    def erase_people(self, uow: UnitOfWork, people: Sequence[Erasee], *, now: datetime) -> list[ErasureReport]:
        """:meth:`erase_person` for many people at once: the same result as erasing
        them one by one, with a few statements per table for the whole batch."""
        ...

    # -- retention --
    def snapshot(self, uow: UnitOfWork, cutoffs: Cutoffs) -> Snapshot:
        """Every item past its rule's cut-off with the exceptions standing on it,
        and the counts of the bulk rules."""
        ...

    def due_batch(self, uow: UnitOfWork, rule: RuleCode, cutoffs: Cutoffs, *, after: str | None,
                  limit: int) -> list[Candidate]:
        """The next ``limit`` candidates of one item rule in a stable order (by ``ref``),
        strictly after ``after``, read within ``uow`` (so the exceptions are current)."""
        ...

    def purge(self, uow: UnitOfWork, rule: RuleCode, items: Sequence[Candidate], *, now: datetime) -> int:
        """Delete design files and content (DESIGN_ASSET) or transaction records
        (TRANSACTION) for ``items``; queue their blobs. Returns the rows deleted."""
        ...

    def aggregate_analytics(self, uow: UnitOfWork, cutoff: datetime, *, limit: int) -> int:
        """Fold up to ``limit`` of the oldest raw events at or before ``cutoff`` into
        the daily aggregates and delete them, in this transaction. Returns the number
        of events folded (0 when none is left)."""
        ...

    def audit_prune_bound(self, uow: UnitOfWork, cutoff: datetime) -> int | None:
        """The seq of the first entry at or before ``cutoff`` about someone under a
        standing hold (pruning must stop before it), or None."""
        ...

    # -- legal holds --
    def standing_hold(self, uow: UnitOfWork, user_id: str) -> LegalHold | None: ...

    def holds(self, uow: UnitOfWork, *, standing_only: bool = True) -> list[LegalHold]: ...

    def add_hold(self, uow: UnitOfWork, hold: LegalHold) -> None:
        """Raise :class:`~caratzon_core.errors.Conflict` when one already stands."""
        ...

    def release_hold(self, uow: UnitOfWork, hold_id: str, *, by: str, at: datetime, reason: str) -> None: ...

    # -- blob deletions --
    def queue_blobs(self, uow: UnitOfWork, keys: Sequence[str], *, reason: str, now: datetime,
                    due_at: datetime | None = None) -> int:
        """Remember blobs to delete (idempotent per key). Returns how many were new."""
        ...

    def due_blobs(self, uow: UnitOfWork, now: datetime, *, reason: str | None = None,
                  retries_only: bool = False, limit: int = 500) -> list[str]: ...

    def count_due_blobs(self, uow: UnitOfWork, now: datetime) -> tuple[int, int]:
        """(export zips due for a first attempt, every other due key: each key counted once)."""
        ...

    def blobs_deleted(self, uow: UnitOfWork, keys: Sequence[str]) -> None: ...

    def blob_failed(self, uow: UnitOfWork, key: str, *, error: str, now: datetime) -> None: ...

    # -- runs --
    def save_run(self, uow: UnitOfWork, run: RetentionRun) -> None:
        """Insert or update the run's row."""
        ...

    def runs(self, uow: UnitOfWork, *, limit: int = 10) -> list[RetentionRun]:
        """Newest first."""
        ...
