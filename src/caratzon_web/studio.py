"""The designer studio: my designs, the design form, asset uploads with their CAD
analysis, the lifecycle (publish, withdraw, remove) and daily engagement figures.

Every form posts with a CSRF token; on a problem the page comes back with the
message by the field and everything entered, and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from caratzon_core.access import Action, Actor, Resource, authorize
from caratzon_core.blobs import BlobTooLarge
from caratzon_core.designs import (
    GEMSTONE_TYPES,
    MAX_GEMSTONES,
    METALS,
    AssetKind,
    Category,
    Design,
    GemOrigin,
    Visibility,
)
from caratzon_core.errors import Conflict, ValidationFailed
from caratzon_core.geometry import ALLOYS, UNITS_NOTE
from caratzon_core.money import CURRENCY_EXPONENTS
from caratzon_core.services.designs import DesignChanges, DesignInput, DesignView
from caratzon_web.blobs import spooled_upload
from caratzon_web.context import client, current_user, login_required, safe_next, services
from caratzon_web.errors import human_bytes, status_for

bp = Blueprint("studio", __name__, url_prefix="/studio")

MIN_GEM_ROWS = 3
ANALYTICS_DAYS = 30
DIMENSIONS = ("width_mm", "height_mm", "depth_mm")
GEM_FIELDS = ("type", "origin", "carat", "count")
DEFAULT_CURRENCY = "USD"
KIND_LABELS = {AssetKind.IMAGE: "Image (photo)", AssetKind.RENDER: "Render", AssetKind.CAD: "CAD file"}
VISIBILITY_LABELS = {
    Visibility.PREVIEW: "Preview: buyers may see and download it",
    Visibility.PRODUCTION: "Production CAD: only you, admins and the assigned manufacturer",
}
ORIGIN_LABELS = {GemOrigin.NATURAL: "Natural", GemOrigin.LAB_GROWN: "Lab-grown"}
# The core names price problems "currency"; the form's field is "price_currency".
_FORM_FIELD = {"currency": "price_currency"}


def _actor() -> Actor:
    user = current_user()
    assert user is not None  # login_required
    return services().accounts.actor_for(user)


# -- the form <-> the commands ----------------------------------------------------------------


def _values_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """What was entered, as the template shows it again."""
    gems = []
    for i in range(MAX_GEMSTONES + 1):
        row = {k: form.get(f"gem_{k}_{i}", "").strip() for k in GEM_FIELDS}
        if row["type"]:  # the form says: no type, no line
            gems.append(row)
    values: dict[str, Any] = {
        "title": form.get("title", ""),
        "description": form.get("description", ""),
        "category": form.get("category", ""),
        "metals": form.getlist("metals"),
        "gemstones": gems,
        "tags": form.get("tags", ""),
        "price_amount": form.get("price_amount", "").strip(),
        "price_currency": form.get("price_currency", "").strip(),
    }
    values.update({k: form.get(k, "").strip() for k in DIMENSIONS})
    return values


def _values_from_design(design: Design) -> dict[str, Any]:
    price = design.price_guidance
    values: dict[str, Any] = {
        "title": design.title,
        "description": design.description,
        "category": design.category.value,
        "metals": list(design.metals),
        "gemstones": [{"type": g.type, "origin": g.origin.value, "carat": str(g.carat), "count": str(g.count)}
                      for g in design.gemstones],
        "tags": ", ".join(design.tags),
        "price_amount": str(price.to_decimal()) if price else "",
        "price_currency": price.currency if price else DEFAULT_CURRENCY,
    }
    values.update({k: str(getattr(design.dimensions, k) or "") for k in DIMENSIONS})
    return values


def _blank_values() -> dict[str, Any]:
    values: dict[str, Any] = {"title": "", "description": "", "category": "", "metals": [], "gemstones": [],
                              "tags": "", "price_amount": "", "price_currency": DEFAULT_CURRENCY}
    values.update(dict.fromkeys(DIMENSIONS, ""))
    return values


def _fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """The command's fields from the entered values (empty inputs left out)."""
    return {
        "title": values["title"],
        "category": values["category"],
        "description": values["description"],
        "metals": tuple(values["metals"]),
        "gemstones": tuple({k: v for k, v in g.items() if v} for g in values["gemstones"]),
        "dimensions": {k: values[k] for k in DIMENSIONS if values[k]},
        "tags": tuple(t for t in values["tags"].split(",") if t.strip()),
        "price_amount": values["price_amount"] or None,
        "price_currency": values["price_currency"] or None,
    }


def _form_errors(exc: ValidationFailed) -> dict[str, str]:
    return {_FORM_FIELD.get(k, k): v for k, v in (exc.by_field() or {"form": exc.message}).items()}


# -- pages --------------------------------------------------------------------------------------


def _choices() -> dict[str, Any]:
    return {
        "categories": list(Category),
        "metals": METALS,
        "gemstone_types": GEMSTONE_TYPES,
        "origins": ORIGIN_LABELS,
        "currencies": sorted(CURRENCY_EXPONENTS),
        "kinds": KIND_LABELS,
        "visibilities": VISIBILITY_LABELS,
        "alloys": {a.code: a for a in ALLOYS},
        "units_note": UNITS_NOTE,
    }


def _gem_rows(values: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = list(values["gemstones"])
    wanted = min(MAX_GEMSTONES, max(MIN_GEM_ROWS, len(rows) + 1))
    return rows + [{"type": "", "origin": GemOrigin.NATURAL.value, "carat": "", "count": ""}] * (wanted - len(rows))


def _blank_option_values(design: Design) -> dict[str, Any]:
    """The licence option form (templates/trade/_macros.html) before anything is entered."""
    price = design.price_guidance
    return {"opt_name": "", "opt_use": "manufacturing", "opt_exclusivity": "non_exclusive",
            "opt_territory": "worldwide", "opt_start": services().deps.clock.now().date().isoformat(),
            "opt_months": "12", "opt_perpetual": False, "opt_unit_cap": "",
            "opt_flat": "", "opt_royalty": "", "opt_currency": price.currency if price else DEFAULT_CURRENCY,
            "opt_may_modify": [], "opt_attribution": True}


def _form_page(
    *, view: DesignView | None, values: dict[str, Any], errors: Mapping[str, str] | None = None,
    upload_errors: Mapping[str, str] | None = None, upload_values: Mapping[str, str] | None = None,
    lifecycle_error: str | None = None, option_values: Mapping[str, Any] | None = None,
    option_errors: Mapping[str, str] | None = None, status: int = 200,
) -> tuple[str, int]:
    settings = services().deps.settings
    design = view.design if view else None
    # The licence options section (its form posts to trade.py).
    options = services().licensing.options(_actor(), design.id, include_retired=True) if design else []
    return (
        render_template(
            "studio/design.html",
            view=view,
            design=design,
            values=values,
            gem_rows=_gem_rows(values),
            errors=errors or {},
            upload_errors=upload_errors or {},
            upload_values=upload_values or {"kind": AssetKind.IMAGE.value, "visibility": Visibility.PREVIEW.value},
            lifecycle_error=lifecycle_error,
            licence_options=options,
            option_values=option_values or (_blank_option_values(design) if design else {}),
            option_errors=option_errors or {},
            max_image=human_bytes(settings.max_image_bytes),
            max_cad=human_bytes(settings.max_cad_bytes),
            **_choices(),
        ),
        status,
    )


def _owned_view(actor: Actor, design_id: str) -> DesignView:
    """The design with every asset, for its owner only (others get the policy's reason)."""
    view = services().designs.view(actor, design_id, client())
    authorize(actor, Action.DESIGN_EDIT, Resource("design", view.design.id, view.design.designer_id))
    return view


def design_page(design_id: str, *, option_values: Mapping[str, Any], option_errors: Mapping[str, str],
                status: int) -> tuple[str, int]:
    """The owner's design page again with the licence option form as entered and its
    problems by the field (for trade.py, which takes that form)."""
    view = _owned_view(_actor(), design_id)
    return _form_page(view=view, values=_values_from_design(view.design), option_values=option_values,
                      option_errors=option_errors, status=status)


@bp.get("")
@login_required
def index() -> str:
    designs = services().designs.my_designs(_actor())
    return render_template("studio/index.html", designs=designs)


@bp.get("/designs/new")
@login_required
def new() -> tuple[str, int]:
    authorize(_actor(), Action.DESIGN_CREATE, Resource("design"))  # only designers get the form
    return _form_page(view=None, values=_blank_values())


@bp.post("/designs/new")
@login_required
def create() -> BaseResponse | tuple[str, int]:
    values = _values_from_form(request.form)
    try:
        design = services().designs.create(_actor(), DesignInput(**_fields(values)), client())
    except ValidationFailed as exc:
        return _form_page(view=None, values=values, errors=_form_errors(exc), status=status_for(exc))
    flash("The design is saved as a draft. Add a preview image, then publish it.", "success")
    return redirect(url_for("studio.edit", design_id=design.id), code=303)


@bp.get("/designs/<design_id>")
@login_required
def edit(design_id: str) -> tuple[str, int]:
    view = _owned_view(_actor(), design_id)
    return _form_page(view=view, values=_values_from_design(view.design))


@bp.post("/designs/<design_id>")
@login_required
def update(design_id: str) -> BaseResponse | tuple[str, int]:
    actor = _actor()
    values = _values_from_form(request.form)
    fields = _fields(values)
    changes = DesignChanges(**fields, clear_price=fields["price_amount"] is None)
    try:
        services().designs.update(actor, design_id, changes, client())
    except ValidationFailed as exc:
        return _form_page(view=_owned_view(actor, design_id), values=values, errors=_form_errors(exc),
                          status=status_for(exc))
    flash("Your changes are saved.", "success")
    return redirect(url_for("studio.edit", design_id=design_id), code=303)


@bp.post("/designs/<design_id>/assets")
@login_required
def upload(design_id: str) -> BaseResponse | tuple[str, int]:
    actor = _actor()
    kind = request.form.get("kind", "")
    visibility = request.form.get("visibility", "")
    try:
        with spooled_upload(request.files.get("file"), kind=kind, visibility=visibility) as spooled:
            asset = services().designs.add_asset(actor, design_id, spooled, client())
    except (ValidationFailed, BlobTooLarge) as exc:
        view = _owned_view(actor, design_id)
        errors = exc.by_field() if isinstance(exc, ValidationFailed) else {}
        return _form_page(view=view, values=_values_from_design(view.design),
                          upload_errors=errors or {exc.field or "file": exc.message},
                          upload_values={"kind": kind, "visibility": visibility}, status=status_for(exc))
    flash(f"{asset.filename} is uploaded.", "success")
    return redirect(url_for("studio.edit", design_id=design_id) + "#assets", code=303)


def _lifecycle(design_id: str, step: str) -> BaseResponse | tuple[str, int]:
    actor = _actor()
    designs = services().designs
    try:
        if step == "publish":
            designs.publish(actor, design_id, client())
            message = "The design is published: buyers can find it in the catalog."
        elif step == "withdraw":
            designs.withdraw(actor, design_id, client())
            message = "The design is withdrawn from the catalog. You can publish it again."
        else:
            if request.form.get("confirm") != "yes":
                raise ValidationFailed("Tick the box to confirm that you want to remove this design.",
                                       field="confirm")
            designs.remove(actor, design_id, client())
            flash("The design is removed. Its files are deleted after 90 days.", "info")
            return redirect(url_for("studio.index"), code=303)
    except (ValidationFailed, Conflict) as exc:
        view = _owned_view(actor, design_id)
        return _form_page(view=view, values=_values_from_design(view.design), lifecycle_error=exc.message,
                          status=status_for(exc))
    flash(message, "success")
    return redirect(safe_next(request.form.get("next"), url_for("studio.edit", design_id=design_id)), code=303)


@bp.post("/designs/<design_id>/publish")
@login_required
def publish(design_id: str) -> BaseResponse | tuple[str, int]:
    return _lifecycle(design_id, "publish")


@bp.post("/designs/<design_id>/withdraw")
@login_required
def withdraw(design_id: str) -> BaseResponse | tuple[str, int]:
    return _lifecycle(design_id, "withdraw")


@bp.post("/designs/<design_id>/remove")
@login_required
def remove(design_id: str) -> BaseResponse | tuple[str, int]:
    return _lifecycle(design_id, "remove")


@bp.get("/designs/<design_id>/analytics")
@login_required
def analytics(design_id: str) -> str:
    actor = _actor()
    daily = {d.day: d for d in services().engagement.daily(actor, design_id, days=ANALYTICS_DAYS)}
    view = services().designs.view(actor, design_id, client())
    today = services().deps.clock.now().date()
    days = [today - timedelta(days=i) for i in range(ANALYTICS_DAYS)]
    rows = [(day, daily.get(day)) for day in days]
    totals = {"views": sum(d.views for d in daily.values()), "saves": sum(d.saves for d in daily.values())}
    return render_template("studio/analytics.html", design=view.design, rows=rows, totals=totals,
                           days=ANALYTICS_DAYS)
