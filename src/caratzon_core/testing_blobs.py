"""An in-memory fake of the :class:`~caratzon_core.ports.BlobStore` port, with the
same semantics as the real adapters (the shared contract tests hold it to them):
streaming reads with a size limit, SHA-256, all-or-nothing puts, idempotent
deletes, and signed links that expire — ``memory://<key>?exp=…&sig=…`` — which
:meth:`InMemoryBlobStore.verify_link` checks as the local adapter does.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from datetime import timedelta
from typing import BinaryIO
from urllib.parse import parse_qsl

from attrs import frozen

# The `X as X` imports keep exporting the shared constants from here.
from caratzon_core.blobs import BLOB_GONE as BLOB_GONE
from caratzon_core.blobs import CHUNK as CHUNK
from caratzon_core.blobs import LINK_EXPIRED as LINK_EXPIRED
from caratzon_core.blobs import LINK_INVALID as LINK_INVALID
from caratzon_core.blobs import BlobMissing, LinkSigner, SignedLink, StoredBlob, check_key, too_large
from caratzon_core.ports import Clock
from caratzon_core.signing import HmacSigner
from caratzon_core.testing import FakeClock

SCHEME = "memory://"


@frozen
class MemoryLinkCheck:
    """Like the local adapter's ``LinkCheck``, with the bytes instead of a path."""

    ok: bool
    reason: str
    code: str
    data: bytes | None = None
    filename: str | None = None
    content_type: str | None = None


@frozen
class _Blob:
    data: bytes
    content_type: str


def _refused(code: str, reason: str) -> MemoryLinkCheck:
    return MemoryLinkCheck(ok=False, reason=reason, code=code)


class InMemoryBlobStore:
    def __init__(self, *, clock: Clock | None = None, signer: HmacSigner | None = None) -> None:
        self._clock = clock or FakeClock()
        self._signer = signer or HmacSigner(b"memory-blob-links-key-for-tests!", purpose="blob-links")
        self._links = LinkSigner(self._signer, self._clock, SCHEME)
        self.blobs: dict[str, _Blob] = {}

    def put(self, key: str, stream: BinaryIO, *, content_type: str, max_bytes: int) -> StoredBlob:
        check_key(key)
        buffer, digest, size = io.BytesIO(), hashlib.sha256(), 0
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise too_large(max_bytes)
            digest.update(chunk)
            buffer.write(chunk)
        # Published only once the whole stream is in: a failure above leaves nothing.
        self.blobs[key] = _Blob(buffer.getvalue(), content_type)
        return StoredBlob(key=key, size=size, sha256=digest.hexdigest(), content_type=content_type)

    def open(self, key: str) -> BinaryIO:
        blob = self.blobs.get(check_key(key))
        if blob is None:
            raise BlobMissing(f"No blob is stored under {key!r}.")
        return io.BytesIO(blob.data)

    def exists(self, key: str) -> bool:
        return check_key(key) in self.blobs

    def delete(self, key: str) -> None:
        self.blobs.pop(check_key(key), None)

    def signed_url(
        self,
        key: str,
        *,
        expires_in: timedelta,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> SignedLink:
        return self._links.sign(key, expires_in=expires_in, filename=filename, content_type=content_type)

    def verify_link(self, key: str, query: Mapping[str, str]) -> MemoryLinkCheck:
        code, reason, _, fn, ct = self._links.check(key, query, check_key)
        if code != "ok":
            return _refused(code, reason)
        blob = self.blobs.get(key)
        if blob is None:
            return _refused("missing", BLOB_GONE)
        return MemoryLinkCheck(ok=True, reason="", code="ok", data=blob.data, filename=fn, content_type=ct)

    def verify_url(self, url: str) -> MemoryLinkCheck:
        """:meth:`verify_link` for a whole ``memory://`` link: what a test "downloads"."""
        if not url.startswith(SCHEME):
            return _refused("invalid", LINK_INVALID)
        key, _, query = url[len(SCHEME) :].partition("?")
        return self.verify_link(key, dict(parse_qsl(query)))
