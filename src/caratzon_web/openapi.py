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
from caratzon_core.agreements import AgreementStatus
from caratzon_core.catalog import DEFAULT_PAGE, MAX_PAGE, MAX_QUERY, Sort
from caratzon_core.designs import (
    CAD_EXTENSIONS,
    GEMSTONE_TYPES,
    IMAGE_EXTENSIONS,
    MAX_DESCRIPTION,
    MAX_GEMSTONES,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TITLE,
    METALS,
    AssetKind,
    Category,
    DesignStatus,
    GemOrigin,
    Visibility,
)
from caratzon_core.geometry import CadStatus
from caratzon_core.licence_options import MAX_OPTION_NAME, MAX_OPTIONS_PER_DESIGN, OptionStatus
from caratzon_core.licensing import MAX_TERM_MONTHS, WORLDWIDE, Exclusivity, Modification, Use
from caratzon_core.messaging import (
    ATTACHMENT_EXTENSIONS,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_MESSAGE_CHARS,
    MAX_THREAD_TITLE,
    MessageKind,
    SupportTopic,
    ThreadKind,
)
from caratzon_core.money import CURRENCY_EXPONENTS
from caratzon_core.negotiation import DEFAULT_OFFER_TTL, NegotiationStatus, Party
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.engagement import MAX_ANALYTICS_DAYS


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, **_json(_ref("Error"))}


def _resp(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


_LANGUAGES = [lang.value for lang in Language]
_CATEGORIES = [c.value for c in Category]
_METALS = list(METALS)
_CURRENCIES = sorted(CURRENCY_EXPONENTS)
_DECIMAL = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}


def _decimal(description: str, *, nullable: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {**_DECIMAL, "description": description}
    if nullable:
        schema["type"] = ["string", "null"]
    return schema


def _path_id(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema or {"type": "string"},
            "description": description}


_DESIGN_ID = _path_id("design_id", "The design's id.")
_ASSET_ID = _path_id("asset_id", "The asset's id.")
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
            "object_to_ai": {"type": ["boolean", "null"],
                             "description": "true: object to AI processing of your data (no translation of "
                                            "your messages, nor of others' for you); false: allow it again."},
        },
    },
    "Account": {
        "type": "object",
        "required": ["id", "email", "name", "role", "language", "business_name", "business_address",
                     "object_to_ai"],
        "properties": {
            "id": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "name": {"type": "string"},
            "role": {"type": "string", "enum": [r.value for r in Role]},
            "language": {"type": "string", "enum": _LANGUAGES},
            "business_name": {"type": ["string", "null"]},
            "business_address": {"type": ["string", "null"]},
            "object_to_ai": {"type": "boolean", "description": "Whether you object to AI processing of your data."},
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
                        "throttled", "bad_request", "method_not_allowed", "too_large",
                        "request_entity_too_large"]},
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

_GEMSTONE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": list(GEMSTONE_TYPES)},
        "origin": {"type": "string", "enum": [o.value for o in GemOrigin], "default": "natural"},
        "carat": _decimal("Total carat weight of this line, as a decimal string (e.g. '0.50'); default '0'."),
        "count": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1},
    },
}
_DIMENSIONS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {k: _decimal(f"{k.split('_')[0].capitalize()} in mm (0.01 to 1000), a decimal string.",
                               nullable=True)
                   for k in ("width_mm", "height_mm", "depth_mm")},
}
_DESIGN_FIELDS: dict[str, Any] = {
    "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE},
    "category": {"type": "string", "enum": _CATEGORIES},
    "description": {"type": "string", "maxLength": MAX_DESCRIPTION, "default": ""},
    "metals": {"type": "array", "uniqueItems": True, "items": {"type": "string", "enum": _METALS}},
    "gemstones": {"type": "array", "maxItems": MAX_GEMSTONES, "items": _GEMSTONE},
    "dimensions": _DIMENSIONS,
    "tags": {"type": "array", "maxItems": MAX_TAGS,
             "items": {"type": "string", "maxLength": MAX_TAG_LENGTH},
             "description": "Letters, digits, spaces, - & '. Stored lower-case."},
    "price": {"oneOf": [_ref("Money"), {"type": "null"}], "description": "Price guidance for buyers."},
}

_DESIGN_SCHEMAS: dict[str, Any] = {
    "Money": {
        "type": "object",
        "additionalProperties": False,
        "required": ["amount", "currency"],
        "description": "An amount in MAJOR units as a decimal string (never a float), with its ISO 4217 currency.",
        "properties": {
            "amount": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "examples": ["1250.00"],
                       "description": "No more decimals than the currency has (JPY: none)."},
            "currency": {"type": "string", "enum": _CURRENCIES},
        },
    },
    "DesignInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["title", "category"],
        "properties": _DESIGN_FIELDS,
    },
    "DesignChanges": {
        "type": "object",
        "additionalProperties": False,
        "description": "Only the fields given (and not null) change; 'price': null clears the price guidance.",
        "properties": {k: ({**v, "type": [v["type"], "null"]} if "type" in v else v)
                       for k, v in _DESIGN_FIELDS.items()},
    },
    "Design": {
        "type": "object",
        "required": ["id", "designer_id", "title", "description", "category", "metals", "gemstones", "dimensions",
                     "tags", "price", "status", "created_at", "updated_at", "published_at"],
        "properties": {
            "id": {"type": "string"},
            "designer_id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "category": {"type": "string", "enum": _CATEGORIES},
            "metals": {"type": "array", "items": {"type": "string", "enum": _METALS}},
            "gemstones": {"type": "array", "items": {**_GEMSTONE, "required": ["type", "origin", "carat", "count"]}},
            "dimensions": {**_DIMENSIONS, "required": ["width_mm", "height_mm", "depth_mm"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "price": {"oneOf": [_ref("Money"), {"type": "null"}]},
            "status": {"type": "string", "enum": [st.value for st in DesignStatus]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "published_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "DesignDetail": {
        "allOf": [
            _ref("Design"),
            {
                "type": "object",
                "required": ["designer", "saved", "can_edit", "assets"],
                "properties": {
                    "designer": _ref("DesignerRef"),
                    "saved": {"type": "boolean", "description": "On your saved list (buyers)."},
                    "can_edit": {"type": "boolean"},
                    "assets": {
                        "type": "array",
                        "description": "The assets you may see. Production CAD is listed only for the owner and "
                                       "admins, with url null: ask GET /api/v1/assets/{asset_id}/url (audited).",
                        "items": {
                            "allOf": [
                                _ref("Asset"),
                                {
                                    "type": "object",
                                    "required": ["url", "expires_at", "thumbnail"],
                                    "properties": {
                                        "url": {"type": ["string", "null"], "format": "uri"},
                                        "expires_at": {"type": ["string", "null"], "format": "date-time"},
                                        "thumbnail": {"oneOf": [_ref("SignedLink"), {"type": "null"}]},
                                    },
                                },
                            ]
                        },
                    },
                },
            },
        ]
    },
    "DesignerRef": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
    },
    "CadAnalysis": {
        "type": "object",
        "description": "What the mesh measures. STL and OBJ carry no units: figures assume millimetres.",
        "required": ["status", "message", "weights", "warnings"],
        "properties": {
            "status": {"type": "string", "enum": [st.value for st in CadStatus]},
            "message": {"type": "string"},
            "volume_mm3": {"type": ["number", "null"]},
            "surface_area_mm2": {"type": ["number", "null"]},
            "bbox_mm": {"type": ["array", "null"], "items": {"type": "number"}, "minItems": 3, "maxItems": 3},
            "triangle_count": {"type": ["integer", "null"]},
            "watertight": {"type": ["boolean", "null"]},
            "thinnest_wall_mm": {"type": ["number", "null"], "description": "An estimate."},
            "units": {"type": ["string", "null"]},
            "casting_allowance": _decimal("The allowance the weights include, as a fraction (0.10 = 10 %).",
                                          nullable=True),
            "weights": {
                "type": "array",
                "description": "Estimated metal weight per alloy; empty unless the mesh is watertight.",
                "items": {
                    "type": "object",
                    "required": ["alloy", "name", "grams"],
                    "properties": {"alloy": {"type": "string"}, "name": {"type": "string"},
                                   "grams": _decimal("Grams, rounded half-up to 0.01 g.")},
                },
            },
            "warnings": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Asset": {
        "type": "object",
        "required": ["id", "design_id", "kind", "visibility", "filename", "content_type", "size", "sha256",
                     "created_at", "analysis"],
        "properties": {
            "id": {"type": "string"},
            "design_id": {"type": "string"},
            "kind": {"type": "string", "enum": [k.value for k in AssetKind]},
            "visibility": {"type": "string", "enum": [v.value for v in Visibility]},
            "filename": {"type": "string", "description": "The uploader's name for it (metadata only)."},
            "content_type": {"type": "string", "description": "Judged from the bytes, not the name."},
            "size": {"type": "integer"},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "width_px": {"type": ["integer", "null"]},
            "height_px": {"type": ["integer", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "analysis": {"oneOf": [_ref("CadAnalysis"), {"type": "null"}], "description": "CAD only."},
        },
    },
    "AssetUpload": {
        "type": "object",
        "additionalProperties": False,
        "required": ["file", "kind"],
        "properties": {
            "file": {"type": "string", "contentMediaType": "application/octet-stream",
                     "description": "CAD: " + ", ".join(sorted(CAD_EXTENSIONS)) + " (STL and OBJ are analysed). "
                                    "Images and renders: " + ", ".join(sorted(IMAGE_EXTENSIONS)) + ". The bytes "
                                    "must match the extension; the name may not hold folders or control "
                                    "characters. Images are re-encoded without metadata (no GPS)."},
            "kind": {"type": "string", "enum": [k.value for k in AssetKind]},
            "visibility": {"type": "string", "enum": [v.value for v in Visibility], "default": "preview",
                           "description": "Only CAD files can be production files."},
        },
    },
    "SignedLink": {
        "type": "object",
        "required": ["url", "expires_at"],
        "properties": {
            "url": {"type": "string", "format": "uri",
                    "description": "Signed; works without a token until it expires."},
            "expires_at": {"type": "string", "format": "date-time"},
        },
    },
    "CatalogPage": {
        "type": "object",
        "required": ["items", "next_cursor", "facets"],
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "title", "category", "designer", "price", "views", "saves", "thumbnail"],
                    "properties": {
                        "id": {"type": "string"},
                        "title": {"type": "string"},
                        "category": {"type": "string", "enum": _CATEGORIES},
                        "designer": _ref("DesignerRef"),
                        "price": {"oneOf": [_ref("Money"), {"type": "null"}]},
                        "views": {"type": "integer"},
                        "saves": {"type": "integer"},
                        "thumbnail": {"oneOf": [_ref("SignedLink"), {"type": "null"}]},
                    },
                },
            },
            "next_cursor": {"type": ["string", "null"], "description": "Pass as 'cursor' for the next page."},
            "facets": {
                "type": "object",
                "description": "Counts per value of category, metal and gemstone among the designs matching "
                               "every OTHER filter.",
                "properties": {name: {"type": "object", "additionalProperties": {"type": "integer"}}
                               for name in ("category", "metal", "gemstone")},
            },
        },
    },
    "Saved": {
        "type": "object",
        "required": ["saved"],
        "properties": {"saved": {"type": "boolean", "description": "Whether it is on your list now."}},
    },
    "Analytics": {
        "type": "object",
        "required": ["days"],
        "properties": {
            "days": {
                "type": "array",
                "description": "One row per UTC day with any events, oldest first. Only visitors who "
                               "accepted analytics are counted.",
                "items": {
                    "type": "object",
                    "required": ["day", "views", "saves", "median_scroll_depth"],
                    "properties": {
                        "day": {"type": "string", "format": "date"},
                        "views": {"type": "integer"},
                        "saves": {"type": "integer"},
                        "median_scroll_depth": {"type": ["integer", "null"], "minimum": 0, "maximum": 100,
                                                "description": "Percent."},
                    },
                },
            }
        },
    },
}
_SCHEMAS.update(_DESIGN_SCHEMAS)

_RESPONSES.update({
    "NotFound": _error("No such design or asset (removed designs are gone for everyone but admins)."),
    "Conflict": _error("The lifecycle does not allow this (e.g. publishing a published or removed design)."),
    "TooLarge": _error("The file or body is larger than allowed (code 'too_large' for the size limits, "
                       "'request_entity_too_large' when the whole body is)."),
})


def _design_response(description: str) -> dict[str, Any]:
    return {"description": description, **_json(_ref("Design"))}


def _lifecycle(op: str, summary: str) -> dict[str, Any]:
    return {
        "post": {
            "operationId": op,
            "summary": summary,
            "parameters": [_DESIGN_ID],
            "responses": {
                "200": _design_response("The design as it is now."),
                "401": _resp("Unauthenticated"),
                "403": _resp("Forbidden"),
                "404": _resp("NotFound"),
                "409": _resp("Conflict"),
                **({"422": _error("No preview image yet (field 'assets').")} if op == "publishDesign" else {}),
            },
        }
    }


_CATALOG_PARAMETERS = [
    _query("q", "Words in the title, description, tags or designer name (prefixes match).",
           {"type": "string", "maxLength": MAX_QUERY}),
    _query("category", "", {"type": "string", "enum": _CATEGORIES}),
    _query("metal", "", {"type": "string", "enum": _METALS}),
    _query("gemstone", "", {"type": "string", "enum": list(GEMSTONE_TYPES)}),
    _query("designer", "A designer's id."),
    _query("tags", "Comma-separated; a design must have all of them."),
    _query("price_min", "Major units, e.g. 500.00 (in 'currency').", _DECIMAL),
    _query("price_max", "Major units (in 'currency').", _DECIMAL),
    _query("currency", "The price range's currency (USD when a range is given without one).",
           {"type": "string", "enum": _CURRENCIES}),
    _query("sort", "", {"type": "string", "enum": [so.value for so in Sort], "default": Sort.NEWEST.value}),
    _query("cursor", "'next_cursor' from the previous page (same filters and sort)."),
    _query("limit", "", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE}),
]

_DESIGN_PATHS: dict[str, Any] = {
    "/api/v1/designs": {
        "post": {
            "operationId": "createDesign",
            "summary": "Create a design (designers); it starts as a draft.",
            "requestBody": {"required": True, **_json(_ref("DesignInput"))},
            "responses": {
                "201": _design_response("The new draft."),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _resp("Forbidden"),
                "422": _resp("ValidationFailed"),
            },
        }
    },
    "/api/v1/designs/{design_id}": {
        "get": {
            "operationId": "getDesign",
            "summary": "A design with its assets and signed links to those you may see.",
            "parameters": [_DESIGN_ID],
            "responses": {
                "200": {"description": "The design.", **_json(_ref("DesignDetail"))},
                "401": _resp("Unauthenticated"),
                "403": _resp("Forbidden"),
                "404": _resp("NotFound"),
            },
        },
        "patch": {
            "operationId": "updateDesign",
            "summary": "Change your design's details.",
            "parameters": [_DESIGN_ID],
            "requestBody": {"required": True, **_json(_ref("DesignChanges"))},
            "responses": {
                "200": _design_response("The design as it is now."),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _resp("Forbidden"),
                "404": _resp("NotFound"),
                "409": _resp("Conflict"),
                "422": _resp("ValidationFailed"),
            },
        },
    },
    "/api/v1/designs/{design_id}/assets": {
        "post": {
            "operationId": "uploadAsset",
            "summary": "Upload an image, render or CAD file to your design (multipart).",
            "parameters": [_DESIGN_ID],
            "requestBody": {"required": True,
                            "content": {"multipart/form-data": {"schema": _ref("AssetUpload")}}},
            "responses": {
                "201": {"description": "Stored, with its checksum and (CAD) analysis.", **_json(_ref("Asset"))},
                "401": _resp("Unauthenticated"),
                "403": _resp("Forbidden"),
                "404": _resp("NotFound"),
                "409": _resp("Conflict"),
                "413": _resp("TooLarge"),
                "422": _error("Empty file, bytes that do not match the extension, a malformed mesh, a bad file "
                              "name, or an unknown kind or visibility; nothing is stored."),
            },
        }
    },
    "/api/v1/designs/{design_id}/publish": _lifecycle(
        "publishDesign", "Publish your design to the catalog (needs a preview image)."),
    "/api/v1/designs/{design_id}/withdraw": _lifecycle(
        "withdrawDesign", "Withdraw your published design from the catalog."),
    "/api/v1/designs/{design_id}/remove": _lifecycle(
        "removeDesign", "Remove your design: hidden at once, files deleted after 90 days."),
    "/api/v1/designs/{design_id}/save": {
        "post": {
            "operationId": "saveDesign",
            "summary": "Put a published design on your saved list (buyers).",
            "parameters": [_DESIGN_ID],
            "responses": {
                "200": {"description": "Saved.", **_json(_ref("Saved"))},
                "401": _resp("Unauthenticated"),
                "403": _resp("Forbidden"),
                "404": _resp("NotFound"),
            },
        },
        "delete": {
            "operationId": "unsaveDesign",
            "summary": "Take a design off your saved list.",
            "parameters": [_DESIGN_ID],
            "responses": {
                "200": {"description": "Not saved.", **_json(_ref("Saved"))},
                "401": _resp("Unauthenticated"),
                "403": _resp("Forbidden"),
                "404": _resp("NotFound"),
            },
        },
    },
    "/api/v1/designs/{design_id}/analytics": {
        "get": {
            "operationId": "getDesignAnalytics",
            "summary": "Daily views, saves and median scroll depth of your design.",
            "parameters": [_DESIGN_ID, _query("days", "How many days back, today included.",
                                              {"type": "integer", "minimum": 1, "maximum": MAX_ANALYTICS_DAYS,
                                               "default": 30})],
            "responses": {
                "200": {"description": "The figures.", **_json(_ref("Analytics"))},
                "401": _resp("Unauthenticated"),
                "403": _resp("Forbidden"),
                "404": _resp("NotFound"),
                "422": _resp("ValidationFailed"),
            },
        }
    },
    "/api/v1/catalog": {
        "get": {
            "operationId": "searchCatalog",
            "summary": "Search the published designs, with facets and a cursor for the next page.",
            "parameters": _CATALOG_PARAMETERS,
            "responses": {
                "200": {"description": "One page of results.", **_json(_ref("CatalogPage"))},
                "401": _resp("Unauthenticated"),
                "422": _error("A bad filter or an unknown parameter; 'field' names it."),
            },
        }
    },
    "/api/v1/assets/{asset_id}/url": {
        "get": {
            "operationId": "getAssetUrl",
            "summary": "A fresh signed link to a file (production CAD: owner, admins; every issue audited).",
            "parameters": [_ASSET_ID],
            "responses": {
                "200": {"description": "The link.", **_json(_ref("SignedLink"))},
                "401": _resp("Unauthenticated"),
                "403": _error("Not allowed; the message gives the reason (e.g. buyers asking for production CAD)."),
                "404": _resp("NotFound"),
            },
        }
    },
}
_PATHS.update(_DESIGN_PATHS)


# -- licensing, negotiations, agreements, threads and support (issue #4) ------------------------------

_COUNTRY = {"type": "string", "pattern": "^[A-Za-z]{2}$",
            "description": "An ISO 3166-1 alpha-2 country code (e.g. GB, not UK); case does not matter."}
_DATE = {"type": "string", "format": "date"}
_DATETIME = {"type": "string", "format": "date-time"}
_OFFER_STATES = ["open", "superseded", "accepted", "rejected", "withdrawn", "expired"]
_FEE_INPUT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["currency"],
    "description": "More than zero. Give 'amount' (major units, a decimal string: never a float) or "
                   "'amount_minor' (whole minor units).",
    "properties": {
        "amount": {**_DECIMAL, "examples": ["1500.00"], "description": "No more decimals than the currency has."},
        "amount_minor": {"type": "integer", "minimum": 1},
        "currency": {"type": "string", "enum": _CURRENCIES,
                     "description": "ISO 4217; a flat fee and a royalty in one offer share it."},
    },
}
_TERMS_INPUT_FIELDS: dict[str, Any] = {
    "use": {"type": "string", "enum": [u.value for u in Use]},
    "exclusivity": {"type": "string", "enum": [e.value for e in Exclusivity], "default": "non_exclusive",
                    "description": "An exclusive licence may not overlap (territory and time) any active licence "
                                   "on the design, and no licence may overlap an active exclusive one (409)."},
    "territory": {
        "oneOf": [
            {"type": "string", "const": WORLDWIDE},
            {"type": "array", "minItems": 1, "items": _COUNTRY},
            {"type": "object", "additionalProperties": False,
             "properties": {"worldwide": {"type": "boolean"}, "countries": {"type": "array", "items": _COUNTRY}}},
        ],
        "description": "'worldwide', or ISO 3166-1 alpha-2 country codes.",
    },
    "term": {
        "type": "object",
        "additionalProperties": False,
        "required": ["start"],
        "properties": {
            "start": {**_DATE, "description": "YYYY-MM-DD; today or later."},
            "months": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_TERM_MONTHS,
                       "description": "Calendar months; null (or left out) is perpetual."},
        },
    },
    "fees": {
        "type": "object",
        "additionalProperties": False,
        "description": "A flat fee, a royalty per piece, or both, in one currency.",
        "properties": {"flat": {"oneOf": [_FEE_INPUT, {"type": "null"}]},
                       "royalty_per_unit": {"oneOf": [_FEE_INPUT, {"type": "null"}]}},
    },
    "unit_cap": {"type": ["integer", "null"], "minimum": 1, "description": "Pieces; null is unlimited."},
    "may_modify": {"type": "array", "uniqueItems": True, "items": {"type": "string",
                                                                    "enum": [m.value for m in Modification]}},
    "attribution_required": {"type": "boolean", "default": True},
    "cad_redistributable": {"const": False, "description": "CAD files are never redistributable."},
}
_THREAD_FIELDS: dict[str, Any] = {
    "id": {"type": "string"},
    "kind": {"type": "string", "enum": [k.value for k in ThreadKind]},
    "title": {"type": "string"},
    "topic": {"type": ["string", "null"], "enum": [*(t.value for t in SupportTopic), None],
              "description": "Support threads only."},
    "subject_id": {"type": ["string", "null"], "description": "The negotiation's id, on a negotiation thread."},
    "created_at": _DATETIME,
    "last_message_at": {"type": ["string", "null"], "format": "date-time"},
}
_PERSON = {"type": "object", "required": ["id", "name"],
           "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
_AGREEMENT_PARTY = {"type": "object", "required": ["id", "name", "business_name"],
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                                   "business_name": {"type": ["string", "null"]}}}
_TITLED = {"type": "object", "required": ["id", "title"],
           "properties": {"id": {"type": "string"}, "title": {"type": "string"}}}


def _items(name: str) -> dict[str, Any]:
    return {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": _ref(name)}}}


_LICENSING_SCHEMAS: dict[str, Any] = {
    "TermsMoney": {
        "type": "object",
        "required": ["amount", "currency", "amount_minor"],
        "description": "Money in licence terms: the decimal string in MAJOR units (never a float) beside the "
                       "whole minor units the canonical JSON holds.",
        "properties": {
            "amount": {**_DECIMAL, "examples": ["1500.00"]},
            "currency": {"type": "string", "enum": _CURRENCIES},
            "amount_minor": {"type": "integer", "examples": [150000]},
        },
    },
    "LicenceTermsInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["use", "territory", "term", "fees"],
        "description": "Every rule is checked and every problem listed in 'details'; 'field' names the first "
                       "(e.g. 'fees.flat', 'currency', 'territory', 'term.start').",
        "properties": _TERMS_INPUT_FIELDS,
    },
    "LicenceTermsChanges": {
        "type": "object",
        "additionalProperties": False,
        "description": "The top-level fields to change; each replaces that field of the latest offer (or the "
                       "option) as a whole (so 'fees' names every fee). A term that has already begun moves "
                       "to today unless 'term' is given. The result is checked like new terms.",
        "properties": _TERMS_INPUT_FIELDS,
    },
    "LicenceTerms": {
        "type": "object",
        "required": ["use", "exclusivity", "territory", "term", "unit_cap", "fees", "may_modify",
                     "attribution_required", "cad_redistributable"],
        "description": "The canonical shape (as hashed), except that money also carries a decimal 'amount'.",
        "properties": {
            "use": {"type": "string", "enum": [u.value for u in Use]},
            "exclusivity": {"type": "string", "enum": [e.value for e in Exclusivity]},
            "territory": {"type": "object", "required": ["worldwide", "countries"],
                          "properties": {"worldwide": {"type": "boolean"},
                                         "countries": {"type": "array", "items": {"type": "string"},
                                                       "description": "Sorted; empty when worldwide."}}},
            "term": {"type": "object", "required": ["start", "months"],
                     "properties": {"start": _DATE, "months": {"type": ["integer", "null"],
                                                               "description": "null: perpetual."}}},
            "unit_cap": {"type": ["integer", "null"], "description": "null: unlimited."},
            "fees": {"type": "object", "required": ["flat", "royalty_per_unit"],
                     "properties": {"flat": {"oneOf": [_ref("TermsMoney"), {"type": "null"}]},
                                    "royalty_per_unit": {"oneOf": [_ref("TermsMoney"), {"type": "null"}]}}},
            "may_modify": {"type": "array", "items": {"type": "string", "enum": [m.value for m in Modification]}},
            "attribution_required": {"type": "boolean"},
            "cad_redistributable": {"const": False},
        },
    },
    "LicenceOptionInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "terms"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": MAX_OPTION_NAME},
            "terms": _ref("LicenceTermsInput"),
        },
    },
    "LicenceOption": {
        "type": "object",
        "required": ["id", "design_id", "designer_id", "name", "status", "terms", "created_at", "retired_at"],
        "properties": {
            "id": {"type": "string"},
            "design_id": {"type": "string"},
            "designer_id": {"type": "string"},
            "name": {"type": "string"},
            "status": {"type": "string", "enum": [o.value for o in OptionStatus],
                       "description": "Retired options open no new negotiations."},
            "terms": _ref("LicenceTerms"),
            "created_at": _DATETIME,
            "retired_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "LicenceOptionList": _items("LicenceOption"),
    "NegotiationOpen": {
        "type": "object",
        "additionalProperties": False,
        "required": ["option_id"],
        "properties": {
            "option_id": {"type": "string"},
            "proposed_terms": {"oneOf": [_ref("LicenceTermsChanges"), {"type": "null"}],
                               "description": "Changes to the option's terms (a lower fee, say); "
                                              "left out: the option as listed."},
            "note": {"type": ["string", "null"], "maxLength": MAX_MESSAGE_CHARS,
                     "description": "Posted to the negotiation's thread."},
        },
    },
    "OfferInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["terms"],
        "properties": {"terms": _ref("LicenceTermsChanges")},
    },
    "AcceptInput": {
        "type": "object",
        "additionalProperties": False,
        "description": "The body may be empty: the latest offer is accepted.",
        "properties": {"offer_id": {"type": ["string", "null"],
                                    "description": "Name the offer you read, so a newer one is not accepted "
                                                   "by mistake (409 when it was superseded)."}},
    },
    "Offer": {
        "type": "object",
        "required": ["id", "by", "state", "terms", "terms_hash", "made_at", "expires_at"],
        "properties": {
            "id": {"type": "string"},
            "by": {"type": "string", "enum": [p.value for p in Party]},
            "state": {"type": "string", "enum": _OFFER_STATES,
                      "description": "Only the latest offer is open; earlier ones are superseded."},
            "terms": _ref("LicenceTerms"),
            "terms_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                           "description": "SHA-256 of the canonical JSON of these terms."},
            "made_at": _DATETIME,
            "expires_at": {**_DATETIME, "description": f"{DEFAULT_OFFER_TTL.days} days after it was made "
                                                       "unless configured otherwise."},
        },
    },
    "Negotiation": {
        "type": "object",
        "required": ["id", "status", "design", "option", "buyer", "designer", "my_party", "whose_turn",
                     "can_answer", "latest_offer_id", "accepted_offer_id", "closed_at", "thread_id",
                     "agreement_id", "offers"],
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in NegotiationStatus]},
            "design": _TITLED,
            "option": {"oneOf": [{"type": "object", "required": ["id", "name", "status"],
                                  "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                                                 "status": {"type": "string",
                                                            "enum": [o.value for o in OptionStatus]}}},
                                 {"type": "null"}]},
            "buyer": _PERSON,
            "designer": _PERSON,
            "my_party": {"type": ["string", "null"], "enum": [*(p.value for p in Party), None],
                         "description": "null for an admin looking on."},
            "whose_turn": {"type": ["string", "null"], "enum": [*(p.value for p in Party), None],
                           "description": "Who may answer the latest offer; null once closed."},
            "can_answer": {"type": "boolean",
                           "description": "It is your turn and the latest offer has not expired."},
            "latest_offer_id": {"type": "string"},
            "accepted_offer_id": {"type": ["string", "null"]},
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
            "thread_id": {"type": ["string", "null"], "description": "GET /api/v1/threads/{thread_id}/messages."},
            "agreement_id": {"type": ["string", "null"]},
            "offers": {"type": "array", "items": _ref("Offer"), "description": "Oldest first."},
        },
    },
    "NegotiationSummary": {
        "type": "object",
        "required": ["id", "status", "design", "counterparty", "my_party", "whose_turn", "my_turn",
                     "latest_offer"],
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in NegotiationStatus]},
            "design": _TITLED,
            "counterparty": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
            "my_party": {"type": "string", "enum": [p.value for p in Party]},
            "whose_turn": {"type": ["string", "null"], "enum": [*(p.value for p in Party), None]},
            "my_turn": {"type": "boolean"},
            "latest_offer": {
                "type": "object",
                "required": ["id", "by", "fees", "made_at", "expires_at"],
                "properties": {
                    "id": {"type": "string"},
                    "by": {"type": "string", "enum": [p.value for p in Party]},
                    "fees": {"type": "object", "properties": {
                        "flat": {"oneOf": [_ref("TermsMoney"), {"type": "null"}]},
                        "royalty_per_unit": {"oneOf": [_ref("TermsMoney"), {"type": "null"}]}}},
                    "made_at": _DATETIME,
                    "expires_at": _DATETIME,
                },
            },
        },
    },
    "NegotiationList": {**_items("NegotiationSummary"), "description": "Latest activity first."},
    "Agreement": {
        "type": "object",
        "required": ["id", "negotiation_id", "status", "design", "buyer", "designer", "terms", "terms_hash",
                     "canonical_terms", "effective_date", "end_date", "created_at"],
        "properties": {
            "id": {"type": "string"},
            "negotiation_id": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in AgreementStatus]},
            "design": _TITLED,
            "buyer": _AGREEMENT_PARTY,
            "designer": _AGREEMENT_PARTY,
            "terms": _ref("LicenceTerms"),
            "terms_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                           "description": "SHA-256 (hex) of the bytes of 'canonical_terms'."},
            "canonical_terms": {"type": "string",
                                "description": "The accepted terms as canonical JSON (sorted keys, no whitespace, "
                                               "ASCII, money in minor units): hash its ASCII bytes to check "
                                               "'terms_hash'."},
            "effective_date": _DATE,
            "end_date": {"type": ["string", "null"], "format": "date",
                         "description": "The first day no longer covered; null: perpetual."},
            "created_at": _DATETIME,
        },
    },
    "AgreementList": {**_items("Agreement"), "description": "Newest first."},
    "Acceptance": {
        "type": "object",
        "required": ["negotiation", "agreement"],
        "properties": {"negotiation": _ref("Negotiation"), "agreement": _ref("Agreement")},
    },
    "Thread": {"type": "object", "required": list(_THREAD_FIELDS), "properties": _THREAD_FIELDS},
    "ThreadSummary": {
        "type": "object",
        "required": [*_THREAD_FIELDS, "unread"],
        "properties": {**_THREAD_FIELDS, "unread": {"type": "integer", "minimum": 0,
                                                    "description": "Messages by others you have not read."}},
    },
    "ThreadList": {**_items("ThreadSummary"), "description": "Latest message first."},
    "Attachment": {
        "type": "object",
        "required": ["id", "filename", "content_type", "size", "sha256", "url", "expires_at"],
        "properties": {
            "id": {"type": "string"},
            "filename": {"type": "string"},
            "content_type": {"type": "string", "description": "Judged from the bytes, not the name."},
            "size": {"type": "integer"},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "url": {"type": "string", "format": "uri", "description": "Signed; works without a token until it "
                                                                     "expires (GET /api/v1/attachments/"
                                                                     "{attachment_id}/url for a fresh one)."},
            "expires_at": _DATETIME,
        },
    },
    "Message": {
        "type": "object",
        "required": ["id", "kind", "author", "event", "event_data", "text", "original", "translated", "note",
                     "language", "removed", "created_at", "attachments"],
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string", "enum": [k.value for k in MessageKind],
                     "description": "'event': a negotiation step posted by the platform."},
            "author": {"oneOf": [{"type": "object", "required": ["name", "me"],
                                  "properties": {"name": {"type": "string"}, "me": {"type": "boolean"}}},
                                 {"type": "null"}], "description": "null for events."},
            "event": {"type": ["string", "null"], "examples": ["offer.made", "offer.accepted"]},
            "event_data": {"type": ["object", "null"], "additionalProperties": {"type": "string"},
                           "description": "The event's facts (offer_id, by, fees, agreement_id, terms_hash…)."},
            "text": {"type": "string", "description": "What you read first: the translation into your language "
                                                      "where one may be made, else the original. Empty for "
                                                      "events: render them from 'event' and 'event_data'."},
            "original": {"type": "string"},
            "translated": {"type": "boolean"},
            "note": {"type": ["string", "null"], "description": "Why the original is shown when a translation "
                                                                "was wanted."},
            "language": {"type": "string", "description": "The language it was written in."},
            "removed": {"type": "boolean"},
            "created_at": _DATETIME,
            "attachments": {"type": "array", "items": _ref("Attachment")},
        },
    },
    "ThreadMessages": {
        "type": "object",
        "required": ["thread", "language", "messages"],
        "properties": {
            "thread": _ref("Thread"),
            "language": {"type": "string", "enum": _LANGUAGES, "description": "Yours: what text is translated to."},
            "messages": {"type": "array", "items": _ref("Message"), "description": "Oldest first."},
        },
    },
    "MessageInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["body"],
        "properties": {"body": {"type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS}},
    },
    "MessageUpload": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "body": {"type": "string", "maxLength": MAX_MESSAGE_CHARS,
                     "description": "May be empty when files are attached."},
            "attachments": {
                "type": "array",
                "maxItems": MAX_ATTACHMENTS,
                "items": {"type": "string", "contentMediaType": "application/octet-stream"},
                "description": f"Up to {MAX_ATTACHMENTS} files of at most {MAX_ATTACHMENT_BYTES // 2**20} MB: "
                               + ", ".join(sorted(ATTACHMENT_EXTENSIONS)) + ". Images are re-encoded without "
                               "metadata.",
            },
        },
    },
    "SupportRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["title", "body"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": MAX_THREAD_TITLE},
            "body": {"type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS},
            "topic": {"type": "string", "enum": [t.value for t in SupportTopic], "default": "support"},
        },
    },
}
_SCHEMAS.update(_LICENSING_SCHEMAS)

_OPTION_ID = _path_id("option_id", "The licence option's id.")
_NEGOTIATION_ID = _path_id("negotiation_id", "The negotiation's id.")
_AGREEMENT_ID = _path_id("agreement_id", "The agreement's id.")
_THREAD_ID = _path_id("thread_id", "The thread's id.")
_ATTACHMENT_ID = _path_id("attachment_id", "The attachment's id.")
_NO_NEGOTIATION = _error("No such negotiation (or offer: field 'offer_id').")
_NEGOTIATION_403 = _error("Only the two parties to a negotiation, the buyer and the designer, may see or act on it.")
_MOVE_409 = _error("The negotiation is closed (field 'status'), it is not your turn ('turn'), the offer is your "
                   "own, superseded ('offer_id') or expired ('expires_at'), or the terms would overlap an "
                   "exclusive licence ('exclusivity').")
_TERMS_422 = _error("The terms break a rule; 'field' names the first (e.g. 'fees.flat' for a fee of zero or "
                    "less, 'currency' for an unknown or mixed currency, 'territory' for a code that is not ISO "
                    "3166-1 alpha-2, 'term.start' for a term in the past) and 'details' lists them all.")


def _negotiation_response(description: str) -> dict[str, Any]:
    return {"description": description, **_json(_ref("Negotiation"))}


def _close(op: str, summary: str, conflict: str) -> dict[str, Any]:
    return {
        "post": {
            "operationId": op,
            "summary": summary,
            "parameters": [_NEGOTIATION_ID],
            "responses": {
                "200": _negotiation_response("The negotiation, closed."),
                "401": _resp("Unauthenticated"),
                "403": _NEGOTIATION_403,
                "404": _NO_NEGOTIATION,
                "409": _error(conflict),
            },
        }
    }


_LICENSING_PATHS: dict[str, Any] = {
    "/api/v1/designs/{design_id}/licence-options": {
        "get": {
            "operationId": "listLicenceOptions",
            "summary": "The licence options on a design (published designs: everyone signed in).",
            "parameters": [_DESIGN_ID, _query("include_retired", "Owners only: list retired options too.",
                                              {"type": "boolean", "default": False})],
            "responses": {
                "200": {"description": "Oldest first.", **_json(_ref("LicenceOptionList"))},
                "401": _resp("Unauthenticated"),
                "404": _error("No such design, or not one you may see."),
                "422": _error("A bad or unknown parameter; 'field' names it."),
            },
        },
        "post": {
            "operationId": "addLicenceOption",
            "summary": "Offer a licence on your design: named terms with list prices "
                       f"(at most {MAX_OPTIONS_PER_DESIGN} per design).",
            "parameters": [_DESIGN_ID],
            "requestBody": {"required": True, **_json(_ref("LicenceOptionInput"))},
            "responses": {
                "201": {"description": "The new option.", **_json(_ref("LicenceOption"))},
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _error("Only the designer who owns a design may offer licences on it."),
                "404": _error("No such design."),
                "409": _error("The terms overlap an active exclusive licence, or are exclusive and overlap an "
                              "active licence (field 'exclusivity')."),
                "422": _TERMS_422,
            },
        },
    },
    "/api/v1/licence-options/{option_id}/retire": {
        "post": {
            "operationId": "retireLicenceOption",
            "summary": "Retire your option: no new negotiations from it; open ones and agreements keep their terms.",
            "parameters": [_OPTION_ID],
            "responses": {
                "200": {"description": "The option, retired.", **_json(_ref("LicenceOption"))},
                "401": _resp("Unauthenticated"),
                "403": _error("Only the designer who owns the design may retire its options."),
                "404": _error("No such licence option."),
            },
        }
    },
    "/api/v1/negotiations": {
        "post": {
            "operationId": "openNegotiation",
            "summary": "Open a negotiation (buyers): the first offer is the option's terms, or changed ones.",
            "requestBody": {"required": True, **_json(_ref("NegotiationOpen"))},
            "responses": {
                "201": _negotiation_response("The new negotiation, with its first offer and thread."),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _error("Only buyers may open a licence negotiation."),
                "404": _error("No such licence option (field 'option_id')."),
                "409": _error("The option was retired or the design is not published (field 'option_id'), or "
                              "the terms would overlap an exclusive licence ('exclusivity')."),
                "422": _TERMS_422,
            },
        },
        "get": {
            "operationId": "listMyNegotiations",
            "summary": "Your negotiations, as buyer or designer, latest activity first.",
            "responses": {
                "200": {"description": "Your negotiations.", **_json(_ref("NegotiationList"))},
                "401": _resp("Unauthenticated"),
            },
        },
    },
    "/api/v1/negotiations/{negotiation_id}": {
        "get": {
            "operationId": "getNegotiation",
            "summary": "A negotiation with every offer's terms, whose turn it is and what you may do.",
            "parameters": [_NEGOTIATION_ID],
            "responses": {
                "200": _negotiation_response("The negotiation."),
                "401": _resp("Unauthenticated"),
                "403": _NEGOTIATION_403,
                "404": _NO_NEGOTIATION,
            },
        }
    },
    "/api/v1/negotiations/{negotiation_id}/offers": {
        "post": {
            "operationId": "makeOffer",
            "summary": "Counter the latest offer with changed terms (the party whose turn it is).",
            "parameters": [_NEGOTIATION_ID],
            "requestBody": {"required": True, **_json(_ref("OfferInput"))},
            "responses": {
                "201": _negotiation_response("The negotiation with the new offer last."),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _NEGOTIATION_403,
                "404": _NO_NEGOTIATION,
                "409": _MOVE_409,
                "422": _TERMS_422,
            },
        }
    },
    "/api/v1/negotiations/{negotiation_id}/accept": {
        "post": {
            "operationId": "acceptOffer",
            "summary": "Accept the other party's latest offer; the agreement is created at once.",
            "parameters": [_NEGOTIATION_ID],
            "requestBody": {"required": False, **_json(_ref("AcceptInput"))},
            "responses": {
                "200": {"description": "The accepted negotiation and its agreement.", **_json(_ref("Acceptance"))},
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _NEGOTIATION_403,
                "404": _NO_NEGOTIATION,
                "409": _MOVE_409,
                "422": _resp("ValidationFailed"),
            },
        }
    },
    "/api/v1/negotiations/{negotiation_id}/reject": _close(
        "rejectOffer", "Reject the other party's latest offer and end the negotiation.",
        "Closed already ('status'), not your turn ('turn') or the offer expired ('expires_at')."),
    "/api/v1/negotiations/{negotiation_id}/withdraw": _close(
        "withdrawNegotiation", "Walk away from an open negotiation (either party, whoever's turn it is).",
        "Closed already ('status') or the latest offer expired ('expires_at')."),
    "/api/v1/agreements": {
        "get": {
            "operationId": "listMyAgreements",
            "summary": "Your licence agreements, as buyer or designer, newest first.",
            "responses": {
                "200": {"description": "Your agreements.", **_json(_ref("AgreementList"))},
                "401": _resp("Unauthenticated"),
            },
        }
    },
    "/api/v1/agreements/{agreement_id}": {
        "get": {
            "operationId": "getAgreement",
            "summary": "An agreement: parties, design, the exact accepted terms and their hash.",
            "parameters": [_AGREEMENT_ID],
            "responses": {
                "200": {"description": "The agreement.", **_json(_ref("Agreement"))},
                "401": _resp("Unauthenticated"),
                "403": _error("Only the parties to an agreement may see it."),
                "404": _error("No such agreement."),
            },
        }
    },
    "/api/v1/threads": {
        "get": {
            "operationId": "listMyThreads",
            "summary": "The conversations you take part in, with unread counts.",
            "responses": {
                "200": {"description": "Your threads.", **_json(_ref("ThreadList"))},
                "401": _resp("Unauthenticated"),
            },
        }
    },
    "/api/v1/threads/{thread_id}/messages": {
        "get": {
            "operationId": "readThread",
            "summary": "A thread's messages as you read them (translated where allowed); marks them read.",
            "parameters": [_THREAD_ID],
            "responses": {
                "200": {"description": "The thread.", **_json(_ref("ThreadMessages"))},
                "401": _resp("Unauthenticated"),
                "403": _error("Only the participants of a conversation may read it (and admins, support ones)."),
                "404": _error("No such conversation."),
            },
        },
        "post": {
            "operationId": "postMessage",
            "summary": "Write in a thread: JSON, or multipart with files in 'attachments'.",
            "parameters": [_THREAD_ID],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("MessageInput")},
                "multipart/form-data": {"schema": _ref("MessageUpload")},
            }},
            "responses": {
                "201": {"description": "The message as you see it.", **_json(_ref("Message"))},
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _error("Only the participants of a conversation may write in it (and admins, support "
                              "ones)."),
                "404": _error("No such conversation."),
                "413": _resp("TooLarge"),
                "422": _error("An empty message, control characters, too many files or a file of the wrong "
                              "type; nothing is stored."),
            },
        },
    },
    "/api/v1/attachments/{attachment_id}/url": {
        "get": {
            "operationId": "getAttachmentUrl",
            "summary": "A fresh signed link to a message's attachment.",
            "parameters": [_ATTACHMENT_ID],
            "responses": {
                "200": {"description": "The link.", **_json(_ref("SignedLink"))},
                "401": _resp("Unauthenticated"),
                "403": _error("Only the participants of the conversation may fetch it."),
                "404": _error("No such attachment."),
            },
        }
    },
    "/api/v1/support": {
        "post": {
            "operationId": "openSupportThread",
            "summary": "Ask support or send feedback: a thread between you and the admins.",
            "requestBody": {"required": True, **_json(_ref("SupportRequest"))},
            "responses": {
                "201": {"description": "The new thread (its first message is your text).", **_json(_ref("Thread"))},
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "422": _resp("ValidationFailed"),
            },
        },
        "get": {
            "operationId": "listSupportThreads",
            "summary": "Support requests and feedback: yours, or every one for admins.",
            "responses": {
                "200": {"description": "Latest message first.", **_json(_ref("ThreadList"))},
                "401": _resp("Unauthenticated"),
            },
        },
    },
}
_PATHS.update(_LICENSING_PATHS)


_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Caratzon API",
        "version": "1.0.0",
        "summary": "The B2B jewelry-design marketplace: accounts, API tokens, designs, the catalog, "
                   "licensing and messages.",
        "description": (
            "Authenticate with 'Authorization: Bearer <token>' (POST /api/v1/tokens issues one). "
            "The API never uses the portal's session cookie. Every error is "
            "{\"error\": {\"code\", \"message\", \"field\"?, \"retry_at\"?}}; unknown routes "
            "answer 404 and unsupported methods 405 in the same form. Money is a decimal string in "
            "major units with its currency, never a float. Links to files are signed and expire."
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
