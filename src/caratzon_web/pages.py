"""Public pages: the home page and the privacy policy with its versions (P46).

``/legal/privacy`` shows the version in force with its effective date and text,
``/legal/privacy/<version>`` any published version (older ones stay readable; one
announced for a later date can be read before it applies), each with the list of
versions. The initial version has no stored text: the summary shipped with the
portal (``legal/_initial_text.html``) is its text.

For every page a signed-in person sees, :func:`policy_banner` asks the core where
they stand: while a material change in force waits for their acknowledgement, a
banner with a CSRF-protected "I have read it" button shows on every page; the
button posts to :func:`acknowledge`, which records the acceptance, after which the
banner is gone. The same call records continued use after a non-material change.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from caratzon_core.errors import DomainError
from caratzon_core.privacy import PolicyVersion
from caratzon_core.services.policy import Standing
from caratzon_web.context import client, current_user, is_api_request, login_required, safe_next, services
from caratzon_web.policy import current_policy

bp = Blueprint("pages", __name__)
log = logging.getLogger(__name__)

CONTROLLER = "Clean Jewel Beyond Limited"
CONTACT = "privacy@caratzon.com"

# A one-line paragraph such as "13. Changes to This Policy" is a section heading.
_HEADING = re.compile(r"\d+(?:\.\d+)*\.?\s+\S.{0,100}")


def paragraphs(text: str) -> list[tuple[str, list[str]]]:
    """Plain policy text as ``("h2" | "p", lines)`` blocks: blank lines separate
    paragraphs, and a short numbered one-line paragraph is a heading."""
    blocks: list[tuple[str, list[str]]] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [line.rstrip() for line in chunk.strip("\n").split("\n")]
        if not any(lines):
            continue
        kind = "h2" if len(lines) == 1 and _HEADING.fullmatch(lines[0].strip()) else "p"
        blocks.append((kind, lines))
    return blocks


@bp.get("/")
def home() -> str:
    return render_template("home.html", policy=current_policy())


def _render(version: PolicyVersion, *, status: int = 200) -> tuple[str, int]:
    policy = services().policy
    versions = policy.versions()
    current = policy.current()
    newer = [v for v in versions if v.order_key > version.order_key]
    if current is not None and version.order_key > current.order_key:
        state = "upcoming"
    elif current is not None and version.version == current.version:
        state = "current"
    else:
        state = "superseded"
    html = render_template(
        "legal/privacy.html",
        version=version,
        current=current,
        state=state,
        superseded_on=newer[0].effective_date if newer and state == "superseded" else None,
        versions=list(reversed(versions)),  # newest first
        blocks=paragraphs(version.text) if version.text is not None else None,
        controller=CONTROLLER,
        contact=CONTACT,
    )
    return html, status


@bp.get("/legal/privacy")
def privacy() -> tuple[str, int]:
    current = services().policy.current()
    if current is None:
        # Migrations seed the first version, so this means a broken database.
        raise DomainError("No privacy policy is in force; the database needs `caratzon db upgrade`.")
    return _render(current)


@bp.get("/legal/privacy/<version>")
def privacy_version(version: str) -> tuple[str, int]:
    return _render(services().policy.get(version))  # NotFound: 404


@bp.post("/legal/privacy/acknowledge")
@login_required
def acknowledge() -> BaseResponse:
    user = current_user()
    assert user is not None
    services().policy.acknowledge(services().accounts.actor_for(user), client())
    flash("Thank you: we have recorded that you have read the privacy policy.", "success")
    return redirect(safe_next(request.form.get("next"), "/"))


@bp.app_context_processor
def policy_banner() -> dict[str, Any]:
    """For every template: the material policy change a signed-in person must
    acknowledge (``policy_pending``), if any. Computed once per request; a failure
    here never breaks the page it decorates (it is logged and the banner skipped)."""
    user = current_user()
    if user is None or is_api_request():
        return {"policy_pending": None}
    if "policy_standing" in g:  # a second template in the same request
        cached: Standing | None = g.policy_standing
        return {"policy_pending": cached.pending if cached is not None else None}
    standing: Standing | None
    try:
        standing = services().policy.standing(user, client())
    except Exception:  # the banner must not turn a page (or an error page) into a 500
        log.exception("could not work out the privacy-policy banner")
        standing = None
    g.policy_standing = standing
    return {"policy_pending": standing.pending if standing is not None else None}
