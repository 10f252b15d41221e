"""Messaging use cases (issue #4, parts 4 to 6): threads, messages with
attachments, read markers, translation for each reader, support threads, and
the batched "new messages" notices.

Attachments follow the designs' no-orphan rule: keys are recorded as pending
(and committed) before the bytes go to the blob store, and the message row
replaces the records in one transaction.

Translation (P18, P23, P38, P40): only the message text goes to the AI port, and
only when neither its author nor its reader objects to AI processing or is
restricted. Results are cached per message and language. When no translation
can honestly be made (the offline adapter, an outage) the reader sees the
original, marked as not translated.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from datetime import datetime

import attrs
from attrs import frozen

from caratzon_core.access import Action, Actor, Resource, decide
from caratzon_core.accounts import Role, User, clean_text
from caratzon_core.audit import AuditRecord, Outcome
from caratzon_core.blobs import BlobTooLarge, SignedLink
from caratzon_core.designs import AssetKind
from caratzon_core.errors import AIUnavailable, Forbidden, NotFound, ValidationFailed
from caratzon_core.messaging import (
    ATTACHMENT_EXTENSIONS,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_THREAD_TITLE,
    Attachment,
    CachedTranslation,
    Message,
    MessageKind,
    ReadMarker,
    SupportTopic,
    Thread,
    ThreadKind,
    TranslationPlan,
    clean_body,
    translation_plan,
)
from caratzon_core.notices import NoticeKind
from caratzon_core.ports import UnitOfWork
from caratzon_core.services.audit import AuditTrail
from caratzon_core.services.deps import Client, Deps
from caratzon_core.services.designs import Upload, check_filename
from caratzon_core.services.outboxing import enqueue

NOT_TRANSLATED = {
    TranslationPlan.REFUSED_AUTHOR: "Not translated: the author has asked that their messages are not processed by AI.",
    TranslationPlan.REFUSED_READER: "Not translated: you have asked that your data is not processed by AI.",
}
NO_TRANSLATION = "Not translated: no translation service is available, so this is the original."


@frozen
class AttachmentView:
    attachment: Attachment
    link: SignedLink


@frozen
class MessageView:
    message: Message
    author_name: str  # "" for platform events
    mine: bool
    text: str  # what the reader sees first: the translation, or the original
    original: str
    translated: bool
    note: str | None  # why the original is shown, when a translation was wanted
    attachments: tuple[AttachmentView, ...]


@frozen
class ThreadView:
    thread: Thread
    messages: tuple[MessageView, ...]
    participant_names: Mapping[str, str] = attrs.field(hash=False)
    reader_language: str


@frozen
class ThreadSummary:
    thread: Thread
    unread: int
    # Support threads: the requester wrote last, so an admin should answer.
    awaiting_answer: bool = False


@frozen
class DigestResult:
    enqueued: int


class MessagingService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps
        self._trail = AuditTrail(deps.clock, deps.signer)

    # -- access ------------------------------------------------------------------------

    def _audit(self, uow: UnitOfWork, actor_id: str, action: str, subject: str, client: Client,
               detail: Mapping[str, str] | None = None, outcome: str = Outcome.SUCCESS) -> None:
        self._trail.record(uow, AuditRecord(actor_id, action, subject, outcome, client.address, dict(detail or {})))

    def _check(self, actor: Actor, thread: Thread, action: Action, client: Client) -> None:
        """Participants only; on support threads any admin too (and joins by answering)."""
        if thread.kind is ThreadKind.SUPPORT and actor.role is Role.ADMIN:
            decision = decide(actor, Action.SUPPORT_ANSWER, Resource("thread", thread.id))
        elif thread.kind is ThreadKind.ORDER and actor.role in (Role.PRODUCTION_MANAGER, Role.ADMIN):
            # Production managers steer every order (disputes, delays): they read and
            # answer its conversation, and join it by writing.
            decision = decide(actor, Action.ORDER_ROUTE, Resource("thread", thread.id))
        else:
            resource = Resource("thread", thread.id, thread.created_by, grantees=thread.participants)
            decision = decide(actor, action, resource)
        if decision.allowed:
            return
        with self._d.uow() as uow:
            self._audit(uow, actor.id, str(action), f"thread:{thread.id}", client, {"reason": decision.reason},
                        Outcome.DENIED)
            uow.commit()
        raise Forbidden(decision.reason)

    def _thread(self, thread_id: str) -> Thread:
        with self._d.uow() as uow:
            thread = uow.threads.get(thread_id)
        if thread is None:
            raise NotFound("No such conversation.")
        return thread

    # -- writing -----------------------------------------------------------------------

    def open_support(self, actor: Actor, title: str, body: str, *, topic: str = SupportTopic.SUPPORT.value,
                     client: Client = Client()) -> Thread:
        """A support request or feedback: a thread between the person and the admins."""
        if decide(actor, Action.SUPPORT_OPEN, Resource("thread")).allowed is False:
            raise Forbidden(decide(actor, Action.SUPPORT_OPEN, Resource("thread")).reason)
        problems: list[ValidationFailed] = []
        clean_title = text = None
        kind = SupportTopic.SUPPORT
        try:
            clean_title = clean_text(title, field="title", max_length=MAX_THREAD_TITLE, required=True)
        except ValidationFailed as err:
            problems.append(err)
        try:
            text = clean_body(body)
        except ValidationFailed as err:
            problems.append(err)
        try:
            kind = SupportTopic(str(topic))
        except ValueError:
            problems.append(ValidationFailed("The topic is support or feedback.", field="topic"))
        if problems or clean_title is None or text is None:
            raise ValidationFailed.collect(problems)
        now = self._d.clock.now()
        thread = Thread(id=self._d.ids.new_id(), kind=ThreadKind.SUPPORT, title=clean_title, created_by=actor.id,
                        created_at=now, participants=frozenset({actor.id}), topic=kind)
        with self._d.uow() as uow:
            author = uow.users.get(actor.id)
            uow.threads.add(thread)
            uow.threads.add_message(Message(id=self._d.ids.new_id(), thread_id=thread.id, author_id=actor.id,
                                            kind=MessageKind.TEXT, body=text,
                                            language=author.language.value if author else "en", created_at=now))
            uow.threads.mark_read(ReadMarker(thread.id, actor.id, now))
            self._audit(uow, actor.id, f"support.open_{kind.value}", f"thread:{thread.id}", client)
            uow.commit()
        return attrs.evolve(thread, last_message_at=now)

    def post(self, actor: Actor, thread_id: str, body: str | None, attachments: Sequence[Upload] = (),
             client: Client = Client()) -> Message:
        thread = self._thread(thread_id)
        self._check(actor, thread, Action.THREAD_POST, client)
        text = clean_body(body, allow_empty=bool(attachments))
        if len(attachments) > MAX_ATTACHMENTS:
            raise ValidationFailed(f"At most {MAX_ATTACHMENTS} attachments per message.", field="attachments")
        checked = [self._check_attachment(u) for u in attachments]
        now = self._d.clock.now()
        message_id = self._d.ids.new_id()
        keys: list[str] = []
        stored: list[Attachment] = []
        try:
            if checked:
                if self._d.blobs is None:
                    raise ValidationFailed("Attachments are not available here.", field="attachments")
                planned = []
                for upload, filename, ext in checked:
                    attachment_id = self._d.ids.new_id()
                    key = f"threads/{thread.id}/{attachment_id}{ext}".lower()
                    planned.append((upload, filename, ext, attachment_id, key))
                    keys.append(key)
                with self._d.uow() as uow:
                    for key in keys:
                        uow.pending_blobs.add(key, now)
                    uow.commit()
                for upload, filename, ext, attachment_id, key in planned:
                    stored.append(self._store(upload, filename, ext, attachment_id, key, message_id))
            with self._d.uow() as uow:
                author = uow.users.get(actor.id)
                message = Message(id=message_id, thread_id=thread.id, author_id=actor.id, kind=MessageKind.TEXT,
                                  body=text, language=author.language.value if author else "en", created_at=now,
                                  attachments=tuple(stored))
                uow.threads.add_message(message)
                if actor.id not in thread.participants:
                    uow.threads.add_participant(thread.id, actor.id)  # an admin answering joins the thread
                uow.threads.mark_read(ReadMarker(thread.id, actor.id, now))
                for key in keys:
                    uow.pending_blobs.remove(key)
                self._audit(uow, actor.id, "message.post", f"thread:{thread.id}", client,
                            {"message": message.id, "attachments": str(len(stored))})
                uow.commit()
            return message
        except BaseException:
            self._discard(keys)
            raise

    def _check_attachment(self, upload: Upload) -> tuple[Upload, str, str]:
        try:
            filename, ext = check_filename(upload.filename)
        except ValidationFailed as err:
            raise ValidationFailed(err.message, field="attachments") from None
        if ext not in ATTACHMENT_EXTENSIONS:
            raise ValidationFailed(
                f"Attachments may be {', '.join(sorted(ATTACHMENT_EXTENSIONS))}; got {ext}.", field="attachments"
            )
        size = upload.path.stat().st_size
        if size == 0:
            raise ValidationFailed(f"{filename} is empty.", field="attachments")
        if size > MAX_ATTACHMENT_BYTES:
            raise BlobTooLarge(f"{filename} is larger than the {MAX_ATTACHMENT_BYTES // 2**20} MB limit.",
                               limit=MAX_ATTACHMENT_BYTES)
        if ext == ".pdf":
            with upload.path.open("rb") as f:
                if not f.read(5) == b"%PDF-":
                    raise ValidationFailed(f"{filename} is not a PDF document.", field="attachments")
        return upload, filename, ext

    def _store(self, upload: Upload, filename: str, ext: str, attachment_id: str, key: str,
               message_id: str) -> Attachment:
        assert self._d.blobs is not None
        if ext == ".pdf":
            with upload.path.open("rb") as stream:
                blob = self._d.blobs.put(key, stream, content_type="application/pdf",
                                         max_bytes=MAX_ATTACHMENT_BYTES)
            return Attachment(attachment_id, message_id, key, filename, "application/pdf", blob.size, blob.sha256)
        if self._d.inspector is None:
            raise ValidationFailed("Image attachments are not available here.", field="attachments")
        # Images are judged by their bytes and re-encoded without EXIF/GPS, like design images.
        try:
            inspection = self._d.inspector.inspect(upload.path, extension=ext, kind=AssetKind.IMAGE)
        except ValidationFailed as err:
            raise ValidationFailed(f"{filename}: {err.message}", field="attachments") from None
        try:
            with inspection.clean_path.open("rb") as stream:
                blob = self._d.blobs.put(key, stream, content_type=inspection.content_type,
                                         max_bytes=MAX_ATTACHMENT_BYTES)
        finally:
            if inspection.clean_path != upload.path:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(inspection.clean_path)
        return Attachment(attachment_id, message_id, key, filename, inspection.content_type, blob.size, blob.sha256)

    def _discard(self, keys: list[str]) -> None:
        if not keys or self._d.blobs is None:
            return
        gone = []
        for key in keys:
            try:
                self._d.blobs.delete(key)
                gone.append(key)
            except Exception:  # noqa: S112 - the pending-blob sweep retries what failed here
                continue
        if gone:
            with self._d.uow() as uow:
                for key in gone:
                    uow.pending_blobs.remove(key)
                uow.commit()

    # -- reading -----------------------------------------------------------------------

    def read(self, actor: Actor, thread_id: str, *, mark_read: bool = True, client: Client = Client()) -> ThreadView:
        """The thread as this reader sees it: each message in their language where it
        may be translated, with the original beside it."""
        thread = self._thread(thread_id)
        self._check(actor, thread, Action.THREAD_READ, client)
        with self._d.uow() as uow:
            reader = uow.users.get(actor.id)
            messages = uow.threads.messages(thread.id)
            author_ids = {m.author_id for m in messages if m.author_id} | set(thread.participants)
            people = {uid: uow.users.get(uid) for uid in author_ids}
            language = reader.language.value if reader else "en"
            cached = uow.translations.get_many([m.id for m in messages], language)
        if reader is None:
            raise NotFound("No such account.")
        fresh: list[CachedTranslation] = []
        views = [self._view(actor, m, reader, people.get(m.author_id) if m.author_id else None, cached, fresh)
                 for m in messages]
        if fresh or (mark_read and messages):
            with self._d.uow() as uow:
                for translation in fresh:
                    uow.translations.put(translation)
                if mark_read and messages and thread.may_read(actor.id, actor.role) and actor.id in thread.participants:
                    uow.threads.mark_read(ReadMarker(thread.id, actor.id, max(m.created_at for m in messages)))
                uow.commit()
        names = {uid: (u.name if u else "Former user") for uid, u in people.items()}
        return ThreadView(thread, tuple(views), names, language)

    def _view(self, actor: Actor, message: Message, reader: User, author: User | None,
              cached: Mapping[str, CachedTranslation], fresh: list[CachedTranslation]) -> MessageView:
        links = tuple(AttachmentView(a, self._link(a)) for a in message.attachments) if not message.removed else ()
        name = (author.name if author else "Former user") if message.author_id else ""
        original = "" if message.removed else message.body
        view = MessageView(message, name, message.author_id == actor.id, original, original, False, None, links)
        if message.author_id == actor.id:
            return view
        plan = translation_plan(message, reader, author)
        if plan in NOT_TRANSLATED:
            return attrs.evolve(view, note=NOT_TRANSLATED[plan])
        if plan is not TranslationPlan.TRANSLATE:
            return view
        hit = cached.get(message.id)
        if hit is not None:
            return attrs.evolve(view, text=hit.text, translated=True)
        if self._d.ai is None:
            return attrs.evolve(view, note=NO_TRANSLATION)
        try:
            text = self._d.ai.translate(message.body, message.language, reader.language.value)
        except AIUnavailable:
            return attrs.evolve(view, note="Not translated: the translation service is unavailable right now.")
        if not text:
            return attrs.evolve(view, note=NO_TRANSLATION)
        fresh.append(CachedTranslation(message.id, reader.language.value, text, self._d.clock.now()))
        return attrs.evolve(view, text=text, translated=True)

    def _link(self, attachment: Attachment) -> SignedLink:
        assert self._d.blobs is not None
        return self._d.blobs.signed_url(attachment.blob_key, expires_in=self._d.settings.link_ttl,
                                        filename=attachment.filename, content_type=attachment.content_type)

    def attachment_link(self, actor: Actor, attachment_id: str, client: Client = Client()) -> SignedLink:
        with self._d.uow() as uow:
            found = uow.threads.get_attachment(attachment_id)
            thread = uow.threads.get(found[0].thread_id) if found else None
        if found is None or thread is None or found[0].removed:
            raise NotFound("No such attachment.")
        self._check(actor, thread, Action.THREAD_READ, client)
        return self._link(found[0].attachments[found[1]])

    def threads(self, actor: Actor) -> list[ThreadSummary]:
        with self._d.uow() as uow:
            threads = uow.threads.list_for_user(actor.id)
            unread = uow.threads.unread_counts(actor.id)
        return [ThreadSummary(t, unread.get(t.id, 0)) for t in threads]

    def support_threads(self, actor: Actor, client: Client = Client()) -> list[ThreadSummary]:
        """Admins: every support request and piece of feedback. Others: their own."""
        if actor.role is not Role.ADMIN:
            return [s for s in self.threads(actor) if s.thread.kind is ThreadKind.SUPPORT]
        if not decide(actor, Action.SUPPORT_ANSWER, Resource("thread")).allowed:
            raise Forbidden(decide(actor, Action.SUPPORT_ANSWER, Resource("thread")).reason)
        out = []
        with self._d.uow() as uow:
            unread = uow.threads.unread_counts(actor.id)
            for t in uow.threads.list_support():
                last = uow.threads.messages(t.id, limit=1)
                waiting = bool(last) and last[-1].author_id == t.created_by
                out.append(ThreadSummary(t, unread.get(t.id, 0), waiting))
        return out

    # -- batched notices ---------------------------------------------------------------------

    def enqueue_digests(self, actor: Actor, client: Client = Client()) -> DigestResult:
        """One "new messages" mail per person and thread once the thread has been quiet
        for a while, counting what they have neither read nor been told about."""
        if not decide(actor, Action.WORKER_RUN, Resource("outbox")).allowed:
            raise Forbidden(decide(actor, Action.WORKER_RUN, Resource("outbox")).reason)
        now = self._d.clock.now()
        enqueued = 0
        with self._d.uow() as uow:
            for digest in uow.threads.undigested(now - self._d.settings.digest_quiet):
                user = uow.users.get(digest.user_id)
                thread = uow.threads.get(digest.thread_id)
                if user is not None and thread is not None:
                    path = (f"/negotiations/{thread.subject_id}" if thread.kind is ThreadKind.NEGOTIATION
                            else f"/messages/{thread.id}")
                    values = {"count": str(digest.count), "thread_title": thread.title,
                              "url": self._d.settings.base_url.rstrip("/") + path}
                    if enqueue(uow, self._d.ids, dedupe_key=f"digest:{thread.id}:{user.id}:{_stamp(digest.newest_at)}",
                               kind=NoticeKind.NEW_MESSAGES, to=user, values=values, now=now):
                        enqueued += 1
                uow.threads.mark_digested(digest.thread_id, digest.user_id, digest.newest_at)
            uow.commit()
        return DigestResult(enqueued)


def _stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%S%f")
