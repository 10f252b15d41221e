"""Privacy-policy versions and their acceptance (P46). Later issues add consent,
data-subject requests and retention here."""

from __future__ import annotations

from datetime import date, datetime

from attrs import frozen

# The effective date of the policy in shared/spec; seeded by the first migration.
INITIAL_POLICY_VERSION = "2026-03-04"


@frozen
class PolicyVersion:
    version: str
    effective_date: date
    material: bool = False


@frozen
class PolicyAcceptance:
    user_id: str
    version: str
    accepted_at: datetime
