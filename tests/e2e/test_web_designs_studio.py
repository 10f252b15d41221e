"""The designer studio in the browser: create, upload an image and an STL, see
the analysis with weights per alloy, publish, withdraw, remove; every form
with CSRF, problems shown by the field, and nothing stored on a failure."""

from __future__ import annotations

import io
import re

import pytest
from test_web_designs_support import (  # noqa: F401
    CUBE_STL,
    PNG,
    STEP,
    assert_nothing_stored,
    check_markup,
    csrf_of,
    make_designs_app_fixture,
    market_fixture,
    post_forms,
    services_fixture,
)

from caratzon_core.designs import DesignStatus


def _form(**overrides):
    data = {
        "title": "Art deco solitaire",
        "description": "A stepped platinum setting.",
        "category": "ring",
        "metals": ["platinum_950", "18k_white"],
        "gem_type_0": "diamond", "gem_origin_0": "lab_grown", "gem_carat_0": "1.20", "gem_count_0": "1",
        "gem_type_1": "sapphire", "gem_origin_1": "natural", "gem_carat_1": "0.30", "gem_count_1": "6",
        "gem_type_2": "", "gem_origin_2": "natural", "gem_carat_2": "", "gem_count_2": "",
        "width_mm": "18.5", "height_mm": "22", "depth_mm": "",
        "tags": "Art Deco, solitaire , ",
        "price_amount": "1250.00", "price_currency": "USD",
    }
    data.update(overrides)
    return data


@pytest.fixture
def ada(market):
    return market.browser("ada@example.com", "designer", "Ada Lovelace")


def _new_design(browser, **overrides) -> str:
    token = csrf_of(browser.get("/studio/designs/new").get_data(as_text=True))
    response = browser.post("/studio/designs/new", data={**_form(**overrides), "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)
    match = re.fullmatch(r"/studio/designs/([^/]+)", response.headers["Location"])
    assert match
    return match.group(1)


def _upload(browser, design_id, filename, data, kind="image", visibility="preview"):
    token = csrf_of(browser.get(f"/studio/designs/{design_id}").get_data(as_text=True))
    return browser.post(f"/studio/designs/{design_id}/assets",
                        data={"file": (io.BytesIO(data), filename), "kind": kind, "visibility": visibility,
                              "csrf_token": token},
                        content_type="multipart/form-data")


def _post(browser, design_id, action, **data):
    token = csrf_of(browser.get(f"/studio/designs/{design_id}").get_data(as_text=True))
    return browser.post(f"/studio/designs/{design_id}/{action}", data={**data, "csrf_token": token})


def test_studio_journey(ada, store):
    studio = ada.get("/studio")
    assert studio.status_code == 200
    assert "You have no designs yet" in studio.get_data(as_text=True)

    form = ada.get("/studio/designs/new").get_data(as_text=True)
    for name in ("title", "description", "category", "width_mm", "height_mm", "depth_mm", "tags",
                 "price_amount", "price_currency"):
        assert f'name="{name}"' in form, name
    assert form.count('name="metals"') == 8
    assert all(f'name="gem_{f}_{i}"' in form for f in ("type", "origin", "carat", "count") for i in range(3))

    design_id = _new_design(ada)
    design = store.state.designs[design_id]
    assert design.status is DesignStatus.DRAFT
    assert design.tags == ("art deco", "solitaire")
    assert [(g.type, str(g.carat), g.count) for g in design.gemstones] == [("diamond", "1.20", 1),
                                                                            ("sapphire", "0.30", 6)]
    assert design.price_guidance is not None and design.price_guidance.format() == "USD 1,250.00"

    page = ada.get(f"/studio/designs/{design_id}").get_data(as_text=True)
    assert 'value="Art deco solitaire"' in page
    assert 'value="art deco, solitaire"' in page
    assert 'value="1250.00"' in page
    assert page.count('<select name="gem_type_') == 3  # two stones and one empty line

    response = _upload(ada, design_id, "front.png", PNG)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/studio/designs/{design_id}#assets"
    response = _upload(ada, design_id, "ring.stl", CUBE_STL, kind="cad", visibility="production")
    assert response.status_code == 303
    response = _upload(ada, design_id, "ring.3dm", b"3D Geometry File Format", kind="cad", visibility="production")
    assert response.status_code == 303

    page = ada.get(f"/studio/designs/{design_id}").get_data(as_text=True)
    assert "front.png" in page and "ring.stl" in page
    assert "Estimated metal weight per alloy" in page
    assert re.search(r"18k yellow gold</td>\s*<td class=\"num\">17.14</td>", page)
    assert re.search(r"Platinum 950</td>\s*<td class=\"num\">23.10</td>", page)
    assert "1,000.0 mm³" in page
    assert "10.00 \u00d7 10.00 \u00d7 10.00 mm" in page
    assert "Thinnest wall" in page and "about 10.00 mm" in page
    assert "Watertight</dt><dd>Yes" in page
    assert "Not analysed." in page  # the .3dm
    assert "assume the model was exported in millimetres" in page
    assert 'src="/blobs/designs/' in page  # the image's thumbnail, by a signed link

    response = _post(ada, design_id, "publish")
    assert response.status_code == 303
    assert store.state.designs[design_id].status is DesignStatus.PUBLISHED
    listing = ada.get("/studio").get_data(as_text=True)
    assert "Art deco solitaire" in listing and "badge-published" in listing

    response = _post(ada, design_id, "withdraw")
    assert response.status_code == 303
    assert store.state.designs[design_id].status is DesignStatus.WITHDRAWN

    response = _post(ada, design_id, "remove")  # not confirmed
    assert response.status_code == 422
    assert "Tick the box to confirm" in response.get_data(as_text=True)
    assert store.state.designs[design_id].status is DesignStatus.WITHDRAWN

    response = _post(ada, design_id, "remove", confirm="yes")
    assert response.status_code == 303 and response.headers["Location"] == "/studio"
    assert store.state.designs[design_id].status is DesignStatus.REMOVED
    assert "Art deco solitaire" not in ada.get("/studio").get_data(as_text=True)
    assert ada.get(f"/studio/designs/{design_id}").status_code == 404


def test_the_list_page_publishes_and_withdraws_in_place(ada, store):
    design_id = _new_design(ada)
    _upload(ada, design_id, "front.png", PNG)
    listing = ada.get("/studio").get_data(as_text=True)
    token = csrf_of(listing)
    response = ada.post(f"/studio/designs/{design_id}/publish", data={"csrf_token": token, "next": "/studio"})
    assert response.status_code == 303 and response.headers["Location"] == "/studio"
    assert store.state.designs[design_id].status is DesignStatus.PUBLISHED
    response = ada.post(f"/studio/designs/{design_id}/withdraw",
                        data={"csrf_token": token, "next": "https://evil.example/"})
    assert response.headers["Location"] == f"/studio/designs/{design_id}"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"category": "tiara"}, "category", "Unknown category &#39;tiara&#39;"),
        ({"metals": ["bronze"]}, "metals", "Unknown metal &#39;bronze&#39;"),
        ({"title": "  "}, "title", "itle"),
        ({"gem_type_0": "glass"}, "gemstones", "Unknown gemstone"),
        ({"width_mm": "wide"}, "dimensions", "must be a number"),
        ({"price_amount": "12.345"}, "price_amount", "at most 2 decimal places"),
        ({"price_currency": "XYZ"}, "price_currency", "Unknown currency"),
        ({"tags": "ok, <b>"}, "tags", "is not allowed"),
    ],
)
def test_bad_input_comes_back_with_the_message_by_the_field(ada, store, overrides, field, message):
    token = csrf_of(ada.get("/studio/designs/new").get_data(as_text=True))
    response = ada.post("/studio/designs/new", data={**_form(**overrides), "csrf_token": token})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html
    assert 'value="18.5"' in html or field == "dimensions"  # what was entered comes back
    assert store.state.designs == {}


def test_the_form_shows_every_problem_at_once(ada):
    token = csrf_of(ada.get("/studio/designs/new").get_data(as_text=True))
    response = ada.post("/studio/designs/new",
                        data={**_form(title="", category="tiara", metals=["bronze"]), "csrf_token": token})
    html = response.get_data(as_text=True)
    assert all(f'id="{f}-error"' in html for f in ("title", "category", "metals"))


def test_editing_changes_and_clears_fields(ada, store):
    design_id = _new_design(ada)
    token = csrf_of(ada.get(f"/studio/designs/{design_id}").get_data(as_text=True))
    response = ada.post(f"/studio/designs/{design_id}",
                        data={**_form(title="Renamed", price_amount="", metals=[], gem_type_1=""),
                              "csrf_token": token})
    assert response.status_code == 303
    design = store.state.designs[design_id]
    assert design.title == "Renamed"
    assert design.price_guidance is None
    assert design.metals == ()
    assert [g.type for g in design.gemstones] == ["diamond"]


def test_upload_problems_show_on_the_page_and_store_nothing(ada, store, config):
    design_id = _new_design(ada)
    for filename, data, kind, fragment in [
        ("front.jpg", PNG, "image", "is image/png but is named .jpg"),
        ("front.png", b"", "image", "The file is empty."),
        ("ring.stl", b"not a mesh", "cad", "not a valid STL"),
        ("a\x01b.png", PNG, "image", "control characters"),
    ]:
        response = _upload(ada, design_id, filename, data, kind)
        assert response.status_code == 422, filename
        html = response.get_data(as_text=True)
        assert 'id="file-error"' in html and fragment in html
        assert_nothing_stored(store, config)
    response = ada.post(f"/studio/designs/{design_id}/assets",
                        data={"kind": "image", "csrf_token": csrf_of(ada.get("/studio").get_data(as_text=True))},
                        content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a file to upload." in response.get_data(as_text=True)


def test_too_large_uploads_are_413_pages(make_designs_app, market, store):
    app = make_designs_app(CARATZON_MAX_IMAGE_MB="1", CARATZON_MAX_CAD_MB="1")
    market.app = app
    ada = market.browser("ada@example.com")
    design_id = _new_design(ada)
    response = _upload(ada, design_id, "big.png", PNG + b"\x00" * (1024 * 1024))
    assert response.status_code == 413
    assert "The file is larger than the 1 MB limit." in response.get_data(as_text=True)
    response = _upload(ada, design_id, "huge.stl", CUBE_STL + b" " * (2 * 1024 * 1024), kind="cad")
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "larger than the 2 MB this address accepts" in response.get_data(as_text=True)
    assert_nothing_stored(store, app.extensions["caratzon"].config)


def test_publishing_without_a_preview_image_explains_why(ada, store):
    design_id = _new_design(ada)
    _upload(ada, design_id, "ring.step", STEP, kind="cad", visibility="production")
    response = _post(ada, design_id, "publish")
    assert response.status_code == 422
    assert "Add at least one preview image before publishing." in response.get_data(as_text=True)
    assert store.state.designs[design_id].status is DesignStatus.DRAFT


def test_someone_elses_design_is_403_with_the_reason(market, ada, store):
    design_id = _new_design(ada)
    _upload(ada, design_id, "front.png", PNG)
    assert _post(ada, design_id, "publish").status_code == 303
    grace = market.browser("grace@example.com", "designer", "Grace Hopper")
    reason = "Only the designer who owns a design may edit it."
    page = grace.get(f"/studio/designs/{design_id}")
    assert page.status_code == 403 and reason in page.get_data(as_text=True)
    token = csrf_of(grace.get("/studio").get_data(as_text=True))
    for action, data in [("", _form(title="Mine")), ("/withdraw", {}), ("/remove", {"confirm": "yes"})]:
        response = grace.post(f"/studio/designs/{design_id}{action}", data={**data, "csrf_token": token})
        assert response.status_code == 403, action
        assert reason in response.get_data(as_text=True)
    response = grace.post(f"/studio/designs/{design_id}/assets",
                          data={"file": (io.BytesIO(PNG), "x.png"), "kind": "image", "csrf_token": token},
                          content_type="multipart/form-data")
    assert response.status_code == 403
    assert store.state.designs[design_id].title == "Art deco solitaire"
    assert store.state.designs[design_id].status is DesignStatus.PUBLISHED
    assert grace.get(f"/studio/designs/{design_id}/analytics").status_code == 403


def test_buyers_have_no_studio(market):
    bob = market.browser("bob@example.com", "buyer", "Bob Buyer")
    for path in ("/studio", "/studio/designs/new"):
        response = bob.get(path)
        assert response.status_code == 403
        assert "Only designers may create designs." in response.get_data(as_text=True)
    assert "/studio" not in bob.get("/").get_data(as_text=True)


def test_the_studio_needs_login(client):
    response = client.get("/studio")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/studio")


def test_analytics_page_has_a_row_for_each_of_the_last_30_days(ada):
    design_id = _new_design(ada)
    html = ada.get(f"/studio/designs/{design_id}/analytics").get_data(as_text=True)
    assert html.count('<time datetime="2026-') == 30
    assert '<time datetime="2026-11-27">' in html and '<time datetime="2026-10-29">' in html
    assert "Median scroll depth" in html


def test_every_studio_form_posts_with_a_csrf_token(ada):
    design_id = _new_design(ada)
    _upload(ada, design_id, "front.png", PNG)
    for path in ("/studio", "/studio/designs/new", f"/studio/designs/{design_id}",
                 f"/studio/designs/{design_id}/analytics"):
        html = ada.get(path).get_data(as_text=True)
        assert post_forms(html) == html.count('name="csrf_token"'), path
    page = ada.get(f"/studio/designs/{design_id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert post_forms(page) >= 5  # logout, details, upload, publish, remove (+ the cookie banner)


def test_forged_csrf_on_studio_forms_changes_nothing(ada, store, config):
    design_id = _new_design(ada)
    assert ada.post(f"/studio/designs/{design_id}", data=_form(title="Forged")).status_code == 400
    response = ada.post(f"/studio/designs/{design_id}/assets", data={"file": (io.BytesIO(PNG), "x.png"),
                                                                       "kind": "image", "csrf_token": "forged"},
                        content_type="multipart/form-data")
    assert response.status_code == 400
    assert ada.post(f"/studio/designs/{design_id}/remove", data={"confirm": "yes"}).status_code == 400
    assert store.state.designs[design_id].title == "Art deco solitaire"
    assert store.state.designs[design_id].status is DesignStatus.DRAFT
    assert_nothing_stored(store, config)


def test_studio_pages_are_well_formed_with_and_without_errors(ada, market):
    design_id = _new_design(ada)
    _upload(ada, design_id, "front.png", PNG)
    _upload(ada, design_id, "ring.stl", CUBE_STL, kind="cad", visibility="production")
    for path in ("/studio", "/studio/designs/new", f"/studio/designs/{design_id}",
                 f"/studio/designs/{design_id}/analytics", f"/designs/{design_id}", "/consent"):
        check_markup(ada.get(path).get_data(as_text=True))
    token = csrf_of(ada.get("/studio").get_data(as_text=True))
    for response in (
        ada.post("/studio/designs/new", data={**_form(title="", category="x", metals=["y"], tags="<",
                                                     width_mm="z", price_amount="q"), "csrf_token": token}),
        ada.post(f"/studio/designs/{design_id}/assets", data={"file": (io.BytesIO(b""), "e.png"), "kind": "image",
                                                              "csrf_token": token},
                 content_type="multipart/form-data"),
        ada.post(f"/studio/designs/{design_id}/remove", data={"csrf_token": token}),
    ):
        assert response.status_code == 422
        check_markup(response.get_data(as_text=True))
