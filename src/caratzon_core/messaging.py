"""Message threads (issue #4, part 4) and what each reader sees (part 5).

A thread belongs to a negotiation, (later) an order, or is a support thread
between one user and the admins. Only participants read or write; on a support
thread any admin may join. Negotiation events (offers, acceptance, …) are posted
into the thread as event messages with structured data, so every reader sees
them rendered in their own language.

Translation is decided here, purely: :func:`translation_plan` says whether a
message may be sent to the AI port for a reader. Text written by, or read by,
someone who objects to AI processing or whose processing is restricted is never
sent (P38, P40); a message already in the reader's language needs no
translation.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Self

from attrs import field, frozen

from caratzon_core.accounts import Role, User, UserStatus
from caratzon_core.errors import ValidationFailed

MAX_MESSAGE_CHARS = 10_000
MAX_THREAD_TITLE = 200
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ATTACHMENT_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".pdf"})


class ThreadKind(enum.StrEnum):
    NEGOTIATION = "negotiation"
    ORDER = "order"
    SUPPORT = "support"


class SupportTopic(enum.StrEnum):
    SUPPORT = "support"  # a support request (P16: answered)
    FEEDBACK = "feedback"


class MessageKind(enum.StrEnum):
    TEXT = "text"
    EVENT = "event"  # a negotiation or order step, posted by the platform


def _frozen_mapping(values: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in dict(values).items()})


@frozen
class Thread:
    id: str
    kind: ThreadKind
    title: str
    created_by: str
    created_at: datetime
    participants: frozenset[str]
    subject_id: str | None = None  # negotiation or order id
    topic: SupportTopic | None = None  # support threads only
    last_message_at: datetime | None = None

    def may_read(self, user_id: str, role: Role) -> bool:
        if user_id in self.participants:
            return True
        return self.kind is ThreadKind.SUPPORT and role is Role.ADMIN


@frozen
class Attachment:
    id: str
    message_id: str
    blob_key: str
    filename: str
    content_type: str
    size: int
    sha256: str


@frozen
class Message:
    id: str
    thread_id: str
    author_id: str | None  # None: the platform (event messages)
    kind: MessageKind
    body: str
    language: str  # the language it was written in (the author's preference)
    created_at: datetime
    event: str | None = None
    event_data: Mapping[str, str] = field(factory=dict, converter=_frozen_mapping, hash=False)
    attachments: tuple[Attachment, ...] = ()
    removed: bool = False  # erased at the author's request: counterparties see "message removed"

    def __deepcopy__(self, memo: dict[int, object]) -> Self:
        return self  # immutable (its mapping is a read-only proxy, which cannot be copied)


@frozen
class ReadMarker:
    thread_id: str
    user_id: str
    read_at: datetime


@frozen
class UnreadDigest:
    """Messages a participant has neither read nor been told about yet."""

    thread_id: str
    user_id: str
    count: int
    newest_at: datetime


@frozen
class CachedTranslation:
    message_id: str
    language: str
    text: str
    created_at: datetime


def clean_body(raw: object, *, allow_empty: bool = False, field: str = "body") -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise ValidationFailed("A message is text.", field=field)
    text = raw.replace("\r\n", "\n").strip()
    if any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in text):
        raise ValidationFailed("Messages may not contain control characters.", field=field)
    if not text and not allow_empty:
        raise ValidationFailed("Write a message (or attach a file).", field=field)
    if len(text) > MAX_MESSAGE_CHARS:
        raise ValidationFailed(f"Messages are limited to {MAX_MESSAGE_CHARS} characters.", field=field)
    return text


class TranslationPlan(enum.Enum):
    SAME_LANGUAGE = "same_language"  # shown as written
    TRANSLATE = "translate"  # may go to the AI port (or the cache)
    REFUSED_AUTHOR = "refused_author"  # the author objects to AI processing or is restricted
    REFUSED_READER = "refused_reader"  # the reader objects or is restricted
    NOT_TEXT = "not_text"  # event messages are rendered per language, removed ones have no text


def ai_allowed(user: User | None) -> bool:
    """P38, P40: never send a restricted or objecting person's data to AI. An
    author who no longer exists is treated as objecting."""
    if user is None:
        return False
    return user.status is UserStatus.ACTIVE and user.ai_objection_at is None


def translation_plan(message: Message, reader: User, author: User | None) -> TranslationPlan:
    if message.kind is not MessageKind.TEXT or message.removed or not message.body:
        return TranslationPlan.NOT_TEXT
    if message.language == reader.language.value:
        return TranslationPlan.SAME_LANGUAGE
    if not ai_allowed(reader):
        return TranslationPlan.REFUSED_READER
    if not ai_allowed(author):
        return TranslationPlan.REFUSED_AUTHOR
    return TranslationPlan.TRANSLATE
