"""The orders JSON API (issue #5, part 7) over HTTP with bearer tokens: a buyer
quotes and orders under a licence, the workshop accepts, fetches production CAD,
makes, passes quality check and ships, the buyer completes; production managers
read the routing, assign and override, vet and suspend workshops; a workshop keeps
its profile. Every bad input is a clear 4xx naming its rule and writes nothing;
non-parties get 403; money is never a JSON float.

People, design, licence and workshops come from ``world`` (tests/e2e/conftest.py:
OrderWorld), made through the use cases with the FakeInspector services.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from test_web_designs_support import ORDER_CUBE, bearer, services_fixture  # noqa: F401

from caratzon_core.orders import OrderStatus


def _error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.json["error"]
    if code:
        assert error["code"] == code
    if field:
        assert error["field"] == field, error
    assert error["message"]
    return error


def _no_floats(value: Any) -> None:
    assert not isinstance(value, float), value
    if isinstance(value, dict):
        for item in value.values():
            _no_floats(item)
    elif isinstance(value, list):
        for item in value:
            _no_floats(item)


class Api:
    def __init__(self, world) -> None:
        self.world = world
        self.client = world.app.test_client()

    def get(self, who: str, path: str):
        return self.client.get(path, headers=bearer(self.world.token(who)))

    def post(self, who: str, path: str, body: Any = None):
        return self.client.post(path, headers=bearer(self.world.token(who)), json=body)

    def put(self, who: str, path: str, body: Any):
        return self.client.put(path, headers=bearer(self.world.token(who)), json=body)

    def order(self, who: str = "bea", **brief: Any):
        return self.post(who, "/api/v1/orders", {"agreement_id": self.world.agreement.id,
                                                 "brief": self.world.brief(**brief)})

    def placed(self, **brief: Any) -> dict[str, Any]:
        response = self.order(**brief)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json

    def move(self, who: str, order_id: str, to: str, **fields: Any):
        self.world.clock.advance(timedelta(minutes=5))
        return self.post(who, f"/api/v1/orders/{order_id}/transitions", {"to": to, **fields})


@pytest.fixture
def api(world) -> Api:
    return Api(world)


# -- the whole flow ------------------------------------------------------------------------------------


def test_quote_order_produce_ship_complete_over_http(api, world):
    agreement_id = world.agreement.id
    quoted = api.post("bea", "/api/v1/quotes", {"agreement_id": agreement_id, "brief": world.brief(quantity=12)})
    assert quoted.status_code == 200, quoted.get_data(as_text=True)
    quote = quoted.json
    _no_floats(quote)
    assert [line["code"] for line in quote["lines"]] == ["metal", "labour", "stones", "licence_royalty"]
    royalty = quote["lines"][3]
    assert royalty["per_piece"] == {"amount": "4.00", "currency": "USD"}
    assert royalty["amount"] == {"amount": "48.00", "currency": "USD"}
    assert quote["lines"][0]["detail"] == "15.580 g net × USD 82.00/g × (1 + 0.05 casting loss)"  # noqa: RUF001
    assert quote["platform_fee_rate"] == "0.08" and quote["net_grams_per_piece"] == "15.580"
    cents = sum(int(line["amount"]["amount"].replace(".", "")) for line in quote["lines"])
    assert cents + int(quote["platform_fee"]["amount"].replace(".", "")) == \
        int(quote["total"]["amount"].replace(".", ""))
    assert world.store.state.production.orders == {}  # a quote stores nothing

    response = api.order(quantity=12, notes="Hallmark inside.")
    assert response.status_code == 201, response.get_data(as_text=True)
    order = response.json
    _no_floats(order)
    order_id = order["id"]
    assert order["status"] == "routed" and order["manufacturer"] == {"id": world.id("max"), "name": "Max Ltd"}
    assert order["quote"] == quote and order["ref"] == order_id.replace("-", "")[-8:].upper()
    assert order["brief"]["quantity"] == 12 and order["brief"]["size"] == {"system": "us", "value": "6.5"}
    assert order["brief"]["notes"] == "Hallmark inside."
    assert order["my_side"] == "buyer" and order["moves"] == ["cancelled"]
    assert order["buyer"]["business_name"] == "Bea Ltd" and order["ledger"] == [] and order["payments"] == []
    # (Submission and the automatic routing happen at the same instant of the test clock.)
    assert sorted(e["event"] for e in order["timeline"]) == ["order.routed", "order.submitted"]
    assert order["thread_id"] and order["offer_expires_at"] == "2026-11-29T09:00:00Z"

    listed = api.get("bea", "/api/v1/orders").json["items"]
    assert [(i["id"], i["status"], i["my_side"], i["total"]) for i in listed] == [
        (order_id, "routed", "buyer", quote["total"])]
    assert [i["id"] for i in api.get("max", "/api/v1/orders").json["items"]] == [order_id]
    assert api.get("mia", "/api/v1/orders").json["items"] == []
    assert api.get("bea", f"/api/v1/orders/{order_id}/quote").json == quote

    assert api.get("max", f"/api/v1/orders/{order_id}").json["moves"] == ["accepted", "declined"]
    accepted = api.move("max", order_id, "accepted")
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"

    links = api.get("max", f"/api/v1/orders/{order_id}/cad-links")
    assert links.status_code == 200
    [item] = links.json["items"]
    assert item["asset"]["id"] == world.cad.id and item["asset"]["filename"] == "ring.stl"
    assert item["url"].startswith("http://localhost/blobs/")
    assert api.client.get(item["url"].removeprefix("http://localhost")).data == ORDER_CUBE

    assert api.move("max", order_id, "in_production").json["status"] == "in_production"
    assert api.move("max", order_id, "quality_check").json["status"] == "quality_check"
    assert api.get("pam", f"/api/v1/orders/{order_id}").json["moves"] == ["qc_passed", "in_production"]
    assert api.move("pam", order_id, "qc_passed").json["qc_passed_at"]
    shipped = api.move("max", order_id, "shipped", carrier="DHL Express", tracking="JD014600006281")
    assert shipped.json["status"] == "shipped"
    assert shipped.json["shipment"]["carrier"] == "DHL Express"
    assert api.move("bea", order_id, "delivered").json["moves"] == ["completed", "disputed"]
    done = api.move("bea", order_id, "completed")
    assert done.json["status"] == "completed" and done.json["closed_at"]

    seen = api.get("pam", f"/api/v1/orders/{order_id}").json
    _no_floats(seen)
    assert [e["kind"] for e in seen["ledger"]] == ["charge", "payout"]
    charge = seen["ledger"][0]
    assert charge["amount"] == quote["total"]
    assert {line["account"] for line in charge["lines"]} == {
        "clearing", f"payable:manufacturer:{world.id('max')}", f"payable:designer:{world.id('dee')}",
        "revenue:platform_fee"}
    assert [p["kind"] for p in seen["payments"]] == ["charge", "transfer", "transfer"]
    assert [e["event"] for e in seen["timeline"]][2:] == [
        "order.accepted", "order.in_production", "order.quality_check",
        "order.qc_passed", "order.shipped", "order.delivered", "order.completed"]
    assert seen["timeline"][6]["data"]["tracking"] == "JD014600006281"


def test_a_draft_has_no_fixed_quote_until_it_is_submitted(api, world):
    response = api.post("bea", "/api/v1/orders", {"agreement_id": world.agreement.id, "brief": world.brief(),
                                                  "submit": False})
    assert response.status_code == 201
    draft = response.json
    assert draft["status"] == "draft" and draft["quote"] is None and draft["thread_id"] is None
    assert draft["moves"] == ["submitted", "cancelled"]
    _error(api.get("bea", f"/api/v1/orders/{draft['id']}/quote"), 409, "conflict", "status")
    submitted = api.move("bea", draft["id"], "submitted")
    assert submitted.status_code == 200 and submitted.json["status"] == "routed"
    assert api.get("bea", f"/api/v1/orders/{draft['id']}/quote").json == submitted.json["quote"]


# -- bad input: a clear 4xx naming the rule, nothing written -------------------------------------------


def test_the_licence_rules_refuse_an_order_and_nothing_is_written(api, world):
    before = world.counts()
    for brief, field, message in (
        ({"quantity": 51}, "quantity", "The licence allows 50 pieces and 0 are ordered already: at most 50 more."),
        ({"ship_to": "US"}, "ship_to", "Shipping to US is outside the licence territory (GB, HK)."),
        ({"wanted_by": (world.today() - timedelta(days=1)).isoformat()}, "wanted_by",
         "The wanted-by date must be after today (2026-11-27)."),
        ({"wanted_by": (world.today() + timedelta(days=500)).isoformat()}, "wanted_by",
         "The wanted-by date is after the licence ends"),
        ({"alloy": "platinum_950"}, "alloy", "The licence does not allow changing the metal"),
        ({"stones": [{"type": "diamond", "carat": "0.05", "count": 6}]}, "stones",
         "The licence does not allow changing the stones."),
        ({"colour": "red"}, "colour", "Unknown field 'colour'."),
        ({"quantity": "ten"}, "quantity", "'ten' is not a whole number."),
    ):
        for path in ("/api/v1/orders", "/api/v1/quotes"):
            error = _error(api.post("bea", path, {"agreement_id": world.agreement.id, "brief": world.brief(**brief)}),
                           422, "validation_failed", field)
            assert error["message"].startswith(message), (error, message)
    # Every problem at once, in 'details'.
    error = _error(api.order(quantity=60, ship_to="US"), 422, field="quantity")
    assert [d["field"] for d in error["details"]] == ["quantity", "ship_to"]
    assert world.counts() == before

    # The remaining units count earlier orders.
    api.placed(quantity=45)
    error = _error(api.order(quantity=6), 422, field="quantity")
    assert "45 are ordered already: at most 5 more" in error["message"]
    assert len(world.store.state.production.orders) == 1


def test_no_active_agreement_no_order(api, world):
    before = world.counts()
    # Bob holds no licence: Bea's agreement is not his.
    _error(api.post("bob", "/api/v1/orders", {"agreement_id": world.agreement.id, "brief": world.brief()}),
           404, "not_found", "agreement_id")
    _error(api.post("bea", "/api/v1/orders", {"agreement_id": "nope", "brief": world.brief()}),
           404, "not_found", "agreement_id")
    # Only buyers order; a designer is refused by the policy.
    _error(api.post("dee", "/api/v1/quotes", {"agreement_id": world.agreement.id, "brief": world.brief()}),
           403, "forbidden")
    # After the licence's term, it is no longer in force.
    world.clock.advance(timedelta(days=400))
    world.forget_tokens()  # they expired too
    error = _error(api.order(wanted_by=(world.today() + timedelta(days=30)).isoformat()), 422, field="agreement_id")
    assert error["message"] == "The licence is not in force today."
    assert world.counts() == before


def test_malformed_bodies_are_refused(api, world):
    before = world.counts()
    _error(api.client.post("/api/v1/orders", headers=bearer(world.token("bea")), data="x",
                           content_type="text/plain"), 400, "bad_request")
    _error(api.post("bea", "/api/v1/orders", {"agreement_id": world.agreement.id}), 422, field="brief")
    _error(api.post("bea", "/api/v1/orders", {"agreement_id": world.agreement.id, "brief": world.brief(),
                                              "submit": "yes"}), 422, field="submit")
    _error(api.post("bea", "/api/v1/orders", {"agreement_id": world.agreement.id, "brief": world.brief(),
                                              "priority": True}), 422, field="priority")
    _error(api.client.post("/api/v1/orders", json={}), 401, "unauthenticated")
    assert world.counts() == before


def test_steps_out_of_order_are_409_and_by_the_wrong_party_403(api, world):
    order_id = api.placed()["id"]
    before = world.counts()
    error = _error(api.move("bea", order_id, "delivered"), 409, "conflict", "to")
    assert error["message"] == "An order that is routed cannot move to delivered."
    error = _error(api.move("bea", order_id, "accepted"), 403, "forbidden")
    assert error["message"] == "Only the manufacturer may move an order from routed to accepted."
    error = _error(api.move("mia", order_id, "accepted"), 403, "forbidden")  # not the assigned workshop
    assert "Only the order's buyer, the design's designer, the assigned manufacturer" in error["message"]
    _error(api.move("max", order_id, "shipped", carrier="DHL", tracking="1"), 409, "conflict", "to")
    _error(api.move("bea", order_id, "cancelled"), 422, "validation_failed", "reason")
    _error(api.move("max", order_id, "teleported"), 422, "validation_failed", "to")
    _error(api.move("dee", order_id, "cancelled", reason="Mine"), 403, "forbidden")
    assert world.counts() == before
    api.move("max", order_id, "accepted")
    error = _error(api.move("max", order_id, "shipped", carrier="DHL", tracking="1"), 409, "conflict", "to")
    assert error["message"] == "An order that is accepted cannot move to shipped."


# -- routing, assignment and overrides ----------------------------------------------------------------


def test_routing_assignment_and_overrides(api, world):
    order_id = api.placed()["id"]
    routing = api.get("pam", f"/api/v1/orders/{order_id}/routing")
    assert routing.status_code == 200
    decision = routing.json
    _no_floats(decision)
    assert decision["chosen"] == world.id("max")
    assert [(c["rank"], c["name"]) for c in decision["candidates"]] == [(1, "Max Ltd"), (2, "Mia Ltd")]
    best = decision["candidates"][0]
    assert best["score"] == {"slack": "1.0000", "cost": "1.0000", "rating": "0.5000", "load": "0.9500",
                             "total": "0.8675"}
    assert best["labour_per_piece"] == {"amount": "80.00", "currency": "USD"} and best["finish_on"] == "2026-12-07"
    reasons = {e["name"]: (e["reason"], e["message"]) for e in decision["excluded"]}
    assert reasons["Mo Ltd"] == ("not_vetted", "Not vetted: vetting is pending.")
    assert reasons["Mel Ltd"][0] == "nda_not_valid"
    assert decision["reason"].startswith("Chose Max Ltd")

    before = world.counts()
    path = f"/api/v1/orders/{order_id}/assign"
    error = _error(api.post("pam", path, {"manufacturer_id": world.id("mia")}), 422, "validation_failed", "reason")
    assert "Overriding the routing needs a written reason." in error["message"]
    error = _error(api.post("pam", path, {"manufacturer_id": world.id("mo"), "reason": "Fast"}), 409, "conflict",
                   "manufacturer_id")
    assert error["message"] == "Not vetted: vetting is pending. This cannot be overridden."
    error = _error(api.post("pam", path, {"manufacturer_id": world.id("mel"), "reason": "Knows it"}), 409,
                   "conflict", "manufacturer_id")
    assert error["message"].startswith("NDA expires on 2026-12-07") and "cannot be overridden" in error["message"]
    # To the workshop that already has the job it is refused (reason or not).
    _error(api.post("pam", path, {}), 409, "conflict", "manufacturer_id")
    error = _error(api.post("pam", path, {"reason": "Again"}), 409, "conflict", "manufacturer_id")
    assert error["message"] == "The job is already with that manufacturer."
    _error(api.post("pam", path, {"manufacturer_id": "nobody", "reason": "x"}), 404, "not_found", "manufacturer_id")
    _error(api.post("bea", path, {}), 403, "forbidden")
    _error(api.post("max", path, {"manufacturer_id": world.id("max"), "reason": "Me"}), 403, "forbidden")
    assert world.counts() == before

    world.clock.advance(timedelta(minutes=5))
    moved = api.post("pam", path, {"manufacturer_id": world.id("mia"), "reason": "Max is closed this week"})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert moved.json["manufacturer"] == {"id": world.id("mia"), "name": "Mia Ltd"}
    assert moved.json["reason"] == "Max is closed this week"
    assert moved.json["timeline"][-1]["event"] == "order.reassigned"
    audit = [e for e in world.store.state.audit if e.action == "order.reassigned"]
    assert audit[-1].detail["override"] == "yes"
    _error(api.get("max", f"/api/v1/orders/{order_id}"), 403, "forbidden")  # no longer his
    _error(api.get("pam", "/api/v1/orders/nope/routing"), 404, "not_found")

    # Once Mel's NDA has expired outright, she is still out of reach, reason or not.
    world.clock.advance(timedelta(days=11))
    world.forget_tokens()
    before = world.counts()
    error = _error(api.post("pam", path, {"manufacturer_id": world.id("mel"), "reason": "Urgent"}), 409,
                   "conflict", "manufacturer_id")
    assert error["message"].startswith("NDA expires on 2026-12-07") and "cannot be overridden" in error["message"]
    assert world.counts() == before


def test_only_parties_see_an_order(api, world):
    order_id = api.placed()["id"]
    for who in ("bob", "mia", "mo"):
        _error(api.get(who, f"/api/v1/orders/{order_id}"), 403, "forbidden")
        _error(api.get(who, f"/api/v1/orders/{order_id}/quote"), 403, "forbidden")
    for who in ("bea", "max", "dee"):
        _error(api.get(who, f"/api/v1/orders/{order_id}/routing"), 403, "forbidden")
        _error(api.get(who, "/api/v1/manufacturers"), 403, "forbidden")
    seen = api.get("dee", f"/api/v1/orders/{order_id}").json
    assert seen["my_side"] is None and seen["moves"] == []  # the designer looks on
    _error(api.get("bea", "/api/v1/orders/nope"), 404, "not_found")


# -- production CAD -----------------------------------------------------------------------------------


def test_cad_links_only_for_the_assigned_vetted_workshop(api, world):
    order_id = api.placed()["id"]
    error = _error(api.get("max", f"/api/v1/orders/{order_id}/cad-links"), 403, "forbidden")
    assert error["message"] == ("Production CAD files are available from the job's acceptance until the pieces "
                                "ship; this order is routed.")
    api.move("max", order_id, "accepted")
    for who in ("bea", "dee"):
        error = _error(api.get(who, f"/api/v1/orders/{order_id}/cad-links"), 403, "forbidden")
        assert error["message"] == "Production CAD files go only to the manufacturer assigned to this order."
    _error(api.get("mia", f"/api/v1/orders/{order_id}/cad-links"), 403, "forbidden")
    assert api.get("max", f"/api/v1/orders/{order_id}/cad-links").status_code == 200

    suspended = api.post("pam", f"/api/v1/manufacturers/{world.id('max')}/suspend", {"reason": "Audit failed"})
    assert suspended.status_code == 200 and suspended.json["vetting"] == "suspended"
    error = _error(api.get("max", f"/api/v1/orders/{order_id}/cad-links"), 403, "forbidden")
    assert error["message"] == "Production CAD files need a vetted manufacturer with a valid NDA."
    denied = [e for e in world.store.state.audit if e.action == "order.cad_links" and e.outcome == "denied"]
    assert denied and denied[-1].actor == world.id("max")


# -- workshops and vetting ---------------------------------------------------------------------------


def _profile(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"processes": ["lost_wax_casting", "stone_setting_pave"], "metals": ["platinum_950"],
                            "min_quantity": 5, "max_quantity": 100, "weekly_capacity": 80, "lead_time_days": 12,
                            "ships_to": ["gb", "HK"], "labour_per_piece": "95.50", "labour_per_stone": "6",
                            "currency": "HKD", "name": "Mo's Casting"}
    body.update(changes)
    return body


def test_workshop_profile_over_http(api, world):
    mine = api.get("mo", "/api/v1/manufacturers/me")
    assert mine.status_code == 200
    _no_floats(mine.json)
    assert mine.json["vetting"] == "pending" and mine.json["lead_time_days"] == 5
    assert mine.json["labour"]["per_piece"] == {"amount": "80.00", "currency": "USD"}
    assert mine.json["score"]["on_probation"] is True and mine.json["score"]["rating"] is None

    before = world.counts()
    error = _error(api.put("mo", "/api/v1/manufacturers/me", _profile(min_quantity=1.5, ships_to=["UK"])), 422)
    assert {d["field"] for d in error["details"]} == {"ships_to", "min_quantity"}
    _error(api.put("mo", "/api/v1/manufacturers/me", _profile(min_quantity=500)), 422, field="min_quantity")
    _error(api.put("mo", "/api/v1/manufacturers/me", _profile(processes=["smelting"])), 422, field="processes")
    _error(api.put("mo", "/api/v1/manufacturers/me", _profile(labour_per_piece=95.5)), 422,
           field="labour_per_piece")
    _error(api.put("mo", "/api/v1/manufacturers/me", {**_profile(), "vetting": "vetted"}), 422, field="vetting")
    _error(api.put("bea", "/api/v1/manufacturers/me", _profile()), 403, "forbidden")
    assert world.counts() == before

    saved = api.put("mo", "/api/v1/manufacturers/me", _profile())
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.json["name"] == "Mo's Casting" and saved.json["ships_to"] == ["GB", "HK"]
    assert saved.json["labour"]["per_piece"] == {"amount": "95.50", "currency": "HKD"}
    assert saved.json["vetting"] == "pending"
    _error(api.get("bea", "/api/v1/manufacturers/me"), 404, "not_found")


def test_production_managers_list_vet_and_suspend_workshops(api, world):
    listed = api.get("pam", "/api/v1/manufacturers")
    assert [m["name"] for m in listed.json["items"]] == ["Max Ltd", "Mel Ltd", "Mia Ltd", "Mo Ltd"]
    pending = api.get("pam", "/api/v1/manufacturers?vetting=pending").json["items"]
    assert [m["name"] for m in pending] == ["Mo Ltd"]
    _error(api.get("pam", "/api/v1/manufacturers?vetting=maybe"), 422, field="vetting")
    _error(api.get("pam", "/api/v1/manufacturers?sort=name"), 422, field="sort")

    before = world.counts()
    path = f"/api/v1/manufacturers/{world.id('mo')}/vet"
    _error(api.post("pam", path, {"nda_until": "2026-11-26"}), 422, field="nda_until")
    _error(api.post("pam", path, {"nda_until": "2027-11-27", "nda_signed_on": "2026-12-01"}), 422,
           field="nda_signed_on")
    _error(api.post("pam", path, {"nda_until": "next year"}), 422, field="nda_until")
    _error(api.post("pam", path, {}), 422, field="nda_until")
    _error(api.post("max", path, {"nda_until": "2027-11-27"}), 403, "forbidden")
    _error(api.post("pam", "/api/v1/manufacturers/nobody/vet", {"nda_until": "2027-11-27"}), 404)
    _error(api.post("pam", f"/api/v1/manufacturers/{world.id('mia')}/suspend", {"reason": " "}), 422,
           field="reason")
    _error(api.post("pam", f"/api/v1/manufacturers/{world.id('mia')}/suspend", {}), 422, field="reason")
    assert world.counts() == before

    vetted = api.post("pam", path, {"nda_until": "2027-11-27", "nda_signed_on": "2026-11-20"})
    assert vetted.status_code == 200
    assert (vetted.json["vetting"], vetted.json["nda_signed_on"], vetted.json["nda_expires_on"]) == (
        "vetted", "2026-11-20", "2027-11-27")
    assert vetted.json["vetted_by"] == world.id("pam")
    by_email = api.post("pam", "/api/v1/manufacturers/mia@example.com/suspend", {"reason": "Quality audit"})
    assert by_email.status_code == 200 and by_email.json["vetting"] == "suspended"
    _error(api.post("pam", f"/api/v1/manufacturers/{world.id('mia')}/suspend", {"reason": "Again"}), 409,
           "conflict", "vetting")

    # Mo is a candidate now; Mia (suspended) is excluded.
    order = api.placed()
    assert world.get_order(order["id"]).status is OrderStatus.ROUTED
    decision = api.get("pam", f"/api/v1/orders/{order['id']}/routing").json
    assert {c["name"] for c in decision["candidates"]} == {"Max Ltd", "Mo Ltd"}
    assert {e["name"]: e["message"] for e in decision["excluded"]}["Mia Ltd"] == "Not vetted: vetting is suspended."


def test_openapi_describes_the_order_bodies(api):
    from caratzon_web.api_orders import (
        AssignBody,
        OrderBody,
        ProfileBody,
        QuoteBody,
        SuspendBody,
        TransitionBody,
        VetBody,
    )

    schemas = api.client.get("/api/v1/openapi.json").json["components"]["schemas"]
    for name, cls in (("OrderInput", OrderBody), ("QuoteInput", QuoteBody), ("AssignInput", AssignBody),
                      ("TransitionInput", TransitionBody), ("ManufacturerInput", ProfileBody),
                      ("VetInput", VetBody), ("SuspendInput", SuspendBody)):
        assert set(schemas[name]["properties"]) == {a.name for a in cls.__attrs_attrs__}, name
        assert schemas[name]["additionalProperties"] is False
    brief = schemas["BriefInput"]["properties"]
    assert set(brief) == {"alloy", "quantity", "ship_to", "wanted_by", "size", "stones", "engraving", "finish",
                          "notes"}
