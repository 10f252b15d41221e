"""The account page: rectifying details, the designer profile, and the pages around it."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from caratzon_core.access import Actor
from caratzon_core.privacy import INITIAL_POLICY_VERSION


def _field_error(html: str, field: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{field}-error" role="alert">([^<]*)</p>', html)
    return unescape(match.group(1)) if match else None


def test_account_page_needs_login(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_edit_details(web):
    browser = web.signed_in()
    response = web.account_form(browser, form="details", name="Augusta Ada King",
                                business_name="King Jewels", business_address="", language="zh-Hant")
    assert response.status_code == 302
    page = browser.get("/account").get_data(as_text=True)
    assert "Your details are saved." in page
    assert 'value="Augusta Ada King"' in page
    assert 'value="King Jewels"' in page
    assert '<option value="zh-Hant" lang="zh-Hant" selected>' in page


def test_bad_details_rerender_with_the_error_and_the_entered_values(web):
    browser = web.signed_in()
    response = web.account_form(browser, form="details", name=" ", business_name="Typed But Refused",
                                business_address="", language="en")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _field_error(html, "name") == "Name is required."
    assert 'value="Typed But Refused"' in html
    assert 'value="Ada Lovelace"' not in html.split('id="details"')[1].split("</form>")[0]
    # Nothing changed.
    assert 'value="Lovelace Fine Jewels Ltd"' in browser.get("/account").get_data(as_text=True)


def test_designer_edits_the_profile(web):
    browser = web.signed_in()
    page = browser.get("/account").get_data(as_text=True)
    assert 'id="profile"' in page
    response = web.account_form(browser, form="profile", biography="Goldsmith since 2009.",
                                brand_description="Quiet, wearable <pieces>.", credentials="GIA GG")
    assert response.status_code == 302
    page = browser.get("/account").get_data(as_text=True)
    assert "Goldsmith since 2009." in page
    assert "Quiet, wearable &lt;pieces&gt;." in page  # escaped
    accounts = web.services.accounts
    (ada,) = accounts.list_users(Actor.cli_operator())
    assert accounts.get_profile(ada.id).credentials == "GIA GG"


def test_a_buyer_has_no_designer_profile(web):
    browser = web.signed_in(role="buyer")
    page = browser.get("/account").get_data(as_text=True)
    assert 'id="profile"' not in page
    assert "Designer profile" not in browser.get("/").get_data(as_text=True)
    response = web.account_form(browser, form="profile", biography="x", brand_description="", credentials="")
    assert response.status_code == 403
    assert "Only designers may edit a designer profile." in response.get_data(as_text=True)


def test_an_unknown_account_form_is_422(web):
    browser = web.signed_in()
    assert web.account_form(browser, form="delete-everything").status_code == 422


# -- other pages -----------------------------------------------------------------------------------


def test_home_page_explains_and_links_by_role(web, client):
    html = client.get("/").get_data(as_text=True)
    assert "Designers" in html and "buyers" in html and "Manufacturers" in html
    assert 'href="/signup?role=designer"' in html and 'href="/login"' in html
    designer = web.signed_in().get("/").get_data(as_text=True)
    assert 'href="/account#profile"' in designer and 'href="/signup' not in designer
    manufacturer = web.signed_in(email="m@example.com", role="manufacturer").get("/").get_data(as_text=True)
    assert "production orders" in manufacturer and 'href="/account#profile"' not in manufacturer


def test_privacy_page_shows_version_date_and_controller(client):
    response = client.get("/legal/privacy")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Version {INITIAL_POLICY_VERSION}" in html
    assert "4 March 2026" in html
    assert "Clean Jewel Beyond Limited" in html and "privacy@caratzon.com" in html
    assert 'href="/legal/privacy"' in client.get("/").get_data(as_text=True)  # footer link


def test_signed_in_people_skip_the_login_and_signup_pages(web):
    browser = web.signed_in()
    assert browser.get("/login").headers["Location"] == "/account"
    assert browser.get("/signup").headers["Location"] == "/account"


# -- markup ------------------------------------------------------------------------------------------


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.label_targets: list[str] = []
        self.described: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            self.problems.append(f"duplicate attribute on <{tag}>: {names}")
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(values["id"])
        if tag == "label" and values.get("for"):
            self.label_targets.append(values["for"])
        if values.get("aria-describedby"):
            self.described.extend(values["aria-describedby"].split())


def _check_markup(html: str) -> None:
    checker = _Checker()
    checker.feed(html)
    assert not checker.problems
    assert len(checker.ids) == len(set(checker.ids)), "duplicate ids"
    assert set(checker.label_targets) <= set(checker.ids), "a label points nowhere"
    assert set(checker.described) <= set(checker.ids), "aria-describedby points nowhere"


def test_pages_are_well_formed_with_and_without_errors(web, client):
    for path in ("/", "/signup", "/login", "/legal/privacy", "/no-such-page"):
        _check_markup(client.get(path).get_data(as_text=True))
    bad = web.signup_form(client, date_of_birth="2020-01-01")
    assert bad.status_code == 422
    _check_markup(bad.get_data(as_text=True))
    _check_markup(web.signup_form(client, password="short").get_data(as_text=True))
    browser = web.signed_in()
    _check_markup(browser.get("/account").get_data(as_text=True))
    _check_markup(web.account_form(browser, form="details", name="", business_name="", business_address="",
                                   language="en").get_data(as_text=True))
    _check_markup(web.account_form(browser, form="close").get_data(as_text=True))


def test_objecting_to_ai_processing_on_the_account_page(web):
    """P40: the objection is stored with its time, shown ticked, and can be lifted."""
    browser = web.signed_in()
    assert web.account_form(browser, form="ai", object_to_ai="yes").status_code == 302
    assert "Nothing of yours will be sent to AI services." in browser.get("/account").get_data(as_text=True)
    user = web.services.accounts.list_users(Actor.cli_operator())[0]
    assert user.ai_objection_at == web.clock.now()
    page = browser.get("/account").get_data(as_text=True)
    assert 'name="object_to_ai" value="yes" checked' in page
    web.account_form(browser, form="ai")  # the box left unticked
    assert web.services.accounts.list_users(Actor.cli_operator())[0].ai_objection_at is None
