"""Cookie consent (P10, P44) and engagement: the banner until a choice, proof of
the choice, no tracking without a yes, withdrawal effective at the next request,
restricted users never tracked, the scroll beacon's same-origin and CSRF checks,
and the CSP (no inline script anywhere)."""

from __future__ import annotations

import re
from datetime import timedelta

import attrs
import pytest
from test_web_designs_support import (  # noqa: F401
    bearer,
    csrf_of,
    market_fixture,
    post_forms,
    services_fixture,
)

from caratzon_core.accounts import UserStatus
from caratzon_core.consent import COOKIE_NOTICE_VERSION, EventKind

ORIGIN = {"Origin": "http://localhost"}


@pytest.fixture
def design_id(market):
    ada = market.token("ada@example.com", "designer", "Ada Lovelace")
    return market.published(ada)["id"]


@pytest.fixture
def bob(market, design_id):
    return market.browser("bob@example.com", "buyer", "Bob Buyer")


def _cookie(browser, name):
    cookie = browser.get_cookie(name)
    return cookie.value if cookie else None


def _choose(browser, answer: str, next_url: str = "/"):
    # Time moves on between choices (the latest choice is the one by time).
    browser.application.extensions["caratzon"].deps.clock.advance(timedelta(seconds=1))
    page = browser.get("/consent").get_data(as_text=True)
    return browser.post("/consent", data={"csrf_token": csrf_of(page), "analytics": answer, "next": next_url})


def _events(store, kind=EventKind.VIEW):
    return [e for e in store.state.events if e.kind is kind]


def _beacon(browser, design_id, depth="80", headers=ORIGIN, with_token=True, **extra):
    page = browser.get("/consent").get_data(as_text=True)
    data = {"design_id": design_id, "kind": "scroll", "scroll_depth": depth, **extra}
    if with_token:
        data["csrf_token"] = csrf_of(page)
    return browser.post("/beacon", data=data, headers=headers)


# -- the banner -------------------------------------------------------------------------------------


def test_the_banner_shows_until_a_choice_is_made(client, store):
    html = client.get("/").get_data(as_text=True)
    assert 'id="cookie-banner"' in html
    assert 'value="yes">Accept analytics</button>' in html and 'value="no" class="secondary">Only necessary' in html
    assert '<script src="/static/consent.js" defer></script>' in html
    token = csrf_of(html)
    response = client.post("/consent", data={"csrf_token": token, "analytics": "no", "next": "/login"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    for path in ("/", "/login", "/legal/privacy"):
        html = client.get(path).get_data(as_text=True)
        assert 'id="cookie-banner"' not in html and "consent.js" not in html, path
    record = store.state.consents[-1]
    assert record.analytics is False and record.user_id is None
    assert record.notice_version == COOKIE_NOTICE_VERSION
    assert record.client_address == "127.0.0.0/24"
    assert record.visitor_id == _cookie(client, "cz_visitor")


def test_the_choice_cookies_are_strictly_necessary_and_flagged(client):
    response = _choose(client, "yes")
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("cz_visitor", "cz_consent"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name] and "Path=/" in cookies[name]
        assert "Max-Age=31536000" in cookies[name]
    assert _cookie(client, "cz_consent") == f"yes.{COOKIE_NOTICE_VERSION}"
    visitor = _cookie(client, "cz_visitor")
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", visitor)
    _choose(client, "no")
    assert _cookie(client, "cz_visitor") == visitor  # the same visitor changed their mind
    assert _cookie(client, "cz_consent") == f"no.{COOKIE_NOTICE_VERSION}"


def test_an_old_notice_version_asks_again(client):
    client.set_cookie("cz_consent", "yes.2020-01-01")
    assert 'id="cookie-banner"' in client.get("/").get_data(as_text=True)


def test_consent_js_posts_in_the_background(client, store):
    token = csrf_of(client.get("/").get_data(as_text=True))
    response = client.post("/consent", data={"csrf_token": token, "analytics": "yes", "reply": "empty"})
    assert response.status_code == 204 and response.data == b""
    assert _cookie(client, "cz_consent") == f"yes.{COOKIE_NOTICE_VERSION}"
    assert store.state.consents[-1].analytics is True


def test_a_choice_needs_csrf_and_an_answer(client, store):
    assert client.post("/consent", data={"analytics": "yes"}).status_code == 400
    token = csrf_of(client.get("/").get_data(as_text=True))
    assert client.post("/consent", data={"csrf_token": token, "analytics": "maybe"}).status_code == 422
    assert store.state.consents == []


def test_the_settings_page_explains_the_cookies_and_the_current_choice(client):
    html = client.get("/").get_data(as_text=True)
    assert '<a href="/consent">Cookie settings</a>' in html
    page = client.get("/consent").get_data(as_text=True)
    for name in ("caratzon_session", "cz_visitor", "cz_consent", "Analytics"):
        assert name in page
    assert page.count("Strictly necessary") == 3 and "Optional: only if you accept" in page
    assert "You have not chosen yet" in page
    assert 'id="cookie-banner"' not in page  # the page is the banner
    _choose(client, "yes")
    assert "Analytics are on." in client.get("/consent").get_data(as_text=True)
    _choose(client, "no")
    assert "Only necessary cookies." in client.get("/consent").get_data(as_text=True)


# -- tracking follows the stored choice ---------------------------------------------------------------


def test_no_view_is_recorded_without_consent(bob, design_id, store):
    html = bob.get(f"/designs/{design_id}").get_data(as_text=True)
    assert "beacon.js" not in html
    assert _events(store) == []
    _choose(bob, "no")
    html = bob.get(f"/designs/{design_id}").get_data(as_text=True)
    assert "beacon.js" not in html
    assert _events(store) == []


def test_views_after_accepting_and_none_right_after_withdrawing(bob, design_id, store, market):
    _choose(bob, "yes")
    html = bob.get(f"/designs/{design_id}").get_data(as_text=True)
    assert re.search(r'<script id="engagement-beacon" src="/static/beacon.js" defer\s+data-url="/beacon" '
                     rf'data-design="{design_id}" data-csrf="[^"]+"></script>', html)
    views = _events(store)
    assert len(views) == 1
    assert views[0].design_id == design_id and views[0].user_id == market.user_id("bob@example.com")
    assert views[0].visitor_id == _cookie(bob, "cz_visitor")

    _choose(bob, "no")
    html = bob.get(f"/designs/{design_id}").get_data(as_text=True)
    assert "beacon.js" not in html
    assert len(_events(store)) == 1
    assert _beacon(bob, design_id).status_code == 204
    assert _events(store, EventKind.SCROLL) == []


def test_the_stored_choice_wins_over_the_cookie(bob, design_id, store, market):
    """Withdrawn on another device (same account): this browser's 'yes' cookie no longer counts."""
    _choose(bob, "yes")
    other = market.login("bob@example.com")
    _choose(other, "no")
    bob.get(f"/designs/{design_id}")
    assert _events(store) == []


def test_a_save_counts_only_with_consent(bob, design_id, store):
    page = bob.get(f"/designs/{design_id}").get_data(as_text=True)
    bob.post(f"/designs/{design_id}/save", data={"csrf_token": csrf_of(page)})
    assert _events(store, EventKind.SAVE) == []
    bob.post(f"/designs/{design_id}/save", data={"csrf_token": csrf_of(page), "saved": "no"})
    _choose(bob, "yes")
    bob.post(f"/designs/{design_id}/save", data={"csrf_token": csrf_of(page)})
    assert len(_events(store, EventKind.SAVE)) == 1


def test_a_restricted_user_is_never_tracked(bob, design_id, store, market):
    _choose(bob, "yes")
    user_id = market.user_id("bob@example.com")
    with store() as uow:
        uow.users.update(attrs.evolve(uow.users.get(user_id), status=UserStatus.RESTRICTED))
        uow.commit()
    html = bob.get(f"/designs/{design_id}").get_data(as_text=True)
    assert "beacon.js" not in html
    assert _beacon(bob, design_id).status_code == 204
    page = bob.get(f"/designs/{design_id}").get_data(as_text=True)
    bob.post(f"/designs/{design_id}/save", data={"csrf_token": csrf_of(page)})
    assert store.state.events == []


def test_the_designer_sees_the_figures(bob, design_id, store, market, client):
    _choose(bob, "yes")
    bob.get(f"/designs/{design_id}")
    assert _beacon(bob, design_id, depth="40").status_code == 204
    bob.get(f"/designs/{design_id}")
    assert _beacon(bob, design_id, depth="90").status_code == 204
    ada = market.login("ada@example.com")
    ada.get(f"/designs/{design_id}")  # the owner's own views do not count
    html = ada.get(f"/studio/designs/{design_id}/analytics").get_data(as_text=True)
    assert re.search(r'2026-11-27</time></td>\s*<td class="num">2</td>\s*<td class="num">0</td>\s*'
                     r'<td class="num">65 %</td>', html)
    token = market.token("ada2@example.com")  # another designer: not theirs
    assert client.get(f"/api/v1/designs/{design_id}/analytics", headers=bearer(token)).status_code == 403


# -- the beacon ----------------------------------------------------------------------------------------


def test_the_beacon_records_scroll_depth_with_consent(bob, design_id, store):
    _choose(bob, "yes")
    response = _beacon(bob, design_id, depth="73")
    assert response.status_code == 204
    (event,) = _events(store, EventKind.SCROLL)
    assert event.scroll_depth == 73 and event.design_id == design_id
    page = bob.get("/consent").get_data(as_text=True)
    as_json = bob.post("/beacon", json={"design_id": design_id, "kind": "scroll", "scroll_depth": 12},
                       headers={**ORIGIN, "X-CSRFToken": csrf_of(page)})
    assert as_json.status_code == 204
    assert sorted(e.scroll_depth for e in _events(store, EventKind.SCROLL)) == [12, 73]


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Referer": "https://evil.example/page"},
     {"Origin": "http://localhost:8080"}, {}],
    ids=["cross-origin", "opaque-origin", "cross-site-referer", "other-port", "no-origin"],
)
def test_the_beacon_refuses_other_origins(bob, design_id, store, headers):
    _choose(bob, "yes")
    response = _beacon(bob, design_id, headers=headers)
    assert response.status_code == 403
    assert _events(store, EventKind.SCROLL) == []


def test_a_same_site_referer_is_enough_without_origin(bob, design_id, store):
    _choose(bob, "yes")
    assert _beacon(bob, design_id, headers={"Referer": f"http://localhost/designs/{design_id}"}).status_code == 204


def test_the_beacon_needs_the_csrf_token(bob, design_id, store):
    _choose(bob, "yes")
    assert _beacon(bob, design_id, with_token=False).status_code == 400
    assert _beacon(bob, design_id, with_token=False, csrf_token="forged").status_code == 400
    assert _events(store, EventKind.SCROLL) == []


@pytest.mark.parametrize(
    ("data", "status"),
    [({"kind": "view"}, 422), ({"scroll_depth": "101"}, 422), ({"scroll_depth": "deep"}, 422),
     ({"extra": "x"}, 422)],
)
def test_the_beacon_checks_its_fields(bob, design_id, store, data, status):
    _choose(bob, "yes")
    page = bob.get("/consent").get_data(as_text=True)
    body = {"design_id": design_id, "kind": "scroll", "scroll_depth": "50", "csrf_token": csrf_of(page), **data}
    assert bob.post("/beacon", data=body, headers=ORIGIN).status_code == status
    assert _events(store, EventKind.SCROLL) == []


def test_the_beacon_needs_a_session(client, design_id):
    _choose(client, "yes")
    assert _beacon(client, design_id).status_code == 401


def test_the_api_never_takes_beacons(client, design_id):
    assert client.post("/api/v1/events", json={"design_id": design_id}).status_code == 404


# -- CSP ------------------------------------------------------------------------------------------------


def test_no_inline_script_or_style_anywhere(bob, design_id, market):
    _choose(bob, "yes")
    owner = market.login("ada@example.com")
    fresh = market.app.test_client()
    pages = [(fresh, "/"), (fresh, "/consent"), (bob, "/catalog"), (bob, f"/designs/{design_id}"), (bob, "/saved"),
             (bob, "/consent"), (owner, "/studio"), (owner, f"/studio/designs/{design_id}"),
             (owner, f"/studio/designs/{design_id}/analytics"), (owner, "/studio/designs/new")]
    for browser, path in pages:
        response = browser.get(path)
        assert response.status_code == 200, path
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        html = response.get_data(as_text=True)
        for tag in re.findall(r"<script[^>]*>", html):
            assert re.search(r'src="/static/[a-z]+\.js"', tag), (path, tag)
        assert not re.search(r"<script[^>]*>\s*[^<\s]", html), path
        assert "style=" not in html and "<style" not in html, path
        assert " on" not in re.sub(r'"[^"]*"', '""', "".join(re.findall(r"<[a-z][^>]*>", html))), path
        assert "http://" not in html and "https://" not in html, path
        assert post_forms(html) == html.count('name="csrf_token"'), path
    for script in ("consent.js", "beacon.js"):
        response = bob.get(f"/static/{script}")
        assert response.status_code == 200 and response.mimetype in ("text/javascript", "application/javascript")
