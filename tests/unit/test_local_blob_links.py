"""P22, P27: the local blob store's links are ours to sign and to check, so their
refusals are tested here for real: expired, tampered, garbled, escaping the root.
(S3's links are checked by S3; see tests/integration/test_s3_blob_store.py.)"""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caratzon_adapters.blobs import LocalBlobStore, content_disposition, make_blob_store
from caratzon_adapters.blobs.local import TMP_DIR
from caratzon_core.errors import ValidationFailed
from caratzon_core.signing import HmacSigner
from caratzon_core.testing import FakeClock
from caratzon_core.testing_blobs import InMemoryBlobStore

SIGNER = HmacSigner(b"L" * 32, purpose="blob-links")
KEY = "d0c5/5e1f/model.stl"
FIVE_MINUTES = timedelta(minutes=5)


def make_store(root: Path) -> tuple[LocalBlobStore, FakeClock]:
    clock = FakeClock()
    store = LocalBlobStore(root, SIGNER, clock)
    store.put(KEY, io.BytesIO(b"solid gold"), content_type="model/stl", max_bytes=1000)
    return store, clock


def split(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    assert parts.path.startswith("/blobs/")
    return parts.path.removeprefix("/blobs/"), dict(parse_qsl(parts.query, keep_blank_values=True))


@pytest.fixture
def store(tmp_path: Path) -> tuple[LocalBlobStore, FakeClock]:
    return make_store(tmp_path / "blobs")


def test_a_fresh_link_is_accepted_with_its_name_and_type(store) -> None:
    blobs, _ = store
    link = blobs.signed_url(KEY, expires_in=FIVE_MINUTES, filename="Ring Ø18.stl", content_type="model/stl")
    key, query = split(link.url)

    check = blobs.verify_link(key, query)

    assert (check.ok, check.code, check.filename, check.content_type) == (True, "ok", "Ring Ø18.stl", "model/stl")
    assert check.path is not None and check.path.read_bytes() == b"solid gold"
    assert check.content_disposition == content_disposition("Ring Ø18.stl")
    assert set(query) == {"exp", "fn", "ct", "sig"}


def test_the_link_expires_after_its_lifetime(store) -> None:
    blobs, clock = store
    key, query = split(blobs.signed_url(KEY, expires_in=FIVE_MINUTES).url)

    clock.advance(FIVE_MINUTES - timedelta(seconds=1))
    assert blobs.verify_link(key, query).ok

    clock.advance(timedelta(seconds=1))
    check = blobs.verify_link(key, query)
    assert (check.ok, check.code, check.reason) == (False, "expired", "This link has expired.")
    assert check.path is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("key", "d0c5/5e1f/other.stl"),
        ("exp", "9999999999"),
        ("fn", "invoice.pdf"),
        ("ct", "text/html"),
        ("sig", "A" * 43),
    ],
)
def test_a_tampered_link_is_invalid(store, field: str, value: str) -> None:
    blobs, _ = store
    blobs.put("d0c5/5e1f/other.stl", io.BytesIO(b"other"), content_type="model/stl", max_bytes=100)
    key, query = split(
        blobs.signed_url(KEY, expires_in=FIVE_MINUTES, filename="ring.stl", content_type="model/stl").url
    )
    if field == "key":
        key = value
    else:
        query[field] = value

    check = blobs.verify_link(key, query)

    assert (check.ok, check.code, check.reason) == (False, "invalid", "This link is invalid.")


@pytest.mark.parametrize("field", ["fn", "ct"])
def test_adding_a_name_or_type_the_link_did_not_carry_is_invalid(store, field: str) -> None:
    blobs, _ = store
    key, query = split(blobs.signed_url(KEY, expires_in=FIVE_MINUTES).url)

    assert not blobs.verify_link(key, {**query, field: "text/html"}).ok


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"exp": "1800000000"},
        {"sig": "A" * 43},
        {"exp": "", "sig": "A" * 43},
        {"exp": "soon", "sig": "A" * 43},
        {"exp": "-1", "sig": "A" * 43},
        {"exp": "١٧٩٩٩٩٩٩٩٩", "sig": "A" * 43},  # Arabic-Indic digits: int() would take them
        {"exp": "1" * 40, "sig": "A" * 43},
        {"exp": "1800000000", "sig": "é" * 43},  # hmac.compare_digest raises on non-ASCII
        {"exp": "1800000000", "sig": "short"},
    ],
)
def test_missing_or_garbled_parameters_are_invalid(store, query: dict[str, str]) -> None:
    blobs, _ = store
    check = blobs.verify_link(KEY, query)
    assert (check.ok, check.code) == (False, "invalid")


def test_a_link_to_a_deleted_file_is_missing(store) -> None:
    blobs, _ = store
    key, query = split(blobs.signed_url(KEY, expires_in=FIVE_MINUTES).url)

    blobs.delete(KEY)

    assert blobs.verify_link(key, query).code == "missing"


@pytest.mark.parametrize(
    "key", ["../secret", "a/../../secret", "/etc/passwd", "a\\..\\b", "%2e%2e/secret", ".tmp/upload-x", "a/./b"]
)
def test_path_traversal_keys_are_refused(store, key: str) -> None:
    blobs, _ = store
    # Even a correctly signed link cannot name them: signed_url refuses to sign.
    with pytest.raises(ValidationFailed):
        blobs.signed_url(key, expires_in=FIVE_MINUTES)
    with pytest.raises(ValidationFailed):
        blobs.put(key, io.BytesIO(b"x"), content_type="text/plain", max_bytes=10)
    _, query = split(blobs.signed_url(KEY, expires_in=FIVE_MINUTES).url)
    assert blobs.verify_link(key, query).code == "invalid"


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    blobs, _ = make_store(tmp_path / "blobs")
    (tmp_path / "secret").write_text("private key")
    os.symlink(tmp_path / "secret", tmp_path / "blobs" / "leak")

    with pytest.raises(ValidationFailed):
        blobs.open("leak")
    assert not blobs.verify_url(blobs.signed_url("leak", expires_in=FIVE_MINUTES).url).ok


def test_urls_outside_the_prefix_are_invalid(store) -> None:
    blobs, _ = store
    link = blobs.signed_url(KEY, expires_in=FIVE_MINUTES)
    assert blobs.verify_url(link.url).ok
    assert not blobs.verify_url(link.url.replace("/blobs/", "/other/")).ok


def test_a_link_signed_with_another_key_is_invalid(tmp_path: Path) -> None:
    blobs, clock = make_store(tmp_path / "blobs")
    other = LocalBlobStore(tmp_path / "blobs", HmacSigner(b"M" * 32, purpose="blob-links"), clock)

    assert not blobs.verify_url(other.signed_url(KEY, expires_in=FIVE_MINUTES).url).ok


class Interrupting(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        raise KeyboardInterrupt


def test_an_interrupted_upload_leaves_no_temp_file(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs", SIGNER, FakeClock())

    with pytest.raises(KeyboardInterrupt):
        blobs.put(KEY, Interrupting(), content_type="model/stl", max_bytes=100)

    assert not blobs.exists(KEY)
    assert list((tmp_path / "blobs" / TMP_DIR).iterdir()) == []


def test_the_factory_builds_local_stores(tmp_path: Path) -> None:
    clock = FakeClock()
    for url in (None, "", "local", "file://"):
        built = make_blob_store(url, data_dir=tmp_path, signer=SIGNER, clock=clock)
        assert isinstance(built, LocalBlobStore) and built.root == (tmp_path / "blobs").resolve()
    built = make_blob_store(f"file://{tmp_path}/elsewhere", data_dir=tmp_path, signer=SIGNER, clock=clock)
    assert isinstance(built, LocalBlobStore) and built.root == (tmp_path / "elsewhere").resolve()


@pytest.mark.parametrize("url", ["ftp://host/x", "gs://bucket", "s3://", "s3://Bad_Bucket/x", "file://host/x", "blobs"])
def test_the_factory_refuses_unknown_stores_clearly(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError, match="use 'local', 'file:///absolute/path' or 's3://bucket/prefix'"):
        make_blob_store(url, data_dir=tmp_path, signer=SIGNER, clock=FakeClock())


@pytest.mark.parametrize(
    ("filename", "header"),
    [
        ("ring.stl", "attachment; filename=\"ring.stl\"; filename*=UTF-8''ring.stl"),
        ("café.stl", "attachment; filename=\"cafe.stl\"; filename*=UTF-8''caf%C3%A9.stl"),
        ("戒指.stl", "attachment; filename=\"__.stl\"; filename*=UTF-8''%E6%88%92%E6%8C%87.stl"),
        ('a"b.stl', "attachment; filename=\"a_b.stl\"; filename*=UTF-8''a%22b.stl"),
        ("x\r\nSet-Cookie: y", "attachment; filename=\"xSet-Cookie: y\"; filename*=UTF-8''xSet-Cookie%3A%20y"),
        ("../../etc/passwd", "attachment; filename=\".._.._etc_passwd\"; filename*=UTF-8''.._.._etc_passwd"),
        (None, "attachment"),
        ("\n", "attachment"),
    ],
)
def test_content_disposition_follows_rfc_6266(filename: str | None, header: str) -> None:
    assert content_disposition(filename) == header


# -- properties -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalBlobStore, InMemoryBlobStore, str, str]:
    local, _ = make_store(tmp_path_factory.mktemp("blobs"))
    memory = InMemoryBlobStore()
    memory.put(KEY, io.BytesIO(b"solid gold"), content_type="model/stl", max_bytes=1000)
    args = {"expires_in": FIVE_MINUTES, "filename": "Ring Ø18.stl", "content_type": "model/stl"}
    return local, memory, local.signed_url(KEY, **args).url, memory.signed_url(KEY, **args).url


@settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(["exp", "sig"]),
    position=st.integers(min_value=0, max_value=100),
    replacement=st.characters(codec="utf-8", exclude_characters="&#"),
    delete=st.booleans(),
)
def test_any_single_character_change_to_exp_or_sig_is_refused(
    linked, field: str, position: int, replacement: str, delete: bool
) -> None:
    local, memory, local_url, memory_url = linked
    for verify, url in ((local.verify_url, local_url), (memory.verify_url, memory_url)):
        base, _, query = url.partition("?")
        params = dict(parse_qsl(query))
        assert verify(url).ok
        value = params[field]
        i = position % len(value)
        if not delete and replacement == value[i]:
            continue
        params[field] = value[:i] + ("" if delete else replacement) + value[i + 1 :]

        check = verify(f"{base}?{urlencode(params)}")

        assert not check.ok and check.code == "invalid"
