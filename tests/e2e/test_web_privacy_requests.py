"""The Privacy Center, the admins' request queue and the privacy API (issue #6, parts
1 and 7): the seven rights with a form each, my requests with status and due date,
merging, immediate restriction, overdue ones highlighted for admins, take /
complete / refuse (reason required) with the person told by mail, the minor flag,
CSRF on every form, GET/POST /api/v1/privacy/requests."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from test_web_designs_support import check_markup

from caratzon_core.access import Actor
from caratzon_core.accounts import UserStatus
from caratzon_core.notices import NoticeKind
from caratzon_core.requests import RequestStatus, RequestType
from caratzon_core.services.accounts import SignUp

CSRF_TEXT = "This form was not sent from a Caratzon page, or it expired"


def _field_error(html: str, field: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{re.escape(field)}-error" role="alert">([^<]*)</p>', html)
    return unescape(match.group(1)) if match else None


def _flash(html: str) -> str:
    match = re.search(r'<p class="flash flash-success" role="status">([^<]*)</p>', html)
    return unescape(match.group(1)) if match else ""


def _requests(store):
    return sorted(store.state.requests.requests.values(), key=lambda r: (r.received_at, r.id))


def _user(store, email):
    return next(u for u in store.state.users.values() if u.email == email)


@pytest.fixture
def admin(web, services):
    services.accounts.create_user(Actor.cli_operator(), SignUp(email="ann@example.com", password=web.PASSWORD,
                                                                name="Ann Admin", role="admin"))
    browser = web.client()
    assert web.login_form(browser, "ann@example.com").status_code == 302
    return browser


def post(web, browser, path, page="/privacy", **data):
    data["csrf_token"] = web.csrf(browser, page)
    return browser.post(path, data=data)


# -- the Privacy Center --------------------------------------------------------------------------


def test_the_privacy_center_needs_login(client):
    response = client.get("/privacy")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_privacy_center_explains_the_seven_rights_with_a_form_each(web):
    browser = web.signed_in()
    response = browser.get("/privacy")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    check_markup(html)
    for kind in RequestType:
        assert f'id="right-{kind.value}"' in html
        assert f'name="type" value="{kind.value}"' in html
    for word in ("Access", "Rectification", "Erasure", "Restriction", "Portability", "Objection", "Withdraw consent"):
        assert f"<strong>{word}</strong>" in html
    assert "within 30 days" in html and "You have not made any requests." in html


def test_opening_merging_and_seeing_my_requests(web, store, clock):
    browser = web.signed_in()
    response = post(web, browser, "/privacy/requests", type="access", details="Everything, please.")
    assert response.status_code == 303 and response.headers["Location"].endswith("/privacy#requests")
    page = browser.get("/privacy").get_data(as_text=True)
    [req] = _requests(store)
    due = (clock.now() + timedelta(days=30)).strftime("%Y-%m-%d")
    assert f"We answer by {due}" in _flash(page)
    check_markup(page)
    assert f'id="r-{req.id}"' in page and "badge-received" in page and due in page
    clock.advance(timedelta(days=2))
    post(web, browser, "/privacy/requests", type="access", details="And my messages.")
    page = browser.get("/privacy").get_data(as_text=True)
    assert "we added this one to it" in _flash(page)
    assert len(_requests(store)) == 1 and _requests(store)[0].merged == 1
    assert "2 requests merged into this one" in page


def test_restriction_from_the_privacy_center_takes_effect_at_once(web, store):
    browser = web.signed_in()
    post(web, browser, "/privacy/requests", type="restriction")
    page = browser.get("/privacy").get_data(as_text=True)
    assert _user(store, "ada@example.com").status is UserStatus.RESTRICTED
    assert _flash(page).startswith("Done (") and "Processing restricted" in _flash(page)
    assert "badge-completed" in page
    # Still signed in, still able to ask for more.
    assert post(web, browser, "/privacy/requests", type="erasure").status_code == 303


def test_bad_input_comes_back_with_the_message_and_nothing_stored(web, store):
    browser = web.signed_in()
    response = post(web, browser, "/privacy/requests", type="rectification", details="\x07 bell")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "control characters" in (_field_error(html, "details-rectification") or "")
    check_markup(html)
    response = post(web, browser, "/privacy/requests", type="telepathy")
    assert response.status_code == 422 and "expected one of" in (_field_error(response.get_data(as_text=True),
                                                                              "form") or "")
    assert _requests(store) == []


def test_every_privacy_form_needs_its_csrf_token(web, store, admin):
    browser = web.signed_in()
    response = browser.post("/privacy/requests", data={"type": "erasure"})
    assert response.status_code == 400 and CSRF_TEXT in response.get_data(as_text=True)
    for path in ("/admin/minors", "/admin/requests/x/take", "/admin/requests/x/refuse"):
        assert admin.post(path, data={"email": "ada@example.com", "reason": "x"}).status_code == 400
    assert _requests(store) == []
    assert _user(store, "ada@example.com").status is UserStatus.ACTIVE


# -- the admins' queue -----------------------------------------------------------------------------


def test_the_queue_is_for_admins_only(web):
    browser = web.signed_in()
    assert browser.get("/admin/requests").status_code == 403
    assert post(web, browser, "/admin/requests/nope/take").status_code == 403


def test_admins_see_overdue_requests_highlighted_and_work_them(web, store, clock, admin):
    person = web.signed_in()
    post(web, person, "/privacy/requests", type="access")
    post(web, person, "/privacy/requests", type="erasure")
    by_type = {r.type: r for r in _requests(store)}
    access, erasure = by_type[RequestType.ACCESS], by_type[RequestType.ERASURE]
    clock.advance(timedelta(days=31))
    html = admin.get("/admin/requests").get_data(as_text=True)
    check_markup(html)
    assert re.search(rf'<tr id="r-{access.id}" class="overdue', html)
    assert "Overdue by 1 day" in html and "2 overdue" in html and "ada@example.com" in html
    assert f'id="r-{access.id}"' in admin.get("/admin/requests?overdue=1").get_data(as_text=True)

    response = post(web, admin, f"/admin/requests/{access.id}/take", page="/admin/requests")
    assert response.status_code == 303
    assert store.state.requests.requests[access.id].status is RequestStatus.IN_PROGRESS
    response = post(web, admin, f"/admin/requests/{access.id}/take", page="/admin/requests")
    assert response.status_code == 409 and "already in progress" in (
        _field_error(response.get_data(as_text=True), f"status-{access.id}") or "")

    response = post(web, admin, f"/admin/requests/{erasure.id}/refuse", page="/admin/requests", reason="  ")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Say why" in (_field_error(html, f"reason-{erasure.id}") or "")
    check_markup(html)
    assert store.state.requests.requests[erasure.id].status is RequestStatus.RECEIVED

    post(web, admin, f"/admin/requests/{erasure.id}/refuse", page="/admin/requests",
         reason="Your orders are still open.")
    post(web, admin, f"/admin/requests/{access.id}/complete", page="/admin/requests", outcome="Export mailed.")
    assert store.state.requests.requests[erasure.id].outcome == "Your orders are still open."
    assert store.state.requests.requests[access.id].status is RequestStatus.COMPLETED
    mails = {m.notice.kind: m.notice for m in store.state.trade.outbox.values()}
    assert mails[NoticeKind.REQUEST_REFUSED].values["reason"] == "Your orders are still open."
    assert mails[NoticeKind.REQUEST_COMPLETED].values["outcome"] == "Export mailed."
    assert "The queue is empty." in admin.get("/admin/requests").get_data(as_text=True)
    closed = admin.get("/admin/requests?all=1").get_data(as_text=True)
    assert "badge-refused" in closed and "badge-completed" in closed
    # A step on a closed request says so at the top of the page.
    response = post(web, admin, f"/admin/requests/{access.id}/take", page="/admin/requests")
    assert response.status_code == 409 and "already completed" in (_field_error(response.get_data(as_text=True),
                                                                                 "form") or "")
    page = person.get("/privacy").get_data(as_text=True)
    assert "Your orders are still open." in page and "Export mailed." in page


def test_the_minor_button_restricts_and_queues_an_urgent_erasure(web, store, admin):
    web.signed_in(email="kid@example.com", name="Kid")
    response = post(web, admin, "/admin/minors", page="/admin/requests", email="kid@example.com",
                    reason="A parent wrote to us.")
    assert response.status_code == 303
    html = admin.get("/admin/requests").get_data(as_text=True)
    assert "is restricted, and erasure request" in _flash(html) and "Reported minor" in html
    assert _user(store, "kid@example.com").status is UserStatus.RESTRICTED
    [req] = _requests(store)
    assert req.type is RequestType.ERASURE and req.urgent and "A parent wrote to us." in req.details
    response = post(web, admin, "/admin/minors", page="/admin/requests", email="nobody@example.com", reason="x")
    assert response.status_code == 404 and _field_error(response.get_data(as_text=True), "minor_email")
    response = post(web, admin, "/admin/minors", page="/admin/requests", email="kid@example.com", reason="")
    assert response.status_code == 422 and _field_error(response.get_data(as_text=True), "minor_reason")


# -- the API ------------------------------------------------------------------------------------------


def test_the_privacy_api_lists_opens_and_merges(web, client, clock):
    web.signup_api(client)
    token = web.token(client)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/privacy/requests", headers=auth).json == {"items": []}
    response = client.post("/api/v1/privacy/requests", headers=auth, json={"type": "portability"})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["type"] == "portability" and body["status"] == "received" and not body["merged_into_existing"]
    assert body["due_at"] == (clock.now() + timedelta(days=30)).isoformat().replace("+00:00", "Z")
    again = client.post("/api/v1/privacy/requests", headers=auth, json={"type": "portability", "details": "JSON"})
    assert again.status_code == 200 and again.json["merged_into_existing"] and again.json["id"] == body["id"]
    clock.advance(timedelta(minutes=1))
    done = client.post("/api/v1/privacy/requests", headers=auth, json={"type": "objection"})
    assert done.status_code == 201 and done.json["status"] == "completed" and "AI" in done.json["outcome"]
    items = client.get("/api/v1/privacy/requests", headers=auth).json["items"]
    assert [i["type"] for i in items] == ["objection", "portability"] and items[1]["merged"] == 1
    assert client.get("/api/v1/me", headers=auth).json["object_to_ai"] is True


def test_the_privacy_api_refuses_someone_elses_data_and_bad_bodies(web, client, store):
    web.signup_api(client)
    web.signup_api(client, email="bob@example.com", name="Bob")
    token = web.token(client)
    auth = {"Authorization": f"Bearer {token}"}
    bob = _user(store, "bob@example.com")
    response = client.post("/api/v1/privacy/requests", headers=auth, json={"type": "access", "user_id": bob.id})
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    assert client.post("/api/v1/privacy/requests", headers=auth, json={"type": "mind-reading"}).status_code == 422
    response = client.post("/api/v1/privacy/requests", headers=auth, json={"type": "access", "email": "x@y.z"})
    assert response.status_code == 422 and response.json["error"]["field"] == "email"
    assert client.post("/api/v1/privacy/requests", headers=auth, data="type=access").status_code == 400
    assert client.post("/api/v1/privacy/requests", json={"type": "access"}).status_code == 401
    assert client.get("/api/v1/privacy/requests").status_code == 401
    assert _requests(store) == []
