"""Data-subject requests (issue #6, part 1: policy §9, P35-P42) and reported minors
(part 7: §12, P45).

* A person opens a request about their own data (Privacy Center or API). A second
  open request of the same type is merged into the first (noted, never duplicated);
  the database refuses a duplicate even when two requests race.
* An admin opens one on someone's behalf only after that person proves control of
  the account's email: :meth:`RequestService.send_code` mails a one-time code (6
  digits, 15 minutes, 5 tries, stored as a keyed digest) and
  :meth:`RequestService.open_verified` opens the request with it.
* Restriction, objection and withdrawal of consent take effect at once and the
  request is completed with the effect noted (P38, P40, P41). Access, portability,
  erasure and rectification wait in the admins' queue, due 30 days after receipt
  (P42). Completing an access or portability request makes the export and mails
  its signed 24-hour link; completing an erasure request erases the person in the
  same transaction (:mod:`caratzon_core.services.erasure`) — or, when a legal hold
  or an open order stands, leaves the request open with the reasons noted.
* Admins take, complete or refuse (with a reason) requests; the person is told by
  mail when a request is completed or refused. Every step is audited, with ids
  only: the text of a request stays on the request.
* An account reported as a minor's is restricted at once and an urgent erasure
  request is queued for it (P45).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TypeVar

import attrs
from attrs import frozen

from caratzon_core.access import Action, Actor, Resource, decide
from caratzon_core.accounts import Role, User, UserStatus, normalize_email
from caratzon_core.audit import AuditRecord, Outcome, truncate_address
from caratzon_core.consent import COOKIE_NOTICE_VERSION, MAX_USER_AGENT, ConsentRecord
from caratzon_core.errors import Conflict, Forbidden, NotFound, Throttled, ValidationFailed
from caratzon_core.notices import Notice, NoticeKind
from caratzon_core.outbox import OutboxMessage
from caratzon_core.ports import UnitOfWork
from caratzon_core.requests import (
    CODES_PER_HOUR,
    IMMEDIATE,
    PENDING_AUTOMATION,
    PLATFORM,
    DataRequest,
    Origin,
    RequestStatus,
    RequestType,
    VerificationCode,
    add_note,
    check_code,
    clean_details,
    clean_reason,
    code_purpose,
    complete,
    merge,
    new_code,
    normalize_code,
    open_request,
    parse_type,
    refuse,
    request_ref,
    take,
    tries_left,
    type_label,
)
from caratzon_core.services.audit import AuditTrail
from caratzon_core.services.deps import Client, Deps
from caratzon_core.services.erasure import ErasureRefused, ErasureService
from caratzon_core.services.export import ExportService

T = TypeVar("T")

CODE_WINDOW = timedelta(hours=1)


@frozen
class Opened:
    """What opening gave: the request (new, merged into, or already completed with
    its effect) and whether it was merged into one that was open already."""

    request: DataRequest
    merged: bool


@frozen
class CodeSent:
    user_id: str
    email: str
    type: RequestType
    expires_at: datetime


@frozen
class RequestView:
    """A request as the admins' queue shows it."""

    request: DataRequest
    ref: str
    email: str
    name: str
    overdue: bool
    days_left: int


class RequestService:
    def __init__(self, deps: Deps, *, erasure: ErasureService | None = None,
                 exporter: ExportService | None = None) -> None:
        self._d = deps
        self._trail = AuditTrail(deps.clock, deps.signer)
        self._erasure = erasure
        self._exporter = exporter

    # -- helpers -----------------------------------------------------------------------

    def _audit(self, uow: UnitOfWork, actor_id: str, action: str, subject: str, client: Client,
               detail: Mapping[str, str] | None = None, outcome: str = Outcome.SUCCESS) -> None:
        self._trail.record(uow, AuditRecord(actor_id, action, subject, outcome, client.address, dict(detail or {})))

    def _audit_alone(self, actor_id: str, action: str, subject: str, client: Client,
                     detail: Mapping[str, str], outcome: str) -> None:
        with self._d.uow() as uow:
            self._audit(uow, actor_id, action, subject, client, detail, outcome)
            uow.commit()

    def _deny(self, actor: Actor, action: Action, resource: Resource, client: Client) -> None:
        decision = decide(actor, action, resource)
        if decision.allowed:
            return
        self._audit_alone(actor.id, str(action), f"{resource.kind}:{resource.id or '-'}", client,
                          {"reason": decision.reason}, Outcome.DENIED)
        raise Forbidden(decision.reason)

    def _url(self, path: str) -> str:
        return self._d.settings.base_url.rstrip("/") + path

    def _notify(self, uow: UnitOfWork, user: User, kind: NoticeKind, values: Mapping[str, str], key: str,
                now: datetime) -> None:
        """A mail to the person about their own request. Unlike other notices it also
        reaches a closed account: the answer to a request is owed all the same."""
        notice = Notice(kind, user.email, user.language.value, {"name": user.name, **values})
        uow.outbox.add(OutboxMessage(id=self._d.ids.new_id(), dedupe_key=key, notice=notice, created_at=now))

    def _tell_outcome(self, uow: UnitOfWork, req: DataRequest, now: datetime) -> None:
        user = uow.users.get(req.user_id)
        if user is None or req.outcome is None:
            return
        language = user.language.value
        values = {"request_type": type_label(req.type, language), "reference": request_ref(req.id),
                  "url": self._url("/privacy")}
        if req.status is RequestStatus.COMPLETED:
            self._notify(uow, user, NoticeKind.REQUEST_COMPLETED, {**values, "outcome": req.outcome},
                         f"request:{req.id}:completed", now)
        elif req.status is RequestStatus.REFUSED:
            self._notify(uow, user, NoticeKind.REQUEST_REFUSED, {**values, "reason": req.outcome},
                         f"request:{req.id}:refused", now)

    def _retrying(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (one transaction) again once if it lost a race for the one open
        request of a type: the second run sees the winner and merges into it."""
        try:
            return fn()
        except Conflict as exc:
            if exc.field != "type":
                raise
        return fn()

    def _user_by_email(self, email: str) -> User:
        address = normalize_email(email)
        with self._d.uow() as uow:
            user = uow.users.get_by_email(address)
        if user is None:
            raise NotFound(f"No account with the email {address}.", field="email")
        return user

    # -- opening -------------------------------------------------------------------------

    def open(self, actor: Actor, kind: object, *, details: object = "", user_id: str | None = None,
             client: Client = Client()) -> Opened:
        """The person's own request (``user_id``, when given, must be their own: nobody
        asks about someone else's data here, admins included)."""
        target = actor.id if user_id is None else str(user_id)
        if target != actor.id:
            if actor.role is Role.ADMIN:
                reason = ("An admin opens a request for someone else only after that person proves control of "
                          "their email: send them a code (`caratzon dsr open EMAIL --type T`).")
                self._audit_alone(actor.id, str(Action.DSR_OPEN), f"user:{target}", client, {"reason": reason},
                                  Outcome.DENIED)
                raise Forbidden(reason)
            self._deny(actor, Action.DSR_OPEN, Resource("account", target, target), client)
        self._deny(actor, Action.DSR_OPEN, Resource("account", actor.id, actor.id), client)
        request_type = parse_type(kind)
        text = clean_details(details)

        def run() -> Opened:
            with self._d.uow() as uow:
                user = uow.users.get(actor.id)
                if user is None:
                    raise NotFound("No such account.")
                opened = self._open_in(uow, user, request_type, Origin.SELF, actor.id, text, client)
                uow.commit()
                return opened

        return self._retrying(run)

    def send_code(self, actor: Actor, email: str, kind: object, client: Client = Client()) -> CodeSent:
        """Step one of an admin opening a request on someone's behalf: mail the account
        a one-time code. Nobody but the mailbox's owner ever sees the code."""
        request_type = parse_type(kind)
        user = self._user_by_email(email)
        self._deny(actor, Action.DSR_OPEN, Resource("account", user.id, user.id), client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            # Codes sent within the last hour (one sent exactly an hour ago no longer counts).
            sent = uow.verification_codes.sent_since(user.id, now - CODE_WINDOW + timedelta(microseconds=1))
            if len(sent) >= CODES_PER_HOUR:
                retry_at = sent[-CODES_PER_HOUR] + CODE_WINDOW
                raise Throttled(f"{CODES_PER_HOUR} codes were sent to this account within the hour; try again after "
                                f"{retry_at:%H:%M} UTC.", retry_at=retry_at)
            latest = uow.verification_codes.latest(user.id, code_purpose(request_type))
            at = now if latest is None or latest.created_at < now else latest.created_at + timedelta(microseconds=1)
            record, code = new_code(code_id=self._d.ids.new_id(), user_id=user.id, kind=request_type,
                                    requested_by=actor.id, now=at, secret=self._d.ids.new_secret(),
                                    sign=self._d.signer.sign)
            uow.verification_codes.add(record)
            self._notify(uow, user, NoticeKind.REQUEST_CODE,
                         {"code": code, "request_type": type_label(request_type, user.language.value),
                          "url": self._url("/privacy")}, f"request-code:{record.id}", now)
            self._audit(uow, actor.id, "dsr.code_sent", f"user:{user.id}", client,
                        {"type": request_type.value, "code_id": record.id})
            uow.commit()
        return CodeSent(user.id, user.email, request_type, record.expires_at)

    def open_verified(self, actor: Actor, email: str, kind: object, code: object, *, details: object = "",
                      client: Client = Client()) -> Opened:
        """Step two: the code the person read out opens the request (once). A wrong code
        counts as one of its 5 tries, stored even though nothing opens."""
        request_type = parse_type(kind)
        user = self._user_by_email(email)
        self._deny(actor, Action.DSR_OPEN, Resource("account", user.id, user.id), client)
        given = normalize_code(code)
        text = clean_details(details)
        purpose = code_purpose(request_type)
        subject = f"user:{user.id}"

        def run() -> Opened:
            now = self._d.clock.now()
            with self._d.uow() as uow:
                latest = uow.verification_codes.latest(user.id, purpose)
                unusable: ValidationFailed | None = None
                try:
                    checked, ok = check_code(latest, given, now=now, matches=self._d.signer.verify)
                except ValidationFailed as exc:
                    unusable = exc
                if unusable is None:
                    return self._open_with_code(uow, actor, user, request_type, checked, ok, text, client)
            # Audited after the transaction above ended (on SQLite it holds the write lock).
            self._audit_alone(actor.id, "dsr.code_check", subject, client,
                              {"type": request_type.value, "problem": unusable.message}, Outcome.FAILURE)
            raise unusable

        return self._retrying(run)

    def _open_with_code(self, uow: UnitOfWork, actor: Actor, user: User, request_type: RequestType,
                        checked: VerificationCode, ok: bool, text: str, client: Client) -> Opened:
        """Inside the caller's transaction: store the try; a wrong code commits just
        that (and its audit entry) and says how many tries are left."""
        uow.verification_codes.update(checked)
        if not ok:
            self._audit(uow, actor.id, "dsr.code_check", f"user:{user.id}", client,
                        {"type": request_type.value, "code_id": checked.id, "problem": "wrong code"}, Outcome.FAILURE)
            uow.commit()
            left = tries_left(checked)
            raise ValidationFailed(
                f"The code is not correct; {left} {'try' if left == 1 else 'tries'} left." if left
                else "The code is not correct, and that was the last try: send a new one.", field="code")
        person = uow.users.get(user.id)
        if person is None:
            raise NotFound("No such account.")
        opened = self._open_in(uow, person, request_type, Origin.VERIFIED, actor.id, text, client,
                               code_id=checked.id)
        uow.commit()
        return opened

    def _open_in(self, uow: UnitOfWork, user: User, kind: RequestType, origin: Origin, by: str, details: str,
                 client: Client, *, code_id: str | None = None, urgent: bool = False) -> Opened:
        """Open (or merge into the open one) inside the caller's transaction; the
        immediate rights take effect and complete here too."""
        now = self._d.clock.now()
        existing = uow.data_requests.open_of_type(user.id, kind)
        if existing is not None:
            merged, _ = merge(existing, by=by, now=now, details=details, urgent=urgent)
            uow.data_requests.update(merged)
            self._audit(uow, by, "dsr.merge", f"data_request:{merged.id}", client,
                        {"type": kind.value, "user": user.id, "origin": origin.value})
            return Opened(merged, True)
        req, _ = open_request(request_id=self._d.ids.new_id(), user_id=user.id, type=kind, origin=origin,
                              opened_by=by, now=now, details=details, urgent=urgent)
        detail = {"type": kind.value, "user": user.id, "origin": origin.value}
        if code_id is not None:
            detail["code_id"] = code_id
        if kind in IMMEDIATE and origin in (Origin.SELF, Origin.VERIFIED):
            # Carried out now: stored already completed, so it never holds the open slot
            # (and never waits for it).
            self._audit(uow, by, "dsr.open", f"data_request:{req.id}", client, detail)
            req, _ = take(req, by=PLATFORM, now=now)
            self._audit(uow, PLATFORM, "dsr.take", f"data_request:{req.id}", client, {"type": kind.value})
            effect = self._apply(uow, user, kind, req, client, now)
            req, _ = complete(req, by=PLATFORM, now=now, outcome=effect)
            self._audit(uow, PLATFORM, "dsr.complete", f"data_request:{req.id}", client, {"type": kind.value})
            uow.data_requests.add(req)
            self._tell_outcome(uow, req, now)
            return Opened(req, False)
        pending = PENDING_AUTOMATION.get(kind)
        if pending:
            req, _ = add_note(req, by=PLATFORM, now=now,
                              text=f"{pending} Due by {req.due_at:%Y-%m-%d} (30 days after receipt).")
        # The row first, then the audit head: every opener and merger takes the locks in
        # this order (a request row or its unique slot, then the chain head), so racing
        # openers wait for each other instead of deadlocking.
        uow.data_requests.add(req)
        self._audit(uow, by, "dsr.open", f"data_request:{req.id}", client, detail)
        return Opened(req, False)

    # -- effects applied at once ---------------------------------------------------------------

    def _apply(self, uow: UnitOfWork, user: User, kind: RequestType, req: DataRequest, client: Client,
               now: datetime) -> str:
        if kind is RequestType.RESTRICTION:
            return self._restrict(uow, user, client, now, by=PLATFORM, why=f"data_request:{req.id}")
        if kind is RequestType.OBJECTION:
            said = []
            if user.ai_objection_at is None:
                uow.users.update(attrs.evolve(user, ai_objection_at=now, updated_at=now))
                self._audit(uow, PLATFORM, "account.object_to_ai", f"user:{user.id}", client,
                            {"request": req.id})
                said.append(f"From {now:%Y-%m-%d %H:%M} UTC nothing of yours is sent to AI processing "
                            "(message translation).")
            else:
                said.append("You had already objected to AI processing; that stays as it is.")
            said.append(self._analytics_off(uow, user, req, client, now))
            return " ".join(said)
        if kind is RequestType.WITHDRAW_CONSENT:
            return self._analytics_off(uow, user, req, client, now) + (
                " You can give consent again at any time in the cookie settings.")
        raise AssertionError(f"{kind} is not applied at once")  # pragma: no cover

    def _restrict(self, uow: UnitOfWork, user: User, client: Client, now: datetime, *, by: str, why: str) -> str:
        if user.status is UserStatus.ACTIVE:
            uow.users.update(attrs.evolve(user, status=UserStatus.RESTRICTED, updated_at=now))
            self._audit(uow, by, "account.restrict", f"user:{user.id}", client, {"because": why})
            return (f"Processing restricted from {now:%Y-%m-%d %H:%M} UTC: your data stays stored but leaves "
                    "analytics and AI processing. You can still sign in, see and correct your data and make "
                    "requests; opening negotiations, offering licences and ordering stay paused while it lasts.")
        if user.status is UserStatus.RESTRICTED:
            return "Processing of this account was already restricted; that stays as it is."
        return "The account is closed: nothing of it is processed any more."

    def _analytics_off(self, uow: UnitOfWork, user: User, req: DataRequest, client: Client, now: datetime) -> str:
        """A recorded "no" to analytics (P41), newer than any earlier choice, on the
        person's latest visitor id so the browser they chose on stops too."""
        latest = uow.consents.latest(None, user.id)
        if latest is not None and not latest.analytics and latest.notice_version == COOKIE_NOTICE_VERSION:
            return "Analytics about you were already off; that stays as it is."
        at = now if latest is None or latest.at < now else latest.at + timedelta(microseconds=1)
        record = ConsentRecord(
            id=self._d.ids.new_id(), visitor_id=latest.visitor_id if latest else f"request-{req.id}"[:64],
            user_id=user.id, notice_version=COOKIE_NOTICE_VERSION, analytics=False, at=at,
            client_address=truncate_address(client.address),
            user_agent=(client.user_agent or "")[:MAX_USER_AGENT] or None)
        uow.consents.add(record)
        self._audit(uow, user.id, "consent.analytics", f"user:{user.id}", client,
                    {"analytics": "no", "notice": COOKIE_NOTICE_VERSION, "request": req.id})
        return "Analytics consent withdrawn: nothing about your visits is recorded from your next page on."

    # -- reading ----------------------------------------------------------------------------

    def mine(self, actor: Actor, client: Client = Client()) -> list[DataRequest]:
        self._deny(actor, Action.DSR_VIEW, Resource("account", actor.id, actor.id), client)
        with self._d.uow() as uow:
            return uow.data_requests.list_for_user(actor.id)

    def get(self, actor: Actor, request_id: str, client: Client = Client()) -> RequestView:
        with self._d.uow() as uow:
            req = uow.data_requests.get(str(request_id))
            user = uow.users.get(req.user_id) if req else None
        if req is None:
            raise NotFound("No such request.")
        self._deny(actor, Action.DSR_VIEW, Resource("data request", req.id, req.user_id), client)
        return self._view(req, user, self._d.clock.now())

    @staticmethod
    def _view(req: DataRequest, user: User | None, now: datetime) -> RequestView:
        return RequestView(req, request_ref(req.id), user.email if user else "", user.name if user else "",
                           req.overdue(now), req.days_left(now))

    def queue(self, actor: Actor, *, overdue_only: bool = False, include_closed: bool = False,
              client: Client = Client()) -> list[RequestView]:
        """The admins' queue: open requests, reported minors first, then by due date."""
        self._deny(actor, Action.DSR_WORK, Resource("data requests"), client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            found = uow.data_requests.queue(include_closed=include_closed and not overdue_only,
                                            overdue_at=now if overdue_only else None)
            people = {uid: uow.users.get(uid) for uid in {r.user_id for r in found}}
        return [self._view(r, people.get(r.user_id), now) for r in found]

    # -- working the queue --------------------------------------------------------------------

    def _work(self, actor: Actor, request_id: str, client: Client,
              step: Callable[[UnitOfWork, DataRequest, datetime], DataRequest]) -> DataRequest:
        self._deny(actor, Action.DSR_WORK, Resource("data request", str(request_id)), client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            req = uow.data_requests.get_for_update(str(request_id))
            if req is None:
                raise NotFound("No such request.")
            done = step(uow, req, now)
            uow.data_requests.update(done)
            uow.commit()
        return done

    def take(self, actor: Actor, request_id: str, client: Client = Client()) -> DataRequest:
        def step(uow: UnitOfWork, req: DataRequest, now: datetime) -> DataRequest:
            taken, _ = take(req, by=actor.id, now=now)
            self._audit(uow, actor.id, "dsr.take", f"data_request:{req.id}", client, {"type": req.type.value})
            return taken

        return self._work(actor, request_id, client, step)

    def _take_if_received(self, uow: UnitOfWork, actor: Actor, req: DataRequest, now: datetime,
                          client: Client) -> DataRequest:
        if req.status is not RequestStatus.RECEIVED:
            return req
        taken, _ = take(req, by=actor.id, now=now)
        self._audit(uow, actor.id, "dsr.take", f"data_request:{req.id}", client, {"type": req.type.value})
        return taken

    def complete(self, actor: Actor, request_id: str, outcome: object = "", client: Client = Client()) -> DataRequest:
        """Done: the person is told by mail, with ``outcome`` (what was done). A request
        still waiting is taken by the same admin first (both steps audited).

        Access and portability: the export is made first and its link is the outcome.
        Erasure: the person is erased in the request's transaction; when something
        stands in the way (a legal hold, an open order) nothing is erased, the request
        stays open with the reasons on its timeline and :class:`ErasureRefused` says why."""
        self._deny(actor, Action.DSR_WORK, Resource("data request", str(request_id)), client)
        with self._d.uow() as uow:
            found = uow.data_requests.get(str(request_id))
        if found is None:
            raise NotFound("No such request.")
        text = str(outcome or "")
        if found.is_open and found.type in (RequestType.ACCESS, RequestType.PORTABILITY) and not text.strip() \
                and self._exporter is not None:
            result = self._exporter.export(actor, found.user_id, client)
            text = (f"Your data export is ready: {result.link.url} — the link works until "
                    f"{result.link.expires_at:%Y-%m-%d %H:%M} UTC, after which the file is deleted. It holds "
                    f"everything we keep about you ({result.files} uploaded file(s) included).")
        if found.is_open and found.type is RequestType.ERASURE and self._erasure is not None:
            try:
                return self._complete_erasure(actor, found, text, client)
            except ErasureRefused as refused:
                self._note_blocked(actor, found.id, refused, client)
                raise

        def step(uow: UnitOfWork, req: DataRequest, now: datetime) -> DataRequest:
            req = self._take_if_received(uow, actor, req, now, client)
            done, _ = complete(req, by=actor.id, now=now, outcome=text)
            self._audit(uow, actor.id, "dsr.complete", f"data_request:{req.id}", client, {"type": req.type.value})
            self._tell_outcome(uow, done, now)
            return done

        return self._work(actor, request_id, client, step)

    def _complete_erasure(self, actor: Actor, found: DataRequest, text: str, client: Client) -> DataRequest:
        assert self._erasure is not None
        now = self._d.clock.now()
        with self._d.uow() as uow:
            req = uow.data_requests.get_for_update(found.id)
            user = uow.users.get(found.user_id)
            if req is None or user is None:
                raise NotFound("No such request.")
            req = self._take_if_received(uow, actor, req, now, client)
            uow.data_requests.update(req)
            report = self._erasure.erase_in(uow, user.id, by=actor.id, now=now, client=client,
                                            because=f"erasure request {request_ref(req.id)}")
            # The request row now names the person's pseudonym: read it back before closing it.
            req = uow.data_requests.get_for_update(req.id)
            assert req is not None
            kept = (f" {len(report.kept_designs)} of your designs are under an active licence: they stay, no "
                    "longer in the catalog and no longer linked to you, until the licence ends." if
                    report.kept_designs else "")
            default = ("Your account and personal data have been erased: profile, messages' text, uploads and "
                       "analytics are gone. Orders, agreements and payments are kept for 7 years as the law "
                       "requires, no longer linked to your name or email." + kept)
            done, _ = complete(req, by=actor.id, now=now, outcome=text.strip() or default)
            uow.data_requests.update(done)
            self._audit(uow, actor.id, "dsr.complete", f"data_request:{req.id}", client, {"type": req.type.value})
            # The answer is owed to the address the person used: the last mail it gets.
            values = {"request_type": type_label(done.type, user.language.value),
                      "reference": request_ref(done.id), "url": self._url("/privacy"),
                      "outcome": done.outcome or ""}
            self._notify(uow, user, NoticeKind.REQUEST_COMPLETED, values, f"request:{done.id}:completed", now)
            uow.commit()
        self._erasure.drain_blobs()
        return done

    def _note_blocked(self, actor: Actor, request_id: str, refused: ErasureRefused, client: Client) -> None:
        now = self._d.clock.now()
        with self._d.uow() as uow:
            req = uow.data_requests.get_for_update(request_id)
            if req is None or not req.is_open:
                return
            req = self._take_if_received(uow, actor, req, now, client)
            noted, _ = add_note(req, by=actor.id, now=now,
                                text=f"Erasure not carried out: {refused.message} The request stays open for review.")
            uow.data_requests.update(noted)
            self._audit(uow, actor.id, "dsr.erasure_blocked", f"data_request:{req.id}", client,
                        {"keeps": ",".join(sorted(k.value for k in refused.decision.keeps))}, Outcome.DENIED)
            uow.commit()

    def refuse(self, actor: Actor, request_id: str, reason: object, client: Client = Client()) -> DataRequest:
        """Refused with a reason the person reads in the mail they get."""
        clean_reason(reason)  # a missing reason is the first thing to say, before any lookup

        def step(uow: UnitOfWork, req: DataRequest, now: datetime) -> DataRequest:
            req = self._take_if_received(uow, actor, req, now, client)
            done, _ = refuse(req, by=actor.id, now=now, reason=reason)
            self._audit(uow, actor.id, "dsr.refuse", f"data_request:{req.id}", client, {"type": req.type.value})
            self._tell_outcome(uow, done, now)
            return done

        return self._work(actor, request_id, client, step)

    # -- children (part 7) ------------------------------------------------------------------

    def flag_minor(self, actor: Actor, email: str, reason: object, client: Client = Client()) -> Opened:
        """An account reported as a minor's (P45): restricted at once, and an urgent
        erasure request queued for it (merged into an open one, made urgent)."""
        if reason is None or (isinstance(reason, str) and not reason.strip()):
            raise ValidationFailed("Say what was reported, and by whom: it is kept with the erasure request.",
                                   field="reason")
        why = clean_reason(reason)
        user = self._user_by_email(email)
        self._deny(actor, Action.USER_FLAG_MINOR, Resource("account", user.id, user.id), client)
        if user.id == actor.id:
            raise Conflict("You cannot flag your own account; ask another admin.", field="email")

        def run() -> Opened:
            now = self._d.clock.now()
            with self._d.uow() as uow:
                person = uow.users.get(user.id)
                if person is None:
                    raise NotFound("No such account.")
                # The request first: its row (or slot) is locked before the audit head, as
                # everywhere else (see _open_in).
                opened = self._open_in(uow, person, RequestType.ERASURE, Origin.MINOR_REPORT, actor.id,
                                       f"Reported as a minor: {why}", client, urgent=True)
                self._restrict(uow, person, client, now, by=actor.id, why="reported minor")
                self._audit(uow, actor.id, "user.flag_minor", f"user:{person.id}", client,
                            {"request": opened.request.id})
                uow.commit()
                return opened

        return self._retrying(run)
