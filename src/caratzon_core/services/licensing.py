"""Licensing use cases (issue #4): licence options, negotiations, agreements.

Every step is one transaction: the negotiation row (locked), the new offer or
status, the agreement, the event message in the negotiation's thread, the
notices in the outbox and the audit entry commit together or not at all.

Acceptance holds the design's lock while it reads the design's active
agreements, so two acceptances racing for overlapping exclusive rights end with
exactly one agreement; the database also refuses a second agreement for the same
negotiation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from attrs import frozen

from caratzon_core.access import Action, Actor, Resource, decide
from caratzon_core.accounts import User
from caratzon_core.agreements import Agreement, conclude
from caratzon_core.audit import AuditRecord, Outcome
from caratzon_core.designs import Design, DesignStatus
from caratzon_core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from caratzon_core.licence_options import (
    LicenceOption,
    OptionStatus,
    check_option_name,
    check_room,
    retire,
    terms_for_opening,
)
from caratzon_core.licensing import LicenceTerms, conflicts, parse_terms, terms_to_json_object
from caratzon_core.messaging import Message, MessageKind, Thread, ThreadKind, clean_body
from caratzon_core.negotiation import (
    Negotiation,
    Offer,
    Party,
    accept,
    counter,
    expire,
    open_negotiation,
    reject,
    withdraw,
)
from caratzon_core.notices import NoticeKind, per_piece
from caratzon_core.ports import UnitOfWork
from caratzon_core.services.audit import AuditTrail
from caratzon_core.services.deps import Client, Deps
from caratzon_core.services.outboxing import enqueue, post_event


def fee_summary(terms: LicenceTerms, language: str = "en") -> str:
    """The fee as people say it: "USD 1,500.00 + USD 4.00 per piece" (in their language)."""
    parts = []
    if terms.fees.flat is not None:
        parts.append(terms.fees.flat.format())
    if terms.fees.royalty_per_unit is not None:
        parts.append(f"{terms.fees.royalty_per_unit.format()} {per_piece(language)}")
    return " + ".join(parts)


def merge_terms(base: LicenceTerms, changes: Mapping[str, object] | None, *, today: date,
                field: str = "proposed_terms") -> LicenceTerms:
    """``base`` with the top-level fields in ``changes`` replaced (a new fee, another
    territory…), parsed and checked as a whole; every problem is reported at once.
    A base term that has already begun moves to today unless the change names a term."""
    raw = terms_to_json_object(base)
    if base.term.start < today:
        raw["term"] = {"start": today.isoformat(), "months": base.term.months}
    if changes is not None:
        if not isinstance(changes, Mapping):
            raise ValidationFailed("Proposed terms are an object of licence fields.", field=field)
        raw.update({str(k): v for k, v in changes.items()})
    return parse_terms(raw, today=today)


@frozen
class NegotiationView:
    negotiation: Negotiation
    design: Design
    option: LicenceOption | None
    buyer_name: str
    designer_name: str
    thread_id: str | None
    agreement_id: str | None
    my_party: Party | None  # None for an admin looking on
    can_answer: bool  # it is this person's turn and the latest offer is still open


@frozen
class NegotiationSummary:
    negotiation: Negotiation
    design_title: str
    counterparty_name: str
    my_party: Party
    my_turn: bool


@frozen
class AgreementView:
    agreement: Agreement
    design_title: str
    buyer_name: str
    buyer_business: str | None
    designer_name: str
    designer_business: str | None


@frozen
class SweepResult:
    expired: int
    warned: int


class LicensingService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps
        self._trail = AuditTrail(deps.clock, deps.signer)

    # -- helpers ---------------------------------------------------------------------

    def _audit(self, uow: UnitOfWork, actor_id: str, action: str, subject: str, client: Client,
               detail: Mapping[str, str] | None = None, outcome: str = Outcome.SUCCESS) -> None:
        self._trail.record(uow, AuditRecord(actor_id, action, subject, outcome, client.address, dict(detail or {})))

    def _deny(self, actor: Actor, action: Action, resource: Resource, client: Client) -> None:
        decision = decide(actor, action, resource)
        if decision.allowed:
            return
        with self._d.uow() as uow:
            self._audit(uow, actor.id, str(action), f"{resource.kind}:{resource.id or '-'}", client,
                        {"reason": decision.reason}, Outcome.DENIED)
            uow.commit()
        raise Forbidden(decision.reason)

    @staticmethod
    def _neg_resource(neg: Negotiation) -> Resource:
        return Resource("negotiation", neg.id, neg.designer_id, grantees=frozenset({neg.buyer_id}))

    def _today(self) -> date:
        return self._d.clock.now().date()

    def _url(self, path: str) -> str:
        return self._d.settings.base_url.rstrip("/") + path

    def _notice_values(self, neg: Negotiation, design: Design, counterparty: User | None,
                       offer: Offer, reader: User | None = None) -> dict[str, str]:
        return {
            "counterparty": counterparty.name if counterparty else "The other party",
            "design_title": design.title,
            "amount": fee_summary(offer.terms, reader.language.value if reader else "en"),
            "url": self._url(f"/negotiations/{neg.id}"),
        }

    def _party_users(self, uow: UnitOfWork, neg: Negotiation) -> dict[Party, User | None]:
        return {Party.BUYER: uow.users.get(neg.buyer_id), Party.DESIGNER: uow.users.get(neg.designer_id)}

    def _thread_id(self, uow: UnitOfWork, neg: Negotiation) -> str | None:
        thread = uow.threads.for_subject(ThreadKind.NEGOTIATION, neg.id)
        return thread.id if thread else None

    def _offer_event(self, offer: Offer) -> dict[str, str]:
        return {"offer_id": offer.id, "by": offer.by.value, "fees": fee_summary(offer.terms),
                "expires_at": offer.expires_at.isoformat()}

    # -- licence options ---------------------------------------------------------------

    def add_option(self, actor: Actor, design_id: str, name: str, terms: Mapping[str, object],
                   client: Client = Client()) -> LicenceOption:
        """A licensing selection with its list price. Refused when it would overlap an
        active exclusive licence (the designer's own further licensing included)."""
        with self._d.uow() as uow:
            design = uow.designs.get(design_id)
        if design is None or design.status is DesignStatus.REMOVED:
            raise NotFound("No such design.")
        self._deny(actor, Action.LICENCE_OPTION_EDIT, Resource("design", design.id, design.designer_id), client)
        problems: list[ValidationFailed] = []
        clean_name = parsed = None
        try:
            clean_name = check_option_name(name)
        except ValidationFailed as err:
            problems.append(err)
        try:
            if not isinstance(terms, Mapping):
                raise ValidationFailed("Licence terms are an object of licence fields.", field="terms")
            parsed = parse_terms(terms, today=self._today())
        except ValidationFailed as err:
            problems.append(err)
        if problems or clean_name is None or parsed is None:
            raise ValidationFailed.collect(problems)
        now = self._d.clock.now()
        option = LicenceOption(id=self._d.ids.new_id(), design_id=design.id, designer_id=design.designer_id,
                               name=clean_name, terms=parsed, status=OptionStatus.ACTIVE, created_at=now)
        with self._d.uow() as uow:
            check_room(len(uow.licence_options.list_for_design(design.id)))
            reason = conflicts(parsed, [a.terms for a in uow.agreements.active_for_design(design.id)])
            if reason:
                raise Conflict(reason, field="exclusivity")
            uow.licence_options.add(option)
            self._audit(uow, actor.id, "licence_option.add", f"licence_option:{option.id}", client,
                        {"design": design.id, "fees": fee_summary(parsed), "exclusivity": parsed.exclusivity.value})
            uow.commit()
        return option

    def retire_option(self, actor: Actor, option_id: str, client: Client = Client()) -> LicenceOption:
        """No new negotiations from it; open negotiations and agreements keep their terms."""
        with self._d.uow() as uow:
            option = uow.licence_options.get(option_id)
        if option is None:
            raise NotFound("No such licence option.")
        self._deny(actor, Action.LICENCE_OPTION_EDIT, Resource("design", option.design_id, option.designer_id),
                   client)
        retired = retire(option, self._d.clock.now())
        if retired is option:
            return option
        with self._d.uow() as uow:
            uow.licence_options.update(retired)
            self._audit(uow, actor.id, "licence_option.retire", f"licence_option:{option.id}", client,
                        {"design": option.design_id})
            uow.commit()
        return retired

    def options(self, actor: Actor, design_id: str, *, include_retired: bool = False) -> list[LicenceOption]:
        """The options on a design the actor may see (published designs: everyone signed in)."""
        with self._d.uow() as uow:
            design = uow.designs.get(design_id)
            if design is None or design.status is DesignStatus.REMOVED:
                raise NotFound("No such design.")
            resource = Resource("design", design.id, design.designer_id,
                                public=design.status is DesignStatus.PUBLISHED)
            if not decide(actor, Action.DESIGN_VIEW, resource).allowed:
                raise NotFound("No such design.")
            owner = actor.id == design.designer_id
            return uow.licence_options.list_for_design(design_id, include_retired=include_retired and owner)

    # -- negotiations --------------------------------------------------------------------

    def open(self, actor: Actor, option_id: str, proposed_terms: Mapping[str, object] | None = None,
             note: str | None = None, client: Client = Client()) -> Negotiation:
        """The buyer's first offer: the option's terms, or the option with changes."""
        with self._d.uow() as uow:
            option = uow.licence_options.get(str(option_id or ""))
            design = uow.designs.get(option.design_id) if option else None
        if option is None or design is None or design.status is DesignStatus.REMOVED:
            raise NotFound("No such licence option.", field="option_id")
        self._deny(actor, Action.NEGOTIATION_OPEN,
                   Resource("design", design.id, design.designer_id, public=design.status is DesignStatus.PUBLISHED),
                   client)
        if not option.active:
            raise Conflict("This licence option was retired by the designer; pick another.", field="option_id")
        if design.status is not DesignStatus.PUBLISHED:
            raise Conflict("This design is not published, so its licences cannot be negotiated.", field="option_id")
        today = self._today()
        base = terms_for_opening(option, today)
        terms = merge_terms(base, proposed_terms, today=today) if proposed_terms else base
        text = clean_body(note, allow_empty=True, field="note") if note else ""
        now = self._d.clock.now()
        neg_id = self._d.ids.new_id()
        neg, made = open_negotiation(negotiation_id=neg_id, design_id=design.id, option_id=option.id,
                                     buyer_id=actor.id, designer_id=design.designer_id, terms=terms, now=now,
                                     ttl=self._d.settings.offer_ttl, offer_id=self._d.ids.new_id())
        with self._d.uow() as uow:
            reason = conflicts(terms, [a.terms for a in uow.agreements.active_for_design(design.id)])
            if reason:
                raise Conflict(reason, field="exclusivity")
            buyer = uow.users.get(actor.id)
            uow.negotiations.add(neg)
            thread = Thread(id=self._d.ids.new_id(), kind=ThreadKind.NEGOTIATION, title=f"Licence: {design.title}",
                            created_by=actor.id, created_at=now, participants=frozenset({actor.id, design.designer_id}),
                            subject_id=neg.id)
            uow.threads.add(thread)
            post_event(uow, self._d.ids, thread_id=thread.id, event="offer.made", data=self._offer_event(made.offer),
                       now=now)
            if text and buyer is not None:
                # A microsecond after the offer event, so the thread always reads offer, then note.
                uow.threads.add_message(Message(id=self._d.ids.new_id(), thread_id=thread.id, author_id=actor.id,
                                                kind=MessageKind.TEXT, body=text, language=buyer.language.value,
                                                created_at=now + timedelta(microseconds=1)))
            designer = uow.users.get(design.designer_id)
            if designer is not None:
                enqueue(uow, self._d.ids, dedupe_key=f"offer:{made.offer.id}:{designer.id}",
                        kind=NoticeKind.OFFER_RECEIVED, to=designer,
                        values=self._notice_values(neg, design, buyer, made.offer, designer), now=now)
            self._audit(uow, actor.id, "negotiation.open", f"negotiation:{neg.id}", client,
                        {"design": design.id, "option": option.id, "offer": made.offer.id,
                         "fees": fee_summary(terms)})
            uow.commit()
        return neg

    def _load_for_act(self, actor: Actor, negotiation_id: str, client: Client) -> Negotiation:
        with self._d.uow() as uow:
            neg = uow.negotiations.get(negotiation_id)
        if neg is None:
            raise NotFound("No such negotiation.")
        self._deny(actor, Action.NEGOTIATION_ACT, self._neg_resource(neg), client)
        return neg

    def offer(self, actor: Actor, negotiation_id: str, changes: Mapping[str, object] | None,
              client: Client = Client()) -> Negotiation:
        """A counter-offer: the latest offer with the fields in ``changes`` replaced."""
        self._load_for_act(actor, negotiation_id, client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            neg = uow.negotiations.get_for_update(negotiation_id)
            assert neg is not None
            terms = merge_terms(neg.latest.terms, changes or {}, today=now.date(), field="terms")
            if terms == neg.latest.terms and neg.party_of(actor.id) is not neg.latest.by:
                raise ValidationFailed("A counter-offer must change something; to agree, accept the offer.",
                                       field="terms")
            updated, made = counter(neg, actor.id, terms, now, self._d.settings.offer_ttl,
                                    offer_id=self._d.ids.new_id())
            reason = conflicts(terms, [a.terms for a in uow.agreements.active_for_design(neg.design_id)])
            if reason:
                raise Conflict(reason, field="exclusivity")
            uow.negotiations.update(updated)
            design = uow.designs.get(neg.design_id)
            users = self._party_users(uow, neg)
            thread_id = self._thread_id(uow, neg)
            if thread_id:
                post_event(uow, self._d.ids, thread_id=thread_id, event="offer.made",
                           data=self._offer_event(made.offer), now=now)
            recipient = users[made.offer.by.other]
            if recipient is not None and design is not None:
                enqueue(uow, self._d.ids, dedupe_key=f"offer:{made.offer.id}:{recipient.id}",
                        kind=NoticeKind.OFFER_COUNTERED, to=recipient,
                        values=self._notice_values(neg, design, users[made.offer.by], made.offer, recipient),
                        now=now)
            self._audit(uow, actor.id, "negotiation.offer", f"negotiation:{neg.id}", client,
                        {"offer": made.offer.id, "fees": fee_summary(terms)})
            uow.commit()
        return updated

    def accept(self, actor: Actor, negotiation_id: str, offer_id: str | None = None,
               client: Client = Client()) -> tuple[Negotiation, Agreement]:
        """Accept the counterparty's latest offer; the agreement is created in the same
        transaction, under the design's lock (exclusivity)."""
        self._load_for_act(actor, negotiation_id, client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            neg = uow.negotiations.get_for_update(negotiation_id)
            assert neg is not None
            updated, accepted = accept(neg, actor.id, offer_id or neg.latest.id, now)
            uow.agreements.lock_design(neg.design_id)
            agreement = conclude(accepted, agreement_id=self._d.ids.new_id(),
                                 active=uow.agreements.active_for_design(neg.design_id), now=now)
            uow.agreements.add(agreement)
            uow.negotiations.update(updated)
            design = uow.designs.get(neg.design_id)
            users = self._party_users(uow, neg)
            thread_id = self._thread_id(uow, neg)
            if thread_id:
                post_event(uow, self._d.ids, thread_id=thread_id, event="offer.accepted",
                           data={"offer_id": accepted.offer_id, "by": accepted.accepted_by.value,
                                 "fees": fee_summary(accepted.terms), "agreement_id": agreement.id,
                                 "terms_hash": agreement.terms_hash}, now=now)
            if design is not None:
                for party in Party:
                    user = users[party]
                    if user is not None:
                        values = self._notice_values(neg, design, users[party.other], neg.latest, user)
                        values["url"] = self._url(f"/agreements/{agreement.id}")
                        # The one who made the offer hears it was accepted; the one who accepted
                        # gets the confirmation that the agreement is in force.
                        kind = (NoticeKind.AGREEMENT_CONCLUDED if party is accepted.accepted_by
                                else NoticeKind.OFFER_ACCEPTED)
                        enqueue(uow, self._d.ids, dedupe_key=f"accepted:{neg.id}:{user.id}",
                                kind=kind, to=user, values=values, now=now)
            self._audit(uow, actor.id, "negotiation.accept", f"negotiation:{neg.id}", client,
                        {"offer": accepted.offer_id, "agreement": agreement.id, "terms_hash": agreement.terms_hash})
            self._audit(uow, actor.id, "agreement.create", f"agreement:{agreement.id}", client,
                        {"design": agreement.design_id, "terms_hash": agreement.terms_hash,
                         "exclusivity": agreement.terms.exclusivity.value})
            uow.commit()
        return updated, agreement

    def reject(self, actor: Actor, negotiation_id: str, client: Client = Client()) -> Negotiation:
        return self._close(actor, negotiation_id, "reject", client)

    def withdraw(self, actor: Actor, negotiation_id: str, client: Client = Client()) -> Negotiation:
        return self._close(actor, negotiation_id, "withdraw", client)

    def _close(self, actor: Actor, negotiation_id: str, how: str, client: Client) -> Negotiation:
        self._load_for_act(actor, negotiation_id, client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            neg = uow.negotiations.get_for_update(negotiation_id)
            assert neg is not None
            if how == "reject":
                closed, rejected = reject(neg, actor.id, now)
                party, kind, event = rejected.by, NoticeKind.OFFER_REJECTED, "negotiation.rejected"
            else:
                closed, withdrawn = withdraw(neg, actor.id, now)
                party, kind, event = withdrawn.by, NoticeKind.NEGOTIATION_WITHDRAWN, "negotiation.withdrawn"
            uow.negotiations.update(closed)
            design = uow.designs.get(neg.design_id)
            users = self._party_users(uow, neg)
            thread_id = self._thread_id(uow, neg)
            if thread_id:
                post_event(uow, self._d.ids, thread_id=thread_id, event=event,
                           data={"by": party.value, "offer_id": neg.latest.id}, now=now)
            recipient = users[party.other]
            if recipient is not None and design is not None:
                enqueue(uow, self._d.ids, dedupe_key=f"{event}:{neg.id}:{recipient.id}", kind=kind, to=recipient,
                        values=self._notice_values(neg, design, users[party], neg.latest, recipient), now=now)
            self._audit(uow, actor.id, f"negotiation.{how}", f"negotiation:{neg.id}", client,
                        {"offer": neg.latest.id})
            uow.commit()
        return closed

    # -- reading -------------------------------------------------------------------------

    def negotiation(self, actor: Actor, negotiation_id: str, client: Client = Client()) -> NegotiationView:
        with self._d.uow() as uow:
            neg = uow.negotiations.get(negotiation_id)
        if neg is None:
            raise NotFound("No such negotiation.")
        self._deny(actor, Action.NEGOTIATION_VIEW, self._neg_resource(neg), client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            design = uow.designs.get(neg.design_id)
            option = uow.licence_options.get(neg.option_id)
            users = self._party_users(uow, neg)
            thread_id = self._thread_id(uow, neg)
            agreement = uow.agreements.for_negotiation(neg.id)
        if design is None:
            raise NotFound("No such negotiation.")
        party = neg.party_of(actor.id)
        can_answer = (party is not None and neg.is_open and neg.whose_turn() is party
                      and not neg.latest.expired(now))
        buyer, designer = users[Party.BUYER], users[Party.DESIGNER]
        return NegotiationView(neg, design, option, buyer.name if buyer else "", designer.name if designer else "",
                               thread_id, agreement.id if agreement else None, party, can_answer)

    def my_negotiations(self, actor: Actor) -> list[NegotiationSummary]:
        now = self._d.clock.now()
        out: list[NegotiationSummary] = []
        with self._d.uow() as uow:
            for neg in uow.negotiations.list_for_user(actor.id):
                party = neg.party_of(actor.id)
                if party is None:
                    continue
                design = uow.designs.get(neg.design_id)
                other = uow.users.get(neg.designer_id if party is Party.BUYER else neg.buyer_id)
                my_turn = neg.is_open and neg.whose_turn() is party and not neg.latest.expired(now)
                out.append(NegotiationSummary(neg, design.title if design else "", other.name if other else "",
                                              party, my_turn))
        return out

    def agreement(self, actor: Actor, agreement_id: str, client: Client = Client()) -> AgreementView:
        with self._d.uow() as uow:
            agreement = uow.agreements.get(agreement_id)
        if agreement is None:
            raise NotFound("No such agreement.")
        self._deny(actor, Action.AGREEMENT_VIEW, Resource("agreement", agreement.id, agreement.designer_id,
                                                         grantees=frozenset({agreement.buyer_id})), client)
        with self._d.uow() as uow:
            design = uow.designs.get(agreement.design_id)
            buyer = uow.users.get(agreement.buyer_id)
            designer = uow.users.get(agreement.designer_id)
        return AgreementView(agreement, design.title if design else "", buyer.name if buyer else "",
                             buyer.business_name if buyer else None, designer.name if designer else "",
                             designer.business_name if designer else None)

    def my_agreements(self, actor: Actor) -> list[AgreementView]:
        with self._d.uow() as uow:
            agreements = uow.agreements.list_for_user(actor.id)
            designs = {a.design_id: uow.designs.get(a.design_id) for a in agreements}
            people = {uid: uow.users.get(uid) for a in agreements for uid in (a.buyer_id, a.designer_id)}
        out = []
        for a in agreements:
            design, buyer, designer = designs[a.design_id], people[a.buyer_id], people[a.designer_id]
            out.append(AgreementView(a, design.title if design else "", buyer.name if buyer else "",
                                     buyer.business_name if buyer else None, designer.name if designer else "",
                                     designer.business_name if designer else None))
        return out

    def licences_in_force(self, design_id: str, day: date) -> list[Agreement]:
        """Active licences on the design on ``day`` (for orders and retention)."""
        with self._d.uow() as uow:
            return uow.agreements.in_force(design_id, day)

    # -- the sweeper -----------------------------------------------------------------------

    def sweep(self, actor: Actor, client: Client = Client(), *, limit: int = 500) -> SweepResult:
        """Close negotiations whose latest offer lapsed and warn whoever must answer an
        offer that lapses within 24 hours (once per offer). Safe to run any time, by
        several workers at once: each negotiation is locked and re-checked."""
        self._deny(actor, Action.WORKER_RUN, Resource("negotiations"), client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            due = uow.negotiations.open_expired(now, limit=limit)
        expired = 0
        for neg_id in due:
            with self._d.uow() as uow:
                neg = uow.negotiations.get_for_update(neg_id)
                if neg is None or not neg.is_open or not neg.latest.expired(now):
                    continue  # another worker got there first
                closed, event = expire(neg, now)
                uow.negotiations.update(closed)
                design = uow.designs.get(neg.design_id)
                users = self._party_users(uow, neg)
                thread_id = self._thread_id(uow, neg)
                if thread_id:
                    post_event(uow, self._d.ids, thread_id=thread_id, event="negotiation.expired",
                               data={"offer_id": event.offer_id, "expired_at": event.at.isoformat()}, now=now)
                for party in Party:
                    user = users[party]
                    if user is not None and design is not None:
                        enqueue(uow, self._d.ids, dedupe_key=f"expired:{neg.id}:{user.id}",
                                kind=NoticeKind.NEGOTIATION_EXPIRED, to=user,
                                values=self._notice_values(neg, design, users[party.other], neg.latest, user),
                                now=now)
                self._audit(uow, actor.id, "negotiation.expire", f"negotiation:{neg.id}", client,
                            {"offer": event.offer_id})
                uow.commit()
                expired += 1
        warned = 0
        with self._d.uow() as uow:
            for neg in uow.negotiations.open_expiring(now, now + self._d.settings.expiry_warning, limit=limit):
                if neg.latest.expires_at - neg.latest.made_at <= self._d.settings.expiry_warning:
                    continue  # an offer that lives a day or less: a warning at once would be noise
                turn = neg.whose_turn()
                design = uow.designs.get(neg.design_id)
                users = self._party_users(uow, neg)
                recipient = users[turn] if turn else None
                if recipient is None or design is None or turn is None:
                    continue
                values = self._notice_values(neg, design, users[turn.other], neg.latest, recipient)
                values["expires_at"] = neg.latest.expires_at.strftime("%Y-%m-%d %H:%M UTC")
                if enqueue(uow, self._d.ids, dedupe_key=f"expiring:{neg.latest.id}:{recipient.id}",
                           kind=NoticeKind.OFFER_EXPIRING, to=recipient, values=values, now=now):
                    warned += 1
            uow.commit()
        return SweepResult(expired, warned)
