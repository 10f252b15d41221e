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
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from attrs import frozen

from caratzon_core.blobs import BlobMissing, BlobTooLarge, SignedLink, StoredBlob, check_key
from caratzon_core.errors import ValidationFailed
from caratzon_core.ports import Clock
from caratzon_core.signing import HmacSigner

CHUNK = 1024 * 1024
TMP_DIR = ".tmp"

LINK_INVALID = "This link is invalid."
LINK_EXPIRED = "This link has expired."
BLOB_GONE = "This file is no longer available."

_EXP = re.compile(r"[0-9]{1,12}")
# type/subtype with optional parameters, printable ASCII only: it becomes a header.
_CONTENT_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=(\"[ -~]*\"|[\w.+-]+))*", re.ASCII)
# HmacSigner.sign gives 32 bytes as unpadded URL-safe base64: 43 characters. Checked
# before hmac.compare_digest, which raises TypeError on non-ASCII strings.
_SIG = re.compile(r"[A-Za-z0-9_-]{43}")


# -- helpers shared with the S3 adapter ------------------------------------------------


def too_large(max_bytes: int) -> BlobTooLarge:
    """The one wording of the size error, whichever store refuses the upload."""
    return BlobTooLarge(f"The file is larger than the {format_size(max_bytes)} limit.", limit=max_bytes)


def format_size(n: int) -> str:
    """``20 * 2**20`` → ``"20 MB"`` (binary units, as people read them on their disk)."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{round(n / scale, 1):g} {unit}"
    return f"{n} bytes"


def link_seconds(expires_in: timedelta) -> int:
    seconds = int(expires_in.total_seconds())
    if seconds < 1:
        raise ValueError(f"A link must live at least one second, not {expires_in}.")
    return seconds


def check_content_type(content_type: str | None) -> str:
    """The content type a link will serve, or ``""``; refuse anything that is not one."""
    if content_type and not _CONTENT_TYPE.fullmatch(content_type):
        raise ValueError(f"Not a content type: {content_type!r}.")
    return content_type or ""


def content_disposition(filename: str | None, *, disposition: str = "attachment") -> str:
    """An RFC 6266 header value: an ASCII ``filename=`` fallback for old clients and
    ``filename*=UTF-8''…`` with the real name. Control characters (header
    injection) and path separators are removed first."""
    if not filename:
        return disposition
    name = "".join("_" if ch in "/\\" else ch for ch in filename if unicodedata.category(ch)[0] != "C").strip()
    if not name:
        return disposition
    # 'é' → 'e'; what has no ASCII form ('Ø', '“', '戒') → '_'.
    decomposed = (ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\%;' else "_" for ch in decomposed)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _link_message(key: str, exp: str, filename: str, content_type: str) -> bytes:
    # JSON is unambiguous whatever the filename holds (quotes, newlines, '&', '=').
    return json.dumps(["caratzon-blob-link/1", key, exp, filename, content_type], separators=(",", ":")).encode()


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
        check_key(key)
        exp = int(self._clock.now().timestamp()) + link_seconds(expires_in)
        fn, ct = filename or "", check_content_type(content_type)
        params = {"exp": str(exp)}
        if fn:
            params["fn"] = fn
        if ct:
            params["ct"] = ct
        params["sig"] = self._signer.sign(_link_message(key, str(exp), fn, ct))
        url = f"{self._prefix}/{key}?{urlencode(params, quote_via=quote)}"
        return SignedLink(url=url, expires_at=datetime.fromtimestamp(exp, UTC))

    # -- serving links ----------------------------------------------------------------

    def verify_link(self, key: str, query: Mapping[str, str]) -> LinkCheck:
        """Check a link's key and query string (as the web framework parsed them).
        The signature is checked before the expiry, so only genuine links are ever
        told they expired."""
        exp, sig = query.get("exp"), query.get("sig")
        fn, ct = query.get("fn", ""), query.get("ct", "")
        if not (isinstance(exp, str) and isinstance(sig, str) and isinstance(fn, str) and isinstance(ct, str)):
            return _refused("invalid", LINK_INVALID)
        if not _EXP.fullmatch(exp) or not _SIG.fullmatch(sig):
            return _refused("invalid", LINK_INVALID)
        try:
            path = self._path(key)
        except ValidationFailed:
            return _refused("invalid", LINK_INVALID)
        if not self._signer.verify(_link_message(key, exp, fn, ct), sig):
            return _refused("invalid", LINK_INVALID)
        if self._clock.now().timestamp() >= int(exp):
            return _refused("expired", LINK_EXPIRED)
        if not path.is_file():
            return _refused("missing", BLOB_GONE)
        return LinkCheck(ok=True, reason="", code="ok", path=path, filename=fn or None, content_type=ct or None)

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
