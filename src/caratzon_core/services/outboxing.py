"""Writing notices into the outbox and events into threads, inside the caller's
transaction (issue #4, parts 4 and 6)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from caratzon_core.accounts import User, UserStatus
from caratzon_core.messaging import Message, MessageKind
from caratzon_core.notices import Notice, NoticeKind
from caratzon_core.outbox import OutboxMessage
from caratzon_core.ports import IdGenerator, UnitOfWork


def enqueue(uow: UnitOfWork, ids: IdGenerator, *, dedupe_key: str, kind: NoticeKind, to: User,
            values: Mapping[str, str], now: datetime) -> bool:
    """One notice for ``to`` in their language; a closed account gets no mail. The
    de-duplication key makes enqueuing the same event twice a no-op."""
    if to.status is UserStatus.CLOSED:
        return False
    notice = Notice(kind, to.email, to.language.value, {"name": to.name, **values})
    return uow.outbox.add(OutboxMessage(id=ids.new_id(), dedupe_key=dedupe_key, notice=notice, created_at=now))


def post_event(uow: UnitOfWork, ids: IdGenerator, *, thread_id: str, event: str, data: Mapping[str, str],
               now: datetime) -> Message:
    """A negotiation (or order) step shown in its thread; rendered per reader's language."""
    message = Message(id=ids.new_id(), thread_id=thread_id, author_id=None, kind=MessageKind.EVENT, body="",
                      language="en", created_at=now, event=event, event_data=dict(data))
    uow.threads.add_message(message)
    return message
