"""The issue #4 repository ports on one SQLAlchemy ``Connection``: licence options,
negotiations, agreements, message threads, cached translations and the outbox.

As in :mod:`.repositories`, nothing here commits, and every statement that may
violate a constraint runs inside a SAVEPOINT so a refused write leaves the
surrounding transaction usable (PostgreSQL aborts the whole transaction on an
error otherwise).

Locking: ``get_for_update``, ``lock_design`` and ``claim_due`` take row locks with
``SELECT ... FOR UPDATE`` (``SKIP LOCKED`` for the outbox) on PostgreSQL. SQLite
has no row locks; there every transaction of the unit of work starts with
``BEGIN IMMEDIATE`` (see :mod:`.engine`), so writers already run one at a time.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from caratzon_adapters.sql import mapping
from caratzon_adapters.sql.repositories import _claim_due, _insert_if_absent, _upsert_insert
from caratzon_adapters.sql.tables import (
    agreements,
    designs,
    licence_options,
    message_attachments,
    message_translations,
    messages,
    negotiation_offers,
    negotiations,
    outbox,
    thread_marks,
    thread_participants,
    threads,
)
from caratzon_core.agreements import Agreement, AgreementStatus
from caratzon_core.errors import Conflict, NotFound
from caratzon_core.licence_options import LicenceOption, OptionStatus
from caratzon_core.messaging import (
    Attachment,
    CachedTranslation,
    Message,
    ReadMarker,
    Thread,
    ThreadKind,
    UnreadDigest,
)
from caratzon_core.negotiation import Negotiation, NegotiationStatus, Offer
from caratzon_core.outbox import OutboxMessage, OutboxStatus


def _exists(conn: Connection, stmt: Select[Any]) -> bool:
    return conn.execute(stmt.limit(1)).first() is not None


# -- licence options ------------------------------------------------------------------


class SqlLicenceOptionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, option: LicenceOption) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(licence_options).values(mapping.option_to_row(option)))
        except IntegrityError:
            if self.get(option.id) is not None:
                raise Conflict("Duplicate licence option id.") from None
            raise

    def get(self, option_id: str) -> LicenceOption | None:
        stmt = select(licence_options).where(licence_options.c.id == option_id)
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else mapping.option_from_row(row)

    def update(self, option: LicenceOption) -> None:
        values = {k: v for k, v in mapping.option_to_row(option).items() if k != "id"}
        result = self._conn.execute(update(licence_options).where(licence_options.c.id == option.id).values(values))
        if result.rowcount == 0:
            raise NotFound("No such licence option.")

    def list_for_design(self, design_id: str, *, include_retired: bool = False) -> builtins.list[LicenceOption]:
        o = licence_options
        stmt = select(o).where(o.c.design_id == design_id).order_by(o.c.created_at, o.c.id)
        if not include_retired:
            stmt = stmt.where(o.c.status == OptionStatus.ACTIVE.value)
        return [mapping.option_from_row(r) for r in self._conn.execute(stmt).mappings()]


# -- negotiations ---------------------------------------------------------------------


class SqlNegotiationRepository:
    """A negotiation is its row plus its offers, one row each (append-only, ``seq`` =
    position). The row carries copies for the queries (the latest offer's expiry, the
    last activity) and a ``version`` every update bumps."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, negotiation: Negotiation) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(negotiations).values({**mapping.negotiation_to_row(negotiation), "version": 1})
                )
                self._insert_offers(negotiation.id, negotiation.offers, first_seq=0)
        except IntegrityError:
            if _exists(self._conn, select(negotiations.c.id).where(negotiations.c.id == negotiation.id)):
                raise Conflict("Duplicate negotiation id.") from None
            raise

    def get(self, negotiation_id: str) -> Negotiation | None:
        return self._get(negotiation_id, lock=False)

    def get_for_update(self, negotiation_id: str) -> Negotiation | None:
        return self._get(negotiation_id, lock=True)

    def update(self, negotiation: Negotiation) -> None:
        """All or nothing (a SAVEPOINT): Conflict when the stored offers are not a
        prefix of the new ones, or when the row changed since it was read here."""
        n = negotiations
        with self._conn.begin_nested():
            version = self._conn.execute(
                select(n.c.version).where(n.c.id == negotiation.id).with_for_update(key_share=True)
            ).scalar_one_or_none()
            if version is None:
                raise NotFound("No such negotiation.")
            stored = self._offers([negotiation.id]).get(negotiation.id, [])
            if negotiation.offers[: len(stored)] != tuple(stored):
                raise Conflict("Offers are never changed or removed.")
            values = {k: v for k, v in mapping.negotiation_to_row(negotiation).items() if k != "id"}
            values["version"] = version + 1
            stmt = update(n).where(n.c.id == negotiation.id, n.c.version == version).values(values)
            if self._conn.execute(stmt).rowcount != 1:
                raise Conflict("The negotiation changed meanwhile; read it again.")
            self._insert_offers(negotiation.id, negotiation.offers[len(stored):], first_seq=len(stored))

    def list_for_user(self, user_id: str, *, limit: int = 200) -> builtins.list[Negotiation]:
        n = negotiations
        stmt = (
            select(n)
            .where(or_(n.c.buyer_id == user_id, n.c.designer_id == user_id))
            .order_by(n.c.last_activity_at.desc(), n.c.id.desc())
            .limit(limit)
        )
        return self._with_offers(self._conn.execute(stmt).mappings().all())

    def open_expired(self, now: datetime, *, limit: int = 500) -> builtins.list[str]:
        n = negotiations
        stmt = (
            select(n.c.id)
            .where(n.c.status == NegotiationStatus.OPEN.value, n.c.latest_expires_at <= now)
            .order_by(n.c.id)
            .limit(limit)
        )
        return [str(i) for i in self._conn.execute(stmt).scalars()]

    def open_expiring(self, start: datetime, end: datetime, *, limit: int = 500) -> builtins.list[Negotiation]:
        n = negotiations
        stmt = (
            select(n)
            .where(n.c.status == NegotiationStatus.OPEN.value, n.c.latest_expires_at > start,
                   n.c.latest_expires_at <= end)
            .order_by(n.c.latest_expires_at, n.c.id)
            .limit(limit)
        )
        return self._with_offers(self._conn.execute(stmt).mappings().all())

    # -- helpers

    def _get(self, negotiation_id: str, *, lock: bool) -> Negotiation | None:
        stmt = select(negotiations).where(negotiations.c.id == negotiation_id)
        if lock:
            stmt = stmt.with_for_update(key_share=True)  # PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
        row = self._conn.execute(stmt).mappings().first()
        if row is None:
            return None
        return mapping.negotiation_from_rows(row, self._offers([negotiation_id]).get(negotiation_id, []))

    def _offers(self, negotiation_ids: Sequence[str]) -> dict[str, builtins.list[Offer]]:
        """The offers of these negotiations in order (one query)."""
        if not negotiation_ids:
            return {}
        o = negotiation_offers
        stmt = select(o).where(o.c.negotiation_id.in_(negotiation_ids)).order_by(o.c.negotiation_id, o.c.seq)
        found: dict[str, builtins.list[Offer]] = {}
        for row in self._conn.execute(stmt).mappings():
            found.setdefault(row["negotiation_id"], []).append(mapping.offer_from_row(row))
        return found

    def _with_offers(self, rows: Sequence[RowMapping]) -> builtins.list[Negotiation]:
        offers = self._offers([r["id"] for r in rows])
        return [mapping.negotiation_from_rows(r, offers.get(r["id"], [])) for r in rows]

    def _insert_offers(self, negotiation_id: str, offers: Sequence[Offer], *, first_seq: int) -> None:
        if offers:
            rows = [mapping.offer_to_row(negotiation_id, first_seq + i, o) for i, o in enumerate(offers)]
            self._conn.execute(insert(negotiation_offers), rows)


# -- agreements -----------------------------------------------------------------------


class SqlAgreementRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def lock_design(self, design_id: str) -> None:
        if self._conn.dialect.name == "sqlite":
            return  # the unit of work's BEGIN IMMEDIATE holds the database's write lock
        self._conn.execute(select(designs.c.id).where(designs.c.id == design_id).with_for_update(key_share=True))

    def add(self, agreement: Agreement) -> None:
        """UNIQUE(negotiation_id) is the guard: a second agreement for a negotiation is
        refused by the database even if two transactions raced past the checks."""
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(agreements).values(mapping.agreement_to_row(agreement)))
        except IntegrityError:
            a = agreements
            taken = select(a.c.id).where(or_(a.c.id == agreement.id, a.c.negotiation_id == agreement.negotiation_id))
            if _exists(self._conn, taken):
                raise Conflict("This negotiation already has an agreement.") from None
            raise

    def get(self, agreement_id: str) -> Agreement | None:
        return self._one(agreements.c.id == agreement_id)

    def for_negotiation(self, negotiation_id: str) -> Agreement | None:
        return self._one(agreements.c.negotiation_id == negotiation_id)

    def active_for_design(self, design_id: str) -> builtins.list[Agreement]:
        a = agreements
        stmt = (
            select(a)
            .where(a.c.design_id == design_id, a.c.status == AgreementStatus.ACTIVE.value)
            .order_by(a.c.created_at, a.c.id)
        )
        return self._many(stmt)

    def in_force(self, design_id: str, day: date) -> builtins.list[Agreement]:
        """``effective_date`` and ``end_date`` are the term's start and (exclusive) end,
        as :func:`caratzon_core.agreements.conclude` writes them."""
        a = agreements
        stmt = (
            select(a)
            .where(
                a.c.design_id == design_id,
                a.c.status == AgreementStatus.ACTIVE.value,
                a.c.effective_date <= day,
                or_(a.c.end_date.is_(None), a.c.end_date > day),
            )
            .order_by(a.c.created_at, a.c.id)
        )
        return self._many(stmt)

    def list_for_user(self, user_id: str, *, limit: int = 200) -> builtins.list[Agreement]:
        a = agreements
        stmt = (
            select(a)
            .where(or_(a.c.buyer_id == user_id, a.c.designer_id == user_id))
            .order_by(a.c.created_at.desc(), a.c.id.desc())
            .limit(limit)
        )
        return self._many(stmt)

    def _one(self, where: Any) -> Agreement | None:
        row = self._conn.execute(select(agreements).where(where)).mappings().first()
        return None if row is None else mapping.agreement_from_row(row)

    def _many(self, stmt: Select[Any]) -> builtins.list[Agreement]:
        return [mapping.agreement_from_row(r) for r in self._conn.execute(stmt).mappings()]


# -- threads and messages -------------------------------------------------------------


def _by_others(author: Any, user: Any) -> Any:
    """Written by someone other than ``user``: platform (event) messages, which have no
    author, are never unread and never mailed about."""
    return and_(author.is_not(None), author != user)


class SqlThreadRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, thread: Thread) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(threads).values(mapping.thread_to_row(thread)))
                if thread.participants:
                    self._conn.execute(
                        insert(thread_participants),
                        [{"thread_id": thread.id, "user_id": u} for u in sorted(thread.participants)],
                    )
        except IntegrityError:
            if _exists(self._conn, select(threads.c.id).where(threads.c.id == thread.id)):
                raise Conflict("Duplicate thread id.") from None
            if thread.subject_id is not None and self.for_subject(thread.kind, thread.subject_id) is not None:
                raise Conflict("That subject already has a thread.") from None
            raise

    def get(self, thread_id: str) -> Thread | None:
        row = self._conn.execute(select(threads).where(threads.c.id == thread_id)).mappings().first()
        return None if row is None else self._with_participants([row])[0]

    def for_subject(self, kind: ThreadKind, subject_id: str) -> Thread | None:
        stmt = select(threads).where(threads.c.kind == kind.value, threads.c.subject_id == subject_id)
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else self._with_participants([row])[0]

    def add_participant(self, thread_id: str, user_id: str) -> None:
        if not _exists(self._conn, select(threads.c.id).where(threads.c.id == thread_id)):
            raise NotFound("No such thread.")
        _insert_if_absent(
            self._conn, thread_participants, {"thread_id": thread_id, "user_id": user_id}, ["thread_id", "user_id"]
        )

    def remove_participant(self, thread_id: str, user_id: str) -> None:
        if not _exists(self._conn, select(threads.c.id).where(threads.c.id == thread_id)):
            raise NotFound("No such thread.")
        for table in (thread_participants, thread_marks):
            self._conn.execute(table.delete().where(table.c.thread_id == thread_id, table.c.user_id == user_id))

    def list_for_user(self, user_id: str, *, limit: int = 200) -> builtins.list[Thread]:
        t, p = threads, thread_participants
        stmt = (
            select(t)
            .join(p, and_(p.c.thread_id == t.c.id, p.c.user_id == user_id))
            .order_by(t.c.activity_at.desc(), t.c.id.desc())
            .limit(limit)
        )
        return self._with_participants(self._conn.execute(stmt).mappings().all())

    def list_support(self, *, limit: int = 200) -> builtins.list[Thread]:
        t = threads
        stmt = (
            select(t)
            .where(t.c.kind == ThreadKind.SUPPORT.value)
            .order_by(t.c.activity_at.desc(), t.c.id.desc())
            .limit(limit)
        )
        return self._with_participants(self._conn.execute(stmt).mappings().all())

    def add_message(self, message: Message) -> None:
        t = threads
        if not _exists(self._conn, select(t.c.id).where(t.c.id == message.thread_id)):
            raise NotFound("No such thread.")
        for attachment in message.attachments:
            if attachment.message_id != message.id:
                raise ValueError(f"attachment {attachment.id} belongs to message {attachment.message_id}, "
                                 f"not {message.id}")
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(messages).values(mapping.message_to_row(message)))
                if message.attachments:
                    self._conn.execute(
                        insert(message_attachments),
                        [mapping.attachment_to_row(a, i) for i, a in enumerate(message.attachments)],
                    )
        except IntegrityError:
            if _exists(self._conn, select(messages.c.id).where(messages.c.id == message.id)):
                raise Conflict("Duplicate message id.") from None
            raise
        at = message.created_at  # the thread's last-message time never moves backwards
        self._conn.execute(
            update(t)
            .where(t.c.id == message.thread_id, or_(t.c.last_message_at.is_(None), t.c.last_message_at < at))
            .values(last_message_at=at, activity_at=at)
        )

    def messages(self, thread_id: str, *, limit: int = 500) -> builtins.list[Message]:
        m = messages
        stmt = (
            select(m)
            .where(m.c.thread_id == thread_id)
            .order_by(m.c.created_at.desc(), m.c.id.desc())
            .limit(limit)
        )
        rows = self._conn.execute(stmt).mappings().all()
        return self._with_attachments(list(reversed(rows)))

    def get_attachment(self, attachment_id: str) -> tuple[Message, int] | None:
        a = message_attachments
        message_id = self._conn.execute(select(a.c.message_id).where(a.c.id == attachment_id)).scalar_one_or_none()
        if message_id is None:
            return None
        row = self._conn.execute(select(messages).where(messages.c.id == message_id)).mappings().one()
        message = self._with_attachments([row])[0]
        index = next(i for i, att in enumerate(message.attachments) if att.id == attachment_id)
        return message, index

    def mark_read(self, marker: ReadMarker) -> None:
        self._move_mark(marker.thread_id, marker.user_id, "read_at", marker.read_at)

    def read_marker(self, thread_id: str, user_id: str) -> ReadMarker | None:
        k = thread_marks
        stmt = select(k.c.read_at).where(k.c.thread_id == thread_id, k.c.user_id == user_id, k.c.read_at.is_not(None))
        read_at = self._conn.execute(stmt).scalar_one_or_none()
        return None if read_at is None else ReadMarker(thread_id, user_id, mapping.utc(read_at))

    def unread_counts(self, user_id: str) -> dict[str, int]:
        """One grouped query over the threads the user takes part in."""
        m, p, k = messages, thread_participants, thread_marks
        stmt = (
            select(m.c.thread_id, func.count())
            .select_from(m)
            .join(p, and_(p.c.thread_id == m.c.thread_id, p.c.user_id == user_id))
            .outerjoin(k, and_(k.c.thread_id == m.c.thread_id, k.c.user_id == user_id))
            .where(_by_others(m.c.author_id, user_id), or_(k.c.read_at.is_(None), m.c.created_at > k.c.read_at))
            .group_by(m.c.thread_id)
        )
        return {str(thread_id): int(n) for thread_id, n in self._conn.execute(stmt)}

    def undigested(self, quiet_since: datetime, *, limit: int = 500) -> builtins.list[UnreadDigest]:
        """One grouped query: per participant and thread, the messages by others after
        both their read mark and their digest mark, kept when the newest is quiet."""
        m, p, k = messages, thread_participants, thread_marks
        newest = func.max(m.c.created_at)
        stmt = (
            select(p.c.thread_id, p.c.user_id, func.count(m.c.id), newest)
            .select_from(p)
            .join(m, and_(m.c.thread_id == p.c.thread_id, _by_others(m.c.author_id, p.c.user_id)))
            .outerjoin(k, and_(k.c.thread_id == p.c.thread_id, k.c.user_id == p.c.user_id))
            .where(
                or_(k.c.read_at.is_(None), m.c.created_at > k.c.read_at),
                or_(k.c.digested_at.is_(None), m.c.created_at > k.c.digested_at),
            )
            .group_by(p.c.thread_id, p.c.user_id)
            .having(newest <= quiet_since)
            .order_by(p.c.thread_id, p.c.user_id)
            .limit(limit)
        )
        return [
            UnreadDigest(str(thread_id), str(user_id), int(count), mapping.utc(newest_at))
            for thread_id, user_id, count, newest_at in self._conn.execute(stmt)
        ]

    def mark_digested(self, thread_id: str, user_id: str, through: datetime) -> None:
        self._move_mark(thread_id, user_id, "digested_at", through)

    # -- helpers

    def _move_mark(self, thread_id: str, user_id: str, column: str, at: datetime) -> None:
        """UPSERT the mark, moving it forward only (one statement)."""
        k = thread_marks
        stmt = _upsert_insert(self._conn, k).values({"thread_id": thread_id, "user_id": user_id, column: at})
        current = k.c[column]
        self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["thread_id", "user_id"],
                set_={column: stmt.excluded[column]},
                where=or_(current.is_(None), current < stmt.excluded[column]),
            )
        )

    def _with_participants(self, rows: Sequence[RowMapping]) -> builtins.list[Thread]:
        p = thread_participants
        ids = [r["id"] for r in rows]
        members: dict[str, set[str]] = {i: set() for i in ids}
        if ids:
            stmt = select(p.c.thread_id, p.c.user_id).where(p.c.thread_id.in_(ids))
            for thread_id, user_id in self._conn.execute(stmt):
                members[thread_id].add(user_id)
        return [mapping.thread_from_row(r, members[r["id"]]) for r in rows]

    def _with_attachments(self, rows: Iterable[RowMapping]) -> builtins.list[Message]:
        rows = list(rows)
        a = message_attachments
        found: dict[str, builtins.list[Attachment]] = {}
        ids = [r["id"] for r in rows]
        if ids:
            stmt = select(a).where(a.c.message_id.in_(ids)).order_by(a.c.message_id, a.c.position)
            for row in self._conn.execute(stmt).mappings():
                found.setdefault(row["message_id"], []).append(mapping.attachment_from_row(row))
        return [mapping.message_from_row(r, found.get(r["id"], ())) for r in rows]


# -- translations ---------------------------------------------------------------------


class SqlTranslationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, message_id: str, language: str) -> CachedTranslation | None:
        t = message_translations
        stmt = select(t).where(t.c.message_id == message_id, t.c.language == language)
        row = self._conn.execute(stmt).mappings().first()
        return None if row is None else mapping.translation_from_row(row)

    def get_many(self, message_ids: builtins.list[str], language: str) -> dict[str, CachedTranslation]:
        if not message_ids:
            return {}
        t = message_translations
        stmt = select(t).where(t.c.message_id.in_(list(dict.fromkeys(message_ids))), t.c.language == language)
        return {r["message_id"]: mapping.translation_from_row(r) for r in self._conn.execute(stmt).mappings()}

    def put(self, translation: CachedTranslation) -> None:
        _insert_if_absent(
            self._conn, message_translations, mapping.translation_to_row(translation), ["message_id", "language"]
        )


# -- the outbox -----------------------------------------------------------------------


class SqlOutboxRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, message: OutboxMessage) -> bool:
        """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING: a duplicate key is no error
        and leaves the transaction as it was. A duplicate id is a Conflict."""
        row = mapping.outbox_to_row(message)
        try:
            with self._conn.begin_nested():
                return _insert_if_absent(self._conn, outbox, row, ["dedupe_key"])
        except IntegrityError:
            if self.get(message.id) is not None:
                raise Conflict("Duplicate outbox id.") from None
            raise

    def add_many(self, messages: Sequence[OutboxMessage]) -> int:
        """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING for the whole batch, sent as
        multi-row statements by SQLAlchemy's "insertmanyvalues" (one compiled, cached
        statement); RETURNING counts the rows inserted. No savepoint: a duplicate id
        (never made by a fresh id generator) fails the caller's transaction."""
        if not messages:
            return 0
        rows = [mapping.outbox_to_row(m) for m in messages]
        stmt = (_upsert_insert(self._conn, outbox).on_conflict_do_nothing(index_elements=["dedupe_key"])
                .returning(outbox.c.id))
        return len(self._conn.execute(stmt, rows).all())

    def get(self, message_id: str) -> OutboxMessage | None:
        row = self._conn.execute(select(outbox).where(outbox.c.id == message_id)).mappings().first()
        return None if row is None else mapping.outbox_from_row(row)

    def claim_due(self, now: datetime, lease_until: datetime, *, limit: int = 100) -> builtins.list[OutboxMessage]:
        """Oldest first. On PostgreSQL ``FOR UPDATE SKIP LOCKED``: rows another
        transaction is claiming are passed over, and a row it claimed and committed
        meanwhile is re-checked (its lease now runs) and left out."""
        rows = _claim_due(self._conn, outbox, pending=OutboxStatus.PENDING.value, now=now, lease_until=lease_until,
                          limit=limit, order_by=(outbox.c.created_at, outbox.c.id))
        return [mapping.outbox_from_row(r) for r in rows]

    def update(self, message: OutboxMessage) -> None:
        values = {k: v for k, v in mapping.outbox_to_row(message).items() if k != "id"}
        result = self._conn.execute(update(outbox).where(outbox.c.id == message.id).values(values))
        if result.rowcount == 0:
            raise NotFound("No such outbox message.")

    def counts(self) -> dict[str, int]:
        counted = {s.value: 0 for s in OutboxStatus}
        for status, n in self._conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)):
            counted[str(status)] = int(n)
        return counted
