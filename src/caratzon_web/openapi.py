"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written by hand as data. A test compares its paths and methods with the routes
registered under ``/api/v1``, so adding a route without describing it fails.
"""

from __future__ import annotations

import copy
from typing import Any

from caratzon_core.accounts import (
    MAX_BUSINESS_FIELD_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    SELF_SIGN_UP_ROLES,
    Language,
    Role,
)
from caratzon_core.privacy import INITIAL_POLICY_VERSION


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, **_json(_ref("Error"))}


def _resp(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


_LANGUAGES = [lang.value for lang in Language]
_SIGN_UP_ROLES = [r.value for r in Role if r in SELF_SIGN_UP_ROLES]

_SCHEMAS: dict[str, Any] = {
    "SignUp": {
        "type": "object",
        "additionalProperties": False,
        "required": ["email", "password", "name", "role", "date_of_birth", "accept_policy_version"],
        "properties": {
            "email": {"type": "string", "format": "email", "maxLength": 254,
                      "description": "Unique regardless of case; stored lower-case."},
            "password": {"type": "string", "minLength": MIN_PASSWORD_LENGTH, "maxLength": MAX_PASSWORD_LENGTH,
                         "writeOnly": True,
                         "description": "Common or easily guessed passwords are refused."},
            "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
            "role": {"type": "string", "enum": _SIGN_UP_ROLES,
                     "description": "Production managers and admins are created by an operator."},
            "date_of_birth": {"type": "string", "format": "date",
                              "description": "YYYY-MM-DD. Used only to confirm you are 18 or over; not stored."},
            "business_name": {"type": ["string", "null"], "maxLength": MAX_BUSINESS_FIELD_LENGTH},
            "business_address": {"type": ["string", "null"], "maxLength": MAX_BUSINESS_FIELD_LENGTH},
            "language": {"type": "string", "enum": _LANGUAGES, "default": "en"},
            "accept_policy_version": {"type": "string", "examples": [INITIAL_POLICY_VERSION],
                                      "description": "The version of the privacy policy in force, "
                                                     "which you accept by signing up."},
        },
    },
    "AccountChanges": {
        "type": "object",
        "additionalProperties": False,
        "description": "Rectification: only the fields given (and not null) change. "
                       "An empty string clears an optional field.",
        "properties": {
            "name": {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_NAME_LENGTH},
            "business_name": {"type": ["string", "null"], "maxLength": MAX_BUSINESS_FIELD_LENGTH},
            "business_address": {"type": ["string", "null"], "maxLength": MAX_BUSINESS_FIELD_LENGTH},
            "language": {"type": ["string", "null"], "enum": [*_LANGUAGES, None]},
        },
    },
    "Account": {
        "type": "object",
        "required": ["id", "email", "name", "role", "language", "business_name", "business_address"],
        "properties": {
            "id": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "name": {"type": "string"},
            "role": {"type": "string", "enum": [r.value for r in Role]},
            "language": {"type": "string", "enum": _LANGUAGES},
            "business_name": {"type": ["string", "null"]},
            "business_address": {"type": ["string", "null"]},
        },
    },
    "TokenRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["email", "password"],
        "properties": {
            "email": {"type": "string"},
            "password": {"type": "string", "writeOnly": True},
            "label": {"type": "string", "maxLength": 100, "default": "",
                      "description": "A note to tell your tokens apart."},
        },
    },
    "Token": {
        "type": "object",
        "required": ["token", "expires_at"],
        "properties": {
            "token": {"type": "string", "pattern": "^czt_",
                      "description": "Shown once; only a digest is stored. Send it as 'Authorization: Bearer'."},
            "expires_at": {"type": "string", "format": "date-time", "description": "UTC."},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "examples": [
                        "validation_failed", "conflict", "unauthenticated", "forbidden", "not_found",
                        "throttled", "bad_request", "method_not_allowed"]},
                    "message": {"type": "string", "description": "For people; may change."},
                    "field": {"type": "string", "description": "The input field at fault, when there is one."},
                    "retry_at": {"type": "string", "format": "date-time",
                                 "description": "When a locked login may be tried again (UTC)."},
                    "details": {
                        "type": "array",
                        "description": "Every problem found in a JSON body.",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {"field": {"type": ["string", "null"]}, "message": {"type": "string"}},
                        },
                    },
                },
            }
        },
    },
}

_RESPONSES: dict[str, Any] = {
    "BadRequest": _error("The body is not JSON, not a JSON object, or not sent as application/json."),
    "ValidationFailed": _error("The input breaks a rule, or has unknown or mistyped fields; "
                               "'field' names the first one."),
    "Unauthenticated": {
        **_error("Missing, wrong, expired or revoked credentials."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    },
    "Forbidden": _error("The access policy does not allow this."),
    "Throttled": {
        **_error("Too many failed logins; locked until 'retry_at'."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    },
}

_PATHS: dict[str, Any] = {
    "/api/v1/accounts": {
        "post": {
            "operationId": "signUp",
            "summary": "Sign up as a designer, buyer or manufacturer (18 or over).",
            "security": [],
            "requestBody": {"required": True, **_json(_ref("SignUp"))},
            "responses": {
                "201": {"description": "The account was created.", **_json(_ref("Account"))},
                "400": _resp("BadRequest"),
                "409": _error("An account with this email already exists (in any letter case)."),
                "422": _resp("ValidationFailed"),
            },
        }
    },
    "/api/v1/tokens": {
        "post": {
            "operationId": "issueToken",
            "summary": "Log in with email and password and receive an API token.",
            "security": [],
            "requestBody": {"required": True, **_json(_ref("TokenRequest"))},
            "responses": {
                "201": {"description": "A new token.", **_json(_ref("Token"))},
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "422": _resp("ValidationFailed"),
                "429": _resp("Throttled"),
            },
        }
    },
    "/api/v1/tokens/current": {
        "delete": {
            "operationId": "revokeCurrentToken",
            "summary": "Revoke the token this request is made with.",
            "responses": {
                "204": {"description": "Revoked."},
                "401": _resp("Unauthenticated"),
                "403": _resp("Forbidden"),
            },
        }
    },
    "/api/v1/me": {
        "get": {
            "operationId": "getMe",
            "summary": "The account the token belongs to.",
            "responses": {
                "200": {"description": "Your account.", **_json(_ref("Account"))},
                "401": _resp("Unauthenticated"),
            },
        },
        "patch": {
            "operationId": "updateMe",
            "summary": "Correct your account details (rectification).",
            "requestBody": {"required": True, **_json(_ref("AccountChanges"))},
            "responses": {
                "200": {"description": "The account as it is now.", **_json(_ref("Account"))},
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _resp("Forbidden"),
                "422": _resp("ValidationFailed"),
            },
        },
    },
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document.",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI 3.1 document.", **_json({"type": "object"})}},
        }
    },
}

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Caratzon API",
        "version": "1.0.0",
        "summary": "The B2B jewelry-design marketplace: accounts and API tokens.",
        "description": (
            "Authenticate with 'Authorization: Bearer <token>' (POST /api/v1/tokens issues one). "
            "The API never uses the portal's session cookie. Every error is "
            "{\"error\": {\"code\", \"message\", \"field\"?, \"retry_at\"?}}; unknown routes "
            "answer 404 and unsupported methods 405 in the same form."
        ),
        "contact": {"name": "Clean Jewel Beyond Limited", "email": "privacy@caratzon.com"},
    },
    "servers": [{"url": "/"}],
    "security": [{"bearerAuth": []}],
    "paths": _PATHS,
    "components": {
        "schemas": _SCHEMAS,
        "responses": _RESPONSES,
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API token from POST /api/v1/tokens (prefix 'czt_').",
            }
        },
    },
}


def openapi_document() -> dict[str, Any]:
    """A fresh copy: callers may change it without touching the original."""
    return copy.deepcopy(_DOCUMENT)
