"""Cookie consent (P10, P44) and the scroll-depth beacon.

Cookies: the session and its CSRF token, ``cz_visitor`` (a random id the stored
choice hangs on) and ``cz_consent`` (the choice and the notice version, so the
banner stays away) are strictly necessary. Analytics run only after "Accept
analytics", and whether they run is decided on every request from the STORED
choice (:meth:`EngagementService.record` reads it), never from the cookie: a
withdrawal takes effect on the very next request.

The beacon is a page route, ``POST /beacon``, not part of the JSON API. It is
authenticated by the session cookie, and the API is bearer-only and never reads
that cookie; keeping the one cookie-authenticated write out of ``/api`` keeps
that rule without exceptions. ``navigator.sendBeacon`` cannot set headers, so
the page's CSRF token travels in the form-encoded body (a CORS-safelisted type,
so every browser sends it without a preflight); Flask-WTF checks it like any
form's (``X-CSRFToken`` works too, for ``fetch``). On top of that the Origin
(or, failing that, the Referer) must be this site.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caratzon_core.consent import COOKIE_NOTICE_VERSION
from caratzon_core.errors import Forbidden, Unauthenticated, ValidationFailed
from caratzon_core.services.engagement import check_visitor_id
from caratzon_web.context import client, current_user, safe_next, services
from caratzon_web.errors import MalformedRequest

bp = Blueprint("consent", __name__)

VISITOR_COOKIE = "cz_visitor"
CONSENT_COOKIE = "cz_consent"
COOKIE_LIFETIME = timedelta(days=365)
BEACON_FIELDS = frozenset({"design_id", "kind", "scroll_depth", "csrf_token"})


# -- cookies -------------------------------------------------------------------------------


def visitor_id() -> str | None:
    """This browser's visitor id, if it has a valid one."""
    raw = request.cookies.get(VISITOR_COOKIE)
    if not raw:
        return None
    try:
        return check_visitor_id(raw)
    except ValidationFailed:
        return None


def cookie_choice() -> str | None:
    """"yes" or "no" from ``cz_consent`` when it answers the current notice, else None."""
    choice, _, version = (request.cookies.get(CONSENT_COOKIE) or "").partition(".")
    if choice in ("yes", "no") and version == COOKIE_NOTICE_VERSION:
        return choice
    return None


def _set_cookie(response: BaseResponse, name: str, value: str) -> None:
    response.set_cookie(
        name, value, max_age=int(COOKIE_LIFETIME.total_seconds()), path="/", httponly=True, samesite="Lax",
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
    )


def banner_context() -> dict[str, Any]:
    """For every template: show the banner until this browser has chosen (on the
    settings page itself the page is the banner)."""
    show = cookie_choice() is None and request.endpoint not in ("consent.settings", "consent.choose")
    return {"show_cookie_banner": show}


# -- the banner and the settings page ---------------------------------------------------------


@bp.get("/consent")
def settings() -> str:
    record = services().engagement.current(visitor_id(), current_user())
    current = record if record is not None and record.notice_version == COOKIE_NOTICE_VERSION else None
    return render_template("consent/settings.html", record=current, notice_version=COOKIE_NOTICE_VERSION,
                           next_url=safe_next(request.args.get("next"), ""))


@bp.post("/consent")
def choose() -> BaseResponse | tuple[str, int]:
    answer = request.form.get("analytics", "")
    if answer not in ("yes", "no"):
        raise ValidationFailed("Choose 'Accept analytics' or 'Only necessary'.", field="analytics")
    visitor = visitor_id() or secrets.token_urlsafe(24)
    services().engagement.choose(visitor, current_user(), analytics=answer == "yes", client=client())
    response: BaseResponse
    if request.form.get("reply") == "empty":  # consent.js: it only hides the banner
        response = Response(status=204)
    else:
        response = redirect(safe_next(request.form.get("next"), url_for("consent.settings")), code=303)
    _set_cookie(response, VISITOR_COOKIE, visitor)
    _set_cookie(response, CONSENT_COOKIE, f"{answer}.{COOKIE_NOTICE_VERSION}")
    return response


# -- the scroll beacon ----------------------------------------------------------------------


def _same_origin() -> bool:
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return (parts.scheme, parts.netloc) == (request.scheme, request.host)


def _beacon_body() -> dict[str, Any]:
    if request.is_json:
        try:
            data = json.loads(request.get_data(cache=False))
        except ValueError:
            raise MalformedRequest("The beacon is not valid JSON.") from None
        if not isinstance(data, dict):
            raise MalformedRequest("The beacon must be a JSON object.")
        return data
    return request.form.to_dict()


@bp.post("/beacon")
def beacon() -> Response:
    """``{design_id, kind: "scroll", scroll_depth}``; 204 whether or not it was
    stored (it is only with analytics consent, and never for restricted users)."""
    if not _same_origin():
        raise Forbidden("Engagement beacons are accepted from Caratzon pages only.")
    user = current_user()
    if user is None:
        raise Unauthenticated("Log in first.")
    body = _beacon_body()
    unknown = sorted(set(body) - BEACON_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown field '{unknown[0]}'.", field=unknown[0])
    if body.get("kind") != "scroll":
        raise ValidationFailed("The beacon reports scroll depth only (kind 'scroll'); views are counted "
                               "when the page is served.", field="kind")
    services().engagement.record(visitor_id(), user, str(body.get("design_id") or ""), "scroll",
                                 body.get("scroll_depth"))
    return Response(status=204)
