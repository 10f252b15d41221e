"""Designs end to end over the real embedded path: SQLite with migrations, the
real FileInspector (Pillow, numpy), the local blob store, argon2 ("fast") and the
system clock, wired by the composition root as in production. A real ring STL
and a real PNG (with GPS data that must not survive) are uploaded."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.cad.generate import ring_stl, ring_volume_mm3
from caratzon_adapters.config import Config
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_web import create_app

PIL_Image = pytest.importorskip("PIL.Image")

PASSWORD = "amber-Quartz-lantern-42"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def sql_config(tmp_path: Path) -> Config:
    return Config.from_env({
        "CARATZON_DATA_DIR": str(tmp_path),
        "CARATZON_SECRET_KEY": "x" * 40,
        "CARATZON_PASSWORD_HASHING": "fast",
        "CARATZON_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
    })


@pytest.fixture
def sql_services(sql_config: Config) -> Iterator[Services]:
    services = bootstrap(sql_config, migrate=True)
    yield services
    services.close()


@pytest.fixture
def sql_app(sql_config: Config, sql_services: Services) -> Flask:
    app = create_app(sql_config, services=sql_services)
    app.config.update(TESTING=True)
    return app


def _png_with_gps() -> bytes:
    image = PIL_Image.new("RGB", (640, 480), (180, 140, 60))
    exif = PIL_Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (22.0, 16.0, 48.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="PNG", exif=exif)
    return out.getvalue()


def _token(api: FlaskClient, email: str, role: str, name: str) -> dict[str, str]:
    body = {"email": email, "password": PASSWORD, "name": name, "role": role, "date_of_birth": "1988-02-03",
            "accept_policy_version": INITIAL_POLICY_VERSION}
    assert api.post("/api/v1/accounts", json=body).status_code == 201
    response = api.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.json['token']}"}


def _files(config: Config) -> list[Path]:
    roots = [config.data_dir / "blobs", config.data_dir / "tmp"]
    return sorted(p for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


def _upload(api: FlaskClient, auth: dict[str, str], design_id: str, name: str, data: bytes, kind: str,
            visibility: str = "preview"):
    return api.post(f"/api/v1/designs/{design_id}/assets", headers=auth, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(data), name), "kind": kind, "visibility": visibility})


def test_design_journey_over_sqlite(sql_app: Flask, sql_config: Config, sql_services: Services) -> None:
    api = sql_app.test_client()
    ada = _token(api, "ada@example.com", "designer", "Ada Lovelace")
    created = api.post("/api/v1/designs", headers=ada, json={
        "title": "Size 7 band", "category": "ring", "metals": ["18k_yellow"],
        "gemstones": [{"type": "diamond", "origin": "natural", "carat": "0.25", "count": 5}],
        "tags": ["band"], "price": {"amount": "640.00", "currency": "GBP"},
    })
    assert created.status_code == 201, created.json
    design_id = created.json["id"]

    # Bad uploads first: refused by the real inspector, nothing left behind.
    for name, data, kind in [("front.png", b"\xff\xd8\xff\xe0 not really", "image"),
                             ("ring.stl", b"solid x\nfacet garbage\n", "cad"), ("empty.png", b"", "image")]:
        response = _upload(api, ada, design_id, name, data, kind)
        assert response.status_code == 422, (name, response.json)
        assert response.json["error"]["field"] == "file"
    assert _files(sql_config) == []

    png = _upload(api, ada, design_id, "front.png", _png_with_gps(), "image")
    assert png.status_code == 201, png.json
    assert png.json["content_type"] == "image/png" and png.json["width_px"] == 640
    stl = _upload(api, ada, design_id, "ring-size-7.stl", ring_stl(7), "cad", "production")
    assert stl.status_code == 201, stl.json
    analysis = stl.json["analysis"]
    assert analysis["status"] == "analysed" and analysis["watertight"] is True
    assert analysis["volume_mm3"] == pytest.approx(ring_volume_mm3(7), rel=0.01)
    assert {w["alloy"] for w in analysis["weights"]} >= {"18k_yellow", "platinum_950", "sterling_silver"}
    assert all(re.fullmatch(r"\d+\.\d\d", w["grams"]) for w in analysis["weights"])
    assert api.post(f"/api/v1/designs/{design_id}/publish", headers=ada).json["status"] == "published"
    assert not any(p.is_relative_to(sql_config.data_dir / "tmp") for p in _files(sql_config))

    bob = _token(api, "bob@example.com", "buyer", "Bob Buyer")
    catalog = api.get("/api/v1/catalog?metal=18k_yellow&q=band", headers=bob).json
    assert [i["id"] for i in catalog["items"]] == [design_id]
    assert catalog["items"][0]["price"] == {"amount": "640.00", "currency": "GBP"}
    assert catalog["facets"]["category"] == {"ring": 1}
    thumb = api.get(catalog["items"][0]["thumbnail"]["url"])
    assert thumb.status_code == 200 and thumb.mimetype in ("image/webp", "image/png")

    detail = api.get(f"/api/v1/designs/{design_id}", headers=bob).json
    (image,) = detail["assets"]
    served = api.get(image["url"])
    assert served.status_code == 200
    cleaned = PIL_Image.open(io.BytesIO(served.data))
    assert cleaned.size == (640, 480)
    assert 0x8825 not in cleaned.getexif() and 0x010F not in cleaned.getexif()  # no GPS, no camera
    refused = api.get(f"/api/v1/assets/{stl.json['id']}/url", headers=bob)
    assert refused.status_code == 403
    link = api.get(f"/api/v1/assets/{stl.json['id']}/url", headers=ada).json
    assert api.get(link["url"]).data == ring_stl(7)

    # A buyer in the browser: consent, a recorded view, a save.
    browser = sql_app.test_client()
    token = _CSRF.search(browser.get("/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert browser.post("/login", data={"email": "bob@example.com", "password": PASSWORD,
                                        "csrf_token": token}).status_code == 302
    page = browser.get("/consent").get_data(as_text=True)
    browser.post("/consent", data={"csrf_token": _CSRF.search(page).group(1), "analytics": "yes"})  # type: ignore[union-attr]
    html = browser.get(f"/designs/{design_id}").get_data(as_text=True)
    assert "Size 7 band" in html and "beacon.js" in html
    token = _CSRF.search(html).group(1)  # type: ignore[union-attr]
    assert browser.post("/beacon", data={"design_id": design_id, "kind": "scroll", "scroll_depth": "55",
                                         "csrf_token": token},
                        headers={"Origin": "http://localhost"}).status_code == 204
    assert browser.post(f"/designs/{design_id}/save", data={"csrf_token": token}).status_code == 303
    assert "Size 7 band" in browser.get("/saved").get_data(as_text=True)

    days = api.get(f"/api/v1/designs/{design_id}/analytics", headers=ada).json["days"]
    assert len(days) == 1
    assert (days[0]["views"], days[0]["saves"], days[0]["median_scroll_depth"]) == (1, 1, 55)
    assert api.get("/api/v1/catalog?sort=most_viewed", headers=bob).json["items"][0]["views"] == 1

    assert api.post(f"/api/v1/designs/{design_id}/remove", headers=ada).json["status"] == "removed"
    assert api.get("/api/v1/catalog", headers=bob).json["items"] == []
    assert api.get(f"/api/v1/designs/{design_id}", headers=bob).status_code == 404
