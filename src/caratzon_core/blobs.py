"""Blob storage vocabulary (P22, P27): what a stored asset is and what a signed,
expiring link to it looks like. The store itself is the BlobStore port.

The link machinery the stores share lives here too, framework-free: the size
error, the header values a link serves, and links of our own signing —
``{base}{key}?exp=…&fn=…&ct=…&sig=…``, an HMAC over a canonical message of the
key, expiry, filename and content type, so changing any of them breaks the
signature (:class:`LinkSigner` makes and checks them for a store).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote, urlencode

from attrs import frozen

from caratzon_core.errors import DomainError, ValidationFailed

if TYPE_CHECKING:
    from caratzon_core.ports import Clock
    from caratzon_core.signing import HmacSigner

T = TypeVar("T")

CHUNK = 1024 * 1024

LINK_INVALID = "This link is invalid."
LINK_EXPIRED = "This link has expired."
BLOB_GONE = "This file is no longer available."

# Generated keys only: lower-case hex/uuid segments separated by '/'. The user's
# filename is metadata, never part of a key.
_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}(/[a-z0-9][a-z0-9._-]{0,127}){0,7}$")


class BlobTooLarge(DomainError):
    """The upload is larger than allowed (413)."""

    code = "too_large"

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message, field="file")
        self.limit = limit


class BlobMissing(DomainError):
    code = "not_found"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key) or ".." in key:
        raise ValidationFailed(f"Invalid blob key {key!r}.", field="key")
    return key


@frozen
class StoredBlob:
    key: str
    size: int
    sha256: str
    content_type: str


@frozen
class SignedLink:
    url: str
    expires_at: datetime


# -- helpers shared by the stores ---------------------------------------------------------

_EXP = re.compile(r"[0-9]{1,12}")
# type/subtype with optional parameters, printable ASCII only: it becomes a header.
_CONTENT_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=(\"[ -~]*\"|[\w.+-]+))*", re.ASCII)
# HmacSigner.sign gives 32 bytes as unpadded URL-safe base64: 43 characters. Checked
# before hmac.compare_digest, which raises TypeError on non-ASCII strings.
_SIG = re.compile(r"[A-Za-z0-9_-]{43}")
_INVALID = ("invalid", LINK_INVALID, None, None, None)


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


# -- links of our own signing ---------------------------------------------------------------


def link_message(key: str, exp: str, filename: str, content_type: str) -> bytes:
    """The canonical message a link's ``sig`` signs."""
    # JSON is unambiguous whatever the filename holds (quotes, newlines, '&', '=').
    return json.dumps(["caratzon-blob-link/1", key, exp, filename, content_type], separators=(",", ":")).encode()


def sign_link_query(signer: HmacSigner, key: str, expires_at: int, filename: str, content_type: str) -> dict[str, str]:
    """A link's query parameters, in URL order: ``exp``, ``fn`` and ``ct`` when
    given, then ``sig``."""
    params = {"exp": str(expires_at)}
    if filename:
        params["fn"] = filename
    if content_type:
        params["ct"] = content_type
    params["sig"] = signer.sign(link_message(key, str(expires_at), filename, content_type))
    return params


def check_link_query(
    signer: HmacSigner,
    key: str,
    query: Mapping[str, str],
    clock: Clock,
    locate: Callable[[str], T],
) -> tuple[str, str, T | None, str | None, str | None]:
    """Check a link's key and query string (as the web framework parsed them), in
    this order: the query is well formed, ``locate(key)`` does not raise
    :class:`ValidationFailed`, the signature holds, the link has not expired. The
    signature is checked before the expiry, so only genuine links are ever told
    they expired. Whether the blob still exists is the caller's to say.

    Returns ``(code, reason, target, filename, content_type)``: ``code`` is ``ok``,
    ``invalid`` or ``expired``, ``reason`` is for people, and the rest (what
    ``locate`` gave for the key, and what the link serves) is set only when ``ok``."""
    exp, sig = query.get("exp"), query.get("sig")
    fn, ct = query.get("fn", ""), query.get("ct", "")
    if not (isinstance(exp, str) and isinstance(sig, str) and isinstance(fn, str) and isinstance(ct, str)):
        return _INVALID
    if not _EXP.fullmatch(exp) or not _SIG.fullmatch(sig):
        return _INVALID
    try:
        target = locate(key)
    except ValidationFailed:
        return _INVALID
    if not signer.verify(link_message(key, exp, fn, ct), sig):
        return _INVALID
    if clock.now().timestamp() >= int(exp):
        return "expired", LINK_EXPIRED, None, None, None
    return "ok", "", target, fn or None, ct or None


class LinkSigner:
    """Makes and checks one store's links, ``{base}{key}?exp=…&fn=…&ct=…&sig=…``."""

    def __init__(self, signer: HmacSigner, clock: Clock, base: str) -> None:
        self._signer = signer
        self._clock = clock
        self._base = base

    def sign(self, key: str, expires_in: timedelta, filename: str | None, content_type: str | None) -> SignedLink:
        check_key(key)
        exp = int(self._clock.now().timestamp()) + link_seconds(expires_in)
        fn, ct = filename or "", check_content_type(content_type)
        query = urlencode(sign_link_query(self._signer, key, exp, fn, ct), quote_via=quote)
        return SignedLink(url=f"{self._base}{key}?{query}", expires_at=datetime.fromtimestamp(exp, UTC))

    def check(
        self, key: str, query: Mapping[str, str], locate: Callable[[str], T]
    ) -> tuple[str, str, T | None, str | None, str | None]:
        """:func:`check_link_query` with this store's signer and clock."""
        return check_link_query(self._signer, key, query, self._clock, locate)
