"""The signed-in person's own account: details, designer profile, password, closing."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caratzon_core.accounts import Language, Role, User
from caratzon_core.errors import ValidationFailed
from caratzon_core.services.accounts import AccountChanges
from caratzon_web.context import client, current_user, end_session, login_required, services, start_session
from caratzon_web.errors import status_for

bp = Blueprint("account", __name__)

SECTIONS = ("details", "profile", "password", "close")


def _me() -> User:
    user = current_user()
    assert user is not None  # login_required
    return user


def _page(
    user: User, *, section: str | None = None, errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None, status: int = 200,
) -> tuple[str, int]:
    profile = services().accounts.get_profile(user.id) if user.role is Role.DESIGNER else None
    shown: dict[str, Any] = {
        "name": user.name,
        "business_name": user.business_name or "",
        "business_address": user.business_address or "",
        "language": user.language.value,
        "biography": profile.biography if profile else "",
        "brand_description": profile.brand_description if profile else "",
        "credentials": profile.credentials if profile else "",
    }
    shown.update(values or {})
    return (
        render_template(
            "account.html",
            user=user,
            is_designer=user.role is Role.DESIGNER,
            values=shown,
            errors=errors or {},
            section=section,
            languages=list(Language),
        ),
        status,
    )


@bp.get("/account")
@login_required
def show() -> tuple[str, int]:
    return _page(_me())


@bp.post("/account")
@login_required
def update() -> BaseResponse | tuple[str, int]:
    user = _me()
    form = request.form
    section = form.get("form", "")
    accounts = services().accounts
    actor = accounts.actor_for(user)
    entered: dict[str, str] = {}
    try:
        if section == "details":
            entered = {k: form.get(k, "") for k in ("name", "business_name", "business_address", "language")}
            accounts.update_account(actor, user.id, AccountChanges(
                name=entered["name"], business_name=entered["business_name"],
                business_address=entered["business_address"], language=entered["language"]), client())
            flash("Your details are saved.", "success")
        elif section == "ai":
            objects = form.get("object_to_ai") == "yes"
            accounts.update_account(actor, user.id, AccountChanges(object_to_ai=objects), client())
            flash("Nothing of yours will be sent to AI services." if objects
                  else "Your messages may be translated by our AI service again.", "success")
        elif section == "profile":
            entered = {k: form.get(k, "") for k in ("biography", "brand_description", "credentials")}
            accounts.update_profile(actor, user.id, client=client(), **entered)
            flash("Your designer profile is saved.", "success")
        elif section == "password":
            new_password = form.get("new_password", "")
            if new_password != form.get("new_password_confirm", ""):
                raise ValidationFailed("The two new passwords do not match.", field="new_password_confirm")
            updated = accounts.change_password(actor, form.get("current_password", ""), new_password, client())
            # A fresh session for this browser; every other session and API token ends.
            start_session(updated)
            flash("Your password is changed. Your other sessions and all API tokens were ended.", "success")
        elif section == "close":
            if form.get("confirm") != "yes":
                raise ValidationFailed("Tick the box to confirm that you want to close your account.",
                                       field="confirm")
            accounts.close_account(actor, user.id, client())
            end_session()
            flash("Your account is closed and you are logged out. Your API tokens no longer work.", "info")
            return redirect(url_for("pages.home"))
        else:
            raise ValidationFailed("Unknown form.", field="form")
    except ValidationFailed as exc:
        field = exc.field or "form"
        if section == "password" and field == "password":
            field = "new_password"
        return _page(user, section=section, errors={field: exc.message}, values=entered, status=status_for(exc))
    return redirect(url_for("account.show") + f"#{section}")
