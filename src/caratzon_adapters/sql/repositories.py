"""The repository ports on one SQLAlchemy ``Connection`` (the unit of work's).

Every method runs inside the unit of work's transaction; none commits. Statements
that may violate a constraint run inside a SAVEPOINT, so a refused insert leaves
the surrounding transaction usable (PostgreSQL aborts the whole transaction on
an error otherwise).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Table,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from caratzon_adapters.sql import mapping
from caratzon_adapters.sql.tables import (
    SINGLETON_ID,
    analytics_daily,
    api_tokens,
    assets,
    audit_checkpoint,
    audit_head,
    audit_log,
    catalog_entries,
    catalog_facet_counts,
    consents,
    design_stats,
    design_tags,
    designer_profiles,
    designs,
    engagement_events,
    login_attempts,
    pending_blobs,
    policy_acceptances,
    policy_versions,
    saved_designs,
    users,
)
from caratzon_core.accounts import DesignerProfile, User
from caratzon_core.audit import AuditEntry, ChainHead, Checkpoint
from caratzon_core.consent import ConsentRecord, DailyEngagement, EngagementEvent, EventKind, median
from caratzon_core.credentials import ApiToken, LoginAttempt, ThrottleKey
from caratzon_core.designs import Asset, Design, DesignStatus
from caratzon_core.errors import Conflict, NotFound
from caratzon_core.privacy import PolicyAcceptance, PolicyVersion

DUPLICATE_EMAIL = "An account with this email already exists."


def _upsert(conn: Connection, table: Table, values: Mapping[str, Any], key: builtins.list[str]) -> None:
    """INSERT, or UPDATE the row with the same ``key`` columns (one statement)."""
    changes = {k: v for k, v in values.items() if k not in key}
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        pg = postgresql.insert(table).values(dict(values))
        conn.execute(pg.on_conflict_do_update(index_elements=key, set_={k: pg.excluded[k] for k in changes}))
        return
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects import sqlite

        lite = sqlite.insert(table).values(dict(values))
        conn.execute(lite.on_conflict_do_update(index_elements=key, set_={k: lite.excluded[k] for k in changes}))
        return
    where = [table.c[k] == values[k] for k in key]
    if conn.execute(update(table).where(*where).values(changes)).rowcount == 0:
        conn.execute(insert(table).values(dict(values)))


class SqlUserRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, user: User) -> None:
        row = mapping.user_to_row(user)
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(users).values(row))
        except IntegrityError:
            if self._email_taken(row["email"], other_than=None):
                raise Conflict(DUPLICATE_EMAIL, field="email") from None
            raise

    def get(self, user_id: str) -> User | None:
        row = self._conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
        return None if row is None else mapping.user_from_row(row)

    def get_by_email(self, email: str) -> User | None:
        stmt = select(users).where(users.c.email == email.lower())
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else mapping.user_from_row(row)

    def update(self, user: User) -> None:
        row = mapping.user_to_row(user)
        old_name = self._conn.execute(select(users.c.name).where(users.c.id == user.id)).scalar_one_or_none()
        stmt = update(users).where(users.c.id == user.id).values({k: v for k, v in row.items() if k != "id"})
        try:
            with self._conn.begin_nested():
                result = self._conn.execute(stmt)
        except IntegrityError:
            if self._email_taken(row["email"], other_than=user.id):
                raise Conflict(DUPLICATE_EMAIL, field="email") from None
            raise
        if result.rowcount == 0:
            raise NotFound("No such account.")
        if old_name is not None and old_name != user.name:
            refresh_search_text(self._conn, user.id, user.name)  # the catalog finds designers by name

    def list(self, *, limit: int = 1000, offset: int = 0) -> builtins.list[User]:
        stmt = select(users).order_by(users.c.created_at, users.c.id).limit(limit).offset(offset)
        return [mapping.user_from_row(r) for r in self._conn.execute(stmt).mappings()]

    def count(self) -> int:
        return int(self._conn.execute(select(func.count()).select_from(users)).scalar_one())

    def _email_taken(self, email: str, *, other_than: str | None) -> bool:
        stmt = select(users.c.id).where(users.c.email == email)
        if other_than is not None:
            stmt = stmt.where(users.c.id != other_than)
        return self._conn.execute(stmt.limit(1)).first() is not None


class SqlProfileRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, user_id: str) -> DesignerProfile | None:
        stmt = select(designer_profiles).where(designer_profiles.c.user_id == user_id)
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else mapping.profile_from_row(row)

    def upsert(self, profile: DesignerProfile) -> None:
        _upsert(self._conn, designer_profiles, mapping.profile_to_row(profile), ["user_id"])


class SqlTokenRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, token: ApiToken) -> None:
        self._conn.execute(insert(api_tokens).values(mapping.token_to_row(token)))

    def get(self, token_id: str) -> ApiToken | None:
        row = self._conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).mappings().first()
        return None if row is None else mapping.token_from_row(row)

    def get_by_digest(self, digest: str) -> ApiToken | None:
        stmt = select(api_tokens).where(api_tokens.c.digest == digest)
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else mapping.token_from_row(row)

    def update(self, token: ApiToken) -> None:
        values = {k: v for k, v in mapping.token_to_row(token).items() if k != "id"}
        result = self._conn.execute(update(api_tokens).where(api_tokens.c.id == token.id).values(values))
        if result.rowcount == 0:
            raise NotFound("No such token.")

    def revoke_all_for_user(self, user_id: str, at: datetime) -> int:
        stmt = (
            update(api_tokens)
            .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(self._conn.execute(stmt).rowcount)


class SqlLoginAttemptRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, attempt: LoginAttempt) -> None:
        self._conn.execute(insert(login_attempts).values(mapping.attempt_to_row(attempt)))

    def since(self, kind: ThrottleKey, key: str, since: datetime) -> list[LoginAttempt]:
        stmt = (
            select(login_attempts)
            .where(
                login_attempts.c.kind == kind.value,
                login_attempts.c.key == key,
                login_attempts.c.at >= since,
            )
            .order_by(login_attempts.c.at, login_attempts.c.id)
        )
        return [mapping.attempt_from_row(r) for r in self._conn.execute(stmt).mappings()]


class SqlPolicyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def current(self, at: datetime) -> PolicyVersion | None:
        stmt = (
            select(policy_versions)
            .where(policy_versions.c.effective_date <= at.date())
            .order_by(policy_versions.c.effective_date.desc(), policy_versions.c.version.desc())
            .limit(1)
        )
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else mapping.policy_from_row(row)

    def get(self, version: str) -> PolicyVersion | None:
        stmt = select(policy_versions).where(policy_versions.c.version == version)
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else mapping.policy_from_row(row)

    def versions(self) -> builtins.list[PolicyVersion]:
        stmt = select(policy_versions).order_by(policy_versions.c.effective_date, policy_versions.c.version)
        return [mapping.policy_from_row(r) for r in self._conn.execute(stmt).mappings()]

    def add_version(self, version: PolicyVersion) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(policy_versions).values(mapping.policy_to_row(version)))
        except IntegrityError:
            if self.get(version.version) is not None:
                raise Conflict(f"Policy version {version.version} exists already.") from None
            raise

    def record_acceptance(self, acceptance: PolicyAcceptance) -> None:
        self._conn.execute(insert(policy_acceptances).values(mapping.acceptance_to_row(acceptance)))

    def acceptances(self, user_id: str) -> list[PolicyAcceptance]:
        stmt = (
            select(policy_acceptances)
            .where(policy_acceptances.c.user_id == user_id)
            .order_by(policy_acceptances.c.accepted_at, policy_acceptances.c.id)
        )
        return [mapping.acceptance_from_row(r) for r in self._conn.execute(stmt).mappings()]


class SqlAuditRepository:
    """The hash-chained trail. The head lives in a one-row table that the first
    migration creates with seq 0 ("empty"), so there is always a row to lock:
    ``SELECT ... FOR UPDATE`` serialises appenders on PostgreSQL, including the
    very first ones; on SQLite every transaction already holds the write lock
    (``BEGIN IMMEDIATE``)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def head_for_update(self) -> ChainHead | None:
        stmt = select(audit_head).where(audit_head.c.id == SINGLETON_ID).with_for_update()
        return mapping.head_from_row(self._conn.execute(stmt).mappings().first())

    def head(self) -> ChainHead | None:
        stmt = select(audit_head).where(audit_head.c.id == SINGLETON_ID)
        return mapping.head_from_row(self._conn.execute(stmt).mappings().first())

    def append(self, entry: AuditEntry, head: ChainHead) -> None:
        self._conn.execute(insert(audit_log).values(mapping.entry_to_row(entry)))
        values = {"seq": head.seq, "hash": head.hash, "signature": head.signature}
        moved = self._conn.execute(update(audit_head).where(audit_head.c.id == SINGLETON_ID).values(values))
        if moved.rowcount == 0:
            # Only a schema built without the migration lacks the sentinel row.
            self._conn.execute(insert(audit_head).values(id=SINGLETON_ID, **values))

    def entries(self, *, after_seq: int = 0, batch: int = 5000) -> Iterator[AuditEntry]:
        """Entries after ``after_seq`` in order, fetched in keyset batches of ``batch``."""
        if batch < 1:
            raise ValueError("batch must be at least 1")
        last = after_seq
        while True:
            stmt = select(audit_log).where(audit_log.c.seq > last).order_by(audit_log.c.seq).limit(batch)
            rows = self._conn.execute(stmt).mappings().all()
            for row in rows:
                entry = mapping.entry_from_row(row)
                last = entry.seq
                yield entry
            if len(rows) < batch:
                return

    def checkpoint(self) -> Checkpoint | None:
        stmt = select(audit_checkpoint).where(audit_checkpoint.c.id == SINGLETON_ID)
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else mapping.checkpoint_from_row(row)

    def prune(self, *, through_seq: int, checkpoint: Checkpoint) -> int:
        deleted = self._conn.execute(audit_log.delete().where(audit_log.c.seq <= through_seq)).rowcount
        values = {"id": SINGLETON_ID, **mapping.checkpoint_to_row(checkpoint)}
        _upsert(self._conn, audit_checkpoint, values, ["id"])
        return int(deleted)

    def last_at_or_before(self, at: datetime) -> AuditEntry | None:
        stmt = select(audit_log).where(audit_log.c.at <= at).order_by(audit_log.c.seq.desc()).limit(1)
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else mapping.entry_from_row(row)

    def for_subject(self, subject: str, *, limit: int = 100) -> list[AuditEntry]:
        """The newest ``limit`` entries about ``subject``, oldest first."""
        stmt = (
            select(audit_log)
            .where(audit_log.c.subject == subject)
            .order_by(audit_log.c.seq.desc())
            .limit(limit)
        )
        rows = self._conn.execute(stmt).mappings().all()
        return [mapping.entry_from_row(r) for r in reversed(rows)]


# -- designs and assets (issue #3) ------------------------------------------------------


def _replace_tags(conn: Connection, design: Design) -> None:
    """The normalised tags the catalog's tag filter reads, replaced wholesale (two
    set-based statements)."""
    conn.execute(delete(design_tags).where(design_tags.c.design_id == design.id))
    tags = list(dict.fromkeys(design.tags))
    if tags:
        conn.execute(insert(design_tags), [{"design_id": design.id, "tag": t} for t in tags])


def _sync_catalog(conn: Connection, design: Design, designer_name: str) -> None:
    """Keep the design's ``catalog_entries`` row in step, present (with the current
    counters) exactly while the design is published, and ``catalog_facet_counts`` with it."""
    entries = catalog_entries
    facet_key = (entries.c.category, entries.c.metal_mask, entries.c.gem_mask)
    before = conn.execute(select(*facet_key).where(entries.c.design_id == design.id)).first()
    after: tuple[str, int, int] | None = None
    if design.status is not DesignStatus.PUBLISHED:
        if before is not None:
            conn.execute(delete(entries).where(entries.c.design_id == design.id))
    else:
        row = mapping.catalog_entry(design, designer_name=designer_name)
        after = (row["category"], row["metal_mask"], row["gem_mask"])
        if before is not None:
            conn.execute(update(entries).where(entries.c.design_id == design.id).values(row))
        else:
            stats = design_stats
            columns = [literal(v, entries.c[k].type) for k, v in row.items()]
            counters = select(*columns, stats.c.views, stats.c.saves).where(stats.c.design_id == design.id)
            conn.execute(insert(entries).from_select([*row, "views", "saves"], counters))
    old = None if before is None else (str(before[0]), int(before[1]), int(before[2]))
    if old != after:
        # in key order, so two transactions moving designs between the same two
        # combinations lock the rows in the same order (PostgreSQL)
        changes = [(key, -1) for key in [old] if key] + [(key, 1) for key in [after] if key]
        for key, delta in sorted(changes):
            _count_facet(conn, key, delta)


def _count_facet(conn: Connection, key: tuple[str, int, int], delta: int) -> None:
    counts = catalog_facet_counts
    category, metal_mask, gem_mask = key
    if delta < 0:  # the row exists (it counted this design); CHECK refuses a negative candidate row
        where = (counts.c.category == category, counts.c.metal_mask == metal_mask, counts.c.gem_mask == gem_mask)
        conn.execute(update(counts).where(*where).values(designs=counts.c.designs + delta))
        return
    values = {"category": category, "metal_mask": metal_mask, "gem_mask": gem_mask, "designs": delta}
    stmt = _upsert_insert(conn, counts).values(values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["category", "metal_mask", "gem_mask"],
            set_={"designs": counts.c.designs + stmt.excluded.designs},
        )
    )


def facet_counts_from_entries(conn: Connection) -> dict[tuple[str, int, int], int]:
    """``catalog_facet_counts`` as it should be, counted from ``catalog_entries``."""
    e = catalog_entries
    stmt = select(e.c.category, e.c.metal_mask, e.c.gem_mask, func.count()).group_by(
        e.c.category, e.c.metal_mask, e.c.gem_mask
    )
    return {(str(c), int(m), int(g)): int(n) for c, m, g, n in conn.execute(stmt)}


def rebuild_catalog_facet_counts(conn: Connection) -> int:
    """Recount ``catalog_facet_counts`` from ``catalog_entries`` (one set-based INSERT ...
    SELECT ... GROUP BY), e.g. after loading entries in bulk; returns the combinations."""
    e, counts = catalog_entries, catalog_facet_counts
    conn.execute(delete(counts))
    grouped = select(e.c.category, e.c.metal_mask, e.c.gem_mask, func.count()).group_by(
        e.c.category, e.c.metal_mask, e.c.gem_mask
    )
    conn.execute(insert(counts).from_select(["category", "metal_mask", "gem_mask", "designs"], grouped))
    return int(conn.execute(select(func.count()).select_from(counts)).scalar_one())


class SqlDesignRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, design: Design) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(designs).values(mapping.design_to_row(design)))
        except IntegrityError:
            if self._conn.execute(select(designs.c.id).where(designs.c.id == design.id)).first() is not None:
                raise Conflict("A design with this id exists already.") from None
            raise
        self._conn.execute(insert(design_stats).values(design_id=design.id, views=0, saves=0))
        _replace_tags(self._conn, design)
        if design.status is DesignStatus.PUBLISHED:
            _sync_catalog(self._conn, design, self._designer_name(design.designer_id))

    def get(self, design_id: str) -> Design | None:
        row = self._conn.execute(select(designs).where(designs.c.id == design_id)).mappings().first()
        return None if row is None else mapping.design_from_row(row)

    def update(self, design: Design) -> None:
        values = {k: v for k, v in mapping.design_to_row(design).items() if k != "id"}
        result = self._conn.execute(update(designs).where(designs.c.id == design.id).values(values))
        if result.rowcount == 0:
            raise NotFound("No such design.")
        _replace_tags(self._conn, design)
        name = self._designer_name(design.designer_id) if design.status is DesignStatus.PUBLISHED else ""
        _sync_catalog(self._conn, design, name)

    def list_by_designer(self, designer_id: str) -> builtins.list[Design]:
        stmt = (
            select(designs)
            .where(designs.c.designer_id == designer_id)
            .order_by(designs.c.created_at.desc(), designs.c.id.desc())
        )
        return [mapping.design_from_row(r) for r in self._conn.execute(stmt).mappings()]

    def _designer_name(self, designer_id: str) -> str:
        name = self._conn.execute(select(users.c.name).where(users.c.id == designer_id)).scalar_one_or_none()
        return "" if name is None else str(name)


def refresh_search_text(conn: Connection, designer_id: str, designer_name: str) -> None:
    """Re-derive the catalog text of the designer's published designs after a change
    of name (the catalog finds designs by their designer's name)."""
    stmt = select(designs).join(catalog_entries, catalog_entries.c.design_id == designs.c.id)
    rows = conn.execute(stmt.where(designs.c.designer_id == designer_id)).mappings().all()
    if rows:
        entries = catalog_entries
        change = update(entries).where(entries.c.design_id == bindparam("b_design_id"))
        conn.execute(
            change.values(search_text=bindparam("b_text")),
            [
                {"b_design_id": r["id"], "b_text": mapping.search_text(mapping.design_from_row(r), designer_name)}
                for r in rows
            ],
        )


class SqlAssetRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, asset: Asset) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(assets).values(mapping.asset_to_row(asset)))
        except IntegrityError:
            if self.get(asset.id) is not None:
                raise Conflict("An asset with this id exists already.") from None
            taken = select(assets.c.id).where(assets.c.blob_key == asset.blob_key)
            if self._conn.execute(taken).first() is not None:
                raise Conflict("An asset with this blob key exists already.") from None
            raise

    def get(self, asset_id: str) -> Asset | None:
        row = self._conn.execute(select(assets).where(assets.c.id == asset_id)).mappings().first()
        return None if row is None else mapping.asset_from_row(row)

    def list_for_design(self, design_id: str) -> builtins.list[Asset]:
        stmt = select(assets).where(assets.c.design_id == design_id).order_by(assets.c.created_at, assets.c.id)
        return [mapping.asset_from_row(r) for r in self._conn.execute(stmt).mappings()]

    def delete(self, asset_id: str) -> None:
        self._conn.execute(delete(assets).where(assets.c.id == asset_id))


class SqlPendingBlobRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, key: str, at: datetime) -> None:
        _upsert(self._conn, pending_blobs, {"key": key, "at": at}, ["key"])

    def remove(self, key: str) -> None:
        self._conn.execute(delete(pending_blobs).where(pending_blobs.c.key == key))

    def older_than(self, at: datetime, *, limit: int = 1000) -> builtins.list[str]:
        stmt = (
            select(pending_blobs.c.key)
            .where(pending_blobs.c.at < at)
            .order_by(pending_blobs.c.at, pending_blobs.c.key)
            .limit(limit)
        )
        return [str(k) for k in self._conn.execute(stmt).scalars()]


class SqlSavedDesignRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def save(self, user_id: str, design_id: str, at: datetime) -> bool:
        values = {"user_id": user_id, "design_id": design_id, "at": at}
        return _insert_if_absent(self._conn, saved_designs, values, ["user_id", "design_id"])

    def unsave(self, user_id: str, design_id: str) -> bool:
        stmt = delete(saved_designs).where(saved_designs.c.user_id == user_id, saved_designs.c.design_id == design_id)
        return bool(self._conn.execute(stmt).rowcount)

    def is_saved(self, user_id: str, design_id: str) -> bool:
        stmt = select(saved_designs.c.at).where(
            saved_designs.c.user_id == user_id, saved_designs.c.design_id == design_id
        )
        return self._conn.execute(stmt).first() is not None

    def list_for_user(self, user_id: str) -> builtins.list[str]:
        stmt = (
            select(saved_designs.c.design_id)
            .where(saved_designs.c.user_id == user_id)
            .order_by(saved_designs.c.at.desc(), saved_designs.c.design_id.desc())
        )
        return [str(d) for d in self._conn.execute(stmt).scalars()]


def _upsert_insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, which knows ``ON CONFLICT`` (PostgreSQL and SQLite only)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def _insert_if_absent(conn: Connection, table: Table, values: Mapping[str, Any], key: builtins.list[str]) -> bool:
    """INSERT unless a row with the same ``key`` exists; True when it inserted."""
    if conn.dialect.name in ("postgresql", "sqlite"):
        stmt = _upsert_insert(conn, table).values(dict(values)).on_conflict_do_nothing(index_elements=key)
        # RETURNING, not rowcount: INSERT rowcount is not reported through every driver.
        return conn.execute(stmt.returning(table.c[key[0]])).first() is not None
    where = [table.c[k] == values[k] for k in key]
    if conn.execute(select(*[table.c[k] for k in key]).where(*where)).first() is not None:
        return False
    conn.execute(insert(table).values(dict(values)))
    return True


def _claim_due(conn: Connection, table: Table, *, pending: str, now: datetime, lease_until: datetime, limit: int,
               order_by: Sequence[ColumnElement[Any]]) -> builtins.list[dict[str, Any]]:
    """Claim the pending rows of an outbox-like table that are due and not leased,
    oldest first, by setting their lease; the rows as claimed. On PostgreSQL
    ``FOR UPDATE SKIP LOCKED``: rows another transaction is claiming are passed
    over, and a row it claimed and committed meanwhile is re-checked (its lease
    now runs) and left out."""
    t = table
    stmt = (
        select(t)
        .where(
            t.c.status == pending,
            or_(t.c.claimed_until.is_(None), t.c.claimed_until <= now),
            or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= now),
        )
        .order_by(*order_by)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = conn.execute(stmt).mappings().all()
    if not rows:
        return []
    conn.execute(update(t).where(t.c.id.in_([r["id"] for r in rows])).values(claimed_until=lease_until))
    return [{**r, "claimed_until": lease_until} for r in rows]


# -- consent and engagement ---------------------------------------------------------------


class SqlConsentRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, record: ConsentRecord) -> None:
        self._conn.execute(insert(consents).values(mapping.consent_to_row(record)))

    def latest(self, visitor_id: str | None, user_id: str | None) -> ConsentRecord | None:
        who: builtins.list[ColumnElement[bool]] = []
        if visitor_id is not None:
            who.append(consents.c.visitor_id == visitor_id)
        if user_id is not None:
            who.append(consents.c.user_id == user_id)
        if not who:
            return None
        stmt = select(consents).where(or_(*who)).order_by(consents.c.at.desc(), consents.c.id.desc()).limit(1)
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else mapping.consent_from_row(row)

    def for_user(self, user_id: str) -> builtins.list[ConsentRecord]:
        stmt = select(consents).where(consents.c.user_id == user_id).order_by(consents.c.at, consents.c.id)
        return [mapping.consent_from_row(r) for r in self._conn.execute(stmt).mappings()]


class SqlEngagementRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, event: EngagementEvent) -> None:
        self._conn.execute(insert(engagement_events).values(mapping.event_to_row(event)))
        views = int(event.kind is EventKind.VIEW)
        saves = int(event.kind is EventKind.SAVE)
        if views or saves:
            self._bump(event.design_id, views=views, saves=saves)
            entries = catalog_entries  # the catalog's copy, if the design is listed
            self._conn.execute(
                update(entries)
                .where(entries.c.design_id == event.design_id)
                .values(views=entries.c.views + views, saves=entries.c.saves + saves)
            )

    def _bump(self, design_id: str, *, views: int, saves: int) -> None:
        """UPSERT: the row normally exists (written with the design)."""
        stats = design_stats
        values = {"design_id": design_id, "views": views, "saves": saves}
        if self._conn.dialect.name in ("postgresql", "sqlite"):
            stmt = _upsert_insert(self._conn, stats).values(values)
            stmt = stmt.on_conflict_do_update(
                index_elements=["design_id"],
                set_={"views": stats.c.views + stmt.excluded.views, "saves": stats.c.saves + stmt.excluded.saves},
            )
            self._conn.execute(stmt)
            return
        bumped = update(stats).where(stats.c.design_id == design_id).values(
            views=stats.c.views + views, saves=stats.c.saves + saves
        )
        if self._conn.execute(bumped).rowcount == 0:
            self._conn.execute(insert(stats).values(values))

    def daily(self, design_id: str, since: date, until: date) -> builtins.list[DailyEngagement]:
        """Days ``since`` to ``until`` inclusive; two set-based queries (counts, then
        the scroll depths whose median the core's rule computes)."""
        e = engagement_events
        start = datetime.combine(since, time(0), tzinfo=UTC)
        end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=UTC)
        day = _utc_day(self._conn, e.c.at).label("day")
        in_range = [e.c.design_id == design_id, e.c.at >= start, e.c.at < end]
        counts = (
            select(
                day,
                func.sum(case((e.c.kind == EventKind.VIEW.value, 1), else_=0)),
                func.sum(case((e.c.kind == EventKind.SAVE.value, 1), else_=0)),
            )
            .where(*in_range)
            .group_by(day)
        )
        depths = select(day, e.c.scroll_depth).where(
            *in_range, e.c.kind == EventKind.SCROLL.value, e.c.scroll_depth.is_not(None)
        )
        scrolls: dict[date, builtins.list[int]] = {}
        for d, depth in self._conn.execute(depths):
            scrolls.setdefault(mapping.as_date(d), []).append(int(depth))
        result = {
            mapping.as_date(d): DailyEngagement(
                design_id=design_id,
                day=mapping.as_date(d),
                views=int(v or 0),
                saves=int(s or 0),
                median_scroll_depth=median(scrolls.get(mapping.as_date(d), [])),
            )
            for d, v, s in self._conn.execute(counts)
        }
        # Days older than 24 months live only as anonymous aggregates (P33): their counts
        # add in; the raw depths are gone, so such a day's depth is the mean, not the median.
        a = analytics_daily
        folded: dict[date, dict[str, tuple[int, int, int]]] = {}
        for d, kind, events, depth_sum, depth_count in self._conn.execute(
            select(a.c.day, a.c.kind, a.c.events, a.c.depth_sum, a.c.depth_count)
            .where(a.c.design_id == design_id, a.c.day >= since, a.c.day <= until)
        ):
            folded.setdefault(mapping.as_date(d), {})[kind] = (int(events), int(depth_sum), int(depth_count))
        for d, kinds in folded.items():
            raw = result.get(d)
            views = kinds.get(EventKind.VIEW.value, (0, 0, 0))[0]
            saves = kinds.get(EventKind.SAVE.value, (0, 0, 0))[0]
            _, depth_sum, depth_count = kinds.get(EventKind.SCROLL.value, (0, 0, 0))
            depth = raw.median_scroll_depth if raw and raw.median_scroll_depth is not None else (
                round(depth_sum / depth_count) if depth_count else None)
            result[d] = DailyEngagement(design_id=design_id, day=d, views=views + (raw.views if raw else 0),
                                        saves=saves + (raw.saves if raw else 0), median_scroll_depth=depth)
        return sorted(result.values(), key=lambda r: r.day)


def _utc_day(conn: Connection, at: ColumnElement[datetime]) -> ColumnElement[Any]:
    """The UTC calendar day of a stored time (SQLite stores UTC wall-clock text)."""
    if conn.dialect.name == "postgresql":
        return cast(func.timezone("UTC", at), Date)
    return func.substr(at, 1, 10)
