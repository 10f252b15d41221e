"""Privacy-policy versions and notices (issue #6 part 5; policy section 13, P46).

* :meth:`PolicyService.publish` stores a new version (admins only; effective today
  or later; a new label; non-empty text). A **material** change queues one notice
  e-mail (:attr:`NoticeKind.POLICY_CHANGED`) to every account that is not closed, in
  its language, in the same transaction as the version: either the version and all
  its notices exist, or neither does. Accounts are read 1,000 at a time
  (:data:`NOTICE_BATCH`) and each batch's notices are written with one multi-row
  INSERT, so the work is set-based and memory stays flat however many users there
  are. The de-duplication key (``policy_changed:<version>:<user id>``) makes a
  notice unique per version and person. Restricted accounts (P38) get the notice
  too: restriction limits processing, not what we must tell a person.
* :meth:`PolicyService.needs_acknowledgement` is true while a material version in
  force is newer than the person's latest acceptance; the portal shows a banner
  until :meth:`PolicyService.acknowledge` records an acceptance (time and version)
  of the version in force.
* Continued use (P46): :meth:`PolicyService.standing`, which the portal calls for
  each page a signed-in person sees, records an acceptance of the version in force
  when that version is newer than the person's latest acceptance and no material
  change waits for acknowledgement. So a non-material change is accepted at the
  first page the person uses after it takes effect (the first page after their next
  login, or the next page of a session that spans the change), and a material one
  only by the explicit acknowledgement. The audit trail tells the two apart
  (``policy.acknowledge`` and ``policy.continued_use``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from attrs import frozen

from caratzon_core.access import Action, Actor, Resource, decide
from caratzon_core.accounts import User, UserStatus
from caratzon_core.audit import AuditRecord, Outcome
from caratzon_core.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from caratzon_core.notices import Notice, NoticeKind, long_date
from caratzon_core.outbox import OutboxMessage
from caratzon_core.ports import UnitOfWork
from caratzon_core.privacy import (
    PolicyAcceptance,
    PolicyVersion,
    check_version,
    clean_policy_text,
    in_force,
    pending_material,
    unrecorded_current,
)
from caratzon_core.services.audit import AuditTrail
from caratzon_core.services.deps import Client, Deps

# Accounts read, and notices written, per statement when a material change is published.
NOTICE_BATCH = 1000


@frozen
class Published:
    version: PolicyVersion
    notices: int  # notice e-mails queued (0 for a non-material change)


@frozen
class Standing:
    """Where a signed-in person stands with the policy, for the portal's banner."""

    current: PolicyVersion | None
    # The material version they must acknowledge, if any (the banner shows while set).
    pending: PolicyVersion | None = None
    # An acceptance recorded just now for continued use after a non-material change.
    recorded: PolicyAcceptance | None = None


def notice_dedupe_key(version: str, user_id: str) -> str:
    return f"policy_changed:{version}:{user_id}"


class PolicyService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps
        self._trail = AuditTrail(deps.clock, deps.signer)

    # -- helpers ---------------------------------------------------------------------------

    def _audit(self, uow: UnitOfWork, actor: str, action: str, subject: str, client: Client,
               detail: Mapping[str, str] | None = None, outcome: str = Outcome.SUCCESS) -> None:
        self._trail.record(uow, AuditRecord(actor, action, subject, outcome, client.address, dict(detail or {})))

    def _deny(self, actor: Actor | None, action: Action, resource: Resource, client: Client) -> None:
        decision = decide(actor, action, resource)
        if decision.allowed:
            return
        with self._d.uow() as uow:
            self._audit(uow, actor.id if actor else "anonymous", str(action),
                        f"{resource.kind}:{resource.id or '-'}", client, {"reason": decision.reason},
                        Outcome.DENIED)
            uow.commit()
        raise Forbidden(decision.reason)

    def version_url(self, version: str) -> str:
        return f"{self._d.settings.base_url.rstrip('/')}/legal/privacy/{version}"

    # -- publishing ------------------------------------------------------------------------

    def publish(self, actor: Actor, version: str | None, text: str, effective: date, material: bool,
                client: Client = Client()) -> Published:
        """Store a new version, in force from ``effective`` (today or later, UTC). The
        label defaults to the effective date (``2027-01-01``). A material change
        queues a notice to every account that is not closed, in the same transaction."""
        self._deny(actor, Action.POLICY_PUBLISH, Resource("policy", version or None), client)
        if not isinstance(effective, date) or isinstance(effective, datetime):
            raise ValidationFailed("The effective date must be a date (YYYY-MM-DD).", field="effective")
        if not isinstance(material, bool):
            raise ValidationFailed("'material' is true or false.", field="material")
        now = self._d.clock.now()
        problems: list[ValidationFailed] = []
        label = ""
        try:
            label = check_version(version if version is not None else effective.isoformat())
        except ValidationFailed as exc:
            problems.append(exc)
        cleaned = ""
        try:
            cleaned = clean_policy_text(text)
        except ValidationFailed as exc:
            problems.append(exc)
        if effective < now.date():
            problems.append(ValidationFailed(
                f"The effective date {effective.isoformat()} is in the past; a new policy takes effect today "
                f"({now.date().isoformat()}) or later, so that people can be told before it applies.",
                field="effective",
            ))
        if problems:
            raise ValidationFailed.collect(problems)
        new = PolicyVersion(version=label, effective_date=effective, material=material, text=cleaned,
                            published_at=now, published_by=actor.id)
        with self._d.uow() as uow:
            if uow.policies.get(label) is not None:
                raise Conflict(f"Policy version {label} exists already; choose another version label.",
                               field="version")
            same_day = [v.version for v in uow.policies.versions() if v.effective_date == effective]
            if same_day:
                raise Conflict(
                    f"Version {same_day[0]} already takes effect on {effective.isoformat()}; one version per "
                    "effective date, so that which one is in force is never in doubt.",
                    field="effective",
                )
            uow.policies.add_version(new)
            notices = self._queue_notices(uow, new, now) if material else 0
            self._audit(uow, actor.id, "policy.publish", f"policy:{label}", client, {
                "effective_date": effective.isoformat(),
                "material": "yes" if material else "no",
                "characters": str(len(cleaned)),
                "notices": str(notices),
            })
            uow.commit()
        return Published(new, notices)

    def _queue_notices(self, uow: UnitOfWork, version: PolicyVersion, now: datetime) -> int:
        """One notice per account that is not closed, 1,000 accounts per batch."""
        url = self.version_url(version.version)
        queued = 0
        offset = 0
        while True:
            batch = uow.users.list(limit=NOTICE_BATCH, offset=offset)
            if not batch:
                break
            offset += len(batch)
            messages = [
                OutboxMessage(
                    id=self._d.ids.new_id(),
                    dedupe_key=notice_dedupe_key(version.version, user.id),
                    notice=Notice(NoticeKind.POLICY_CHANGED, user.email, user.language.value, {
                        "name": user.name,
                        "effective_date": long_date(version.effective_date, user.language.value),
                        "url": url,
                    }),
                    created_at=now,
                )
                for user in batch
                if user.status is not UserStatus.CLOSED
            ]
            queued += uow.outbox.add_many(messages)
            if len(batch) < NOTICE_BATCH:
                break
        return queued

    # -- reading -----------------------------------------------------------------------------

    def current(self, at: datetime | None = None) -> PolicyVersion | None:
        """The version in force at ``at`` (now if left out)."""
        with self._d.uow() as uow:
            return uow.policies.current(at or self._d.clock.now())

    def versions(self) -> list[PolicyVersion]:
        """Every version, oldest first, including any published to take effect later."""
        with self._d.uow() as uow:
            return uow.policies.versions()

    def get(self, version: str) -> PolicyVersion:
        with self._d.uow() as uow:
            found = uow.policies.get(str(version or ""))
        if found is None:
            raise NotFound(f"There is no privacy policy version {str(version)[:40]!r}.")
        return found

    # -- acknowledgement and continued use ---------------------------------------------------

    def needs_acknowledgement(self, user: User, at: datetime | None = None) -> bool:
        """True while a material version in force at ``at`` is newer than the
        person's latest acceptance."""
        return self.pending_for(user, at) is not None

    def pending_for(self, user: User, at: datetime | None = None) -> PolicyVersion | None:
        """The material version ``user`` must acknowledge, or ``None``."""
        at = at or self._d.clock.now()
        with self._d.uow() as uow:
            return pending_material(uow.policies.versions(), uow.policies.acceptances(user.id), at)

    def acknowledge(self, actor: Actor, client: Client = Client()) -> PolicyAcceptance:
        """Record that ``actor`` has read the version in force (time and version). Once
        they have accepted it (or a later one) already, nothing new is recorded."""
        now = self._d.clock.now()
        with self._d.uow() as uow:
            user = uow.users.get(actor.id)
            if user is None or user.status is UserStatus.CLOSED or actor.status is UserStatus.CLOSED:
                raise Unauthenticated("Sign in to acknowledge the privacy policy.")
            versions = uow.policies.versions()
            current = in_force(versions, now)
            if current is None:
                raise NotFound("No privacy policy is in force.")
            acceptances = uow.policies.acceptances(user.id)
            by_label = {v.version: v for v in versions}
            already = [a for a in acceptances
                       if a.version in by_label and by_label[a.version].order_key >= current.order_key]
            if already:
                return already[-1]
            pending = pending_material(versions, acceptances, now)
            acceptance = PolicyAcceptance(user.id, current.version, now)
            uow.policies.record_acceptance(acceptance)
            detail = {"version": current.version}
            if pending is not None:
                detail["material_change"] = pending.version
            self._audit(uow, user.id, "policy.acknowledge", f"user:{user.id}", client, detail)
            uow.commit()
        return acceptance

    def standing(self, user: User, client: Client = Client()) -> Standing:
        """For each page a signed-in person sees: the material change they must
        acknowledge, if any; otherwise, continued use after a newer non-material
        version took effect is recorded as acceptance of it (P46)."""
        now = self._d.clock.now()
        with self._d.uow() as uow:
            versions = uow.policies.versions()
            acceptances = uow.policies.acceptances(user.id)
            current = in_force(versions, now)
            pending = pending_material(versions, acceptances, now)
            if pending is not None or user.status is UserStatus.CLOSED:
                return Standing(current, pending)
            unrecorded = unrecorded_current(versions, acceptances, now)
            if unrecorded is None:
                return Standing(current)
            acceptance = PolicyAcceptance(user.id, unrecorded.version, now)
            uow.policies.record_acceptance(acceptance)
            self._audit(uow, user.id, "policy.continued_use", f"user:{user.id}", client,
                        {"version": unrecorded.version})
            uow.commit()
        return Standing(current, None, acceptance)
