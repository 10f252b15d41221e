"""The licensing JSON API (issue #4, part 7) over HTTP with bearer tokens: a designer
offers a licence, a buyer proposes a fee, the designer counters, the buyer accepts
and both see the agreement whose hash a client can check; every bad input is a
clear 4xx naming its rule and writes nothing; only the parties see a
negotiation, its agreement and its thread; messages carry signed attachment
links; support requests reach the admins and nobody else."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from test_web_designs_support import (  # noqa: F401
    JPEG,
    PNG,
    bearer,
    market_fixture,
    services_fixture,
)

from caratzon_core.messaging import MessageKind

TODAY = "2026-11-27"  # the FakeClock's day


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.json["error"]
    if code:
        assert error["code"] == code
    assert error["message"]
    return error


def _no_floats(value: Any) -> None:
    """Money (and everything else here) is never a JSON float."""
    assert not isinstance(value, float), value
    if isinstance(value, dict):
        for item in value.values():
            _no_floats(item)
    elif isinstance(value, list):
        for item in value:
            _no_floats(item)


def terms(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "use": "manufacturing",
        "exclusivity": "non_exclusive",
        "territory": ["GB", "FR"],
        "term": {"start": TODAY, "months": 12},
        "fees": {"flat": {"amount": "1500.00", "currency": "USD"}},
        "unit_cap": 100,
        "may_modify": ["ring_size"],
        "attribution_required": True,
    }
    base.update(changes)
    return base


def trade_counts(store) -> dict[str, int]:
    t = store.state.trade
    return {"options": len(t.options), "negotiations": len(t.negotiations),
            "offers": sum(len(n.offers) for n in t.negotiations.values()), "agreements": len(t.agreements),
            "threads": len(t.threads), "messages": len(t.messages), "outbox": len(t.outbox)}


class Trade:
    """People, a published design and its licensing, driven through the API."""

    def __init__(self, market, client) -> None:
        self.market = market
        self.client = client
        self.ada = market.token("ada@example.com", "designer", "Ada Lovelace")
        self.bob = market.token("bob@example.com", "buyer", "Bob Buyer")
        self.cat = market.token("cat@example.com", "buyer", "Cat Curious")
        self.design = market.published(self.ada)

    def post(self, token: str, path: str, body: Any = None):
        if body is None:
            return self.client.post(path, headers=bearer(token))
        return self.client.post(path, headers=bearer(token), json=body)

    def get(self, token: str, path: str):
        return self.client.get(path, headers=bearer(token))

    def add_option(self, name: str = "Standard casting", design_id: str | None = None, **changes: Any):
        return self.post(self.ada, f"/api/v1/designs/{design_id or self.design['id']}/licence-options",
                         {"name": name, "terms": terms(**changes)})

    def option(self, name: str = "Standard casting", **changes: Any) -> dict[str, Any]:
        response = self.add_option(name, **changes)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json

    def open(self, token: str, option_id: str, **body: Any):
        return self.post(token, "/api/v1/negotiations", {"option_id": option_id, **body})

    def opened(self, token: str, option_id: str, **body: Any) -> dict[str, Any]:
        response = self.open(token, option_id, **body)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json

    def counter(self, token: str, negotiation_id: str, changes: dict[str, Any]):
        return self.post(token, f"/api/v1/negotiations/{negotiation_id}/offers", {"terms": changes})

    def accept(self, token: str, negotiation_id: str, offer_id: str | None = None):
        return self.post(token, f"/api/v1/negotiations/{negotiation_id}/accept",
                         {"offer_id": offer_id} if offer_id else None)

    def messages(self, token: str, thread_id: str):
        return self.get(token, f"/api/v1/threads/{thread_id}/messages")

    def send(self, token: str, thread_id: str, body: str, files: list[tuple[bytes, str]] = (), **extra: Any):
        form: dict[str, Any] = {"body": body, **extra}
        if files:
            form["attachments"] = [(io.BytesIO(data), name) for data, name in files]
        return self.client.post(f"/api/v1/threads/{thread_id}/messages", headers=bearer(token), data=form,
                                content_type="multipart/form-data")


@pytest.fixture
def trade(market, client) -> Trade:
    return Trade(market, client)


def fee(amount: str, currency: str = "USD") -> dict[str, Any]:
    return {"flat": {"amount": amount, "currency": currency}}


# -- the whole flow ---------------------------------------------------------------------------------


def test_option_offer_counter_accept_agreement_over_http(trade, client, market, store, clock):
    design_id = trade.design["id"]
    option = trade.option()
    assert option["name"] == "Standard casting" and option["status"] == "active"
    assert option["design_id"] == design_id and option["designer_id"] == market.user_id("ada@example.com")
    assert option["terms"] == {
        "use": "manufacturing",
        "exclusivity": "non_exclusive",
        "territory": {"worldwide": False, "countries": ["FR", "GB"]},
        "term": {"start": TODAY, "months": 12},
        "unit_cap": 100,
        "fees": {"flat": {"amount": "1500.00", "currency": "USD", "amount_minor": 150000},
                 "royalty_per_unit": None},
        "may_modify": ["ring_size"],
        "attribution_required": True,
        "cad_redistributable": False,
    }
    assert option["created_at"] == "2026-11-27T09:00:00Z" and option["retired_at"] is None
    listed = trade.get(trade.bob, f"/api/v1/designs/{design_id}/licence-options")
    assert listed.status_code == 200 and [o["id"] for o in listed.json["items"]] == [option["id"]]

    # The buyer opens with a lower fee and a note.
    clock.advance(timedelta(hours=1))
    neg = trade.opened(trade.bob, option["id"], proposed_terms={"fees": fee("1200")}, note="Would 1,200 work?")
    neg_id = neg["id"]
    assert neg["status"] == "open" and neg["my_party"] == "buyer"
    assert neg["whose_turn"] == "designer" and neg["can_answer"] is False
    assert neg["design"] == {"id": design_id, "title": "Art deco solitaire"}
    assert neg["option"] == {"id": option["id"], "name": "Standard casting", "status": "active"}
    assert neg["buyer"]["name"] == "Bob Buyer" and neg["designer"]["name"] == "Ada Lovelace"
    assert neg["agreement_id"] is None and neg["thread_id"]
    (first,) = neg["offers"]
    assert first["by"] == "buyer" and first["state"] == "open"
    assert first["terms"]["fees"]["flat"] == {"amount": "1200.00", "currency": "USD", "amount_minor": 120000}
    assert first["terms"]["territory"]["countries"] == ["FR", "GB"]  # the rest is the option's
    assert first["made_at"] == "2026-11-27T10:00:00Z" and first["expires_at"] == "2026-12-04T10:00:00Z"

    theirs = trade.get(trade.ada, f"/api/v1/negotiations/{neg_id}").json
    assert theirs["my_party"] == "designer" and theirs["can_answer"] is True
    mine = trade.get(trade.ada, "/api/v1/negotiations").json["items"]
    assert [(n["id"], n["my_turn"], n["counterparty"]["name"]) for n in mine] == [(neg_id, True, "Bob Buyer")]
    assert mine[0]["latest_offer"]["fees"]["flat"]["amount"] == "1200.00"

    # The designer counters at 1,350 with a royalty too.
    clock.advance(timedelta(hours=1))
    countered = trade.counter(trade.ada, neg_id, {"fees": {"flat": {"amount": "1350.00", "currency": "USD"},
                                                           "royalty_per_unit": {"amount": "4", "currency": "USD"}}})
    assert countered.status_code == 201, countered.json
    offers = countered.json["offers"]
    assert [(o["by"], o["state"]) for o in offers] == [("buyer", "superseded"), ("designer", "open")]
    assert offers[1]["terms"]["fees"]["royalty_per_unit"] == {"amount": "4.00", "currency": "USD",
                                                              "amount_minor": 400}
    assert countered.json["whose_turn"] == "buyer" and countered.json["can_answer"] is False
    assert trade.get(trade.bob, "/api/v1/negotiations").json["items"][0]["my_turn"] is True

    # The buyer accepts the designer's offer.
    clock.advance(timedelta(minutes=30))
    accepted = trade.accept(trade.bob, neg_id, offers[1]["id"])
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["negotiation"]["status"] == "accepted"
    assert accepted.json["negotiation"]["accepted_offer_id"] == offers[1]["id"]
    assert accepted.json["negotiation"]["offers"][1]["state"] == "accepted"
    agreement = accepted.json["agreement"]
    assert accepted.json["negotiation"]["agreement_id"] == agreement["id"]

    fetched = trade.get(trade.ada, f"/api/v1/agreements/{agreement['id']}")
    assert fetched.status_code == 200
    got = fetched.json
    assert got == agreement
    assert got["status"] == "active" and got["negotiation_id"] == neg_id
    assert got["design"] == {"id": design_id, "title": "Art deco solitaire"}
    assert got["buyer"] == {"id": market.user_id("bob@example.com"), "name": "Bob Buyer", "business_name": None}
    assert got["designer"]["name"] == "Ada Lovelace"
    assert got["effective_date"] == TODAY and got["end_date"] == "2027-11-27"
    assert got["created_at"] == "2026-11-27T11:30:00Z"
    assert got["terms"] == offers[1]["terms"]
    # A client can check the hash itself: SHA-256 of the canonical JSON.
    assert hashlib.sha256(got["canonical_terms"].encode("ascii")).hexdigest() == got["terms_hash"]
    assert got["terms_hash"] == offers[1]["terms_hash"]
    canonical = json.loads(got["canonical_terms"])
    assert canonical["fees"]["flat"] == {"amount_minor": 135000, "currency": "USD"}
    assert json.dumps(canonical, sort_keys=True, separators=(",", ":")) == got["canonical_terms"]
    assert trade.get(trade.bob, "/api/v1/agreements").json["items"] == [got]
    assert trade.get(trade.ada, "/api/v1/agreements").json["items"] == [got]
    assert trade.get(trade.cat, "/api/v1/agreements").json["items"] == []

    # The thread shows every step, and the note.
    thread = trade.messages(trade.bob, neg["thread_id"]).json
    assert thread["thread"]["kind"] == "negotiation" and thread["thread"]["subject_id"] == neg_id
    kinds = [(m["kind"], m["event"]) for m in thread["messages"]]
    # The opening offer and the note share a timestamp, so their order is not fixed.
    assert sorted(kinds[:2], key=str) == [("event", "offer.made"), ("text", None)]
    assert kinds[2:] == [("event", "offer.made"), ("event", "offer.accepted")]
    (note,) = [m for m in thread["messages"] if m["kind"] == "text"]
    assert note["author"] == {"name": "Bob Buyer", "me": True} and note["text"] == "Would 1,200 work?"
    assert note["event_data"] is None
    event = thread["messages"][3]
    assert event["author"] is None
    assert event["event_data"]["agreement_id"] == agreement["id"]
    assert event["event_data"]["terms_hash"] == got["terms_hash"]

    for body in (option, neg, countered.json, accepted.json, thread, trade.get(trade.ada, "/api/v1/negotiations").json):
        _no_floats(body)
    assert trade_counts(store)["agreements"] == 1


def test_accepting_without_an_offer_id_takes_the_latest_and_the_designer_may_accept(trade):
    option = trade.option()
    neg = trade.opened(trade.bob, option["id"])
    assert neg["offers"][0]["terms"]["fees"]["flat"]["amount"] == "1500.00"  # the list price
    accepted = trade.accept(trade.ada, neg["id"])
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["agreement"]["designer"]["name"] == "Ada Lovelace"
    assert accepted.json["negotiation"]["my_party"] == "designer"


def test_reject_and_withdraw_close_the_negotiation(trade):
    option = trade.option()
    first = trade.opened(trade.bob, option["id"])
    rejected = trade.post(trade.ada, f"/api/v1/negotiations/{first['id']}/reject")
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    assert rejected.json["offers"][0]["state"] == "rejected" and rejected.json["whose_turn"] is None
    assert rejected.json["closed_at"] == "2026-11-27T09:00:00Z"
    error = _error(trade.counter(trade.bob, first["id"], {"unit_cap": 50}), 409, "conflict")
    assert error["field"] == "status" and "closed (rejected)" in error["message"]

    second = trade.opened(trade.cat, option["id"])
    withdrawn = trade.post(trade.cat, f"/api/v1/negotiations/{second['id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    assert _error(trade.accept(trade.ada, second["id"]), 409)["field"] == "status"


def test_a_retired_option_cannot_be_opened(trade):
    option = trade.option()
    path = f"/api/v1/designs/{trade.design['id']}/licence-options"
    retired = trade.post(trade.ada, f"/api/v1/licence-options/{option['id']}/retire")
    assert retired.status_code == 200 and retired.json["status"] == "retired"
    assert retired.json["retired_at"] == "2026-11-27T09:00:00Z"
    assert trade.get(trade.bob, path).json["items"] == []
    assert [o["id"] for o in trade.get(trade.ada, path + "?include_retired=true").json["items"]] == [option["id"]]
    assert trade.get(trade.bob, path + "?include_retired=true").json["items"] == []  # owners only
    assert _error(trade.get(trade.ada, path + "?include_retired=maybe"), 422)["field"] == "include_retired"
    assert _error(trade.get(trade.ada, path + "?status=retired"), 422)["field"] == "status"
    error = _error(trade.open(trade.bob, option["id"]), 409, "conflict")
    assert error["field"] == "option_id" and "retired" in error["message"]
    assert _error(trade.post(trade.bob, f"/api/v1/licence-options/{option['id']}/retire"), 403)
    assert _error(trade.post(trade.ada, "/api/v1/licence-options/nope/retire"), 404, "not_found")


# -- bad input: 4xx naming the rule, nothing written -------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        pytest.param({"fees": fee("-5.00")}, "fees.flat", "more than zero", id="negative-fee"),
        pytest.param({"fees": fee("0")}, "fees.flat", "more than zero", id="zero-fee"),
        pytest.param({"fees": fee("10.00", "XYZ")}, "currency", "Unknown currency 'XYZ'", id="unknown-currency"),
        pytest.param({"fees": {"flat": {"amount": "100", "currency": "USD"},
                               "royalty_per_unit": {"amount": "2", "currency": "EUR"}}},
                     "currency", "one currency", id="mixed-currencies"),
        pytest.param({"fees": {"flat": {"amount": 12.5, "currency": "USD"}}}, "fees.flat", "needs an amount",
                     id="float-amount"),
        pytest.param({"fees": fee("1.5", "JPY")}, "fees.flat", "at most 0 decimal places", id="jpy-decimals"),
        pytest.param({"territory": ["GB", "UK"]}, "territory", "did you mean GB", id="non-iso-territory"),
        pytest.param({"term": {"start": "2026-11-26", "months": 12}}, "term.start", "cannot start in the past",
                     id="term-in-the-past"),
        pytest.param({"term": {"start": TODAY, "months": 0}}, "term.months", "between 1 and", id="zero-months"),
        pytest.param({"unit_cap": -1}, "unit_cap", "unit cap", id="negative-cap"),
        pytest.param({"exclusivity": "sort_of"}, "exclusivity", "expected one of", id="bad-exclusivity"),
        pytest.param({"cad_redistributable": True}, "cad_redistributable", "never redistributable", id="cad"),
        pytest.param({"colour": "red"}, "colour", "Unknown field", id="unknown-field"),
    ],
)
def test_bad_option_terms_are_422_naming_the_rule(trade, store, changes, field, fragment):
    before = trade_counts(store)
    error = _error(trade.add_option(**changes), 422, "validation_failed")
    assert error["field"] == field
    assert fragment in error["message"]
    assert any(d["field"] == field for d in error["details"])
    assert trade_counts(store) == before


def test_every_problem_in_the_terms_is_listed(trade):
    error = _error(trade.add_option(fees=fee("-1"), territory=["XX"], term={"start": "2020-01-01", "months": 1}),
                   422)
    assert {d["field"] for d in error["details"]} >= {"fees.flat", "territory", "term.start"}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "x", "terms": ["use", "manufacturing"]}, 422, "terms"),
        ({"name": "x", "terms": "worldwide"}, 422, "terms"),
        ({"terms": terms()}, 422, "name"),
        ({"name": "", "terms": terms()}, 422, "name"),
        ({"name": "x", "terms": terms(), "price": "1"}, 422, "price"),
    ],
)
def test_bad_option_bodies_are_refused(trade, store, body, status, field):
    before = trade_counts(store)
    response = trade.post(trade.ada, f"/api/v1/designs/{trade.design['id']}/licence-options", body)
    assert _error(response, status)["field"] == field
    assert trade_counts(store) == before


@pytest.mark.parametrize("raw", [b"[1, 2]", b"\"text\"", b"null", b"{not json"])
def test_non_object_json_is_400(trade, client, store, raw):
    option = trade.option()
    neg = trade.opened(trade.bob, option["id"])
    before = trade_counts(store)
    for path, token in [(f"/api/v1/designs/{trade.design['id']}/licence-options", trade.ada),
                        ("/api/v1/negotiations", trade.bob),
                        (f"/api/v1/negotiations/{neg['id']}/offers", trade.ada),
                        (f"/api/v1/negotiations/{neg['id']}/accept", trade.ada),
                        (f"/api/v1/threads/{neg['thread_id']}/messages", trade.ada),
                        ("/api/v1/support", trade.bob)]:
        response = client.post(path, headers=bearer(token), data=raw, content_type="application/json")
        _error(response, 400, "bad_request")
    # Not JSON at all, where JSON is expected.
    _error(client.post("/api/v1/negotiations", headers=bearer(trade.bob), data="option_id=x",
                       content_type="application/x-www-form-urlencoded"), 400, "bad_request")
    assert trade_counts(store) == before


def test_a_buyer_cannot_offer_options_nor_a_designer_on_someone_elses_design(trade, market, store):
    grace = market.token("grace@example.com", "designer", "Grace Hopper")
    path = f"/api/v1/designs/{trade.design['id']}/licence-options"
    for token in (trade.bob, grace):
        error = _error(trade.post(token, path, {"name": "Mine", "terms": terms()}), 403, "forbidden")
        assert "owns a design" in error["message"]
    assert _error(trade.post(trade.ada, "/api/v1/designs/nope/licence-options", {"name": "x", "terms": terms()}),
                  404, "not_found")
    assert _error(trade.get(trade.bob, "/api/v1/designs/nope/licence-options"), 404)
    assert store.state.trade.options == {}


def test_bad_proposed_terms_on_opening_are_422_and_nothing_is_written(trade, store):
    option = trade.option()
    before = trade_counts(store)
    for proposed, field in [({"fees": fee("-1")}, "fees.flat"), ({"fees": fee("10", "ABC")}, "currency"),
                            ({"territory": ["ZZ"]}, "territory"),
                            ({"term": {"start": "2025-01-01", "months": 6}}, "term.start"),
                            ([1, 2], "proposed_terms")]:
        error = _error(trade.open(trade.bob, option["id"], proposed_terms=proposed), 422)
        assert error["field"] == field, (proposed, error)
    assert _error(trade.open(trade.bob, "nope"), 404, "not_found")["field"] == "option_id"
    assert _error(trade.open(trade.bob, option["id"], note=5), 422)["field"] == "note"
    error = _error(trade.open(trade.ada, option["id"]), 403, "forbidden")
    assert "Only buyers" in error["message"]
    assert trade_counts(store) == before


def test_out_of_turn_own_offer_superseded_and_expired_are_409(trade, store, clock):
    option = trade.option()
    neg = trade.opened(trade.bob, option["id"], proposed_terms={"fees": fee("1200")})
    neg_id, first_id = neg["id"], neg["offers"][0]["id"]

    error = _error(trade.accept(trade.bob, neg_id, first_id), 409, "conflict")
    assert error["field"] == "offer_id" and "cannot accept your own offer" in error["message"]
    error = _error(trade.counter(trade.bob, neg_id, {"fees": fee("1100")}), 409, "conflict")
    assert error["field"] == "turn" and "Not your turn" in error["message"]
    assert _error(trade.post(trade.bob, f"/api/v1/negotiations/{neg_id}/reject"), 409)["field"] == "turn"
    assert _error(trade.accept(trade.ada, neg_id, "no-such-offer"), 404, "not_found")["field"] == "offer_id"
    error = _error(trade.counter(trade.ada, neg_id, {"fees": fee("0")}), 422)
    assert error["field"] == "fees.flat"
    assert _error(trade.counter(trade.ada, neg_id, "cheaper"), 422)["field"] == "terms"
    assert _error(trade.post(trade.ada, f"/api/v1/negotiations/{neg_id}/offers", {}), 422)["field"] == "terms"

    second = trade.counter(trade.ada, neg_id, {"fees": fee("1400")}).json["offers"][1]
    error = _error(trade.accept(trade.ada, neg_id, first_id), 409, "conflict")  # theirs, but superseded
    assert error["field"] == "offer_id" and "superseded" in error["message"]

    before = trade_counts(store)
    clock.advance(timedelta(days=7, seconds=1))
    assert trade.get(trade.bob, f"/api/v1/negotiations/{neg_id}").json["offers"][1]["state"] == "expired"
    error = _error(trade.accept(trade.bob, neg_id, second["id"]), 409, "conflict")
    assert error["field"] == "expires_at" and "expired" in error["message"]
    assert _error(trade.counter(trade.bob, neg_id, {"fees": fee("1300")}), 409)["field"] == "expires_at"
    assert trade_counts(store) == before
    assert store.state.trade.negotiations[neg_id].status.value == "open"
    assert trade.get(trade.bob, f"/api/v1/negotiations/{neg_id}").json["can_answer"] is False


def test_overlapping_exclusivity_is_409(trade, store):
    exclusive = trade.option("Exclusive UK", exclusivity="exclusive", territory=["GB"])
    shared = trade.option("Shared UK", territory=["GB"])
    bobs = trade.opened(trade.bob, exclusive["id"])
    cats = trade.opened(trade.cat, shared["id"])
    assert trade.accept(trade.ada, bobs["id"]).status_code == 200

    before = trade_counts(store)
    error = _error(trade.accept(trade.ada, cats["id"]), 409, "conflict")
    assert error["field"] == "exclusivity" and "exclusive licence covers this territory" in error["message"]
    error = _error(trade.add_option("More UK", territory=["GB", "IE"]), 409, "conflict")
    assert error["field"] == "exclusivity"
    assert _error(trade.open(trade.cat, shared["id"]), 409)["field"] == "exclusivity"
    assert trade_counts(store) == before
    assert store.state.trade.negotiations[cats["id"]].status.value == "open"
    # Elsewhere is fine.
    assert trade.add_option("France only", territory=["FR"]).status_code == 201


# -- only the parties ------------------------------------------------------------------------------------


def test_non_parties_get_403_on_negotiation_agreement_and_thread(trade, market):
    option = trade.option()
    neg = trade.opened(trade.bob, option["id"])
    agreement = trade.accept(trade.ada, neg["id"]).json["agreement"]
    grace = market.token("grace@example.com", "designer", "Grace Hopper")
    for token in (trade.cat, grace):
        error = _error(trade.get(token, f"/api/v1/negotiations/{neg['id']}"), 403, "forbidden")
        assert "Only the two parties" in error["message"]
        error = _error(trade.get(token, f"/api/v1/agreements/{agreement['id']}"), 403, "forbidden")
        assert "Only the parties to an agreement" in error["message"]
        error = _error(trade.messages(token, neg["thread_id"]), 403, "forbidden")
        assert "Only the participants" in error["message"]
        _error(trade.post(token, f"/api/v1/threads/{neg['thread_id']}/messages", {"body": "hi"}), 403)
        _error(trade.post(token, f"/api/v1/negotiations/{neg['id']}/withdraw"), 403)
        assert trade.get(token, "/api/v1/negotiations").json["items"] == []
        assert trade.get(token, "/api/v1/threads").json["items"] == []
    for path in ("/api/v1/negotiations/nope", "/api/v1/agreements/nope", "/api/v1/threads/nope/messages"):
        _error(trade.get(trade.bob, path), 404, "not_found")
    for path in ("/api/v1/negotiations/nope/offers", "/api/v1/threads/nope/messages"):
        _error(trade.post(trade.bob, path, {"terms": {}} if "offers" in path else {"body": "x"}), 404)
    for path in ("accept", "reject", "withdraw"):
        _error(trade.post(trade.bob, f"/api/v1/negotiations/nope/{path}"), 404)


def test_the_licensing_routes_need_a_token(client):
    for method, path in [("get", "/api/v1/designs/x/licence-options"), ("post", "/api/v1/designs/x/licence-options"),
                         ("post", "/api/v1/licence-options/x/retire"), ("post", "/api/v1/negotiations"),
                         ("get", "/api/v1/negotiations"), ("get", "/api/v1/negotiations/x"),
                         ("post", "/api/v1/negotiations/x/offers"), ("post", "/api/v1/negotiations/x/accept"),
                         ("post", "/api/v1/negotiations/x/reject"), ("post", "/api/v1/negotiations/x/withdraw"),
                         ("get", "/api/v1/agreements"), ("get", "/api/v1/agreements/x"), ("get", "/api/v1/threads"),
                         ("get", "/api/v1/threads/x/messages"), ("post", "/api/v1/threads/x/messages"),
                         ("get", "/api/v1/attachments/x/url"), ("post", "/api/v1/support"),
                         ("get", "/api/v1/support")]:
        _error(getattr(client, method)(path), 401, "unauthenticated")


# -- messages ------------------------------------------------------------------------------------------


def test_a_message_with_a_png_attachment_and_its_signed_link(trade, client, store, clock):
    option = trade.option()
    neg = trade.opened(trade.bob, option["id"])
    thread_id = neg["thread_id"]
    clock.advance(timedelta(minutes=1))
    sent = trade.send(trade.bob, thread_id, "Here is the stamp we would use.", [(PNG, "stamp.png")])
    assert sent.status_code == 201, sent.get_data(as_text=True)
    message = sent.json
    assert message["kind"] == "text" and message["author"] == {"name": "Bob Buyer", "me": True}
    assert message["text"] == message["original"] == "Here is the stamp we would use."
    assert message["translated"] is False and message["language"] == "en"
    assert message["created_at"] == "2026-11-27T09:01:00Z"
    (attachment,) = message["attachments"]
    assert attachment["filename"] == "stamp.png" and attachment["content_type"] == "image/png"
    assert attachment["size"] == len(PNG) and attachment["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert attachment["url"].startswith("http://localhost/blobs/threads/")
    assert attachment["expires_at"] == "2026-11-27T09:06:00Z"
    assert client.get(attachment["url"]).data == PNG

    # The designer: one unread message (events are not counted), with a fresh link for the file.
    summary = {t["id"]: t for t in trade.get(trade.ada, "/api/v1/threads").json["items"]}[thread_id]
    assert summary["unread"] == 1 and summary["kind"] == "negotiation"
    assert summary["last_message_at"] == "2026-11-27T09:01:00Z"
    read = trade.messages(trade.ada, thread_id).json
    theirs = read["messages"][-1]
    assert theirs["author"] == {"name": "Bob Buyer", "me": False} and theirs["note"] is None
    assert theirs["attachments"][0]["id"] == attachment["id"]
    assert client.get(theirs["attachments"][0]["url"]).data == PNG
    assert {t["id"]: t for t in trade.get(trade.ada, "/api/v1/threads").json["items"]}[thread_id]["unread"] == 0

    link = trade.get(trade.ada, f"/api/v1/attachments/{attachment['id']}/url")
    assert link.status_code == 200 and client.get(link.json["url"]).data == PNG
    _error(trade.get(trade.cat, f"/api/v1/attachments/{attachment['id']}/url"), 403, "forbidden")
    _error(trade.get(trade.ada, "/api/v1/attachments/nope/url"), 404, "not_found")

    # Plain JSON works too.
    plain = trade.post(trade.ada, f"/api/v1/threads/{thread_id}/messages", {"body": "Lovely, thanks."})
    assert plain.status_code == 201 and plain.json["attachments"] == []
    assert len(store.state.trade.messages) == 3


def test_bad_messages_are_refused_and_nothing_is_stored(trade, store, config):
    option = trade.option()
    thread_id = trade.opened(trade.bob, option["id"])["thread_id"]
    before = trade_counts(store)
    for response, status, field in [
        (trade.post(trade.bob, f"/api/v1/threads/{thread_id}/messages", {"body": "   "}), 422, "body"),
        (trade.post(trade.bob, f"/api/v1/threads/{thread_id}/messages", {"body": 5}), 422, "body"),
        (trade.post(trade.bob, f"/api/v1/threads/{thread_id}/messages", {"text": "hi"}), 422, "text"),
        (trade.send(trade.bob, thread_id, "bell\x07"), 422, "body"),
        (trade.send(trade.bob, thread_id, "x", [(b"GIF89a", "anim.gif")]), 422, "attachments"),
        (trade.send(trade.bob, thread_id, "x", [(JPEG, "photo.png")]), 422, "attachments"),
        (trade.send(trade.bob, thread_id, "x", [(b"not a pdf", "terms.pdf")]), 422, "attachments"),
        (trade.send(trade.bob, thread_id, "x", [(PNG, f"p{i}.png") for i in range(6)]), 422, "attachments"),
        (trade.send(trade.bob, thread_id, "x", owner="me"), 422, "owner"),
    ]:
        assert _error(response, status)["field"] == field, response.json
    assert trade_counts(store) == before
    blobs = config.data_dir / "blobs" / "threads"
    assert not blobs.exists() or not any(p.is_file() for p in blobs.rglob("*"))
    assert store.state.pending_blobs == {}
    # An attachment alone, without words, is a message.
    assert trade.send(trade.bob, thread_id, "", [(PNG, "only.png")]).status_code == 201


def test_attachments_may_exceed_the_1_mb_cap_on_other_bodies(trade, client, store):
    thread_id = trade.opened(trade.bob, trade.option()["id"])["thread_id"]
    big = PNG + b"\x00" * (3 * 1024 * 1024 // 2)
    sent = trade.send(trade.bob, thread_id, "The full-size scan.", [(big, "scan.png")])
    assert sent.status_code == 201, sent.get_data(as_text=True)
    assert sent.json["attachments"][0]["size"] == len(big)
    assert client.get(sent.json["attachments"][0]["url"]).data == big
    # A JSON message keeps the 1 MB cap.
    response = client.post(f"/api/v1/threads/{thread_id}/messages", headers=bearer(trade.bob),
                           data=b'{"body": "' + b"a" * (1024 * 1024) + b'"}', content_type="application/json")
    _error(response, 413, "request_entity_too_large")
    assert len(store.state.trade.messages) == 2


# -- support ---------------------------------------------------------------------------------------------


def test_support_requests_reach_the_admins_and_nobody_else(trade, operator_token, clock):
    olive = operator_token("olive@caratzon.test")
    opened = trade.post(trade.bob, "/api/v1/support",
                        {"title": "Invoice question", "body": "Where is my invoice?", "topic": "support"})
    assert opened.status_code == 201, opened.json
    thread = opened.json
    assert thread["kind"] == "support" and thread["topic"] == "support" and thread["title"] == "Invoice question"
    assert thread["subject_id"] is None and thread["created_at"] == "2026-11-27T09:00:00Z"
    feedback = trade.post(trade.cat, "/api/v1/support", {"title": "Idea", "body": "Dark mode?", "topic": "feedback"})
    assert feedback.status_code == 201 and feedback.json["topic"] == "feedback"

    # The admin sees every request, reads it and answers (and so joins the thread).
    queue = trade.get(olive, "/api/v1/support").json["items"]
    assert {t["id"] for t in queue} == {thread["id"], feedback.json["id"]}
    read = trade.messages(olive, thread["id"])
    assert read.status_code == 200
    assert [(m["author"]["name"], m["text"]) for m in read.json["messages"]] == [("Bob Buyer", "Where is my invoice?")]
    clock.advance(timedelta(minutes=5))
    answer = trade.post(olive, f"/api/v1/threads/{thread['id']}/messages", {"body": "It is on its way."})
    assert answer.status_code == 201 and answer.json["author"] == {"name": "Olive Operator", "me": True}

    mine = trade.get(trade.bob, "/api/v1/support").json["items"]
    assert [(t["id"], t["unread"]) for t in mine] == [(thread["id"], 1)]
    messages = trade.messages(trade.bob, thread["id"]).json["messages"]
    assert [(m["author"]["name"], m["author"]["me"]) for m in messages] == [("Bob Buyer", True),
                                                                           ("Olive Operator", False)]
    assert all(m["kind"] == MessageKind.TEXT.value for m in messages)

    # Another user may neither read nor write in it, nor see it listed.
    _error(trade.messages(trade.cat, thread["id"]), 403, "forbidden")
    _error(trade.post(trade.cat, f"/api/v1/threads/{thread['id']}/messages", {"body": "me too"}), 403, "forbidden")
    assert [t["id"] for t in trade.get(trade.cat, "/api/v1/support").json["items"]] == [feedback.json["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "Help", "body": "x", "topic": "complaint"}, "topic"),
        ({"title": "", "body": "x"}, "title"),
        ({"title": "Help", "body": ""}, "body"),
        ({"body": "x"}, "title"),
        ({"title": "Help", "body": "x", "urgent": True}, "urgent"),
    ],
)
def test_bad_support_requests_are_422(trade, store, body, field):
    before = trade_counts(store)
    assert _error(trade.post(trade.bob, "/api/v1/support", body), 422)["field"] == field
    assert trade_counts(store) == before


# -- the OpenAPI description ---------------------------------------------------------------------------


def test_openapi_describes_the_licensing_bodies(client):
    from caratzon_web.api_licensing import AcceptBody, MessageBody, OfferBody, OpenBody, OptionBody, SupportBody

    doc = client.get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    for name, cls in (("LicenceOptionInput", OptionBody), ("NegotiationOpen", OpenBody), ("OfferInput", OfferBody),
                      ("AcceptInput", AcceptBody), ("MessageInput", MessageBody), ("SupportRequest", SupportBody)):
        assert set(schemas[name]["properties"]) == {a.name for a in cls.__attrs_attrs__}, name
        assert schemas[name]["additionalProperties"] is False
    post = doc["paths"]["/api/v1/threads/{thread_id}/messages"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert "413" in post["responses"]
    assert "409" in doc["paths"]["/api/v1/negotiations/{negotiation_id}/accept"]["post"]["responses"]


def test_the_answers_fit_their_openapi_schemas(trade, client, operator_token):
    """Every licensing answer validates against the schema the document gives for it
    (jsonschema comes with the dev dependencies, through moto[server])."""
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    doc = client.get("/api/v1/openapi.json").json
    registry = referencing.Registry().with_resource("urn:caratzon-api", referencing.Resource.from_contents(
        {"components": doc["components"], "$schema": "https://json-schema.org/draft/2020-12/schema"}))

    def fits(path: str, method: str, response) -> None:
        answer = doc["paths"][path][method]["responses"][str(response.status_code)]
        if "$ref" in answer:
            answer = doc["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
        schema = answer["content"]["application/json"]["schema"]
        if "$ref" in schema:
            schema = {"$ref": "urn:caratzon-api" + schema["$ref"]}
        jsonschema.Draft202012Validator(schema, registry=registry).validate(response.json)

    design_path = "/api/v1/designs/{design_id}/licence-options"
    option = trade.add_option()
    fits(design_path, "post", option)
    fits(design_path, "post", trade.add_option(fees=fee("-1")))
    fits(design_path, "get", trade.get(trade.bob, f"/api/v1/designs/{trade.design['id']}/licence-options"))
    opened = trade.open(trade.bob, option.json["id"], proposed_terms={"fees": fee("1200")}, note="Hello")
    fits("/api/v1/negotiations", "post", opened)
    neg_id, thread_id = opened.json["id"], opened.json["thread_id"]
    fits("/api/v1/negotiations", "get", trade.get(trade.ada, "/api/v1/negotiations"))
    fits("/api/v1/negotiations/{negotiation_id}", "get", trade.get(trade.cat, f"/api/v1/negotiations/{neg_id}"))
    fits("/api/v1/negotiations/{negotiation_id}/offers", "post", trade.counter(trade.ada, neg_id, {"unit_cap": None}))
    fits("/api/v1/negotiations/{negotiation_id}/offers", "post", trade.counter(trade.ada, neg_id, {"unit_cap": 5}))
    accepted = trade.accept(trade.bob, neg_id)
    fits("/api/v1/negotiations/{negotiation_id}/accept", "post", accepted)
    fits("/api/v1/agreements/{agreement_id}", "get",
         trade.get(trade.ada, f"/api/v1/agreements/{accepted.json['agreement']['id']}"))
    fits("/api/v1/agreements", "get", trade.get(trade.bob, "/api/v1/agreements"))
    sent = trade.send(trade.bob, thread_id, "See attached.", [(PNG, "a.png")])
    fits("/api/v1/threads/{thread_id}/messages", "post", sent)
    fits("/api/v1/threads/{thread_id}/messages", "get", trade.messages(trade.ada, thread_id))
    fits("/api/v1/threads", "get", trade.get(trade.ada, "/api/v1/threads"))
    fits("/api/v1/attachments/{attachment_id}/url", "get",
         trade.get(trade.ada, f"/api/v1/attachments/{sent.json['attachments'][0]['id']}/url"))
    fits("/api/v1/support", "post", trade.post(trade.cat, "/api/v1/support", {"title": "Hi", "body": "Help"}))
    fits("/api/v1/support", "get", trade.get(operator_token("olive@caratzon.test"), "/api/v1/support"))
    fits("/api/v1/licence-options/{option_id}/retire", "post",
         trade.post(trade.ada, f"/api/v1/licence-options/{option.json['id']}/retire"))
    other = trade.opened(trade.cat, trade.option("Worldwide", territory="worldwide")["id"])
    fits("/api/v1/negotiations/{negotiation_id}/withdraw", "post",
         trade.post(trade.cat, f"/api/v1/negotiations/{other['id']}/withdraw"))
    fits("/api/v1/negotiations/{negotiation_id}/reject", "post",
         trade.post(trade.ada, f"/api/v1/negotiations/{other['id']}/reject"))
