"""In-memory fakes of the licensing, messaging and outbox repositories (issue #4).

Kept apart from :mod:`caratzon_core.testing` only to keep files small; the fake
unit of work there binds these to its state.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import date, datetime

import attrs

from caratzon_core.agreements import Agreement, AgreementStatus
from caratzon_core.errors import Conflict, NotFound
from caratzon_core.licence_options import LicenceOption
from caratzon_core.messaging import CachedTranslation, Message, ReadMarker, Thread, ThreadKind, UnreadDigest
from caratzon_core.negotiation import Negotiation, NegotiationStatus
from caratzon_core.outbox import OutboxMessage, OutboxStatus


@attrs.define
class TradeState:
    options: dict[str, LicenceOption] = attrs.Factory(dict)
    negotiations: dict[str, Negotiation] = attrs.Factory(dict)
    agreements: dict[str, Agreement] = attrs.Factory(dict)
    threads: dict[str, Thread] = attrs.Factory(dict)
    messages: list[Message] = attrs.Factory(list)
    markers: dict[tuple[str, str], ReadMarker] = attrs.Factory(dict)
    digested: dict[tuple[str, str], datetime] = attrs.Factory(dict)
    translations: dict[tuple[str, str], CachedTranslation] = attrs.Factory(dict)
    outbox: dict[str, OutboxMessage] = attrs.Factory(dict)


class LicenceOptions:
    def __init__(self, s: TradeState) -> None:
        self.s = s

    def add(self, option: LicenceOption) -> None:
        if option.id in self.s.options:
            raise Conflict("Duplicate licence option id.")
        self.s.options[option.id] = option

    def get(self, option_id: str) -> LicenceOption | None:
        return self.s.options.get(option_id)

    def update(self, option: LicenceOption) -> None:
        if option.id not in self.s.options:
            raise NotFound("No such licence option.")
        self.s.options[option.id] = option

    def list_for_design(self, design_id: str, *, include_retired: bool = False) -> builtins.list[LicenceOption]:
        found = [o for o in self.s.options.values() if o.design_id == design_id and (include_retired or o.active)]
        return sorted(found, key=lambda o: (o.created_at, o.id))


def _activity(n: Negotiation) -> datetime:
    return n.closed_at or n.latest.made_at


class Negotiations:
    def __init__(self, s: TradeState) -> None:
        self.s = s

    def add(self, negotiation: Negotiation) -> None:
        if negotiation.id in self.s.negotiations:
            raise Conflict("Duplicate negotiation id.")
        self.s.negotiations[negotiation.id] = negotiation

    def get(self, negotiation_id: str) -> Negotiation | None:
        return self.s.negotiations.get(negotiation_id)

    def get_for_update(self, negotiation_id: str) -> Negotiation | None:
        return self.get(negotiation_id)

    def update(self, negotiation: Negotiation) -> None:
        old = self.s.negotiations.get(negotiation.id)
        if old is None:
            raise NotFound("No such negotiation.")
        if negotiation.offers[: len(old.offers)] != old.offers:
            raise Conflict("Offers are never changed or removed.")
        self.s.negotiations[negotiation.id] = negotiation

    def list_for_user(self, user_id: str, *, limit: int = 200) -> builtins.list[Negotiation]:
        mine = [n for n in self.s.negotiations.values() if user_id in (n.buyer_id, n.designer_id)]
        return sorted(mine, key=lambda n: (_activity(n), n.id), reverse=True)[:limit]

    def open_expired(self, now: datetime, *, limit: int = 500) -> builtins.list[str]:
        ids = [n.id for n in self.s.negotiations.values()
               if n.status is NegotiationStatus.OPEN and n.latest.expires_at <= now]
        return sorted(ids)[:limit]

    def open_expiring(self, start: datetime, end: datetime, *, limit: int = 500) -> builtins.list[Negotiation]:
        found = [n for n in self.s.negotiations.values()
                 if n.status is NegotiationStatus.OPEN and start < n.latest.expires_at <= end]
        return sorted(found, key=lambda n: (n.latest.expires_at, n.id))[:limit]


class Agreements:
    def __init__(self, s: TradeState) -> None:
        self.s = s

    def lock_design(self, design_id: str) -> None:
        return None  # one fake transaction at a time

    def add(self, agreement: Agreement) -> None:
        if agreement.id in self.s.agreements or self.for_negotiation(agreement.negotiation_id):
            raise Conflict("This negotiation already has an agreement.")
        self.s.agreements[agreement.id] = agreement

    def get(self, agreement_id: str) -> Agreement | None:
        return self.s.agreements.get(agreement_id)

    def for_negotiation(self, negotiation_id: str) -> Agreement | None:
        return next((a for a in self.s.agreements.values() if a.negotiation_id == negotiation_id), None)

    def active_for_design(self, design_id: str) -> builtins.list[Agreement]:
        found = [a for a in self.s.agreements.values()
                 if a.design_id == design_id and a.status is AgreementStatus.ACTIVE]
        return sorted(found, key=lambda a: (a.created_at, a.id))

    def in_force(self, design_id: str, day: date) -> builtins.list[Agreement]:
        return [a for a in self.active_for_design(design_id) if a.in_force_on(day)]

    def list_for_user(self, user_id: str, *, limit: int = 200) -> builtins.list[Agreement]:
        mine = [a for a in self.s.agreements.values() if user_id in (a.buyer_id, a.designer_id)]
        return sorted(mine, key=lambda a: (a.created_at, a.id), reverse=True)[:limit]


class Threads:
    def __init__(self, s: TradeState) -> None:
        self.s = s

    def add(self, thread: Thread) -> None:
        if thread.id in self.s.threads:
            raise Conflict("Duplicate thread id.")
        if thread.subject_id and self.for_subject(thread.kind, thread.subject_id):
            raise Conflict("That subject already has a thread.")
        self.s.threads[thread.id] = thread

    def get(self, thread_id: str) -> Thread | None:
        return self.s.threads.get(thread_id)

    def for_subject(self, kind: ThreadKind, subject_id: str) -> Thread | None:
        return next((t for t in self.s.threads.values() if t.kind is kind and t.subject_id == subject_id), None)

    def add_participant(self, thread_id: str, user_id: str) -> None:
        thread = self.s.threads.get(thread_id)
        if thread is None:
            raise NotFound("No such thread.")
        self.s.threads[thread_id] = attrs.evolve(thread, participants=thread.participants | {user_id})

    def remove_participant(self, thread_id: str, user_id: str) -> None:
        thread = self.s.threads.get(thread_id)
        if thread is None:
            raise NotFound("No such thread.")
        self.s.threads[thread_id] = attrs.evolve(thread, participants=thread.participants - {user_id})
        self.s.markers.pop((thread_id, user_id), None)
        self.s.digested.pop((thread_id, user_id), None)

    @staticmethod
    def _latest_first(threads: builtins.list[Thread]) -> builtins.list[Thread]:
        return sorted(threads, key=lambda t: (t.last_message_at or t.created_at, t.id), reverse=True)

    def list_for_user(self, user_id: str, *, limit: int = 200) -> builtins.list[Thread]:
        return self._latest_first([t for t in self.s.threads.values() if user_id in t.participants])[:limit]

    def list_support(self, *, limit: int = 200) -> builtins.list[Thread]:
        return self._latest_first([t for t in self.s.threads.values() if t.kind is ThreadKind.SUPPORT])[:limit]

    def add_message(self, message: Message) -> None:
        thread = self.s.threads.get(message.thread_id)
        if thread is None:
            raise NotFound("No such thread.")
        if any(m.id == message.id for m in self.s.messages):
            raise Conflict("Duplicate message id.")
        self.s.messages.append(message)
        latest = max(thread.last_message_at or message.created_at, message.created_at)
        self.s.threads[thread.id] = attrs.evolve(thread, last_message_at=latest)

    def messages(self, thread_id: str, *, limit: int = 500) -> builtins.list[Message]:
        mine = sorted((m for m in self.s.messages if m.thread_id == thread_id), key=lambda m: (m.created_at, m.id))
        return mine[-limit:]

    def get_attachment(self, attachment_id: str) -> tuple[Message, int] | None:
        for m in self.s.messages:
            for i, a in enumerate(m.attachments):
                if a.id == attachment_id:
                    return m, i
        return None

    def mark_read(self, marker: ReadMarker) -> None:
        key = (marker.thread_id, marker.user_id)
        old = self.s.markers.get(key)
        if old is None or old.read_at < marker.read_at:
            self.s.markers[key] = marker

    def read_marker(self, thread_id: str, user_id: str) -> ReadMarker | None:
        return self.s.markers.get((thread_id, user_id))

    def _unread(self, thread: Thread, user_id: str, since: datetime | None) -> builtins.list[Message]:
        return [m for m in self.s.messages
                if m.thread_id == thread.id and m.author_id is not None and m.author_id != user_id
                and (since is None or m.created_at > since)]

    def unread_counts(self, user_id: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for thread in self.s.threads.values():
            if user_id not in thread.participants:
                continue
            marker = self.s.markers.get((thread.id, user_id))
            n = len(self._unread(thread, user_id, marker.read_at if marker else None))
            if n:
                out[thread.id] = n
        return out

    def undigested(self, quiet_since: datetime, *, limit: int = 500) -> builtins.list[UnreadDigest]:
        out: list[UnreadDigest] = []
        for thread in sorted(self.s.threads.values(), key=lambda t: t.id):
            for user_id in sorted(thread.participants):
                marker = self.s.markers.get((thread.id, user_id))
                digested = self.s.digested.get((thread.id, user_id))
                bounds = [t for t in (marker.read_at if marker else None, digested) if t is not None]
                unread = self._unread(thread, user_id, max(bounds) if bounds else None)
                if not unread:
                    continue
                newest = max(m.created_at for m in unread)
                if newest <= quiet_since:
                    out.append(UnreadDigest(thread.id, user_id, len(unread), newest))
        return out[:limit]

    def mark_digested(self, thread_id: str, user_id: str, through: datetime) -> None:
        key = (thread_id, user_id)
        if key not in self.s.digested or self.s.digested[key] < through:
            self.s.digested[key] = through


class Translations:
    def __init__(self, s: TradeState) -> None:
        self.s = s

    def get(self, message_id: str, language: str) -> CachedTranslation | None:
        return self.s.translations.get((message_id, language))

    def get_many(self, message_ids: builtins.list[str], language: str) -> dict[str, CachedTranslation]:
        return {m: t for m in message_ids if (t := self.s.translations.get((m, language))) is not None}

    def put(self, translation: CachedTranslation) -> None:
        self.s.translations.setdefault((translation.message_id, translation.language), translation)


class Outbox:
    def __init__(self, s: TradeState) -> None:
        self.s = s

    def add(self, message: OutboxMessage) -> bool:
        if any(m.dedupe_key == message.dedupe_key for m in self.s.outbox.values()):
            return False
        if message.id in self.s.outbox:
            raise Conflict("Duplicate outbox id.")
        self.s.outbox[message.id] = message
        return True

    def add_many(self, messages: Sequence[OutboxMessage]) -> int:
        keys = {m.dedupe_key for m in self.s.outbox.values()}
        added = 0
        for message in messages:
            if message.dedupe_key in keys:
                continue
            if message.id in self.s.outbox:
                raise Conflict("Duplicate outbox id.")
            self.s.outbox[message.id] = message
            keys.add(message.dedupe_key)
            added += 1
        return added

    def get(self, message_id: str) -> OutboxMessage | None:
        return self.s.outbox.get(message_id)

    def claim_due(self, now: datetime, lease_until: datetime, *, limit: int = 100) -> builtins.list[OutboxMessage]:
        due = sorted((m for m in self.s.outbox.values() if m.due(now)), key=lambda m: (m.created_at, m.id))[:limit]
        claimed = [attrs.evolve(m, claimed_until=lease_until) for m in due]
        for m in claimed:
            self.s.outbox[m.id] = m
        return claimed

    def update(self, message: OutboxMessage) -> None:
        if message.id not in self.s.outbox:
            raise NotFound("No such outbox message.")
        self.s.outbox[message.id] = message

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in OutboxStatus}
        for m in self.s.outbox.values():
            out[m.status.value] += 1
        return out
