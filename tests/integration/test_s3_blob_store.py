"""P22, P27: what only the S3 adapter does — encryption at rest, presigned links
with our lifetime and download name, the factory's S3 client — against moto's
server over real HTTP. The behaviour every store shares is in
tests/contract/test_blob_stores.py."""

from __future__ import annotations

import io
import urllib.request
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from caratzon_adapters.blobs import S3BlobStore, content_disposition, make_blob_store
from caratzon_core.signing import HmacSigner
from caratzon_core.testing import FakeClock

BUCKET = "caratzon-assets"
KEY = "d0c5/5e1f/model.stl"


@pytest.fixture
def endpoint(moto_endpoint: str) -> str:
    return moto_endpoint


@pytest.fixture
def client(fresh_s3):
    return fresh_s3(BUCKET)


@pytest.fixture
def store(client) -> S3BlobStore:
    s3_store = S3BlobStore(client, BUCKET, "designs", FakeClock())
    s3_store.put(KEY, io.BytesIO(b"solid gold"), content_type="model/stl", max_bytes=1000)
    return s3_store


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_objects_are_encrypted_at_rest_under_the_prefix(client, store: S3BlobStore) -> None:
    head = client.head_object(Bucket=BUCKET, Key=f"designs/{KEY}")

    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "model/stl"
    assert head["ContentLength"] == len(b"solid gold")


def test_a_multipart_upload_is_encrypted_too(client, store: S3BlobStore) -> None:
    store.put("big/one", io.BytesIO(b"\0" * (9 * 1024 * 1024)), content_type="model/stl", max_bytes=10 * 1024 * 1024)

    assert client.head_object(Bucket=BUCKET, Key="designs/big/one")["ServerSideEncryption"] == "AES256"


@pytest.mark.parametrize("seconds", [1, 300, 7 * 24 * 3600])
def test_the_presigned_link_lives_exactly_as_long_as_asked(store: S3BlobStore, seconds: int) -> None:
    link = store.signed_url(KEY, expires_in=timedelta(seconds=seconds))

    assert query_of(link.url)["X-Amz-Expires"] == str(seconds)
    assert link.expires_at == FakeClock().now() + timedelta(seconds=seconds)


def test_links_longer_than_sigv4_allows_are_refused(store: S3BlobStore) -> None:
    with pytest.raises(ValueError, match="7 days"):
        store.signed_url(KEY, expires_in=timedelta(days=7, seconds=1))


def test_the_download_name_and_type_come_back_on_get(store: S3BlobStore) -> None:
    name = "Bague « Aurore » Ø18.stl"
    link = store.signed_url(KEY, expires_in=timedelta(minutes=5), filename=name, content_type="model/stl")

    with urllib.request.urlopen(link.url, timeout=10) as response:
        body, headers = response.read(), response.headers

    assert body == b"solid gold"
    assert headers["Content-Disposition"] == content_disposition(name)
    assert "filename*=UTF-8''Bague%20%C2%AB%20Aurore%20%C2%BB%20%C3%9818.stl" in headers["Content-Disposition"]
    assert headers["Content-Type"] == "model/stl"


def test_moto_does_not_enforce_expiry_so_we_assert_the_signed_parameters(store: S3BlobStore) -> None:
    """moto's server checks neither the signature nor the expiry of a presigned
    URL: below, a link whose X-Amz-Date says it was signed in 2001 (and so expired
    in 2001) still fetches with 200, where real S3 answers 403 "Request has
    expired". Refusing expired and tampered links is S3's job, so this suite
    asserts what the adapter controls: SigV4, the credential scope, the lifetime
    (X-Amz-Expires), that only the host header is signed, and that the bucket,
    key, download name and type are in the signed request. Real refusal of
    expired and tampered links is tested on the local store, whose links we
    sign and check ourselves (tests/unit/test_local_blob_links.py). If moto ever
    starts refusing the stale link, turn the last assertion into a refusal test.
    """
    link = store.signed_url(KEY, expires_in=timedelta(minutes=5), filename="ring.stl", content_type="model/stl")
    parts = urlsplit(link.url)
    query = query_of(link.url)

    assert parts.path == f"/{BUCKET}/designs/{KEY}"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Credential"].endswith("/us-east-1/s3/aws4_request")
    assert query["X-Amz-Expires"] == "300"
    assert query["X-Amz-SignedHeaders"] == "host"
    assert len(query["X-Amz-Signature"]) == 64
    assert query["response-content-disposition"] == content_disposition("ring.stl")
    assert query["response-content-type"] == "model/stl"

    stale = link.url.replace(f"X-Amz-Date={query['X-Amz-Date']}", "X-Amz-Date=20010101T000000Z")
    with urllib.request.urlopen(stale, timeout=10) as response:
        assert response.status == 200, "moto now refuses expired links: test the refusal here"


def test_the_factory_builds_an_s3_store_against_an_endpoint(
    endpoint: str, client, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    built = make_blob_store(
        f"s3://{BUCKET}/tenant-a/assets/",
        data_dir=tmp_path,
        signer=HmacSigner(b"L" * 32, purpose="blob-links"),
        clock=FakeClock(),
        endpoint_url=endpoint,
    )
    assert isinstance(built, S3BlobStore)

    stored = built.put(KEY, io.BytesIO(b"via factory"), content_type="model/stl", max_bytes=100)

    assert client.head_object(Bucket=BUCKET, Key=f"tenant-a/assets/{KEY}")["ServerSideEncryption"] == "AES256"
    assert stored.size == len(b"via factory")
    with urllib.request.urlopen(built.signed_url(KEY, expires_in=timedelta(minutes=5)).url, timeout=10) as response:
        assert urlsplit(response.url).path == f"/{BUCKET}/tenant-a/assets/{KEY}"
        assert response.read() == b"via factory"
