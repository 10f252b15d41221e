"""The Privacy Center and the admins' request queue (issue #6, parts 1 and 7).

``/privacy`` (signed in): the seven rights of policy §9, one line each, a form to
exercise each, and the person's requests with their status and due date.
``/admin/requests`` (admins): the queue with due dates, overdue ones highlighted
and reported minors first, with take / complete / refuse forms, and a form to
flag an account reported as a minor's.

Views only turn form fields into the plain data of :class:`RequestService` and
show what it answers; every form carries a CSRF token, and on a problem the page
comes back with the message by the field and what was typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caratzon_core.access import Actor
from caratzon_core.errors import Conflict, NotFound, ValidationFailed
from caratzon_core.requests import (
    IMMEDIATE,
    PENDING_AUTOMATION,
    RIGHTS,
    Origin,
    RequestStatus,
    RequestType,
    request_ref,
)
from caratzon_web.context import client, current_user, login_required, services
from caratzon_web.errors import status_for

bp = Blueprint("privacy_center", __name__)

TITLES = {
    RequestType.ACCESS: "Access",
    RequestType.RECTIFICATION: "Rectification",
    RequestType.ERASURE: "Erasure",
    RequestType.RESTRICTION: "Restriction",
    RequestType.PORTABILITY: "Portability",
    RequestType.OBJECTION: "Objection",
    RequestType.WITHDRAW_CONSENT: "Withdraw consent",
}
BUTTONS = {
    RequestType.ACCESS: "Ask for a copy of my data",
    RequestType.RECTIFICATION: "Ask for a correction",
    RequestType.ERASURE: "Ask for erasure",
    RequestType.RESTRICTION: "Restrict processing now",
    RequestType.PORTABILITY: "Ask for a portable copy",
    RequestType.OBJECTION: "Object now",
    RequestType.WITHDRAW_CONSENT: "Withdraw consent now",
}
STATUS_LABELS = {
    RequestStatus.RECEIVED: "Received",
    RequestStatus.IN_PROGRESS: "In progress",
    RequestStatus.COMPLETED: "Completed",
    RequestStatus.REFUSED: "Refused",
}
ORIGIN_LABELS = {
    Origin.SELF: "By the person",
    Origin.VERIFIED: "For the person (code verified)",
    Origin.MINOR_REPORT: "Reported minor",
}
# Rights where what the person writes helps (what is wrong, what to erase, why they object).
DETAILS_HINTS = {
    RequestType.RECTIFICATION: "What is wrong, and what should it say?",
    RequestType.ERASURE: "Anything we should know (optional).",
    RequestType.ACCESS: "Anything in particular (optional).",
    RequestType.PORTABILITY: "Anything in particular (optional).",
    RequestType.OBJECTION: "Why you object (optional).",
}


def _actor() -> Actor:
    user = current_user()
    assert user is not None  # login_required
    return services().accounts.actor_for(user)


def _common() -> dict[str, Any]:
    return {"titles": TITLES, "status_labels": STATUS_LABELS, "origin_labels": ORIGIN_LABELS,
            "request_ref": request_ref, "RequestStatus": RequestStatus}


# -- the Privacy Center ------------------------------------------------------------------------


def _center(*, values: Mapping[str, str] | None = None, errors: Mapping[str, str] | None = None,
            status: int = 200) -> tuple[str, int]:
    actor = _actor()
    rights = [{"type": kind, "title": TITLES[kind], "line": RIGHTS[kind], "button": BUTTONS[kind],
               "immediate": kind in IMMEDIATE, "pending": PENDING_AUTOMATION.get(kind),
               "hint": DETAILS_HINTS.get(kind)} for kind in RequestType]
    return (
        render_template("privacy/center.html", rights=rights, requests=services().requests.mine(actor, client()),
                        now=services().deps.clock.now(), values=values or {}, errors=errors or {}, **_common()),
        status,
    )


@bp.get("/privacy")
@login_required
def center() -> tuple[str, int]:
    return _center()


@bp.post("/privacy/requests")
@login_required
def open_request() -> BaseResponse | tuple[str, int]:
    kind = request.form.get("type", "")
    details = request.form.get("details", "")
    try:
        opened = services().requests.open(_actor(), kind, details=details, client=client())
    except ValidationFailed as exc:
        errors = {f"details-{kind}" if exc.field == "details" else "form": exc.message}
        return _center(values={"type": kind, "details": details}, errors=errors, status=status_for(exc))
    req = opened.request
    ref = request_ref(req.id)
    if opened.merged:
        flash(f"You already had an open request of this kind ({ref}); we added this one to it. "
              f"We answer by {req.due_at:%Y-%m-%d}.", "success")
    elif req.status is RequestStatus.COMPLETED:
        flash(f"Done ({ref}): {req.outcome}", "success")
    else:
        flash(f"Request {ref} received. We answer by {req.due_at:%Y-%m-%d} and tell you by email.", "success")
    return redirect(url_for("privacy_center.center") + "#requests", code=303)


# -- the admins' queue -------------------------------------------------------------------------------


def _queue(*, errors: Mapping[str, str] | None = None, values: Mapping[str, str] | None = None,
           status: int = 200) -> tuple[str, int]:
    actor = _actor()
    overdue_only = request.args.get("overdue") == "1"
    include_closed = request.args.get("all") == "1"
    views = services().requests.queue(actor, overdue_only=overdue_only, include_closed=include_closed,
                                      client=client())
    # A problem with a request this view does not list (closed meanwhile, say) goes on top.
    shown = {v.request.id for v in views}
    errors = dict(errors or {})
    for key in list(errors):
        field, _, request_id = key.partition("-")
        if field in ("status", "outcome", "reason") and request_id not in shown:
            errors["form"] = errors.pop(key)
    return (
        render_template("privacy/queue.html", views=views, overdue_only=overdue_only, include_closed=include_closed,
                        overdue_count=sum(1 for v in views if v.overdue), errors=errors, values=values or {},
                        **_common()),
        status,
    )


@bp.get("/admin/requests")
@login_required
def queue() -> tuple[str, int]:
    return _queue()


def _back() -> BaseResponse:
    return redirect(url_for("privacy_center.queue") + "#queue", code=303)


def _worked(request_id: str, step: str) -> BaseResponse | tuple[str, int]:
    requests = services().requests
    actor = _actor()
    text = request.form.get("reason" if step == "refuse" else "outcome", "")
    try:
        if step == "take":
            done = requests.take(actor, request_id, client())
        elif step == "complete":
            done = requests.complete(actor, request_id, text, client())
        else:
            done = requests.refuse(actor, request_id, text, client())
    except (ValidationFailed, Conflict) as exc:
        field = exc.field if exc.field in ("outcome", "reason", "status") else "status"
        return _queue(errors={f"{field}-{request_id}": exc.message},
                      values={f"{'reason' if step == 'refuse' else 'outcome'}-{request_id}": text},
                      status=status_for(exc))
    ref = request_ref(done.id)
    flash({"take": f"Request {ref} is yours: it is in progress.",
           "complete": f"Request {ref} is completed; the person is told by email.",
           "refuse": f"Request {ref} is refused; the person is told the reason by email."}[step], "success")
    return _back()


@bp.post("/admin/requests/<request_id>/take")
@login_required
def take(request_id: str) -> BaseResponse | tuple[str, int]:
    return _worked(request_id, "take")


@bp.post("/admin/requests/<request_id>/complete")
@login_required
def complete(request_id: str) -> BaseResponse | tuple[str, int]:
    return _worked(request_id, "complete")


@bp.post("/admin/requests/<request_id>/refuse")
@login_required
def refuse(request_id: str) -> BaseResponse | tuple[str, int]:
    return _worked(request_id, "refuse")


@bp.post("/admin/minors")
@login_required
def flag_minor() -> BaseResponse | tuple[str, int]:
    values = {"minor_email": request.form.get("email", ""), "minor_reason": request.form.get("reason", "")}
    try:
        opened = services().requests.flag_minor(_actor(), values["minor_email"], values["minor_reason"], client())
    except (ValidationFailed, NotFound, Conflict) as exc:
        field = {"email": "minor_email", "reason": "minor_reason"}.get(exc.field or "", "minor_form")
        return _queue(errors={field: exc.message}, values=values, status=status_for(exc))
    flash(f"{values['minor_email'].strip()} is restricted, and erasure request {request_ref(opened.request.id)} "
          "is first in the queue.", "success")
    return _back()
