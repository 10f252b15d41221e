"""The repository ports on one SQLAlchemy ``Connection`` (the unit of work's).

Every method runs inside the unit of work's transaction; none commits. Statements
that may violate a constraint run inside a SAVEPOINT, so a refused insert leaves
the surrounding transaction usable (PostgreSQL aborts the whole transaction on
an error otherwise).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from caratzon_adapters.sql import mapping
from caratzon_adapters.sql.tables import (
    SINGLETON_ID,
    api_tokens,
    audit_checkpoint,
    audit_head,
    audit_log,
    designer_profiles,
    login_attempts,
    policy_acceptances,
    policy_versions,
    users,
)
from caratzon_core.accounts import DesignerProfile, User
from caratzon_core.audit import AuditEntry, ChainHead, Checkpoint
from caratzon_core.credentials import ApiToken, LoginAttempt, ThrottleKey
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
