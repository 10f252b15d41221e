"""Cookie consent and engagement events (P7, P8, P9, P10, P41, P44).

Strictly necessary cookies (session, CSRF, the consent choice itself) are always
set. Analytics happen only after an explicit yes, recorded as proof; the choice
can be changed or withdrawn at any time and the change takes effect on the next
request. Restricted users (P38) are never tracked, whatever they chose.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from attrs import frozen

from caratzon_core.accounts import UserStatus

# Bump when the cookie notice text changes materially; older choices then ask again.
COOKIE_NOTICE_VERSION = "2026-11-27"
MAX_USER_AGENT = 300


class EventKind(enum.StrEnum):
    VIEW = "view"
    SAVE = "save"
    SCROLL = "scroll"


@frozen
class ConsentRecord:
    """Proof of a choice: who (visitor id, and user when logged in), which notice,
    what, when, and a minimised trace of where from."""

    id: str
    visitor_id: str
    user_id: str | None
    notice_version: str
    analytics: bool
    at: datetime
    client_address: str | None  # truncated (P7)
    user_agent: str | None


@frozen
class EngagementEvent:
    id: str
    design_id: str
    kind: EventKind
    at: datetime
    visitor_id: str
    user_id: str | None
    scroll_depth: int | None = None  # percent 0..100, for SCROLL


@frozen
class DailyEngagement:
    design_id: str
    day: date
    views: int
    saves: int
    median_scroll_depth: int | None


def may_track(consent: ConsentRecord | None, *, user_status: UserStatus | None) -> bool:
    """Analytics only with a current explicit yes, and never for restricted users."""
    if user_status is UserStatus.RESTRICTED or user_status is UserStatus.CLOSED:
        return False
    if consent is None or not consent.analytics:
        return False
    return consent.notice_version == COOKIE_NOTICE_VERSION


def latest(records: list[ConsentRecord]) -> ConsentRecord | None:
    return max(records, key=lambda r: (r.at, r.id), default=None)


def median(values: list[int]) -> int | None:
    """Median rounded half up to a whole percent (no floats stored)."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    total = ordered[mid - 1] + ordered[mid]
    return (total + 1) // 2
