"""The admins' retention page (issue #6, part 4; policy §8, P30-P34).

``/admin/retention`` (admins) shows the next run (the plan as of now: per rule its
cut-off, what is due, what is kept and why), the last runs with their counts, the
standing legal holds with a release form each, a form to place a hold, and a "Run
now" form that applies the plan at once after an explicit confirmation.

Views only turn form fields into the plain data of :class:`RetentionService` and
show what it answers; every form carries a CSRF token, and on a problem the page
comes back with the message by the field and what was typed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from caratzon_core.access import Action, Actor, Resource, authorize
from caratzon_core.errors import Conflict, DomainError, NotFound, ValidationFailed
from caratzon_core.retention import RULE_BY_CODE, KeptItem, RetentionRun, RuleCode, RunStatus
from caratzon_core.services.retention import HoldView
from caratzon_web.context import client, current_user, login_required, services
from caratzon_web.errors import status_for

log = logging.getLogger(__name__)

bp = Blueprint("retention_admin", __name__)

KEPT_SHOWN = 50
RUNS_SHOWN = 10
CONFIRM_MESSAGE = "Tick the box to confirm: a retention run deletes data for good."
STATUS_LABELS = {RunStatus.RUNNING: "Running", RunStatus.COMPLETED: "Completed", RunStatus.FAILED: "Failed"}
# The badge colours of privacy.css: completed green, failed red, running plain.
STATUS_BADGES = {RunStatus.RUNNING: "in_progress", RunStatus.COMPLETED: "completed", RunStatus.FAILED: "refused"}
EXTRA_COUNTS = {"blob_failures": "Blob deletions that failed (retried next run)"}


def _actor() -> Actor:
    user = current_user()
    assert user is not None  # login_required
    return services().accounts.actor_for(user)


def count_label(key: str) -> str:
    """A run's count key (a rule code, or a housekeeping counter) as a person reads it."""
    try:
        return RULE_BY_CODE[RuleCode(key)].title
    except ValueError:
        return EXTRA_COUNTS.get(key, key.replace("_", " ").capitalize())


def counts_line(run: RetentionRun) -> str:
    return ", ".join(f"{count_label(k)} {v}" for k, v in sorted(run.counts.items())) or "nothing was due"


def _who(actor: Actor, ids: Iterable[str]) -> dict[str, str]:
    """Admins and operators by email (an operator's id, e.g. ``operator:cli``, as it is)."""
    accounts = services().accounts
    names: dict[str, str] = {}
    for who in set(ids):
        try:
            names[who] = accounts.get_user(actor, who, client()).email
        except DomainError:
            names[who] = who
    return names


def _page(*, errors: Mapping[str, str] | None = None, values: Mapping[str, str] | None = None,
          status: int = 200) -> tuple[str, int]:
    actor = _actor()
    retention = services().retention
    plan = retention.plan(actor)
    runs = retention.runs(actor, limit=RUNS_SHOWN)
    holds = retention.holds(actor)
    kept: list[tuple[str, KeptItem]] = [(r.rule.title, k) for r in plan.rules for k in r.kept]
    # A problem with a hold this page no longer lists (released meanwhile) goes above the list.
    shown = {v.hold.user_id for v in holds}
    errors = dict(errors or {})
    for key in list(errors):
        field, _, user_id = key.partition("-")
        if field in ("release", "release_reason") and user_id not in shown:
            errors["holds_form"] = errors.pop(key)
    names = _who(actor, [r.started_by for r in runs] + [v.hold.placed_by for v in holds])
    return (
        render_template("privacy/retention.html", plan=plan, kept=kept[:KEPT_SHOWN], kept_total=len(kept),
                        runs=runs, holds=holds, names=names, status_labels=STATUS_LABELS,
                        status_badges=STATUS_BADGES, count_label=count_label, errors=errors, values=values or {}),
        status,
    )


def _back(anchor: str) -> BaseResponse:
    return redirect(url_for("retention_admin.page") + f"#{anchor}", code=303)


@bp.get("/admin/retention")
@login_required
def page() -> tuple[str, int]:
    return _page()


@bp.post("/admin/retention/run")
@login_required
def run_now() -> BaseResponse | tuple[str, int]:
    actor = _actor()
    authorize(actor, Action.RETENTION_RUN, Resource("retention"))
    if request.form.get("confirm") != "yes":
        return _page(errors={"confirm": CONFIRM_MESSAGE}, status=422)
    try:
        run = services().retention.apply(actor, client=client())
    except DomainError as exc:
        return _page(errors={"run_form": exc.message}, status=status_for(exc))
    except Exception:
        # The run is recorded as failed with its error, and what it finished stays
        # done and counted: the page says so rather than a bare error page.
        log.exception("Retention run from the admin page failed")
        flash("The retention run stopped with an error (see Last runs). What it finished is done and counted; "
              "the next run does the rest.", "info")
        return _back("runs")
    flash(f"Retention run {run.id} as of {run.as_of:%Y-%m-%d %H:%M} UTC {run.status.value}: {counts_line(run)}.",
          "success")
    return _back("runs")


@bp.post("/admin/retention/holds")
@login_required
def place_hold() -> BaseResponse | tuple[str, int]:
    values = {"hold_email": request.form.get("email", ""), "hold_reason": request.form.get("reason", "")}
    try:
        hold = services().retention.place_hold(_actor(), values["hold_email"], values["hold_reason"], client())
    except (ValidationFailed, NotFound, Conflict) as exc:
        field = {"email": "hold_email", "reason": "hold_reason"}.get(exc.field or "", "hold_form")
        return _page(errors={field: exc.message}, values=values, status=status_for(exc))
    flash(f"Legal hold {hold.id} placed on {values['hold_email'].strip().lower()}: erasure and retention stop "
          "until it is released.", "success")
    return _back("holds")


def _email_of(holds: list[HoldView], user_id: str) -> str:
    return next((v.email for v in holds if v.hold.user_id == user_id and v.email), user_id)


@bp.post("/admin/retention/holds/release")
@login_required
def release_hold() -> BaseResponse | tuple[str, int]:
    actor = _actor()
    person = request.form.get("person", "").strip()
    reason = request.form.get("reason", "")
    retention = services().retention
    email = _email_of(retention.holds(actor), person)
    try:
        hold = retention.release_hold(actor, person, reason, client())
    except (ValidationFailed, NotFound) as exc:
        field = "release_reason" if exc.field == "reason" else "release"
        return _page(errors={f"{field}-{person}": exc.message}, values={f"release_reason-{person}": reason},
                     status=status_for(exc))
    flash(f"Legal hold {hold.id} on {email} released: their data is again erased or retained on schedule.",
          "success")
    return _back("holds")
