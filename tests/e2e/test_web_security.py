"""CSRF, cookie flags, security headers and the proxy setting."""

from __future__ import annotations

import re

import pytest

CSRF_TEXT = "This form was not sent from a Caratzon page, or it expired"


def _set_cookie(response) -> str:
    cookies = [v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("caratzon_session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


# -- CSRF -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "forged-token", "FOREIGN"], ids=["missing", "forged", "other-session"])
def test_forged_csrf_on_signup_is_400_and_nothing_written(web, client, token):
    if token == "FOREIGN":
        token = web.csrf(web.client(), "/signup")  # valid, but for another browser
    client.get("/signup")
    data = web.signup_data()
    if token:
        data["csrf_token"] = token
    response = client.post("/signup", data=data)
    assert response.status_code == 400
    assert CSRF_TEXT in response.get_data(as_text=True)
    assert web.user_count() == 0


@pytest.mark.parametrize("token", [None, "forged-token", "FOREIGN"], ids=["missing", "forged", "other-session"])
def test_forged_csrf_on_login_is_400_and_no_login(web, client, token):
    assert web.signup_api(web.client()).status_code == 201
    if token == "FOREIGN":
        token = web.csrf(web.client(), "/login")
    client.get("/login")
    data = {"email": "ada@example.com", "password": web.PASSWORD}
    if token:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code == 400
    assert CSRF_TEXT in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("token", [None, "forged-token", "FOREIGN"], ids=["missing", "forged", "other-session"])
def test_forged_csrf_on_the_account_forms_is_400_and_nothing_changes(web, token):
    victim = web.signed_in()
    if token == "FOREIGN":
        token = web.csrf(web.signed_in(email="mallory@example.com", name="Mallory"), "/account")
    for form in (
        {"form": "details", "name": "Hacked", "business_name": "", "business_address": "", "language": "en"},
        {"form": "profile", "biography": "Hacked", "brand_description": "", "credentials": ""},
        {"form": "password", "current_password": web.PASSWORD, "new_password": web.OTHER_PASSWORD,
         "new_password_confirm": web.OTHER_PASSWORD},
        {"form": "close", "confirm": "yes"},
    ):
        if token:
            form["csrf_token"] = token
        response = victim.post("/account", data=form)
        assert response.status_code == 400, form["form"]
        assert CSRF_TEXT in response.get_data(as_text=True)
    page = victim.get("/account")
    assert page.status_code == 200
    assert "Hacked" not in page.get_data(as_text=True)
    assert web.login_form(web.client()).status_code == 302  # password unchanged, account open


def test_forged_csrf_on_logout_is_400_and_keeps_the_session(web):
    browser = web.signed_in()
    assert browser.post("/logout").status_code == 400
    assert browser.get("/account").status_code == 200


def test_every_form_carries_a_csrf_token(web, client):
    for path in ("/signup", "/login"):
        html = client.get(path).get_data(as_text=True)
        assert html.count("<form") == html.count('name="csrf_token"'), path
    browser = web.signed_in()
    html = browser.get("/account").get_data(as_text=True)
    assert html.count("<form") == html.count('name="csrf_token"') == 7  # logout + 5 account forms + cookie banner


def test_the_api_needs_no_csrf_token(web, client):
    assert web.signup_api(client).status_code == 201


# -- cookies ----------------------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax_but_not_secure_by_default(client):
    cookie = _set_cookie(client.get("/login"))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_when_configured(web, make_app):
    app = make_app(session_cookie_secure=True)
    browser = app.test_client()
    site = "https://portal.example"
    cookie = _set_cookie(browser.get(f"{site}/login"))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie

    # The whole login works over HTTPS (the CSRF check there also wants a same-site referrer).
    assert web.signup_api(browser).status_code == 201
    token = web.csrf(browser, f"{site}/login")
    response = browser.post(f"{site}/login", data={"email": "ada@example.com", "password": web.PASSWORD,
                                                   "csrf_token": token},
                            headers={"Referer": f"{site}/login"})
    assert response.status_code == 302
    assert "Secure" in _set_cookie(response)
    assert browser.get(f"{site}/account").status_code == 200
    cross_site = browser.post(f"{site}/logout", data={"csrf_token": web.csrf(browser, f"{site}/account")},
                              headers={"Referer": "https://evil.example/"})
    assert cross_site.status_code == 400
    assert browser.get(f"{site}/account").status_code == 200


# -- headers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/signup", "/login", "/legal/privacy", "/healthz", "/api/v1/openapi.json", "/api/v1/me",
             "/no-such-page", "/api/v1/no-such-route", "/static/style.css"],
)
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


def test_personal_answers_are_not_cached(web, client):
    browser = web.signed_in()
    assert browser.get("/account").headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"


def test_pages_load_no_outside_resources(web, client):
    for path in ("/", "/signup", "/login", "/legal/privacy"):
        html = client.get(path).get_data(as_text=True)
        assert "http://" not in html and "https://" not in html, path
        # Nothing inline for the CSP to block: scripts only from /static (the cookie banner's consent.js).
        assert all(re.fullmatch(r'<script src="/static/[a-z]+\.js" defer>', tag)
                   for tag in re.findall(r"<script[^>]*>", html)), path
        assert "style=" not in html, path
    assert client.get("/static/style.css").status_code == 200


# -- proxy ------------------------------------------------------------------------------------------


def test_forwarded_address_is_trusted_only_behind_a_proxy(web, make_app, store):
    direct = make_app()
    direct.test_client().post("/api/v1/tokens", json={"email": "x@example.com", "password": "wrong-pass-123"},
                              headers={"X-Forwarded-For": "203.0.113.9"})
    proxied = make_app(behind_proxy=True)
    proxied.test_client().post("/api/v1/tokens", json={"email": "x@example.com", "password": "wrong-pass-123"},
                               headers={"X-Forwarded-For": "203.0.113.9"})
    addresses = [e.client_address for e in store.state.audit if e.action == "account.login"]
    assert addresses == ["127.0.0.0/24", "203.0.113.0/24"]


# -- the page language ---------------------------------------------------------------------------------


def test_html_lang_names_the_language_the_page_is_written_in(web, client):
    """The interface is English only so far: a page tagged zh-Hans would be read out by
    a Chinese voice. The person's language drives mails and translations instead."""
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    browser = web.signed_in(language="zh-Hans")
    assert '<html lang="en">' in browser.get("/").get_data(as_text=True)
