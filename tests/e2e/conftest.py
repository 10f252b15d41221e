"""Fixtures for HTTP tests of the portal and API through Flask's test client.

The services are the real use cases from the composition root, over the
in-memory store, a fast fake hasher and a clock the tests can move.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.config import Config
from caratzon_core.access import Actor
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.testing import FakeClock, FakeHasher, InMemoryStore
from caratzon_web import create_app

# Strong enough for zxcvbn (the real strength checker runs in these tests).
PASSWORD = "amber-Quartz-lantern-42"
OTHER_PASSWORD = "velvet-Topaz-harbour-97"
SECRET = "x" * 40

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_config(tmp_path: Any, **overrides: Any) -> Config:
    # Pass the data dir and key through the env mapping: Config.from_env loads or
    # creates a key file in the data dir *before* applying overrides.
    env = {
        "CARATZON_DATA_DIR": str(tmp_path),
        "CARATZON_SECRET_KEY": SECRET,
        "CARATZON_PASSWORD_HASHING": "fast",
    }
    return Config.from_env(env, **overrides)


class Web:
    """Drives the app the way a browser or an API client would."""

    PASSWORD = PASSWORD
    OTHER_PASSWORD = OTHER_PASSWORD

    def __init__(self, app: Flask, services: Services, clock: FakeClock) -> None:
        self.app = app
        self.services = services
        self.clock = clock

    # -- data ------------------------------------------------------------------

    def today(self) -> date:
        return self.clock.now().date()

    def signup_data(self, **overrides: Any) -> dict[str, Any]:
        """A valid sign-up; an override of ``None`` leaves that field out."""
        data: dict[str, Any] = {
            "email": "ada@example.com",
            "password": PASSWORD,
            "name": "Ada Lovelace",
            "role": "designer",
            "date_of_birth": "1990-05-17",
            "business_name": "Lovelace Fine Jewels Ltd",
            "business_address": "1 Queen's Road Central, Hong Kong",
            "language": "en",
            "accept_policy_version": INITIAL_POLICY_VERSION,
        }
        data.update(overrides)
        return {k: v for k, v in data.items() if v is not None}

    def user_count(self) -> int:
        return len(self.services.accounts.list_users(Actor.cli_operator()))

    # -- browser ---------------------------------------------------------------

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def csrf(self, client: FlaskClient, path: str) -> str:
        page = client.get(path)
        assert page.status_code == 200, page.status_code
        match = _CSRF.search(page.get_data(as_text=True))
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def signup_form(self, client: FlaskClient, **overrides: Any) -> TestResponse:
        data = self.signup_data(**overrides)
        data["csrf_token"] = self.csrf(client, "/signup")
        return client.post("/signup", data=data)

    def login_form(self, client: FlaskClient, email: str = "ada@example.com",
                   password: str = PASSWORD) -> TestResponse:
        token = self.csrf(client, "/login")
        return client.post("/login", data={"email": email, "password": password, "csrf_token": token})

    def account_form(self, client: FlaskClient, **data: str) -> TestResponse:
        data["csrf_token"] = self.csrf(client, "/account")
        return client.post("/account", data=data)

    def signed_in(self, **overrides: Any) -> FlaskClient:
        """A new browser with a new account, signed in."""
        client = self.client()
        response = self.signup_form(client, **overrides)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    # -- API -------------------------------------------------------------------

    def signup_api(self, client: FlaskClient, **overrides: Any) -> TestResponse:
        return client.post("/api/v1/accounts", json=self.signup_data(**overrides))

    def token(self, client: FlaskClient, email: str = "ada@example.com", password: str = PASSWORD) -> str:
        response = client.post("/api/v1/tokens", json={"email": email, "password": password})
        assert response.status_code == 201, response.json
        return str(response.json["token"])  # type: ignore[index]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def config(tmp_path: Any) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def services(config: Config, store: InMemoryStore, clock: FakeClock) -> Services:
    return bootstrap(config, uow=store, hasher=FakeHasher(), clock=clock)


@pytest.fixture
def app(config: Config, services: Services) -> Iterator[Flask]:
    app = create_app(config, services=services)
    app.config.update(TESTING=True)
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def web(app: Flask, services: Services, clock: FakeClock) -> Web:
    return Web(app, services, clock)


@pytest.fixture
def make_app(tmp_path: Any, store: InMemoryStore, clock: FakeClock) -> Any:
    """An app over the same store and clock with other configuration, e.g.
    ``make_app(session_cookie_secure=True)``."""

    def build(**overrides: Any) -> Flask:
        config = make_config(tmp_path, **overrides)
        app = create_app(config, services=bootstrap(config, uow=store, hasher=FakeHasher(), clock=clock))
        app.config.update(TESTING=True)
        return app

    return build


@pytest.fixture
def operator_token(services: Services, client: FlaskClient) -> Any:
    """Makes an account only an operator can create (an admin by default) through
    ``services.accounts``, as the CLI does, and returns an API token for it:
    ``operator_token("olive@caratzon.test")``."""
    from caratzon_core.services.accounts import SignUp

    def make(email: str, *, role: str = "admin", name: str = "Olive Operator") -> str:
        services.accounts.create_user(Actor.cli_operator(),
                                      SignUp(email=email, password=PASSWORD, name=name, role=role))
        response = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
        assert response.status_code == 201, response.get_data(as_text=True)
        return str(response.json["token"])  # type: ignore[index]

    return make
