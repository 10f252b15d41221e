"""Login throttling (P17): repeated failures lock the key (an account or a client
address) for a time that grows with each lock.

Pure: the decision depends only on the failure times given, so it is the same in
every process and easy to test with generated histories.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from attrs import frozen


@frozen
class ThrottleRule:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    first_lock: timedelta = timedelta(minutes=15)
    growth: int = 2
    max_lock: timedelta = timedelta(hours=24)
    # How far back failures are considered at all (locks stop growing after this).
    lookback: timedelta = timedelta(hours=24)


ACCOUNT_RULE = ThrottleRule()
# Offices share an address behind NAT, so an address tolerates more failures.
ADDRESS_RULE = ThrottleRule(max_failures=20)


def locked_until(failures: Sequence[datetime], rule: ThrottleRule) -> datetime | None:
    """When the key's current or latest lock ends, or ``None`` if it was never locked.

    Walks the failures in time order: ``max_failures`` inside one ``window`` start a
    lock of ``first_lock * growth**k`` (capped), where ``k`` counts earlier locks.
    Failures during a lock, or before it ended, do not count towards the next one.
    """
    lock_end: datetime | None = None
    locks = 0
    counting: list[datetime] = []
    for at in sorted(failures):
        if lock_end is not None and at < lock_end:
            continue
        counting = [t for t in counting if at - t < rule.window]
        counting.append(at)
        if len(counting) >= rule.max_failures:
            duration = min(rule.first_lock * (rule.growth**locks), rule.max_lock)
            lock_end = at + duration
            locks += 1
            counting = []
    return lock_end


def active_lock(failures: Sequence[datetime], rule: ThrottleRule, now: datetime) -> datetime | None:
    end = locked_until([f for f in failures if f <= now], rule)
    return end if end is not None and end > now else None
