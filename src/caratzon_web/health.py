"""Liveness and readiness for load balancers and monitoring."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from caratzon_web.context import services

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        healthy = services().healthy()
    except Exception:
        log.exception("Health check failed")
        healthy = False
    if healthy:
        return jsonify({"status": "ok", "database": "ok"}), 200
    return jsonify({"status": "error", "database": "unreachable"}), 503
