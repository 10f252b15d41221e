"""Fixtures for HTTP tests of the portal and API through Flask's test client.

The services are the real use cases from the composition root, over the
in-memory store, a fast fake hasher and a clock the tests can move.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
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


# -- orders, routing and production (issue #5) ---------------------------------------------------

ORDER_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
from test_web_designs_support import ORDER_CUBE  # noqa: E402  (one definition, importable by name)


class OrderWorld:
    """People, a published design with an analysed production STL, a manufacturing
    licence for Bea (an accepted negotiation), and workshops, all made through the
    use cases. Needs the FakeInspector services (import ``services_fixture`` from
    test_web_designs_support into the test module).

    * dee: the designer; bea: the licensee (GB and HK, 50 pieces, USD 4.00 royalty,
      ring size may change); bob: a buyer without a licence; pam: a production
      manager (created by an operator, as the CLI does).
    * Workshops (18k yellow, casting + prong + engraving, 1-500 pieces, 200 a week,
      shipping to GB, FR, HK): max (vetted, 10 days: routing's choice), mia (vetted,
      20 days), mo (5 days, never vetted) and mel (vetted, but her NDA ends in 10 days:
      before any wanted-by date the tests use).
    """

    def __init__(self, app: Flask, services: Services, store: InMemoryStore, clock: FakeClock, tmp: Any) -> None:
        from caratzon_core.services.accounts import SignUp
        from caratzon_core.services.designs import DesignInput, Upload
        from caratzon_core.services.manufacturing import ProfileInput

        self.app, self.services, self.store, self.clock = app, services, store, clock
        self.people: dict[str, Any] = {}
        self._tokens: dict[str, str] = {}
        accounts = services.accounts
        for name, role in (("dee", "designer"), ("bea", "buyer"), ("bob", "buyer"), ("max", "manufacturer"),
                           ("mia", "manufacturer"), ("mo", "manufacturer"), ("mel", "manufacturer")):
            self.people[name] = accounts.sign_up(SignUp(
                email=f"{name}@example.com", password=PASSWORD, name=name.title(), role=role,
                date_of_birth=date(1985, 1, 1), accept_policy_version=INITIAL_POLICY_VERSION,
                business_name=f"{name.title()} Ltd", business_address="1 Queen's Road Central, Hong Kong"))
        self.people["pam"] = accounts.create_user(Actor.cli_operator(), SignUp(
            email="pam@example.com", password=PASSWORD, name="Pam", role="production_manager"))
        dee = self.actor("dee")
        designs = services.designs
        self.design = designs.create(dee, DesignInput(title="Halo ring", category="ring", metals=["18k_yellow"]))
        folder = Path(tmp) / "order-uploads"
        folder.mkdir(exist_ok=True)

        def upload(filename: str, data: bytes, kind: str, visibility: str) -> Any:
            path = folder / filename
            path.write_bytes(data)
            return designs.add_asset(dee, self.design.id, Upload(filename, path, kind, visibility))

        upload("front.png", ORDER_PNG, "image", "preview")
        self.cad = upload("ring.stl", ORDER_CUBE, "cad", "production")
        designs.publish(dee, self.design.id)
        licensing = services.licensing
        option = licensing.add_option(dee, self.design.id, "Casting licence", {
            "use": "manufacturing", "territory": ["GB", "HK"],
            "term": {"start": self.today().isoformat(), "months": 12},
            "fees": {"flat": {"amount": "1000", "currency": "USD"},
                     "royalty_per_unit": {"amount": "4", "currency": "USD"}},
            "unit_cap": 50, "may_modify": ["ring_size"]})
        negotiation = licensing.open(self.actor("bea"), option.id)
        _, self.agreement = licensing.accept(dee, negotiation.id)
        makers = services.manufacturers
        for name, lead in (("max", 10), ("mia", 20), ("mo", 5), ("mel", 8)):
            makers.save_profile(self.actor(name), self.id(name), ProfileInput(
                processes=["lost_wax_casting", "stone_setting_prong", "engraving"], metals=["18k_yellow"],
                min_quantity=1, max_quantity=500, weekly_capacity=200, lead_time_days=lead,
                ships_to=["GB", "FR", "HK"], labour_per_piece="80.00", labour_per_stone="5.00", currency="USD"))
        self.vet("max")
        self.vet("mia")
        self.vet("mel", days=10)

    # -- people ------------------------------------------------------------------------------

    def today(self) -> date:
        return self.clock.now().date()

    def id(self, name: str) -> str:
        return str(self.people[name].id)

    def actor(self, name: str) -> Actor:
        return self.services.accounts.actor_for(self.people[name])

    def vet(self, name: str, *, days: int = 365) -> None:
        from datetime import timedelta

        self.services.manufacturers.vet(self.actor("pam"), self.id(name), nda_until=self.today() + timedelta(days=days))

    def browser(self, name: str) -> FlaskClient:
        """A new browser, logged in with the form."""
        browser = self.app.test_client()
        page = browser.get("/login").get_data(as_text=True)
        token = _CSRF.search(page).group(1)  # type: ignore[union-attr]
        response = browser.post("/login", data={"email": f"{name}@example.com", "password": PASSWORD,
                                                 "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        return browser

    def token(self, name: str) -> str:
        if name not in self._tokens:
            response = self.app.test_client().post("/api/v1/tokens", json={"email": f"{name}@example.com",
                                                                           "password": PASSWORD})
            assert response.status_code == 201, response.get_data(as_text=True)
            self._tokens[name] = str(response.json["token"])  # type: ignore[index]
        return self._tokens[name]

    def forget_tokens(self) -> None:
        """After moving the clock past their expiry: issue new ones when asked."""
        self._tokens.clear()

    # -- orders ------------------------------------------------------------------------------

    def brief(self, **changes: Any) -> dict[str, Any]:
        from datetime import timedelta

        brief: dict[str, Any] = {"alloy": "18k_yellow", "quantity": 10, "ship_to": "GB",
                                 "wanted_by": (self.today() + timedelta(days=30)).isoformat(),
                                 "size": {"system": "us", "value": "6.5"}}
        brief.update(changes)
        return {k: v for k, v in brief.items() if v is not None}

    def order(self, buyer: str = "bea", **changes: Any) -> Any:
        """An order placed (and auto-routed to max) through the use case."""
        return self.services.orders.create(self.actor(buyer), self.agreement.id, self.brief(**changes))

    def step(self, name: str, order_id: str, to: str, **kwargs: Any) -> Any:
        return self.services.orders.transition(self.actor(name), order_id, to, **kwargs)

    def get_order(self, order_id: str) -> Any:
        return self.store.state.production.orders[order_id]

    def counts(self) -> dict[str, int]:
        """What a refused request must leave alone."""
        p, t = self.store.state.production, self.store.state.trade
        return {"orders": len(p.orders), "entries": len(p.entries), "payments": len(p.payments),
                "prices": len(p.prices), "threads": len(t.threads), "messages": len(t.messages),
                "outbox": len(t.outbox), "statuses": hash(tuple(sorted((o.id, o.status, o.manufacturer_id)
                                                                       for o in p.orders.values()))),
                "makers": hash(tuple(sorted((m.user_id, m.vetting, m.nda_expires_on)
                                            for m in p.manufacturers.values())))}


@pytest.fixture
def world(app: Flask, services: Services, store: InMemoryStore, clock: FakeClock, tmp_path: Any) -> OrderWorld:
    return OrderWorld(app, services, store, clock, tmp_path)
