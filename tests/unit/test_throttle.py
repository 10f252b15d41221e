"""P17: repeated login failures lock an account or address, for longer each time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from caratzon_core.throttle import ThrottleRule, active_lock, locked_until

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
RULE = ThrottleRule()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_four_failures_do_not_lock() -> None:
    assert locked_until([at(i) for i in range(4)], RULE) is None


def test_five_failures_in_the_window_lock_for_the_first_lock_time() -> None:
    failures = [at(i) for i in range(5)]
    assert locked_until(failures, RULE) == at(4) + RULE.first_lock
    assert active_lock(failures, RULE, at(10)) == at(4) + RULE.first_lock
    assert active_lock(failures, RULE, at(4) + RULE.first_lock) is None


def test_failures_spread_beyond_the_window_do_not_lock() -> None:
    assert locked_until([at(i * 4) for i in range(10)], RULE) is None


def test_locks_grow() -> None:
    first = [at(i) for i in range(5)]  # lock ends at minute 19
    second = [at(20 + i) for i in range(5)]  # lock 30 minutes from minute 24
    assert locked_until(first + second, RULE) == at(24) + 2 * RULE.first_lock
    third = [at(60 + i) for i in range(5)]
    assert locked_until(first + second + third, RULE) == at(64) + 4 * RULE.first_lock


def test_failures_during_a_lock_do_not_count() -> None:
    failures = [at(i) for i in range(5)] + [at(5 + i) for i in range(10)]
    assert locked_until(failures, RULE) == at(4) + RULE.first_lock


minutes = st.lists(st.floats(min_value=0, max_value=24 * 60, allow_nan=False), max_size=40)


@given(minutes)
def test_fewer_failures_than_the_limit_never_lock(ms: list[float]) -> None:
    failures = [at(m) for m in ms]
    if len(failures) < RULE.max_failures:
        assert locked_until(failures, RULE) is None


@given(minutes)
def test_a_lock_never_exceeds_the_cap_and_always_follows_a_failure(ms: list[float]) -> None:
    failures = [at(m) for m in ms]
    end = locked_until(failures, RULE)
    if end is not None:
        latest_trigger = max(f for f in failures if f < end)
        assert end - latest_trigger <= RULE.max_lock
        assert end > latest_trigger


@given(minutes, st.floats(min_value=0, max_value=24 * 60))
def test_adding_a_failure_never_shortens_a_lock(ms: list[float], extra: float) -> None:
    failures = [at(m) for m in ms]
    now = at(24 * 60 + 1)
    before = locked_until(failures, RULE)
    after = locked_until([*failures, at(extra)], RULE)
    if before is not None and before > now:
        assert after is not None and after >= before
