"""The JSON API for licensing (issue #4): licence options, negotiations, agreements,
message threads and support requests.

Bearer tokens only, like the rest of ``/api/v1`` (no session cookie, so no CSRF
check). Views are thin: read the body, call one use case of
:class:`~caratzon_core.services.licensing.LicensingService` or
:class:`~caratzon_core.services.messaging.MessagingService`, answer JSON. The
licence terms are checked by the core (every rule names its field); this edge
only insists that they arrive as JSON objects.

Terms are answered in their canonical shape (:func:`terms_to_json_object`) except
that money is ``{"amount": "1500.00", "currency": "USD", "amount_minor": 150000}``:
a decimal string in major units, never a float. An agreement also carries its
canonical JSON as a string, so a client can hash it and compare with
``terms_hash``.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from attrs import frozen
from flask import Blueprint, Response, jsonify, request

from caratzon_core.access import Actor
from caratzon_core.accounts import User
from caratzon_core.agreements import Agreement
from caratzon_core.errors import ValidationFailed
from caratzon_core.licence_options import LicenceOption
from caratzon_core.licensing import LicenceTerms, canonical_json, terms_hash, terms_to_json_object
from caratzon_core.messaging import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, Message, MessageKind, Thread
from caratzon_core.money import Money
from caratzon_core.negotiation import Negotiation, Offer
from caratzon_core.services.designs import Upload
from caratzon_core.services.licensing import AgreementView, NegotiationSummary, NegotiationView
from caratzon_core.services.messaging import AttachmentView, MessageView, ThreadSummary, ThreadView
from caratzon_web.api import _bearer, _converter, _json_object
from caratzon_web.api_designs import link_json
from caratzon_web.blobs import FORM_ALLOWANCE, spooled_upload
from caratzon_web.context import client, services
from caratzon_web.converters import query_flag, structure
from caratzon_web.errors import iso_utc

bp = Blueprint("api_licensing", __name__, url_prefix="/api/v1")

# A message may carry MAX_ATTACHMENTS files of MAX_ATTACHMENT_BYTES each.
MAX_MESSAGE_BODY = MAX_ATTACHMENTS * MAX_ATTACHMENT_BYTES + FORM_ALLOWANCE
MESSAGE_FORM_FIELDS = frozenset({"body", "attachments"})


# -- request bodies ----------------------------------------------------------------------------


@frozen
class OptionBody:
    """``POST /api/v1/designs/{id}/licence-options``; ``terms`` is checked by the core."""

    name: str
    terms: dict[str, Any]


@frozen
class OpenBody:
    """``POST /api/v1/negotiations``: the option's terms, or with ``proposed_terms`` changed."""

    option_id: str
    proposed_terms: dict[str, Any] | None = None
    note: str | None = None


@frozen
class OfferBody:
    """``POST /api/v1/negotiations/{id}/offers``: the top-level terms fields to change."""

    terms: dict[str, Any]


@frozen
class AcceptBody:
    """``POST /api/v1/negotiations/{id}/accept``; the latest offer when ``offer_id`` is left out."""

    offer_id: str | None = None


@frozen
class MessageBody:
    """``POST /api/v1/threads/{id}/messages`` as JSON (multipart adds files 'attachments')."""

    body: str


@frozen
class SupportBody:
    """``POST /api/v1/support``."""

    title: str
    body: str
    topic: str = "support"


def _optional_json_object() -> dict[str, Any]:
    """An empty body is an empty object; anything else must be a JSON object."""
    if not request.content_length and not request.is_json:
        return {}
    return _json_object()


@bp.before_request
def _allow_attachments() -> None:
    """Messages may carry files: lift the 1 MB cap on multipart bodies for that route
    alone, before anything reads the form (a JSON message keeps the 1 MB cap)."""
    if request.endpoint == "api_licensing.post_message" and request.mimetype == "multipart/form-data":
        request.max_content_length = MAX_MESSAGE_BODY


# -- answers --------------------------------------------------------------------------------------


def terms_money_json(money: Money | None) -> dict[str, Any] | None:
    if money is None:
        return None
    return {"amount": str(money.to_decimal()), "currency": money.currency, "amount_minor": money.amount_minor}


def terms_json(terms: LicenceTerms) -> dict[str, Any]:
    """The canonical shape, with money as decimal strings beside the minor units."""
    out = terms_to_json_object(terms)
    out["fees"] = {"flat": terms_money_json(terms.fees.flat),
                   "royalty_per_unit": terms_money_json(terms.fees.royalty_per_unit)}
    return out


def _iso(at: datetime | None) -> str | None:
    return iso_utc(at) if at is not None else None


def option_json(option: LicenceOption) -> dict[str, Any]:
    return {
        "id": option.id,
        "design_id": option.design_id,
        "designer_id": option.designer_id,
        "name": option.name,
        "status": option.status.value,
        "terms": terms_json(option.terms),
        "created_at": iso_utc(option.created_at),
        "retired_at": _iso(option.retired_at),
    }


def _offer_state(neg: Negotiation, offer: Offer, now: datetime) -> str:
    if offer.id == neg.accepted_offer_id:
        return "accepted"
    if offer is not neg.latest:
        return "superseded"
    if neg.is_open:
        return "expired" if offer.expired(now) else "open"
    return neg.status.value


def offer_json(neg: Negotiation, offer: Offer, now: datetime) -> dict[str, Any]:
    return {
        "id": offer.id,
        "by": offer.by.value,
        "state": _offer_state(neg, offer, now),
        "terms": terms_json(offer.terms),
        "terms_hash": terms_hash(offer.terms),
        "made_at": iso_utc(offer.made_at),
        "expires_at": iso_utc(offer.expires_at),
    }


def negotiation_json(view: NegotiationView) -> dict[str, Any]:
    neg, now = view.negotiation, services().deps.clock.now()
    turn = neg.whose_turn()
    return {
        "id": neg.id,
        "status": neg.status.value,
        "design": {"id": view.design.id, "title": view.design.title},
        "option": ({"id": view.option.id, "name": view.option.name, "status": view.option.status.value}
                   if view.option else None),
        "buyer": {"id": neg.buyer_id, "name": view.buyer_name},
        "designer": {"id": neg.designer_id, "name": view.designer_name},
        "my_party": view.my_party.value if view.my_party else None,
        "whose_turn": turn.value if turn else None,
        "can_answer": view.can_answer,
        "latest_offer_id": neg.latest.id,
        "accepted_offer_id": neg.accepted_offer_id,
        "closed_at": _iso(neg.closed_at),
        "thread_id": view.thread_id,
        "agreement_id": view.agreement_id,
        "offers": [offer_json(neg, o, now) for o in neg.offers],
    }


def negotiation_summary_json(summary: NegotiationSummary) -> dict[str, Any]:
    neg, latest = summary.negotiation, summary.negotiation.latest
    turn = neg.whose_turn()
    return {
        "id": neg.id,
        "status": neg.status.value,
        "design": {"id": neg.design_id, "title": summary.design_title},
        "counterparty": {"name": summary.counterparty_name},
        "my_party": summary.my_party.value,
        "whose_turn": turn.value if turn else None,
        "my_turn": summary.my_turn,
        "latest_offer": {
            "id": latest.id,
            "by": latest.by.value,
            "fees": terms_json(latest.terms)["fees"],
            "made_at": iso_utc(latest.made_at),
            "expires_at": iso_utc(latest.expires_at),
        },
    }


def agreement_json(view: AgreementView) -> dict[str, Any]:
    a: Agreement = view.agreement
    return {
        "id": a.id,
        "negotiation_id": a.negotiation_id,
        "status": a.status.value,
        "design": {"id": a.design_id, "title": view.design_title},
        "buyer": {"id": a.buyer_id, "name": view.buyer_name, "business_name": view.buyer_business},
        "designer": {"id": a.designer_id, "name": view.designer_name, "business_name": view.designer_business},
        "terms": terms_json(a.terms),
        "terms_hash": a.terms_hash,
        "canonical_terms": canonical_json(a.terms).decode("ascii"),
        "effective_date": a.effective_date.isoformat(),
        "end_date": a.end_date.isoformat() if a.end_date else None,
        "created_at": iso_utc(a.created_at),
    }


def thread_json(thread: Thread) -> dict[str, Any]:
    return {
        "id": thread.id,
        "kind": thread.kind.value,
        "title": thread.title,
        "topic": thread.topic.value if thread.topic else None,
        "subject_id": thread.subject_id,
        "created_at": iso_utc(thread.created_at),
        "last_message_at": _iso(thread.last_message_at),
    }


def thread_summary_json(summary: ThreadSummary) -> dict[str, Any]:
    return {**thread_json(summary.thread), "unread": summary.unread}


def attachment_json(view: AttachmentView) -> dict[str, Any]:
    a = view.attachment
    link = link_json(view.link)
    assert link is not None
    return {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256,
            **link}


def _message_json(message: Message, *, author: dict[str, Any] | None, text: str, original: str, translated: bool,
                  note: str | None, attachments: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": message.id,
        "kind": message.kind.value,
        "author": author,
        "event": message.event,
        "event_data": dict(message.event_data) if message.kind is MessageKind.EVENT else None,
        "text": text,
        "original": original,
        "translated": translated,
        "note": note,
        "language": message.language,
        "removed": message.removed,
        "created_at": iso_utc(message.created_at),
        "attachments": attachments,
    }


def message_view_json(view: MessageView) -> dict[str, Any]:
    m = view.message
    author = {"name": view.author_name, "me": view.mine} if m.author_id else None
    return _message_json(m, author=author, text=view.text, original=view.original, translated=view.translated,
                         note=view.note, attachments=[attachment_json(a) for a in view.attachments])


def thread_view_json(view: ThreadView) -> dict[str, Any]:
    return {
        "thread": thread_json(view.thread),
        "language": view.reader_language,
        "messages": [message_view_json(m) for m in view.messages],
    }


# -- routes: licence options ----------------------------------------------------------------------


def _me() -> tuple[User, Actor]:
    user, _ = _bearer()
    return user, services().accounts.actor_for(user)


def _actor() -> Actor:
    return _me()[1]



@bp.get("/designs/<design_id>/licence-options")
def list_options(design_id: str) -> Response:
    actor = _actor()
    unknown = sorted(set(request.args) - {"include_retired"})
    if unknown:
        raise ValidationFailed(f"Unknown parameter '{unknown[0]}'; the only parameter is include_retired.",
                               field=unknown[0])
    retired = query_flag(request.args, "include_retired")
    options = services().licensing.options(actor, design_id, include_retired=retired)
    return jsonify({"items": [option_json(o) for o in options]})


@bp.post("/designs/<design_id>/licence-options")
def add_option(design_id: str) -> tuple[Response, int]:
    actor = _actor()
    body = structure(_converter(), _json_object(), OptionBody)
    option = services().licensing.add_option(actor, design_id, body.name, body.terms, client())
    return jsonify(option_json(option)), 201


@bp.post("/licence-options/<option_id>/retire")
def retire_option(option_id: str) -> Response:
    return jsonify(option_json(services().licensing.retire_option(_actor(), option_id, client())))


# -- routes: negotiations -------------------------------------------------------------------------


def _negotiation_answer(actor: Actor, negotiation_id: str) -> dict[str, Any]:
    return negotiation_json(services().licensing.negotiation(actor, negotiation_id, client()))


@bp.post("/negotiations")
def open_negotiation() -> tuple[Response, int]:
    actor = _actor()
    body = structure(_converter(), _json_object(), OpenBody)
    neg = services().licensing.open(actor, body.option_id, body.proposed_terms, body.note, client())
    return jsonify(_negotiation_answer(actor, neg.id)), 201


@bp.get("/negotiations")
def my_negotiations() -> Response:
    summaries = services().licensing.my_negotiations(_actor())
    return jsonify({"items": [negotiation_summary_json(s) for s in summaries]})


@bp.get("/negotiations/<negotiation_id>")
def get_negotiation(negotiation_id: str) -> Response:
    return jsonify(_negotiation_answer(_actor(), negotiation_id))


@bp.post("/negotiations/<negotiation_id>/offers")
def make_offer(negotiation_id: str) -> tuple[Response, int]:
    actor = _actor()
    body = structure(_converter(), _json_object(), OfferBody)
    neg = services().licensing.offer(actor, negotiation_id, body.terms, client())
    return jsonify(_negotiation_answer(actor, neg.id)), 201


@bp.post("/negotiations/<negotiation_id>/accept")
def accept_offer(negotiation_id: str) -> Response:
    actor = _actor()
    body = structure(_converter(), _optional_json_object(), AcceptBody)
    neg, agreement = services().licensing.accept(actor, negotiation_id, body.offer_id, client())
    return jsonify({
        "negotiation": _negotiation_answer(actor, neg.id),
        "agreement": agreement_json(services().licensing.agreement(actor, agreement.id, client())),
    })


@bp.post("/negotiations/<negotiation_id>/reject")
def reject_offer(negotiation_id: str) -> Response:
    actor = _actor()
    neg = services().licensing.reject(actor, negotiation_id, client())
    return jsonify(_negotiation_answer(actor, neg.id))


@bp.post("/negotiations/<negotiation_id>/withdraw")
def withdraw_negotiation(negotiation_id: str) -> Response:
    actor = _actor()
    neg = services().licensing.withdraw(actor, negotiation_id, client())
    return jsonify(_negotiation_answer(actor, neg.id))


# -- routes: agreements ---------------------------------------------------------------------------


@bp.get("/agreements")
def my_agreements() -> Response:
    return jsonify({"items": [agreement_json(v) for v in services().licensing.my_agreements(_actor())]})


@bp.get("/agreements/<agreement_id>")
def get_agreement(agreement_id: str) -> Response:
    return jsonify(agreement_json(services().licensing.agreement(_actor(), agreement_id, client())))


# -- routes: threads and support ------------------------------------------------------------------


@bp.get("/threads")
def my_threads() -> Response:
    return jsonify({"items": [thread_summary_json(s) for s in services().messaging.threads(_actor())]})


@bp.get("/threads/<thread_id>/messages")
def read_thread(thread_id: str) -> Response:
    return jsonify(thread_view_json(services().messaging.read(_actor(), thread_id, client=client())))


def _posted(user: User, actor: Actor, message: Message) -> dict[str, Any]:
    """The new message as its author sees it (their own words, never translated)."""
    attachments = []
    for a in message.attachments:
        link = services().messaging.attachment_link(actor, a.id, client())
        attachments.append(attachment_json(AttachmentView(a, link)))
    return _message_json(message, author={"name": user.name, "me": True}, text=message.body,
                         original=message.body, translated=False, note=None, attachments=attachments)


@bp.post("/threads/<thread_id>/messages")
def post_message(thread_id: str) -> tuple[Response, int]:
    user, actor = _me()
    messaging = services().messaging
    if request.mimetype == "multipart/form-data":
        unknown = sorted((set(request.form) | set(request.files)) - MESSAGE_FORM_FIELDS)
        if unknown:
            raise ValidationFailed(f"Unknown field '{unknown[0]}'; send body and attachments.", field=unknown[0])
        # A form with an empty file input sends a part without a file name: not a file.
        files = [f for f in request.files.getlist("attachments") if f.filename]
        with contextlib.ExitStack() as stack:
            uploads: list[Upload] = [stack.enter_context(spooled_upload(f, kind="attachment", visibility=""))
                                     for f in files]
            message = messaging.post(actor, thread_id, request.form.get("body", ""), uploads, client())
    else:
        body = structure(_converter(), _json_object(), MessageBody)
        message = messaging.post(actor, thread_id, body.body, (), client())
    return jsonify(_posted(user, actor, message)), 201


@bp.get("/attachments/<attachment_id>/url")
def attachment_url(attachment_id: str) -> Response:
    link = services().messaging.attachment_link(_actor(), attachment_id, client())
    return jsonify(link_json(link))


@bp.post("/support")
def open_support() -> tuple[Response, int]:
    actor = _actor()
    body = structure(_converter(), _json_object(), SupportBody)
    thread = services().messaging.open_support(actor, body.title, body.body, topic=body.topic, client=client())
    return jsonify(thread_json(thread)), 201


@bp.get("/support")
def support_threads() -> Response:
    actor = _actor()
    return jsonify({"items": [thread_summary_json(s) for s in services().messaging.support_threads(actor, client())]})
