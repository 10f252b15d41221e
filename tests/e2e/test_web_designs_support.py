"""Shared fixtures and helpers for the design tests (test_web_designs_*.py); no
tests here. Import the fixtures into the test module (``services_fixture``
overrides the e2e ``services``; ``market_fixture`` and ``make_designs_app_fixture``
are ``market`` and ``make_designs_app``).

The services are the real use cases over the in-memory store, the fake hasher,
the byte-sniffing :class:`FakeInspector` and a clock the tests move, with the
DEFAULT local blob store under ``tmp_path/blobs``: signed ``/blobs/`` links are
real, and fetched through the portal's route.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.config import Config
from caratzon_core.testing import FakeClock, FakeHasher, FakeInspector, InMemoryStore
from caratzon_web import create_app

PASSWORD = "amber-Quartz-lantern-42"
SECRET = "x" * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
CUBE_STL = b"solid cube\n" + b"facet normal 0 0 0\n" * 10 + b"endsolid cube\n"
OPEN_STL = b"solid open\nendsolid open\n"
STEP = b"ISO-10303-21;\nHEADER;\nENDSEC;\n"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def designs_config(tmp_path: Path, **env: str) -> Config:
    base = {
        "CARATZON_DATA_DIR": str(tmp_path),
        "CARATZON_SECRET_KEY": SECRET,
        "CARATZON_PASSWORD_HASHING": "fast",
    }
    return Config.from_env({**base, **env})


def designs_services(config: Config, store: InMemoryStore, clock: FakeClock) -> Services:
    return bootstrap(config, uow=store, hasher=FakeHasher(), inspector=FakeInspector(), clock=clock)


@pytest.fixture(name="services")
def services_fixture(config: Config, store: InMemoryStore, clock: FakeClock) -> Services:
    """Overrides the e2e ``services``: the FakeInspector instead of the real one."""
    return designs_services(config, store, clock)


@pytest.fixture(name="make_designs_app")
def make_designs_app_fixture(tmp_path: Path, store: InMemoryStore, clock: FakeClock) -> Any:
    """An app over the same store and clock with other settings, given as
    environment variables: ``make_designs_app(CARATZON_MAX_IMAGE_MB="1")``."""

    def build(**env: str) -> Flask:
        config = designs_config(tmp_path, **env)
        app = create_app(config, services=designs_services(config, store, clock))
        app.config.update(TESTING=True)
        return app

    return build


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def post_forms(html: str) -> int:
    return len(re.findall(r'<form[^>]*method="post"', html))


def leftovers(config: Config) -> list[Path]:
    """Every file under the blob store and the upload work directory."""
    roots = [config.data_dir / "blobs", config.data_dir / "tmp"]
    return sorted(p for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


def assert_nothing_stored(store: InMemoryStore, config: Config) -> None:
    assert store.state.assets == {}
    assert store.state.pending_blobs == {}
    assert leftovers(config) == []


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.pointers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            self.problems.append(f"duplicate attribute on <{tag}>: {names}")
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(str(values["id"]))
        if tag == "label" and values.get("for"):
            self.pointers.append(str(values["for"]))
        for attr in ("aria-describedby", "aria-labelledby"):
            self.pointers.extend(str(values.get(attr) or "").split())


def check_markup(html: str) -> None:
    """No duplicate attributes or ids; every label and aria reference points somewhere."""
    markup = _Markup()
    markup.feed(html)
    assert not markup.problems, markup.problems
    assert len(markup.ids) == len(set(markup.ids)), sorted(i for i in markup.ids if markup.ids.count(i) > 1)
    assert set(markup.pointers) <= set(markup.ids), set(markup.pointers) - set(markup.ids)


class Market:
    """People and designs, made through the API and the portal."""

    def __init__(self, app: Flask, services: Services, clock: FakeClock, store: InMemoryStore) -> None:
        self.app = app
        self.services = services
        self.clock = clock
        self.store = store
        self.api = app.test_client()

    # -- people -----------------------------------------------------------------------

    def signup_data(self, email: str, role: str, name: str) -> dict[str, Any]:
        return {
            "email": email, "password": PASSWORD, "name": name, "role": role, "date_of_birth": "1988-02-03",
            "language": "en", "accept_policy_version": self.services.accounts.current_policy().version,  # type: ignore[union-attr]
        }

    def token(self, email: str, role: str = "designer", name: str = "Ada Lovelace") -> str:
        response = self.api.post("/api/v1/accounts", json=self.signup_data(email, role, name))
        assert response.status_code == 201, response.get_data(as_text=True)
        response = self.api.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
        assert response.status_code == 201, response.get_data(as_text=True)
        return str(response.json["token"])  # type: ignore[index]

    def browser(self, email: str, role: str = "designer", name: str = "Ada Lovelace") -> FlaskClient:
        """A new browser with a new account, signed in with the forms."""
        browser = self.app.test_client()
        data = self.signup_data(email, role, name)
        data["csrf_token"] = csrf_of(browser.get("/signup").get_data(as_text=True))
        response = browser.post("/signup", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)
        return browser

    def login(self, email: str) -> FlaskClient:
        browser = self.app.test_client()
        token = csrf_of(browser.get("/login").get_data(as_text=True))
        response = browser.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
        return browser

    def user_id(self, email: str) -> str:
        with self.store() as uow:
            user = uow.users.get_by_email(email)
        assert user is not None
        return user.id

    # -- designs ------------------------------------------------------------------------

    def design_body(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": "Art deco solitaire",
            "category": "ring",
            "description": "A stepped platinum setting.",
            "metals": ["platinum_950", "18k_white"],
            "gemstones": [{"type": "diamond", "origin": "lab_grown", "carat": "1.20", "count": 1}],
            "dimensions": {"width_mm": "18.5", "height_mm": "22", "depth_mm": "6.1"},
            "tags": ["art deco", "solitaire"],
            "price": {"amount": "1250.00", "currency": "USD"},
        }
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not None or k == "price"}

    def create(self, token: str, **overrides: Any) -> dict[str, Any]:
        response = self.api.post("/api/v1/designs", json=self.design_body(**overrides), headers=bearer(token))
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json  # type: ignore[return-value]

    def upload(self, token: str, design_id: str, filename: str, data: bytes, kind: str = "image",
               visibility: str | None = "preview", client: FlaskClient | None = None) -> TestResponse:
        form: dict[str, Any] = {"file": (io.BytesIO(data), filename), "kind": kind}
        if visibility is not None:
            form["visibility"] = visibility
        return (client or self.api).post(f"/api/v1/designs/{design_id}/assets", data=form, headers=bearer(token),
                                         content_type="multipart/form-data")

    def uploaded(self, token: str, design_id: str, filename: str, data: bytes, kind: str = "image",
                 visibility: str = "preview") -> dict[str, Any]:
        response = self.upload(token, design_id, filename, data, kind, visibility)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json  # type: ignore[return-value]

    def published(self, token: str, **overrides: Any) -> dict[str, Any]:
        """A published design with one preview image."""
        design = self.create(token, **overrides)
        self.uploaded(token, design["id"], "front.png", PNG)
        response = self.api.post(f"/api/v1/designs/{design['id']}/publish", headers=bearer(token))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json  # type: ignore[return-value]


@pytest.fixture(name="market")
def market_fixture(app: Flask, services: Services, clock: FakeClock, store: InMemoryStore) -> Market:
    return Market(app, services, clock, store)


# A watertight 10 mm cube, as the FakeInspector reads it (orders need an analysed mesh).
ORDER_CUBE = b"solid cube\n" + b"facet normal 0 0 0\n" * 10 + b"endsolid cube\n"  # a watertight 10 mm cube
