"""The access and portability export (issue #6, part 2; policy §9).

:meth:`ExportService.export` — by the person themself, or by an admin working an
access or portability request — reads everything about the person through the
:class:`~caratzon_core.ports.PersonalDataReader`, builds the ``caratzon.export/1``
document (:func:`caratzon_core.export.build_document`: counterparties by role and
pseudonym only), zips it with the files the person uploaded, stores the zip in
the blob store under a generated key and hands back a signed link that expires in
24 hours.

Nothing is orphaned: the key is recorded as a pending blob before the upload; the
transaction that records the export in the audit trail (``privacy.export``, its
detail naming the key and expiry) removes the pending record. A failure deletes
the blob at once; a crash leaves the pending record, which the blob janitor
(:meth:`~caratzon_core.services.designs.DesignService.sweep_pending`) cleans up.
The same transaction queues the zip's deletion for when its link expires; the
retention run deletes it then (rule ``export_file``).
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, BinaryIO, cast

from attrs import frozen

from caratzon_core.access import Action, Actor, Resource, decide
from caratzon_core.audit import AuditRecord, Outcome
from caratzon_core.blobs import CHUNK, SignedLink
from caratzon_core.errors import Forbidden, NotFound
from caratzon_core.export import DOCUMENT_NAME, SCHEMA, Pseudonymiser, build_document
from caratzon_core.ports import BlobStore, PersonalDataReader, PrivacyStore
from caratzon_core.services.audit import AuditTrail
from caratzon_core.services.deps import Client, Deps

EXPORT_LINK_TTL = timedelta(hours=24)
EXPORT_FILE_REASON = "export_file"  # the reason its deletion is queued under (retention rule export_file)
# A generous ceiling for one person's zip; the files in it were each capped at upload.
MAX_EXPORT_BYTES = 20 * 1024 * 1024 * 1024


@frozen
class ExportResult:
    key: str
    link: SignedLink
    files: int
    size: int
    sha256: str
    document: Mapping[str, Any]


class ExportService:
    def __init__(self, deps: Deps, reader: PersonalDataReader, processors: Mapping[str, Any],
                 *, link_ttl: timedelta = EXPORT_LINK_TTL, privacy: PrivacyStore | None = None) -> None:
        if deps.blobs is None:
            raise ValueError("ExportService needs a blob store")
        self._d = deps
        self._blobs: BlobStore = deps.blobs
        self._reader = reader
        self._processors = dict(processors)
        self._link_ttl = link_ttl
        self._privacy = privacy
        self._trail = AuditTrail(deps.clock, deps.signer)
        self._pseudonyms = Pseudonymiser(deps.signer)

    def pseudonym(self, user_id: str) -> str:
        """The pseudonym a person appears under in other people's exports."""
        return self._pseudonyms.pseudonym(user_id)

    def _authorize(self, actor: Actor, user_id: str, client: Client) -> None:
        decision = decide(actor, Action.DSR_OPEN, Resource("user", user_id, owner_id=user_id))
        if decision.allowed:
            return
        with self._d.uow() as uow:
            self._trail.record(uow, AuditRecord(
                actor.id, "privacy.export", f"user:{user_id}", Outcome.DENIED, client.address,
                {"reason": decision.reason},
            ))
            uow.commit()
        raise Forbidden("You may only export your own data.")

    def document(self, actor: Actor, user_id: str, client: Client = Client()) -> dict[str, Any]:
        """The JSON document alone (no zip, nothing stored); checked and read like
        :meth:`export`, not audited as an export."""
        self._authorize(actor, user_id, client)
        return self._build(actor, user_id)[0]

    def _build(self, actor: Actor, user_id: str) -> tuple[dict[str, Any], Any]:
        with self._d.uow() as uow:
            user = uow.users.get(user_id)
        if user is None:
            raise NotFound("No such user.")
        data = self._reader.read(user_id)
        doc = build_document(data, generated_at=self._d.clock.now(), pseudonymiser=self._pseudonyms,
                             processors=self._processors, requested_by=actor.id)
        return doc, data

    def export(self, actor: Actor, user_id: str, client: Client = Client()) -> ExportResult:
        self._authorize(actor, user_id, client)
        doc, data = self._build(actor, user_id)
        export_id = self._d.ids.new_id().lower()
        key = f"exports/{export_id}.zip"
        now = self._d.clock.now()
        with self._d.uow() as uow:
            uow.pending_blobs.add(key, now)
            uow.commit()
        try:
            with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as spool:
                with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                    zf.writestr(DOCUMENT_NAME, json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=False))
                    for f in data.files:
                        info = zipfile.ZipInfo(f.zip_path, date_time=now.timetuple()[:6])
                        info.compress_type = zipfile.ZIP_DEFLATED
                        with self._blobs.open(f.blob_key) as src, zf.open(info, "w") as dst:
                            while chunk := src.read(CHUNK):
                                dst.write(chunk)
                spool.seek(0)
                stored = self._blobs.put(key, cast(BinaryIO, spool), content_type="application/zip",
                                         max_bytes=MAX_EXPORT_BYTES)
            link = self._blobs.signed_url(
                key, expires_in=self._link_ttl, content_type="application/zip",
                filename=f"caratzon-export-{now:%Y%m%d}.zip",
            )
            with self._d.uow() as uow:
                uow.pending_blobs.remove(key)
                if self._privacy is not None:
                    # The zip outlives its link by nothing: the retention run deletes it once expired.
                    self._privacy.queue_blobs(uow, [key], reason=EXPORT_FILE_REASON, now=now,
                                              due_at=link.expires_at)
                self._trail.record(uow, AuditRecord(
                    actor.id, "privacy.export", f"user:{user_id}", Outcome.SUCCESS, client.address,
                    {"key": key, "schema": SCHEMA, "files": str(len(data.files)), "size": str(stored.size),
                     "sha256": stored.sha256, "expires_at": link.expires_at.isoformat()},
                ))
                uow.commit()
        except BaseException:
            self._discard(key)
            raise
        return ExportResult(key=key, link=link, files=len(data.files), size=stored.size, sha256=stored.sha256,
                            document=doc)

    def _discard(self, key: str) -> None:
        try:
            self._blobs.delete(key)
        except Exception:
            return
        with self._d.uow() as uow:
            uow.pending_blobs.remove(key)
            uow.commit()
