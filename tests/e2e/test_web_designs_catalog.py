"""The catalog, design pages, designer profiles and saved lists: filters, sort,
cursor and facets through the API and the pages; drafts never listed; production
CAD only for its owner; a buyer's identity never shown."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from test_web_designs_support import (  # noqa: F401
    CUBE_STL,
    bearer,
    check_markup,
    csrf_of,
    market_fixture,
    post_forms,
    services_fixture,
)


@pytest.fixture
def ada(market):
    return market.token("ada@example.com", "designer", "Ada Lovelace")


@pytest.fixture
def bob(market):
    return market.token("bob@example.com", "buyer", "Bob Buyer")


@pytest.fixture
def shop(market, ada, clock, client):
    """Four published designs, one a minute, and a draft and a withdrawn design."""
    grace = market.token("grace@example.com", "designer", "Grace Hopper")
    designs = {}
    for key, token, overrides in [
        ("ring", ada, {"title": "Deco ring", "category": "ring", "metals": ["platinum_950"],
                       "price": {"amount": "1250.00", "currency": "USD"}}),
        ("pendant", ada, {"title": "Moon pendant", "category": "pendant", "metals": ["18k_yellow"],
                          "gemstones": [{"type": "sapphire", "count": 3, "carat": "0.9"}], "tags": ["celestial"],
                          "price": {"amount": "480.00", "currency": "USD"}}),
        ("studs", grace, {"title": "Pearl studs", "category": "earrings", "metals": ["18k_yellow"],
                          "gemstones": [{"type": "pearl"}], "price": {"amount": "3900", "currency": "HKD"}}),
        ("band", grace, {"title": "Plain band", "category": "ring", "metals": ["18k_yellow", "platinum_950"],
                         "gemstones": [], "tags": [], "price": None}),
    ]:
        clock.advance(timedelta(minutes=1))
        designs[key] = market.published(token, **overrides)["id"]
    designs["draft"] = market.create(ada, title="Secret draft ring")["id"]
    designs["withdrawn"] = market.published(ada, title="Withdrawn ring")["id"]
    assert client.post(f"/api/v1/designs/{designs['withdrawn']}/withdraw", headers=bearer(ada)).status_code == 200
    return designs


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.json["items"]]


# -- the API -----------------------------------------------------------------------------------------


def test_catalog_lists_published_designs_newest_first_with_facets(client, shop, bob):
    response = client.get("/api/v1/catalog", headers=bearer(bob))
    assert _ids(response) == [shop["band"], shop["studs"], shop["pendant"], shop["ring"]]
    first = response.json["items"][-1]
    assert first["title"] == "Deco ring" and first["category"] == "ring"
    assert first["designer"]["name"] == "Ada Lovelace"
    assert first["price"] == {"amount": "1250.00", "currency": "USD"}
    assert first["views"] == 0 and first["saves"] == 0
    assert first["thumbnail"]["url"].startswith("http://localhost/blobs/designs/")
    assert client.get(first["thumbnail"]["url"]).status_code == 200
    assert response.json["next_cursor"] is None
    facets = response.json["facets"]
    assert facets["category"] == {"ring": 2, "pendant": 1, "earrings": 1}
    assert facets["metal"] == {"platinum_950": 2, "18k_yellow": 3}
    assert facets["gemstone"] == {"diamond": 1, "sapphire": 1, "pearl": 1}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=ring", ["band", "ring"]),
        ("metal=18k_yellow", ["band", "studs", "pendant"]),
        ("gemstone=pearl", ["studs"]),
        ("q=moon", ["pendant"]),
        ("q=grace", ["band", "studs"]),  # the designer's name
        ("tags=celestial", ["pendant"]),
        ("price_min=500&price_max=2000&currency=USD", ["ring"]),
        ("price_max=500", ["pendant"]),  # USD when no currency is given
        ("price_min=1000&currency=HKD", ["studs"]),
        ("sort=price_asc", ["pendant", "ring", "studs", "band"]),
        ("category=ring&metal=platinum_950&sort=price_desc", ["ring", "band"]),
    ],
)
def test_catalog_filters_and_sorts(client, shop, bob, query, expected):
    assert _ids(client.get(f"/api/v1/catalog?{query}", headers=bearer(bob))) == [shop[k] for k in expected]


def test_facets_count_everything_the_other_filters_allow(client, shop, bob):
    facets = client.get("/api/v1/catalog?category=ring", headers=bearer(bob)).json["facets"]
    assert facets["category"] == {"ring": 2, "pendant": 1, "earrings": 1}  # its own filter left out
    assert facets["metal"] == {"platinum_950": 2, "18k_yellow": 1}


def test_the_cursor_pages_through_without_repeats(client, shop, bob):
    seen, cursor = [], None
    for _ in range(5):
        url = "/api/v1/catalog?limit=3&sort=price_asc" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, headers=bearer(bob))
        seen += _ids(response)
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
    assert seen == [shop[k] for k in ("pendant", "ring", "studs", "band")]
    bad = client.get("/api/v1/catalog?cursor=garbage", headers=bearer(bob))
    assert bad.status_code == 422 and bad.json["error"]["field"] == "cursor"


@pytest.mark.parametrize(
    ("query", "field"),
    [("category=tiara", "category"), ("metal=bronze", "metal"), ("sort=random", "sort"), ("limit=101", "limit"),
     ("limit=x", "limit"), ("price_min=abc", "price_min"), ("price_min=9&price_max=1", "price_min"),
     ("currency=XYZ&price_min=1", "currency"), ("metals=18k_yellow", "metals")],
)
def test_bad_catalog_parameters_are_422_naming_them(client, shop, bob, query, field):
    response = client.get(f"/api/v1/catalog?{query}", headers=bearer(bob))
    assert response.status_code == 422
    assert response.json["error"]["field"] == field


def test_drafts_and_withdrawn_designs_are_never_listed(client, shop, ada, bob):
    for token in (ada, bob):
        ids = _ids(client.get("/api/v1/catalog?limit=100", headers=bearer(token)))
        assert shop["draft"] not in ids and shop["withdrawn"] not in ids
        ids = _ids(client.get("/api/v1/catalog?q=secret", headers=bearer(token)))
        assert ids == []
    response = client.get(f"/api/v1/designs/{shop['draft']}", headers=bearer(bob))
    assert response.status_code == 403 and response.json["error"]["message"] == "This design is not published."


# -- the pages -----------------------------------------------------------------------------------------


@pytest.fixture
def buyer(market, shop):
    return market.browser("bea@example.com", "buyer", "Bea Trader")


def test_catalog_page_filters_with_facets_and_cards(buyer, shop):
    html = buyer.get("/catalog").get_data(as_text=True)
    assert '<form method="get" action="/catalog"' in html
    assert "Ring (2)" in html and "Pendant (1)" in html and "Bracelet (0)" in html
    assert "18k yellow gold (3)" in html and "Pearl (1)" in html
    for title in ("Deco ring", "Moon pendant", "Pearl studs", "Plain band"):
        assert title in html
    assert "Secret draft ring" not in html and "Withdrawn ring" not in html
    assert "USD 1,250.00" in html and "HKD 3,900.00" in html and "Price on request" in html
    assert "by <a href=\"/designers/" in html and ">Ada Lovelace</a>" in html
    thumbs = re.findall(r'<img src="(/blobs/designs/[^"]+)"', html)
    assert len(thumbs) == 4
    assert buyer.get(thumbs[0].replace("&amp;", "&")).status_code == 200

    filtered = buyer.get("/catalog?category=ring&sort=price_desc").get_data(as_text=True)
    assert filtered.index("Deco ring") < filtered.index("Plain band")
    assert "Moon pendant" not in filtered
    assert '<option value="ring" selected>' in filtered


def test_catalog_page_next_page_link_carries_the_cursor_and_filters(buyer, shop):
    html = buyer.get("/catalog?metal=18k_yellow&limit=2").get_data(as_text=True)
    match = re.search(r'<a class="button" href="([^"]+)" rel="next">Next page</a>', html)
    assert match
    url = match.group(1).replace("&amp;", "&")
    params = parse_qs(urlsplit(url).query)
    assert params["metal"] == ["18k_yellow"] and params["cursor"]
    second = buyer.get(url).get_data(as_text=True)
    assert "Moon pendant" in second and "Plain band" not in second
    assert "rel=\"next\"" not in second


def test_a_bad_filter_shows_the_problem_by_the_field(buyer, shop):
    response = buyer.get("/catalog?price_min=abc")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="price_min-error"' in html and 'value="abc"' in html


def test_design_page_for_a_buyer(buyer, shop, market, ada, store, client):
    cad = market.uploaded(ada, shop["pendant"], "moon.stl", CUBE_STL, kind="cad", visibility="production")
    preview = market.uploaded(ada, shop["pendant"], "moon-preview.stl", CUBE_STL, kind="cad", visibility="preview")
    html = buyer.get(f"/designs/{shop['pendant']}").get_data(as_text=True)
    assert "<h1>Moon pendant</h1>" in html
    assert re.search(r'<img src="/blobs/designs/[^"]+" alt="Moon pendant, image 1"', html)
    assert "Sapphire" in html and "0.9" in html and "18k yellow gold" in html
    assert f'href="/designers/{market.user_id("ada@example.com")}"' in html
    assert "moon-preview.stl" in html and "Download preview" in html
    assert "moon.stl" not in html and cad["id"] not in html  # production CAD: not even listed
    assert "Save to my list" in html

    refused = buyer.get(f"/assets/{cad['id']}/download")
    assert refused.status_code == 403
    assert "Production CAD files are only for the design" in refused.get_data(as_text=True)
    allowed = buyer.get(f"/assets/{preview['id']}/download")
    assert allowed.status_code == 303 and allowed.headers["Location"].startswith("/blobs/designs/")


def test_the_owner_downloads_production_cad_from_the_design_page(market, shop, ada, store):
    cad = market.uploaded(ada, shop["ring"], "deco.stl", CUBE_STL, kind="cad", visibility="production")
    owner = market.login("ada@example.com")
    html = owner.get(f"/designs/{shop['ring']}").get_data(as_text=True)
    assert "deco.stl" in html and f'href="/assets/{cad["id"]}/download"' in html
    assert "Edit in the studio" in html and "Save to my list" not in html
    response = owner.get(f"/assets/{cad['id']}/download")
    assert response.status_code == 303
    served = owner.get(response.headers["Location"])
    assert served.status_code == 200 and served.data == CUBE_STL
    assert "deco.stl" in served.headers["Content-Disposition"]
    assert [e.action for e in store.state.audit].count("asset.production_link") == 1


def test_saving_and_the_saved_list(buyer, shop, store):
    page = buyer.get(f"/designs/{shop['studs']}").get_data(as_text=True)
    response = buyer.post(f"/designs/{shop['studs']}/save", data={"csrf_token": csrf_of(page), "saved": "yes"})
    assert response.status_code == 303 and response.headers["Location"] == f"/designs/{shop['studs']}"
    assert "Unsave" in buyer.get(f"/designs/{shop['studs']}").get_data(as_text=True)
    saved = buyer.get("/saved").get_data(as_text=True)
    assert "Pearl studs" in saved and "HKD 3,900.00" in saved
    buyer.post(f"/designs/{shop['studs']}/save", data={"csrf_token": csrf_of(page), "saved": "no"})
    assert "Pearl studs" not in buyer.get("/saved").get_data(as_text=True)
    assert "Nothing saved yet" in buyer.get("/saved").get_data(as_text=True)


def test_designers_cannot_save(market, shop):
    ada = market.login("ada@example.com")
    page = ada.get(f"/designs/{shop['studs']}").get_data(as_text=True)
    response = ada.post(f"/designs/{shop['studs']}/save", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 403


def test_designer_profile_page(buyer, shop, market, ada, client):
    owner = market.login("ada@example.com")
    token = csrf_of(owner.get("/account").get_data(as_text=True))
    owner.post("/account", data={"form": "profile", "biography": "Trained in Antwerp.",
                                 "brand_description": "Quiet luxury.", "credentials": "GIA GG",
                                 "csrf_token": token})
    html = buyer.get(f"/designers/{market.user_id('ada@example.com')}").get_data(as_text=True)
    assert "<h1>Ada Lovelace</h1>" in html
    assert "Trained in Antwerp." in html and "Quiet luxury." in html and "GIA GG" in html
    assert "Deco ring" in html and "Moon pendant" in html
    assert "Pearl studs" not in html and "Secret draft ring" not in html
    assert buyer.get(f"/designers/{market.user_id('bea@example.com')}").status_code == 404
    assert buyer.get("/designers/nobody").status_code == 404


def test_a_buyers_identity_is_never_shown(buyer, shop, market, ada, client):
    bob_token = market.token("zed@example.com", "buyer", "Zed Zimmerman")
    client.post(f"/api/v1/designs/{shop['ring']}/save", headers=bearer(bob_token))
    page = buyer.get(f"/designs/{shop['ring']}").get_data(as_text=True)
    token = csrf_of(page)
    buyer.post(f"/designs/{shop['ring']}/save", data={"csrf_token": token})
    owner = market.login("ada@example.com")
    pages = [owner.get(p).get_data(as_text=True) for p in (
        f"/designs/{shop['ring']}", f"/studio/designs/{shop['ring']}", f"/studio/designs/{shop['ring']}/analytics",
        "/studio", "/catalog", f"/designers/{market.user_id('ada@example.com')}")]
    pages.append(client.get(f"/api/v1/designs/{shop['ring']}", headers=bearer(ada)).get_data(as_text=True))
    pages.append(client.get("/api/v1/catalog", headers=bearer(ada)).get_data(as_text=True))
    for html in pages:
        for secret in ("Zed", "zed@example.com", "Bea Trader", "bea@example.com", market.user_id("bea@example.com")):
            assert secret not in html


def test_catalog_pages_need_login(client, shop):
    for path in ("/catalog", f"/designs/{shop['ring']}", "/saved", "/designers/x", "/assets/x/download"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path


def test_every_catalog_form_posts_with_a_csrf_token(buyer, shop, market):
    owner = market.login("ada@example.com")
    for browser, path in [(buyer, "/catalog"), (buyer, f"/designs/{shop['ring']}"), (buyer, "/saved"),
                          (buyer, f"/designers/{market.user_id('ada@example.com')}"),
                          (owner, f"/designs/{shop['ring']}")]:
        html = browser.get(path).get_data(as_text=True)
        assert post_forms(html) == html.count('name="csrf_token"'), path
        assert html.count("<form") == post_forms(html) + html.count('<form method="get"'), path


def test_catalog_pages_are_well_formed(buyer, shop, market):
    for path in ("/catalog", "/catalog?category=ring&metal=18k_yellow&sort=price_asc", "/catalog?price_min=x&sort=y",
                 f"/designs/{shop['pendant']}", "/saved", f"/designers/{market.user_id('ada@example.com')}"):
        check_markup(buyer.get(path).get_data(as_text=True))
