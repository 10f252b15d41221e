# The multiplication sign is the right symbol in worked examples.
# ruff: noqa: RUF002, RUF003
"""The partner score (issue #5): only jobs accepted in the last 183 days count;
under 10 of them a partner is on probation and gets no rating; the on-time,
QC-failure and responsiveness figures and the rating (60 % on time, 30 % QC passed,
10 % responsiveness: full marks within a day, none from two days) match the
arithmetic done by hand; more on-time work never lowers the rating."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caratzon_core.manufacturers import (
    MIN_JOBS_FOR_RECORD,
    NEW_PARTNER,
    SCORE_WINDOW,
    CompletedJob,
    PartnerScore,
    partner_score,
)

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
DUE = date(2026, 8, 1)


def job(*, age: timedelta = timedelta(days=30), hours: float = 2, delivered: str = "on_time",
        qc_failed: bool = False) -> CompletedJob:
    """``hours`` from the offer to the answer; delivered ``on_time`` (on the due day),
    ``late`` (a day after) or ``never``."""
    accepted = NOW - age
    delivered_on = {"on_time": DUE, "late": DUE + timedelta(days=1), "never": None}[delivered]
    return CompletedJob(accepted_at=accepted, offered_at=accepted - timedelta(hours=hours), due=DUE,
                        delivered_on=delivered_on, qc_failed=qc_failed)


def test_no_jobs_is_a_new_partner() -> None:
    score = partner_score([], NOW)
    assert score == attrs.evolve(NEW_PARTNER, computed_at=NOW)
    assert score.on_probation and score.rating is None and score.on_time_rate is None


def test_worked_example_ten_jobs() -> None:
    """7 of 10 delivered by the due day (2 late, 1 never), 2 failed QC:
    on time 7/10 = 0.7; QC failures 2/10 = 0.2.
    Hours to answer 1, 2, 3, 4, 30, 42, 50, 60, 70, 80: median (30 + 42) / 2 = 36,
    responsiveness (48 - 36) / 24 = 0.5.
    Rating 0.6 × 0.7 + 0.3 × (1 - 0.2) + 0.1 × 0.5 = 0.42 + 0.24 + 0.05 = 0.71."""
    delivered = ["on_time"] * 7 + ["late", "late", "never"]
    failed = [False] * 8 + [True, True]
    hours = [80, 1, 70, 2, 60, 3, 50, 4, 42, 30]  # order does not matter
    jobs = [job(hours=h, delivered=d, qc_failed=f) for h, d, f in zip(hours, delivered, failed, strict=True)]
    assert partner_score(jobs, NOW) == PartnerScore(
        jobs=10, on_time_rate=Decimal("0.7000"), qc_failure_rate=Decimal("0.2000"),
        responsiveness_hours=Decimal("36.00"), rating=Decimal("0.7100"), computed_at=NOW)


def test_worked_example_eleven_jobs_with_fractions() -> None:
    """8 of 11 on time = 0.72727… → 0.7273; 1 of 11 failed QC = 0.0909…;
    hours 6, 12, 18, 24, 28, 30, 31, 40, 48, 60, 99: median (the 6th) = 30,
    responsiveness (48 - 30) / 24 = 0.75.
    Rating 0.6 × 8/11 + 0.3 × 10/11 + 0.1 × 0.75 = 7.8/11 + 0.075 = 0.78409… → 0.7841."""
    hours = [6, 12, 18, 24, 28, 30, 31, 40, 48, 60, 99]
    jobs = [job(hours=h, delivered="on_time" if i < 8 else "late", qc_failed=i == 10) for i, h in enumerate(hours)]
    score = partner_score(jobs, NOW)
    assert (score.jobs, score.on_time_rate, score.qc_failure_rate) == (11, Decimal("0.7273"), Decimal("0.0909"))
    assert (score.responsiveness_hours, score.rating) == (Decimal("30.00"), Decimal("0.7841"))


@pytest.mark.parametrize(
    ("hours", "rating"),
    [
        (0.5, Decimal("1.0000")),
        (24, Decimal("1.0000")),  # within a day: full marks
        (36, Decimal("0.9500")),  # half way: 0.1 × 0.5
        (47, Decimal("0.9042")),  # 0.9 + 0.1 × 1/24 = 0.904166…
        (48, Decimal("0.9000")),  # two days: none
        (200, Decimal("0.9000")),
    ],
)
def test_responsiveness_scores_full_within_a_day_and_nothing_from_two_days(hours: float, rating: Decimal) -> None:
    score = partner_score([job(hours=hours) for _ in range(10)], NOW)
    assert score.rating == rating and score.on_time_rate == Decimal(1) and score.qc_failure_rate == 0


def test_delivered_on_the_due_day_is_on_time_and_never_delivered_is_not() -> None:
    jobs = [job(delivered="on_time")] * 5 + [job(delivered="late")] * 3 + [job(delivered="never")] * 2
    assert partner_score(jobs, NOW).on_time_rate == Decimal("0.5000")


def test_probation_under_ten_jobs_gives_no_rating() -> None:
    nine = partner_score([job() for _ in range(MIN_JOBS_FOR_RECORD - 1)], NOW)
    assert nine.jobs == 9 and nine.on_probation and nine.rating is None
    assert (nine.on_time_rate, nine.qc_failure_rate, nine.responsiveness_hours) == (
        Decimal(1), Decimal(0), Decimal("2.00"))  # the figures are still shown
    ten = partner_score([job() for _ in range(MIN_JOBS_FOR_RECORD)], NOW)
    assert ten.jobs == 10 and not ten.on_probation and ten.rating == Decimal(1)


def test_only_jobs_accepted_in_the_window_count() -> None:
    assert SCORE_WINDOW.days == 183 and not SCORE_WINDOW.seconds
    good = [job(age=timedelta(days=d)) for d in range(10)]
    old = [job(age=SCORE_WINDOW + timedelta(seconds=1), delivered="never", qc_failed=True, hours=500)] * 20
    score = partner_score(good + old, NOW)
    assert score.jobs == 10 and score.rating == Decimal(1)
    edge = job(age=SCORE_WINDOW, delivered="late", qc_failed=True)  # exactly 183 days ago: still in
    with_edge = partner_score([*good, edge], NOW)
    assert with_edge.jobs == 11 and with_edge.qc_failure_rate == Decimal("0.0909")
    assert partner_score(old, NOW) == attrs.evolve(NEW_PARTNER, computed_at=NOW)  # all too old: a new partner again


# -- properties -----------------------------------------------------------------------------

jobs_in_window = st.builds(
    lambda minutes_ago, answer_minutes, delivered, qc_failed: job(
        age=timedelta(minutes=minutes_ago), hours=answer_minutes / 60, delivered=delivered, qc_failed=qc_failed),
    st.integers(0, 183 * 24 * 60), st.integers(0, 5 * 24 * 60), st.sampled_from(["on_time", "late", "never"]),
    st.booleans())


@settings(max_examples=100, deadline=None)
@given(st.lists(jobs_in_window, min_size=10, max_size=40), st.data())
def test_more_on_time_work_never_lowers_the_rating(jobs: list[CompletedJob], data: st.DataObject) -> None:
    before = partner_score(jobs, NOW)
    assert before.rating is not None and Decimal(0) <= before.rating <= Decimal(1)
    late = [i for i, j in enumerate(jobs) if j.delivered_on is None or j.delivered_on > j.due]
    if late:  # the same job delivered on time instead
        i = data.draw(st.sampled_from(late))
        better = [*jobs[:i], attrs.evolve(jobs[i], delivered_on=jobs[i].due), *jobs[i + 1:]]
        after = partner_score(better, NOW)
        assert after.on_time_rate is not None and before.on_time_rate is not None
        assert after.on_time_rate > before.on_time_rate
        assert after.rating is not None and after.rating > before.rating  # by 0.6 / n at least 0.015
    # one more job, on time, passed and answered within a day
    extra = job(age=timedelta(days=1), hours=data.draw(st.integers(0, 24)), delivered="on_time")
    grown = partner_score([*jobs, extra], NOW)
    assert grown.rating is not None and grown.rating >= before.rating


@settings(max_examples=60, deadline=None)
@given(st.lists(jobs_in_window, max_size=15),
       st.lists(st.builds(lambda days, failed: job(age=SCORE_WINDOW + timedelta(days=days), delivered="never",
                                                   qc_failed=failed, hours=300),
                          st.integers(1, 2000), st.booleans()), min_size=1, max_size=10))
def test_jobs_before_the_window_change_nothing(recent: list[CompletedJob], old: list[CompletedJob]) -> None:
    assert partner_score([*old, *recent], NOW) == partner_score(recent, NOW)
    score = partner_score(recent, NOW)
    assert score.jobs == len(recent) and score.on_probation == (len(recent) < MIN_JOBS_FOR_RECORD)
    assert (score.rating is None) == (len(recent) < MIN_JOBS_FOR_RECORD)
