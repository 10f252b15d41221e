"""The admins' retention page and its JSON API (issue #6, part 4; policy §8): the next
run's plan with what is due and why each kept item is kept, the last runs, legal
holds placed and released with a reason, "Run now" only after an explicit
confirmation, and the same over /api/v1/admin/... for admins only.

Retention needs the SQL store: these tests run the real use cases over a migrated
SQLite copy, with the fake clock (so an account closed "13 months ago" is one the
clock was moved past) and the fast fake hasher.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from sqlalchemy import text
from test_web_designs_support import check_markup

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.config import Config
from caratzon_core.access import Actor
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.accounts import SignUp
from caratzon_core.testing import FakeClock, FakeHasher

HELD = "under a legal hold placed by an admin"
# Three calendar years back from here hold no 29 February (1,095 days): the audit
# step must accept the engine's own cut-off all the same.
NOW = datetime(2027, 12, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Any, make_database_url: Any) -> Config:
    """A copy of the migrated SQLite template (the conftest's ``app`` and ``web`` use it)."""
    return Config.from_env({
        "CARATZON_DATA_DIR": str(tmp_path),
        "CARATZON_SECRET_KEY": "x" * 40,
        "CARATZON_PASSWORD_HASHING": "fast",
        "CARATZON_DATABASE_URL": make_database_url("sqlite"),
    })


@pytest.fixture
def services(config: Config, clock: FakeClock) -> Iterator[Services]:
    services = bootstrap(config, hasher=FakeHasher(), clock=clock)
    yield services
    services.close()


def _emails(config: Config) -> set[str]:
    from caratzon_adapters.sql.engine import make_engine

    engine = make_engine(config.database_url)
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.execute(text("SELECT email FROM users"))}
    finally:
        engine.dispose()


def _field_error(html: str, field: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{re.escape(field)}-error" role="alert">([^<]*)</p>', html)
    return unescape(match.group(1)) if match else None


def _flash(html: str) -> str:
    match = re.search(r'<p class="flash flash-success" role="status">([^<]*)</p>', html)
    return unescape(match.group(1)) if match else ""


def _rule_row(html: str, rule: str) -> list[str]:
    match = re.search(rf'<tr id="rule-{rule}">(.*?)</tr>', html, re.S)
    assert match, rule
    return [re.sub(r"<[^>]+>", " ", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", match.group(1), re.S)]


def _due(html: str, rule: str = "account") -> int:
    return int(_rule_row(html, rule)[3])


def post(web: Any, browser: Any, path: str, **data: str) -> Any:
    data["csrf_token"] = web.csrf(browser, "/admin/retention")
    return browser.post(path, data=data)


def _closed_long_ago(services: Services, clock: FakeClock, *emails: str) -> dict[str, str]:
    """Accounts closed now; then the clock moves on to NOW, past the 12 months of P30."""
    ids = {}
    for email in emails:
        user = services.accounts.sign_up(SignUp(
            email=email, password="amber-Quartz-lantern-42", name=email.split("@")[0].title(), role="buyer",
            date_of_birth=date(1985, 1, 1), accept_policy_version=INITIAL_POLICY_VERSION))
        services.accounts.close_account(Actor.cli_operator(), user.id)
        ids[email] = user.id
    clock.set(NOW)
    return ids


@pytest.fixture
def admin(web: Any, services: Services) -> Any:
    services.accounts.create_user(Actor.cli_operator(), SignUp(email="ann@example.com", password=web.PASSWORD,
                                                                name="Ann Admin", role="admin"))
    browser = web.client()
    assert web.login_form(browser, "ann@example.com").status_code == 302
    return browser


def _auth(web: Any, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {web.token(web.client(), email)}"}


# -- access -------------------------------------------------------------------------------------


def test_the_page_and_the_api_are_for_admins_only(web, admin):
    designer = web.signed_in()
    assert designer.get("/admin/retention").status_code == 403
    assert 'href="/admin/retention"' not in designer.get("/account").get_data(as_text=True)
    token = web.csrf(designer, "/account")
    for path in ("/admin/retention/run", "/admin/retention/holds", "/admin/retention/holds/release"):
        response = designer.post(path, data={"csrf_token": token, "confirm": "yes", "email": "ada@example.com",
                                             "reason": "x"})
        assert response.status_code == 403, path
    ada = _auth(web, "ada@example.com")
    for method, path, body in (("get", "/api/v1/admin/retention/plan", None),
                               ("get", "/api/v1/admin/retention/runs", None),
                               ("post", "/api/v1/admin/retention/runs", {"confirm": True}),
                               ("get", "/api/v1/admin/legal-holds", None),
                               ("post", "/api/v1/admin/legal-holds", {"email": "ada@example.com", "reason": "x"}),
                               ("post", "/api/v1/admin/legal-holds/release",
                                {"email": "ada@example.com", "reason": "x"})):
        response = getattr(web.client(), method)(path, headers=ada, json=body)
        assert response.status_code == 403 and response.json["error"]["code"] == "forbidden", path
    assert web.client().get("/api/v1/admin/retention/plan").status_code == 401
    # Admins see the page from the navigation, next to the requests queue.
    assert 'href="/admin/retention"' in admin.get("/admin/requests").get_data(as_text=True)
    assert web.services.retention.runs(Actor.cli_operator()) == []


# -- the page -------------------------------------------------------------------------------------


def test_the_plan_shows_what_is_due_and_a_hold_placed_with_the_form_keeps_it(web, services, clock, admin):
    ids = _closed_long_ago(services, clock, "cleo@example.com", "dora@example.com")
    response = admin.get("/admin/retention")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    check_markup(html)
    assert _due(html) == 2 and "Closed accounts" in _rule_row(html, "account")[0]
    assert "No run yet." in html and "No legal hold stands." in html and "Nothing is kept past its period." in html
    cutoff = (clock.now() - timedelta(days=365)).strftime("%Y-%m")
    assert _rule_row(html, "account")[2].startswith(cutoff)
    assert "§8" in _rule_row(html, "account")[1] and "erase the person" in _rule_row(html, "account")[5]

    # Bad input comes back by the field, with what was typed.
    response = post(web, admin, "/admin/retention/holds", email="dora@example.com", reason="  ")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Say why" in (_field_error(html, "hold_reason") or "")
    assert 'value="dora@example.com"' in html
    check_markup(html)
    response = post(web, admin, "/admin/retention/holds", email="nobody@example.com", reason="Court order 12/3")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and _field_error(html, "hold_email")
    assert "Court order 12/3" in html

    response = post(web, admin, "/admin/retention/holds", email="Dora@example.com", reason="Court order 12/3")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/retention#holds")
    html = admin.get("/admin/retention").get_data(as_text=True)
    check_markup(html)
    assert "placed on dora@example.com" in _flash(html)
    assert _due(html) == 1 and _rule_row(html, "account")[4] == "1"
    kept = re.search(rf"<tr>\s*<td>Closed accounts</td>\s*<td><span class=\"hash\">user:{ids['dora@example.com']}"
                     r"</span></td>.*?</tr>", html, re.S)
    assert kept and HELD in kept.group(0)
    assert f'id="hold-{ids["dora@example.com"]}"' in html and "Court order 12/3" in html
    assert "by ann@example.com" in html

    response = post(web, admin, "/admin/retention/holds", email="dora@example.com", reason="Again")
    assert response.status_code == 409 and "already stands" in (
        _field_error(response.get_data(as_text=True), "hold_email") or "")


def test_run_now_needs_the_confirmation_then_erases_what_is_due(web, services, clock, admin, config):
    ids = _closed_long_ago(services, clock, "cleo@example.com", "dora@example.com")
    post(web, admin, "/admin/retention/holds", email="dora@example.com", reason="Court order 12/3")

    response = post(web, admin, "/admin/retention/run")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "deletes data for good" in (_field_error(html, "confirm") or "")
    check_markup(html)
    assert {"cleo@example.com", "dora@example.com"} <= _emails(config)
    assert services.retention.runs(Actor.cli_operator()) == []

    response = post(web, admin, "/admin/retention/run", confirm="yes")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/retention#runs")
    emails = _emails(config)
    assert "cleo@example.com" not in emails and "dora@example.com" in emails
    html = admin.get("/admin/retention").get_data(as_text=True)
    check_markup(html)
    assert "completed: Closed accounts 1" in _flash(html)
    [run] = services.retention.runs(Actor.cli_operator())
    row = re.search(rf'<tr id="run-{run.id}" class="latest">(.*?)</tr>', html, re.S)
    assert row and "Latest" in row.group(1) and "Completed" in row.group(1)
    assert "Closed accounts: 1" in row.group(1) and "ann@example.com" in row.group(1)
    assert "No run yet." not in html and _due(html) == 0

    # Released with a reason, the held account is due again.
    dora = ids["dora@example.com"]
    response = post(web, admin, "/admin/retention/holds/release", person=dora, reason="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and _field_error(html, f"release_reason-{dora}")
    response = post(web, admin, "/admin/retention/holds/release", person=dora, reason="Case closed")
    assert response.status_code == 303
    html = admin.get("/admin/retention").get_data(as_text=True)
    assert "on dora@example.com released" in _flash(html)
    assert _due(html) == 1 and "No legal hold stands." in html
    # Releasing again: the hold is gone, so the message goes above the list.
    response = post(web, admin, "/admin/retention/holds/release", person=dora, reason="Twice")
    assert response.status_code == 404 and _field_error(response.get_data(as_text=True), "holds_form")


def test_every_retention_form_needs_its_csrf_token(web, services, clock, admin, config):
    _closed_long_ago(services, clock, "cleo@example.com")
    for path in ("/admin/retention/run", "/admin/retention/holds", "/admin/retention/holds/release"):
        response = admin.post(path, data={"confirm": "yes", "email": "cleo@example.com", "reason": "x"})
        assert response.status_code == 400, path
    assert "cleo@example.com" in _emails(config)
    assert services.retention.holds(Actor.cli_operator()) == []


# -- the API -------------------------------------------------------------------------------------


def test_the_api_plans_runs_and_manages_holds(web, services, clock, config):
    ids = _closed_long_ago(services, clock, "cleo@example.com", "dora@example.com")
    services.accounts.create_user(Actor.cli_operator(), SignUp(email="ann@example.com", password=web.PASSWORD,
                                                                name="Ann Admin", role="admin"))
    ann = _auth(web, "ann@example.com")
    api = web.client()

    plan = api.get("/api/v1/admin/retention/plan", headers=ann)
    assert plan.status_code == 200
    rules = {r["rule"]: r for r in plan.json["rules"]}
    assert rules["account"]["due"] == 2 and rules["account"]["kept"] == [] and plan.json["total_due"] >= 2
    for bad in ("2026-13-01", "yesterday"):
        response = api.get(f"/api/v1/admin/retention/plan?as_of={bad}", headers=ann)
        assert response.status_code == 422 and response.json["error"]["field"] == "as_of", bad
    response = api.get("/api/v1/admin/retention/plan?asof=2026-01-01", headers=ann)
    assert response.status_code == 422 and response.json["error"]["field"] == "asof"
    # A past date plans as of then (before anyone closed an account); a future one previews.
    past = api.get("/api/v1/admin/retention/plan?as_of=2020-01-01", headers=ann).json
    assert past["as_of"].startswith("2020-01-01") and past["rules"][0]["due"] == 0
    future = (clock.now() + timedelta(days=30)).date().isoformat()
    assert api.get(f"/api/v1/admin/retention/plan?as_of={future}", headers=ann).status_code == 200

    placed = api.post("/api/v1/admin/legal-holds", headers=ann,
                      json={"email": "dora@example.com", "reason": "Court order 12/3"})
    assert placed.status_code == 201, placed.json
    assert placed.json["email"] == "dora@example.com" and placed.json["standing"] is True
    assert placed.json["user_id"] == ids["dora@example.com"]
    again = api.post("/api/v1/admin/legal-holds", headers=ann, json={"email": "dora@example.com", "reason": "x"})
    assert again.status_code == 409 and again.json["error"]["field"] == "email"
    response = api.post("/api/v1/admin/legal-holds", headers=ann, json={"email": "dora@example.com"})
    assert response.status_code == 422 and response.json["error"]["field"] == "reason"
    [held] = api.get("/api/v1/admin/legal-holds", headers=ann).json["items"]
    assert held["id"] == placed.json["id"]
    kept = api.get("/api/v1/admin/retention/plan", headers=ann).json["rules"][0]["kept"]
    assert kept[0]["item"] == f"user:{ids['dora@example.com']}" and HELD in kept[0]["reasons"][0]

    for body in ({}, {"confirm": False}):
        response = api.post("/api/v1/admin/retention/runs", headers=ann, json=body)
        assert response.status_code == 422 and response.json["error"]["field"] == "confirm"
    response = api.post("/api/v1/admin/retention/runs", headers=ann, json={"confirm": True, "as_of": future})
    assert response.status_code == 422 and response.json["error"]["field"] == "as_of"
    assert {"cleo@example.com", "dora@example.com"} <= _emails(config)
    assert api.get("/api/v1/admin/retention/runs", headers=ann).json == {"items": []}

    run = api.post("/api/v1/admin/retention/runs", headers=ann, json={"confirm": True})
    assert run.status_code == 201, run.json
    assert run.json["status"] == "completed" and run.json["counts"]["account"] == 1
    assert "cleo@example.com" not in _emails(config)
    [listed] = api.get("/api/v1/admin/retention/runs", headers=ann).json["items"]
    assert listed["id"] == run.json["id"]

    released = api.post("/api/v1/admin/legal-holds/release", headers=ann,
                        json={"email": "dora@example.com", "reason": "Case closed"})
    assert released.status_code == 200 and released.json["standing"] is False
    assert released.json["release_reason"] == "Case closed"
    assert api.get("/api/v1/admin/legal-holds", headers=ann).json == {"items": []}
    assert len(api.get("/api/v1/admin/legal-holds?all=true", headers=ann).json["items"]) == 1
    response = api.post("/api/v1/admin/legal-holds/release", headers=ann,
                        json={"email": "dora@example.com", "reason": "Twice"})
    assert response.status_code == 404


def test_a_run_that_breaks_is_reported_on_the_page(web, services, admin, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.retention, "apply", broken)
    response = post(web, admin, "/admin/retention/run", confirm="yes")
    assert response.status_code == 303
    html = admin.get("/admin/retention").get_data(as_text=True)
    assert "The retention run stopped with an error (see Last runs)" in html and "disk full" not in html


def test_an_erasure_request_made_in_the_privacy_center_is_carried_out_from_the_queue(web, services, admin, config):
    """P37 end to end in the portal: the person asks in the Privacy Center, an admin
    completes the request in the queue, the account and its email are gone, and the
    request (now naming the pseudonym) stays as proof that it was answered."""
    services.accounts.create_user(Actor.cli_operator(), SignUp(
        email="eve@example.com", password=web.PASSWORD, name="Eve Erased", role="buyer",
        date_of_birth=date(1990, 1, 1), accept_policy_version=INITIAL_POLICY_VERSION))
    eve = web.client()
    assert web.login_form(eve, "eve@example.com").status_code == 302
    token = web.csrf(eve, "/privacy")
    asked = eve.post("/privacy/requests", data={"csrf_token": token, "type": "erasure", "details": "All of it."})
    assert asked.status_code in (302, 303)
    [req] = services.requests.queue(Actor.cli_operator())
    token = web.csrf(admin, "/admin/requests")
    done = admin.post(f"/admin/requests/{req.request.id}/complete", data={"csrf_token": token, "outcome": ""},
                      follow_redirects=True)
    assert done.status_code == 200 and "is completed" in done.get_data(as_text=True)
    assert "eve@example.com" not in _emails(config)
    [closed] = services.requests.queue(Actor.cli_operator(), include_closed=True)
    assert closed.request.status.value == "completed" and closed.request.user_id == services.erasure.pseudonym(
        req.request.user_id)
    assert eve.get("/account").status_code in (302, 401)  # her session is gone with her account
