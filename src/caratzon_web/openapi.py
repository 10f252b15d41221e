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
from caratzon_core.ledger import EntryKind
from caratzon_core.licence_options import MAX_OPTION_NAME, MAX_OPTIONS_PER_DESIGN, OptionStatus
from caratzon_core.licensing import MAX_TERM_MONTHS, WORLDWIDE, Exclusivity, Modification, Use
from caratzon_core.manufacturers import MAX_CAPACITY, MAX_LEAD_DAYS, Process, Vetting
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
from caratzon_core.orders import (
    MAX_CARRIER,
    MAX_ENGRAVING,
    MAX_NOTES,
    MAX_QUANTITY,
    MAX_STONE_LINES,
    MAX_TRACKING,
    Finish,
    OrderStatus,
    Setting,
    Side,
    SizeSystem,
)
from caratzon_core.payments import InstructionKind, InstructionStatus
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.requests import MAX_DETAILS, Origin, RequestStatus, RequestType
from caratzon_core.retention import RuleCode, RunStatus
from caratzon_core.routing import ExclusionReason
from caratzon_core.services.engagement import MAX_ANALYTICS_DAYS
from caratzon_core.services.retention import MAX_REASON as MAX_HOLD_REASON


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


# -- orders, routing and production (issue #5) ----------------------------------------------------

_ORDER_STATUSES = [st.value for st in OrderStatus]
_MOVES = ["submitted", "accepted", "declined", "in_production", "quality_check", "qc_passed", "shipped",
          "delivered", "completed", "disputed", "cancelled"]
_PROCESSES = [p.value for p in Process]
_MONEY = _ref("Money")
_SCORE = {"type": "string", "pattern": r"^[01]\.[0-9]{4}$", "description": "Between 0 and 1, four decimals."}
_NULL_DATETIME = {"type": ["string", "null"], "format": "date-time"}

_BRIEF_FIELDS: dict[str, Any] = {
    "alloy": {"type": "string", "enum": _METALS,
              "description": "A metal the design is made in, unless the licence lets the metal change."},
    "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY,
                 "description": "Pieces; at most what the licence's unit cap leaves (earlier orders count)."},
    "ship_to": {**_COUNTRY, "description": "ISO 3166-1 alpha-2, inside the licence territory."},
    "wanted_by": {**_DATE, "description": "After today, and inside the licence term."},
    "size": {"oneOf": [{
        "type": "object", "additionalProperties": False, "required": ["system", "value"],
        "properties": {"system": {"type": "string", "enum": [z.value for z in SizeSystem]},
                       "value": {"type": "string", "examples": ["6.75", "O 1/2", "56", "20x15x4"],
                                 "description": "US in quarter steps (0-16), UK letters A-Z with halves, EU "
                                                "38-76, or width x height x depth in mm."}},
    }, {"type": "null"}], "description": "Only when the licence lets the ring size change."},
    "stones": {"type": "array", "maxItems": MAX_STONE_LINES, "description": "Only when the licence lets the "
               "stones change.", "items": {
                   "type": "object", "additionalProperties": False, "required": ["type", "carat"],
                   "properties": {"type": {"type": "string", "enum": list(GEMSTONE_TYPES)},
                                  "carat": _decimal("Per stone, 0.001 to 100, a decimal string."),
                                  "count": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1},
                                  "setting": {"type": "string", "enum": [x.value for x in Setting],
                                              "default": "prong"}}}},
    "engraving": {"type": "string", "maxLength": MAX_ENGRAVING, "default": ""},
    "finish": {"type": "string", "enum": [f.value for f in Finish], "default": "polished",
               "description": "'rhodium_plated' needs a workshop that plates."},
    "notes": {"type": "string", "maxLength": MAX_NOTES, "default": ""},
}
_BRIEF_OUT = {k: v for k, v in _BRIEF_FIELDS.items()}
_BRIEF_OUT["stones"] = {"type": "array", "items": {
    "type": "object", "required": ["type", "carat", "count", "setting"],
    "properties": {"type": {"type": "string"}, "carat": _decimal("Per stone."), "count": {"type": "integer"},
                   "setting": {"type": "string", "enum": [x.value for x in Setting]}}}}

_ORDER_FIELDS: dict[str, Any] = {
    "id": {"type": "string"},
    "ref": {"type": "string", "description": "A short reference people can read out (the id's last 8 characters)."},
    "status": {"type": "string", "enum": _ORDER_STATUSES},
    "agreement_id": {"type": "string"},
    "design_id": {"type": "string"},
    "manufacturer_id": {"type": ["string", "null"], "description": "The manufacturer the job is offered to or "
                                                                   "made by."},
    "brief": _ref("Brief"),
    "quote": {"oneOf": [_ref("Quote"), {"type": "null"}], "description": "Fixed when the order is submitted."},
    "created_at": _DATETIME,
    "updated_at": _DATETIME,
    "submitted_at": _NULL_DATETIME,
    "offered_at": _NULL_DATETIME,
    "offer_expires_at": {**_NULL_DATETIME, "description": "The manufacturer answers by then, or the job goes back "
                                                          "to routing without them."},
    "accepted_at": _NULL_DATETIME,
    "qc_failures": {"type": "integer", "minimum": 0},
    "qc_passed_at": _NULL_DATETIME,
    "shipment": {"oneOf": [{"type": "object", "required": ["carrier", "tracking", "shipped_at"],
                            "properties": {"carrier": {"type": "string"}, "tracking": {"type": "string"},
                                           "shipped_at": _DATETIME}}, {"type": "null"}]},
    "delivered_at": _NULL_DATETIME,
    "closed_at": _NULL_DATETIME,
    "reason": {"type": ["string", "null"], "description": "The latest cancellation, dispute, reassignment or "
                                                          "quality-check reason."},
}
_ORDER_VIEW_FIELDS: dict[str, Any] = {
    **_ORDER_FIELDS,
    "design": _TITLED,
    "buyer": {"oneOf": [{"type": "object", "required": ["name", "business_name", "business_address"],
                         "properties": {"name": {"type": "string"}, "business_name": {"type": ["string", "null"]},
                                        "business_address": {"type": ["string", "null"]}}}, {"type": "null"}],
              "description": "The buyer's identity, for the order's parties only."},
    "manufacturer": {"oneOf": [_PERSON, {"type": "null"}]},
    "my_side": {"type": ["string", "null"], "enum": [*(x.value for x in Side if x is not Side.SYSTEM), None],
                "description": "null for the design's designer, who looks on."},
    "moves": {"type": "array", "items": {"type": "string", "enum": _MOVES},
              "description": "The transitions you may make now (POST .../transitions with 'to')."},
    "thread_id": {"type": ["string", "null"], "description": "The order's conversation (from submission): "
                                                             "GET/POST /api/v1/threads/{thread_id}/messages."},
    "timeline": {"type": "array", "description": "Every step, oldest first.", "items": {
        "type": "object", "required": ["event", "data", "at"],
        "properties": {"event": {"type": "string", "examples": ["order.submitted", "order.routed",
                                                                "order.accepted", "order.shipped"]},
                       "data": {"type": "object", "additionalProperties": {"type": "string"},
                                "description": "from, to, by (buyer, manufacturer, production, system) and the "
                                               "step's facts (manufacturer_id, reason, carrier, tracking…)."},
                       "at": _DATETIME}}},
    "ledger": {"type": "array", "items": _ref("LedgerEntry"),
               "description": "Production managers and admins only (empty for others)."},
    "payments": {"type": "array", "items": _ref("PaymentInstruction"),
                 "description": "Production managers and admins only (empty for others)."},
}
_CANDIDATE = {
    "type": "object",
    "required": ["rank", "manufacturer_id", "name", "score", "finish_on", "labour_per_piece", "notes"],
    "properties": {
        "rank": {"type": "integer", "minimum": 1},
        "manufacturer_id": {"type": "string"},
        "name": {"type": "string"},
        "score": {"type": "object", "required": ["slack", "cost", "rating", "load", "total"],
                  "description": "total = 0.35 slack + 0.25 cost + 0.25 rating + 0.15 load.",
                  "properties": {k: _SCORE for k in ("slack", "cost", "rating", "load", "total")}},
        "finish_on": _DATE,
        "labour_per_piece": _MONEY,
        "notes": {"type": "array", "items": {"type": "string"}},
    },
}
_MANUFACTURER_INPUT: dict[str, Any] = {
    "name": {"type": ["string", "null"], "maxLength": 200, "description": "The workshop's name; your business "
                                                                         "name by default."},
    "processes": {"type": "array", "minItems": 1, "uniqueItems": True,
                  "items": {"type": "string", "enum": _PROCESSES}},
    "metals": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string", "enum": _METALS}},
    "min_quantity": {"type": "integer", "minimum": 1, "maximum": MAX_CAPACITY},
    "max_quantity": {"type": "integer", "minimum": 1, "maximum": MAX_CAPACITY},
    "weekly_capacity": {"type": "integer", "minimum": 1, "maximum": MAX_CAPACITY, "description": "Pieces a week."},
    "lead_time_days": {"type": "integer", "minimum": 1, "maximum": MAX_LEAD_DAYS},
    "ships_to": {"type": "array", "minItems": 1, "items": _COUNTRY},
    "labour_per_piece": _decimal("Major units of 'currency', e.g. '80.00'."),
    "labour_per_stone": {**_decimal("Per stone set; '0' by default."), "default": "0"},
    "currency": {"type": "string", "enum": _CURRENCIES},
}

_ORDER_SCHEMAS: dict[str, Any] = {
    "Brief": {"type": "object", "required": list(_BRIEF_FIELDS), "properties": _BRIEF_OUT},
    "BriefInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["alloy", "quantity", "ship_to", "wanted_by"],
        "description": "What to make. Every field is checked, then the licence (manufacturing use, unit cap, "
                       "territory, term, what may change); every problem is listed in 'details'.",
        "properties": _BRIEF_FIELDS,
    },
    "OrderInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["agreement_id", "brief"],
        "properties": {
            "agreement_id": {"type": "string", "description": "Your active licence agreement."},
            "brief": _ref("BriefInput"),
            "submit": {"type": "boolean", "default": True,
                       "description": "Submit at once at the quoted price (and route it); false keeps a draft."},
        },
    },
    "QuoteInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["agreement_id", "brief"],
        "properties": {"agreement_id": {"type": "string"}, "brief": _ref("BriefInput")},
    },
    "Quote": {
        "type": "object",
        "required": ["currency", "quantity", "lines", "subtotal", "platform_fee", "platform_fee_rate", "total",
                     "net_grams_per_piece", "prices_effective"],
        "description": "Each per-piece line is rounded half-up to a minor unit once, then multiplied by the "
                       "quantity; the platform fee is rounded once on the subtotal: the lines add up exactly.",
        "properties": {
            "currency": {"type": "string", "enum": _CURRENCIES},
            "quantity": {"type": "integer"},
            "lines": {"type": "array", "items": {
                "type": "object", "required": ["code", "label", "per_piece", "amount", "detail"],
                "properties": {"code": {"type": "string", "enum": ["metal", "labour", "stones", "licence_royalty"]},
                               "label": {"type": "string"}, "per_piece": _MONEY, "amount": _MONEY,
                               "detail": {"type": "string", "description": "How it is worked out."}}}},
            "subtotal": _MONEY,
            "platform_fee": _MONEY,
            "platform_fee_rate": _decimal("A fraction, e.g. '0.08'."),
            "total": _MONEY,
            "net_grams_per_piece": _decimal("From the design's CAD analysis."),
            "prices_effective": _DATE,
        },
    },
    "Order": {"type": "object", "required": list(_ORDER_VIEW_FIELDS), "properties": _ORDER_VIEW_FIELDS},
    "OrderSummary": {
        "type": "object",
        "required": ["id", "ref", "status", "design", "my_side", "quantity", "wanted_by", "total",
                     "manufacturer_id", "updated_at"],
        "properties": {
            "id": {"type": "string"}, "ref": {"type": "string"},
            "status": {"type": "string", "enum": _ORDER_STATUSES},
            "design": _TITLED,
            "my_side": {"type": ["string", "null"], "enum": [*(x.value for x in Side if x is not Side.SYSTEM), None]},
            "quantity": {"type": "integer"}, "wanted_by": _DATE,
            "total": {"oneOf": [_MONEY, {"type": "null"}]},
            "manufacturer_id": {"type": ["string", "null"]},
            "updated_at": _DATETIME,
        },
    },
    "OrderList": {**_items("OrderSummary"), "description": "Latest activity first: as buyer, as the design's "
                                                           "designer, or as the manufacturer."},
    "TransitionInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["to"],
        "description": "'reason' is required to cancel, dispute, fail a quality check ('in_production' from "
                       "quality_check) and reassign; 'carrier' and 'tracking' to ship.",
        "properties": {
            "to": {"type": "string", "enum": _MOVES},
            "reason": {"type": ["string", "null"], "maxLength": 1000},
            "carrier": {"type": ["string", "null"], "maxLength": MAX_CARRIER},
            "tracking": {"type": ["string", "null"], "maxLength": MAX_TRACKING},
        },
    },
    "AssignInput": {
        "type": "object",
        "additionalProperties": False,
        "description": "Empty: the routing's best. Anyone else is an override and needs 'reason' (audited).",
        "properties": {"manufacturer_id": {"type": ["string", "null"]},
                       "reason": {"type": ["string", "null"], "maxLength": 1000}},
    },
    "Routing": {
        "type": "object",
        "required": ["order_id", "decided_at", "chosen", "reason", "candidates", "excluded"],
        "properties": {
            "order_id": {"type": "string"},
            "decided_at": _DATETIME,
            "chosen": {"type": ["string", "null"], "description": "The best candidate's id; null: nobody qualifies."},
            "reason": {"type": "string", "description": "Why, for people."},
            "candidates": {"type": "array", "items": _CANDIDATE, "description": "Best first."},
            "excluded": {"type": "array", "description": "Every other manufacturer with the first rule it fails.",
                         "items": {"type": "object", "required": ["manufacturer_id", "name", "reason", "message"],
                                   "properties": {"manufacturer_id": {"type": "string"}, "name": {"type": "string"},
                                                  "reason": {"type": "string",
                                                             "enum": [r.value for r in ExclusionReason]},
                                                  "message": {"type": "string"}}}},
        },
    },
    "LedgerEntry": {
        "type": "object",
        "required": ["id", "kind", "currency", "idempotency_key", "at", "amount", "lines"],
        "description": "Double entry: debits equal credits in every entry.",
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string", "enum": [k.value for k in EntryKind]},
            "currency": {"type": "string", "enum": _CURRENCIES},
            "idempotency_key": {"type": "string"},
            "at": _DATETIME,
            "amount": _MONEY,
            "lines": {"type": "array", "items": {
                "type": "object", "required": ["account", "debit", "credit"],
                "properties": {"account": {"type": "string", "examples": ["clearing", "revenue:platform_fee"]},
                               "debit": _decimal("Major units."), "credit": _decimal("Major units.")}}},
        },
    },
    "PaymentInstruction": {
        "type": "object",
        "required": ["id", "kind", "amount", "party_id", "status", "attempts", "external_id", "last_error",
                     "created_at"],
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string", "enum": [k.value for k in InstructionKind]},
            "amount": _MONEY,
            "party_id": {"type": "string"},
            "status": {"type": "string", "enum": [x.value for x in InstructionStatus]},
            "attempts": {"type": "integer"},
            "external_id": {"type": ["string", "null"]},
            "last_error": {"type": ["string", "null"]},
            "created_at": _DATETIME,
        },
    },
    "CadLinks": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": {
            "type": "object", "required": ["asset", "url", "expires_at"],
            "properties": {"asset": {"type": "object", "required": ["id", "filename", "content_type", "size",
                                                                    "sha256"],
                                     "properties": {"id": {"type": "string"}, "filename": {"type": "string"},
                                                    "content_type": {"type": "string"}, "size": {"type": "integer"},
                                                    "sha256": {"type": "string"}}},
                           "url": {"type": "string", "format": "uri",
                                   "description": "Signed for you alone; expires in minutes."},
                           "expires_at": _DATETIME}}}},
    },
    "ManufacturerInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["processes", "metals", "min_quantity", "max_quantity", "weekly_capacity", "lead_time_days",
                     "ships_to", "labour_per_piece", "currency"],
        "description": "Every field is checked and every problem listed in 'details'; vetting and the NDA are kept.",
        "properties": _MANUFACTURER_INPUT,
    },
    "Manufacturer": {
        "type": "object",
        "required": ["id", "name", "processes", "metals", "min_quantity", "max_quantity", "weekly_capacity",
                     "current_load", "lead_time_days", "ships_to", "labour", "vetting", "vetted_by", "vetted_at",
                     "nda_signed_on", "nda_expires_on", "score", "updated_at"],
        "properties": {
            "id": {"type": "string", "description": "The manufacturer's account id."},
            "name": {"type": "string"},
            "processes": {"type": "array", "items": {"type": "string", "enum": _PROCESSES}},
            "metals": {"type": "array", "items": {"type": "string", "enum": _METALS}},
            "min_quantity": {"type": "integer"},
            "max_quantity": {"type": "integer"},
            "weekly_capacity": {"type": "integer"},
            "current_load": {"type": "integer", "description": "Pieces in accepted, unfinished jobs."},
            "lead_time_days": {"type": "integer"},
            "ships_to": {"type": "array", "items": {"type": "string"}},
            "labour": {"type": "object", "required": ["per_piece", "per_stone"],
                       "properties": {"per_piece": _MONEY, "per_stone": _MONEY}},
            "vetting": {"type": "string", "enum": [v.value for v in Vetting]},
            "vetted_by": {"type": ["string", "null"]},
            "vetted_at": _NULL_DATETIME,
            "nda_signed_on": {"type": ["string", "null"], "format": "date"},
            "nda_expires_on": {"type": ["string", "null"], "format": "date",
                               "description": "The NDA covers this day; production files stop after it."},
            "score": {"type": "object", "required": ["jobs", "on_probation", "rating", "on_time_rate",
                                                     "qc_failure_rate", "responsiveness_hours", "computed_at"],
                      "description": "From the last six months of the workshop's own completed jobs.",
                      "properties": {
                          "jobs": {"type": "integer"},
                          "on_probation": {"type": "boolean", "description": "Fewer than 10 jobs: jobs of at most "
                                                                             "20 pieces."},
                          "rating": {**_decimal("0 to 1; null on probation."), "type": ["string", "null"]},
                          "on_time_rate": {**_decimal("0 to 1."), "type": ["string", "null"]},
                          "qc_failure_rate": {**_decimal("0 to 1."), "type": ["string", "null"]},
                          "responsiveness_hours": {**_decimal("Median hours to answer a job offer."),
                                                   "type": ["string", "null"]},
                          "computed_at": _NULL_DATETIME}},
            "updated_at": _NULL_DATETIME,
        },
    },
    "ManufacturerList": {**_items("Manufacturer"), "description": "By name."},
    "VetInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["nda_until"],
        "properties": {"nda_until": {**_DATE, "description": "The NDA's last day; today or later."},
                       "nda_signed_on": {"type": ["string", "null"], "format": "date",
                                         "description": "Today or earlier; today when left out."}},
    },
    "SuspendInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["reason"],
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 1000}},
    },
}
_SCHEMAS.update(_ORDER_SCHEMAS)

_ORDER_ID = _path_id("order_id", "The order's id.")
_MANUFACTURER_ID = _path_id("manufacturer_id", "The manufacturer's account id (or email).")
_ORDER_403 = _error("Only the order's buyer, the design's designer, the assigned manufacturer and production "
                    "managers may see an order.")
_NO_ORDER = _error("No such order.")
_BRIEF_422 = _error("The brief breaks a rule, or the licence does not allow it; 'field' names the first "
                    "(e.g. 'quantity' above the licence's remaining units, 'ship_to' outside its territory, "
                    "'wanted_by' not after today or after the licence ends, 'agreement_id' for a licence not "
                    "in force or not for manufacturing, 'alloy', 'size', 'stones') and 'details' lists them all. "
                    "Nothing is stored.")
_PM_ONLY = _error("Production managers and admins only.")


def _order_response(description: str) -> dict[str, Any]:
    return {"description": description, **_json(_ref("Order"))}


def _maker_response(description: str) -> dict[str, Any]:
    return {"description": description, **_json(_ref("Manufacturer"))}


_ORDER_PATHS: dict[str, Any] = {
    "/api/v1/orders": {
        "post": {
            "operationId": "createOrder",
            "summary": "Order pieces under your licence: checked against it, priced, submitted and routed.",
            "requestBody": {"required": True, **_json(_ref("OrderInput"))},
            "responses": {
                "201": _order_response("The order (routed to a manufacturer when one qualifies)."),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _error("Only the buyer holding the licence may order pieces under it."),
                "404": _error("No such licence agreement of yours (field 'agreement_id')."),
                "409": _error("The licensed design is no longer available (field 'agreement_id')."),
                "422": _BRIEF_422,
            },
        },
        "get": {
            "operationId": "listMyOrders",
            "summary": "Your orders: as buyer, as the design's designer, or your jobs as manufacturer.",
            "responses": {
                "200": {"description": "Your orders.", **_json(_ref("OrderList"))},
                "401": _resp("Unauthenticated"),
            },
        },
    },
    "/api/v1/quotes": {
        "post": {
            "operationId": "quoteOrder",
            "summary": "A live quote for a brief under your licence; nothing is stored.",
            "requestBody": {"required": True, **_json(_ref("QuoteInput"))},
            "responses": {
                "200": {"description": "The quote, line by line.", **_json(_ref("Quote"))},
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _error("Only buyers may order pieces."),
                "404": _error("No such licence agreement of yours (field 'agreement_id')."),
                "409": _error("The licensed design is no longer available (field 'agreement_id')."),
                "422": _BRIEF_422,
            },
        }
    },
    "/api/v1/orders/{order_id}": {
        "get": {
            "operationId": "getOrder",
            "summary": "An order with its brief, fixed quote, timeline and the steps you may take.",
            "parameters": [_ORDER_ID],
            "responses": {
                "200": _order_response("The order."),
                "401": _resp("Unauthenticated"),
                "403": _ORDER_403,
                "404": _NO_ORDER,
            },
        }
    },
    "/api/v1/orders/{order_id}/quote": {
        "get": {
            "operationId": "getOrderQuote",
            "summary": "The quote fixed on the order when it was submitted.",
            "parameters": [_ORDER_ID],
            "responses": {
                "200": {"description": "The quote.", **_json(_ref("Quote"))},
                "401": _resp("Unauthenticated"),
                "403": _ORDER_403,
                "404": _NO_ORDER,
                "409": _error("The order is a draft: no price is fixed yet (field 'status')."),
            },
        }
    },
    "/api/v1/orders/{order_id}/routing": {
        "get": {
            "operationId": "getOrderRouting",
            "summary": "Every manufacturer ranked with the parts of its score, and every exclusion with its reason.",
            "parameters": [_ORDER_ID],
            "responses": {
                "200": {"description": "The routing as of now.", **_json(_ref("Routing"))},
                "401": _resp("Unauthenticated"),
                "403": _PM_ONLY,
                "404": _NO_ORDER,
            },
        }
    },
    "/api/v1/orders/{order_id}/assign": {
        "post": {
            "operationId": "assignOrder",
            "summary": "Offer the job to the routing's best, or (an override, with a reason) to another "
                       "manufacturer; reassigns before shipping.",
            "parameters": [_ORDER_ID],
            "requestBody": {"required": True, **_json(_ref("AssignInput"))},
            "responses": {
                "200": _order_response("The order, offered to the manufacturer."),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _PM_ONLY,
                "404": _error("No such order, or no such manufacturer (field 'manufacturer_id')."),
                "409": _error("Nobody qualifies; the manufacturer is not vetted or its NDA does not cover the job "
                              "(never overridable); it declined before; the job is already with it; or the "
                              "order's status does not allow routing (field 'manufacturer_id' or 'to')."),
                "422": _error("An override (anyone but the routing's best) or a reassignment without a reason "
                              "(field 'reason')."),
            },
        }
    },
    "/api/v1/orders/{order_id}/transitions": {
        "post": {
            "operationId": "moveOrder",
            "summary": "One step of the order (accept, decline, production, quality check, ship, deliver, "
                       "complete, dispute, cancel), by whoever may make it.",
            "parameters": [_ORDER_ID],
            "requestBody": {"required": True, **_json(_ref("TransitionInput"))},
            "responses": {
                "200": _order_response("The order after the step."),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _error("Not your step: e.g. a buyer accepting a job, another manufacturer answering, or "
                              "a manufacturer whose vetting or NDA does not cover the job accepting it."),
                "404": _NO_ORDER,
                "409": _error("Out of order: the order's status does not allow this step (field 'to'), or the "
                              "job offer lapsed ('offer_expires_at')."),
                "422": _error("A missing reason (cancel, dispute, failed quality check), carrier or tracking "
                              "(ship), or an unknown step; 'field' names it."),
            },
        }
    },
    "/api/v1/orders/{order_id}/cad-links": {
        "get": {
            "operationId": "getOrderCadLinks",
            "summary": "Short-lived links to the design's production CAD, for the assigned, vetted manufacturer "
                       "under a valid NDA between acceptance and shipping (every issue audited).",
            "parameters": [_ORDER_ID],
            "responses": {
                "200": {"description": "One link per production file.", **_json(_ref("CadLinks"))},
                "401": _resp("Unauthenticated"),
                "403": _error("The message gives the reason: not the assigned manufacturer, not between "
                              "acceptance and shipping, or not vetted with a valid NDA (e.g. suspended)."),
                "404": _error("No such order, or no production CAD uploaded for the design."),
            },
        }
    },
    "/api/v1/manufacturers/me": {
        "get": {
            "operationId": "getMyManufacturerProfile",
            "summary": "Your workshop profile with its vetting, NDA and score.",
            "responses": {
                "200": _maker_response("Your profile."),
                "401": _resp("Unauthenticated"),
                "404": _error("No profile yet."),
            },
        },
        "put": {
            "operationId": "saveMyManufacturerProfile",
            "summary": "Create or change what your workshop can do (manufacturers); vetting and NDA are kept.",
            "requestBody": {"required": True, **_json(_ref("ManufacturerInput"))},
            "responses": {
                "200": _maker_response("Your profile as it is now."),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _error("Only manufacturers have a workshop profile."),
                "404": _error("Not a manufacturer account."),
                "422": _resp("ValidationFailed"),
            },
        },
    },
    "/api/v1/manufacturers": {
        "get": {
            "operationId": "listManufacturers",
            "summary": "Every workshop with its vetting, NDA dates and score.",
            "parameters": [_query("vetting", "Only this vetting status.",
                                  {"type": "string", "enum": [v.value for v in Vetting]})],
            "responses": {
                "200": {"description": "By name.", **_json(_ref("ManufacturerList"))},
                "401": _resp("Unauthenticated"),
                "403": _PM_ONLY,
                "422": _error("A bad or unknown parameter; 'field' names it."),
            },
        }
    },
    "/api/v1/manufacturers/{manufacturer_id}/vet": {
        "post": {
            "operationId": "vetManufacturer",
            "summary": "Vet (or re-vet) a workshop with its NDA's dates.",
            "parameters": [_MANUFACTURER_ID],
            "requestBody": {"required": True, **_json(_ref("VetInput"))},
            "responses": {
                "200": _maker_response("The workshop, vetted."),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _PM_ONLY,
                "404": _error("No such manufacturer, or no profile yet."),
                "422": _error("The NDA is signed in the future, would already have expired, or expires before it "
                              "was signed ('nda_signed_on', 'nda_until')."),
            },
        }
    },
    "/api/v1/manufacturers/{manufacturer_id}/suspend": {
        "post": {
            "operationId": "suspendManufacturer",
            "summary": "Suspend a workshop: no new jobs, and production files cut off at once.",
            "parameters": [_MANUFACTURER_ID],
            "requestBody": {"required": True, **_json(_ref("SuspendInput"))},
            "responses": {
                "200": _maker_response("The workshop, suspended."),
                "400": _resp("BadRequest"),
                "401": _resp("Unauthenticated"),
                "403": _PM_ONLY,
                "404": _error("No such manufacturer, or no profile yet."),
                "409": _error("Already suspended (field 'vetting')."),
                "422": _error("No reason given (field 'reason')."),
            },
        }
    },
}
_PATHS.update(_ORDER_PATHS)

_STRINGS = {"type": "array", "items": {"type": "string"}}
_REGISTER = {
    "type": "object",
    "required": ["version", "processors", "no_sale", "transfers"],
    "properties": {
        "version": {"type": "integer"},
        "processors": {"type": "array", "items": {
            "type": "object",
            "required": ["key", "name", "purpose", "data_categories", "region", "transfer_safeguard",
                         "promise_ids", "in_use", "status", "jurisdictions"],
            "properties": {"data_categories": _STRINGS, "promise_ids": _STRINGS, "jurisdictions": _STRINGS,
                           "in_use": {"type": "boolean"},
                           **{k: {"type": "string"} for k in ("key", "name", "purpose", "region",
                                                              "transfer_safeguard", "status")}},
        }},
        "no_sale": {"type": "object", "description": "P24: no sale, no advertisers."},
        "transfers": {"type": "object", "description": "P43: the jurisdictions the policy names, and the "
                                                       "processors in use that send data elsewhere ('unlisted')."},
    },
}
_PATHS["/api/v1/legal/processors"] = {
    "get": {
        "operationId": "getProcessorsRegister",
        "summary": "The processors and international-transfers register of this deployment (policy §6, §10).",
        "security": [],
        "responses": {"200": {"description": "Every processor, in use or not, with purpose, data categories, "
                                             "region, transfer safeguard and promise ids; the same data as "
                                             "the page /legal/processors.",
                              **_json(_REGISTER)}},
    }
}


# -- data-subject requests (issue #6, part 1) ---------------------------------------------------

_REQUEST_TYPES = [t.value for t in RequestType]
_PRIVACY_SCHEMAS: dict[str, Any] = {
    "PrivacyRequestInput": {
        "type": "object",
        "required": ["type"],
        "additionalProperties": False,
        "properties": {
            "type": {"type": "string", "enum": _REQUEST_TYPES, "description": "Which right of policy section 9."},
            "details": {"type": "string", "maxLength": MAX_DETAILS,
                        "description": "What is wrong, what to erase, why you object… (optional)."},
            "user_id": {"type": "string", "description": "Must be your own id if sent: a request about someone "
                                                         "else's data is refused (403)."},
        },
    },
    "PrivacyRequest": {
        "type": "object",
        "required": ["id", "reference", "type", "status", "origin", "details", "received_at", "due_at", "overdue",
                     "merged", "closed_at", "outcome", "notes"],
        "properties": {
            "id": {"type": "string"},
            "reference": {"type": "string", "description": "Short reference used in mails."},
            "type": {"type": "string", "enum": _REQUEST_TYPES},
            "status": {"type": "string", "enum": [s.value for s in RequestStatus]},
            "origin": {"type": "string", "enum": [o.value for o in Origin]},
            "details": {"type": "string"},
            "received_at": {"type": "string", "format": "date-time"},
            "due_at": {"type": "string", "format": "date-time", "description": "Received + 30 days."},
            "overdue": {"type": "boolean"},
            "merged": {"type": "integer", "minimum": 0,
                       "description": "Later requests of the same type merged into this one."},
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
            "outcome": {"type": ["string", "null"], "description": "What was done, or why it was refused."},
            "notes": {"type": "array", "items": {
                "type": "object", "required": ["at", "text"],
                "properties": {"at": {"type": "string", "format": "date-time"}, "text": {"type": "string"}}}},
            "merged_into_existing": {"type": "boolean", "description": "Only when opening: true when the request "
                                                                       "was merged into an open one of its type."},
        },
    },
    "PrivacyRequestList": {**_items("PrivacyRequest"), "description": "Newest first."},
}
_SCHEMAS.update(_PRIVACY_SCHEMAS)

_PATHS["/api/v1/privacy/requests"] = {
    "post": {
        "operationId": "openPrivacyRequest",
        "summary": "Exercise a right of policy section 9 about your own data. Restriction, objection and "
                   "withdrawal of consent take effect at once (the request comes back completed); the others are "
                   "answered within 30 days.",
        "requestBody": {"required": True, **_json(_ref("PrivacyRequestInput"))},
        "responses": {
            "201": {"description": "The new request.", **_json(_ref("PrivacyRequest"))},
            "200": {"description": "You already had an open request of this type: this one was merged into it "
                                   "(merged_into_existing is true).", **_json(_ref("PrivacyRequest"))},
            "400": _resp("BadRequest"),
            "401": _resp("Unauthenticated"),
            "403": _error("A request about someone else's data (field 'user_id' not yours)."),
            "422": _resp("ValidationFailed"),
        },
    },
    "get": {
        "operationId": "listMyPrivacyRequests",
        "summary": "Your data-subject requests with their status and due date.",
        "responses": {
            "200": {"description": "Newest first.", **_json(_ref("PrivacyRequestList"))},
            "401": _resp("Unauthenticated"),
        },
    },
}


# -- access and portability export (issue #6, part 2) ---------------------------------------

_SCHEMAS["PrivacyExport"] = {
    "type": "object",
    "required": ["schema", "url", "expires_at", "files", "size", "sha256"],
    "properties": {
        "schema": {"type": "string", "const": "caratzon.export/1",
                   "description": "The format of export.json inside the zip (docs/export-schema.md)."},
        "url": {"type": "string", "description": "Signed link to the zip: export.json and the files you uploaded."},
        "expires_at": {"type": "string", "format": "date-time", "description": "24 hours after it was made."},
        "files": {"type": "integer", "minimum": 0, "description": "Uploaded files in the zip."},
        "size": {"type": "integer", "minimum": 0, "description": "Size of the zip in bytes."},
        "sha256": {"type": "string", "description": "SHA-256 of the zip."},
    },
}
_PATHS["/api/v1/privacy/export"] = {
    "get": {
        "operationId": "exportMyData",
        "summary": "Access and portability (policy §9): everything we hold about you as versioned JSON plus the "
                   "files you uploaded, zipped, behind a signed link that expires in 24 hours. Other people "
                   "appear by role and pseudonym only. Audited.",
        "responses": {
            "200": {"description": "The link to your export.", **_json(_ref("PrivacyExport"))},
            "401": _resp("Unauthenticated"),
        },
    }
}


# -- retention engine and legal holds (issue #6, part 4; admins only) -----------------------

_RULE_CODES = [c.value for c in RuleCode]
_ADMIN_ONLY = _error("Admins only.")
_AS_OF = {"type": "string", "description": "YYYY-MM-DD (the start of that day, UTC) or an ISO 8601 date-time "
                                           "(UTC when it has no zone)."}
_SCHEMAS.update({
    "RetentionKeptItem": {
        "type": "object",
        "required": ["item", "since", "reasons"],
        "properties": {
            "item": {"type": "string", "description": "kind:id, e.g. 'user:…', 'design:…', 'audit_seq:…'."},
            "since": {**_NULL_DATETIME, "description": "When its retention clock started."},
            "reasons": {**_STRINGS, "description": "Why it is kept past its period (a legal hold, an active "
                                                   "licence, an open order…)."},
        },
    },
    "RetentionRulePlan": {
        "type": "object",
        "required": ["rule", "title", "section", "policy", "applies_to", "action", "cutoff", "due", "kept"],
        "properties": {
            "rule": {"type": "string", "enum": _RULE_CODES},
            "title": {"type": "string"},
            "section": {"type": "string", "description": "The privacy policy's section ('—' for housekeeping)."},
            "policy": {"type": "string", "description": "The policy's wording of the period (empty for "
                                                       "housekeeping)."},
            "applies_to": {"type": "string"},
            "action": {"type": "string", "description": "What happens to a due item."},
            "cutoff": {"type": "string", "format": "date-time",
                       "description": "Items whose clock started at or before this are past their period."},
            "due": {"type": "integer", "minimum": 0},
            "kept": {"type": "array", "items": _ref("RetentionKeptItem")},
        },
    },
    "RetentionPlan": {
        "type": "object",
        "required": ["as_of", "total_due", "rules"],
        "properties": {
            "as_of": {"type": "string", "format": "date-time"},
            "total_due": {"type": "integer", "minimum": 0},
            "rules": {"type": "array", "items": _ref("RetentionRulePlan")},
        },
    },
    "RetentionRun": {
        "type": "object",
        "required": ["id", "as_of", "started_by", "started_at", "status", "finished_at", "counts", "error"],
        "properties": {
            "id": {"type": "string"},
            "as_of": {"type": "string", "format": "date-time"},
            "started_by": {"type": "string", "description": "The admin's id, or 'operator:…' from the CLI."},
            "started_at": {"type": "string", "format": "date-time"},
            "status": {"type": "string", "enum": [st.value for st in RunStatus]},
            "finished_at": _NULL_DATETIME,
            "counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                       "description": "Items done per rule code (" + ", ".join(_RULE_CODES) + "), and "
                                      "blob_failures (deletions the blob store refused, retried next run)."},
            "error": {"type": ["string", "null"]},
        },
    },
    "RetentionRunList": {**_items("RetentionRun"), "description": "Newest first."},
    "RetentionRunInput": {
        "type": "object",
        "required": ["confirm"],
        "additionalProperties": False,
        "properties": {
            "confirm": {"type": "boolean", "const": True, "description": "A run deletes data for good."},
            "as_of": {**_AS_OF, "type": ["string", "null"],
                      "description": _AS_OF["description"] + " Default now; a future time is refused (422)."},
        },
    },
    "LegalHoldInput": {
        "type": "object",
        "required": ["email", "reason"],
        "additionalProperties": False,
        "properties": {
            "email": {"type": "string", "description": "The account's email (or its id)."},
            "reason": {"type": "string", "minLength": 1, "maxLength": MAX_HOLD_REASON,
                       "description": "Kept as the record of the decision."},
        },
    },
    "LegalHold": {
        "type": "object",
        "required": ["id", "user_id", "email", "reason", "placed_by", "placed_at", "standing", "released_by",
                     "released_at", "release_reason"],
        "properties": {
            "id": {"type": "string"},
            "user_id": {"type": "string"},
            "email": {"type": "string"},
            "reason": {"type": "string"},
            "placed_by": {"type": "string"},
            "placed_at": {"type": "string", "format": "date-time"},
            "standing": {"type": "boolean", "description": "False once released."},
            "released_by": {"type": ["string", "null"]},
            "released_at": _NULL_DATETIME,
            "release_reason": {"type": ["string", "null"]},
        },
    },
    "LegalHoldList": _items("LegalHold"),
})
_PATHS["/api/v1/admin/retention/plan"] = {
    "get": {
        "operationId": "getRetentionPlan",
        "summary": "What a retention run as of now (or 'as_of') would do, per rule of policy section 8, and why "
                   "each item past its period is kept. A future date previews. Admins only.",
        "parameters": [_query("as_of", "Plan as of this time; default now.", _AS_OF)],
        "responses": {
            "200": {"description": "The plan.", **_json(_ref("RetentionPlan"))},
            "401": _resp("Unauthenticated"),
            "403": _ADMIN_ONLY,
            "422": _error("'as_of' is not a date or date-time (field 'as_of'), or an unknown parameter."),
        },
    }
}
_PATHS["/api/v1/admin/retention/runs"] = {
    "get": {
        "operationId": "listRetentionRuns",
        "summary": "The last retention runs with their counts, newest first. Admins only.",
        "parameters": [_query("limit", "How many runs (1-100, default 10).", {"type": "integer", "minimum": 1,
                                                                              "maximum": 100, "default": 10})],
        "responses": {
            "200": {"description": "Newest first.", **_json(_ref("RetentionRunList"))},
            "401": _resp("Unauthenticated"),
            "403": _ADMIN_ONLY,
            "422": _error("Bad 'limit', or an unknown parameter."),
        },
    },
    "post": {
        "operationId": "runRetention",
        "summary": "Apply the retention plan now, in batches: delete, anonymise and aggregate what is due "
                   "(deletes data for good; items under a legal hold or another exception are kept). "
                   "Audited. Admins only.",
        "requestBody": {"required": True, **_json(_ref("RetentionRunInput"))},
        "responses": {
            "201": {"description": "The finished run with its counts.", **_json(_ref("RetentionRun"))},
            "400": _resp("BadRequest"),
            "401": _resp("Unauthenticated"),
            "403": _ADMIN_ONLY,
            "422": _error("'confirm' is not true, or 'as_of' is not a date or is in the future."),
        },
    },
}
_PATHS["/api/v1/admin/legal-holds"] = {
    "get": {
        "operationId": "listLegalHolds",
        "summary": "Standing legal holds (with all=true, released ones too). Admins only.",
        "parameters": [_query("all", "true: released holds too.", {"type": "boolean", "default": False})],
        "responses": {
            "200": {"description": "The holds.", **_json(_ref("LegalHoldList"))},
            "401": _resp("Unauthenticated"),
            "403": _ADMIN_ONLY,
            "422": _error("'all' is not true or false, or an unknown parameter."),
        },
    },
    "post": {
        "operationId": "placeLegalHold",
        "summary": "Place a legal hold on a person: erasure is refused and retention keeps their data as it is "
                   "until the hold is released. Audited. Admins only.",
        "requestBody": {"required": True, **_json(_ref("LegalHoldInput"))},
        "responses": {
            "201": {"description": "The hold.", **_json(_ref("LegalHold"))},
            "400": _resp("BadRequest"),
            "401": _resp("Unauthenticated"),
            "403": _ADMIN_ONLY,
            "404": _error("No account with that email address (field 'email')."),
            "409": _error("A legal hold already stands on this account (field 'email')."),
            "422": _error("No reason, or a reason that is too long (field 'reason')."),
        },
    },
}
_PATHS["/api/v1/admin/legal-holds/release"] = {
    "post": {
        "operationId": "releaseLegalHold",
        "summary": "Release the standing legal hold on a person: their data is again erased or retained on "
                   "schedule. Audited. Admins only.",
        "requestBody": {"required": True, **_json(_ref("LegalHoldInput"))},
        "responses": {
            "200": {"description": "The released hold.", **_json(_ref("LegalHold"))},
            "400": _resp("BadRequest"),
            "401": _resp("Unauthenticated"),
            "403": _ADMIN_ONLY,
            "404": _error("No such account, or no hold stands on it (field 'email')."),
            "422": _error("No reason, or a reason that is too long (field 'reason')."),
        },
    }
}


_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Caratzon API",
        "version": "1.0.0",
        "summary": "The B2B jewelry-design marketplace: accounts, API tokens, designs, the catalog, "
                   "licensing and messages, orders and production.",
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
