"""Blob store adapters (P22, P27): local files with links we sign, and S3 with
presigned links. Build one with :func:`make_blob_store`; none imports boto3
until an S3 store is asked for."""

from caratzon_adapters.blobs.factory import make_blob_store
from caratzon_adapters.blobs.local import LinkCheck, LocalBlobStore, content_disposition
from caratzon_adapters.blobs.s3 import S3BlobStore

__all__ = ["LinkCheck", "LocalBlobStore", "S3BlobStore", "content_disposition", "make_blob_store"]
