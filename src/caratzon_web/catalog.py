"""The trade catalog for signed-in people: search with filters and facets, the
design page, designer profiles, a buyer's saved list and asset downloads.

A buyer's identity is never shown on these pages: saves and views are counted,
never listed. Viewing a design counts a view only with analytics consent (the
use case decides from the stored choice), and only then does the page load the
scroll beacon.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caratzon_core.access import Actor
from caratzon_core.accounts import User
from caratzon_core.blobs import SignedLink
from caratzon_core.catalog import CatalogPage, CatalogQuery, Sort, parse_query
from caratzon_core.designs import GEMSTONE_TYPES, METALS, Category
from caratzon_core.errors import ValidationFailed
from caratzon_core.geometry import ALLOYS, UNITS_NOTE
from caratzon_core.money import CURRENCY_EXPONENTS
from caratzon_core.services.designs import DesignView
from caratzon_web.consent import visitor_id
from caratzon_web.context import client, current_user, login_required, safe_next, services

bp = Blueprint("catalog", __name__)

SORT_LABELS = {
    Sort.NEWEST: "Newest",
    Sort.MOST_VIEWED: "Most viewed",
    Sort.MOST_SAVED: "Most saved",
    Sort.PRICE_ASC: "Price, low to high",
    Sort.PRICE_DESC: "Price, high to low",
}
FILTERS = ("q", "category", "metal", "gemstone", "tags", "price_min", "price_max", "currency", "sort")


def _me() -> tuple[User, Actor]:
    user = current_user()
    assert user is not None  # login_required
    return user, services().accounts.actor_for(user)


def filter_choices() -> dict[str, Any]:
    return {
        "categories": list(Category),
        "metals": METALS,
        "gemstone_types": GEMSTONE_TYPES,
        "currencies": sorted(CURRENCY_EXPONENTS),
        "sorts": SORT_LABELS,
    }


def thumbnails(actor: Actor, page: CatalogPage) -> dict[str, SignedLink]:
    return services().designs.thumbnail_links(actor, page.items)


def _url(endpoint: str, values: Mapping[str, str]) -> str:
    return url_for(endpoint, **values)  # type: ignore[arg-type]


def _search(actor: Actor, params: Mapping[str, str], **fixed: str) -> tuple[CatalogPage | None, dict[str, str]]:
    """The page of results, or None and the errors by field."""
    try:
        query = parse_query({**params, **fixed})
    except ValidationFailed as exc:
        return None, exc.by_field() or {"form": exc.message}
    return services().designs.search(actor, query), {}


@bp.get("/catalog")
@login_required
def index() -> tuple[str, int]:
    _, actor = _me()
    params = {k: v for k, v in request.args.items() if k in (*FILTERS, "cursor", "limit")}
    page, errors = _search(actor, params)
    next_url = None
    if page is not None and page.next_cursor:
        next_url = _url("catalog.index", {**params, "cursor": page.next_cursor})
    return (
        render_template(
            "catalog/index.html", page=page, errors=errors, values=params, next_url=next_url,
            thumbs=thumbnails(actor, page) if page else {}, **filter_choices(),
        ),
        422 if errors else 200,
    )


@bp.get("/designs/<design_id>")
@login_required
def design(design_id: str) -> str:
    user, actor = _me()
    view = services().designs.view(actor, design_id, client())
    visitor = visitor_id()
    # Stored only with analytics consent: then the page also reports scroll depth.
    tracked = services().engagement.record(visitor, user, design_id, "view")
    return _design_page(actor, view, tracked=tracked)


def _design_page(actor: Actor, view: DesignView, *, tracked: bool, **licensing: Any) -> str:
    # The licence options with their list prices; buyers open a negotiation from one (trade.py).
    forms: dict[str, Any] = {"open_option_id": None, "open_values": {}, "open_errors": {}, **licensing}
    return render_template("catalog/design.html", view=view, design=view.design, profile=view.profile,
                           metals=METALS, alloys={a.code: a for a in ALLOYS}, units_note=UNITS_NOTE,
                           tracked=tracked, licence_options=services().licensing.options(actor, view.design.id),
                           **forms)


def design_page(design_id: str, *, open_option_id: str, open_values: Mapping[str, str],
                open_errors: Mapping[str, str], status: int) -> tuple[str, int]:
    """The design page again with one option's "start a negotiation" form as entered and
    its problems by the field (for trade.py, which takes that form). Counts no view."""
    _, actor = _me()
    view = services().designs.view(actor, design_id, client())
    return _design_page(actor, view, tracked=False, open_option_id=open_option_id, open_values=open_values,
                        open_errors=open_errors), status


@bp.post("/designs/<design_id>/save")
@login_required
def save(design_id: str) -> BaseResponse:
    _, actor = _me()
    saved = request.form.get("saved", "yes") != "no"
    services().designs.save(actor, design_id, client(), visitor_id=visitor_id(), saved=saved)
    target = safe_next(request.form.get("next"), url_for("catalog.design", design_id=design_id))
    return redirect(target, code=303)


@bp.get("/saved")
@login_required
def saved() -> str:
    _, actor = _me()
    designs = services().designs.saved_designs(actor)
    return render_template("catalog/saved.html", designs=designs)


@bp.get("/designers/<designer_id>")
@login_required
def designer(designer_id: str) -> tuple[str, int]:
    _, actor = _me()
    params = {k: v for k, v in request.args.items() if k in ("sort", "cursor", "limit")}
    error: str | None = None
    try:
        query = parse_query(params)
    except ValidationFailed as exc:
        query, error = CatalogQuery(), exc.message
    page = services().designs.designer_page(actor, designer_id, query)
    next_url = None
    if page.designs.next_cursor:
        next_url = _url("catalog.designer", {**params, "designer_id": designer_id,
                                             "cursor": page.designs.next_cursor})
    return (
        render_template("catalog/designer.html", page=page, thumbs=thumbnails(actor, page.designs),
                        next_url=next_url, error=error),
        422 if error else 200,
    )


@bp.get("/assets/<asset_id>/download")
@login_required
def download(asset_id: str) -> BaseResponse:
    """A fresh signed link, then straight to it. For production CAD every link is
    audited and only the owner, admins (and later an assigned manufacturer) get one."""
    _, actor = _me()
    _, link = services().designs.asset_link(actor, asset_id, client())
    return redirect(link.url, code=303)
