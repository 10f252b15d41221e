"""The processors and international-transfers register (policy §6 and §10):
``/legal/processors`` for people, ``/api/v1/legal/processors`` as JSON. Both are
public and show the same :func:`caratzon_core.processors.register_document`,
built from this deployment's configuration."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template

from caratzon_adapters.processors import processors_register
from caratzon_core.processors import register_document
from caratzon_web.context import services

bp = Blueprint("legal_processors", __name__)


def _document() -> dict[str, Any]:
    return register_document(processors_register(services().config))


@bp.get("/legal/processors")
def page() -> str:
    return render_template("legal/processors.html", register=_document())


@bp.get("/api/v1/legal/processors")
def api() -> Response:
    return jsonify(_document())
