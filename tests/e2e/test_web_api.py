"""The JSON API: the error envelope, body parsing, /me, and the OpenAPI document."""

from __future__ import annotations

import re

import pytest

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token(web, client):
    assert web.signup_api(client).status_code == 201
    return web.token(client)


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    assert set(response.json) == {"error"}
    error = response.json["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


# -- /me -----------------------------------------------------------------------------------------


def test_get_me(client, token):
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json == {
        "id": response.json["id"],
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "role": "designer",
        "language": "en",
        "business_name": "Lovelace Fine Jewels Ltd",
        "business_address": "1 Queen's Road Central, Hong Kong",
        "object_to_ai": False,
    }


def test_object_to_ai_through_the_api_and_the_account_page(client, token):
    """P40: the objection is recorded at once and can be lifted again."""
    response = client.patch("/api/v1/me", headers=bearer(token), json={"object_to_ai": True})
    assert response.status_code == 200, response.json
    assert response.json["object_to_ai"] is True
    assert client.get("/api/v1/me", headers=bearer(token)).json["object_to_ai"] is True
    bad = client.patch("/api/v1/me", headers=bearer(token), json={"object_to_ai": "maybe"})
    assert bad.status_code == 422 and bad.json["error"]["field"] == "object_to_ai"
    response = client.patch("/api/v1/me", headers=bearer(token), json={"object_to_ai": False})
    assert response.json["object_to_ai"] is False


def test_patch_me_rectifies_only_the_fields_given(client, token, store):
    response = client.patch("/api/v1/me", headers=bearer(token),
                            json={"name": "  Augusta Ada King  ", "language": "zh-Hans", "business_address": ""})
    assert response.status_code == 200
    assert response.json["name"] == "Augusta Ada King"
    assert response.json["language"] == "zh-Hans"
    assert response.json["business_address"] is None
    assert response.json["business_name"] == "Lovelace Fine Jewels Ltd"
    assert client.get("/api/v1/me", headers=bearer(token)).json == response.json
    updates = [e for e in store.state.audit if e.action == "account.update"]
    assert updates[-1].detail == {"fields": "business_address,language,name"}

    unchanged = client.patch("/api/v1/me", headers=bearer(token), json={})
    assert unchanged.status_code == 200
    assert unchanged.json == response.json


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": 7}, "name"),
        ({"language": "fr"}, "language"),
        ({"business_name": "x" * 501}, "business_name"),
        ({"email": "new@example.com"}, "email"),  # not changeable here
        ({"role": "admin"}, "role"),  # nor this
    ],
)
def test_patch_me_refuses_bad_fields_with_422(client, token, body, field):
    error = _assert_error(client.patch("/api/v1/me", headers=bearer(token), json=body), 422, "validation_failed")
    assert error["field"] == field
    assert client.get("/api/v1/me", headers=bearer(token)).json["name"] == "Ada Lovelace"


def test_patch_me_needs_a_token_before_anything_else(client):
    response = client.patch("/api/v1/me", data="not json", content_type="text/plain")
    _assert_error(response, 401, "unauthenticated")


# -- bodies that cannot be read ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type", "fragment"),
    [
        ('{"email": ', "application/json", "not valid JSON"),
        (b"{\"name\": \"\xff\"}", "application/json", "not valid JSON"),
        ("[1, 2]", "application/json", "must be a JSON object"),
        ('"text"', "application/json", "must be a JSON object"),
        ("null", "application/json", "must be a JSON object"),
        ("email=a@b.co", "application/x-www-form-urlencoded", "Content-Type: application/json"),
        ('{"email": "a@b.co"}', "text/plain", "Content-Type: application/json"),
        ("", None, "Content-Type: application/json"),
    ],
    ids=["truncated", "not-utf8", "array", "string", "null", "form-encoded", "text-plain", "no-body"],
)
@pytest.mark.parametrize("path", ["/api/v1/accounts", "/api/v1/tokens"])
def test_unreadable_bodies_are_400_json(web, client, path, data, content_type, fragment):
    kwargs = {"data": data}
    if content_type:
        kwargs["content_type"] = content_type
    error = _assert_error(client.post(path, **kwargs), 400, "bad_request")
    assert fragment in error["message"]
    assert web.user_count() == 0


def test_unreadable_patch_body_is_400(client, token):
    _assert_error(client.patch("/api/v1/me", headers=bearer(token), data="{", content_type="application/json"),
                  400, "bad_request")


def test_token_request_refuses_unknown_fields(client, token):
    response = client.post("/api/v1/tokens", json={"email": "ada@example.com", "password": "x", "scope": "all"})
    error = _assert_error(response, 422, "validation_failed")
    assert error["field"] == "scope"


def test_oversized_bodies_are_refused(client):
    response = client.post("/api/v1/accounts", data="x" * (1024 * 1024 + 1), content_type="application/json")
    _assert_error(response, 413, "request_entity_too_large")


# -- unknown routes and methods -----------------------------------------------------------------------


def test_unknown_api_routes_are_404_json(client):
    error = _assert_error(client.get("/api/v1/no-such-route"), 404, "not_found")
    assert "/api/v1/openapi.json" in error["message"]
    _assert_error(client.post("/api/v2/accounts", json={}), 404, "not_found")


def test_wrong_methods_are_405_json_with_allow(client):
    response = client.get("/api/v1/tokens")
    _assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]
    response = client.put("/api/v1/me", json={})
    _assert_error(response, 405, "method_not_allowed")
    assert {"GET", "PATCH"} <= set(response.headers["Allow"].split(", "))


def test_pages_answer_404_as_html(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Not Found" in response.get_data(as_text=True)


# -- the OpenAPI document --------------------------------------------------------------------------------


def _api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path, method.lower()))
    return routes


def test_openapi_lists_exactly_the_registered_api_routes(app, client):
    doc = client.get("/api/v1/openapi.json").json
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops if method in HTTP_METHODS}
    assert documented == _api_routes(app)
    assert len(documented) >= 6


def test_openapi_document_is_structurally_valid(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    assert {"title", "version"} <= set(doc["info"])
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"]["bearerAuth"][
            "description"],
    }
    assert doc["security"] == [{"bearerAuth": []}]
    schemas = doc["components"]["schemas"]
    responses = doc["components"]["responses"]
    assert {"code", "message", "field", "retry_at"} <= set(schemas["Error"]["properties"]["error"]["properties"])

    refs = re.findall(r'"\$ref": "#/components/(schemas|responses)/([^"]+)"', str(doc).replace("'", '"'))
    assert refs
    for kind, name in refs:
        assert name in (schemas if kind == "schemas" else responses), name

    for path, ops in doc["paths"].items():
        assert path.startswith("/api/v1/")
        for method, op in ops.items():
            assert op["operationId"] and op["summary"] and op["responses"], (path, method)
            for status, response in op["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status)
                assert "description" in response or "$ref" in response
            if method in {"post", "patch", "put"} and "requestBody" in op:
                assert all(media["schema"] for media in op["requestBody"]["content"].values())
            public = op.get("security") == []
            if not public:
                assert "401" in op["responses"], (path, method)


def test_openapi_request_schemas_match_the_commands(client):
    from caratzon_core.services.accounts import AccountChanges, SignUp
    from caratzon_web.api import TokenRequest

    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    for name, cls in (("SignUp", SignUp), ("AccountChanges", AccountChanges), ("TokenRequest", TokenRequest)):
        assert set(schemas[name]["properties"]) == {a.name for a in cls.__attrs_attrs__}, name
        assert schemas[name]["additionalProperties"] is False


def test_openapi_is_public(client):
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_unexpected_errors_are_500_json_without_details(app, client, services, monkeypatch):
    def broken(token):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services.accounts, "authenticate_token", broken)
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    response = client.get("/api/v1/me", headers=bearer("czt_x"))
    error = _assert_error(response, 500, "internal_server_error")
    assert "secret internals" not in response.get_data(as_text=True)
    assert error["message"] == "Something went wrong on our side; it has been logged."
