"""`caratzon route`, `caratzon orders list`, `caratzon manufacturers …`, `caratzon
prices …` and the worker's order steps (issue #5, the operators' side), over a real
SQLite data dir.

The world: a designer's ring with a production STL, licensed to a buyer; four
manufacturers (Max and Mia vetted, Mo pending, Mel vetted under an NDA that ends
before the order is wanted) and one order submitted but not yet routed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from typer.testing import CliRunner, Result

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.cad.generate import ring_stl
from caratzon_adapters.config import Config
from caratzon_adapters.imagery import render_jewelry_png
from caratzon_cli.main import app
from caratzon_cli.prices import document
from caratzon_cli.worker import COUNTS, STATE_FILE, WorkerState, run_once
from caratzon_core.access import Actor
from caratzon_core.orders import OrderStatus, order_ref
from caratzon_core.quote import DEFAULT_PRICES
from caratzon_core.routing import W_COST, W_LOAD, W_RATING, W_SLACK
from caratzon_core.services.accounts import SignUp
from caratzon_core.services.designs import DesignInput, Upload
from caratzon_core.services.manufacturing import ProfileInput
from caratzon_core.services.orders import OrderService
from caratzon_core.testing import FakeClock, FakeHasher, InMemoryStore

PASSWORD = "Quartz-Meadow-Compass-58"
SECRET = "s3cret-key-" + "z" * 40
OPERATOR = Actor.cli_operator("test")

Run = Callable[..., Result]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def env(data_dir: Path) -> dict[str, str | None]:
    return {
        "CARATZON_DATA_DIR": str(data_dir),
        "CARATZON_PASSWORD_HASHING": "fast",
        "CARATZON_DATABASE_URL": None,
        "CARATZON_SECRET_KEY": SECRET,
        "CARATZON_SMTP_URL": None,
        "CARATZON_AI": None,
    }


@pytest.fixture
def run(env: dict[str, str | None]) -> Run:
    runner = CliRunner()

    def invoke(*args: str, **extra_env: str | None) -> Result:
        return runner.invoke(app, list(args), env={**env, **extra_env})

    return invoke


def config_for(env: dict[str, str | None]) -> Config:
    return Config.from_env({k: v for k, v in env.items() if v is not None})


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def ok_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


def one_error(result: Result, starts: str) -> None:
    """Exit 1, one `error: …` line on stderr, nothing on stdout, no traceback."""
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: {starts}"), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def profile(**changes: object) -> ProfileInput:
    base: dict[str, object] = dict(
        processes=["lost_wax_casting", "stone_setting_prong", "engraving"], metals=["18k_yellow", "18k_white"],
        min_quantity=1, max_quantity=500, weekly_capacity=200, lead_time_days=10, ships_to=["GB", "US", "HK"],
        labour_per_piece="80.00", labour_per_stone="5.00", currency="USD",
    )
    base.update(changes)
    return ProfileInput(**base)  # type: ignore[arg-type]


def brief(today: date, **changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "alloy": "18k_yellow", "quantity": 10, "ship_to": "GB", "wanted_by": (today + timedelta(days=30)).isoformat(),
        "size": {"system": "us", "value": "6.5"},
        "stones": [{"type": "diamond", "carat": "0.25", "count": 1, "setting": "prong"}],
    }
    base.update(changes)
    return base


class Workshop:
    """The world of the module docs. ``orders`` submits without routing at once, so
    an order waits for `caratzon route`; ``services.orders`` routes as configured."""

    def __init__(self, services: Services, tmp: Path) -> None:
        self.services = services
        accounts = services.accounts
        self.people: dict[str, Actor] = {}
        self.ids: dict[str, str] = {}
        for name, role in [("dee", "designer"), ("bea", "buyer"), ("max", "manufacturer"), ("mia", "manufacturer"),
                           ("mo", "manufacturer"), ("mel", "manufacturer"), ("pam", "production_manager")]:
            user = accounts.create_user(OPERATOR, SignUp(email=f"{name}@example.com", password=PASSWORD,
                                                         name=name.title(), role=role,
                                                         business_name=f"{name.title()} Works"))
            self.people[name] = accounts.actor_for(user)
            self.ids[name] = user.id
        dee = self.people["dee"]
        design = services.designs.create(dee, DesignInput(title="Halo ring", category="ring", metals=["18k_yellow"]))
        image, mesh = tmp / "halo.png", tmp / "halo.stl"
        image.write_bytes(render_jewelry_png("ring", "18k_yellow", 1, size=(160, 160)))
        mesh.write_bytes(ring_stl(6.5, band_width_mm=2.0, band_thickness_mm=1.6))
        services.designs.add_asset(dee, design.id, Upload("halo.png", image, "image"))
        services.designs.add_asset(dee, design.id, Upload("halo.stl", mesh, "cad", "production"))
        services.designs.publish(dee, design.id)
        self.today = services.deps.clock.now().date()
        option = services.licensing.add_option(dee, design.id, "Standard", {
            "use": "manufacturing", "territory": ["GB", "US"], "term": {"start": self.today.isoformat(), "months": 12},
            "unit_cap": 100, "may_modify": ["ring_size", "stone_size"],
            "fees": {"flat": {"amount": "1000.00", "currency": "USD"},
                     "royalty_per_unit": {"amount": "4.00", "currency": "USD"}},
        })
        neg = services.licensing.open(self.people["bea"], option.id)
        _, self.agreement = services.licensing.accept(dee, neg.id)
        makers = services.manufacturers
        for name, lead in (("max", 10), ("mia", 20), ("mo", 5), ("mel", 8)):
            makers.save_profile(self.people[name], self.ids[name], profile(lead_time_days=lead))
        year = self.today + timedelta(days=365)
        makers.vet(self.people["pam"], "max@example.com", nda_until=year)
        makers.vet(self.people["pam"], "mia@example.com", nda_until=year)
        makers.vet(self.people["pam"], "mel@example.com", nda_until=self.today + timedelta(days=10))
        settings = attrs.evolve(services.deps.settings, auto_route=False)
        self.orders = OrderService(attrs.evolve(services.deps, settings=settings), services.designs)

    def submit(self, **changes: object) -> str:
        order = self.orders.create(self.people["bea"], self.agreement.id, brief(self.today, **changes))
        assert order.status is OrderStatus.SUBMITTED
        return order.id


@pytest.fixture
def shop(env: dict[str, str | None], tmp_path: Path) -> Iterator[Workshop]:
    services = bootstrap(config_for(env), migrate=True)
    try:
        yield Workshop(services, tmp_path)
    finally:
        services.close()


def order_status(env: dict[str, str | None], order_id: str) -> tuple[OrderStatus, str | None, str | None]:
    services = bootstrap(config_for(env))
    try:
        with services.deps.uow() as uow:
            order = uow.orders.get(order_id)
    finally:
        services.close()
    assert order is not None
    return order.status, order.manufacturer_id, order.reason


# -- caratzon route ---------------------------------------------------------------------------


def test_route_json_ranks_the_candidates_and_gives_every_exclusion_its_reason(run: Run, shop: Workshop) -> None:
    order_id = shop.submit()

    doc = ok_json(run("route", order_id, "--json"))

    assert isinstance(doc, dict)
    assert doc["order"]["id"] == order_id and doc["order"]["status"] == "submitted"
    assert doc["order"]["processes"] == ["lost_wax_casting", "stone_setting_prong"]
    assert doc["weights"] == {"slack": W_SLACK, "cost": W_COST, "rating": W_RATING, "load": W_LOAD}
    ids = shop.ids
    assert [(c["rank"], c["manufacturer_id"]) for c in doc["candidates"]] == [(1, ids["max"]), (2, ids["mia"])]
    assert doc["chosen"] == ids["max"] and doc["reason"].startswith("Chose Max Works")
    for c in doc["candidates"]:
        parts = c["parts"]
        assert set(parts) == {"slack", "cost", "rating", "load"}
        weighted = W_SLACK * parts["slack"] + W_COST * parts["cost"] + W_RATING * parts["rating"] + W_LOAD * parts["load"]
        assert c["total"] == pytest.approx(weighted, abs=1e-5)
        assert c["labour_per_piece"] == {"amount": "80.00", "currency": "USD"}
    # On probation: a neutral rating; the labour is under the quoted USD 90 budget.
    assert doc["candidates"][0]["parts"]["rating"] == 0.5
    excluded = {e["manufacturer_id"]: e for e in doc["excluded"]}
    assert set(excluded) == {ids["mo"], ids["mel"]}
    assert excluded[ids["mo"]]["reason"] == "not_vetted"
    assert excluded[ids["mo"]]["message"] == "Not vetted: vetting is pending."
    assert excluded[ids["mel"]]["reason"] == "nda_not_valid"
    assert "before the wanted-by date" in excluded[ids["mel"]]["message"]
    assert [e["manufacturer_id"] for e in doc["excluded"]] == sorted(excluded)
    assert doc["assigned"] is None


def test_route_text_shows_the_table_and_the_explanation_by_reference(run: Run, shop: Workshop) -> None:
    order_id = shop.submit()

    result = ok(run("route", order_ref(order_id).lower()))

    text = result.stdout
    assert text.startswith(f"Order {order_ref(order_id)}: Halo ring, submitted; 10 pieces in 18k_yellow to GB")
    assert "2 candidates" in text and "Max Works" in text and "Mia Works" in text
    assert "Chose Max Works" in text
    assert "Excluded, not vetted (1):" in text and "Mo Works" in text and "Not vetted: vetting is pending." in text
    assert "Excluded, NDA not valid through the wanted-by date (1):" in text


def test_route_assign_offers_the_job_to_the_routing_choice(run: Run, shop: Workshop,
                                                           env: dict[str, str | None]) -> None:
    order_id = shop.submit()

    doc = ok_json(run("route", order_id, "--assign", "--json"))

    assert isinstance(doc, dict)
    assigned = doc["assigned"]
    assert assigned["manufacturer_id"] == shop.ids["max"] and assigned["status"] == "routed"
    assert assigned["override"] is False and assigned["manufacturer_name"] == "Max Works"
    assert datetime.fromisoformat(assigned["offer_expires_at"]) > datetime.now(UTC) + timedelta(hours=47)
    assert order_status(env, order_id)[:2] == (OrderStatus.ROUTED, shop.ids["max"])
    # Routed already: assigning the same manufacturer again is refused, in one line.
    one_error(run("route", order_id, "--assign"), "")


def test_route_assign_prints_who_got_the_job(run: Run, shop: Workshop) -> None:
    order_id = shop.submit()
    result = ok(run("route", order_id, "--assign"))
    assert result.stdout.rstrip().splitlines()[-1].startswith("Offered the job to Max Works until ")


def test_an_override_needs_a_reason_and_is_kept(run: Run, shop: Workshop, env: dict[str, str | None]) -> None:
    order_id = shop.submit()

    refused = run("route", order_id, "--to", "mia@example.com")

    one_error(refused, "The routing ranks another manufacturer first. Overriding the routing needs a written "
                       "reason. Pass --reason TEXT.")
    assert order_status(env, order_id)[0] is OrderStatus.SUBMITTED

    doc = ok_json(run("route", order_id, "--to", "MIA@example.com", "--reason", "Max is closed for a holiday",
                      "--json"))

    assert isinstance(doc, dict)
    assert doc["chosen"] == shop.ids["max"]
    assert doc["assigned"]["override"] is True and doc["assigned"]["reason"] == "Max is closed for a holiday"
    assert order_status(env, order_id) == (OrderStatus.ROUTED, shop.ids["mia"], "Max is closed for a holiday")
    audit = ok_json(run("audit", "verify", "--json"))
    assert isinstance(audit, dict) and audit["entries_checked"] > 0


def test_route_to_the_routing_choice_needs_no_reason(run: Run, shop: Workshop, env: dict[str, str | None]) -> None:
    order_id = shop.submit()
    ok(run("route", order_id, "--to", shop.ids["max"]))
    assert order_status(env, order_id)[:2] == (OrderStatus.ROUTED, shop.ids["max"])


@pytest.mark.parametrize(("who", "message"), [
    ("mo@example.com", "Not vetted: vetting is pending. This cannot be overridden."),
    ("mel@example.com", "NDA expires on"),
])
def test_hard_exclusions_are_refused_even_with_a_reason(run: Run, shop: Workshop, env: dict[str, str | None],
                                                        who: str, message: str) -> None:
    order_id = shop.submit()

    result = run("route", order_id, "--to", who, "--reason", "They are the quickest")

    one_error(result, message)
    assert "cannot be overridden" in result.stderr
    assert order_status(env, order_id)[0] is OrderStatus.SUBMITTED


@pytest.mark.parametrize(("args", "message"), [
    (["route", "no-such-order"], "No order 'no-such-order'"),
    (["route", "{order}", "--to", "bea@example.com", "--reason", "x"], "bea@example.com is a buyer account"),
    (["route", "{order}", "--to", "nobody@example.com", "--reason", "x"], "No account 'nobody@example.com'"),
    (["route", "{order}", "--to", "not-an-id", "--reason", "x"], "No such manufacturer."),
])
def test_route_errors_are_one_line(run: Run, shop: Workshop, args: list[str], message: str) -> None:
    order_id = shop.submit()
    one_error(run(*(a.format(order=order_id) for a in args)), message)


def test_assign_when_nobody_qualifies_says_why(run: Run, shop: Workshop, env: dict[str, str | None]) -> None:
    order_id = shop.submit(wanted_by=(shop.today + timedelta(days=4)).isoformat())
    doc = ok_json(run("route", order_id, "--json"))
    assert doc["candidates"] == [] and doc["chosen"] is None
    assert {e["reason"] for e in doc["excluded"]} == {"not_vetted", "lead_time_too_long"}

    one_error(run("route", order_id, "--assign"), "No manufacturer qualifies: 1 not vetted; 3 lead time too long.")

    assert order_status(env, order_id)[0] is OrderStatus.SUBMITTED


def test_a_reason_alone_is_a_usage_error(run: Run, shop: Workshop) -> None:
    result = run("route", shop.submit(), "--reason", "because")
    assert result.exit_code == 2
    assert "--reason goes with --to or --assign" in result.output


# -- caratzon orders list ---------------------------------------------------------------------


def test_orders_list(run: Run, shop: Workshop) -> None:
    waiting = shop.submit()
    routed = shop.services.orders.create(shop.people["bea"], shop.agreement.id, brief(shop.today, quantity=5)).id

    listed = ok_json(run("orders", "list", "--json"))

    assert isinstance(listed, list)
    assert {o["id"]: o["status"] for o in listed} == {waiting: "submitted", routed: "routed"}
    first = next(o for o in listed if o["id"] == routed)
    assert first["manufacturer_name"] == "Max Works" and first["ref"] == order_ref(routed)
    assert first["design_title"] == "Halo ring" and first["quantity"] == 5 and first["wanted_by"]
    only = ok_json(run("orders", "list", "--status", "submitted", "--json"))
    assert [o["id"] for o in only] == [waiting]
    text = ok(run("orders", "list")).stdout
    assert "2 open orders" in text and order_ref(waiting) in text and "Max Works" in text
    bad = run("orders", "list", "--status", "completed")
    assert bad.exit_code == 2 and "not an open order status" in bad.output


# -- caratzon manufacturers ---------------------------------------------------------------------


def test_manufacturers_list(run: Run, shop: Workshop) -> None:
    everyone = ok_json(run("manufacturers", "list", "--json"))

    assert isinstance(everyone, list)
    assert {m["email"]: m["vetting"] for m in everyone} == {
        "max@example.com": "vetted", "mia@example.com": "vetted", "mo@example.com": "pending",
        "mel@example.com": "vetted",
    }
    mo = next(m for m in everyone if m["email"] == "mo@example.com")
    assert mo["nda_expires_on"] is None and mo["lead_time_days"] == 5 and mo["score"]["on_probation"] is True
    assert mo["labour"] == {"currency": "USD", "per_piece": "80.00", "per_stone": "5.00"}
    pending = ok_json(run("manufacturers", "list", "--vetting", "pending", "--json"))
    assert [m["email"] for m in pending] == ["mo@example.com"]
    text = ok(run("manufacturers", "list")).stdout
    assert "4 manufacturers" in text and "mo@example.com" in text and "none" in text
    assert run("manufacturers", "list", "--vetting", "maybe").exit_code == 2


def test_vet_then_route_to_them(run: Run, shop: Workshop) -> None:
    until = (shop.today + timedelta(days=400)).isoformat()
    signed = (shop.today - timedelta(days=3)).isoformat()

    result = ok(run("manufacturers", "vet", "mo@example.com", "--nda-until", until, "--nda-signed", signed))

    assert result.stdout == f"Vetted Mo Works (mo@example.com): NDA signed {signed}, valid until {until}.\n"
    vetted = ok_json(run("manufacturers", "list", "--vetting", "vetted", "--json"))
    [mo] = [m for m in vetted if m["email"] == "mo@example.com"]
    assert mo["nda_signed_on"] == signed and mo["nda_expires_on"] == until
    doc = ok_json(run("route", shop.submit(), "--json"))
    assert shop.ids["mo"] in [c["manufacturer_id"] for c in doc["candidates"]]


@pytest.mark.parametrize(("args", "message"), [
    (["mo@example.com", "--nda-until", "soon"], "'soon' is not a date (YYYY-MM-DD)."),
    (["mo@example.com", "--nda-until", "2020-01-01"], "The NDA would already have expired."),
    (["mo@example.com", "--nda-until", "2099-01-01", "--nda-signed", "2098-01-01"],
     "The NDA signing date is in the future."),
    (["nobody@example.com", "--nda-until", "2099-01-01"], "No manufacturer account 'nobody@example.com'."),
    (["bea@example.com", "--nda-until", "2099-01-01"], "No manufacturer account 'bea@example.com'."),
])
def test_vet_errors_are_one_line(run: Run, shop: Workshop, args: list[str], message: str) -> None:
    one_error(run("manufacturers", "vet", *args), message)


def test_vet_needs_a_profile(run: Run, shop: Workshop) -> None:
    shop.services.accounts.create_user(OPERATOR, SignUp(email="new@example.com", password=PASSWORD, name="New",
                                                        role="manufacturer"))
    one_error(run("manufacturers", "vet", "new@example.com", "--nda-until", "2099-01-01"),
              "new@example.com has not filled in a manufacturer profile yet")


def test_suspend(run: Run, shop: Workshop) -> None:
    order_id = shop.submit()

    result = ok(run("manufacturers", "suspend", "max@example.com", "--reason", "NDA breach under review"))

    assert result.stdout.startswith("Suspended Max Works (max@example.com)")
    suspended = ok_json(run("manufacturers", "list", "--vetting", "suspended", "--json"))
    assert [m["email"] for m in suspended] == ["max@example.com"]
    doc = ok_json(run("route", order_id, "--json"))
    assert doc["chosen"] == shop.ids["mia"]
    assert {"manufacturer_id": shop.ids["max"], "name": "Max Works", "reason": "not_vetted",
            "message": "Not vetted: vetting is suspended."} in doc["excluded"]
    one_error(run("manufacturers", "suspend", "max@example.com", "--reason", "again"),
              "This manufacturer is already suspended.")
    one_error(run("manufacturers", "suspend", "max@example.com", "--reason", "  "), "")
    assert run("manufacturers", "suspend", "mia@example.com").exit_code == 2  # --reason is required


def test_rescore(run: Run, shop: Workshop) -> None:
    assert ok_json(run("manufacturers", "rescore", "--json")) == {"manufacturers": 4, "changed": 0}
    assert ok(run("manufacturers", "rescore")).stdout == (
        "Recomputed the partner scores of 4 manufacturers; 0 changed.\n"
    )


# -- caratzon prices ---------------------------------------------------------------------


def test_prices_show_the_default_until_set(run: Run) -> None:
    doc = ok_json(run("prices", "show", "--json"))
    assert doc == document(DEFAULT_PRICES)
    assert isinstance(doc, dict) and doc["metal_per_gram"]["18k_yellow"] == "82.00"
    assert doc["platform_fee_rate"] == "0.08" and doc["setting_per_stone"] == "8.00"
    text = ok(run("prices", "show")).stdout
    assert text.startswith("Prices in USD, the built-in default")
    assert "18k_yellow" in text and "USD 82.00" in text and "8 %" in text


def test_prices_set_round_trips_and_quotes_use_them(run: Run, shop: Workshop, tmp_path: Path) -> None:
    doc = document(DEFAULT_PRICES)
    doc.pop("effective")  # today
    doc["metal_per_gram"] = {"18k_yellow": "90.50", "18k_white": 91}
    doc["platform_fee_rate"] = 0.1
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(doc))

    result = ok(run("prices", "set", "--file", str(path)))

    assert result.stdout == f"Prices set in USD, in force from {shop.today} (2 metals, 18 stones).\n"
    assert "no metal price for 14k_rose" in result.stderr
    shown = ok_json(run("prices", "show", "--json"))
    assert isinstance(shown, dict)
    assert shown["effective"] == shop.today.isoformat()
    assert shown["metal_per_gram"] == {"18k_white": "91.00", "18k_yellow": "90.50"}
    assert shown["platform_fee_rate"] == "0.1"
    prices = shop.services.orders.current_prices(OPERATOR)
    assert prices.metal_per_gram["18k_yellow"] == 9050 and prices.setting_per_stone == 800
    quote = shop.services.orders.quote_for(shop.people["bea"], shop.agreement.id, brief(shop.today))
    assert quote.prices_effective == shop.today and "USD 90.50/g" in quote.line("metal").detail
    # What `show --json` prints, `set --file` takes back.
    path.write_text(json.dumps(shown))
    assert ok_json(run("prices", "set", "--file", str(path), "--json")) == shown


def bad(**changes: object) -> dict[str, object]:
    doc: dict[str, object] = {**document(DEFAULT_PRICES), "effective": None}
    doc.update(changes)
    return {k: v for k, v in doc.items() if v != "<drop>"}


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "prices.json is not valid JSON: Expecting property name"),
    ("[1, 2]", "prices.json: the file must hold one JSON object"),
    (bad(colour="gold"), "prices.json: unknown field colour"),
    (bad(labour_per_piece="<drop>"), "prices.json: missing labour_per_piece"),
    (bad(currency="XYZ"), "prices.json: currency: unknown currency 'XYZ'"),
    (bad(metal_per_gram={"18k_yellow": "82.001"}),
     "prices.json: metal_per_gram.18k_yellow: USD amounts have at most 2 decimal places"),
    (bad(metal_per_gram={"gold": "82.00"}), "prices.json: metal_per_gram: unknown alloy 'gold'"),
    (bad(metal_per_gram={}), "prices.json: metal_per_gram: an object of alloy and amounts"),
    (bad(stone_per_carat={"diamond": "-5"}), "prices.json: stone_per_carat.diamond: prices cannot be negative"),
    (bad(setting_per_stone="eight"), "prices.json: setting_per_stone: 'eight' is not a number"),
    (bad(labour_per_piece=True), "prices.json: labour_per_piece: True is not an amount"),
    (bad(casting_loss="2"), "prices.json: casting_loss: 2 is not between 0 and 1"),
    (bad(platform_fee_rate="0.9"), "prices.json: platform_fee_rate: 0.9 is not between 0 and 0.5"),
    (bad(effective="next week"), "prices.json: effective: 'next week' is not a date (YYYY-MM-DD)"),
    (bad(effective="2020-01-01"), "Prices take effect today or later"),
])
def test_prices_set_refuses_a_bad_file_in_one_line(run: Run, tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))

    one_error(run("prices", "set", "--file", str(path)), message)

    assert ok_json(run("prices", "show", "--json")) == document(DEFAULT_PRICES)


def test_several_problems_are_reported_together(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(bad(casting_loss="2", labour_per_piece="x")))
    result = run("prices", "set", "--file", str(path))
    one_error(result, "prices.json: labour_per_piece: 'x' is not a number; casting_loss: 2 is not between")


def test_prices_set_with_a_missing_file(run: Run, tmp_path: Path) -> None:
    one_error(run("prices", "set", "--file", str(tmp_path / "nope.json")), "No such file or directory")


# -- the worker's order steps ----------------------------------------------------------------


@pytest.fixture
def lapsed(env: dict[str, str | None], tmp_path: Path) -> Iterator[tuple[Workshop, str, str]]:
    """Three days ago Max was offered two jobs: he accepted one (the charge is due)
    and let the other lapse a day ago."""
    now = datetime.now(UTC)
    services = bootstrap(config_for(env), migrate=True, clock=FakeClock(now - timedelta(days=3)))
    try:
        shop = Workshop(services, tmp_path)
        bea, maxi = shop.people["bea"], shop.people["max"]
        accepted = services.orders.create(bea, shop.agreement.id, brief(shop.today))
        services.orders.transition(maxi, accepted.id, "accepted")
        forgotten = services.orders.create(bea, shop.agreement.id, brief(shop.today, quantity=4))
        assert forgotten.manufacturer_id == shop.ids["max"]
        yield shop, accepted.id, forgotten.id
    finally:
        services.close()


def test_worker_once_releases_reroutes_and_settles(run: Run, lapsed: tuple[Workshop, str, str],
                                                   env: dict[str, str | None], data_dir: Path) -> None:
    shop, accepted, forgotten = lapsed

    result = run("worker", "--once")

    assert result.exit_code == 0, result.output
    [line] = result.stderr.splitlines()
    assert "; orders released 1, routed 0; payments made 1, failed 0; scores changed 0" in line
    # The lapsed offer went back to routing without Max, and on to Mia at once.
    assert order_status(env, forgotten)[:2] == (OrderStatus.ROUTED, shop.ids["mia"])
    assert order_status(env, accepted)[:2] == (OrderStatus.ACCEPTED, shop.ids["max"])
    assert json.loads((data_dir / STATE_FILE).read_text()) == {"rescored_on": datetime.now(UTC).date().isoformat()}
    again = run("worker", "--once")
    assert again.exit_code == 0, again.output
    assert "; orders released 0, routed 0; payments made 0, failed 0; scores changed 0" in again.stderr


def test_worker_routes_a_submitted_order(run: Run, shop: Workshop, env: dict[str, str | None]) -> None:
    order_id = shop.submit()
    result = run("worker", "--once")
    assert result.exit_code == 0, result.output
    assert "orders released 0, routed 1;" in result.stderr
    assert order_status(env, order_id)[:2] == (OrderStatus.ROUTED, shop.ids["max"])


# -- run_once over the in-memory fakes ------------------------------------------------------------


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[tuple[Services, FakeClock]]:
    clock = FakeClock()
    config = Config.from_env({"CARATZON_DATA_DIR": str(tmp_path / "data")})
    services = bootstrap(config, uow=InMemoryStore(), hasher=FakeHasher(), clock=clock)
    try:
        yield services, clock
    finally:
        services.close()


def test_partner_scores_are_recomputed_once_per_utc_day(memory: tuple[Services, FakeClock],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    services, clock = memory
    calls: list[datetime] = []

    def rescore(actor: Actor) -> int:
        calls.append(clock.now())
        return 3

    monkeypatch.setattr(services.manufacturers, "rescore", rescore)
    clock.set(datetime(2026, 11, 27, 23, 58, tzinfo=UTC))

    assert run_once(services)["rescored"] == 3
    assert run_once(services)["rescored"] == 0
    path = services.config.data_dir / STATE_FILE
    assert WorkerState.load(path).rescored_on == date(2026, 11, 27)
    clock.advance(timedelta(minutes=3))  # past midnight UTC: a new day
    assert run_once(services)["rescored"] == 3
    assert run_once(services)["rescored"] == 0
    assert len(calls) == 2

    # An unreadable state file is a worker that never rescored; an explicit state wins.
    path.write_text("{garbage")
    assert run_once(services)["rescored"] == 3
    state = WorkerState(rescored_on=clock.now().date())
    assert run_once(services, state=state)["rescored"] == 0
    fresh = WorkerState()
    assert run_once(services, state=fresh)["rescored"] == 3 and fresh.rescored_on == clock.now().date()
    assert len(calls) == 4


def test_a_failing_order_step_is_one_line_and_the_others_still_run(memory: tuple[Services, FakeClock],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    services, _ = memory

    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("routing table on fire\nsecond line")

    monkeypatch.setattr(services.orders, "auto_route", broken)
    monkeypatch.setattr(services.orders, "settle_payments", broken)
    lines: list[str] = []

    counts = run_once(services, log=lines.append, state=WorkerState())

    assert counts["errors"] == 2
    assert lines == ["worker: order routing failed: unexpected RuntimeError: routing table on fire",
                     "worker: payments failed: unexpected RuntimeError: routing table on fire"]
    assert set(counts) == set(COUNTS)


def test_a_failing_rescore_is_retried_on_the_next_run(memory: tuple[Services, FakeClock],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    services, _ = memory
    state = WorkerState()
    with monkeypatch.context() as patch:
        patch.setattr(services.manufacturers, "rescore", lambda actor: 1 / 0)
        assert run_once(services, state=state, log=lambda line: None)["errors"] == 1
    assert state.rescored_on is None
    assert run_once(services, state=state)["errors"] == 0
    assert state.rescored_on is not None


def test_run_once_releases_routes_and_settles_over_the_fakes(memory: tuple[Services, FakeClock],
                                                             tmp_path: Path) -> None:
    services, clock = memory
    shop = Workshop(services, tmp_path)
    bea, maxi = shop.people["bea"], shop.people["max"]
    accepted = services.orders.create(bea, shop.agreement.id, brief(shop.today))
    services.orders.transition(maxi, accepted.id, "accepted")
    forgotten = services.orders.create(bea, shop.agreement.id, brief(shop.today, quantity=4))
    waiting = shop.submit(quantity=3)
    clock.advance(timedelta(hours=49))

    counts = run_once(services, state=WorkerState())

    assert (counts["released"], counts["routed"], counts["paid"], counts["payments_failed"]) == (1, 1, 1, 0)
    assert counts["errors"] == 0
    orders = {s.order.id: s.order for s in services.orders.open_orders(OPERATOR)}
    assert (orders[forgotten.id].status, orders[forgotten.id].manufacturer_id) == (OrderStatus.ROUTED, shop.ids["mia"])
    assert orders[waiting].status is OrderStatus.ROUTED
    again = run_once(services, state=WorkerState(rescored_on=clock.now().date()))
    assert (again["released"], again["routed"], again["paid"]) == (0, 0, 0)
