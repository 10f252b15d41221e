"""Cookie consent and engagement analytics (P7 to P10, P41, P44).

Views, saves and scroll depth are recorded only with a current, explicit yes to
analytics, never for restricted users (P38), and only for published designs.
Designers see their own designs' daily figures.
"""

from __future__ import annotations

from datetime import timedelta

from caratzon_core.access import Action, Actor, Resource, authorize
from caratzon_core.accounts import User
from caratzon_core.audit import AuditRecord, Outcome, truncate_address
from caratzon_core.consent import (
    COOKIE_NOTICE_VERSION,
    MAX_USER_AGENT,
    ConsentRecord,
    DailyEngagement,
    EngagementEvent,
    EventKind,
    may_track,
)
from caratzon_core.designs import DesignStatus
from caratzon_core.errors import NotFound, ValidationFailed
from caratzon_core.services.audit import AuditTrail
from caratzon_core.services.deps import Client, Deps

MAX_ANALYTICS_DAYS = 366


def check_visitor_id(raw: object) -> str:
    value = str(raw or "")
    if not (16 <= len(value) <= 64) or not all(c.isalnum() or c in "-_" for c in value):
        raise ValidationFailed("The visitor id is not valid.", field="visitor_id")
    return value


class EngagementService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps
        self._trail = AuditTrail(deps.clock, deps.signer)

    def choose(
        self, visitor_id: str, user: User | None, *, analytics: bool, client: Client = Client()
    ) -> ConsentRecord:
        """Record a cookie choice as proof: notice version, time, truncated address,
        user agent; per visitor and, when logged in, per user. Takes effect on the
        next request (the caller reads it back then)."""
        visitor_id = check_visitor_id(visitor_id)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            previous = uow.consents.latest(visitor_id, user.id if user else None)
        if previous is not None and previous.at >= now:
            # Two choices within one clock tick: the later one must still win.
            now = previous.at + timedelta(microseconds=1)
        record = ConsentRecord(
            id=self._d.ids.new_id(),
            visitor_id=visitor_id,
            user_id=user.id if user else None,
            notice_version=COOKIE_NOTICE_VERSION,
            analytics=bool(analytics),
            at=now,
            client_address=truncate_address(client.address),
            user_agent=(client.user_agent or "")[:MAX_USER_AGENT] or None,
        )
        with self._d.uow() as uow:
            uow.consents.add(record)
            self._trail.record(uow, AuditRecord(
                user.id if user else f"visitor:{record.visitor_id[:8]}", "consent.analytics",
                f"user:{user.id}" if user else "visitor", Outcome.SUCCESS, client.address,
                {"analytics": "yes" if analytics else "no", "notice": COOKIE_NOTICE_VERSION},
            ))
            uow.commit()
        return record

    def current(self, visitor_id: str | None, user: User | None) -> ConsentRecord | None:
        with self._d.uow() as uow:
            return uow.consents.latest(visitor_id, user.id if user else None)

    def record(self, visitor_id: str | None, user: User | None, design_id: str, kind: str,
               scroll_depth: object = None) -> bool:
        """Record a view or scroll beacon; returns whether anything was stored."""
        try:
            event_kind = EventKind(kind)
        except ValueError:
            raise ValidationFailed("Unknown event; expected view or scroll.", field="kind") from None
        if event_kind is EventKind.SAVE:
            raise ValidationFailed("Saves are recorded by saving the design.", field="kind")
        depth = None
        if event_kind is EventKind.SCROLL:
            try:
                depth = int(str(scroll_depth))
            except ValueError:
                raise ValidationFailed("Scroll depth must be a whole percentage.", field="scroll_depth") from None
            if not 0 <= depth <= 100:
                raise ValidationFailed("Scroll depth must be between 0 and 100.", field="scroll_depth")
        if visitor_id is not None:
            visitor_id = check_visitor_id(visitor_id)
        with self._d.uow() as uow:
            consent = uow.consents.latest(visitor_id, user.id if user else None)
            if not may_track(consent, user_status=user.status if user else None):
                return False
            design = uow.designs.get(design_id)
            if design is None or design.status is not DesignStatus.PUBLISHED:
                return False
            if user is not None and user.id == design.designer_id:
                return False  # a designer looking at their own design is not engagement
            uow.engagement.add(EngagementEvent(
                id=self._d.ids.new_id(), design_id=design_id, kind=event_kind, at=self._d.clock.now(),
                visitor_id=visitor_id or (consent.visitor_id if consent else ""),
                user_id=user.id if user else None, scroll_depth=depth,
            ))
            uow.commit()
        return True

    def daily(self, actor: Actor, design_id: str, *, days: int = 30) -> list[DailyEngagement]:
        if not 1 <= days <= MAX_ANALYTICS_DAYS:
            raise ValidationFailed(f"days must be between 1 and {MAX_ANALYTICS_DAYS}.", field="days")
        with self._d.uow() as uow:
            design = uow.designs.get(design_id)
        if design is None:
            raise NotFound("No such design.")
        authorize(actor, Action.ANALYTICS_VIEW, Resource("design", design.id, design.designer_id))
        today = self._d.clock.now().date()
        with self._d.uow() as uow:
            return uow.engagement.daily(design_id, today - timedelta(days=days - 1), today)
