"""The access and portability export over the API (issue #6, part 2).

``GET /api/v1/privacy/export`` builds the caller's export (``caratzon.export/1``
JSON plus the files they uploaded, zipped) and answers with a signed link that
expires in 24 hours. Bearer tokens only, like the rest of ``/api/v1``; audited.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from caratzon_core.export import SCHEMA
from caratzon_web.api import _bearer
from caratzon_web.context import client, services
from caratzon_web.errors import iso_utc

bp = Blueprint("api_export", __name__, url_prefix="/api/v1")


@bp.get("/privacy/export")
def export() -> Response:
    user, _ = _bearer()
    svc = services()
    result = svc.export.export(svc.accounts.actor_for(user), user.id, client())
    response = jsonify({
        "schema": SCHEMA,
        "url": result.link.url,
        "expires_at": iso_utc(result.link.expires_at),
        "files": result.files,
        "size": result.size,
        "sha256": result.sha256,
    })
    response.headers["Cache-Control"] = "no-store"
    return response
