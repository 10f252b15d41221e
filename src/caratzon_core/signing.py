"""HMAC-SHA256 signatures: the audit head and checkpoints now, asset links later.

Pure standard library, so it lives in the core; a KMS-backed signer could
replace it through the :class:`~caratzon_core.ports.Signer` port.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


class HmacSigner:
    def __init__(self, key: bytes, *, purpose: str = "caratzon") -> None:
        if len(key) < 32:
            raise ValueError("signing keys must be at least 32 bytes")
        # Derive one key per purpose so a signature made for one use is never valid for another.
        self._key = hmac.new(key, purpose.encode("utf-8"), hashlib.sha256).digest()

    def sign(self, message: bytes) -> str:
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def verify(self, message: bytes, signature: str) -> bool:
        # Compare bytes: compare_digest refuses non-ASCII str, and signatures come from users.
        given = (signature or "").encode("utf-8", "surrogateescape") if isinstance(signature, str) else b""
        return hmac.compare_digest(self.sign(message).encode("ascii"), given)
