"""The JSON API for designs, assets, the catalog, saved lists and analytics.

Bearer tokens only, like the rest of ``/api/v1`` (no session cookie, so no CSRF
check). Money is a decimal string in major units with its currency, never a
float; so are carats, millimetres and grams. Links to files are signed, expire
(``expires_at``) and are absolute URLs.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin

import attrs
import cattrs
from attrs import frozen
from flask import Blueprint, Response, jsonify, request

from caratzon_core.access import Actor
from caratzon_core.blobs import SignedLink
from caratzon_core.catalog import CatalogPage, parse_query
from caratzon_core.consent import DailyEngagement
from caratzon_core.designs import Asset, Design
from caratzon_core.errors import ValidationFailed
from caratzon_core.geometry import ALLOYS, CadAnalysis
from caratzon_core.money import Money
from caratzon_core.services.designs import AssetView, DesignChanges, DesignInput, DesignView
from caratzon_web.api import _bearer, _converter, _json_object
from caratzon_web.blobs import spooled_upload
from caratzon_web.context import client, services
from caratzon_web.converters import structure
from caratzon_web.errors import iso_utc

bp = Blueprint("api_designs", __name__, url_prefix="/api/v1")

CATALOG_PARAMS = frozenset({
    "q", "category", "metal", "gemstone", "designer", "tags", "price_min", "price_max", "currency", "sort",
    "cursor", "limit",
})
DEFAULT_ANALYTICS_DAYS = 30
_ALLOY_NAMES = {a.code: a.name for a in ALLOYS}


# -- request bodies ----------------------------------------------------------------------------


@frozen
class PriceBody:
    amount: str  # major units, e.g. "1250.00"
    currency: str


@frozen
class GemstoneBody:
    type: str
    origin: str = "natural"
    carat: str = "0"
    count: int = 1


@frozen
class DimensionsBody:
    width_mm: str | None = None
    height_mm: str | None = None
    depth_mm: str | None = None


@frozen
class DesignBody:
    """``POST /api/v1/designs``."""

    title: str
    category: str
    description: str = ""
    metals: list[str] = attrs.Factory(list)
    gemstones: list[GemstoneBody] = attrs.Factory(list)
    dimensions: DimensionsBody = DimensionsBody()
    tags: list[str] = attrs.Factory(list)
    price: PriceBody | None = None


@frozen
class DesignPatch:
    """``PATCH /api/v1/designs/{id}``: a field left out (or null) keeps its value,
    except ``price: null``, which clears the price guidance."""

    title: str | None = None
    category: str | None = None
    description: str | None = None
    metals: list[str] | None = None
    gemstones: list[GemstoneBody] | None = None
    dimensions: DimensionsBody | None = None
    tags: list[str] | None = None
    price: PriceBody | None = None


def _strict_int(value: object, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("must be a whole number")
    return value


def register_hooks(converter: cattrs.Converter) -> None:
    """JSON numbers for counts must be whole numbers: no silent ``int("3")`` or ``int(2.7)``."""
    converter.register_structure_hook(int, _strict_int)


def _gems(gems: list[GemstoneBody]) -> tuple[dict[str, object], ...]:
    return tuple({"type": g.type, "origin": g.origin, "carat": g.carat, "count": g.count} for g in gems)


def _dims(dims: DimensionsBody) -> dict[str, object]:
    return {k: v for k, v in attrs.asdict(dims).items() if v is not None}


def _design_input(body: DesignBody) -> DesignInput:
    return DesignInput(
        title=body.title, category=body.category, description=body.description, metals=tuple(body.metals),
        gemstones=_gems(body.gemstones), dimensions=_dims(body.dimensions), tags=tuple(body.tags),
        price_amount=body.price.amount if body.price else None,
        price_currency=body.price.currency if body.price else None,
    )


def _design_changes(body: DesignPatch, raw: Mapping[str, Any]) -> DesignChanges:
    return DesignChanges(
        title=body.title, category=body.category, description=body.description,
        metals=tuple(body.metals) if body.metals is not None else None,
        gemstones=_gems(body.gemstones) if body.gemstones is not None else None,
        dimensions=_dims(body.dimensions) if body.dimensions is not None else None,
        tags=tuple(body.tags) if body.tags is not None else None,
        price_amount=body.price.amount if body.price else None,
        price_currency=body.price.currency if body.price else None,
        clear_price="price" in raw and raw["price"] is None,
    )


# -- answers --------------------------------------------------------------------------------------


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def money_json(money: Money | None) -> dict[str, str] | None:
    if money is None:
        return None
    return {"amount": str(money.to_decimal()), "currency": money.currency}


def design_json(design: Design) -> dict[str, Any]:
    return {
        "id": design.id,
        "designer_id": design.designer_id,
        "title": design.title,
        "description": design.description,
        "category": design.category.value,
        "metals": list(design.metals),
        "gemstones": [{"type": g.type, "origin": g.origin.value, "carat": str(g.carat), "count": g.count}
                      for g in design.gemstones],
        "dimensions": {k: _decimal(getattr(design.dimensions, k)) for k in ("width_mm", "height_mm", "depth_mm")},
        "tags": list(design.tags),
        "price": money_json(design.price_guidance),
        "status": design.status.value,
        "created_at": iso_utc(design.created_at),
        "updated_at": iso_utc(design.updated_at),
        "published_at": iso_utc(design.published_at) if design.published_at else None,
    }


def analysis_json(analysis: CadAnalysis | None) -> dict[str, Any] | None:
    if analysis is None:
        return None
    m = analysis.metrics
    return {
        "status": analysis.status.value,
        "message": analysis.message,
        "volume_mm3": m.volume_mm3 if m else None,
        "surface_area_mm2": m.surface_area_mm2 if m else None,
        "bbox_mm": list(m.bbox_mm) if m else None,
        "triangle_count": m.triangle_count if m else None,
        "watertight": m.watertight if m else None,
        "thinnest_wall_mm": m.thinnest_wall_mm if m else None,
        "units": m.units if m else None,
        "casting_allowance": _decimal(analysis.casting_allowance),
        "weights": [{"alloy": w.alloy_code, "name": _ALLOY_NAMES.get(w.alloy_code, w.alloy_code),
                     "grams": str(w.grams)} for w in analysis.weights],
        "warnings": list(analysis.warnings),
    }


def asset_json(asset: Asset) -> dict[str, Any]:
    return {
        "id": asset.id,
        "design_id": asset.design_id,
        "kind": asset.kind.value,
        "visibility": asset.visibility.value,
        "filename": asset.filename,
        "content_type": asset.content_type,
        "size": asset.size,
        "sha256": asset.sha256,
        "width_px": asset.width_px,
        "height_px": asset.height_px,
        "created_at": iso_utc(asset.created_at),
        "analysis": analysis_json(asset.analysis),
    }


def link_json(link: SignedLink | None) -> dict[str, str] | None:
    if link is None:
        return None
    # Local links are paths on this site; S3 links are absolute already.
    return {"url": urljoin(request.host_url, link.url), "expires_at": iso_utc(link.expires_at)}


def _asset_view_json(view: AssetView) -> dict[str, Any]:
    link = link_json(view.link)
    return {
        **asset_json(view.asset),
        "url": link["url"] if link else None,
        "expires_at": link["expires_at"] if link else None,
        "thumbnail": link_json(view.thumbnail),
    }


def design_view_json(view: DesignView) -> dict[str, Any]:
    return {
        **design_json(view.design),
        "designer": {"id": view.design.designer_id, "name": view.designer_name},
        "saved": view.saved,
        "can_edit": view.can_edit,
        "assets": [_asset_view_json(a) for a in view.assets],
    }


def catalog_json(actor: Actor, page: CatalogPage) -> dict[str, Any]:
    thumbs = services().designs.thumbnail_links(actor, page.items)
    return {
        "items": [
            {
                "id": item.design.id,
                "title": item.design.title,
                "category": item.design.category.value,
                "designer": {"id": item.design.designer_id, "name": item.designer_name},
                "price": money_json(item.design.price_guidance),
                "views": item.views,
                "saves": item.saves,
                "thumbnail": link_json(thumbs.get(item.thumbnail_asset_id or "")),
            }
            for item in page.items
        ],
        "next_cursor": page.next_cursor,
        "facets": {name: dict(counts) for name, counts in page.facets.items()},
    }


def daily_json(day: DailyEngagement) -> dict[str, Any]:
    return {"day": day.day.isoformat(), "views": day.views, "saves": day.saves,
            "median_scroll_depth": day.median_scroll_depth}


# -- routes ---------------------------------------------------------------------------------------


def _actor() -> Actor:
    user, _ = _bearer()
    return services().accounts.actor_for(user)


@bp.post("/designs")
def create_design() -> tuple[Response, int]:
    actor = _actor()
    body = structure(_converter(), _json_object(), DesignBody)
    design = services().designs.create(actor, _design_input(body), client())
    return jsonify(design_json(design)), 201


@bp.get("/designs/<design_id>")
def get_design(design_id: str) -> Response:
    view = services().designs.view(_actor(), design_id, client())
    return jsonify(design_view_json(view))


@bp.patch("/designs/<design_id>")
def update_design(design_id: str) -> Response:
    actor = _actor()
    raw = _json_object()
    body = structure(_converter(), raw, DesignPatch)
    design = services().designs.update(actor, design_id, _design_changes(body, raw), client())
    return jsonify(design_json(design))


@bp.post("/designs/<design_id>/assets")
def upload_asset(design_id: str) -> tuple[Response, int]:
    actor = _actor()
    form = request.form
    unknown = sorted((set(form) | set(request.files)) - {"file", "kind", "visibility"})
    if unknown:
        raise ValidationFailed(f"Unknown field '{unknown[0]}'; send file, kind and visibility.", field=unknown[0])
    with spooled_upload(request.files.get("file"), kind=form.get("kind", ""),
                        visibility=form.get("visibility", "")) as upload:
        asset = services().designs.add_asset(actor, design_id, upload, client())
    return jsonify(asset_json(asset)), 201


@bp.post("/designs/<design_id>/publish")
def publish_design(design_id: str) -> Response:
    return jsonify(design_json(services().designs.publish(_actor(), design_id, client())))


@bp.post("/designs/<design_id>/withdraw")
def withdraw_design(design_id: str) -> Response:
    return jsonify(design_json(services().designs.withdraw(_actor(), design_id, client())))


@bp.post("/designs/<design_id>/remove")
def remove_design(design_id: str) -> Response:
    return jsonify(design_json(services().designs.remove(_actor(), design_id, client())))


@bp.post("/designs/<design_id>/save")
def save_design(design_id: str) -> Response:
    services().designs.save(_actor(), design_id, client(), saved=True)
    return jsonify({"saved": True})


@bp.delete("/designs/<design_id>/save")
def unsave_design(design_id: str) -> Response:
    services().designs.save(_actor(), design_id, client(), saved=False)
    return jsonify({"saved": False})


@bp.get("/designs/<design_id>/analytics")
def design_analytics(design_id: str) -> Response:
    actor = _actor()
    raw = request.args.get("days", str(DEFAULT_ANALYTICS_DAYS))
    try:
        days = int(raw)
    except ValueError:
        raise ValidationFailed("days must be a whole number.", field="days") from None
    daily = services().engagement.daily(actor, design_id, days=days)
    return jsonify({"days": [daily_json(d) for d in daily]})


@bp.get("/catalog")
def catalog() -> Response:
    actor = _actor()
    unknown = sorted(set(request.args) - CATALOG_PARAMS)
    if unknown:
        raise ValidationFailed(
            f"Unknown parameter '{unknown[0]}'; the parameters are: {', '.join(sorted(CATALOG_PARAMS))}.",
            field=unknown[0],
        )
    page = services().designs.search(actor, parse_query(request.args))
    return jsonify(catalog_json(actor, page))


@bp.get("/assets/<asset_id>/url")
def asset_url(asset_id: str) -> Response:
    _, link = services().designs.asset_link(_actor(), asset_id, client())
    return jsonify(link_json(link))
