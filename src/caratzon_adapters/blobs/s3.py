"""Design assets in S3 or any S3-compatible store (P22, P27).

Objects are encrypted at rest (SSE-S3, AES256) and served through presigned GET
links; the store checks their signature and expiry, not us.

This module imports neither boto3 nor botocore: the client is built by
:mod:`caratzon_adapters.blobs.factory` (or by a test) and passed in, and its
errors are reached through ``client.exceptions``.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, cast

from caratzon_core.blobs import (
    CHUNK,
    BlobMissing,
    SignedLink,
    StoredBlob,
    check_content_type,
    check_key,
    content_disposition,
    link_seconds,
    too_large,
)
from caratzon_core.ports import Clock

log = logging.getLogger(__name__)

# SigV4 presigned URLs cannot live longer than seven days.
MAX_LINK_SECONDS = 7 * 24 * 3600
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


class _StreamAborted(Exception):
    """Carries a BaseException (KeyboardInterrupt, SystemExit, GreenletExit) raised
    by the caller's stream across s3transfer's worker thread: s3transfer cleans up
    after an ``Exception`` but can wait forever after a bare ``BaseException``
    raised mid-multipart. :meth:`S3BlobStore.put` re-raises the original."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(repr(original))
        self.original = original


class _MeteredReader:
    """Wraps the caller's stream for ``upload_fileobj``: hashes and counts every
    byte, and raises :class:`BlobTooLarge` the moment the count passes the limit.

    ``read(n)`` fills ``n`` bytes unless the stream ends: s3transfer takes a short
    read for the end of the stream, and multipart parts under 5 MiB are refused.
    There is deliberately no ``seek``/``tell``/``seekable``: s3transfer then treats
    the body as a one-way stream and never tries to rewind it. (It reads from its
    own submission thread; exceptions raised here reach the caller unchanged.)
    """

    def __init__(self, stream: BinaryIO, max_bytes: int) -> None:
        self._stream = stream
        self._max = max_bytes
        self._digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        want = None if size is None or size < 0 else size
        parts: list[bytes] = []
        got = 0
        while want is None or got < want:
            try:
                chunk = self._stream.read(CHUNK if want is None else min(CHUNK, want - got))
            except Exception:
                raise
            except BaseException as exc:
                raise _StreamAborted(exc) from exc
            if not chunk:
                break
            self.size += len(chunk)
            if self.size > self._max:
                raise too_large(self._max)
            self._digest.update(chunk)
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class S3BlobStore:
    def __init__(self, client: Any, bucket: str, prefix: str, clock: Clock, *, transfer_config: Any = None) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._clock = clock
        self._transfer_config = transfer_config

    @property
    def bucket(self) -> str:
        return self._bucket

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"{self._prefix}/{key}" if self._prefix else key

    def _is_missing(self, exc: Exception) -> bool:
        response = getattr(exc, "response", None) or {}
        return str(response.get("Error", {}).get("Code", "")) in _MISSING

    # -- BlobStore ------------------------------------------------------------------

    def put(self, key: str, stream: BinaryIO, *, content_type: str, max_bytes: int) -> StoredBlob:
        object_key = self.object_key(key)
        reader = _MeteredReader(stream, max_bytes)
        # The SHA-256 is known only once the last byte has gone up, so it is not
        # stored as object metadata: a follow-up copy_object (MetadataDirective
        # REPLACE) would cost a second request and a server-side copy on every
        # upload, and leave a window in which the object has no hash. The hash is
        # returned in StoredBlob and kept with the asset's row, which is the
        # record the rest of the system trusts; S3 itself checks each request's
        # integrity with the SDK's default checksums.
        extra = {"ServerSideEncryption": "AES256", "ContentType": content_type}
        try:
            if self._transfer_config is None:
                self._client.upload_fileobj(reader, self._bucket, object_key, ExtraArgs=extra)
            else:
                self._client.upload_fileobj(
                    reader, self._bucket, object_key, ExtraArgs=extra, Config=self._transfer_config
                )
        except BaseException as exc:
            # upload_fileobj aborts a multipart upload itself, and a single PUT that
            # failed stored nothing; the delete makes "nothing under key" hold even
            # if the failure came after the object landed (keys are generated and
            # never reused, so this cannot remove an older asset).
            self._discard(object_key)
            if isinstance(exc, _StreamAborted):
                raise exc.original from None
            raise
        return StoredBlob(key=key, size=reader.size, sha256=reader.hexdigest(), content_type=content_type)

    def _discard(self, object_key: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=object_key)
        except Exception:
            log.warning("could not remove s3://%s/%s after a failed upload", self._bucket, object_key, exc_info=True)

    def open(self, key: str) -> BinaryIO:
        object_key = self.object_key(key)
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=object_key)
        except self._client.exceptions.ClientError as exc:
            if self._is_missing(exc):
                raise BlobMissing(f"No blob is stored under {key!r}.") from None
            raise
        # botocore's StreamingBody is an io.IOBase with read/close/iteration.
        return cast(BinaryIO, response["Body"])

    def exists(self, key: str) -> bool:
        object_key = self.object_key(key)
        try:
            self._client.head_object(Bucket=self._bucket, Key=object_key)
        except self._client.exceptions.ClientError as exc:
            if self._is_missing(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        # DeleteObject answers 204 for a missing key: idempotent by nature.
        self._client.delete_object(Bucket=self._bucket, Key=self.object_key(key))

    def signed_url(
        self,
        key: str,
        *,
        expires_in: timedelta,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> SignedLink:
        seconds = link_seconds(expires_in)
        if seconds > MAX_LINK_SECONDS:
            raise ValueError(f"S3 links cannot live longer than 7 days, not {expires_in}.")
        params = {"Bucket": self._bucket, "Key": self.object_key(key)}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        if content_type:
            params["ResponseContentType"] = check_content_type(content_type)
        url = self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)
        # botocore dates the signature by the system clock; expires_at follows ours,
        # which is the same clock in production.
        now = int(self._clock.now().timestamp())
        return SignedLink(url=url, expires_at=datetime.fromtimestamp(now + seconds, UTC))
