"""Build the configured blob store from one URL (``CARATZON_BLOB_STORE``):

* unset, ``local`` or ``file://`` → :class:`LocalBlobStore` under ``data_dir/blobs``;
* ``file:///srv/caratzon/blobs`` → :class:`LocalBlobStore` at that absolute path;
* ``s3://bucket/prefix`` → :class:`S3BlobStore` (boto3 is imported only then).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from caratzon_adapters.blobs.local import LocalBlobStore
from caratzon_adapters.blobs.s3 import S3BlobStore
from caratzon_core.ports import BlobStore, Clock
from caratzon_core.signing import HmacSigner

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_USAGE = "use 'local', 'file:///absolute/path' or 's3://bucket/prefix'"


def make_blob_store(
    url: str | None,
    *,
    data_dir: Path,
    signer: HmacSigner,
    clock: Clock,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
) -> BlobStore:
    """``signer`` signs local links (give it a purpose of its own, e.g. "blob-links");
    ``endpoint_url`` points the S3 client at MinIO, moto or another S3-compatible store."""
    url = (url or "").strip()
    if url in ("", "local", "file://"):
        return LocalBlobStore(data_dir / "blobs", signer, clock)
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError(f"Blob store {url!r} is not a local absolute path: {_USAGE}.")
        return LocalBlobStore(Path(unquote(parts.path)), signer, clock)
    if parts.scheme == "s3":
        bucket = parts.netloc
        if not _BUCKET.fullmatch(bucket) or parts.query or parts.fragment:
            raise ValueError(f"Blob store {url!r} does not name an S3 bucket: {_USAGE}.")
        return S3BlobStore(
            _s3_client(endpoint_url, region), bucket, parts.path.strip("/"), clock, transfer_config=_transfer_config()
        )
    raise ValueError(f"Unknown blob store {url!r}: {_USAGE}.")


def _s3_client(endpoint_url: str | None, region: str) -> object:
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        # Virtual-host addressing needs DNS per bucket; local stand-ins (MinIO, moto) want paths.
        s3={"addressing_style": "path"} if endpoint_url else {},
    )
    # Credentials come from the usual chain (environment, profile, instance role).
    return boto3.client("s3", region_name=region, endpoint_url=endpoint_url or None, config=config)


def _transfer_config() -> object:
    from boto3.s3.transfer import TransferConfig

    # Uploads of a non-seekable stream are buffered part by part in memory: fewer
    # threads bound that memory per request (8 MiB parts, 4 at a time).
    return TransferConfig(max_concurrency=4)
