"""End to end over the real embedded path: SQLite with migrations, argon2 ("fast"),
zxcvbn and the system clock, wired by the composition root exactly as in production."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.config import Config
from caratzon_core.access import Actor
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_web import create_app

PASSWORD = "amber-Quartz-lantern-42"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def sql_config(tmp_path: Path) -> Config:
    env = {
        "CARATZON_DATA_DIR": str(tmp_path),
        "CARATZON_SECRET_KEY": "x" * 40,
        "CARATZON_PASSWORD_HASHING": "fast",
        "CARATZON_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
    }
    return Config.from_env(env)


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


def _signup(**overrides: str) -> dict[str, str]:
    data = {
        "email": "ada@example.com",
        "password": PASSWORD,
        "name": "Ada Lovelace",
        "role": "designer",
        "date_of_birth": "1990-05-17",
        "business_name": "Lovelace Fine Jewels Ltd",
        "language": "en",
        "accept_policy_version": INITIAL_POLICY_VERSION,
    }
    data.update(overrides)
    return data


def _csrf(client: FlaskClient, path: str) -> str:
    match = _CSRF.search(client.get(path).get_data(as_text=True))
    assert match
    return match.group(1)


def _users(services: Services) -> int:
    return len(services.accounts.list_users(Actor.cli_operator()))


def test_create_app_bootstraps_and_migrates_the_embedded_database(sql_config: Config) -> None:
    app = create_app(sql_config)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
    app.extensions["caratzon"].close()


def test_browser_journey_over_sqlite(sql_app: Flask, sql_services: Services) -> None:
    browser = sql_app.test_client()
    data = _signup()
    data["csrf_token"] = _csrf(browser, "/signup")
    response = browser.post("/signup", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Ada Lovelace" in browser.get("/account").get_data(as_text=True)

    response = browser.post("/account", data={
        "csrf_token": _csrf(browser, "/account"), "form": "profile",
        "biography": "Goldsmith since 2009.", "brand_description": "", "credentials": "",
    })
    assert response.status_code == 302
    assert "Goldsmith since 2009." in browser.get("/account").get_data(as_text=True)

    second = sql_app.test_client()
    response = second.post("/login", data={"email": "ADA@example.com", "password": PASSWORD,
                                           "csrf_token": _csrf(second, "/login")})
    assert response.status_code == 302

    response = browser.post("/account", data={"csrf_token": _csrf(browser, "/account"), "form": "close",
                                              "confirm": "yes"})
    assert response.status_code == 302
    assert browser.get("/account").status_code == 302
    assert second.get("/account").status_code == 302


def test_api_journey_over_sqlite(sql_app: Flask, sql_services: Services) -> None:
    client = sql_app.test_client()
    created = client.post("/api/v1/accounts", json=_signup(role="buyer"))
    assert created.status_code == 201, created.json
    assert client.post("/api/v1/accounts", json=_signup(email="ADA@EXAMPLE.COM")).status_code == 409
    assert client.post("/api/v1/accounts", json=_signup(email="b@example.com", password="password1234")
                       ).status_code == 422
    assert client.post("/api/v1/accounts", json=_signup(email="c@example.com", role="admin")).status_code == 422
    assert _users(sql_services) == 1

    wrong = client.post("/api/v1/tokens", json={"email": "ada@example.com", "password": "wrong-password-1"})
    unknown = client.post("/api/v1/tokens", json={"email": "zed@example.com", "password": "wrong-password-1"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_data() == unknown.get_data()

    issued = client.post("/api/v1/tokens", json={"email": "ada@example.com", "password": PASSWORD})
    assert issued.status_code == 201
    assert issued.json["expires_at"].endswith("Z")
    auth = {"Authorization": f"Bearer {issued.json['token']}"}
    assert client.get("/api/v1/me", headers=auth).json["role"] == "buyer"
    patched = client.patch("/api/v1/me", headers=auth, json={"language": "zh-Hans", "business_name": ""})
    assert patched.status_code == 200
    assert patched.json["language"] == "zh-Hans" and patched.json["business_name"] is None
    assert client.delete("/api/v1/tokens/current", headers=auth).status_code == 204
    assert client.get("/api/v1/me", headers=auth).status_code == 401


def test_lockout_over_sqlite(sql_app: Flask) -> None:
    client = sql_app.test_client()
    assert client.post("/api/v1/accounts", json=_signup()).status_code == 201
    statuses = [
        client.post("/api/v1/tokens", json={"email": "ada@example.com", "password": "wrong-password-1"}).status_code
        for _ in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]
    locked = client.post("/api/v1/tokens", json={"email": "ada@example.com", "password": PASSWORD})
    assert locked.status_code == 429
    assert 895 <= int(locked.headers["Retry-After"]) <= 900
    assert locked.json["error"]["retry_at"].endswith("Z")
