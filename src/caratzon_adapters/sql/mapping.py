"""Rows <-> frozen domain objects, written out by hand.

Times arrive as aware UTC datetimes already (see :class:`~caratzon_adapters.sql.tables.UtcDateTime`);
:func:`utc` is applied again here so the domain never sees a naive time even if a
column is read through plain SQL.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import cattrs
from sqlalchemy import RowMapping

from caratzon_adapters.sql.tables import GEMSTONE_BITS, METAL_BITS
from caratzon_core.accounts import DesignerProfile, Language, Role, User, UserStatus
from caratzon_core.agreements import Agreement, AgreementStatus
from caratzon_core.audit import AuditEntry, ChainHead, Checkpoint
from caratzon_core.consent import ConsentRecord, EngagementEvent
from caratzon_core.credentials import ApiToken, LoginAttempt, ThrottleKey
from caratzon_core.designs import Asset, AssetKind, Category, Design, DesignStatus, Dimensions, Gemstone, Visibility
from caratzon_core.geometry import CadAnalysis
from caratzon_core.ledger import EntryKind, JournalEntry, LedgerLine
from caratzon_core.licence_options import LicenceOption, OptionStatus
from caratzon_core.licensing import LicenceTerms, canonical_json, parse_terms, terms_hash
from caratzon_core.manufacturers import NEW_PARTNER, LabourPrice, Manufacturer, PartnerScore, Process, Vetting
from caratzon_core.messaging import (
    Attachment,
    CachedTranslation,
    Message,
    MessageKind,
    SupportTopic,
    Thread,
    ThreadKind,
)
from caratzon_core.money import Money
from caratzon_core.negotiation import Negotiation, NegotiationStatus, Offer, Party
from caratzon_core.notices import Notice
from caratzon_core.orders import Brief, Finish, Order, OrderStatus, Setting, Shipment, Size, SizeSystem, StoneLine
from caratzon_core.outbox import OutboxMessage, OutboxStatus
from caratzon_core.payments import InstructionKind, InstructionStatus, PaymentInstruction
from caratzon_core.privacy import PolicyAcceptance, PolicyVersion
from caratzon_core.quote import PriceTable, Quote, QuoteLine

Row = RowMapping | Mapping[str, Any]


def utc(value: datetime) -> datetime:
    """Aware UTC: a naive value (SQLite) is UTC by construction."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


# -- users and profiles ------------------------------------------------------------


def user_to_row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email.lower(),
        "name": user.name,
        "role": user.role.value,
        "password_hash": user.password_hash,
        "language": user.language.value,
        "status": user.status.value,
        "business_name": user.business_name,
        "business_address": user.business_address,
        "age_confirmed_at": user.age_confirmed_at,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "closed_at": user.closed_at,
        "ai_objection_at": user.ai_objection_at,
        "erased_at": user.erased_at,
    }


def user_from_row(row: Row) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        role=Role(row["role"]),
        password_hash=row["password_hash"],
        language=Language(row["language"]),
        status=UserStatus(row["status"]),
        business_name=row["business_name"],
        business_address=row["business_address"],
        age_confirmed_at=utc(row["age_confirmed_at"]),
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
        closed_at=utc_or_none(row["closed_at"]),
        ai_objection_at=utc_or_none(row["ai_objection_at"]),
        erased_at=utc_or_none(row["erased_at"]),
    )


def profile_to_row(profile: DesignerProfile) -> dict[str, Any]:
    return {
        "user_id": profile.user_id,
        "biography": profile.biography,
        "brand_description": profile.brand_description,
        "credentials": profile.credentials,
        "updated_at": profile.updated_at,
    }


def profile_from_row(row: Row) -> DesignerProfile:
    return DesignerProfile(
        user_id=row["user_id"],
        biography=row["biography"],
        brand_description=row["brand_description"],
        credentials=row["credentials"],
        updated_at=utc_or_none(row["updated_at"]),
    )


# -- credentials -------------------------------------------------------------------


def token_to_row(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "user_id": token.user_id,
        "digest": token.digest,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "label": token.label,
    }


def token_from_row(row: Row) -> ApiToken:
    return ApiToken(
        id=row["id"],
        user_id=row["user_id"],
        digest=row["digest"],
        created_at=utc(row["created_at"]),
        expires_at=utc(row["expires_at"]),
        revoked_at=utc_or_none(row["revoked_at"]),
        label=row["label"],
    )


def attempt_to_row(attempt: LoginAttempt) -> dict[str, Any]:
    return {
        "kind": attempt.kind.value,
        "key": attempt.key,
        "at": attempt.at,
        "success": attempt.success,
    }


def attempt_from_row(row: Row) -> LoginAttempt:
    return LoginAttempt(
        kind=ThrottleKey(row["kind"]),
        key=row["key"],
        at=utc(row["at"]),
        success=bool(row["success"]),
    )


# -- privacy -----------------------------------------------------------------------


def policy_to_row(version: PolicyVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "effective_date": version.effective_date,
        "material": version.material,
        "text": version.text,
        "published_at": version.published_at,
        "published_by": version.published_by,
    }


def policy_from_row(row: Row) -> PolicyVersion:
    return PolicyVersion(
        version=row["version"],
        effective_date=as_date(row["effective_date"]),
        material=bool(row["material"]),
        text=row["text"],
        published_at=utc_or_none(row["published_at"]),
        published_by=row["published_by"],
    )


def acceptance_to_row(acceptance: PolicyAcceptance) -> dict[str, Any]:
    return {
        "user_id": acceptance.user_id,
        "version": acceptance.version,
        "accepted_at": acceptance.accepted_at,
    }


def acceptance_from_row(row: Row) -> PolicyAcceptance:
    return PolicyAcceptance(
        user_id=row["user_id"],
        version=row["version"],
        accepted_at=utc(row["accepted_at"]),
    )


# -- audit -------------------------------------------------------------------------


def entry_to_row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "outcome": entry.outcome,
        "client_address": entry.client_address,
        "detail": dict(entry.detail),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def entry_from_row(row: Row) -> AuditEntry:
    detail = row["detail"]
    return AuditEntry(
        seq=int(row["seq"]),
        at=utc(row["at"]),
        actor=row["actor"],
        action=row["action"],
        subject=row["subject"],
        outcome=row["outcome"],
        client_address=row["client_address"],
        detail=dict(detail) if detail else {},
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def head_from_row(row: Row | None) -> ChainHead | None:
    """The sentinel row (seq 0) written by the first migration means "no entries yet"."""
    if row is None or int(row["seq"]) == 0:
        return None
    return ChainHead(seq=int(row["seq"]), hash=row["hash"], signature=row["signature"])


def checkpoint_to_row(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "pruned_at": checkpoint.pruned_at,
        "signature": checkpoint.signature,
    }


def checkpoint_from_row(row: Row) -> Checkpoint:
    return Checkpoint(
        seq=int(row["seq"]),
        hash=row["hash"],
        pruned_at=utc(row["pruned_at"]),
        signature=row["signature"],
    )


# -- designs, assets, consent and engagement (issue #3) ----------------------------


def _json_converter() -> cattrs.Converter:
    """The converter for this adapter's JSON columns: Decimals as strings (exact on
    both databases, whatever their JSON number handling), enums as their values,
    tuples as lists; unknown keys refused so a drifted row fails loudly."""
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_unstructure_hook(Decimal, str)
    converter.register_structure_hook(Decimal, lambda value, _: Decimal(str(value)))
    return converter


JSON_CONVERTER = _json_converter()


def analysis_to_json(analysis: CadAnalysis | None) -> dict[str, Any] | None:
    if analysis is None:
        return None
    unstructured: dict[str, Any] = JSON_CONVERTER.unstructure(analysis)
    return unstructured


def analysis_from_json(raw: Mapping[str, Any] | None) -> CadAnalysis | None:
    return None if raw is None else JSON_CONVERTER.structure(raw, CadAnalysis)


def gemstones_to_json(gemstones: tuple[Gemstone, ...]) -> list[dict[str, Any]]:
    unstructured: list[dict[str, Any]] = JSON_CONVERTER.unstructure(gemstones, tuple[Gemstone, ...])
    return unstructured


def gemstones_from_json(raw: list[Any] | None) -> tuple[Gemstone, ...]:
    return JSON_CONVERTER.structure(raw or [], tuple[Gemstone, ...])


def search_text(design: Design, designer_name: str) -> str:
    """What the catalog's text search looks through: title, description, tags and the
    designer's name, one per line."""
    return "\n".join([design.title, design.description, " ".join(design.tags), designer_name])


def mask(codes: Iterable[str], bits: Mapping[str, int], what: str) -> int:
    """The bit mask of ``codes`` (see ``tables.METAL_BITS`` / ``tables.GEMSTONE_BITS``)."""
    value = 0
    for code in codes:
        if code not in bits:
            raise ValueError(f"no catalog bit for {what} {code!r}: add it to caratzon_adapters.sql.tables")
        value |= 1 << bits[code]
    return value


def design_to_row(design: Design) -> dict[str, Any]:
    price = design.price_guidance
    return {
        "id": design.id,
        "designer_id": design.designer_id,
        "title": design.title,
        "description": design.description,
        "category": design.category.value,
        "metals": list(design.metals),
        "gemstones": gemstones_to_json(design.gemstones),
        "tags": list(design.tags),
        "width_mm": design.dimensions.width_mm,
        "height_mm": design.dimensions.height_mm,
        "depth_mm": design.dimensions.depth_mm,
        "price_minor": None if price is None else price.amount_minor,
        "price_currency": None if price is None else price.currency,
        "status": design.status.value,
        "created_at": design.created_at,
        "updated_at": design.updated_at,
        "published_at": design.published_at,
        "withdrawn_at": design.withdrawn_at,
        "removed_at": design.removed_at,
    }


def catalog_entry(design: Design, *, designer_name: str) -> dict[str, Any]:
    """The design's row in ``catalog_entries`` (without the counters)."""
    if design.published_at is None:
        raise ValueError(f"published design {design.id} has no published_at")
    price = design.price_guidance
    return {
        "design_id": design.id,
        "designer_id": design.designer_id,
        "category": design.category.value,
        "metal_mask": mask(design.metals, METAL_BITS, "metal"),
        "gem_mask": mask((g.type for g in design.gemstones), GEMSTONE_BITS, "gemstone"),
        "published_at": design.published_at,
        "price_minor": None if price is None else price.amount_minor,
        "price_currency": None if price is None else price.currency,
        "search_text": search_text(design, designer_name),
    }


def design_from_row(row: Row) -> Design:
    currency = row["price_currency"]
    return Design(
        id=row["id"],
        designer_id=row["designer_id"],
        title=row["title"],
        description=row["description"],
        category=Category(row["category"]),
        metals=tuple(row["metals"] or ()),
        gemstones=gemstones_from_json(row["gemstones"]),
        dimensions=Dimensions(
            width_mm=row["width_mm"],
            height_mm=row["height_mm"],
            depth_mm=row["depth_mm"],
        ),
        tags=tuple(row["tags"] or ()),
        price_guidance=None if currency is None else Money(int(row["price_minor"]), currency),
        status=DesignStatus(row["status"]),
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
        published_at=utc_or_none(row["published_at"]),
        withdrawn_at=utc_or_none(row["withdrawn_at"]),
        removed_at=utc_or_none(row["removed_at"]),
    )


def asset_to_row(asset: Asset) -> dict[str, Any]:
    return {
        "id": asset.id,
        "design_id": asset.design_id,
        "kind": asset.kind.value,
        "visibility": asset.visibility.value,
        "blob_key": asset.blob_key,
        "filename": asset.filename,
        "content_type": asset.content_type,
        "size": asset.size,
        "sha256": asset.sha256,
        "analysis": analysis_to_json(asset.analysis),
        "thumbnail_key": asset.thumbnail_key,
        "width_px": asset.width_px,
        "height_px": asset.height_px,
        "created_at": asset.created_at,
    }


def asset_from_row(row: Row) -> Asset:
    return Asset(
        id=row["id"],
        design_id=row["design_id"],
        kind=AssetKind(row["kind"]),
        visibility=Visibility(row["visibility"]),
        blob_key=row["blob_key"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=int(row["size"]),
        sha256=row["sha256"],
        created_at=utc(row["created_at"]),
        analysis=analysis_from_json(row["analysis"]),
        thumbnail_key=row["thumbnail_key"],
        width_px=row["width_px"],
        height_px=row["height_px"],
    )


def consent_to_row(record: ConsentRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "visitor_id": record.visitor_id,
        "user_id": record.user_id,
        "notice_version": record.notice_version,
        "analytics": record.analytics,
        "at": record.at,
        "client_address": record.client_address,
        "user_agent": record.user_agent,
    }


def consent_from_row(row: Row) -> ConsentRecord:
    return ConsentRecord(
        id=row["id"],
        visitor_id=row["visitor_id"],
        user_id=row["user_id"],
        notice_version=row["notice_version"],
        analytics=bool(row["analytics"]),
        at=utc(row["at"]),
        client_address=row["client_address"],
        user_agent=row["user_agent"],
    )


def event_to_row(event: EngagementEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "design_id": event.design_id,
        "kind": event.kind.value,
        "at": event.at,
        "visitor_id": event.visitor_id,
        "user_id": event.user_id,
        "scroll_depth": event.scroll_depth,
    }


# -- licensing, negotiation, messaging and the outbox (issue #4) -------------------


def terms_to_text(terms: LicenceTerms) -> str:
    """The canonical JSON of the terms (what is hashed), as stored."""
    return canonical_json(terms).decode("ascii")


def terms_from_text(text: str) -> LicenceTerms:
    """Stored canonical JSON back to terms. ``parse_terms`` checks every field, but a
    stored term may well have started by now: ``today=date.min`` turns off only the
    "starts in the past" rule, which applies when terms are offered, not when read."""
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise ValueError("stored licence terms are not a JSON object")
    return parse_terms(raw, today=date.min)


def strings_to_text(values: Mapping[str, str]) -> str:
    """A string-to-string mapping (notice values, event data) as JSON text."""
    return json.dumps(dict(values), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def strings_from_text(text: str) -> dict[str, str]:
    raw = json.loads(text)
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ValueError("stored values are not a JSON object of strings")
    return raw


def option_to_row(option: LicenceOption) -> dict[str, Any]:
    return {
        "id": option.id,
        "design_id": option.design_id,
        "designer_id": option.designer_id,
        "name": option.name,
        "terms_json": terms_to_text(option.terms),
        "status": option.status.value,
        "created_at": option.created_at,
        "retired_at": option.retired_at,
    }


def option_from_row(row: Row) -> LicenceOption:
    return LicenceOption(
        id=row["id"],
        design_id=row["design_id"],
        designer_id=row["designer_id"],
        name=row["name"],
        terms=terms_from_text(row["terms_json"]),
        status=OptionStatus(row["status"]),
        created_at=utc(row["created_at"]),
        retired_at=utc_or_none(row["retired_at"]),
    )


def negotiation_to_row(negotiation: Negotiation) -> dict[str, Any]:
    """The negotiation's own row (without ``version``), with the copies the queries use."""
    latest = negotiation.latest
    return {
        "id": negotiation.id,
        "design_id": negotiation.design_id,
        "option_id": negotiation.option_id,
        "buyer_id": negotiation.buyer_id,
        "designer_id": negotiation.designer_id,
        "status": negotiation.status.value,
        "accepted_offer_id": negotiation.accepted_offer_id,
        "closed_at": negotiation.closed_at,
        "latest_expires_at": latest.expires_at,
        "last_activity_at": negotiation.closed_at or latest.made_at,
    }


def offer_to_row(negotiation_id: str, seq: int, offer: Offer) -> dict[str, Any]:
    return {
        "negotiation_id": negotiation_id,
        "seq": seq,
        "id": offer.id,
        "by_party": offer.by.value,
        "terms_json": terms_to_text(offer.terms),
        "terms_hash": terms_hash(offer.terms),
        "made_at": offer.made_at,
        "expires_at": offer.expires_at,
    }


def offer_from_row(row: Row) -> Offer:
    return Offer(
        id=row["id"],
        by=Party(row["by_party"]),
        terms=terms_from_text(row["terms_json"]),
        made_at=utc(row["made_at"]),
        expires_at=utc(row["expires_at"]),
    )


def negotiation_from_rows(row: Row, offers: Sequence[Offer]) -> Negotiation:
    if not offers:
        raise ValueError(f"negotiation {row['id']} has no offers")
    return Negotiation(
        id=row["id"],
        design_id=row["design_id"],
        option_id=row["option_id"],
        buyer_id=row["buyer_id"],
        designer_id=row["designer_id"],
        status=NegotiationStatus(row["status"]),
        offers=tuple(offers),
        accepted_offer_id=row["accepted_offer_id"],
        closed_at=utc_or_none(row["closed_at"]),
    )


def agreement_to_row(agreement: Agreement) -> dict[str, Any]:
    return {
        "id": agreement.id,
        "negotiation_id": agreement.negotiation_id,
        "design_id": agreement.design_id,
        "designer_id": agreement.designer_id,
        "buyer_id": agreement.buyer_id,
        "terms_json": terms_to_text(agreement.terms),
        "terms_hash": agreement.terms_hash,
        "effective_date": agreement.effective_date,
        "end_date": agreement.end_date,
        "status": agreement.status.value,
        "created_at": agreement.created_at,
    }


def agreement_from_row(row: Row) -> Agreement:
    end = row["end_date"]
    return Agreement(
        id=row["id"],
        negotiation_id=row["negotiation_id"],
        design_id=row["design_id"],
        designer_id=row["designer_id"],
        buyer_id=row["buyer_id"],
        terms=terms_from_text(row["terms_json"]),
        terms_hash=row["terms_hash"],
        effective_date=as_date(row["effective_date"]),
        end_date=None if end is None else as_date(end),
        status=AgreementStatus(row["status"]),
        created_at=utc(row["created_at"]),
    )


def thread_to_row(thread: Thread) -> dict[str, Any]:
    return {
        "id": thread.id,
        "kind": thread.kind.value,
        "title": thread.title,
        "created_by": thread.created_by,
        "created_at": thread.created_at,
        "subject_id": thread.subject_id,
        "topic": None if thread.topic is None else thread.topic.value,
        "last_message_at": thread.last_message_at,
        "activity_at": thread.last_message_at or thread.created_at,
    }


def thread_from_row(row: Row, participants: Iterable[str]) -> Thread:
    topic = row["topic"]
    return Thread(
        id=row["id"],
        kind=ThreadKind(row["kind"]),
        title=row["title"],
        created_by=row["created_by"],
        created_at=utc(row["created_at"]),
        participants=frozenset(participants),
        subject_id=row["subject_id"],
        topic=None if topic is None else SupportTopic(topic),
        last_message_at=utc_or_none(row["last_message_at"]),
    )


def message_to_row(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "thread_id": message.thread_id,
        "author_id": message.author_id,
        "kind": message.kind.value,
        "body": message.body,
        "language": message.language,
        "created_at": message.created_at,
        "event": message.event,
        "event_data_json": strings_to_text(message.event_data),
        "removed": message.removed,
    }


def attachment_to_row(attachment: Attachment, position: int) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "message_id": attachment.message_id,
        "position": position,
        "blob_key": attachment.blob_key,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }


def attachment_from_row(row: Row) -> Attachment:
    return Attachment(
        id=row["id"],
        message_id=row["message_id"],
        blob_key=row["blob_key"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=int(row["size"]),
        sha256=row["sha256"],
    )


def message_from_row(row: Row, attachments: Sequence[Attachment] = ()) -> Message:
    return Message(
        id=row["id"],
        thread_id=row["thread_id"],
        author_id=row["author_id"],
        kind=MessageKind(row["kind"]),
        body=row["body"],
        language=row["language"],
        created_at=utc(row["created_at"]),
        event=row["event"],
        event_data=strings_from_text(row["event_data_json"]),
        attachments=tuple(attachments),
        removed=bool(row["removed"]),
    )


def translation_to_row(translation: CachedTranslation) -> dict[str, Any]:
    return {
        "message_id": translation.message_id,
        "language": translation.language,
        "text": translation.text,
        "created_at": translation.created_at,
    }


def translation_from_row(row: Row) -> CachedTranslation:
    return CachedTranslation(
        message_id=row["message_id"],
        language=row["language"],
        text=row["text"],
        created_at=utc(row["created_at"]),
    )


def outbox_to_row(message: OutboxMessage) -> dict[str, Any]:
    notice = message.notice
    return {
        "id": message.id,
        "dedupe_key": message.dedupe_key,
        "kind": notice.kind.value,
        "to_email": notice.to_email,
        "language": notice.language,
        "values_json": strings_to_text(notice.values),
        "created_at": message.created_at,
        "status": message.status.value,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at,
        "claimed_until": message.claimed_until,
        "sent_at": message.sent_at,
        "last_error": message.last_error,
    }


def outbox_from_row(row: Row) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        dedupe_key=row["dedupe_key"],
        notice=Notice(row["kind"], row["to_email"], row["language"], strings_from_text(row["values_json"])),
        created_at=utc(row["created_at"]),
        status=OutboxStatus(row["status"]),
        attempts=int(row["attempts"]),
        next_attempt_at=utc_or_none(row["next_attempt_at"]),
        claimed_until=utc_or_none(row["claimed_until"]),
        sent_at=utc_or_none(row["sent_at"]),
        last_error=row["last_error"],
    )


# -- manufacturers, orders, the ledger, prices and payments (issue #5) -------------
#
# Listing manufacturers maps tens of thousands of rows, so the code sets, the labour
# price and an empty score are parsed once and shared: every one of them is frozen.


def _dumps(value: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def codes_to_text(codes: Iterable[str]) -> str:
    """A set of codes as JSON text: a sorted list."""
    return _dumps(sorted(codes))


@functools.lru_cache(maxsize=4096)
def codes_from_text(text: str) -> frozenset[str]:
    raw = json.loads(text)
    if not isinstance(raw, list) or not all(isinstance(code, str) for code in raw):
        raise ValueError("stored codes are not a JSON list of strings")
    return frozenset(raw)


@functools.lru_cache(maxsize=4096)
def processes_from_text(text: str) -> frozenset[Process]:
    return frozenset(Process(code) for code in codes_from_text(text))


@functools.lru_cache(maxsize=1024)
def _labour(per_piece: int, per_stone: int, currency: str) -> LabourPrice:
    return LabourPrice(Money(per_piece, currency), Money(per_stone, currency))


def decimal_to_text(value: Decimal | None) -> str | None:
    """A Decimal as its exact text (``str`` keeps every digit and the scale)."""
    if value is None:
        return None
    if not value.is_finite():
        raise ValueError(f"cannot store the non-finite Decimal {value}")
    return str(value)


def score_to_row(score: PartnerScore) -> dict[str, Any]:
    return {
        "score_jobs": score.jobs,
        "score_on_time_rate": decimal_to_text(score.on_time_rate),
        "score_qc_failure_rate": decimal_to_text(score.qc_failure_rate),
        "score_responsiveness_hours": decimal_to_text(score.responsiveness_hours),
        "score_rating": decimal_to_text(score.rating),
        "score_computed_at": score.computed_at,
    }


def _score(jobs: int, on_time: str | None, qc: str | None, hours: str | None, rating: str | None,
           computed_at: datetime | None) -> PartnerScore:
    if jobs == 0 and computed_at is None and on_time is None and qc is None and hours is None and rating is None:
        return NEW_PARTNER
    return PartnerScore(
        jobs=jobs,
        on_time_rate=None if on_time is None else Decimal(on_time),
        qc_failure_rate=None if qc is None else Decimal(qc),
        responsiveness_hours=None if hours is None else Decimal(hours),
        rating=None if rating is None else Decimal(rating),
        computed_at=_utc_fast(computed_at),
    )


def score_from_row(row: Row) -> PartnerScore:
    return _score(int(row["score_jobs"]), row["score_on_time_rate"], row["score_qc_failure_rate"],
                  row["score_responsiveness_hours"], row["score_rating"], row["score_computed_at"])


def _utc_fast(value: datetime | None) -> datetime | None:
    """:func:`utc_or_none` without the work when the column type already made it UTC."""
    return value if value is None or value.tzinfo is UTC else utc(value)


_VETTING = {v.value: v for v in Vetting}

# The order in which :func:`manufacturer_from_values` unpacks a row: select exactly
# these columns (the repository does). Unpacking a plain tuple is the cheapest way
# to map the tens of thousands of rows routing reads.
MANUFACTURER_COLUMNS = (
    "user_id", "name", "processes_json", "metals_json", "min_quantity", "max_quantity", "weekly_capacity",
    "current_load", "lead_time_days", "ships_to_json", "labour_piece_minor", "labour_stone_minor",
    "labour_currency", "vetting", "vetted_by", "vetted_at", "nda_signed_on", "nda_expires_on", "score_jobs",
    "score_on_time_rate", "score_qc_failure_rate", "score_responsiveness_hours", "score_rating",
    "score_computed_at", "updated_at",
)


def manufacturer_to_row(m: Manufacturer) -> dict[str, Any]:
    labour = m.labour
    return {
        "user_id": m.user_id,
        "name": m.name,
        "processes_json": codes_to_text(p.value for p in m.processes),
        "metals_json": codes_to_text(m.metals),
        "min_quantity": m.min_quantity,
        "max_quantity": m.max_quantity,
        "weekly_capacity": m.weekly_capacity,
        "current_load": m.current_load,
        "lead_time_days": m.lead_time_days,
        "ships_to_json": codes_to_text(m.ships_to),
        "labour_piece_minor": labour.per_piece.amount_minor,
        "labour_stone_minor": labour.per_stone.amount_minor,
        "labour_currency": labour.per_piece.currency,
        "vetting": m.vetting.value,
        "vetted_by": m.vetted_by,
        "vetted_at": m.vetted_at,
        "nda_signed_on": m.nda_signed_on,
        "nda_expires_on": m.nda_expires_on,
        **score_to_row(m.score),
        "updated_at": m.updated_at,
    }


def manufacturer_from_values(values: Sequence[Any]) -> Manufacturer:
    """A row of :data:`MANUFACTURER_COLUMNS`, in that order, read through the table's types."""
    (user_id, name, processes, metals, min_quantity, max_quantity, weekly_capacity, current_load, lead_time_days,
     ships_to, per_piece, per_stone, currency, vetting, vetted_by, vetted_at, nda_signed_on, nda_expires_on,
     jobs, on_time, qc, hours, rating, computed_at, updated_at) = values
    return Manufacturer(
        user_id=user_id,
        name=name,
        processes=processes_from_text(processes),
        metals=codes_from_text(metals),
        min_quantity=int(min_quantity),
        max_quantity=int(max_quantity),
        weekly_capacity=int(weekly_capacity),
        current_load=int(current_load),
        lead_time_days=int(lead_time_days),
        ships_to=codes_from_text(ships_to),
        labour=_labour(int(per_piece), int(per_stone), currency),
        vetting=_VETTING[vetting],
        vetted_by=vetted_by,
        vetted_at=_utc_fast(vetted_at),
        nda_signed_on=None if nda_signed_on is None else as_date(nda_signed_on),
        nda_expires_on=None if nda_expires_on is None else as_date(nda_expires_on),
        score=_score(int(jobs), on_time, qc, hours, rating, computed_at),
        updated_at=_utc_fast(updated_at),
    )


def manufacturer_from_row(row: Row) -> Manufacturer:
    return manufacturer_from_values([row[c] for c in MANUFACTURER_COLUMNS])


# The brief's canonical JSON: every field always present, carats as Decimal text.
BRIEF_KEYS = frozenset({"alloy", "quantity", "ship_to", "wanted_by", "size", "stones", "engraving", "finish",
                        "notes"})
STONE_KEYS = frozenset({"type", "carat", "count", "setting"})


def brief_to_text(brief: Brief) -> str:
    size = brief.size
    return _dumps({
        "alloy": brief.alloy,
        "quantity": brief.quantity,
        "ship_to": brief.ship_to,
        "wanted_by": brief.wanted_by.isoformat(),
        "size": None if size is None else {"system": size.system.value, "value": size.value},
        "stones": [
            {"type": s.type, "carat": decimal_to_text(s.carat), "count": s.count, "setting": s.setting.value}
            for s in brief.stones
        ],
        "engraving": brief.engraving,
        "finish": brief.finish.value,
        "notes": brief.notes,
    })


def _strict_int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"stored brief: {what} is not a whole number")
    return value


def _strict_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"stored brief: {what} is not text")
    return value


def _stone_from_json(raw: object) -> StoneLine:
    if not isinstance(raw, dict) or set(raw) != STONE_KEYS:
        raise ValueError("stored brief: a stone line is not {type, carat, count, setting}")
    return StoneLine(type=_strict_str(raw["type"], "a stone type"), carat=Decimal(_strict_str(raw["carat"], "a carat")),
                     count=_strict_int(raw["count"], "a stone count"), setting=Setting(raw["setting"]))


def brief_from_text(text: str) -> Brief:
    """Stored canonical JSON back to a Brief; a drifted document (a key missing or
    unknown, a carat that is not text) fails loudly rather than guessing."""
    raw = json.loads(text)
    if not isinstance(raw, dict) or set(raw) != BRIEF_KEYS:
        raise ValueError("stored brief does not have exactly the brief's fields")
    size = raw["size"]
    if size is not None and (not isinstance(size, dict) or set(size) != {"system", "value"}):
        raise ValueError("stored brief: the size is not {system, value}")
    stones = raw["stones"]
    if not isinstance(stones, list):
        raise ValueError("stored brief: stones are not a list")
    return Brief(
        alloy=_strict_str(raw["alloy"], "the alloy"),
        quantity=_strict_int(raw["quantity"], "the quantity"),
        ship_to=_strict_str(raw["ship_to"], "ship-to"),
        wanted_by=date.fromisoformat(_strict_str(raw["wanted_by"], "wanted-by")),
        size=None if size is None else Size(SizeSystem(size["system"]), _strict_str(size["value"], "the size")),
        stones=tuple(_stone_from_json(s) for s in stones),
        engraving=_strict_str(raw["engraving"], "the engraving"),
        finish=Finish(raw["finish"]),
        notes=_strict_str(raw["notes"], "the notes"),
    )


def _money_obj(money: Money) -> dict[str, Any]:
    return {"amount_minor": money.amount_minor, "currency": money.currency}


def _money_of(raw: Any) -> Money:
    return Money(int(raw["amount_minor"]), str(raw["currency"]))


def quote_to_text(q: Quote) -> str:
    """The fixed quote as canonical JSON: integer minor units, decimals as text."""
    return json.dumps({
        "currency": q.currency, "quantity": q.quantity,
        "lines": [{"code": ln.code, "label": ln.label, "per_piece": _money_obj(ln.per_piece),
                   "amount": _money_obj(ln.amount), "detail": ln.detail} for ln in q.lines],
        "subtotal": _money_obj(q.subtotal), "platform_fee": _money_obj(q.platform_fee),
        "platform_fee_rate": str(q.platform_fee_rate), "total": _money_obj(q.total),
        "net_grams_per_piece": str(q.net_grams_per_piece), "prices_effective": q.prices_effective.isoformat(),
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def quote_from_text(text: str) -> Quote:
    raw = json.loads(text)
    return Quote(
        currency=raw["currency"], quantity=int(raw["quantity"]),
        lines=tuple(QuoteLine(ln["code"], ln["label"], _money_of(ln["per_piece"]), _money_of(ln["amount"]),
                              ln["detail"]) for ln in raw["lines"]),
        subtotal=_money_of(raw["subtotal"]), platform_fee=_money_of(raw["platform_fee"]),
        platform_fee_rate=Decimal(raw["platform_fee_rate"]), total=_money_of(raw["total"]),
        net_grams_per_piece=Decimal(raw["net_grams_per_piece"]),
        prices_effective=date.fromisoformat(raw["prices_effective"]),
    )


def order_to_row(order: Order) -> dict[str, Any]:
    shipment = order.shipment
    return {
        "id": order.id,
        "buyer_id": order.buyer_id,
        "design_id": order.design_id,
        "designer_id": order.designer_id,
        "agreement_id": order.agreement_id,
        "brief_json": brief_to_text(order.brief),
        "quote_json": None if order.quote is None else quote_to_text(order.quote),
        "quantity": order.brief.quantity,
        "wanted_by": order.brief.wanted_by,
        "status": order.status.value,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "submitted_at": order.submitted_at,
        "manufacturer_id": order.manufacturer_id,
        "offered_at": order.offered_at,
        "offer_expires_at": order.offer_expires_at,
        "accepted_at": order.accepted_at,
        "declined_by_json": codes_to_text(order.declined_by),
        "qc_failures": order.qc_failures,
        "qc_passed_at": order.qc_passed_at,
        "carrier": None if shipment is None else shipment.carrier,
        "tracking": None if shipment is None else shipment.tracking,
        "shipped_at": None if shipment is None else shipment.shipped_at,
        "delivered_at": order.delivered_at,
        "closed_at": order.closed_at,
        "reason": order.reason,
    }


def order_from_row(row: Row) -> Order:
    shipped_at = row["shipped_at"]
    return Order(
        id=row["id"],
        buyer_id=row["buyer_id"],
        design_id=row["design_id"],
        designer_id=row["designer_id"],
        agreement_id=row["agreement_id"],
        brief=brief_from_text(row["brief_json"]),
        quote=None if row["quote_json"] is None else quote_from_text(row["quote_json"]),
        status=OrderStatus(row["status"]),
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
        submitted_at=utc_or_none(row["submitted_at"]),
        manufacturer_id=row["manufacturer_id"],
        offered_at=utc_or_none(row["offered_at"]),
        offer_expires_at=utc_or_none(row["offer_expires_at"]),
        accepted_at=utc_or_none(row["accepted_at"]),
        declined_by=codes_from_text(row["declined_by_json"]),
        qc_failures=int(row["qc_failures"]),
        qc_passed_at=utc_or_none(row["qc_passed_at"]),
        shipment=None if shipped_at is None else Shipment(row["carrier"], row["tracking"], utc(shipped_at)),
        delivered_at=utc_or_none(row["delivered_at"]),
        closed_at=utc_or_none(row["closed_at"]),
        reason=row["reason"],
    )


def journal_entry_to_row(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "order_id": entry.order_id,
        "kind": entry.kind.value,
        "currency": entry.currency,
        "idempotency_key": entry.idempotency_key,
        "buyer_id": entry.buyer_id,
        "at": entry.at,
    }


def ledger_lines_to_rows(entry: JournalEntry) -> list[dict[str, Any]]:
    return [
        {"entry_id": entry.id, "position": i, "account": line.account, "debit": line.debit, "credit": line.credit}
        for i, line in enumerate(entry.lines)
    ]


def ledger_line_from_row(row: Row) -> LedgerLine:
    return LedgerLine(account=row["account"], debit=int(row["debit"]), credit=int(row["credit"]))


def journal_entry_from_row(row: Row, lines: Sequence[LedgerLine]) -> JournalEntry:
    return JournalEntry(
        id=row["id"],
        order_id=row["order_id"],
        kind=EntryKind(row["kind"]),
        currency=row["currency"],
        idempotency_key=row["idempotency_key"],
        lines=tuple(lines),
        at=utc(row["at"]),
        buyer_id=row["buyer_id"],
    )


def _prices_to_text(prices: Mapping[str, int]) -> str:
    return _dumps(dict(prices))


def _prices_from_text(text: str) -> dict[str, int]:
    raw = json.loads(text)
    if not isinstance(raw, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in raw.values()
    ):
        raise ValueError("stored prices are not a JSON object of whole numbers")
    return raw


def price_table_to_row(table: PriceTable) -> dict[str, Any]:
    return {
        "effective": table.effective,
        "currency": table.currency,
        "metal_per_gram_json": _prices_to_text(table.metal_per_gram),
        "stone_per_carat_json": _prices_to_text(table.stone_per_carat),
        "setting_per_stone": table.setting_per_stone,
        "labour_per_piece": table.labour_per_piece,
        "casting_loss": decimal_to_text(table.casting_loss),
        "platform_fee_rate": decimal_to_text(table.platform_fee_rate),
    }


def price_table_from_row(row: Row) -> PriceTable:
    return PriceTable(
        currency=row["currency"],
        effective=as_date(row["effective"]),
        metal_per_gram=_prices_from_text(row["metal_per_gram_json"]),
        stone_per_carat=_prices_from_text(row["stone_per_carat_json"]),
        setting_per_stone=int(row["setting_per_stone"]),
        labour_per_piece=int(row["labour_per_piece"]),
        casting_loss=Decimal(row["casting_loss"]),
        platform_fee_rate=Decimal(row["platform_fee_rate"]),
    )


def instruction_to_row(instruction: PaymentInstruction) -> dict[str, Any]:
    return {
        "id": instruction.id,
        "order_id": instruction.order_id,
        "kind": instruction.kind.value,
        "amount_minor": instruction.amount.amount_minor,
        "currency": instruction.amount.currency,
        "party_id": instruction.party_id,
        "idempotency_key": instruction.idempotency_key,
        "created_at": instruction.created_at,
        "status": instruction.status.value,
        "external_id": instruction.external_id,
        "attempts": instruction.attempts,
        "next_attempt_at": instruction.next_attempt_at,
        "claimed_until": instruction.claimed_until,
        "last_error": instruction.last_error,
    }


def instruction_from_row(row: Row) -> PaymentInstruction:
    return PaymentInstruction(
        id=row["id"],
        order_id=row["order_id"],
        kind=InstructionKind(row["kind"]),
        amount=Money(int(row["amount_minor"]), row["currency"]),
        party_id=row["party_id"],
        idempotency_key=row["idempotency_key"],
        created_at=utc(row["created_at"]),
        status=InstructionStatus(row["status"]),
        external_id=row["external_id"],
        attempts=int(row["attempts"]),
        next_attempt_at=utc_or_none(row["next_attempt_at"]),
        claimed_until=utc_or_none(row["claimed_until"]),
        last_error=row["last_error"],
    )
