"""The data map (issue #6, part 0): for every column of every table in
:data:`caratzon_adapters.sql.tables.metadata`, the kind of personal data it holds,
the section-8 rule that says how long it lives and what erasing its person does to
it — or an explicit :class:`~caratzon_core.datamap.NotPersonal` with the reason.
The vocabulary (categories, retention rules, maskings) is in
:mod:`caratzon_core.datamap`; ``docs/data-map.md`` is generated from this map
(:func:`data_map_markdown`) and a test keeps the two equal.

A column is *not personal* when it tells nothing about a person by itself:
surrogate keys and links to a parent row, positions, kinds and workflow states of
records, retry and lock machinery, hashes and signatures, counters and aggregates,
and every column of tables that hold nobody's data. Everything else in a row about
or by a person is personal — its dates, amounts and references to other records
included — and takes that row's category; a person's user id, wherever it sits, is
``user.identifier``, which is how export and erasure find a person.

Adding a column or a table without an entry here fails
``tests/unit/test_datamap.py`` (:func:`missing_entries`): nobody stores personal
data without deciding how long it lives and how it is erased.

Regenerate the document with ``python -m caratzon_adapters.sql.datamap > docs/data-map.md``.
"""

from __future__ import annotations

from sqlalchemy import JSON, MetaData, String, Text

from caratzon_adapters.sql.tables import metadata as schema
from caratzon_core import datamap as dm
from caratzon_core.datamap import (
    ACCOUNT,
    ANALYTICS,
    AUDIT,
    DESIGN_ASSETS,
    LEGAL,
    TRANSACTION,
    Category,
    ColumnRule,
    DataMap,
    Entry,
    Masking,
    NotPersonal,
    RetentionRule,
)

DELETE_ROW = Masking.DELETE_ROW
NULL_FIELD = Masking.NULL_FIELD
PSEUDONYMISE = Masking.PSEUDONYMISE
REDACT = Masking.REDACT
KEEP = Masking.KEEP


def _r(category: Category, retention: RetentionRule, masking: Masking, note: str = "") -> ColumnRule:
    return ColumnRule(category, retention, masking, note)


def _np(reason: str) -> NotPersonal:
    return NotPersonal(reason)


def _key(of: str) -> NotPersonal:
    return NotPersonal(f"identifier: the random id of the {of}")


def _parent(of: str) -> NotPersonal:
    return NotPersonal(f"identifier: links the row to its {of}")


# The shapes most tables repeat.
ACCOUNT_ROW = (dm.USER_ACCOUNT, ACCOUNT, DELETE_ROW)
DESIGN_ROW = (dm.DESIGN_ASSET, DESIGN_ASSETS, DELETE_ROW)
ANALYTICS_ROW = (dm.ANALYTICS_EVENT, ANALYTICS, DELETE_ROW)
AUDIT_ROW = (dm.AUDIT_ENTRY, AUDIT, KEEP)

_ORDER = (dm.TRANSACTION_ORDER, TRANSACTION, KEEP)
_LICENCE = (dm.TRANSACTION_LICENCE, TRANSACTION, KEEP)
_LEDGER = (dm.TRANSACTION_LEDGER, TRANSACTION, KEEP)
_PAYMENT = (dm.USER_FINANCIAL, TRANSACTION, KEEP)
_NOTICE = (dm.COMMUNICATION_NOTICE, ACCOUNT, DELETE_ROW)
_MANUFACTURER = (dm.MANUFACTURER_PROFILE, ACCOUNT, DELETE_ROW)
_CONSENT = (dm.CONSENT_RECORD, LEGAL, KEEP)
_REQUEST = (dm.PRIVACY_REQUEST, LEGAL, KEEP)
_CODE = (dm.USER_CREDENTIAL, ACCOUNT, DELETE_ROW)


def _party(retention: RetentionRule = TRANSACTION, note: str = "") -> ColumnRule:
    """A user id on a record that outlives the person: replaced by their pseudonym."""
    return ColumnRule(dm.USER_IDENTIFIER, retention, PSEUDONYMISE, note)


def _owner(retention: RetentionRule = ACCOUNT, note: str = "") -> ColumnRule:
    """A user id on a row that goes with the person."""
    return ColumnRule(dm.USER_IDENTIFIER, retention, DELETE_ROW, note)


MACHINERY = "delivery machinery (retry count, lease, next attempt): says nothing about a person"

_TABLES: dict[str, dict[str, Entry]] = {
    # -- accounts ------------------------------------------------------------------
    "users": {
        "id": _owner(note="the person's key: references elsewhere are pseudonymised or deleted first"),
        "email": _r(dm.USER_EMAIL, ACCOUNT, DELETE_ROW),
        "name": _r(dm.USER_NAME, ACCOUNT, DELETE_ROW),
        "role": _r(*ACCOUNT_ROW),
        "password_hash": _r(dm.USER_CREDENTIAL, ACCOUNT, DELETE_ROW, "a slow salted hash, never the password"),
        "language": _r(*ACCOUNT_ROW),
        "status": _r(*ACCOUNT_ROW, "active, restricted (P38) or closed: a fact about the person"),
        "business_name": _r(dm.USER_BUSINESS, ACCOUNT, DELETE_ROW),
        "business_address": _r(dm.USER_BUSINESS, ACCOUNT, DELETE_ROW),
        "age_confirmed_at": _r(*ACCOUNT_ROW, "when the person confirmed being 18; the birth date is never stored"),
        "created_at": _r(*ACCOUNT_ROW),
        "updated_at": _r(*ACCOUNT_ROW),
        "closed_at": _r(*ACCOUNT_ROW, "starts the 12-month account clock"),
        "ai_objection_at": _r(*ACCOUNT_ROW, "objection to AI processing (P40)"),
        "erased_at": _np("erasure marker: set only on the stand-in row that replaced an erased person"),
    },
    "designer_profiles": {
        "user_id": _owner(),
        "biography": _r(dm.USER_PROFILE, ACCOUNT, DELETE_ROW),
        "brand_description": _r(dm.USER_PROFILE, ACCOUNT, DELETE_ROW),
        "credentials": _r(dm.USER_PROFILE, ACCOUNT, DELETE_ROW, "professional credentials, not secrets"),
        "updated_at": _r(dm.USER_PROFILE, ACCOUNT, DELETE_ROW),
    },
    "api_tokens": {
        "id": _key("token"),
        "user_id": _owner(),
        "digest": _r(dm.USER_CREDENTIAL, ACCOUNT, DELETE_ROW, "SHA-256 of the token; the token is never stored"),
        "created_at": _r(dm.USER_CREDENTIAL, ACCOUNT, DELETE_ROW),
        "expires_at": _r(dm.USER_CREDENTIAL, ACCOUNT, DELETE_ROW),
        "revoked_at": _r(dm.USER_CREDENTIAL, ACCOUNT, DELETE_ROW),
        "label": _r(dm.USER_CREDENTIAL, ACCOUNT, DELETE_ROW, "free text chosen by the person"),
    },
    "login_attempts": {
        "id": _np("identifier: the attempt's row number"),
        "kind": _np("which key the row throttles: `account` or `address`"),
        "key": _r(dm.SECURITY_EVENT, AUDIT, KEEP,
                  "the normalised email tried, or the client address; found by email, not by user id"),
        "at": _r(dm.SECURITY_EVENT, AUDIT, KEEP),
        "success": _r(dm.SECURITY_EVENT, AUDIT, KEEP),
    },
    "policy_versions": {
        "version": _np("a policy version's name"),
        "effective_date": _np("the policy's effective date"),
        "material": _np("whether the change was material (section 13)"),
        "text": _np("the policy's text, published for everyone"),
        "published_at": _np("when the policy version was published"),
        "published_by": _party(LEGAL, "the admin's user id, or `operator:<name>` from the CLI"),
    },
    "policy_acceptances": {
        "id": _np("identifier: the acceptance's row number"),
        "user_id": _owner(note="rows go with the account (ON DELETE CASCADE)"),
        "version": _r(dm.CONSENT_RECORD, ACCOUNT, DELETE_ROW, "which policy version the person accepted"),
        "accepted_at": _r(dm.CONSENT_RECORD, ACCOUNT, DELETE_ROW),
    },
    # -- the audit trail: never rewritten (the hash chain), pruned after 3 years ----
    "audit_log": {
        "seq": _np("position in the hash chain"),
        "at": _r(*AUDIT_ROW),
        "actor": _r(dm.USER_IDENTIFIER, AUDIT, KEEP, "a user id, `anonymous` or `operator:<name>`; ids only"),
        "action": _r(*AUDIT_ROW),
        "subject": _r(dm.USER_IDENTIFIER, AUDIT, KEEP, "`user:<id>` when the entry is about a person"),
        "outcome": _r(*AUDIT_ROW),
        "client_address": _r(dm.DEVICE_BROWSER, AUDIT, KEEP, "truncated to /24 or /48 before storage (P7)"),
        "detail": _r(*AUDIT_ROW, "short non-secret facts; no bodies, passwords or tokens by construction"),
        "prev_hash": _np("hash chain link"),
        "hash": _np("hash chain link"),
    },
    "audit_head": {
        "id": _np("the single row's fixed id"),
        "seq": _np("last sequence number of the chain"),
        "hash": _np("last hash of the chain"),
        "signature": _np("HMAC signature of the head"),
    },
    "audit_checkpoint": {
        "id": _np("the single row's fixed id"),
        "seq": _np("last pruned sequence number"),
        "hash": _np("hash of the last pruned entry"),
        "pruned_at": _np("when the trail was last pruned"),
        "signature": _np("HMAC signature of the checkpoint"),
    },
    # -- designs and the catalog ----------------------------------------------------
    "designs": {
        "id": _key("design"),
        "designer_id": _party(DESIGN_ASSETS, "a design kept under an active licence names the designer's pseudonym"),
        "title": _r(*DESIGN_ROW),
        "description": _r(*DESIGN_ROW),
        "category": _r(*DESIGN_ROW),
        "metals": _r(*DESIGN_ROW),
        "gemstones": _r(*DESIGN_ROW),
        "tags": _r(*DESIGN_ROW),
        "width_mm": _r(*DESIGN_ROW),
        "height_mm": _r(*DESIGN_ROW),
        "depth_mm": _r(*DESIGN_ROW),
        "price_minor": _r(*DESIGN_ROW),
        "price_currency": _r(*DESIGN_ROW),
        "status": _np("workflow state of the design: draft, published, withdrawn or removed"),
        "created_at": _r(*DESIGN_ROW),
        "updated_at": _r(*DESIGN_ROW),
        "published_at": _r(*DESIGN_ROW),
        "withdrawn_at": _r(*DESIGN_ROW),
        "removed_at": _r(*DESIGN_ROW, "starts the 90-day design-asset clock"),
        "purged_at": _np("retention marker: when the design's files and content were deleted"),
    },
    "design_tags": {
        "design_id": _parent("design"),
        "tag": _r(*DESIGN_ROW),
    },
    "design_stats": {
        "design_id": _parent("design"),
        "views": _np("aggregate counter: no person's id"),
        "saves": _np("aggregate counter: no person's id"),
    },
    "catalog_entries": {
        "seq": _np("identifier: the read model's row number (the FTS rowid)"),
        "design_id": _parent("design"),
        "designer_id": _owner(DESIGN_ASSETS,
                              "copy of designs.designer_id; an erased designer's designs leave the catalog"),
        "category": _r(*DESIGN_ROW, "copy of the design's"),
        "metal_mask": _r(*DESIGN_ROW, "copy of the design's"),
        "gem_mask": _r(*DESIGN_ROW, "copy of the design's"),
        "published_at": _r(*DESIGN_ROW, "copy of the design's"),
        "price_minor": _r(*DESIGN_ROW, "copy of the design's"),
        "price_currency": _r(*DESIGN_ROW, "copy of the design's"),
        "views": _np("aggregate counter: no person's id"),
        "saves": _np("aggregate counter: no person's id"),
        "search_text": _r(*DESIGN_ROW, "title, description, tags and the designer's name"),
    },
    "catalog_facet_counts": {
        "category": _np("aggregate key: a design category"),
        "metal_mask": _np("aggregate key: a set of metals"),
        "gem_mask": _np("aggregate key: a set of gemstone types"),
        "designs": _np("aggregate counter: no person's id"),
    },
    "assets": {
        "id": _key("asset"),
        "design_id": _parent("design"),
        "kind": _r(*DESIGN_ROW),
        "visibility": _r(*DESIGN_ROW),
        "blob_key": _r(*DESIGN_ROW, "the file in the blob store goes with the row"),
        "filename": _r(*DESIGN_ROW, "the uploader's filename, kept as metadata"),
        "content_type": _r(*DESIGN_ROW),
        "size": _r(*DESIGN_ROW),
        "sha256": _r(*DESIGN_ROW),
        "analysis": _r(*DESIGN_ROW, "CAD analysis of the file"),
        "thumbnail_key": _r(*DESIGN_ROW, "the thumbnail blob goes with the row"),
        "width_px": _r(*DESIGN_ROW),
        "height_px": _r(*DESIGN_ROW),
        "created_at": _r(*DESIGN_ROW),
    },
    "pending_blobs": {
        "key": _np("housekeeping: key of an upload not yet committed, swept by the blob janitor"),
        "at": _np("housekeeping: when the upload started"),
    },
    "saved_designs": {
        "user_id": _owner(),
        "design_id": _r(dm.USER_ACTIVITY, ACCOUNT, DELETE_ROW, "which design the person saved"),
        "at": _r(dm.USER_ACTIVITY, ACCOUNT, DELETE_ROW),
    },
    # -- consent and analytics -----------------------------------------------------
    "consents": {
        "id": _key("consent record"),
        "visitor_id": _r(dm.DEVICE_BROWSER, LEGAL, PSEUDONYMISE, "the visitor cookie's id"),
        "user_id": _r(dm.USER_IDENTIFIER, LEGAL, NULL_FIELD, "ON DELETE SET NULL: the proof outlives the account"),
        "notice_version": _r(*_CONSENT),
        "analytics": _r(*_CONSENT, "the choice itself"),
        "at": _r(*_CONSENT),
        "client_address": _r(dm.DEVICE_BROWSER, LEGAL, NULL_FIELD, "truncated before storage (P7)"),
        "user_agent": _r(dm.DEVICE_BROWSER, LEGAL, NULL_FIELD, "capped at 300 characters"),
    },
    "engagement_events": {
        "id": _key("event"),
        "design_id": _r(*ANALYTICS_ROW, "which design the person viewed or saved"),
        "kind": _np("view, save or scroll"),
        "at": _r(*ANALYTICS_ROW),
        "visitor_id": _r(dm.DEVICE_BROWSER, ANALYTICS, DELETE_ROW, "the visitor cookie's id"),
        "user_id": _owner(ANALYTICS),
        "scroll_depth": _r(*ANALYTICS_ROW),
    },
    # -- licensing, negotiation, messaging, the outbox -------------------------------
    "licence_options": {
        "id": _key("licence option"),
        "design_id": _parent("design"),
        "designer_id": _party(),
        "name": _r(*_LICENCE),
        "terms_json": _r(*_LICENCE, "list price and terms"),
        "status": _np("workflow state of the option: active or retired"),
        "created_at": _r(*_LICENCE),
        "retired_at": _r(*_LICENCE),
    },
    "negotiations": {
        "id": _key("negotiation"),
        "design_id": _r(*_LICENCE, "which design the buyer negotiated"),
        "option_id": _r(*_LICENCE),
        "buyer_id": _party(),
        "designer_id": _party(),
        "status": _np("workflow state of the negotiation"),
        "accepted_offer_id": _r(*_LICENCE),
        "closed_at": _r(*_LICENCE),
        "latest_expires_at": _r(*_LICENCE),
        "last_activity_at": _r(*_LICENCE),
        "version": _np("optimistic-lock counter"),
    },
    "negotiation_offers": {
        "negotiation_id": _parent("negotiation"),
        "seq": _np("position of the offer in its negotiation"),
        "id": _np("identifier: the offer's id within its negotiation"),
        "by_party": _r(*_LICENCE, "buyer or designer: who proposed"),
        "terms_json": _r(*_LICENCE, "the proposed fees and terms"),
        "terms_hash": _r(*_LICENCE, "SHA-256 of the terms: as sensitive as the terms themselves"),
        "made_at": _r(*_LICENCE),
        "expires_at": _r(*_LICENCE),
    },
    "agreements": {
        "id": _key("agreement"),
        "negotiation_id": _r(*_LICENCE),
        "design_id": _r(*_LICENCE),
        "designer_id": _party(),
        "buyer_id": _party(),
        "terms_json": _r(*_LICENCE, "the signed terms"),
        "terms_hash": _r(*_LICENCE),
        "effective_date": _r(*_LICENCE),
        "end_date": _r(*_LICENCE, "with the status: whether a licence is active, which keeps design assets"),
        "status": _np("workflow state of the agreement"),
        "created_at": _r(*_LICENCE),
    },
    "threads": {
        "id": _key("thread"),
        "kind": _np("negotiation, order or support"),
        "title": _r(dm.COMMUNICATION_MESSAGE, TRANSACTION, REDACT,
                    "support titles are written by the person; the others name the design or order"),
        "created_by": _party(),
        "created_at": _r(dm.COMMUNICATION_MESSAGE, TRANSACTION, KEEP),
        "subject_id": _r(dm.COMMUNICATION_MESSAGE, TRANSACTION, KEEP, "the negotiation or order discussed"),
        "topic": _r(dm.COMMUNICATION_MESSAGE, TRANSACTION, KEEP, "what a support request is about"),
        "last_message_at": _r(dm.COMMUNICATION_MESSAGE, TRANSACTION, KEEP),
        "activity_at": _r(dm.COMMUNICATION_MESSAGE, TRANSACTION, KEEP),
    },
    "thread_participants": {
        "thread_id": _r(dm.COMMUNICATION_MESSAGE, ACCOUNT, DELETE_ROW, "which threads the person is in"),
        "user_id": _owner(),
    },
    "thread_marks": {
        "thread_id": _r(dm.USER_ACTIVITY, ACCOUNT, DELETE_ROW),
        "user_id": _owner(),
        "read_at": _r(dm.USER_ACTIVITY, ACCOUNT, DELETE_ROW),
        "digested_at": _r(dm.USER_ACTIVITY, ACCOUNT, DELETE_ROW),
    },
    "messages": {
        "id": _key("message"),
        "thread_id": _parent("thread"),
        "author_id": _party(ACCOUNT, "NULL for platform event messages"),
        "kind": _np("text or platform event"),
        "body": _r(dm.COMMUNICATION_MESSAGE, ACCOUNT, REDACT,
                   "the author's words: emptied on erasure and shown as `message removed`"),
        "language": _r(dm.COMMUNICATION_MESSAGE, TRANSACTION, KEEP, "the language the message was written in"),
        "created_at": _r(dm.COMMUNICATION_MESSAGE, TRANSACTION, KEEP),
        "event": _np("name of the platform step shown, e.g. `offer.made`"),
        "event_data_json": _r(dm.COMMUNICATION_MESSAGE, TRANSACTION, KEEP,
                              "platform-written step facts (offer id, fees, status change, reason); erasure "
                              "replaces user ids quoted in it with pseudonyms"),
        "removed": _np("erasure marker: the text was removed"),
    },
    "message_attachments": {
        "id": _key("attachment"),
        "message_id": _parent("message"),
        "position": _np("position of the attachment in its message"),
        "blob_key": _r(dm.COMMUNICATION_MESSAGE, ACCOUNT, DELETE_ROW, "the file goes with the row"),
        "filename": _r(dm.COMMUNICATION_MESSAGE, ACCOUNT, DELETE_ROW),
        "content_type": _r(dm.COMMUNICATION_MESSAGE, ACCOUNT, DELETE_ROW),
        "size": _r(dm.COMMUNICATION_MESSAGE, ACCOUNT, DELETE_ROW),
        "sha256": _r(dm.COMMUNICATION_MESSAGE, ACCOUNT, DELETE_ROW),
    },
    "message_translations": {
        "message_id": _parent("message"),
        "language": _np("the language translated into"),
        "text": _r(dm.COMMUNICATION_MESSAGE, ACCOUNT, DELETE_ROW, "machine translation of the author's words"),
        "created_at": _r(dm.COMMUNICATION_MESSAGE, ACCOUNT, DELETE_ROW),
    },
    "outbox": {
        "id": _key("notice"),
        "dedupe_key": _owner(note="ends in the recipient's user id, e.g. `offer:<id>:<user id>`"),
        "kind": _np("which notice"),
        "to_email": _r(dm.USER_EMAIL, ACCOUNT, DELETE_ROW),
        "language": _r(*_NOTICE),
        "values_json": _r(*_NOTICE, "the person's name and the values shown in the mail; may quote other people's "
                                    "names, which their erasure replaces"),
        "created_at": _r(*_NOTICE),
        "status": _np("delivery state: pending, sent or failed"),
        "attempts": _np(MACHINERY),
        "next_attempt_at": _np(MACHINERY),
        "claimed_until": _np(MACHINERY),
        "sent_at": _r(*_NOTICE),
        "last_error": _r(*_NOTICE, "the mail server's answer may quote the address"),
    },
    # -- manufacturers, orders, the ledger, prices, payments -------------------------
    "manufacturers": {
        "user_id": _owner(),
        "name": _r(*_MANUFACTURER, "a workshop's name may be a person's"),
        "processes_json": _r(*_MANUFACTURER),
        "metals_json": _r(*_MANUFACTURER),
        "min_quantity": _r(*_MANUFACTURER),
        "max_quantity": _r(*_MANUFACTURER),
        "weekly_capacity": _r(*_MANUFACTURER),
        "current_load": _r(*_MANUFACTURER),
        "lead_time_days": _r(*_MANUFACTURER),
        "ships_to_json": _r(*_MANUFACTURER),
        "labour_piece_minor": _r(*_MANUFACTURER),
        "labour_stone_minor": _r(*_MANUFACTURER),
        "labour_currency": _r(*_MANUFACTURER),
        "vetting": _r(*_MANUFACTURER, "vetted, suspended…: a judgement about the workshop"),
        "vetted_by": _party(ACCOUNT, "the admin's user id (no foreign key, like the audit actor)"),
        "vetted_at": _r(*_MANUFACTURER),
        "nda_signed_on": _r(*_MANUFACTURER),
        "nda_expires_on": _r(*_MANUFACTURER),
        "score_jobs": _r(*_MANUFACTURER, "partner score: an evaluation of the workshop"),
        "score_on_time_rate": _r(*_MANUFACTURER),
        "score_qc_failure_rate": _r(*_MANUFACTURER),
        "score_responsiveness_hours": _r(*_MANUFACTURER),
        "score_rating": _r(*_MANUFACTURER),
        "score_computed_at": _r(*_MANUFACTURER),
        "updated_at": _r(*_MANUFACTURER),
    },
    "orders": {
        "id": _key("order"),
        "buyer_id": _party(),
        "design_id": _r(*_ORDER),
        "designer_id": _party(),
        "agreement_id": _r(*_ORDER),
        "brief_json": _r(*_ORDER, "the customization brief, engraving text and notes included: part of the record"),
        "quote_json": _r(*_ORDER, "what the buyer pays"),
        "quantity": _r(*_ORDER),
        "wanted_by": _r(*_ORDER),
        "status": _np("workflow state of the order"),
        "created_at": _r(*_ORDER),
        "updated_at": _r(*_ORDER),
        "submitted_at": _r(*_ORDER),
        "manufacturer_id": _party(),
        "offered_at": _r(*_ORDER),
        "offer_expires_at": _r(*_ORDER),
        "accepted_at": _r(*_ORDER),
        "declined_by_json": _party(note="a JSON list of manufacturers' user ids: each one pseudonymised"),
        "qc_failures": _r(*_ORDER),
        "qc_passed_at": _r(*_ORDER),
        "carrier": _r(*_ORDER),
        "tracking": _r(*_ORDER),
        "shipped_at": _r(*_ORDER),
        "delivered_at": _r(*_ORDER),
        "closed_at": _r(*_ORDER, "starts the 7-year transaction clock"),
        "reason": _r(*_ORDER, "why the order was cancelled or refused"),
    },
    "ledger_entries": {
        "id": _key("journal entry"),
        "order_id": _r(*_LEDGER),
        "kind": _np("charge, refund, payout or reassign"),
        "currency": _r(*_LEDGER),
        "idempotency_key": _r(*_LEDGER, "`order:<id>:<event>`"),
        "buyer_id": _party(),
        "at": _r(*_LEDGER),
    },
    "ledger_lines": {
        "entry_id": _parent("journal entry"),
        "position": _np("position of the line in its entry"),
        "account": _party(note="`payable:designer:<id>`, `payable:manufacturer:<id>`; `clearing` and "
                               "`revenue:…` name no one"),
        "debit": _r(*_LEDGER),
        "credit": _r(*_LEDGER),
    },
    "price_tables": {
        "effective": _np("price table: market prices, nobody's data"),
        "currency": _np("price table: market prices, nobody's data"),
        "metal_per_gram_json": _np("price table: market prices, nobody's data"),
        "stone_per_carat_json": _np("price table: market prices, nobody's data"),
        "setting_per_stone": _np("price table: market prices, nobody's data"),
        "labour_per_piece": _np("price table: market prices, nobody's data"),
        "casting_loss": _np("price table: market prices, nobody's data"),
        "platform_fee_rate": _np("price table: the platform's fee, nobody's data"),
    },
    "payment_instructions": {
        "id": _key("payment instruction"),
        "order_id": _r(*_PAYMENT),
        "kind": _np("charge, transfer or refund"),
        "amount_minor": _r(*_PAYMENT),
        "currency": _r(*_PAYMENT),
        "party_id": _party(),
        "idempotency_key": _party(note="transfers end in the ledger account, e.g. `…:payable:designer:<id>`"),
        "created_at": _r(*_PAYMENT),
        "status": _np("workflow state of the instruction"),
        "external_id": _r(*_PAYMENT, "the payment processor's reference"),
        "attempts": _np(MACHINERY),
        "next_attempt_at": _np(MACHINERY),
        "claimed_until": _np(MACHINERY),
        "last_error": _r(dm.USER_FINANCIAL, TRANSACTION, NULL_FIELD,
                         "the processor's error text: not needed as a record"),
    },
    # -- data-subject requests (migration 0006) ---------------------------------------
    # Kept as proof that each request was answered (P42): the person is pseudonymised
    # and their own words removed, the facts of the answer stay.
    "data_requests": {
        "id": _key("request"),
        "user_id": _party(LEGAL, "the person the request is about"),
        "request_type": _r(*_REQUEST, "which right of section 9 the person exercised"),
        "status": _np("workflow state of the request"),
        "origin": _r(*_REQUEST, "self, verified by an admin, or a reported minor (P45)"),
        "opened_by": _party(LEGAL, "the person, an admin's user id or `operator:<name>`"),
        "received_at": _r(*_REQUEST),
        "due_at": _r(*_REQUEST, "received + 30 days (P42)"),
        "details": _r(dm.PRIVACY_REQUEST, LEGAL, REDACT, "what the person wrote"),
        "notes_json": _r(*_REQUEST, "the timeline: time, actor id and text of each step; erasure replaces the "
                                    "ids in it with pseudonyms"),
        "merged": _np("counter of duplicate requests merged into this one"),
        "urgent": _r(*_REQUEST, "set for a reported minor (P45)"),
        "handled_by": _party(LEGAL, "the admin handling the request"),
        "taken_at": _r(*_REQUEST),
        "closed_at": _r(*_REQUEST),
        "outcome": _r(*_REQUEST, "what was done, or why the request was refused"),
        "open_type": _np("uniqueness helper: the request type while open, NULL once closed"),
    },
    "verification_codes": {
        "id": _key("verification code"),
        "user_id": _owner(),
        "purpose": _r(*_CODE, "`dsr:<type>`: which request the code is for"),
        "digest": _r(*_CODE, "keyed digest of the code; the code is never stored"),
        "requested_by": _owner(note="the admin who asked for the code; a short-lived row"),
        "created_at": _r(*_CODE),
        "expires_at": _r(*_CODE),
        "attempts": _np("guess counter of the code"),
        "used_at": _r(*_CODE),
    },
    # -- erasure and the retention engine (migration 0007) -------------------------
    "legal_holds": {
        "id": _key("legal hold"),
        "user_id": _party(LEGAL, "the person held: kept (pseudonymised once erased) as proof of the hold"),
        "reason": _r(dm.PRIVACY_REQUEST, LEGAL, KEEP, "why the law requires keeping the person's data"),
        "placed_by": _party(LEGAL, "the admin's user id or `operator:<name>`"),
        "placed_at": _r(dm.PRIVACY_REQUEST, LEGAL, KEEP),
        "active": _np("TRUE while the hold stands, NULL once released"),
        "released_by": _party(LEGAL, "the admin's user id or `operator:<name>`"),
        "released_at": _r(dm.PRIVACY_REQUEST, LEGAL, KEEP),
        "release_reason": _r(dm.PRIVACY_REQUEST, LEGAL, KEEP),
    },
    "blob_deletions": {
        "key": _np("housekeeping: the generated key of a blob whose row is already gone"),
        "reason": _np("housekeeping: which rule queued the deletion"),
        "queued_at": _np("housekeeping: when the deletion was queued"),
        "due_at": _np("housekeeping: when the blob may be deleted"),
        "attempts": _np(MACHINERY),
        "last_attempt_at": _np(MACHINERY),
        "last_error": _np("the blob store's error text: names a generated key, never a person"),
    },
    "retention_runs": {
        "id": _key("retention run"),
        "as_of": _np("the date the run applied the rules as of"),
        "started_by": _r(dm.USER_IDENTIFIER, AUDIT, KEEP, "an id as in the audit trail: an admin or `operator:<name>`"),
        "started_at": _np("when the run started"),
        "finished_at": _np("when the run ended"),
        "status": _np("workflow state of the run"),
        "counts_json": _np("counts per rule: numbers only"),
        "error": _np("why a run failed: an exception's text about the store, never a person's data"),
    },
    "analytics_daily": {
        "design_id": _np("aggregate key: a design"),
        "day": _np("aggregate key: a day"),
        "kind": _np("aggregate key: view, save or scroll"),
        "events": _np("aggregate counter: no person's id (P33)"),
        "depth_sum": _np("aggregate counter: no person's id (P33)"),
        "depth_count": _np("aggregate counter: no person's id (P33)"),
    },
}

DATA_MAP = DataMap(_TABLES)


# -- reading the map -----------------------------------------------------------------


def rule_for(table: str, column: str) -> ColumnRule | None:
    """The column's rule, or None when it is marked not personal (KeyError: not mapped)."""
    return DATA_MAP.rule_for(table, column)


def personal_columns(table: str) -> tuple[str, ...]:
    return DATA_MAP.personal_columns(table)


def columns_in(category: Category) -> tuple[tuple[str, str], ...]:
    return DATA_MAP.columns_in(category)


def user_references() -> tuple[tuple[str, str], ...]:
    return DATA_MAP.user_references()


# -- keeping the map true ----------------------------------------------------------


def missing_entries(metadata: MetaData = schema, data_map: DataMap = DATA_MAP) -> list[str]:
    """Every ``table.column`` of the schema with no entry in the map."""
    return [
        f"{table.name}.{column.name}"
        for table in metadata.tables.values()
        for column in table.columns
        if column.name not in data_map.tables.get(table.name, {})
    ]


def unknown_entries(metadata: MetaData = schema, data_map: DataMap = DATA_MAP) -> list[str]:
    """Every entry of the map naming a table or column the schema does not have."""
    out = []
    for table, columns in data_map.tables.items():
        known = metadata.tables.get(table)
        for column in columns:
            if known is None or column not in known.columns:
                out.append(f"{table}.{column}")
    return out


_TEXT_TYPES = (String, Text, JSON)


def masking_problems(metadata: MetaData = schema, data_map: DataMap = DATA_MAP) -> list[str]:
    """Maskings the columns cannot take: NULL into a NOT NULL column, a pseudonym or a
    placeholder into a column that does not hold text."""
    out = []
    for table, columns in data_map.tables.items():
        known = metadata.tables.get(table)
        if known is None:
            continue
        for name, entry in columns.items():
            if name not in known.columns or not isinstance(entry, ColumnRule):
                continue
            column = known.columns[name]
            if entry.masking is NULL_FIELD and not column.nullable:
                out.append(f"{table}.{name}: null_field on a NOT NULL column")
            if entry.masking in (PSEUDONYMISE, REDACT) and not isinstance(column.type, _TEXT_TYPES):
                out.append(f"{table}.{name}: {entry.masking.value} on a {type(column.type).__name__} column")
            if entry.masking is REDACT and column.nullable:
                out.append(f"{table}.{name}: redact on a nullable column (use null_field)")
    return out


def problems(metadata: MetaData = schema, data_map: DataMap = DATA_MAP) -> list[str]:
    """Everything wrong between the schema and the map; empty when they agree."""
    return (
        [f"{c}: no data-map entry (add a ColumnRule or NotPersonal to caratzon_adapters.sql.datamap)"
         for c in missing_entries(metadata, data_map)]
        + [f"{c}: mapped but not in the schema" for c in unknown_entries(metadata, data_map)]
        + masking_problems(metadata, data_map)
    )


# -- the document ------------------------------------------------------------------

_INTRO = """\
# The data map

Generated from `caratzon_adapters.sql.datamap` by `data_map_markdown()`; do not edit by
hand (`python -m caratzon_adapters.sql.datamap > docs/data-map.md`).
`tests/unit/test_docs.py` checks that this file is what the map says, and
`tests/unit/test_datamap.py` that every column of every table has an entry.

Every column of every table carries either a **category** of personal data, the
**retention** rule of the privacy policy's section 8 that governs it and the **masking**
erasure applies to it, or an explicit *not personal* with the reason. Export, erasure and
retention read this map instead of listing tables by hand.

A column is *not personal* when it tells nothing about a person by itself: surrogate keys
and links to a parent row, positions, kinds and workflow states of records, retry and lock
machinery, hashes and signatures, counters and aggregates, and every column of tables that
hold nobody's data. Everything else in a row about or by a person is personal — its dates,
amounts and references to other records included. A person's user id, wherever it is
stored, is `user.identifier`: that is how export finds a person and erasure replaces them.

**Erasure** (an erasure request, or the purge of a closed account 12 months on) applies each
column's masking to the person's data: for a `user.identifier` column, the person it names;
for any other column, the person the row belongs to. **Expiry** — when a column's retention
period runs out — disposes of the row as the rule says. A retention rule admits only the
maskings that agree with it, and the map cannot be built otherwise.
"""


def data_map_markdown(data_map: DataMap = DATA_MAP) -> str:
    """docs/data-map.md, generated."""
    parts = [
        _INTRO,
        "## Categories\n\n" + dm.categories_markdown(),
        "## Retention rules\n\n" + dm.retention_markdown(),
        "## Maskings\n\n" + dm.masking_markdown(),
        "## Tables\n",
    ]
    parts += [dm.table_markdown(table, columns) for table, columns in data_map.tables.items()]
    return "\n".join(parts)


if __name__ == "__main__":
    print(data_map_markdown(), end="")
