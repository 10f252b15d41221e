"""Public pages: the home page and the privacy policy."""

from __future__ import annotations

from flask import Blueprint, render_template

from caratzon_web.policy import current_policy

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    return render_template("home.html", policy=current_policy())


@bp.get("/legal/privacy")
def privacy() -> str:
    return render_template("legal/privacy.html", policy=current_policy())
