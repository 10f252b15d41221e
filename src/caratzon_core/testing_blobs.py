"""An in-memory fake of the :class:`~caratzon_core.ports.BlobStore` port, with the
same semantics as the real adapters (the shared contract tests hold it to them):
streaming reads with a size limit, SHA-256, all-or-nothing puts, idempotent
deletes, and signed links that expire — ``memory://<key>?exp=…&sig=…`` — which
:meth:`InMemoryBlobStore.verify_link` checks as the local adapter does.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import BinaryIO
from urllib.parse import parse_qsl, quote, urlencode

from attrs import frozen

from caratzon_core.blobs import BlobMissing, BlobTooLarge, SignedLink, StoredBlob, check_key
from caratzon_core.errors import ValidationFailed
from caratzon_core.ports import Clock
from caratzon_core.signing import HmacSigner
from caratzon_core.testing import FakeClock

CHUNK = 1024 * 1024
SCHEME = "memory://"
LINK_INVALID = "This link is invalid."
LINK_EXPIRED = "This link has expired."
BLOB_GONE = "This file is no longer available."

_EXP = re.compile(r"[0-9]{1,12}")
_SIG = re.compile(r"[A-Za-z0-9_-]{43}")
_CONTENT_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=(\"[ -~]*\"|[\w.+-]+))*", re.ASCII)


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


def _too_large(max_bytes: int) -> BlobTooLarge:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if max_bytes >= scale:
            return BlobTooLarge(
                f"The file is larger than the {round(max_bytes / scale, 1):g} {unit} limit.", limit=max_bytes
            )
    return BlobTooLarge(f"The file is larger than the {max_bytes} bytes limit.", limit=max_bytes)


def _message(key: str, exp: str, filename: str, content_type: str) -> bytes:
    return json.dumps(["caratzon-blob-link/1", key, exp, filename, content_type], separators=(",", ":")).encode()


def _refused(code: str, reason: str) -> MemoryLinkCheck:
    return MemoryLinkCheck(ok=False, reason=reason, code=code)


class InMemoryBlobStore:
    def __init__(self, *, clock: Clock | None = None, signer: HmacSigner | None = None) -> None:
        self._clock = clock or FakeClock()
        self._signer = signer or HmacSigner(b"memory-blob-links-key-for-tests!", purpose="blob-links")
        self.blobs: dict[str, _Blob] = {}

    def put(self, key: str, stream: BinaryIO, *, content_type: str, max_bytes: int) -> StoredBlob:
        check_key(key)
        buffer, digest, size = io.BytesIO(), hashlib.sha256(), 0
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
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
        check_key(key)
        seconds = int(expires_in.total_seconds())
        if seconds < 1:
            raise ValueError(f"A link must live at least one second, not {expires_in}.")
        exp = int(self._clock.now().timestamp()) + seconds
        if content_type and not _CONTENT_TYPE.fullmatch(content_type):
            raise ValueError(f"Not a content type: {content_type!r}.")
        fn, ct = filename or "", content_type or ""
        params = {"exp": str(exp)}
        if fn:
            params["fn"] = fn
        if ct:
            params["ct"] = ct
        params["sig"] = self._signer.sign(_message(key, str(exp), fn, ct))
        return SignedLink(
            url=f"{SCHEME}{key}?{urlencode(params, quote_via=quote)}",
            expires_at=datetime.fromtimestamp(exp, UTC),
        )

    def verify_link(self, key: str, query: Mapping[str, str]) -> MemoryLinkCheck:
        exp, sig = query.get("exp"), query.get("sig")
        fn, ct = query.get("fn", ""), query.get("ct", "")
        if exp is None or sig is None or not _EXP.fullmatch(exp) or not _SIG.fullmatch(sig):
            return _refused("invalid", LINK_INVALID)
        try:
            check_key(key)
        except ValidationFailed:
            return _refused("invalid", LINK_INVALID)
        if not self._signer.verify(_message(key, exp, fn, ct), sig):
            return _refused("invalid", LINK_INVALID)
        if self._clock.now().timestamp() >= int(exp):
            return _refused("expired", LINK_EXPIRED)
        blob = self.blobs.get(key)
        if blob is None:
            return _refused("missing", BLOB_GONE)
        return MemoryLinkCheck(
            ok=True, reason="", code="ok", data=blob.data, filename=fn or None, content_type=ct or None
        )

    def verify_url(self, url: str) -> MemoryLinkCheck:
        """:meth:`verify_link` for a whole ``memory://`` link: what a test "downloads"."""
        if not url.startswith(SCHEME):
            return _refused("invalid", LINK_INVALID)
        key, _, query = url[len(SCHEME) :].partition("?")
        return self.verify_link(key, dict(parse_qsl(query)))
