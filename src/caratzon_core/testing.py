"""In-memory fakes of every port, for unit tests of the core and for library users.

The unit of work copies state on entry and publishes it only on commit, so a use
case that fails half-way leaves nothing behind here either.
"""

from __future__ import annotations

import builtins
import copy
import hashlib
import itertools
import re
import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

import attrs

from caratzon_core.accounts import DesignerProfile, User
from caratzon_core.audit import AuditEntry, ChainHead, Checkpoint
from caratzon_core.catalog import CatalogItem, CatalogPage, CatalogQuery, Sort, card_blob, encode_cursor
from caratzon_core.consent import ConsentRecord, DailyEngagement, EngagementEvent, EventKind, median
from caratzon_core.credentials import ApiToken, LoginAttempt, ThrottleKey
from caratzon_core.designs import Asset, AssetKind, Design, DesignStatus, Inspection, Visibility
from caratzon_core.errors import Conflict, NotFound, ValidationFailed
from caratzon_core.geometry import MeshMetrics
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
    UserRepository,
    VerificationCodeRepository,
)
from caratzon_core.privacy import INITIAL_POLICY_VERSION, PolicyAcceptance, PolicyVersion
from caratzon_core.services.deps import Deps, Settings
from caratzon_core.signing import HmacSigner
from caratzon_core.testing_orders import Ledger, Manufacturers, Orders, OrderState, Payments, Prices
from caratzon_core.testing_requests import DataRequests, RequestState, VerificationCodes
from caratzon_core.testing_trade import (
    Agreements,
    LicenceOptions,
    Negotiations,
    Outbox,
    Threads,
    TradeState,
    Translations,
)


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
    designs: dict[str, Design] = attrs.Factory(dict)
    assets: dict[str, Asset] = attrs.Factory(dict)
    pending_blobs: dict[str, datetime] = attrs.Factory(dict)
    saved: dict[tuple[str, str], datetime] = attrs.Factory(dict)
    consents: list[ConsentRecord] = attrs.Factory(list)
    events: list[EngagementEvent] = attrs.Factory(list)
    stats: dict[str, list[int]] = attrs.Factory(dict)  # design id -> [views, saves]
    trade: TradeState = attrs.Factory(TradeState)
    production: OrderState = attrs.Factory(OrderState)
    requests: RequestState = attrs.Factory(RequestState)


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

    def versions(self) -> list[PolicyVersion]:
        return sorted(self.s.policies.values(), key=lambda p: (p.effective_date, p.version))

    def add_version(self, version: PolicyVersion) -> None:
        if version.version in self.s.policies:
            raise Conflict(f"Policy version {version.version} exists already.")
        if version.published_at is not None:  # stored as UTC, as the database does
            version = attrs.evolve(version, published_at=version.published_at.astimezone(UTC))
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


class _Designs:
    def __init__(self, s: _State) -> None:
        self.s = s

    def add(self, design: Design) -> None:
        if design.id in self.s.designs:
            raise Conflict("A design with this id exists already.")
        self.s.designs[design.id] = design

    def get(self, design_id: str) -> Design | None:
        return self.s.designs.get(design_id)

    def update(self, design: Design) -> None:
        if design.id not in self.s.designs:
            raise NotFound("No such design.")
        self.s.designs[design.id] = design

    def list_by_designer(self, designer_id: str) -> builtins.list[Design]:
        mine = [d for d in self.s.designs.values() if d.designer_id == designer_id]
        return sorted(mine, key=lambda d: (d.created_at, d.id), reverse=True)


class _Assets:
    def __init__(self, s: _State) -> None:
        self.s = s

    def add(self, asset: Asset) -> None:
        if asset.id in self.s.assets or any(a.blob_key == asset.blob_key for a in self.s.assets.values()):
            raise Conflict("An asset with this id or blob key exists already.")
        self.s.assets[asset.id] = asset

    def get(self, asset_id: str) -> Asset | None:
        return self.s.assets.get(asset_id)

    def list_for_design(self, design_id: str) -> builtins.list[Asset]:
        mine = [a for a in self.s.assets.values() if a.design_id == design_id]
        return sorted(mine, key=lambda a: (a.created_at, a.id))

    def delete(self, asset_id: str) -> None:
        self.s.assets.pop(asset_id, None)


class _PendingBlobs:
    def __init__(self, s: _State) -> None:
        self.s = s

    def add(self, key: str, at: datetime) -> None:
        self.s.pending_blobs[key] = at

    def remove(self, key: str) -> None:
        self.s.pending_blobs.pop(key, None)

    def older_than(self, at: datetime, *, limit: int = 1000) -> builtins.list[str]:
        return [k for k, t in sorted(self.s.pending_blobs.items(), key=lambda kv: (kv[1], kv[0])) if t < at][:limit]


class _Saved:
    def __init__(self, s: _State) -> None:
        self.s = s

    def save(self, user_id: str, design_id: str, at: datetime) -> bool:
        if (user_id, design_id) in self.s.saved:
            return False
        self.s.saved[(user_id, design_id)] = at
        return True

    def unsave(self, user_id: str, design_id: str) -> bool:
        return self.s.saved.pop((user_id, design_id), None) is not None

    def is_saved(self, user_id: str, design_id: str) -> bool:
        return (user_id, design_id) in self.s.saved

    def list_for_user(self, user_id: str) -> builtins.list[str]:
        mine = [(at, d) for (u, d), at in self.s.saved.items() if u == user_id]
        return [d for _, d in sorted(mine, reverse=True)]


class _Consents:
    def __init__(self, s: _State) -> None:
        self.s = s

    def add(self, record: ConsentRecord) -> None:
        self.s.consents.append(record)

    def latest(self, visitor_id: str | None, user_id: str | None) -> ConsentRecord | None:
        mine = [
            c for c in self.s.consents
            if (visitor_id is not None and c.visitor_id == visitor_id) or (user_id is not None and c.user_id == user_id)
        ]
        return max(mine, key=lambda c: (c.at, c.id), default=None)

    def for_user(self, user_id: str) -> builtins.list[ConsentRecord]:
        return [c for c in self.s.consents if c.user_id == user_id]


class _Engagement:
    def __init__(self, s: _State) -> None:
        self.s = s

    def add(self, event: EngagementEvent) -> None:
        self.s.events.append(event)
        counters = self.s.stats.setdefault(event.design_id, [0, 0])
        if event.kind is EventKind.VIEW:
            counters[0] += 1
        elif event.kind is EventKind.SAVE:
            counters[1] += 1

    def daily(self, design_id: str, since: date, until: date) -> builtins.list[DailyEngagement]:
        days: dict[date, list[EngagementEvent]] = {}
        for e in self.s.events:
            day = e.at.astimezone(UTC).date()
            if e.design_id == design_id and since <= day <= until:
                days.setdefault(day, []).append(e)
        return [
            DailyEngagement(
                design_id=design_id,
                day=day,
                views=sum(1 for e in evs if e.kind is EventKind.VIEW),
                saves=sum(1 for e in evs if e.kind is EventKind.SAVE),
                median_scroll_depth=median([e.scroll_depth for e in evs
                                            if e.kind is EventKind.SCROLL and e.scroll_depth is not None]),
            )
            for day, evs in sorted(days.items())
        ]


class _Catalog:
    """The catalog search done in Python: the reference the SQL versions must match."""

    def __init__(self, s: _State) -> None:
        self.s = s

    def _designer_name(self, design: Design) -> str:
        user = self.s.users.get(design.designer_id)
        return user.name if user else ""

    def _matches_text(self, design: Design, text: str) -> bool:
        haystack = " ".join(
            [design.title, design.description, " ".join(design.tags), self._designer_name(design)]
        ).lower()
        words = re.findall(r"\w+", haystack)
        return all(any(w.startswith(tok) for w in words) for tok in re.findall(r"\w+", text.lower()))

    def _filtered(self, q: CatalogQuery, *, skip: str | None = None) -> builtins.list[Design]:
        out = []
        for d in self.s.designs.values():
            if d.status is not DesignStatus.PUBLISHED:
                continue
            if q.text and not self._matches_text(d, q.text):
                continue
            if skip != "category" and q.category and d.category is not q.category:
                continue
            if skip != "metal" and q.metal and q.metal not in d.metals:
                continue
            if skip != "gemstone" and q.gemstone and q.gemstone not in {g.type for g in d.gemstones}:
                continue
            if q.designer_id and d.designer_id != q.designer_id:
                continue
            if q.tags and not set(q.tags) <= set(d.tags):
                continue
            if q.price_min_minor is not None or q.price_max_minor is not None:
                p = d.price_guidance
                if p is None or p.currency != q.currency:
                    continue
                if q.price_min_minor is not None and p.amount_minor < q.price_min_minor:
                    continue
                if q.price_max_minor is not None and p.amount_minor > q.price_max_minor:
                    continue
            out.append(d)
        return out

    def _key(self, d: Design, sort: Sort) -> object:
        views, saves = self.s.stats.get(d.id, [0, 0])
        if sort is Sort.NEWEST:
            assert d.published_at is not None
            return d.published_at.astimezone(UTC).isoformat()
        if sort is Sort.MOST_VIEWED:
            return views
        if sort is Sort.MOST_SAVED:
            return saves
        return d.price_guidance.amount_minor if d.price_guidance else None

    def _item(self, d: Design) -> CatalogItem:
        cover = next(
            (a for a in sorted(self.s.assets.values(), key=lambda a: (a.created_at, a.id))
             if a.design_id == d.id and a.kind is AssetKind.IMAGE and a.visibility is Visibility.PREVIEW),
            None,
        )
        key: str | None = None
        content_type: str | None = None
        if cover is not None:
            key, content_type = card_blob(cover.thumbnail_key, cover.blob_key, cover.content_type)
        return CatalogItem(
            design=d,
            designer_name=self._designer_name(d),
            views=self.s.stats.get(d.id, [0, 0])[0],
            saves=self.s.stats.get(d.id, [0, 0])[1],
            thumbnail_asset_id=cover.id if cover else None,
            thumbnail_key=key,
            thumbnail_content_type=content_type,
        )

    def search(self, query: CatalogQuery) -> CatalogPage:
        designs = self._filtered(query)
        sort = query.sort

        def order_of(key: object, design_id: str) -> tuple[object, ...]:
            if sort is Sort.PRICE_ASC:
                return (key is None, key if key is not None else 0, design_id)
            # Descending sorts: bigger first, then id descending; no price sorts last.
            return (key is None, _Desc(key), _Desc(design_id))

        def order(d: Design) -> tuple[object, ...]:
            return order_of(self._key(d, sort), d.id)

        ordered = sorted(designs, key=order)
        if query.after is not None:
            marker = order_of(query.after[0], str(query.after[1]))
            ordered = [d for d in ordered if order(d) > marker]
        page = ordered[: query.limit]
        more = len(ordered) > query.limit
        items = tuple(self._item(d) for d in page)
        last = page[-1] if page else None
        cursor = encode_cursor(sort, self._key(last, sort), last.id) if (more and last) else None
        facets: dict[str, dict[str, int]] = {"category": {}, "metal": {}, "gemstone": {}}
        for d in self._filtered(query, skip="category"):
            facets["category"][d.category.value] = facets["category"].get(d.category.value, 0) + 1
        for d in self._filtered(query, skip="metal"):
            for m in d.metals:
                facets["metal"][m] = facets["metal"].get(m, 0) + 1
        for d in self._filtered(query, skip="gemstone"):
            for g in {g.type for g in d.gemstones}:
                facets["gemstone"][g] = facets["gemstone"].get(g, 0) + 1
        return CatalogPage(items, cursor, facets)


class _Desc:
    """Reverses the order of a value inside a sort key."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return bool(self.value > other.value)  # type: ignore[operator]

    def __gt__(self, other: _Desc) -> bool:
        return bool(self.value < other.value)  # type: ignore[operator]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


class InMemoryUnitOfWork:
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
        self.designs = _Designs(self._work)
        self.assets = _Assets(self._work)
        self.pending_blobs = _PendingBlobs(self._work)
        self.saved = _Saved(self._work)
        self.consents = _Consents(self._work)
        self.engagement = _Engagement(self._work)
        self.catalog = _Catalog(self._work)
        self.licence_options = LicenceOptions(self._work.trade)
        self.negotiations = Negotiations(self._work.trade)
        self.agreements = Agreements(self._work.trade)
        self.threads = Threads(self._work.trade)
        self.translations = Translations(self._work.trade)
        self.outbox = Outbox(self._work.trade)
        self.manufacturers = Manufacturers(self._work.production)
        self.orders = Orders(self._work.production)
        self.ledger = Ledger(self._work.production)
        self.prices = Prices(self._work.production)
        self.payments = Payments(self._work.production)
        self.data_requests = DataRequests(self._work.requests)
        self.verification_codes = VerificationCodes(self._work.requests)


class InMemoryStore:
    """Shared state behind every fake unit of work: the fake 'database'."""

    def __init__(self) -> None:
        self.state = _State()
        self.state.policies[INITIAL_POLICY_VERSION] = PolicyVersion(
            INITIAL_POLICY_VERSION, datetime(2026, 3, 4).date()
        )

    def __call__(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self)


class FakeInspector:
    """Judges files by their first bytes, as the real inspector does, without Pillow
    or numpy: PNG/JPEG/WebP magic for images; an STL starting ``solid cube`` is a
    watertight 10 mm cube, ``solid open`` an open mesh, anything else unparseable."""

    CUBE = MeshMetrics(volume_mm3=1000.0, surface_area_mm2=600.0, bbox_mm=(10.0, 10.0, 10.0),
                       triangle_count=12, watertight=True, thinnest_wall_mm=10.0)

    def inspect(self, path: Path, *, extension: str, kind: AssetKind) -> Inspection:
        head = path.read_bytes()[:32]
        if kind is AssetKind.CAD:
            if extension == ".stl":
                if head.startswith(b"solid cube"):
                    return Inspection("model/stl", path, mesh=self.CUBE, analysed=True)
                if head.startswith(b"solid open"):
                    return Inspection("model/stl", path, mesh=attrs.evolve(self.CUBE, watertight=False,
                                                                           thinnest_wall_mm=None), analysed=True)
                raise ValidationFailed("This is not a valid STL file.", field="file")
            return Inspection("application/octet-stream", path, analysed=False)
        formats = {b"\x89PNG": ("image/png", {".png"}), b"\xff\xd8\xff": ("image/jpeg", {".jpg", ".jpeg"})}
        for magic, (content_type, exts) in formats.items():
            if head.startswith(magic):
                if extension not in exts:
                    raise ValidationFailed(f"The file is {content_type} but is named {extension}.", field="file")
                return Inspection(content_type, path, width_px=800, height_px=600, thumbnail=b"thumb",
                                  thumbnail_content_type="image/webp", analysed=True)
        raise ValidationFailed("The file is not an image we can read.", field="file")


class FakeAI:
    """Records every text sent to it (so tests can prove what never was) and answers
    with a recognisable fake translation; ``fail`` makes it raise AIUnavailable."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.fail = False

    def translate(self, text: str, source: str, target: str) -> str | None:
        from caratzon_core.errors import AIUnavailable

        self.calls.append((text, source, target))
        if self.fail:
            raise AIUnavailable("The AI service is unavailable.")
        return f"[{target}] {text}"


class RecordingMailer:
    """Keeps sent mails in memory; fails the next ``fail_next`` sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.fail_next = 0

    def send(self, *, to: str, subject: str, body: str, message_id: str) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ConnectionError("SMTP server refused the connection")
        self.sent.append({"to": to, "subject": subject, "body": body, "message_id": message_id})


def fake_deps(*, clock: FakeClock | None = None, settings: Settings | None = None) -> tuple[Deps, InMemoryStore]:
    from caratzon_core.testing_blobs import InMemoryBlobStore  # it imports FakeClock from here

    store = InMemoryStore()
    clock = clock or FakeClock()
    blobs = InMemoryBlobStore(clock=clock)
    deps = Deps(
        uow=store,
        clock=clock,
        ids=SequentialIds(),
        hasher=FakeHasher(),
        strength=FakeStrength(),
        signer=HmacSigner(b"k" * 32, purpose="audit"),
        settings=settings or Settings(),
        blobs=blobs,
        inspector=FakeInspector(),
        ai=FakeAI(),
        mailer=RecordingMailer(),
    )
    return deps, store

