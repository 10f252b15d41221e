"""Per-request context: the services, the client, and the browser session's user.

Browser sessions carry the user id and :func:`session_stamp`; every page request
checks both again through ``user_for_session``, so a closed account or a changed
password ends the session at once. The JSON API never reads the session.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, g, redirect, request, session, url_for

from caratzon_adapters.bootstrap import Services
from caratzon_core.accounts import Language, Role, User
from caratzon_core.notices import order_step
from caratzon_core.services.accounts import session_stamp
from caratzon_core.services.deps import Client

EXTENSION_KEY = "caratzon"
MAX_USER_AGENT = 300

F = TypeVar("F", bound=Callable[..., Any])


def services() -> Services:
    return cast(Services, current_app.extensions[EXTENSION_KEY])


def client() -> Client:
    """Where the request came from, passed to every use case (for the audit trail
    and the per-address login throttle)."""
    agent = request.user_agent.string[:MAX_USER_AGENT] or None
    return Client(address=request.remote_addr, user_agent=agent)


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


# -- browser sessions ----------------------------------------------------------------


def load_session_user() -> None:
    g.user = None
    # Signed asset links carry their own authority: no database read for them.
    if is_api_request() or request.endpoint in ("static", "health.healthz", "blobs.serve"):
        return
    user_id = session.get("uid")
    if not user_id:
        return
    user = services().accounts.user_for_session(str(user_id), str(session.get("stamp") or ""))
    if user is None:
        # Closed account, changed password or deleted user: logged out at once.
        session.clear()
        return
    g.user = user


def current_user() -> User | None:
    return cast(User | None, g.get("user"))


def start_session(user: User) -> None:
    """Log ``user`` in. The old session is dropped entirely first, so nothing set
    before login (by an attacker planting a cookie, say) survives into it."""
    session.clear()
    session["uid"] = user.id
    session["stamp"] = session_stamp(user)
    session.permanent = True
    g.user = user


def end_session() -> None:
    session.clear()
    g.user = None


def safe_next(target: str | None, default: str) -> str:
    """Only local paths: never redirect to another site after login."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapped)


# -- templates -------------------------------------------------------------------------

LANGUAGE_LABELS = {
    Language.EN: "English",
    Language.ZH_HANS: "简体中文",
    Language.ZH_HANT: "繁體中文",
}

ROLE_LABELS = {
    Role.DESIGNER: "Designer",
    Role.BUYER: "B2B buyer",
    Role.MANUFACTURER: "Manufacturer",
    Role.PRODUCTION_MANAGER: "Production manager",
    Role.ADMIN: "Administrator",
}


def template_globals() -> dict[str, Any]:
    user = current_user()
    return {
        "current_user": user,
        # The interface is written in English only (so far): pages say so, whatever the
        # person's language, so that screen readers pick the right voice. Their
        # language still drives mails and message translation.
        "page_lang": Language.EN.value,
        "Role": Role,
        "LANGUAGE_LABELS": LANGUAGE_LABELS,
        "ROLE_LABELS": ROLE_LABELS,
        "order_step": order_step,
    }
