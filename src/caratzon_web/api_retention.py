"""The JSON API for the retention engine and legal holds (issue #6, part 4; policy §8).

Admins only (the core authorizes; anyone else gets 403). Bearer tokens only, like
the rest of ``/api/v1``.

* ``GET /api/v1/admin/retention/plan[?as_of=DATE]``: what a run would do, per rule,
  and why each item past its period is kept; a future date previews.
* ``GET /api/v1/admin/retention/runs``: the last runs, newest first.
* ``POST /api/v1/admin/retention/runs`` ``{"confirm": true, "as_of"?}``: apply the
  plan now (201 with the finished run); a future ``as_of`` is refused (422).
* ``GET /api/v1/admin/legal-holds[?all=true]``, ``POST /api/v1/admin/legal-holds``
  ``{"email", "reason"}`` (201), ``POST /api/v1/admin/legal-holds/release``
  ``{"email", "reason"}`` (200).
"""

from __future__ import annotations

from typing import Any

from attrs import frozen
from flask import Blueprint, Response, jsonify, request

from caratzon_core.access import Action, Actor, Resource, authorize
from caratzon_core.errors import ValidationFailed
from caratzon_core.retention import LegalHold, parse_as_of
from caratzon_core.services.retention import HoldView
from caratzon_web.api import _bearer, _converter, _json_object
from caratzon_web.context import client, services
from caratzon_web.converters import query_flag, structure
from caratzon_web.errors import iso_utc

bp = Blueprint("api_retention", __name__, url_prefix="/api/v1")

MAX_RUNS = 100
DEFAULT_RUNS = 10


@frozen
class RunBody:
    """``POST /api/v1/admin/retention/runs``."""

    confirm: bool = False
    as_of: str | None = None


@frozen
class HoldBody:
    """``POST /api/v1/admin/legal-holds`` and ``.../release``."""

    email: str
    reason: str = ""


def _admin(action: Action, what: str) -> Actor:
    """The caller, authorized before the input is read: a non-admin gets 403 whatever they send."""
    user, _ = _bearer()
    actor = services().accounts.actor_for(user)
    authorize(actor, action, Resource(what))
    return actor


def _only(*allowed: str) -> None:
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        names = ", ".join(allowed) or "none"
        raise ValidationFailed(f"Unknown parameter '{unknown[0]}'; the parameters are: {names}.", field=unknown[0])



def hold_json(hold: LegalHold, email: str) -> dict[str, Any]:
    return {
        "id": hold.id, "user_id": hold.user_id, "email": email, "reason": hold.reason,
        "placed_by": hold.placed_by, "placed_at": iso_utc(hold.placed_at),
        "standing": hold.standing, "released_by": hold.released_by,
        "released_at": iso_utc(hold.released_at) if hold.released_at else None,
        "release_reason": hold.release_reason,
    }


def _view_json(view: HoldView) -> dict[str, Any]:
    return hold_json(view.hold, view.email)


# -- the retention engine -------------------------------------------------------------------


@bp.get("/admin/retention/plan")
def retention_plan() -> Response:
    actor = _admin(Action.RETENTION_RUN, "retention")
    _only("as_of")
    plan = services().retention.plan(actor, parse_as_of(request.args.get("as_of")))
    return jsonify(plan.to_dict())


@bp.get("/admin/retention/runs")
def retention_runs() -> Response:
    actor = _admin(Action.RETENTION_RUN, "retention")
    _only("limit")
    raw = request.args.get("limit", str(DEFAULT_RUNS))
    try:
        limit = int(raw)
    except ValueError:
        raise ValidationFailed("limit must be a whole number.", field="limit") from None
    if not 1 <= limit <= MAX_RUNS:
        raise ValidationFailed(f"limit is between 1 and {MAX_RUNS}.", field="limit")
    runs = services().retention.runs(actor, limit=limit)
    return jsonify({"items": [r.to_dict() for r in runs]})


@bp.post("/admin/retention/runs")
def retention_apply() -> tuple[Response, int]:
    actor = _admin(Action.RETENTION_RUN, "retention")
    body = structure(_converter(), _json_object(), RunBody)
    if not body.confirm:
        raise ValidationFailed("A retention run deletes data for good: send \"confirm\": true (GET "
                               "/api/v1/admin/retention/plan shows what it would do).", field="confirm")
    run = services().retention.apply(actor, parse_as_of(body.as_of), client=client())
    return jsonify(run.to_dict()), 201


# -- legal holds ----------------------------------------------------------------------------


@bp.get("/admin/legal-holds")
def list_holds() -> Response:
    actor = _admin(Action.LEGAL_HOLD, "legal hold")
    _only("all")
    views = services().retention.holds(actor, standing_only=not query_flag(request.args, "all"))
    return jsonify({"items": [_view_json(v) for v in views]})


def _answer(actor: Actor, hold: LegalHold) -> dict[str, Any]:
    """The hold as the list shows it (with the person's email as stored)."""
    for view in services().retention.holds(actor, standing_only=False):
        if view.hold.id == hold.id:
            return hold_json(hold, view.email)
    return hold_json(hold, "")


@bp.post("/admin/legal-holds")
def place_hold() -> tuple[Response, int]:
    actor = _admin(Action.LEGAL_HOLD, "legal hold")
    body = structure(_converter(), _json_object(), HoldBody)
    hold = services().retention.place_hold(actor, body.email, body.reason, client())
    return jsonify(_answer(actor, hold)), 201


@bp.post("/admin/legal-holds/release")
def release_hold() -> Response:
    actor = _admin(Action.LEGAL_HOLD, "legal hold")
    body = structure(_converter(), _json_object(), HoldBody)
    hold = services().retention.release_hold(actor, body.email, body.reason, client())
    return jsonify(_answer(actor, hold))
