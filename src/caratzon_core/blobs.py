"""Blob storage vocabulary (P22, P27): what a stored asset is and what a signed,
expiring link to it looks like. The store itself is the BlobStore port."""

from __future__ import annotations

import re
from datetime import datetime

from attrs import frozen

from caratzon_core.errors import DomainError, ValidationFailed

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
