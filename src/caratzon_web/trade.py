"""Licensing and messages in the portal (issue #4): the licence options editor on
the studio design page, opening a negotiation from the design page, the
negotiation with its offers and conversation, agreements (printable), message
threads and support requests.

This module only turns form fields into the plain data the use cases take
(:class:`LicensingService`, :class:`MessagingService`) and shows what they
answer. Every form posts with a CSRF token; on a problem the page comes back with
the message by the field and everything entered, and nothing is stored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from caratzon_core.access import Actor
from caratzon_core.accounts import Role
from caratzon_core.blobs import BlobTooLarge
from caratzon_core.errors import Conflict, DomainError, NotFound, ValidationFailed
from caratzon_core.licensing import WORLDWIDE, LicenceTerms
from caratzon_core.messaging import (
    ATTACHMENT_EXTENSIONS,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    SupportTopic,
    ThreadKind,
)
from caratzon_core.money import CURRENCY_EXPONENTS, Money
from caratzon_core.negotiation import Party
from caratzon_core.services.licensing import fee_summary
from caratzon_web import catalog, studio
from caratzon_web.blobs import spooled_upload
from caratzon_web.context import client, current_user, login_required, services
from caratzon_web.errors import human_bytes, status_for

bp = Blueprint("trade", __name__)

# The licence terms form (templates/trade/_macros.html: terms_fields), shared by the
# studio's option form and the counter-offer form.
TEXT_FIELDS = ("opt_use", "opt_exclusivity", "opt_territory", "opt_start", "opt_months", "opt_unit_cap",
               "opt_flat", "opt_royalty", "opt_currency")
# The use cases name problems by the terms' fields; the form's inputs are these.
_OPTION_FIELD = {
    "name": "opt_name",
    "use": "opt_use",
    "exclusivity": "opt_exclusivity",
    "territory": "opt_territory",
    "term": "opt_start",
    "term.start": "opt_start",
    "term.months": "opt_months",
    "unit_cap": "opt_unit_cap",
    "fees": "opt_fees",
    "fees.flat": "opt_flat",
    "fees.royalty_per_unit": "opt_royalty",
    "currency": "opt_currency",
    "may_modify": "opt_may_modify",
    "attribution_required": "opt_attribution",
}
# "Start a negotiation" on the design page: a proposed fee and a note.
_OPEN_FIELD = {"fees": "flat", "fees.flat": "flat", "fees.royalty_per_unit": "royalty", "currency": "currency",
               "body": "note"}
PARTY_LABELS = {Party.BUYER: "The buyer", Party.DESIGNER: "The designer"}
TOPIC_LABELS = {SupportTopic.SUPPORT: "Support request", SupportTopic.FEEDBACK: "Feedback"}


def _actor() -> Actor:
    user = current_user()
    assert user is not None  # login_required
    return services().accounts.actor_for(user)


# -- templates ------------------------------------------------------------------------


@bp.app_template_filter("fees")
def fees_filter(terms: LicenceTerms) -> str:
    """``USD 1,500.00 + USD 4.00 per piece``."""
    return fee_summary(terms)


@bp.app_template_filter("when")
def when_filter(value: datetime | str | None) -> str:
    """A moment as ``2026-11-27 09:00 UTC``; event data carries ISO 8601 text."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M UTC")


@bp.app_template_filter("filesize")
def filesize_filter(size: int) -> str:
    """``329 bytes``, ``1.5 MB``."""
    return human_bytes(size)


@bp.app_template_filter("amount")
def amount_filter(money: Money | None) -> str:
    """Major units as typed into a form: ``1500.00``; empty for none."""
    return "" if money is None else str(money.to_decimal())


# -- the licence terms form <-> plain data -----------------------------------------------


def terms_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """What was entered in the terms fields, as the template shows it again."""
    values: dict[str, Any] = {k: form.get(k, "").strip() for k in TEXT_FIELDS}
    values["opt_perpetual"] = form.get("opt_perpetual") == "yes"
    values["opt_attribution"] = form.get("opt_attribution") == "yes"
    values["opt_may_modify"] = form.getlist("opt_may_modify")
    return values


def values_from_terms(terms: LicenceTerms) -> dict[str, Any]:
    """An offer's terms in the form's fields (the counter form starts from them)."""
    fees = terms.fees
    return {
        "opt_use": terms.use.value,
        "opt_exclusivity": terms.exclusivity.value,
        "opt_territory": WORLDWIDE if terms.territory.worldwide else ", ".join(sorted(terms.territory.countries)),
        "opt_start": terms.term.start.isoformat(),
        "opt_months": "" if terms.term.months is None else str(terms.term.months),
        "opt_perpetual": terms.term.perpetual,
        "opt_unit_cap": "" if terms.unit_cap is None else str(terms.unit_cap),
        "opt_flat": amount_filter(fees.flat),
        "opt_royalty": amount_filter(fees.royalty_per_unit),
        "opt_currency": fees.currency,
        "opt_may_modify": sorted(m.value for m in terms.may_modify),
        "opt_attribution": terms.attribution_required,
    }


def _whole(raw: str) -> int | str:
    """A whole number as typed, or the text itself (the use case says what is wrong)."""
    try:
        return int(raw)
    except ValueError:
        return raw


def _money(amount: str, currency: str) -> dict[str, str] | None:
    return {"amount": amount, "currency": currency} if amount else None


def terms_from_values(values: Mapping[str, Any]) -> dict[str, object]:
    """The plain-data terms ``parse_terms`` reads: "worldwide" or a list of codes, a
    term (no months: perpetual), no unit cap: unlimited, amounts as decimal text."""
    territory = str(values["opt_territory"])
    currency = str(values["opt_currency"])
    return {
        "use": values["opt_use"],
        "exclusivity": values["opt_exclusivity"],
        "territory": WORLDWIDE if territory.lower() == WORLDWIDE
        else [code.strip() for code in territory.split(",") if code.strip()],
        "term": {"start": values["opt_start"],
                 "months": None if values["opt_perpetual"] else _whole(str(values["opt_months"]))},
        "unit_cap": _whole(str(values["opt_unit_cap"])) if values["opt_unit_cap"] else None,
        "fees": {"flat": _money(str(values["opt_flat"]), currency),
                 "royalty_per_unit": _money(str(values["opt_royalty"]), currency)},
        "may_modify": sorted(values["opt_may_modify"]),
        "attribution_required": bool(values["opt_attribution"]),
    }


def _errors(exc: DomainError, names: Mapping[str, str], *, default: str, prefix: str = "") -> dict[str, str]:
    """The problems keyed by the form's inputs (the first message per input); one
    with no input of its own goes to ``default`` (the top of the form)."""
    problems = exc.by_field() if isinstance(exc, ValidationFailed) else {}
    if not problems:
        problems = {exc.field or "": exc.message}
    out: dict[str, str] = {}
    for field, message in problems.items():
        out.setdefault(prefix + names.get(field, default), message)
    return out


# -- licence options (the studio design page) ---------------------------------------------


@bp.post("/studio/designs/<design_id>/licence-options")
@login_required
def add_option(design_id: str) -> BaseResponse | tuple[str, int]:
    values = {"opt_name": request.form.get("opt_name", ""), **terms_values(request.form)}
    try:
        option = services().licensing.add_option(_actor(), design_id, values["opt_name"], terms_from_values(values),
                                                 client())
    except (ValidationFailed, Conflict) as exc:
        return studio.design_page(design_id, option_values=values,
                                  option_errors=_errors(exc, _OPTION_FIELD, default="opt_form"),
                                  status=status_for(exc))
    flash(f"The licence option \u201c{option.name}\u201d is offered at {fee_summary(option.terms)}.", "success")
    return redirect(url_for("studio.edit", design_id=design_id) + "#licensing", code=303)


@bp.post("/studio/designs/<design_id>/licence-options/<option_id>/retire")
@login_required
def retire_option(design_id: str, option_id: str) -> BaseResponse:
    option = services().licensing.retire_option(_actor(), option_id, client())
    flash(f"The licence option \u201c{option.name}\u201d is retired: buyers can no longer start a negotiation "
          "from it. Open negotiations and agreements keep their terms.", "info")
    return redirect(url_for("studio.edit", design_id=option.design_id) + "#licensing", code=303)


# -- negotiations ------------------------------------------------------------------------------


@bp.post("/designs/<design_id>/negotiations")
@login_required
def open_negotiation(design_id: str) -> BaseResponse | tuple[str, int]:
    """A buyer's first offer from one of the design's options: its terms with the fees
    in the form (the list prices unless changed) and an optional note."""
    form = request.form
    option_id = form.get("option_id", "")
    values = {k: form.get(k, "").strip() for k in ("flat", "royalty", "currency")}
    values["note"] = form.get("note", "")
    proposed = {"fees": {"flat": _money(values["flat"], values["currency"]),
                         "royalty_per_unit": _money(values["royalty"], values["currency"])}}
    try:
        negotiation = services().licensing.open(_actor(), option_id, proposed, values["note"] or None, client())
    except (ValidationFailed, Conflict) as exc:
        return catalog.design_page(design_id, open_option_id=option_id, open_values=values,
                                   open_errors=_errors(exc, _OPEN_FIELD, default="form", prefix=f"open-{option_id}-"),
                                   status=status_for(exc))
    flash("Your offer is sent. The designer can accept it, make a counter-offer or decline; you will be told.",
          "success")
    return redirect(url_for("trade.negotiation", negotiation_id=negotiation.id), code=303)


@bp.get("/negotiations")
@login_required
def negotiations() -> str:
    summaries = services().licensing.my_negotiations(_actor())
    return render_template("trade/negotiations.html", summaries=summaries, party_labels=PARTY_LABELS)


def _negotiation_page(
    negotiation_id: str, *, counter_values: Mapping[str, Any] | None = None,
    counter_errors: Mapping[str, str] | None = None, action_error: str | None = None,
    post_values: Mapping[str, str] | None = None, post_errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    actor = _actor()
    view = services().licensing.negotiation(actor, negotiation_id, client())
    neg = view.negotiation
    # The conversation is the two parties' (an admin looking on does not read it).
    thread = None
    if view.thread_id is not None and view.my_party is not None:
        thread = services().messaging.read(actor, view.thread_id, client=client())
    return (
        render_template(
            "trade/negotiation.html",
            view=view,
            neg=neg,
            design=view.design,
            thread=thread,
            party_names={Party.BUYER.value: view.buyer_name, Party.DESIGNER.value: view.designer_name},
            party_labels=PARTY_LABELS,
            counter_values=counter_values or values_from_terms(neg.latest.terms),
            counter_errors=counter_errors or {},
            action_error=action_error,
            post_values=post_values or {},
            post_errors=post_errors or {},
            currencies=sorted(CURRENCY_EXPONENTS),
            rules=_attachment_rules(),
        ),
        status,
    )


@bp.get("/negotiations/<negotiation_id>")
@login_required
def negotiation(negotiation_id: str) -> tuple[str, int]:
    return _negotiation_page(negotiation_id)


@bp.post("/negotiations/<negotiation_id>/counter")
@login_required
def counter(negotiation_id: str) -> BaseResponse | tuple[str, int]:
    """A counter-offer: the fields changed from the latest offer go to the use case,
    which keeps the rest (and moves an unchanged term that has begun to today)."""
    actor = _actor()
    licensing = services().licensing
    values = terms_values(request.form)
    latest = licensing.negotiation(actor, negotiation_id, client()).negotiation.latest
    before = terms_from_values(values_from_terms(latest.terms))
    changes = {k: v for k, v in terms_from_values(values).items() if v != before[k]}
    try:
        updated = licensing.offer(actor, negotiation_id, changes, client())
    except ValidationFailed as exc:
        return _negotiation_page(negotiation_id, counter_values=values,
                                 counter_errors=_errors(exc, _OPTION_FIELD, default="opt_form"),
                                 status=status_for(exc))
    except Conflict as exc:
        if exc.field == "exclusivity":
            return _negotiation_page(negotiation_id, counter_values=values,
                                     counter_errors={"opt_exclusivity": exc.message}, status=status_for(exc))
        return _negotiation_page(negotiation_id, action_error=exc.message, status=status_for(exc))
    flash(f"Your counter-offer ({fee_summary(updated.latest.terms)}) is sent.", "success")
    return redirect(url_for("trade.negotiation", negotiation_id=negotiation_id), code=303)


def _step(negotiation_id: str, step: str) -> BaseResponse | tuple[str, int]:
    actor = _actor()
    licensing = services().licensing
    try:
        if step == "accept":
            _, agreement = licensing.accept(actor, negotiation_id, request.form.get("offer_id") or None, client())
            flash("You accepted the offer: the licence agreement is concluded.", "success")
            return redirect(url_for("trade.agreement", agreement_id=agreement.id), code=303)
        if step == "reject":
            licensing.reject(actor, negotiation_id, client())
            message = "You declined the offer; the negotiation is closed."
        else:
            licensing.withdraw(actor, negotiation_id, client())
            message = "You withdrew from the negotiation; it is closed."
    except (ValidationFailed, Conflict) as exc:
        return _negotiation_page(negotiation_id, action_error=exc.message, status=status_for(exc))
    flash(message, "info")
    return redirect(url_for("trade.negotiation", negotiation_id=negotiation_id), code=303)


@bp.post("/negotiations/<negotiation_id>/accept")
@login_required
def accept(negotiation_id: str) -> BaseResponse | tuple[str, int]:
    return _step(negotiation_id, "accept")


@bp.post("/negotiations/<negotiation_id>/reject")
@login_required
def reject(negotiation_id: str) -> BaseResponse | tuple[str, int]:
    return _step(negotiation_id, "reject")


@bp.post("/negotiations/<negotiation_id>/withdraw")
@login_required
def withdraw(negotiation_id: str) -> BaseResponse | tuple[str, int]:
    return _step(negotiation_id, "withdraw")


@bp.post("/negotiations/<negotiation_id>/messages")
@login_required
def post_negotiation_message(negotiation_id: str) -> BaseResponse | tuple[str, int]:
    actor = _actor()
    view = services().licensing.negotiation(actor, negotiation_id, client())
    if view.thread_id is None:
        raise NotFound("This negotiation has no conversation.")
    problem = _post(actor, view.thread_id)
    if problem is not None:
        values, errors, status = problem
        return _negotiation_page(negotiation_id, post_values=values, post_errors=errors, status=status)
    return redirect(url_for("trade.negotiation", negotiation_id=negotiation_id) + "#thread", code=303)


# -- agreements ---------------------------------------------------------------------------------


@bp.get("/agreements")
@login_required
def agreements() -> str:
    return render_template("trade/agreements.html", agreements=services().licensing.my_agreements(_actor()))


@bp.get("/agreements/<agreement_id>")
@login_required
def agreement(agreement_id: str) -> str:
    view = services().licensing.agreement(_actor(), agreement_id, client())
    return render_template("trade/agreement.html", view=view, agreement=view.agreement)


# -- messages -----------------------------------------------------------------------------------


def _attachment_rules() -> dict[str, Any]:
    return {
        "attachment_types": ", ".join(sorted(ATTACHMENT_EXTENSIONS)),
        "max_attachments": MAX_ATTACHMENTS,
        "max_attachment": human_bytes(MAX_ATTACHMENT_BYTES),
    }


def _post(actor: Actor, thread_id: str) -> tuple[dict[str, str], dict[str, str], int] | None:
    """Post the form's message and files; on a problem, what was written, the
    problems by the field and the status (nothing is stored)."""
    body = request.form.get("body", "")
    files = [f for f in request.files.getlist("attachments") if f.filename]
    try:
        with contextlib.ExitStack() as stack:
            uploads = [stack.enter_context(spooled_upload(f, kind="attachment", visibility="")) for f in files]
            services().messaging.post(actor, thread_id, body, uploads, client())
    except (ValidationFailed, BlobTooLarge) as exc:
        return {"body": body}, _errors(exc, {"body": "body"}, default="attachments"), status_for(exc)
    flash("Your message is sent." if body.strip() or not files else "Your files are sent.", "success")
    return None


@bp.get("/messages")
@login_required
def threads() -> str:
    return render_template("trade/threads.html", summaries=services().messaging.threads(_actor()),
                           topic_labels=TOPIC_LABELS)


def _party_names(actor: Actor, negotiation_id: str) -> dict[str, str]:
    """The two parties' names for a negotiation's event lines (as on the negotiation
    page); none if the negotiation cannot be shown."""
    try:
        view = services().licensing.negotiation(actor, negotiation_id, client())
    except DomainError:
        return {}
    return {Party.BUYER.value: view.buyer_name, Party.DESIGNER.value: view.designer_name}


def _thread_page(thread_id: str, *, post_values: Mapping[str, str] | None = None,
                 post_errors: Mapping[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    actor = _actor()
    view = services().messaging.read(actor, thread_id, client=client())
    t = view.thread
    names = _party_names(actor, t.subject_id) if t.kind is ThreadKind.NEGOTIATION and t.subject_id else {}
    return (
        render_template("trade/thread.html", thread=view, topic_labels=TOPIC_LABELS, post_values=post_values or {},
                        post_errors=post_errors or {}, rules=_attachment_rules(), party_names=names),
        status,
    )


@bp.get("/messages/<thread_id>")
@login_required
def thread(thread_id: str) -> tuple[str, int]:
    return _thread_page(thread_id)


@bp.post("/messages/<thread_id>")
@login_required
def post_message(thread_id: str) -> BaseResponse | tuple[str, int]:
    problem = _post(_actor(), thread_id)
    if problem is not None:
        values, errors, status = problem
        return _thread_page(thread_id, post_values=values, post_errors=errors, status=status)
    return redirect(url_for("trade.thread", thread_id=thread_id) + "#thread", code=303)


# -- support ------------------------------------------------------------------------------------


def _support_page(*, values: Mapping[str, str] | None = None, errors: Mapping[str, str] | None = None,
                  status: int = 200) -> tuple[str, int]:
    actor = _actor()
    return (
        render_template("trade/support.html", summaries=services().messaging.support_threads(actor, client()),
                        is_admin=actor.role is Role.ADMIN, topic_labels=TOPIC_LABELS,
                        values=values or {"title": "", "topic": SupportTopic.SUPPORT.value, "body": ""},
                        errors=errors or {}),
        status,
    )


@bp.get("/support")
@login_required
def support() -> tuple[str, int]:
    return _support_page()


@bp.post("/support")
@login_required
def open_support() -> BaseResponse | tuple[str, int]:
    values = {k: request.form.get(k, "") for k in ("title", "topic", "body")}
    try:
        opened = services().messaging.open_support(_actor(), values["title"], values["body"], topic=values["topic"],
                                                   client=client())
    except ValidationFailed as exc:
        names = {"title": "title", "topic": "topic", "body": "body"}
        return _support_page(values=values, errors=_errors(exc, names, default="form"), status=status_for(exc))
    flash("Thank you: your request is with our support team; their answer appears in this conversation."
          if opened.topic is SupportTopic.SUPPORT else "Thank you for your feedback.", "success")
    return redirect(url_for("trade.thread", thread_id=opened.id), code=303)
