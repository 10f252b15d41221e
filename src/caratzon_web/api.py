"""The JSON API, version 1.

Authentication is ONLY by ``Authorization: Bearer <token>``; the session cookie is
never read here (which is why this blueprint is exempt from CSRF checks). Views
are thin: read the body with the API converter, call one use case, answer JSON.
Errors are mapped to JSON in :mod:`caratzon_web.errors`.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import cattrs
from attrs import frozen
from flask import Blueprint, Response, current_app, jsonify, request

from caratzon_core.accounts import User
from caratzon_core.credentials import ApiToken
from caratzon_core.errors import Unauthenticated
from caratzon_core.services.accounts import AccountChanges, SignUp
from caratzon_web.context import client, services
from caratzon_web.converters import structure
from caratzon_web.errors import MalformedRequest, iso_utc
from caratzon_web.openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")

NO_TOKEN = "Send your API token in the header 'Authorization: Bearer <token>'."


@frozen
class TokenRequest:
    """The body of ``POST /api/v1/tokens`` (a web-only command)."""

    email: str
    password: str = attrs.field(repr=False)
    label: str = ""


def _converter() -> cattrs.Converter:
    return current_app.extensions["caratzon_api_converter"]  # type: ignore[no-any-return]


def _json_object() -> dict[str, Any]:
    if not request.is_json:
        raise MalformedRequest("Send a JSON object with the header 'Content-Type: application/json'.")
    try:
        data = json.loads(request.get_data(cache=False))
    except ValueError as exc:
        raise MalformedRequest(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedRequest("The request body must be a JSON object.")
    return data


def _bearer() -> tuple[User, ApiToken]:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(NO_TOKEN)
    return services().accounts.authenticate_token(token.strip())


def account_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "language": user.language.value,
        "business_name": user.business_name,
        "business_address": user.business_address,
        "object_to_ai": user.ai_objection_at is not None,
    }


@bp.post("/accounts")
def create_account() -> tuple[Response, int]:
    cmd = structure(_converter(), _json_object(), SignUp)
    user = services().accounts.sign_up(cmd, client())
    return jsonify(account_json(user)), 201


@bp.post("/tokens")
def create_token() -> tuple[Response, int]:
    body = structure(_converter(), _json_object(), TokenRequest)
    issued = services().accounts.issue_token(body.email, body.password, client(), label=body.label)
    return jsonify({"token": issued.token, "expires_at": iso_utc(issued.record.expires_at)}), 201


@bp.delete("/tokens/current")
def revoke_current_token() -> tuple[str, int]:
    user, token = _bearer()
    accounts = services().accounts
    accounts.revoke_token(accounts.actor_for(user), token.id, client())
    return "", 204


@bp.get("/me")
def me() -> Response:
    user, _ = _bearer()
    return jsonify(account_json(user))


@bp.patch("/me")
def update_me() -> Response:
    user, _ = _bearer()
    changes = structure(_converter(), _json_object(), AccountChanges)
    accounts = services().accounts
    updated = accounts.update_account(accounts.actor_for(user), user.id, changes, client())
    return jsonify(account_json(updated))


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())
