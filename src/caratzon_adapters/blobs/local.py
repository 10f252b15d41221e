"""Design assets on the local disk (P22, P27), served only through links we sign.

Files live under ``root/<key>``. Uploads stream into a temporary file in
``root/.tmp`` (same file system, so the final :func:`os.replace` is atomic) and
appear under their key only once complete and fsync'ed: a reader never sees half
a file, and a failed upload leaves nothing behind. ``.tmp`` can never collide
with a key, because keys start with a lower-case letter or digit.

Links are ``{url_prefix}/{key}?exp=…&fn=…&ct=…&sig=…``: an HMAC over a canonical
message of the key, expiry, filename and content type, so changing any of them
breaks the signature. The web route that serves them calls :meth:`verify_link`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qsl, urlsplit

from attrs import frozen

# The link helpers moved to the core; the `X as X` imports keep exporting them from here.
from caratzon_core.blobs import BLOB_GONE as BLOB_GONE
from caratzon_core.blobs import CHUNK as CHUNK
from caratzon_core.blobs import LINK_EXPIRED as LINK_EXPIRED
from caratzon_core.blobs import LINK_INVALID as LINK_INVALID
from caratzon_core.blobs import BlobMissing, LinkSigner, SignedLink, StoredBlob, check_key
from caratzon_core.blobs import check_content_type as check_content_type
from caratzon_core.blobs import content_disposition as content_disposition
from caratzon_core.blobs import format_size as format_size
from caratzon_core.blobs import link_seconds as link_seconds
from caratzon_core.blobs import too_large as too_large
from caratzon_core.errors import ValidationFailed
from caratzon_core.ports import Clock
from caratzon_core.signing import HmacSigner

TMP_DIR = ".tmp"


# -- the adapter ------------------------------------------------------------------------


@frozen
class LinkCheck:
    """The answer to "may this link be served?". ``code`` is ``ok``, ``invalid``,
    ``expired`` or ``missing`` (say 403, 403, 410, 404); ``reason`` is for people."""

    ok: bool
    reason: str
    code: str
    path: Path | None = None
    filename: str | None = None
    content_type: str | None = None

    @property
    def content_disposition(self) -> str:
        return content_disposition(self.filename)


def _refused(code: str, reason: str) -> LinkCheck:
    return LinkCheck(ok=False, reason=reason, code=code)


class LocalBlobStore:
    def __init__(self, root: Path, signer: HmacSigner, clock: Clock, *, url_prefix: str = "/blobs") -> None:
        self._root = Path(root).resolve()
        self._signer = signer
        self._clock = clock
        self._prefix = url_prefix.rstrip("/")
        self._links = LinkSigner(signer, clock, self._prefix + "/")

    @property
    def root(self) -> Path:
        return self._root

    def _path(self, key: str) -> Path:
        check_key(key)
        path = (self._root / key).resolve()
        # check_key already refuses '..' and absolute keys; this also catches symlinks out.
        if not path.is_relative_to(self._root) or path == self._root:
            raise ValidationFailed(f"Invalid blob key {key!r}.", field="key")
        return path

    # -- BlobStore ------------------------------------------------------------------

    def put(self, key: str, stream: BinaryIO, *, content_type: str, max_bytes: int) -> StoredBlob:
        target = self._path(key)
        tmp_dir = self._root / TMP_DIR
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        digest, size, done = hashlib.sha256(), 0, False
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise too_large(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, target)
            done = True
        finally:
            # Any exception at all, KeyboardInterrupt included: the temp file goes.
            if not done:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp_name)
        _fsync_dir(target.parent)
        return StoredBlob(key=key, size=size, sha256=digest.hexdigest(), content_type=content_type)

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise BlobMissing(f"No blob is stored under {key!r}.") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            self._path(key).unlink()

    def signed_url(
        self,
        key: str,
        *,
        expires_in: timedelta,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> SignedLink:
        return self._links.sign(key, expires_in=expires_in, filename=filename, content_type=content_type)

    # -- serving links ----------------------------------------------------------------

    def verify_link(self, key: str, query: Mapping[str, str]) -> LinkCheck:
        """Check a link's key and query string (as the web framework parsed them).
        The signature is checked before the expiry, so only genuine links are ever
        told they expired."""
        code, reason, path, fn, ct = self._links.check(key, query, self._path)
        if path is None:  # set only when the link is genuine and current
            return _refused(code, reason)
        if not path.is_file():
            return _refused("missing", BLOB_GONE)
        return LinkCheck(ok=True, reason="", code="ok", path=path, filename=fn, content_type=ct)

    def verify_url(self, url: str) -> LinkCheck:
        """:meth:`verify_link` for a whole link as :meth:`signed_url` made it."""
        parts = urlsplit(url)
        if not parts.path.startswith(self._prefix + "/"):
            return _refused("invalid", LINK_INVALID)
        return self.verify_link(parts.path[len(self._prefix) + 1 :], dict(parse_qsl(parts.query)))


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where directories can't be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
