"""The JSON API for data-subject requests (issue #6, part 1).

``GET /api/v1/privacy/requests`` lists the caller's requests, newest first;
``POST /api/v1/privacy/requests`` opens one about the caller's own data (a second
open one of the same type is merged: 200 with ``merged_into_existing: true``
instead of 201).
``user_id``, when sent, must be the caller's own: a request about someone else's
data is refused (403, audited). Bearer tokens only, like the rest of ``/api/v1``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import frozen
from flask import Blueprint, Response, jsonify

from caratzon_core.requests import DataRequest, request_ref
from caratzon_web.api import _bearer, _converter, _json_object
from caratzon_web.context import client, services
from caratzon_web.converters import structure
from caratzon_web.errors import iso_utc

bp = Blueprint("api_privacy", __name__, url_prefix="/api/v1")


@frozen
class RequestBody:
    """``POST /api/v1/privacy/requests``."""

    type: str
    details: str = ""
    user_id: str | None = None


def _iso(at: datetime | None) -> str | None:
    return iso_utc(at) if at is not None else None


def request_json(req: DataRequest, now: datetime) -> dict[str, Any]:
    return {
        "id": req.id,
        "reference": request_ref(req.id),
        "type": req.type.value,
        "status": req.status.value,
        "origin": req.origin.value,
        "details": req.details,
        "received_at": iso_utc(req.received_at),
        "due_at": iso_utc(req.due_at),
        "overdue": req.overdue(now),
        "merged": req.merged,
        "closed_at": _iso(req.closed_at),
        "outcome": req.outcome,
        "notes": [{"at": iso_utc(n.at), "text": n.text} for n in req.notes],
    }


@bp.get("/privacy/requests")
def list_requests() -> Response:
    user, _ = _bearer()
    svc = services()
    mine = svc.requests.mine(svc.accounts.actor_for(user), client())
    now = svc.deps.clock.now()
    return jsonify({"items": [request_json(r, now) for r in mine]})


@bp.post("/privacy/requests")
def open_request() -> tuple[Response, int]:
    user, _ = _bearer()
    body = structure(_converter(), _json_object(), RequestBody)
    svc = services()
    opened = svc.requests.open(svc.accounts.actor_for(user), body.type, details=body.details, user_id=body.user_id,
                               client=client())
    answer = request_json(opened.request, svc.deps.clock.now())
    return jsonify({**answer, "merged_into_existing": opened.merged}), 200 if opened.merged else 201
