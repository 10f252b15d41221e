"""The privacy policy version sign-up asks people to accept and the home page names:
the version in force, read through the core. The policy pages themselves (text,
version history, the acknowledgement banner) are in :mod:`caratzon_web.pages`."""

from __future__ import annotations

from datetime import date

from attrs import frozen

from caratzon_core.errors import DomainError
from caratzon_web.context import services


@frozen
class PolicyInfo:
    version: str
    effective_date: date
    controller: str = "Clean Jewel Beyond Limited"
    contact: str = "privacy@caratzon.com"


def current_policy() -> PolicyInfo:
    policy = services().accounts.current_policy()
    if policy is None:
        # Migrations seed the first version, so this means a broken database.
        raise DomainError("No privacy policy is in force; the database needs `caratzon db upgrade`.")
    return PolicyInfo(policy.version, policy.effective_date)
