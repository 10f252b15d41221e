"""Orders, routing and production in the browser (issue #5, part 7): a buyer orders
pieces from their licence agreement with a live quote, the workshop accepts, makes,
passes quality check and ships, the buyer confirms and completes; production
managers route on the board (reasons shown, overrides with a reason), vet and
suspend workshops and set prices; a workshop keeps its profile and fetches
production CAD. Field errors come back by the field with everything entered and
nothing stored; steps out of order or by the wrong party are refused with the
rule; non-parties get 403; every form carries a CSRF token.

The services are the real use cases over the in-memory store with the
FakeInspector (an STL starting ``solid cube`` is a watertight 10 mm cube) and the
local blob store under tmp_path; the people, design, licence and workshops come
from ``world`` (tests/e2e/conftest.py: OrderWorld).
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from test_web_designs_support import ORDER_CUBE, check_markup, csrf_of, post_forms, services_fixture  # noqa: F401

from caratzon_core.ledger import EntryKind
from caratzon_core.manufacturers import Vetting
from caratzon_core.orders import OrderStatus

CSRF_TEXT = "This form was not sent from a Caratzon page, or it expired"


def _page(browser, path, status=200):
    response = browser.get(path)
    assert response.status_code == status, (path, response.status_code, response.get_data(as_text=True)[-2000:])
    return response.get_data(as_text=True)


def _post(browser, page_path, action, data, **kwargs):
    """Post a form the way a browser does: with the token from the page it is on."""
    token = csrf_of(_page(browser, page_path))
    return browser.post(action, data={**data, "csrf_token": token}, **kwargs)


def _text(page):
    """The page's words, for asserting on sentences that span tags."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _error(page, name):
    match = re.search(rf'<p class="field-error" id="{re.escape(name)}-error" role="alert">([^<]*)</p>', page)
    assert match, f"no error for {name}"
    return html.unescape(match.group(1))


def _form(world, **changes):
    data = {"alloy": "18k_yellow", "quantity": "10", "ship_to": "GB",
            "wanted_by": (world.today() + timedelta(days=30)).isoformat(), "size_system": "us", "size_value": "6.5",
            "engraving": "", "finish": "polished", "notes": "Hallmark inside, please.",
            "stone_type-0": "", "stone_carat-0": "", "stone_count-0": "", "stone_setting-0": "prong"}
    data.update(changes)
    return data


def _order_path(world):
    return f"/agreements/{world.agreement.id}/order"


def _place(world, browser, **changes):
    return _post(browser, _order_path(world), _order_path(world), _form(world, **changes))


def _only_order(world):
    [order] = world.store.state.production.orders.values()
    return order


def _step(world, browser, order_id, to, **fields):
    world.clock.advance(timedelta(minutes=5))
    path = f"/orders/{order_id}"
    return _post(browser, path, f"{path}/transitions", {"to": to, **fields})


def _no_inline_script(page):
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script (the CSP forbids them)"


# -- the whole journey ---------------------------------------------------------------------------------


def test_order_from_agreement_with_quote_through_production_to_completion(world):
    bea, mx, pam = world.browser("bea"), world.browser("max"), world.browser("pam")

    # The agreement page links the order form, for the licensee only.
    agreement = _page(bea, f"/agreements/{world.agreement.id}")
    assert f'href="{_order_path(world)}"' in agreement and "Order pieces under this licence" in agreement
    assert _order_path(world) not in _page(world.browser("dee"), f"/agreements/{world.agreement.id}")

    form = _page(bea, _order_path(world))
    check_markup(form)
    _no_inline_script(form)
    assert post_forms(form) == form.count('name="csrf_token"')
    assert "GB, HK" in form and "50 pieces in all" in form and "USD 4.00 per piece" in form
    assert 'src="/static/order_quote.js"' in form and "data-quote-url" in form
    assert "Place order" in form and "Quote" in form

    # "Quote" re-renders the form with the breakdown and keeps every value.
    quoted = _post(bea, _order_path(world), f"{_order_path(world)}/quote",
                   _form(world, quantity="12", engraving="B & B", **{
                       "stone_type-0": "diamond", "stone_carat-0": "0.05", "stone_count-0": "6"}))
    assert quoted.status_code == 422  # stones may not change under this licence: nothing is quoted
    page = quoted.get_data(as_text=True)
    assert "does not allow changing the stones" in _error(page, "stones")
    assert 'value="12"' in page and 'value="B &amp; B"' in page and 'value="0.05"' in page
    quoted = _post(bea, _order_path(world), f"{_order_path(world)}/quote", _form(world, quantity="12"))
    assert quoted.status_code == 200
    page = quoted.get_data(as_text=True)
    check_markup(page)
    text = _text(page)
    for label in ("Metal", "Labour", "Stones and setting", "Licence royalty", "Platform fee", "Total"):
        assert label in text
    assert "15.580 g net × USD 82.00/g × (1 + 0.05 casting loss)" in text  # noqa: RUF001
    assert "USD 4.00 USD 48.00" in text  # the royalty per piece and for the 12 pieces
    preview = world.services.orders.quote_for(world.actor("bea"), world.agreement.id, world.brief(quantity=12))
    assert preview.total.format() in text
    assert 'value="12"' in page and "Hallmark inside, please." in page
    assert world.store.state.production.orders == {}  # a quote stores nothing

    # The live quote endpoint (for the static script) answers the same breakdown as JSON.
    token = csrf_of(form)
    live = bea.post(f"{_order_path(world)}/quote.json", data={**_form(world, quantity="12"), "csrf_token": token})
    assert live.status_code == 200 and live.json["ok"] is True
    assert live.json["total"] == preview.total.format() and "Licence royalty" in live.json["html"]
    bad = bea.post(f"{_order_path(world)}/quote.json", data={**_form(world, ship_to="US"), "csrf_token": token})
    assert bad.json["ok"] is False and "outside the licence territory" in bad.json["errors"]["ship_to"]
    assert bea.get("/static/order_quote.js").status_code == 200

    # Place the order: routed at once to the best vetted workshop.
    placed = _place(world, bea, quantity="12")
    assert placed.status_code == 303
    order = _only_order(world)
    assert placed.headers["Location"] == f"/orders/{order.id}"
    assert order.status is OrderStatus.ROUTED and order.manufacturer_id == world.id("max")
    assert order.quote == preview and order.brief.notes == "Hallmark inside, please."
    page = _page(bea, f"/orders/{order.id}")
    check_markup(page)
    text = _text(page)
    assert "Your order is placed at " + preview.total.format() in text
    assert "Offered to a manufacturer" in text and "Max Ltd" in text
    assert "The buyer placed the order at the quoted price." in text
    assert "The job was offered to Max Ltd." in text
    assert "Bea Ltd" in text and "1 Queen's Road Central, Hong Kong" in text  # the buyer's identity, for parties
    assert "US ring size: 6.5" in text and "12 pieces" in text
    assert "Ledger" not in text  # production only
    assert 'name="to" value="cancelled"' in page and 'name="to" value="accepted"' not in page

    # My orders, my jobs, every open order.
    assert order.id in _page(bea, "/orders") and "My orders" in _page(bea, "/orders")
    jobs = _page(mx, "/orders")
    assert "My jobs" in jobs and order.id in jobs
    assert order.id in _page(pam, "/orders") and "Every open order (1)" in _text(_page(pam, "/orders"))
    assert order.id in _page(world.browser("dee"), "/orders")  # the designer sees orders of her design

    # The workshop accepts: the buyer is charged (the ledger), and the CAD button appears.
    page = _page(mx, f"/orders/{order.id}")
    assert 'name="to" value="accepted"' in page and 'name="to" value="declined"' in page
    assert "Download production CAD" not in page
    assert _step(world, mx, order.id, "accepted").status_code == 303
    page = _page(mx, f"/orders/{order.id}")
    assert "Done: the order is now accepted by the manufacturer." in _text(page)
    assert "Download production CAD" in page
    response = _post(mx, f"/orders/{order.id}", f"/orders/{order.id}/cad", {})
    assert response.status_code == 303 and response.headers["Location"].startswith("/blobs/")
    cad = mx.get(response.headers["Location"])
    assert cad.status_code == 200 and cad.data == ORDER_CUBE

    assert _step(world, mx, order.id, "in_production").status_code == 303
    assert _step(world, mx, order.id, "quality_check").status_code == 303
    # Production fails the pieces once (a reason is required), then passes them.
    page = _page(pam, f"/orders/{order.id}")
    assert "Fail the quality check" in page and "Pass the quality check" in page
    refused = _step(world, pam, order.id, "in_production", key="qc_failed", reason="")
    assert refused.status_code == 422
    assert "Give a reason for failing the quality check." in _error(refused.get_data(as_text=True),
                                                                    "qc_failed-reason")
    failed = _step(world, pam, order.id, "in_production", key="qc_failed", reason="Porosity on two shanks")
    assert failed.status_code == 303
    assert world.get_order(order.id).qc_failures == 1
    assert _step(world, mx, order.id, "quality_check").status_code == 303
    assert _step(world, pam, order.id, "qc_passed").status_code == 303

    # Shipping needs a carrier and a tracking number: by the field, values kept.
    refused = _step(world, mx, order.id, "shipped", carrier="DHL Express", tracking="")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert _error(page, "shipped-tracking") and 'value="DHL Express"' in page
    assert world.get_order(order.id).status is OrderStatus.QUALITY_CHECK
    assert _step(world, mx, order.id, "shipped", carrier="DHL Express", tracking="JD014600006281").status_code == 303
    assert "Download production CAD" not in _page(mx, f"/orders/{order.id}")  # shipped: the window closed

    # The buyer confirms delivery and completes: the parties are paid out.
    assert _step(world, bea, order.id, "delivered").status_code == 303
    assert _step(world, bea, order.id, "completed").status_code == 303
    assert world.get_order(order.id).status is OrderStatus.COMPLETED

    text = _text(_page(bea, f"/orders/{order.id}"))
    for line in ("Max Ltd accepted the job.", "Production started.", "The pieces are ready for the quality check.",
                 "The pieces failed the quality check (Porosity on two shanks); they go back into production.",
                 "The pieces passed the quality check.", "Shipped with DHL Express, tracking number JD014600006281.",
                 "Delivery was confirmed by the buyer.", "The order is completed."):
        assert line in text, line
    assert re.search(r"2026-11-27 09:\d\d UTC : The order is completed\.", text)

    # Production managers see the ledger and the payment instructions.
    page = _page(pam, f"/orders/{order.id}")
    check_markup(page)
    text = _text(page)
    assert "Ledger" in text and "Charge" in text and "Payout" in text and "revenue:platform_fee" in text
    assert "Payment instructions" in text and "Transfer" in text
    kinds = [e.kind for e in world.store.state.production.entries]
    assert kinds == [EntryKind.CHARGE, EntryKind.PAYOUT]
    assert preview.total.format().split(" ")[1] in text  # the charge's amount


def test_the_order_form_shows_every_problem_by_its_field_and_stores_nothing(world):
    bea = world.browser("bea")
    before = world.counts()
    yesterday = (world.today() - timedelta(days=1)).isoformat()
    response = _place(world, bea, quantity="60", ship_to="US", wanted_by=yesterday, alloy="", engraving="x" * 41)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    check_markup(page)
    assert "Choose the alloy." in _error(page, "alloy")
    assert "must be after today" in _error(page, "wanted_by")
    assert "at most 40" in _error(page, "engraving")
    assert 'value="60"' in page and 'value="US"' in page and f'value="{yesterday}"' in page
    assert world.counts() == before

    # The brief is fine: now the licence's rules, each by its field.
    response = _place(world, bea, quantity="60", ship_to="US")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The licence allows 50 pieces and 0 are ordered already: at most 50 more." in _error(page, "quantity")
    assert "Shipping to US is outside the licence territory (GB, HK)." in _error(page, "ship_to")
    assert world.counts() == before

    # Units already ordered count against the cap.
    assert _place(world, bea, quantity="45").status_code == 303
    response = _place(world, bea, quantity="6")
    assert response.status_code == 422
    assert "45 are ordered already: at most 5 more" in _error(response.get_data(as_text=True), "quantity")
    assert len(world.store.state.production.orders) == 1

    # A licence no longer in force: the problem goes on top of the form.
    world.clock.advance(timedelta(days=400))
    response = _place(world, bea, wanted_by=(world.today() + timedelta(days=30)).isoformat())
    assert response.status_code == 422
    assert "The licence is not in force today." in response.get_data(as_text=True)
    assert len(world.store.state.production.orders) == 1


def test_every_form_needs_its_csrf_token(world):
    order = world.order()
    world.step("max", order.id, "accepted")
    browsers = {name: world.browser(name) for name in ("bea", "max", "pam")}
    posts = [
        ("bea", _order_path(world), _form(world)),
        ("bea", f"{_order_path(world)}/quote", _form(world)),
        ("bea", f"{_order_path(world)}/quote.json", _form(world)),
        ("bea", f"/orders/{order.id}/transitions", {"to": "cancelled", "reason": "Changed our mind"}),
        ("bea", f"/orders/{order.id}/messages", {"body": "Hello"}),
        ("max", f"/orders/{order.id}/cad", {}),
        ("max", "/manufacturer/profile", {"processes": "lost_wax_casting"}),
        ("pam", f"/production/orders/{order.id}/assign", {"manufacturer_id": world.id("mia"), "reason": "x"}),
        ("pam", f"/production/manufacturers/{world.id('mo')}/vet", {"nda_until": "2027-11-27"}),
        ("pam", f"/production/manufacturers/{world.id('max')}/suspend", {"reason": "x"}),
        ("pam", "/production/prices", {"currency": "USD"}),
    ]
    before = world.counts()
    for who, action, data in posts:
        response = browsers[who].post(action, data=data)
        assert response.status_code == 400, action
        assert CSRF_TEXT in response.get_data(as_text=True), action
    assert world.counts() == before
    assert world.get_order(order.id).status is OrderStatus.ACCEPTED
    for who, path in (("bea", f"/orders/{order.id}"), ("max", f"/orders/{order.id}"), ("pam", f"/orders/{order.id}"),
                      ("pam", "/production/routing"), ("pam", f"/production/orders/{order.id}/routing"),
                      ("pam", "/production/manufacturers"), ("pam", "/production/prices"),
                      ("max", "/manufacturer/profile"), ("bea", _order_path(world))):
        page = _page(browsers[who], path)
        assert post_forms(page) == page.count('name="csrf_token"'), path
        check_markup(page)
        _no_inline_script(page)


def test_non_parties_get_403_and_steps_out_of_order_or_by_the_wrong_party_are_refused(world):
    order = world.order()
    bob, mia, bea, mx, dee = (world.browser(n) for n in ("bob", "mia", "bea", "max", "dee"))
    for browser, path in ((bob, f"/orders/{order.id}"), (mia, f"/orders/{order.id}"), (bob, _order_path(world)),
                          (dee, _order_path(world)), (bea, "/production/routing"),
                          (mx, f"/production/orders/{order.id}/routing"), (mx, "/production/manufacturers"),
                          (bea, "/production/prices"), (bea, "/manufacturer/profile"), (dee, "/production/routing")):
        page = _page(browser, path, 403)
        assert "Not allowed" in page, path
    assert "Only the order's buyer, the design's designer, the assigned manufacturer and production managers" in \
        _text(_page(bob, f"/orders/{order.id}", 403))
    assert "Only the buyer holding the licence may order pieces under it." in _page(dee, _order_path(world), 403)
    assert "Production CAD files go only to the manufacturer assigned to this order." in \
        _text(_post(bea, f"/orders/{order.id}", f"/orders/{order.id}/cad", {}).get_data(as_text=True))

    before = world.counts()
    # The buyer cannot accept the job (the wrong party): 403 with the rule.
    token = csrf_of(_page(bea, f"/orders/{order.id}"))
    response = bea.post(f"/orders/{order.id}/transitions", data={"to": "accepted", "csrf_token": token})
    assert response.status_code == 403
    assert "Only the manufacturer may move an order from routed to accepted." in _text(response.get_data(as_text=True))
    # Shipping a job that is only offered: out of order, 409 with the rule on top of the page.
    token = csrf_of(_page(mx, f"/orders/{order.id}"))
    response = mx.post(f"/orders/{order.id}/transitions", data={"to": "shipped", "carrier": "DHL", "tracking": "1",
                                                                "csrf_token": token})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "An order that is routed cannot move to shipped." in page
    check_markup(page)
    # Another workshop cannot answer it at all.
    response = mia.post(f"/orders/{order.id}/transitions", data={"to": "accepted", "csrf_token": csrf_of(
        _page(mia, "/orders"))})
    assert response.status_code == 403
    assert world.counts() == before
    assert world.get_order(order.id).status is OrderStatus.ROUTED


def test_the_orders_conversation_is_for_its_parties(world):
    order = world.order()
    bea, mx, dee, pam = (world.browser(n) for n in ("bea", "max", "dee", "pam"))
    response = _post(bea, f"/orders/{order.id}", f"/orders/{order.id}/messages", {"body": "Can you hallmark them?"})
    assert response.status_code == 303 and response.headers["Location"] == f"/orders/{order.id}#thread"
    assert "Can you hallmark them?" in _page(dee, f"/orders/{order.id}")  # the designer takes part
    assert "Can you hallmark them?" not in _page(mx, f"/orders/{order.id}")  # offered, not yet accepted
    assert 'id="thread"' not in _page(pam, f"/orders/{order.id}")  # production steers, does not chat
    world.step("max", order.id, "accepted")
    page = _page(mx, f"/orders/{order.id}")
    assert "Can you hallmark them?" in page
    # The order's events are the timeline, not messages in the conversation.
    thread = page[page.index('id="thread"'):]
    assert "accepted the job" not in thread
    response = _post(mx, f"/orders/{order.id}", f"/orders/{order.id}/messages", {"body": ""})
    assert response.status_code == 422
    assert _error(response.get_data(as_text=True), "body")
    response = _post(mx, f"/orders/{order.id}", f"/orders/{order.id}/messages", {"body": "Yes, 750 marks."})
    assert response.status_code == 303
    assert "Yes, 750 marks." in _page(bea, f"/orders/{order.id}")


# -- routing -------------------------------------------------------------------------------------------


def test_routing_board_shows_candidates_and_reasons_and_assigns_the_best(world):
    pam = world.browser("pam")
    # With both vetted workshops suspended nobody qualifies: the order waits on the board.
    world.services.manufacturers.suspend(world.actor("pam"), world.id("max"), reason="Audit")
    world.services.manufacturers.suspend(world.actor("pam"), world.id("mia"), reason="Audit")
    waiting = world.order()
    assert waiting.status is OrderStatus.SUBMITTED
    page = _page(pam, "/production/routing")
    check_markup(page)
    text = _text(page)
    assert waiting.id in page and "Awaiting routing" in text
    assert "No manufacturer qualifies: 3 not vetted; 1 NDA not valid through the wanted-by date." in text
    assert "Not vetted: 3" in text and "NDA not valid through the wanted-by date: 1" in text
    assert "<details" in page

    # Re-vetting Max (the manufacturers page form) makes him the candidate; assign him from the board.
    until = (world.today() + timedelta(days=365)).isoformat()
    response = _post(pam, "/production/manufacturers", f"/production/manufacturers/{world.id('max')}/vet",
                     {"nda_signed_on": world.today().isoformat(), "nda_until": until})
    assert response.status_code == 303
    page = _page(pam, "/production/routing")
    text = _text(page)
    assert "1. Max Ltd 1.00 / 1.00 / 0.50 / 0.95 = 0.87" in text  # rank, name, slack, cost, rating, load, total
    assert "Assign to Max Ltd" in text
    token = csrf_of(page)
    response = pam.post(f"/production/orders/{waiting.id}/assign", data={"back": "board", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/production/routing"
    assert world.get_order(waiting.id).manufacturer_id == world.id("max")
    page = _page(pam, "/production/routing")
    assert "is offered to the manufacturer" in page
    assert "Offered to Max Ltd until 2026-11-29 09:00 UTC" in _text(page)


def test_override_needs_a_reason_and_never_reaches_an_unvetted_or_uncovered_workshop(world):
    order = world.order()
    pam = world.browser("pam")
    path = f"/production/orders/{order.id}/routing"
    page = _page(pam, path)
    check_markup(page)
    text = _text(page)
    assert "Chose Max Ltd" in text and "Runner-up: Mia Ltd" in text
    assert "1 Max Ltd 1.00 1.00 0.50 0.95 0.87" in text and "2 Mia Ltd 0.50 1.00 0.50 0.95 0.69" in text
    assert "Mo Ltd : Not vetted: vetting is pending." in text
    assert "Mel Ltd : NDA expires on 2026-12-07, before the wanted-by date 2026-12-27" in text

    before = world.counts()
    for who, reason, status, message in (
        ("mia", "", 422, "Overriding the routing needs a written reason."),
        ("mo", "Fastest workshop", 409, "Not vetted: vetting is pending. This cannot be overridden."),
        ("mel", "She knows the design", 409, "before the wanted-by date 2026-12-27; it must be valid through it. "
                                            "This cannot be overridden."),
    ):
        response = _post(pam, path, f"/production/orders/{order.id}/assign",
                         {"manufacturer_id": world.id(who), "reason": reason})
        assert response.status_code == status, who
        page = response.get_data(as_text=True)
        check_markup(page)
        assert message in html.unescape(page), who
        assert f'<option value="{world.id(who)}" selected>' in page  # the choice is kept
    assert world.counts() == before
    response = _post(pam, path, f"/production/orders/{order.id}/assign",
                     {"manufacturer_id": world.id("mia"), "reason": "Max is closed for a holiday"})
    assert response.status_code == 303 and response.headers["Location"] == path
    moved = world.get_order(order.id)
    assert moved.manufacturer_id == world.id("mia") and moved.reason == "Max is closed for a holiday"
    text = _text(_page(world.browser("bea"), f"/orders/{order.id}"))
    assert "Production reassigned the job from the previous manufacturer to Mia Ltd." in text
    assert "Production reassigned the job from Max Ltd to Mia Ltd." in _text(_page(pam, f"/orders/{order.id}"))


def test_a_declined_job_goes_to_the_next_workshop_and_the_board_says_why(world):
    order = world.order()
    mx = world.browser("max")
    response = _step(world, mx, order.id, "declined", reason="Fully booked")
    assert response.status_code == 303
    moved = world.get_order(order.id)
    assert moved.status is OrderStatus.ROUTED and moved.manufacturer_id == world.id("mia")
    assert _page(mx, f"/orders/{order.id}", 403)  # no longer his
    page = _page(world.browser("pam"), "/production/routing")
    text = _text(page)
    assert "Offered to Mia Ltd" in text and "Declined before: 1" in text
    text = _text(_page(world.browser("pam"), f"/production/orders/{order.id}/routing"))
    assert "Max Ltd : Declined this order, or let the offer time out, before." in text
    assert "Max Ltd declined the job; it goes back to routing." in _text(_page(world.browser("pam"),
                                                                               f"/orders/{order.id}"))


# -- production CAD ------------------------------------------------------------------------------------


def test_production_cad_only_for_the_assigned_workshop_while_vetted(world):
    order = world.order()
    world.step("max", order.id, "accepted")
    mx, mia, pam = world.browser("max"), world.browser("mia"), world.browser("pam")
    response = _post(mia, "/orders", f"/orders/{order.id}/cad", {})
    assert response.status_code == 403  # another workshop is not even a party to the order
    assert "Only the order's buyer, the design's designer, the assigned manufacturer and production managers may " \
        "see an order." in _text(response.get_data(as_text=True))
    audit = [e for e in world.store.state.audit if e.actor == world.id("mia")]
    assert audit and audit[-1].outcome == "denied"
    response = _post(mx, f"/orders/{order.id}", f"/orders/{order.id}/cad", {})
    assert response.status_code == 303
    link = response.headers["Location"]
    assert mx.get(link).data == ORDER_CUBE

    # Suspended: no more links, at once (the page says why); a link already issued expires in minutes.
    response = _post(pam, "/production/manufacturers", f"/production/manufacturers/{world.id('max')}/suspend",
                     {"reason": ""})
    assert response.status_code == 422
    assert _error(response.get_data(as_text=True), f"reason-{world.id('max')}")
    response = _post(pam, "/production/manufacturers", f"/production/manufacturers/{world.id('max')}/suspend",
                     {"reason": "Failed the security audit"})
    assert response.status_code == 303
    assert world.store.state.production.manufacturers[world.id("max")].vetting is Vetting.SUSPENDED
    response = _post(mx, f"/orders/{order.id}", f"/orders/{order.id}/cad", {})
    assert response.status_code == 403
    assert "Production CAD files need a vetted manufacturer with a valid NDA." in _text(response.get_data(as_text=True))
    world.clock.advance(timedelta(minutes=3))
    assert mx.get(link).status_code == 403


# -- workshops, vetting and prices ---------------------------------------------------------------------


def test_workshop_profile_is_kept_with_errors_by_field(world):
    mo = world.browser("mo")
    page = _page(mo, "/manufacturer/profile")
    check_markup(page)
    assert 'value="lost_wax_casting" checked' in page and 'value="5"' in page and "FR, GB, HK" in page
    assert "Pending vetting" in page
    before = world.counts()
    data = {"name": "Mo's Casting", "processes": [], "metals": ["18k_yellow", "platinum_950"], "min_quantity": "50",
            "max_quantity": "10", "weekly_capacity": "lots", "lead_time_days": "7", "ships_to": "GB, UK",
            "labour_per_piece": "70.555", "labour_per_stone": "4", "currency": "USD"}
    response = _post(mo, "/manufacturer/profile", "/manufacturer/profile", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    check_markup(page)
    assert "at least one process" in _error(page, "processes")
    assert "'UK' is not an ISO 3166-1 alpha-2 country code." in _error(page, "ships_to")
    assert "whole number" in _error(page, "weekly_capacity")
    assert "at most 2 decimal places" in _error(page, "labour_per_piece")
    assert 'value="platinum_950" checked' in page and 'value="GB, UK"' in page and "Mo&#39;s Casting" in page
    assert world.counts() == before
    data.update(processes=["lost_wax_casting", "plating"], min_quantity="5", max_quantity="100",
                weekly_capacity="80", ships_to="gb, fr", labour_per_piece="70.50")
    response = _post(mo, "/manufacturer/profile", "/manufacturer/profile", data)
    assert response.status_code == 303
    profile = world.store.state.production.manufacturers[world.id("mo")]
    assert profile.name == "Mo's Casting" and profile.ships_to == {"GB", "FR"}
    assert profile.labour.per_piece.amount_minor == 7050 and profile.weekly_capacity == 80
    assert profile.vetting is Vetting.PENDING  # saving never vets


def test_production_manager_vets_workshops_with_nda_dates(world):
    pam = world.browser("pam")
    page = _page(pam, "/production/manufacturers")
    check_markup(page)
    text = _text(page)
    assert "Mel Ltd Vetted" in text and "valid until 2026-12-07" in text and "Mo Ltd Pending vetting" in text
    assert "On probation" in text
    path = f"/production/manufacturers/{world.id('mo')}/vet"
    before = world.counts()
    response = _post(pam, "/production/manufacturers", path,
                     {"nda_signed_on": "", "nda_until": (world.today() - timedelta(days=1)).isoformat()})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    check_markup(page)
    assert "The NDA would already have expired." in _error(page, f"until-{world.id('mo')}")
    assert world.counts() == before
    response = _post(pam, "/production/manufacturers", path, {"nda_signed_on": "", "nda_until": "2028-01-31"})
    assert response.status_code == 303
    mo = world.store.state.production.manufacturers[world.id("mo")]
    assert mo.vetting is Vetting.VETTED and mo.nda_signed_on == world.today()
    assert str(mo.nda_expires_on) == "2028-01-31"
    assert "Mo Ltd is vetted; the NDA runs until 2028-01-31." in _page(pam, "/production/manufacturers")
    vetted = _page(pam, "/production/manufacturers?vetting=pending")
    assert "No manufacturer profiles with this status yet." in vetted


def test_prices_are_set_from_today_on(world):
    pam = world.browser("pam")
    page = _page(pam, "/production/prices")
    check_markup(page)
    assert "Since 2026-11-01, in USD" in _text(page) and 'value="82.00"' in page
    before = world.counts()
    form = {"currency": "USD", "effective": (world.today() - timedelta(days=1)).isoformat(),
            "labour_per_piece": "95.00", "setting_per_stone": "8.00", "casting_loss": "0.05",
            "platform_fee_rate": "0.08", "metal-18k_yellow": "90.001", "stone-diamond": "1500"}
    response = _post(pam, "/production/prices", "/production/prices", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "at most 2 decimal places" in _error(page, "metal-18k_yellow")
    assert 'value="95.00"' in page
    form["metal-18k_yellow"] = "90.00"
    response = _post(pam, "/production/prices", "/production/prices", form)
    assert response.status_code == 422
    assert "today or later" in _error(response.get_data(as_text=True), "effective")
    assert world.counts() == before
    form["effective"] = world.today().isoformat()
    assert _post(pam, "/production/prices", "/production/prices", form).status_code == 303
    table = world.services.orders.current_prices(world.actor("pam"))
    assert table.metal_per_gram == {"18k_yellow": 9000} and table.labour_per_piece == 9500
    # New quotes use the new table.
    quote = world.services.orders.quote_for(world.actor("bea"), world.agreement.id, world.brief())
    assert quote.line("labour").per_piece.amount_minor == 9500


@pytest.mark.parametrize("role", ["buyer", "manufacturer", "production_manager", "designer"])
def test_navigation_by_role(world, role):
    name = {"buyer": "bea", "manufacturer": "max", "production_manager": "pam", "designer": "dee"}[role]
    page = _page(world.browser(name), "/")
    nav = page[page.index('<nav aria-label="Main">'):page.index("</nav>")]
    assert ('href="/production/routing"' in nav) is (role == "production_manager")
    assert ('href="/production/prices"' in nav) is (role == "production_manager")
    assert ('href="/manufacturer/profile"' in nav) is (role == "manufacturer")
    assert 'href="/orders"' in nav
    assert (">Jobs<" in nav) is (role == "manufacturer")
