"""The designs JSON API: a designer's journey with a bearer token, every bad
upload from issue #3 (and that nothing is left behind), signed links through the
/blobs route, and the OpenAPI description of the new routes."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from test_web_designs_support import (  # noqa: F401
    CUBE_STL,
    JPEG,
    OPEN_STL,
    PNG,
    STEP,
    assert_nothing_stored,
    bearer,
    make_designs_app_fixture,
    market_fixture,
    services_fixture,
)

from caratzon_core.designs import DesignStatus


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.json["error"]
    if code:
        assert error["code"] == code
    assert error["message"]
    return error


@pytest.fixture
def ada(market):
    return market.token("ada@example.com", "designer", "Ada Lovelace")


@pytest.fixture
def bob(market):
    return market.token("bob@example.com", "buyer", "Bob Buyer")


# -- the journey -----------------------------------------------------------------------------------


def test_designer_journey_with_a_bearer_token(market, ada, bob, client, store, clock):
    created = market.create(ada)
    design_id = created["id"]
    assert created == {
        "id": design_id,
        "designer_id": market.user_id("ada@example.com"),
        "title": "Art deco solitaire",
        "description": "A stepped platinum setting.",
        "category": "ring",
        "metals": ["platinum_950", "18k_white"],
        "gemstones": [{"type": "diamond", "origin": "lab_grown", "carat": "1.20", "count": 1}],
        "dimensions": {"width_mm": "18.5", "height_mm": "22", "depth_mm": "6.1"},
        "tags": ["art deco", "solitaire"],
        "price": {"amount": "1250.00", "currency": "USD"},
        "status": "draft",
        "created_at": "2026-11-27T09:00:00Z",
        "updated_at": "2026-11-27T09:00:00Z",
        "published_at": None,
    }

    clock.advance(timedelta(minutes=1))
    patched = client.patch(f"/api/v1/designs/{design_id}", headers=bearer(ada),
                           json={"title": "Deco solitaire", "price": {"amount": "990", "currency": "hkd"}})
    assert patched.status_code == 200, patched.json
    assert patched.json["title"] == "Deco solitaire"
    assert patched.json["price"] == {"amount": "990.00", "currency": "HKD"}
    assert patched.json["metals"] == ["platinum_950", "18k_white"]  # untouched
    assert patched.json["updated_at"] == "2026-11-27T09:01:00Z"

    image = market.uploaded(ada, design_id, "front.png", PNG)
    assert image["kind"] == "image" and image["visibility"] == "preview"
    assert image["filename"] == "front.png" and image["content_type"] == "image/png"
    assert image["size"] == len(PNG) and len(image["sha256"]) == 64
    assert image["analysis"] is None

    clock.advance(timedelta(seconds=1))  # assets are listed oldest first
    cad = market.uploaded(ada, design_id, "Ring v2.stl", CUBE_STL, kind="cad", visibility="production")
    analysis = cad["analysis"]
    assert analysis["status"] == "analysed"
    assert analysis["volume_mm3"] == 1000.0 and analysis["watertight"] is True
    assert analysis["bbox_mm"] == [10.0, 10.0, 10.0]
    assert analysis["casting_allowance"] == "0.10"
    weights = {w["alloy"]: w["grams"] for w in analysis["weights"]}
    assert weights["18k_yellow"] == "17.14"  # 1000 mm³ x 15.58 g/cm³ x 1.10
    assert weights["sterling_silver"] == "11.44"

    published = client.post(f"/api/v1/designs/{design_id}/publish", headers=bearer(ada))
    assert published.status_code == 200
    assert published.json["status"] == "published"
    assert published.json["published_at"] == "2026-11-27T09:01:01Z"

    # The owner sees both files; the production file has no ready-made link (it is audited).
    mine = client.get(f"/api/v1/designs/{design_id}", headers=bearer(ada)).json
    assert [a["id"] for a in mine["assets"]] == [image["id"], cad["id"]]
    assert mine["can_edit"] is True and mine["designer"] == {"id": created["designer_id"], "name": "Ada Lovelace"}
    preview, production = mine["assets"]
    assert preview["url"].startswith("http://localhost/blobs/designs/")
    assert preview["expires_at"] == "2026-11-27T09:06:01Z"
    assert preview["thumbnail"]["url"].startswith("http://localhost/blobs/")
    assert production["url"] is None and production["analysis"]["status"] == "analysed"
    fetched = client.get(preview["url"])
    assert fetched.status_code == 200 and fetched.data == PNG
    link = client.get(f"/api/v1/assets/{cad['id']}/url", headers=bearer(ada))
    assert link.status_code == 200
    assert client.get(link.json["url"]).data == CUBE_STL
    assert [e.action for e in store.state.audit].count("asset.production_link") == 1

    # A buyer: the preview only; production CAD is refused with the reason.
    theirs = client.get(f"/api/v1/designs/{design_id}", headers=bearer(bob)).json
    assert [a["id"] for a in theirs["assets"]] == [image["id"]]
    assert theirs["can_edit"] is False and theirs["saved"] is False
    refused = _error(client.get(f"/api/v1/assets/{cad['id']}/url", headers=bearer(bob)), 403, "forbidden")
    assert "Production CAD files are only for the design's owner" in refused["message"]

    saved = client.post(f"/api/v1/designs/{design_id}/save", headers=bearer(bob))
    assert saved.status_code == 200 and saved.json == {"saved": True}
    assert client.get(f"/api/v1/designs/{design_id}", headers=bearer(bob)).json["saved"] is True
    unsaved = client.delete(f"/api/v1/designs/{design_id}/save", headers=bearer(bob))
    assert unsaved.status_code == 200 and unsaved.json == {"saved": False}

    analytics = client.get(f"/api/v1/designs/{design_id}/analytics?days=7", headers=bearer(ada))
    assert analytics.status_code == 200 and analytics.json == {"days": []}  # nobody consented to analytics
    _error(client.get(f"/api/v1/designs/{design_id}/analytics", headers=bearer(bob)), 403, "forbidden")
    _error(client.get(f"/api/v1/designs/{design_id}/analytics?days=x", headers=bearer(ada)), 422)
    _error(client.get(f"/api/v1/designs/{design_id}/analytics?days=0", headers=bearer(ada)), 422)

    withdrawn = client.post(f"/api/v1/designs/{design_id}/withdraw", headers=bearer(ada))
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    _error(client.get(f"/api/v1/designs/{design_id}", headers=bearer(bob)), 403, "forbidden")
    again = client.post(f"/api/v1/designs/{design_id}/withdraw", headers=bearer(ada))
    _error(again, 409, "conflict")
    removed = client.post(f"/api/v1/designs/{design_id}/remove", headers=bearer(ada))
    assert removed.status_code == 200 and removed.json["status"] == "removed"
    _error(client.get(f"/api/v1/designs/{design_id}", headers=bearer(ada)), 404, "not_found")
    assert store.state.designs[design_id].status is DesignStatus.REMOVED


def test_the_design_routes_need_a_token(client, market, ada):
    design_id = market.create(ada)["id"]
    for method, path in [("post", "/api/v1/designs"), ("get", f"/api/v1/designs/{design_id}"),
                         ("patch", f"/api/v1/designs/{design_id}"), ("post", f"/api/v1/designs/{design_id}/assets"),
                         ("post", f"/api/v1/designs/{design_id}/publish"), ("get", "/api/v1/catalog"),
                         ("get", "/api/v1/assets/x/url"), ("delete", f"/api/v1/designs/{design_id}/save"),
                         ("get", f"/api/v1/designs/{design_id}/analytics")]:
        response = getattr(client, method)(path)
        _error(response, 401, "unauthenticated")


def test_patch_price_null_clears_it_and_absent_keeps_it(client, market, ada):
    design_id = market.create(ada)["id"]
    kept = client.patch(f"/api/v1/designs/{design_id}", headers=bearer(ada), json={"description": ""})
    assert kept.json["price"] == {"amount": "1250.00", "currency": "USD"} and kept.json["description"] == ""
    cleared = client.patch(f"/api/v1/designs/{design_id}", headers=bearer(ada), json={"price": None})
    assert cleared.status_code == 200 and cleared.json["price"] is None


def test_jpy_prices_have_no_decimals(client, market, ada):
    design = market.create(ada, price={"amount": "150000", "currency": "JPY"})
    assert design["price"] == {"amount": "150000", "currency": "JPY"}
    error = _error(client.post("/api/v1/designs", headers=bearer(ada),
                               json=market.design_body(price={"amount": "1.5", "currency": "JPY"})), 422)
    assert error["field"] == "price_amount"


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "tiara"}, "category"),
        ({"metals": ["bronze"]}, "metals"),
        ({"gemstones": [{"type": "glass"}]}, "gemstones"),
        ({"gemstones": [{"type": "diamond", "count": "3"}]}, "gemstones"),  # a string is not a count
        ({"price": {"amount": 12.5, "currency": "USD"}}, "price"),  # money is never a float
        ({"price": {"amount": "12.50", "currency": "XYZ"}}, "currency"),
        ({"dimensions": {"width_mm": "-1"}}, "dimensions"),
        ({"tags": ["<script>"]}, "tags"),
        ({"title": ""}, "title"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_designs_are_422_naming_the_field(client, market, ada, store, overrides, field):
    response = client.post("/api/v1/designs", headers=bearer(ada), json=market.design_body(**overrides))
    error = _error(response, 422, "validation_failed")
    assert error["field"] == field
    assert store.state.designs == {}


def test_a_buyer_cannot_create_designs(client, market, bob):
    error = _error(client.post("/api/v1/designs", headers=bearer(bob), json=market.design_body()), 403)
    assert error["message"] == "Only designers may create designs."


def test_editing_someone_elses_design_is_403_with_the_reason(client, market, ada, store):
    design_id = market.published(ada)["id"]
    grace = market.token("grace@example.com", "designer", "Grace Hopper")
    for response in (
        client.patch(f"/api/v1/designs/{design_id}", headers=bearer(grace), json={"title": "Mine now"}),
        client.post(f"/api/v1/designs/{design_id}/withdraw", headers=bearer(grace)),
        client.post(f"/api/v1/designs/{design_id}/remove", headers=bearer(grace)),
        market.upload(grace, design_id, "x.png", PNG),
    ):
        error = _error(response, 403, "forbidden")
        assert error["message"] == "Only the designer who owns a design may edit it."
    assert store.state.designs[design_id].title == "Art deco solitaire"
    assert len(store.state.assets) == 1


def test_publishing_without_a_preview_image_is_422(client, market, ada, store):
    design_id = market.create(ada)["id"]
    market.uploaded(ada, design_id, "ring.stl", CUBE_STL, kind="cad", visibility="preview")
    error = _error(client.post(f"/api/v1/designs/{design_id}/publish", headers=bearer(ada)), 422)
    assert error["field"] == "assets" and "preview image" in error["message"]
    assert store.state.designs[design_id].status is DesignStatus.DRAFT


@pytest.mark.parametrize(
    ("filename", "data", "kind", "visibility", "field", "fragment"),
    [
        ("front.jpg", PNG, "image", "preview", "file", "image/png but is named .jpg"),
        ("front.png", b"GIF89a not a png at all", "image", "preview", "file", "not an image"),
        ("front.png", b"", "image", "preview", "file", "empty"),
        ("../../etc/front.png", PNG, "image", "preview", "file", "path parts"),
        ("front\x07.png", PNG, "image", "preview", "file", "control characters"),
        ("ring.stl", b"this is not a mesh", "cad", "preview", "file", "not a valid STL"),
        ("front.gif", PNG, "image", "preview", "file", "must be one of"),
        ("front.png", PNG, "sculpture", "preview", "kind", "Unknown asset kind"),
        ("front.png", PNG, "image", "secret", "visibility", "Unknown visibility"),
        ("front.png", PNG, "image", "production", "visibility", "Only CAD files"),
        ("noextension", PNG, "image", "preview", "file", "extension"),
    ],
)
def test_bad_uploads_are_422_and_leave_nothing_behind(market, ada, store, config, filename, data, kind,
                                                       visibility, field, fragment):
    design_id = market.create(ada)["id"]
    error = _error(market.upload(ada, design_id, filename, data, kind, visibility), 422, "validation_failed")
    assert error["field"] == field
    assert fragment in error["message"]
    assert_nothing_stored(store, config)


@pytest.mark.parametrize("raw_name", [r"C:\\Users\\ada\\front.png", r"designs\\front.png"])
def test_windows_paths_in_a_raw_multipart_header_are_422(client, market, ada, store, config, raw_name):
    """A quoted header value escapes backslashes, as HTTP clients send them."""
    design_id = market.create(ada)["id"]
    boundary = "caratzon-boundary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nimage\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{raw_name}\"\r\n"
        f"Content-Type: image/png\r\n\r\n"
    ).encode() + PNG + f"\r\n--{boundary}--\r\n".encode()
    response = client.post(f"/api/v1/designs/{design_id}/assets", headers=bearer(ada), data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    error = _error(response, 422, "validation_failed")
    assert error["field"] == "file" and "path parts" in error["message"]
    assert_nothing_stored(store, config)


def test_an_upload_without_a_file_or_with_extra_fields_is_422(client, market, ada, store, config):
    design_id = market.create(ada)["id"]
    response = client.post(f"/api/v1/designs/{design_id}/assets", headers=bearer(ada), data={"kind": "image"},
                           content_type="multipart/form-data")
    assert _error(response, 422)["field"] == "file"
    response = client.post(f"/api/v1/designs/{design_id}/assets", headers=bearer(ada),
                           data={"kind": "image", "file": (io.BytesIO(PNG), "a.png"), "owner": "me"},
                           content_type="multipart/form-data")
    assert _error(response, 422)["field"] == "owner"
    assert_nothing_stored(store, config)


def test_an_image_over_the_settings_limit_is_413(make_designs_app, market, store, tmp_path):
    app = make_designs_app(CARATZON_MAX_IMAGE_MB="1")
    api = app.test_client()
    ada = market.token("ada@example.com")
    design_id = market.create(ada)["id"]
    big = PNG + b"\x00" * (1024 * 1024)
    response = api.post(f"/api/v1/designs/{design_id}/assets", headers=bearer(ada),
                        data={"file": (io.BytesIO(big), "big.png"), "kind": "image"},
                        content_type="multipart/form-data")
    error = _error(response, 413, "too_large")
    assert error["message"] == "The file is larger than the 1 MB limit."
    assert error["field"] == "file"
    assert_nothing_stored(store, app.extensions["caratzon"].config)
    # A CAD file of the same size is within its own (200 MB) limit.
    response = api.post(f"/api/v1/designs/{design_id}/assets", headers=bearer(ada),
                        data={"file": (io.BytesIO(CUBE_STL + b" " * (1024 * 1024)), "big.stl"), "kind": "cad"},
                        content_type="multipart/form-data")
    assert response.status_code == 201, response.json


def test_a_body_over_max_content_length_is_413_before_anything_is_read(make_designs_app, market, store):
    app = make_designs_app(CARATZON_MAX_IMAGE_MB="1", CARATZON_MAX_CAD_MB="1")
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    api = app.test_client()
    ada = market.token("ada@example.com")
    design_id = market.create(ada)["id"]
    huge = CUBE_STL + b" " * (2 * 1024 * 1024)
    response = api.post(f"/api/v1/designs/{design_id}/assets", headers=bearer(ada),
                        data={"file": (io.BytesIO(huge), "huge.stl"), "kind": "cad"},
                        content_type="multipart/form-data")
    error = _error(response, 413, "request_entity_too_large")
    assert "2 MB" in error["message"]
    assert_nothing_stored(store, app.extensions["caratzon"].config)
    # Other routes keep the 1 MB cap on bodies.
    _error(api.patch(f"/api/v1/designs/{design_id}", headers=bearer(ada), data=b"{" + b" " * (1024 * 1024) + b"}",
                     content_type="application/json"), 413)


def test_unknown_cad_formats_are_stored_but_not_analysed(market, ada):
    design_id = market.create(ada)["id"]
    asset = market.uploaded(ada, design_id, "ring.step", STEP, kind="cad", visibility="production")
    assert asset["analysis"]["status"] == "not_analysed"
    assert asset["analysis"]["weights"] == [] and asset["analysis"]["volume_mm3"] is None
    open_mesh = market.uploaded(ada, design_id, "open.stl", OPEN_STL, kind="cad")
    assert open_mesh["analysis"]["status"] == "not_watertight" and open_mesh["analysis"]["weights"] == []
    assert open_mesh["analysis"]["warnings"]


# -- signed links through /blobs --------------------------------------------------------------------


@pytest.fixture
def image_link(client, market, ada):
    design_id = market.create(ada)["id"]
    asset = market.uploaded(ada, design_id, "Bague «été».jpg", JPEG)
    response = client.get(f"/api/v1/assets/{asset['id']}/url", headers=bearer(ada))
    assert response.status_code == 200
    return response.json


def test_a_signed_link_serves_the_file_privately(client, image_link):
    assert image_link["expires_at"] == "2026-11-27T09:05:00Z"
    response = client.get(image_link["url"])
    assert response.status_code == 200
    assert response.data == JPEG
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Bague _ete_.jpg\"; filename*=UTF-8''Bague%20%C2%AB%C3%A9t%C3%A9%C2%BB.jpg"
    )
    cache = response.headers["Cache-Control"]
    assert cache.startswith("private, max-age=")
    assert 0 < int(cache.rsplit("=", 1)[1]) <= 300


def test_the_cache_lifetime_shrinks_with_the_link(client, clock, image_link):
    clock.advance(timedelta(minutes=4))
    response = client.get(image_link["url"])
    assert response.headers["Cache-Control"] == "private, max-age=60"


def test_a_tampered_link_is_403(client, image_link):
    url = image_link["url"]
    for tampered in (
        url.replace("exp=", "exp=9"),
        url.replace("sig=", "sig=A"),
        url.replace(".jpg?", ".png?"),
        url.split("?")[0],
        url.replace("ct=image%2Fjpeg", "ct=text%2Fhtml"),
    ):
        response = client.get(tampered)
        assert response.status_code == 403, tampered
        assert "This link is invalid." in response.get_data(as_text=True)


def test_an_expired_link_is_403_saying_so(client, clock, image_link):
    clock.advance(timedelta(minutes=5, seconds=1))
    page = client.get(image_link["url"])
    assert page.status_code == 403
    assert page.mimetype == "text/html"
    assert "This link has expired." in page.get_data(as_text=True)
    as_json = client.get(image_link["url"], headers={"Accept": "application/json"})
    error = _error(as_json, 403, "link_expired")
    assert error["message"] == "This link has expired."


def test_a_link_to_a_deleted_file_is_404(client, services, image_link):
    key = urlsplit(image_link["url"]).path.removeprefix("/blobs/")
    services.blobs.delete(key)
    response = client.get(image_link["url"])
    assert response.status_code == 404
    assert "This file is no longer available." in response.get_data(as_text=True)


# -- the OpenAPI description ----------------------------------------------------------------------------


def test_openapi_describes_the_design_bodies(client):
    from caratzon_web.api_designs import DesignBody, DesignPatch

    doc = client.get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    for name, cls in (("DesignInput", DesignBody), ("DesignChanges", DesignPatch)):
        assert set(schemas[name]["properties"]) == {a.name for a in cls.__attrs_attrs__}, name
        assert schemas[name]["additionalProperties"] is False
    upload = doc["paths"]["/api/v1/designs/{design_id}/assets"]["post"]
    assert set(upload["requestBody"]["content"]) == {"multipart/form-data"}
    assert "413" in upload["responses"]
