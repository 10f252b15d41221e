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
from caratzon_core.money import CURRENCY_EXPONENTS
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


_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Caratzon API",
        "version": "1.0.0",
        "summary": "The B2B jewelry-design marketplace: accounts, API tokens, designs and the catalog.",
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
