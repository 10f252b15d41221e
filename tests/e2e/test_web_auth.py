"""Logging in and out, throttling, API tokens, and sessions that end when they must."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

PASSWORD = "amber-Quartz-lantern-42"  # conftest.PASSWORD, checked below
OTHER_PASSWORD = "velvet-Topaz-harbour-97"
LOCK = timedelta(minutes=15)  # the first lock of the account throttle rule


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _form_error(html: str) -> str:
    match = re.search(r'<p class="form-error" role="alert">([^<]*)</p>', html)
    assert match, "no error on the login page"
    return unescape(match.group(1))


@pytest.fixture
def ada(web):
    """Ada's account exists; nobody is logged in."""
    assert (web.PASSWORD, web.OTHER_PASSWORD) == (PASSWORD, OTHER_PASSWORD)
    assert web.signup_api(web.client()).status_code == 201


# -- login and logout ------------------------------------------------------------------------------


def test_login_form_logs_in_and_logout_logs_out(web, client, ada):
    response = web.login_form(client, email="ADA@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    home = client.get("/").get_data(as_text=True)
    assert "Log out" in home and "Designer profile" in home

    token = web.csrf(client, "/account")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/account").status_code == 302
    assert "You are logged out." in client.get("/").get_data(as_text=True)


def test_login_redirects_to_a_local_next_page_only(web, client, ada):
    assert client.get("/account").headers["Location"] == "/login?next=/account"
    token = web.csrf(client, "/login?next=/account")
    response = client.post("/login", data={"email": "ada@example.com", "password": PASSWORD,
                                           "csrf_token": token, "next": "https://evil.example/"})
    assert response.headers["Location"] == "/account"


def test_wrong_password_and_unknown_email_answer_identically(web, client, ada):
    wrong = client.post("/api/v1/tokens", json={"email": "ada@example.com", "password": "wrong-password-123"})
    unknown = client.post("/api/v1/tokens", json={"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_data() == unknown.get_data()
    assert wrong.json == {"error": {"code": "unauthenticated", "message": "Email or password is incorrect."}}
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")

    wrong_page = web.login_form(web.client(), password="wrong-password-123")
    unknown_page = web.login_form(web.client(), email="nobody@example.com")
    assert wrong_page.status_code == unknown_page.status_code == 401
    assert _form_error(wrong_page.get_data(as_text=True)) == "Email or password is incorrect."
    assert _form_error(unknown_page.get_data(as_text=True)) == "Email or password is incorrect."


def test_five_failed_logins_lock_the_account_until_the_lock_lifts(web, client, clock, ada):
    for _ in range(4):
        assert web.login_form(client, password="wrong-password-123").status_code == 401
    locked = web.login_form(client, password="wrong-password-123")
    assert locked.status_code == 429
    until = clock.now() + LOCK
    assert locked.headers["Retry-After"] == str(int(LOCK.total_seconds()))
    html = locked.get_data(as_text=True)
    assert "Too many failed sign-in attempts" in html
    assert until.strftime("%Y-%m-%d %H:%M") in html

    # The right password is refused too while the lock lasts, on both paths.
    clock.advance(LOCK - timedelta(seconds=1))
    assert web.login_form(client).status_code == 429
    api = client.post("/api/v1/tokens", json={"email": "ada@example.com", "password": PASSWORD})
    assert api.status_code == 429
    assert api.json["error"]["code"] == "throttled"
    assert api.json["error"]["retry_at"] == until.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api.headers["Retry-After"] == "1"

    clock.advance(timedelta(seconds=1))
    assert web.login_form(client).status_code == 302
    assert client.get("/account").status_code == 200


def test_api_token_logins_count_towards_the_lock(web, client, clock, ada):
    for _ in range(4):
        bad = client.post("/api/v1/tokens", json={"email": "ada@example.com", "password": "nope-nope-nope"})
        assert bad.status_code == 401
    fifth = client.post("/api/v1/tokens", json={"email": "ada@example.com", "password": "nope-nope-nope"})
    assert fifth.status_code == 429
    assert fifth.json["error"]["retry_at"] == (clock.now() + LOCK).strftime("%Y-%m-%dT%H:%M:%SZ")
    clock.advance(LOCK)
    assert web.token(client)


# -- sessions --------------------------------------------------------------------------------------


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie("caratzon_session")
    return cookie.value if cookie else None


def test_login_starts_a_fresh_session(web, app, ada):
    browser = web.client()
    web.csrf(browser, "/login")
    before = _session_cookie(browser)
    assert before
    assert web.login_form(browser).status_code == 302
    after = _session_cookie(browser)
    assert after and after != before

    # The cookie from before login does not carry the login.
    planted = app.test_client()
    planted.set_cookie("caratzon_session", before)
    assert planted.get("/account").status_code == 302


def test_session_cookie_is_permanent_for_twelve_hours(web, client, ada):
    response = web.login_form(client)
    set_cookie = response.headers["Set-Cookie"]
    assert "Expires=" in set_cookie
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie


def test_a_tampered_session_cookie_is_ignored(app, web, ada):
    browser = app.test_client()
    browser.set_cookie("caratzon_session", "eyJ1aWQiOiJpZC0wMDAwMDEifQ.forged.signature")
    assert browser.get("/account").status_code == 302


# -- API tokens ------------------------------------------------------------------------------------


def test_token_issue_use_and_revoke(web, client, clock, ada):
    response = client.post("/api/v1/tokens", json={"email": "ada@example.com", "password": PASSWORD,
                                                   "label": "shop sync"})
    assert response.status_code == 201
    assert set(response.json) == {"token", "expires_at"}
    token = response.json["token"]
    assert token.startswith("czt_")
    expires = clock.now() + web.services.config.token_ttl
    assert response.json["expires_at"] == expires.strftime("%Y-%m-%dT%H:%M:%SZ")

    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json["email"] == "ada@example.com"

    assert client.delete("/api/v1/tokens/current", headers=bearer(token)).status_code == 204
    revoked = client.get("/api/v1/me", headers=bearer(token))
    assert revoked.status_code == 401
    assert revoked.json["error"] == {"code": "unauthenticated",
                                     "message": "The token is invalid, expired or revoked."}
    assert revoked.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.delete("/api/v1/tokens/current", headers=bearer(token)).status_code == 401


def test_revoking_one_token_leaves_the_others(web, client, ada):
    first, second = web.token(client), web.token(client)
    assert client.delete("/api/v1/tokens/current", headers=bearer(first)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200


def test_expired_token_is_refused(web, client, clock, ada):
    token = web.token(client)
    clock.advance(web.services.config.token_ttl - timedelta(seconds=1))
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    clock.advance(timedelta(seconds=1))
    expired = client.get("/api/v1/me", headers=bearer(token))
    assert expired.status_code == 401
    assert expired.json["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer czt_not-a-real-token"},
        {"Authorization": "Bearer not-even-the-prefix"},
        {"Authorization": "Basic YWRhQGV4YW1wbGUuY29tOnB3"},
    ],
    ids=["none", "empty", "unknown", "no-prefix", "basic"],
)
def test_missing_or_bad_credentials_are_401_json(client, headers, ada):
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.is_json
    assert response.json["error"]["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_api_ignores_the_session_cookie(web, ada):
    browser = web.client()
    assert web.login_form(browser).status_code == 302
    assert browser.get("/api/v1/me").status_code == 401


# -- sessions end when the account changes ------------------------------------------------------


def test_closing_the_account_ends_every_session_and_token_at_once(web, client, ada):
    assert web.login_form(client).status_code == 302
    other_browser = web.client()
    assert web.login_form(other_browser).status_code == 302
    token = web.token(web.client())

    refused = web.account_form(client, form="close")
    assert refused.status_code == 422
    assert "Tick the box to confirm" in refused.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200

    response = web.account_form(client, form="close", confirm="yes")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Your account is closed" in client.get("/").get_data(as_text=True)
    assert client.get("/account").status_code == 302
    assert other_browser.get("/account").status_code == 302
    assert "Log in" in other_browser.get("/").get_data(as_text=True)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401

    again = web.login_form(web.client())
    assert again.status_code == 401
    again_api = client.post("/api/v1/tokens", json={"email": "ada@example.com", "password": PASSWORD})
    assert again_api.status_code == 401


def test_changing_the_password_ends_other_sessions_and_tokens(web, client, ada):
    assert web.login_form(client).status_code == 302
    other_browser = web.client()
    assert web.login_form(other_browser).status_code == 302
    token = web.token(web.client())

    mismatch = web.account_form(client, form="password", current_password=PASSWORD,
                                new_password=OTHER_PASSWORD, new_password_confirm="something-else")
    assert mismatch.status_code == 422
    assert "do not match" in mismatch.get_data(as_text=True)
    wrong = web.account_form(client, form="password", current_password="not-my-password",
                             new_password=OTHER_PASSWORD, new_password_confirm=OTHER_PASSWORD)
    assert wrong.status_code == 422
    assert 'id="current_password-error"' in wrong.get_data(as_text=True)
    weak = web.account_form(client, form="password", current_password=PASSWORD,
                            new_password="password1234", new_password_confirm="password1234")
    assert weak.status_code == 422
    assert 'id="new_password-error"' in weak.get_data(as_text=True)
    assert other_browser.get("/account").status_code == 200

    changed = web.account_form(client, form="password", current_password=PASSWORD,
                               new_password=OTHER_PASSWORD, new_password_confirm=OTHER_PASSWORD)
    assert changed.status_code == 302
    assert client.get("/account").status_code == 200  # this browser stays in
    assert other_browser.get("/account").status_code == 302  # the other is out at once
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert web.login_form(web.client()).status_code == 401
    assert web.login_form(web.client(), password=OTHER_PASSWORD).status_code == 302
