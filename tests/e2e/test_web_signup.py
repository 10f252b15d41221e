"""Sign-up through the HTML form and the JSON API, and every way it must refuse."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from caratzon_core.privacy import INITIAL_POLICY_VERSION

UNDER_18_MESSAGE = "Caratzon is only for people aged 18 or over"


def _under_18(web) -> str:
    """Born 17 years and 364 days ago: 18 tomorrow."""
    today = web.today()
    return (today.replace(year=today.year - 18) + timedelta(days=1)).isoformat()


def _exactly_18(web) -> str:
    today = web.today()
    return today.replace(year=today.year - 18).isoformat()


def _field_error(html: str, field: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{field}-error" role="alert">([^<]*)</p>', html)
    return unescape(match.group(1)) if match else None


# -- success -------------------------------------------------------------------------------


def test_sign_up_with_the_form_logs_in_and_lands_on_the_account_page(web, client):
    page = client.get("/signup").get_data(as_text=True)
    assert 'type="date"' in page
    assert "Only used to confirm that you are 18 or over. We do not store your date of birth." in page
    flat = " ".join(page.split())
    assert f'I accept the <a href="/legal/privacy">privacy policy</a> (version {INITIAL_POLICY_VERSION})' in flat
    for role in ("designer", "buyer", "manufacturer"):
        assert f'<option value="{role}"' in page
    assert 'value="admin"' not in page and 'value="production_manager"' not in page

    response = web.signup_form(client, email="  Ada@Example.com ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    account = client.get("/account")
    assert account.status_code == 200
    text = account.get_data(as_text=True)
    assert "ada@example.com" in text and "Ada Lovelace" in text
    assert "Welcome to Caratzon, Ada Lovelace" in text
    assert web.user_count() == 1


def test_sign_up_form_preselects_the_role_from_the_home_page_link(client):
    assert '<option value="buyer" selected>' in client.get("/signup?role=buyer").get_data(as_text=True)
    assert " selected>" not in client.get("/signup?role=admin").get_data(as_text=True).split('id="role"')[1][:400]


def test_sign_up_with_the_api(web, client):
    response = web.signup_api(client, email="Grace@Example.COM", role="buyer", language="zh-Hant",
                              business_address=None)
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"id", "email", "name", "role", "language", "business_name", "business_address",
                         "object_to_ai"}
    assert body["object_to_ai"] is False
    assert body["email"] == "grace@example.com"
    assert body["role"] == "buyer"
    assert body["language"] == "zh-Hant"
    assert body["business_address"] is None
    assert "password" not in response.get_data(as_text=True)
    assert web.user_count() == 1


def test_exactly_18_today_may_sign_up(web, client):
    assert web.signup_api(client, date_of_birth=_exactly_18(web)).status_code == 201


def test_sign_up_records_the_client_address_in_the_audit_trail(web, client, store):
    web.signup_form(client)
    entries = [e for e in store.state.audit if e.action == "account.sign_up"]
    assert len(entries) == 1
    assert entries[0].client_address == "127.0.0.0/24"  # truncated (P7)


# -- refusals: nothing written ------------------------------------------------------------------

BAD_INPUTS = [
    pytest.param({"email": "not-an-email"}, "email", "valid email", id="malformed-email"),
    pytest.param({"email": "ada@@example.com"}, "email", "valid email", id="two-ats"),
    pytest.param({"password": "short-pw-1"}, "password", "at least 12 characters", id="short-password"),
    pytest.param({"password": "password1234"}, "password", "", id="common-password"),
    pytest.param({"password": "Ada Lovelace"}, "password", "", id="password-is-the-name"),
    pytest.param({"accept_policy_version": None}, "accept_policy_version",
                 f"accept the current privacy policy (version {INITIAL_POLICY_VERSION})", id="policy-not-accepted"),
    pytest.param({"accept_policy_version": "2020-01-01"}, "accept_policy_version", "privacy policy",
                 id="old-policy-version"),
    pytest.param({"date_of_birth": "UNDER18"}, "date_of_birth", UNDER_18_MESSAGE, id="under-18"),
    pytest.param({"date_of_birth": None}, "date_of_birth", "Date of birth is required", id="no-date-of-birth"),
    pytest.param({"date_of_birth": "2999-01-01"}, "date_of_birth", "future", id="born-in-the-future"),
    pytest.param({"role": "jeweller"}, "role", "Unknown role", id="unknown-role"),
    pytest.param({"role": "production_manager"}, "role", "cannot be chosen at sign-up", id="production-manager"),
    pytest.param({"role": "admin"}, "role", "cannot be chosen at sign-up", id="admin"),
    pytest.param({"name": "   "}, "name", "Name is required", id="blank-name"),
    pytest.param({"language": "fr"}, "language", "Unknown language", id="unknown-language"),
    pytest.param({"business_name": "x" * 501}, "business_name", "at most 500", id="long-business-name"),
]


def _resolve(web, overrides: dict) -> dict:
    if overrides.get("date_of_birth") == "UNDER18":
        return {**overrides, "date_of_birth": _under_18(web)}
    return overrides


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUTS)
def test_bad_sign_up_form_is_422_with_the_message_by_the_field(web, client, overrides, field, message):
    response = web.signup_form(client, **_resolve(web, overrides))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = _field_error(html, field)
    assert error, f"no error shown next to {field}"
    assert message in error
    # What was entered comes back, except the password.
    assert 'value="Ada Lovelace"' in html or field == "name"
    assert "Lovelace Fine Jewels Ltd" in html or field == "business_name"
    assert 'name="password" type="password"' in html and "amber-Quartz" not in html
    assert web.user_count() == 0
    assert client.get("/account").status_code == 302  # not logged in


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUTS)
def test_bad_sign_up_api_is_422_naming_the_field(web, client, overrides, field, message):
    response = web.signup_api(client, **_resolve(web, overrides))
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert error["field"] == field
    assert message in error["message"]
    assert web.user_count() == 0


def test_under_18_message_says_nothing_was_stored(web, client):
    response = web.signup_api(client, date_of_birth=_under_18(web))
    assert response.json["error"]["message"] == (
        "Caratzon is only for people aged 18 or over; we have not stored any of your details."
    )


@pytest.mark.parametrize("dob", ["17/05/1990", "19900517", "1990-02-30", "yesterday"])
def test_unreadable_date_of_birth_is_422_on_both_paths(web, client, dob):
    api = web.signup_api(client, date_of_birth=dob)
    assert api.status_code == 422
    assert api.json["error"]["field"] == "date_of_birth"
    form = web.signup_form(client, date_of_birth=dob)
    assert form.status_code == 422
    assert _field_error(form.get_data(as_text=True), "date_of_birth")
    assert web.user_count() == 0


@pytest.mark.parametrize("second", ["ada@example.com", "ADA@EXAMPLE.COM", " Ada@Example.Com "])
def test_duplicate_email_in_any_case_is_409_and_nothing_written(web, client, second):
    assert web.signup_api(client).status_code == 201
    api = web.signup_api(client, email=second, name="Someone Else")
    assert api.status_code == 409
    assert api.json["error"] == {
        "code": "conflict", "message": "An account with this email already exists.", "field": "email",
    }
    form = web.signup_form(web.client(), email=second, name="Someone Else")
    assert form.status_code == 409
    assert _field_error(form.get_data(as_text=True), "email") == "An account with this email already exists."
    assert web.user_count() == 1


# -- API body shape -------------------------------------------------------------------------------


def test_sign_up_api_refuses_unknown_fields(web, client):
    response = client.post("/api/v1/accounts", json={**web.signup_data(), "is_admin": True})
    assert response.status_code == 422
    error = response.json["error"]
    assert error["field"] == "is_admin"
    assert "Unknown field 'is_admin'" in error["message"]
    assert web.user_count() == 0


def test_sign_up_api_refuses_wrong_types_and_missing_fields(web, client):
    response = client.post("/api/v1/accounts", json={**web.signup_data(), "email": 42})
    assert response.status_code == 422
    assert response.json["error"]["field"] == "email"
    assert response.json["error"]["message"] == "Email must be a string."

    missing = web.signup_data()
    del missing["password"]
    response = client.post("/api/v1/accounts", json=missing)
    assert response.status_code == 422
    assert response.json["error"]["field"] == "password"
    assert response.json["error"]["message"] == "Password is required."

    response = client.post("/api/v1/accounts", json={"nickname": "x"})
    assert response.status_code == 422
    fields = {d["field"] for d in response.json["error"]["details"]}
    assert {"nickname", "email", "password", "name", "role"} <= fields
    assert web.user_count() == 0


def test_the_form_shows_every_problem_at_once(client) -> None:
    page = client.get("/signup").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert token
    response = client.post("/signup", data={
        "csrf_token": token.group(1), "email": "nope", "password": "short", "name": "Kid",
        "date_of_birth": "2015-01-01",
    })
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for message in ("valid email", "at least 12 characters", "18 or over", "Unknown role",
                    "accept the current privacy policy"):
        assert message in html, message
