"""Licensing and messages in the browser (issue #4, part 7): the licence options
editor in the studio, a buyer opening a negotiation from the design page, counter,
accept, the printable agreement with its hash; field errors with nothing saved,
out-of-turn steps refused with a message, 403 for non-parties, CSRF on every form,
message attachments by signed link, support requests answered by an admin, unread
counts and translations.

The services are the real use cases over the in-memory store, with the
FakeInspector (attachments are judged by their bytes) and the FakeAI (which
answers "[zh-Hans] text"), and the local blob store under tmp_path.
"""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import attrs
import pytest
from test_web_designs_support import (  # noqa: F401
    PASSWORD,
    PNG,
    check_markup,
    csrf_of,
    market_fixture,
    post_forms,
)

from caratzon_adapters.bootstrap import bootstrap
from caratzon_core.access import Actor
from caratzon_core.agreements import AgreementStatus
from caratzon_core.licence_options import OptionStatus
from caratzon_core.licensing import terms_hash
from caratzon_core.negotiation import NegotiationStatus
from caratzon_core.services.accounts import SignUp
from caratzon_core.testing import FakeAI, FakeHasher, FakeInspector

CSRF_TEXT = "This form was not sent from a Caratzon page, or it expired"


@pytest.fixture(name="services")
def services_fixture(config, store, clock):
    """Overrides the e2e ``services``: FakeInspector and FakeAI."""
    return bootstrap(config, uow=store, hasher=FakeHasher(), inspector=FakeInspector(), clock=clock, ai=FakeAI())


# -- people and a design ------------------------------------------------------------------------


def _browser(market, email, role, name, language="en"):
    browser = market.app.test_client()
    data = {**market.signup_data(email, role, name), "language": language}
    data["csrf_token"] = csrf_of(browser.get("/signup").get_data(as_text=True))
    response = browser.post("/signup", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


@pytest.fixture
def design_id(market):
    token = market.token("dee@example.com", "designer", "Dee Designer")
    return market.published(token, title="Halo ring", price={"amount": "1250.00", "currency": "USD"})["id"]


@pytest.fixture
def dee(market, design_id):
    return market.login("dee@example.com")


@pytest.fixture
def bea(market):
    return _browser(market, "bea@example.com", "buyer", "Bea Buyer")


@pytest.fixture
def admin(market, services):
    services.accounts.create_user(Actor.cli_operator(), SignUp(email="ann@example.com", password=PASSWORD,
                                                                name="Ann Admin", role="admin"))
    return market.login("ann@example.com")


def _page(browser, path, status=200):
    response = browser.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def _post(browser, page_path, action, data, **kwargs):
    """Post a form the way a browser does: with the token from the page it is on."""
    token = csrf_of(_page(browser, page_path))
    return browser.post(action, data={**data, "csrf_token": token}, **kwargs)


def _option_form(today, **overrides):
    data = {
        "opt_name": "Casting licence, Europe",
        "opt_use": "manufacturing",
        "opt_exclusivity": "non_exclusive",
        "opt_territory": "GB, fr",
        "opt_start": today.isoformat(),
        "opt_months": "12",
        "opt_unit_cap": "100",
        "opt_flat": "1500.00",
        "opt_royalty": "4.00",
        "opt_currency": "USD",
        "opt_may_modify": ["ring_size", "metal"],
        "opt_attribution": "yes",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _add_option(dee, design_id, today, **overrides):
    path = f"/studio/designs/{design_id}"
    return _post(dee, path, f"{path}/licence-options", _option_form(today, **overrides))


def _only(mapping):
    assert len(mapping) == 1, mapping
    return next(iter(mapping.values()))


def _open(bea, design_id, option_id, **fields):
    data = {"option_id": option_id, "flat": "1500.00", "royalty": "4.00", "currency": "USD", "note": ""}
    data.update(fields)
    return _post(bea, f"/designs/{design_id}", f"/designs/{design_id}/negotiations", data)


def _counter_fields(html_text):
    """The counter form's values as the page prefilled them (what a browser submits)."""
    section = html_text[html_text.index('id="counter"'):]
    section = section[: section.index("</form>")]
    data = {}
    for name, value in re.findall(r'<input id="[^"]*" name="(opt_[a-z_]+)" type="(?:text|date)"[^>]*value="([^"]*)"',
                                  section):
        data[name] = html.unescape(value)
    for name in ("opt_use", "opt_exclusivity", "opt_currency"):
        select = section[section.index(f'name="{name}"'):]
        data[name] = re.search(r'<option value="([^"]+)" selected>', select[: select.index("</select>")]).group(1)
    data["opt_may_modify"] = re.findall(r'name="opt_may_modify" type="checkbox" value="([a-z_]+)" checked', section)
    for name in ("opt_perpetual", "opt_attribution"):
        if re.search(rf'name="{name}" type="checkbox" value="yes" checked', section):
            data[name] = "yes"
    return data


@pytest.fixture
def opened(market, store, dee, bea, design_id, clock):
    """An option, and a negotiation Bea opened from it with a proposed fee and a note."""
    assert _add_option(dee, design_id, clock.now().date()).status_code == 303
    option_id = next(iter(store.state.trade.options))
    response = _open(bea, design_id, option_id, flat="1200.00", note="Could you do 1,200 for our first run?")
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


# -- the whole journey ----------------------------------------------------------------------------


def test_option_negotiation_counter_accept_and_the_printable_agreement(market, store, dee, bea, design_id, clock):
    today = clock.now().date()
    studio = _page(dee, f"/studio/designs/{design_id}")
    assert "Licence options" in studio and "No licence options yet" in studio
    check_markup(studio)
    assert post_forms(studio) == studio.count('name="csrf_token"')

    # The designer adds an option with list prices.
    response = _add_option(dee, design_id, today)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/studio/designs/{design_id}#licensing"
    option = _only(store.state.trade.options)
    assert option.name == "Casting licence, Europe"
    terms = option.terms
    assert terms.territory.countries == {"GB", "FR"} and terms.term.months == 12 and terms.unit_cap == 100
    assert terms.fees.flat.amount_minor == 150000 and terms.fees.royalty_per_unit.amount_minor == 400
    assert {m.value for m in terms.may_modify} == {"ring_size", "metal"} and terms.attribution_required
    studio = _page(dee, f"/studio/designs/{design_id}")
    assert "Casting licence, Europe" in studio and "USD 1,500.00 + USD 4.00 per piece" in studio
    assert f"/licence-options/{option.id}/retire" in studio
    check_markup(studio)

    # The buyer sees it on the design page and opens a negotiation with a proposed fee and a note.
    page = _page(bea, f"/designs/{design_id}")
    assert "Casting licence, Europe" in page and "USD 1,500.00 + USD 4.00 per piece" in page
    assert "FR, GB" in page and "Metal, Ring size" in page
    assert 'value="1500.00"' in page and "Start a negotiation" in page
    check_markup(page)
    response = _open(bea, design_id, option.id, flat="1200.00", note="Could you do 1,200 for our first run?")
    assert response.status_code == 303
    negotiation_id = response.headers["Location"].rsplit("/", 1)[1]
    assert response.headers["Location"] == f"/negotiations/{negotiation_id}"
    neg = store.state.trade.negotiations[negotiation_id]
    assert neg.latest.terms.fees.flat.amount_minor == 120000
    assert neg.latest.terms.fees.royalty_per_unit.amount_minor == 400

    page = _page(bea, f"/negotiations/{negotiation_id}")
    assert "Your offer is sent" in page
    assert "USD 1,200.00 + USD 4.00 per piece" in page
    assert "The designer (Dee Designer) answers the latest offer" in page
    assert "/accept" not in page and 'id="counter"' not in page  # not her turn
    assert "/withdraw" in page
    assert "Could you do 1,200 for our first run?" in page
    assert "The buyer (Bea Buyer) made an offer: USD 1,200.00 + USD 4.00 per piece" in page
    check_markup(page)

    # The designer: his turn, highlighted in his list; he counters at 1,350.
    listing = _page(dee, "/negotiations")
    assert 'class="my-turn"' in listing and "Your turn" in listing and "Halo ring" in listing
    assert "Bea Buyer" in listing and "USD 1,200.00 + USD 4.00 per piece" in listing
    page = _page(dee, f"/negotiations/{negotiation_id}")
    assert "<strong class=\"turn\">Your turn</strong>" in page
    assert 'value="1200.00"' in page  # the counter form starts from the latest offer
    check_markup(page)
    fields = _counter_fields(page)
    assert fields["opt_territory"] == "FR, GB" and fields["opt_unit_cap"] == "100"
    response = _post(dee, f"/negotiations/{negotiation_id}", f"/negotiations/{negotiation_id}/counter",
                     {**fields, "opt_flat": "1350.00"})
    assert response.status_code == 303, response.get_data(as_text=True)
    neg = store.state.trade.negotiations[negotiation_id]
    assert len(neg.offers) == 2
    assert neg.latest.terms.fees.flat.amount_minor == 135000
    assert neg.latest.terms == attrs.evolve(neg.offers[0].terms, fees=neg.latest.terms.fees)  # only the fee changed

    # The buyer's turn: she accepts, and lands on the agreement.
    page = _page(bea, f"/negotiations/{negotiation_id}")
    assert "The designer (Dee Designer) made an offer: USD 1,350.00 + USD 4.00 per piece" in page
    assert "Offer 2 by the designer" in page and "Offer 1 by the buyer" in page
    token = csrf_of(page)
    response = bea.post(f"/negotiations/{negotiation_id}/accept",
                        data={"csrf_token": token, "offer_id": neg.latest.id})
    assert response.status_code == 303
    agreement = _only(store.state.trade.agreements)
    assert response.headers["Location"] == f"/agreements/{agreement.id}"
    assert agreement.status is AgreementStatus.ACTIVE
    assert agreement.terms_hash == terms_hash(neg.latest.terms)
    assert store.state.trade.negotiations[negotiation_id].status is NegotiationStatus.ACCEPTED

    for who in (bea, dee):
        page = _page(who, f"/agreements/{agreement.id}")
        assert agreement.terms_hash in page
        assert "Dee Designer" in page and "Bea Buyer" in page and "Halo ring" in page
        assert "USD 1,350.00" in page and "USD 4.00" in page
        assert today.isoformat() in page and agreement.end_date.isoformat() in page
        assert "FR, GB" in page and "100 pieces" in page
        # Printable: a print stylesheet, and a Print button wired by a script file (no inline JS).
        assert "/static/trade.css" in page and "/static/print.js" in page and "data-print" in page
        assert "onclick" not in page and "<script>" not in page
        listing = _page(who, "/agreements")
        assert f"/agreements/{agreement.id}" in listing and "Halo ring" in listing
    css = bea.get("/static/trade.css").get_data(as_text=True)
    assert "@media print" in css and ".site-header" in css
    assert bea.get("/static/print.js").status_code == 200

    page = _page(dee, f"/negotiations/{negotiation_id}")
    assert "Accepted" in page and f"/agreements/{agreement.id}" in page
    assert "The buyer (Bea Buyer) accepted the offer (USD 1,350.00 + USD 4.00 per piece)" in page
    assert "/accept" not in page and "/withdraw" not in page


# -- the option form ------------------------------------------------------------------------------


def test_a_bad_option_comes_back_with_every_problem_by_its_field_and_nothing_saved(store, dee, design_id, clock):
    yesterday = clock.now().date() - timedelta(days=1)
    response = _add_option(dee, design_id, clock.now().date(), opt_flat="0", opt_royalty="",
                           opt_territory="UK", opt_start=yesterday.isoformat())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert store.state.trade.options == {}
    for field, message in [
        ("opt_flat", "The flat fee must be more than zero."),
        ("opt_territory", "did you mean GB?"),
        ("opt_start", "The term cannot start in the past"),
    ]:
        error = re.search(rf'<p class="field-error" id="{field}-error" role="alert">([^<]*)</p>', page)
        assert error, field
        assert message in html.unescape(error.group(1)), (field, error.group(1))
    # What was entered comes back.
    assert 'value="UK"' in page and 'value="Casting licence, Europe"' in page and 'value="0"' in page
    assert f'value="{yesterday.isoformat()}"' in page and 'value="100"' in page
    assert re.search(r'value="metal" checked', page) and not re.search(r'value="stone_size" checked', page)
    check_markup(page)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"opt_name": " "}, "opt_name", "ame"),
        ({"opt_flat": "", "opt_royalty": ""}, "opt_fees", "Name a flat fee, a per-unit royalty, or both."),
        ({"opt_months": "twelve"}, "opt_months", "whole number of months"),
        ({"opt_unit_cap": "-5"}, "opt_unit_cap", "unit cap"),
        ({"opt_flat": "12.345"}, "opt_flat", "at most 2 decimal places"),
        ({"opt_territory": ""}, "opt_territory", "at least one country code"),
        ({"opt_use": "piracy"}, "opt_use", "Unknown use"),
    ],
)
def test_option_problems_by_field(store, dee, design_id, clock, overrides, field, message):
    response = _add_option(dee, design_id, clock.now().date(), **overrides)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert f'id="{field}-error"' in page and message in page
    assert store.state.trade.options == {}


def test_perpetual_worldwide_unlimited_and_retiring(market, store, dee, bea, design_id, clock):
    response = _add_option(dee, design_id, clock.now().date(), opt_name="Worldwide forever", opt_territory="worldwide",
                           opt_perpetual="yes", opt_unit_cap="", opt_royalty="", opt_may_modify=None,
                           opt_attribution=None)
    assert response.status_code == 303
    option = _only(store.state.trade.options)
    assert option.terms.territory.worldwide and option.terms.term.perpetual and option.terms.unit_cap is None
    assert option.terms.fees.royalty_per_unit is None and not option.terms.attribution_required
    page = _page(bea, f"/designs/{design_id}")
    assert "Perpetual (no end)" in page and "Unlimited" in page and "Worldwide" in page

    response = _post(dee, f"/studio/designs/{design_id}",
                     f"/studio/designs/{design_id}/licence-options/{option.id}/retire", {})
    assert response.status_code == 303
    assert store.state.trade.options[option.id].status is OptionStatus.RETIRED
    studio = _page(dee, f"/studio/designs/{design_id}")
    assert "badge-retired" in studio and "Worldwide forever" in studio
    assert f"/licence-options/{option.id}/retire" not in studio
    assert "Worldwide forever" not in _page(bea, f"/designs/{design_id}")

    # A stale page's form for the retired option: refused on the design page, with the reason.
    response = _open(bea, design_id, option.id, royalty="")
    assert response.status_code == 409
    assert "retired by the designer" in response.get_data(as_text=True)
    assert store.state.trade.negotiations == {}


def test_only_the_owner_edits_options(market, store, bea, design_id, clock):
    other = _browser(market, "dan@example.com", "designer", "Dan Designer")
    token = csrf_of(_page(other, "/studio"))
    response = other.post(f"/studio/designs/{design_id}/licence-options",
                          data={**_option_form(clock.now().date()), "csrf_token": token})
    assert response.status_code == 403
    assert "Only the designer who owns a design" in response.get_data(as_text=True)
    assert bea.post(f"/studio/designs/{design_id}/licence-options",
                    data={**_option_form(clock.now().date()), "csrf_token": token}).status_code == 400
    assert store.state.trade.options == {}


# -- opening ---------------------------------------------------------------------------------------


def test_a_bad_proposal_comes_back_by_the_field_and_only_buyers_open(store, dee, bea, design_id, clock):
    assert _add_option(dee, design_id, clock.now().date()).status_code == 303
    option = _only(store.state.trade.options)
    response = _open(bea, design_id, option.id, flat="-3", note="Cheaper?")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="open-{option.id}-flat-error"' in page and "more than zero" in page
    assert 'value="-3"' in page and "Cheaper?" in page
    check_markup(page)
    response = _open(bea, design_id, option.id, flat="", royalty="")
    assert response.status_code == 422
    assert "Name a flat fee, a per-unit royalty, or both." in response.get_data(as_text=True)
    assert store.state.trade.negotiations == {}

    # Designers see the options but get no form, and a forged post is refused.
    page = _page(dee, f"/designs/{design_id}")
    assert "Casting licence, Europe" in page and "Start a negotiation" not in page
    response = _open(dee, design_id, option.id)
    assert response.status_code == 403
    assert "Only buyers may open a licence negotiation" in response.get_data(as_text=True)
    assert store.state.trade.negotiations == {}


# -- turns -----------------------------------------------------------------------------------------


def test_out_of_turn_and_own_offer_steps_are_refused_with_a_message(store, dee, bea, opened):
    path = f"/negotiations/{opened}"
    neg = store.state.trade.negotiations[opened]
    response = _post(bea, path, f"{path}/accept", {"offer_id": neg.latest.id})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "You cannot accept your own offer" in page and 'id="action-error"' in page
    response = _post(bea, path, f"{path}/counter", {**_counter_fields(_page(dee, path)), "opt_flat": "1000.00"})
    assert response.status_code == 409
    assert "Not your turn" in response.get_data(as_text=True)
    response = _post(bea, path, f"{path}/reject", {})
    assert response.status_code == 409
    assert "Not your turn" in response.get_data(as_text=True)
    neg = store.state.trade.negotiations[opened]
    assert neg.is_open and len(neg.offers) == 1

    # The designer's counter with a bad field comes back by that field, nothing sent.
    response = _post(dee, path, f"{path}/counter", {**_counter_fields(_page(dee, path)), "opt_territory": "UK"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="opt_territory-error"' in page and "did you mean GB?" in page and 'value="UK"' in page
    assert len(store.state.trade.negotiations[opened].offers) == 1

    # He declines; then nothing more can happen.
    response = _post(dee, path, f"{path}/reject", {})
    assert response.status_code == 303
    assert store.state.trade.negotiations[opened].status is NegotiationStatus.REJECTED
    page = _page(bea, path)
    assert "Declined" in page and "The designer (Dee Designer) declined the offer" in page
    assert "/withdraw" not in page
    response = _post(bea, path, f"{path}/withdraw", {})
    assert response.status_code == 409
    assert "This negotiation is closed (rejected)" in response.get_data(as_text=True)


def test_either_party_withdraws_while_open(store, bea, opened):
    path = f"/negotiations/{opened}"
    response = _post(bea, path, f"{path}/withdraw", {})
    assert response.status_code == 303
    assert store.state.trade.negotiations[opened].status is NegotiationStatus.WITHDRAWN
    page = _page(bea, path)
    assert "You withdrew from the negotiation" in page and "The buyer (Bea Buyer) withdrew" in page


def test_an_expired_negotiation_shows_the_event(market, services, store, bea, opened, clock):
    clock.advance(timedelta(days=8))
    services.licensing.sweep(Actor.cli_operator())
    page = _page(bea, f"/negotiations/{opened}")
    assert "Expired" in page and "The latest offer expired on" in page and "without an answer" in page


# -- who may see what ------------------------------------------------------------------------------


def test_non_parties_get_403_and_unknown_ids_404(market, services, store, dee, bea, opened):
    bob = _browser(market, "bob@example.com", "buyer", "Bob Buyer")
    neg = store.state.trade.negotiations[opened]
    thread = _only(store.state.trade.threads)
    path = f"/negotiations/{opened}"
    token = csrf_of(_page(bea, path))
    assert _post(bea, path, f"{path}/accept", {"offer_id": neg.latest.id}).status_code == 409  # own offer
    response = _post(dee, path, f"{path}/accept", {"offer_id": neg.latest.id})
    assert response.status_code == 303
    agreement = _only(store.state.trade.agreements)

    for target in (path, f"/messages/{thread.id}", f"/agreements/{agreement.id}"):
        response = bob.get(target)
        assert response.status_code == 403, target
        assert "Only the" in response.get_data(as_text=True), target
    token = csrf_of(_page(bob, "/negotiations"))
    assert bob.post(f"{path}/messages", data={"csrf_token": token, "body": "Hi"}).status_code == 403
    assert bob.post(f"/messages/{thread.id}", data={"csrf_token": token, "body": "Hi"}).status_code == 403
    assert bob.post(f"{path}/withdraw", data={"csrf_token": token}).status_code == 403
    assert all(m.body != "Hi" for m in store.state.trade.messages)

    for target in ("/negotiations/nope", "/messages/nope", "/agreements/nope"):
        response = bea.get(target)
        assert response.status_code == 404, target
    assert "No such negotiation." in bea.get("/negotiations/nope").get_data(as_text=True)

    # An admin may look on, but neither acts nor reads the parties' conversation.
    services.accounts.create_user(Actor.cli_operator(), SignUp(email="ann@example.com", password=PASSWORD,
                                                                name="Ann Admin", role="admin"))
    page = _page(market.login("ann@example.com"), path)
    assert "looking on as an administrator" in page
    assert all(f"{path}/{step}" not in page for step in ("accept", "counter", "reject", "withdraw", "messages"))
    assert 'id="thread"' not in page

    # Signed out: to the login page.
    anonymous = market.app.test_client()
    for target in ("/negotiations", path, "/agreements", "/messages", "/support"):
        response = anonymous.get(target)
        assert response.status_code == 302 and "/login" in response.headers["Location"], target


def test_every_form_needs_its_csrf_token(market, store, dee, bea, design_id, opened, clock):
    neg = store.state.trade.negotiations[opened]
    thread = _only(store.state.trade.threads)
    option = _only(store.state.trade.options)
    before = (len(store.state.trade.options), len(neg.offers), len(store.state.trade.messages))
    attempts = [
        (dee, f"/studio/designs/{design_id}/licence-options", _option_form(clock.now().date())),
        (dee, f"/studio/designs/{design_id}/licence-options/{option.id}/retire", {}),
        (bea, f"/designs/{design_id}/negotiations", {"option_id": option.id, "flat": "1", "currency": "USD"}),
        (dee, f"/negotiations/{opened}/counter", {"opt_flat": "1.00"}),
        (dee, f"/negotiations/{opened}/accept", {"offer_id": neg.latest.id}),
        (dee, f"/negotiations/{opened}/reject", {}),
        (bea, f"/negotiations/{opened}/withdraw", {}),
        (bea, f"/negotiations/{opened}/messages", {"body": "forged"}),
        (bea, f"/messages/{thread.id}", {"body": "forged"}),
        (bea, "/support", {"title": "forged", "topic": "support", "body": "forged"}),
    ]
    for browser, target, data in attempts:
        for token in (None, "forged-token"):
            form = dict(data) if token is None else {**data, "csrf_token": token}
            response = browser.post(target, data=form)
            assert response.status_code == 400, target
            assert CSRF_TEXT in response.get_data(as_text=True), target
    assert (len(store.state.trade.options), len(store.state.trade.negotiations[opened].offers),
            len(store.state.trade.messages)) == before
    assert store.state.trade.negotiations[opened].is_open
    assert store.state.trade.options[option.id].status is OptionStatus.ACTIVE

    # And every form on the new pages carries one.
    pages = [(dee, f"/studio/designs/{design_id}"), (bea, f"/designs/{design_id}"), (dee, f"/negotiations/{opened}"),
             (bea, f"/negotiations/{opened}"), (bea, f"/messages/{thread.id}"), (bea, "/support"),
             (bea, "/negotiations"), (bea, "/agreements"), (bea, "/messages")]
    for browser, target in pages:
        page = _page(browser, target)
        assert page.count("<form") == page.count('name="csrf_token"'), target
        check_markup(page)


# -- messages --------------------------------------------------------------------------------------


def test_a_message_with_an_image_attachment_and_its_signed_link(market, store, dee, bea, opened):
    path = f"/negotiations/{opened}"
    token = csrf_of(_page(bea, path))
    response = bea.post(f"{path}/messages",
                        data={"csrf_token": token, "body": "Our sketch of the band",
                              "attachments": [(io.BytesIO(PNG), "band.png")]},
                        content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"] == f"{path}#thread"
    message = store.state.trade.messages[-1]
    assert message.body == "Our sketch of the band" and [a.filename for a in message.attachments] == ["band.png"]

    page = _page(dee, path)
    assert "Our sketch of the band" in page
    links = re.findall(r'<img src="([^"]+)" alt="band.png"', page)
    assert links and links[0].startswith("/blobs/threads/")
    fetched = dee.get(html.unescape(links[0]))
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "image/png"
    assert fetched.data == PNG
    tampered = dee.get(html.unescape(links[0]).replace("sig=", "sig=x"))
    assert tampered.status_code == 403

    # The same thread on its own page.
    thread = _only(store.state.trade.threads)
    page = _page(bea, f"/messages/{thread.id}")
    assert "Our sketch of the band" in page and f"/negotiations/{opened}" in page
    assert "Could you do 1,200 for our first run?" in page


def test_photos_above_one_megabyte_may_be_attached(store, bea, opened):
    """The message routes take files, so they are not held to the 1 MB cap of other forms."""
    path = f"/negotiations/{opened}"
    photo = PNG + b"\x00" * (3 * 1024 * 1024)
    token = csrf_of(_page(bea, path))
    response = bea.post(f"{path}/messages", data={"csrf_token": token, "body": "",
                                                  "attachments": [(io.BytesIO(photo), "ring.png"),
                                                                  (io.BytesIO(PNG), "side.png")]},
                        content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert [a.size for a in store.state.trade.messages[-1].attachments] == [len(photo), len(PNG)]
    assert "Your files are sent." in _page(bea, path)


def test_message_problems_come_back_with_the_text_kept(market, store, bea, opened):
    path = f"/negotiations/{opened}"
    count = len(store.state.trade.messages)
    token = csrf_of(_page(bea, path))
    response = bea.post(f"{path}/messages",
                        data={"csrf_token": token, "body": "See the notes",
                              "attachments": [(io.BytesIO(b"plain text"), "notes.txt")]},
                        content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="attachments-error"' in page and "Attachments may be" in page
    assert ">See the notes</textarea>" in page
    response = bea.post(f"{path}/messages", data={"csrf_token": token, "body": "   "})
    assert response.status_code == 422
    assert 'id="body-error"' in response.get_data(as_text=True)
    response = bea.post(f"{path}/messages",
                        data={"csrf_token": token, "body": "",
                              "attachments": [(io.BytesIO(b"GIF89a" + b"\x00" * 20), "x.png")]},
                        content_type="multipart/form-data")
    assert response.status_code == 422
    assert len(store.state.trade.messages) == count


def test_unread_counts_and_translations(market, store, dee, design_id, clock):
    # A buyer who reads Simplified Chinese: Dee's English is translated for her, with the original a click away.
    mei = _browser(market, "mei@example.com", "buyer", "Mei Buyer", language="zh-Hans")
    assert _add_option(dee, design_id, clock.now().date()).status_code == 303
    option = _only(store.state.trade.options)
    response = _open(mei, design_id, option.id, note="Please confirm the ring sizes.")
    negotiation_id = response.headers["Location"].rsplit("/", 1)[1]
    thread = _only(store.state.trade.threads)

    listing = _page(dee, "/messages")
    assert "1 unread" in listing and f"/messages/{thread.id}" in listing
    page = _page(dee, f"/negotiations/{negotiation_id}")  # reading marks it read
    assert "[en] Please confirm the ring sizes." in page
    assert "<details" in page and "Please confirm the ring sizes.</p></details>" in page
    assert "1 unread" not in _page(dee, "/messages")

    path = f"/negotiations/{negotiation_id}"
    token = csrf_of(page)
    assert dee.post(f"{path}/messages", data={"csrf_token": token, "body": "Sizes 5 to 9."}).status_code == 303
    assert dee.post(f"{path}/messages", data={"csrf_token": token, "body": "And 10."}).status_code == 303
    assert "2 unread" in _page(mei, "/messages")
    page = _page(mei, f"/messages/{thread.id}")
    assert "[zh-Hans] Sizes 5 to 9." in page and "[zh-Hans] And 10." in page
    assert '<p class="prose" lang="en">Sizes 5 to 9.</p>' in page
    assert "unread" not in _page(mei, "/messages").split("<tbody>")[1]
    # One's own messages are shown as written.
    page = _page(dee, f"/messages/{thread.id}")
    assert '<p class="prose">Sizes 5 to 9.</p>' in page and "[zh-Hans]" not in page


# -- support ---------------------------------------------------------------------------------------


def test_a_support_request_opened_by_a_buyer_and_answered_by_an_admin(market, store, bea, admin, clock):
    page = _page(bea, "/support")
    assert "You have not asked anything yet." in page and 'name="topic"' in page
    token = csrf_of(page)
    response = bea.post("/support", data={"csrf_token": token, "title": "", "topic": "support", "body": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="title-error"' in page and 'id="body-error"' in page
    assert store.state.trade.threads == {}

    response = bea.post("/support", data={"csrf_token": token, "title": "Invoice address",
                                          "topic": "support", "body": "Where do I change my invoice address?"})
    assert response.status_code == 303
    thread = _only(store.state.trade.threads)
    assert response.headers["Location"] == f"/messages/{thread.id}"
    page = _page(bea, f"/messages/{thread.id}")
    assert "your request is with our support team" in page and "Where do I change my invoice address?" in page
    assert "Invoice address" in _page(bea, "/support")

    # The admin's queue; he answers in the thread.
    queue = _page(admin, "/support")
    assert "Support queue" in queue and "Invoice address" in queue and 'name="topic"' not in queue
    assert "Awaiting answer" in queue
    page = _page(admin, f"/messages/{thread.id}")
    assert "Where do I change my invoice address?" in page and "Bea Buyer" in page
    token = csrf_of(page)
    clock.advance(timedelta(minutes=5))  # read markers are moments: the answer comes after her request
    response = admin.post(f"/messages/{thread.id}", data={"csrf_token": token, "body": "Under My account, Details."})
    assert response.status_code == 303 and response.headers["Location"] == f"/messages/{thread.id}#thread"

    assert "Awaiting answer" not in _page(admin, "/support")
    assert "1 unread" in _page(bea, "/support")
    assert "1 unread" in _page(bea, "/messages")
    page = _page(bea, f"/messages/{thread.id}")
    assert "Under My account, Details." in page and "Ann Admin" in page
    assert "1 unread" not in _page(bea, "/messages")

    # Others cannot read it.
    bob = _browser(market, "bob@example.com", "buyer", "Bob Buyer")
    assert bob.get(f"/messages/{thread.id}").status_code == 403
    assert "Invoice address" not in _page(bob, "/support")


def test_feedback_and_a_bad_topic(store, bea):
    token = csrf_of(_page(bea, "/support"))
    response = bea.post("/support", data={"csrf_token": token, "title": "Lovely", "topic": "praise", "body": "x"})
    assert response.status_code == 422
    assert 'id="topic-error"' in response.get_data(as_text=True)
    response = bea.post("/support", data={"csrf_token": token, "title": "Lovely", "topic": "feedback",
                                          "body": "The catalog is great."})
    assert response.status_code == 303
    assert "Thank you for your feedback." in _page(bea, response.headers["Location"])
    assert "Feedback" in _page(bea, "/messages")


# -- navigation ------------------------------------------------------------------------------------


def test_the_navigation_links_for_signed_in_people(market, client, bea):
    page = _page(bea, "/")
    for href, label in [("/negotiations", "Negotiations"), ("/agreements", "Agreements"), ("/messages", "Messages"),
                        ("/support", "Support")]:
        assert f'<a href="{href}">{label}</a>' in page
    assert "/negotiations" not in client.get("/").get_data(as_text=True)
    assert "No negotiations yet." in _page(bea, "/negotiations")
    assert "No agreements yet." in _page(bea, "/agreements")
    assert "No conversations yet." in _page(bea, "/messages")
