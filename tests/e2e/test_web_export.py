"""Issue #6 part 2 over HTTP: ``GET /api/v1/privacy/export`` (bearer) and the
Privacy Center's ``POST /privacy/export`` (session + CSRF) hand the person a
signed link (24 hours) to a zip with ``export.json`` (``caratzon.export/1``)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from caratzon_core.export import SCHEMA


def _download(client, url: str):
    parts = urlsplit(url)
    return client.get(parts.path + ("?" + parts.query if parts.query else ""))


def test_the_api_export_links_to_a_zip_of_my_data(web, client, clock, store) -> None:
    assert web.signup_api(client).status_code == 201
    token = web.token(client)
    response = client.get("/api/v1/privacy/export", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["schema"] == SCHEMA and body["files"] == 0
    assert response.headers["Cache-Control"] == "no-store"
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert expires == clock.now() + timedelta(hours=24)
    download = _download(client, body["url"])
    assert download.status_code == 200, download.get_data(as_text=True)
    with zipfile.ZipFile(io.BytesIO(download.data)) as zf:
        doc = json.loads(zf.read("export.json"))
    assert doc["schema"] == SCHEMA
    assert doc["sections"]["account"][0]["email"] == "ada@example.com"
    assert doc["sections"]["processors"]["processors"]
    [entry] = [e for e in store.state.audit if e.action == "privacy.export"]
    assert entry.subject == f"user:{doc['subject']['user_id']}" and entry.outcome == "success"
    assert store.state.pending_blobs == {}


def test_the_api_export_needs_a_token(client) -> None:
    assert client.get("/api/v1/privacy/export").status_code == 401


def test_the_privacy_center_button_redirects_to_the_download(web) -> None:
    browser = web.signed_in()
    token = web.csrf(browser, "/account")
    response = browser.post("/privacy/export", data={"csrf_token": token})
    assert response.status_code == 303
    download = _download(browser, response.headers["Location"])
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.data)) as zf:
        assert json.loads(zf.read("export.json"))["subject"]["email"] == "ada@example.com"
    shown = browser.post("/privacy/export", data={"csrf_token": token, "show": "1"})
    assert shown.status_code == 200 and "download the zip" in shown.get_data(as_text=True)


def test_the_button_needs_csrf_and_a_login(web, client) -> None:
    assert client.post("/privacy/export").status_code in (302, 400)
    browser = web.signed_in()
    assert browser.post("/privacy/export").status_code == 400


def test_the_privacy_center_offers_the_download_and_the_nav_reaches_it(web) -> None:
    browser = web.signed_in()
    home = browser.get("/").get_data(as_text=True)
    assert 'href="/privacy"' in home and "Privacy requests" not in home  # the queue is for admins
    page = browser.get("/privacy").get_data(as_text=True)
    assert page.count('action="/privacy/export"') == 2  # beside the rights of access and portability
    token = web.csrf(browser, "/privacy")
    assert browser.post("/privacy/export", data={"csrf_token": token}).status_code == 303
