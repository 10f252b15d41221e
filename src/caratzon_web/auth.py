"""Sign-up, login and logout for people using the portal."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caratzon_core.accounts import SELF_SIGN_UP_ROLES, Language, Role
from caratzon_core.errors import Conflict, Throttled, Unauthenticated, ValidationFailed
from caratzon_core.services.accounts import SignUp
from caratzon_web.context import client, current_user, end_session, safe_next, services, start_session
from caratzon_web.converters import parse_iso_date
from caratzon_web.errors import iso_utc, retry_after_seconds, status_for
from caratzon_web.policy import current_policy

bp = Blueprint("auth", __name__)

SIGN_UP_FIELDS = (
    "email",
    "name",
    "role",
    "date_of_birth",
    "business_name",
    "business_address",
    "language",
    "accept_policy_version",
)
# In the order the form shows them.
SIGN_UP_ROLES = [r for r in Role if r in SELF_SIGN_UP_ROLES]


def _signup_page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "auth/signup.html",
            values=values,
            errors=errors,
            roles=SIGN_UP_ROLES,
            languages=list(Language),
            policy=current_policy(),
            today=services().deps.clock.now().date().isoformat(),
        ),
        status,
    )


@bp.get("/signup")
def signup_form() -> BaseResponse | tuple[str, int]:
    if current_user() is not None:
        return redirect(url_for("account.show"))
    values = {"language": Language.EN.value}
    if request.args.get("role") in {r.value for r in SIGN_UP_ROLES}:
        values["role"] = request.args["role"]
    return _signup_page(values, {})


@bp.post("/signup")
def signup() -> BaseResponse | tuple[str, int]:
    form = request.form
    # Everything entered comes back on an error, except the password.
    values = {name: form.get(name, "") for name in SIGN_UP_FIELDS}
    try:
        cmd = SignUp(
            email=form.get("email", ""),
            password=form.get("password", ""),
            name=form.get("name", ""),
            role=form.get("role", ""),
            date_of_birth=parse_iso_date(form.get("date_of_birth", ""), field="date_of_birth"),
            business_name=form.get("business_name") or None,
            business_address=form.get("business_address") or None,
            accept_policy_version=form.get("accept_policy_version") or None,
            language=form.get("language") or Language.EN.value,
        )
        user = services().accounts.sign_up(cmd, client())
    except ValidationFailed as exc:
        return _signup_page(values, exc.by_field() or {"form": exc.message}, status_for(exc))
    except Conflict as exc:
        return _signup_page(values, {exc.field or "form": exc.message}, status_for(exc))
    start_session(user)
    flash(f"Welcome to Caratzon, {user.name}. Your account is ready.", "success")
    return redirect(url_for("account.show"))


def _login_page(
    *, email: str = "", next_url: str = "", error: str | None = None, retry_at: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return (
        render_template("auth/login.html", email=email, next_url=next_url, error=error, retry_at=retry_at),
        status,
    )


@bp.get("/login")
def login_form() -> BaseResponse | tuple[str, int]:
    next_url = safe_next(request.args.get("next"), "")
    if current_user() is not None:
        return redirect(next_url or url_for("account.show"))
    return _login_page(next_url=next_url)


@bp.post("/login")
def login() -> BaseResponse | tuple[str, int]:
    email = request.form.get("email", "")
    next_url = safe_next(request.form.get("next"), "")
    try:
        user = services().accounts.login(email, request.form.get("password", ""), client())
    except Throttled as exc:
        body, status = _login_page(
            email=email, next_url=next_url, error=exc.message, retry_at=iso_utc(exc.retry_at), status=429
        )
        response = Response(body, status)
        response.headers["Retry-After"] = str(retry_after_seconds(exc.retry_at))
        return response
    except Unauthenticated as exc:
        return _login_page(email=email, next_url=next_url, error=exc.message, status=401)
    start_session(user)
    return redirect(next_url or url_for("account.show"))


@bp.post("/logout")
def logout() -> BaseResponse:
    user = current_user()
    if user is not None:
        services().accounts.logout(user.id, client())
    end_session()
    flash("You are logged out.", "info")
    return redirect(url_for("pages.home"))
