"""Privacy-policy versions and their acceptance (P46, policy section 13). Later
issues add consent, data-subject requests and retention here.

A version has an effective date, a ``material`` flag and (from issue #6) its full
text and who published it when. The version in force at a moment is the one with
the latest effective date not after it (ties: the greater version string).

Which acceptance counts: a person has accepted the policy up to the newest version
(by effective date) they have an acceptance for. :func:`pending_material` is the
material version in force that is newer than that: the person must acknowledge it
(the portal shows a banner until they do). :func:`unrecorded_current` is the
version in force when it is newer than their latest acceptance and nothing
material is pending: continued use of the platform after a non-material change is
recorded as acceptance of it (P46).

Pure: standard library and attrs only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

from attrs import frozen

from caratzon_core.errors import ValidationFailed

# The effective date of the policy in shared/spec; seeded by the first migration.
INITIAL_POLICY_VERSION = "2026-03-04"

# Versions appear in URLs (/legal/privacy/<version>) and in a 32-character column.
MAX_VERSION_LENGTH = 32
_VERSION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
# A policy is long prose, but not a book: refuse what is clearly the wrong file.
MAX_POLICY_CHARS = 200_000


@frozen
class PolicyVersion:
    version: str
    effective_date: date
    material: bool = False
    # The full text of this version; None for the initial version, whose text ships
    # with the portal (templates/legal/privacy.html).
    text: str | None = None
    published_at: datetime | None = None
    published_by: str | None = None  # the actor's id (a user id, or "operator:<name>")

    @property
    def order_key(self) -> tuple[date, str]:
        return (self.effective_date, self.version)

    def in_force_at(self, at: datetime) -> bool:
        return self.effective_date <= at.date()


@frozen
class PolicyAcceptance:
    user_id: str
    version: str
    accepted_at: datetime


def check_version(version: str) -> str:
    """A version label: letters, digits, ``.``, ``_`` and ``-``, at most 32 characters,
    starting and ending with a letter or digit (it appears in URLs)."""
    cleaned = str(version or "").strip()
    if not cleaned:
        raise ValidationFailed("A policy version needs a label, such as 2027-01-01.", field="version")
    if len(cleaned) > MAX_VERSION_LENGTH or not _VERSION.fullmatch(cleaned):
        raise ValidationFailed(
            f"The version {cleaned[:40]!r} is not valid: use up to {MAX_VERSION_LENGTH} letters, digits, "
            "dots, dashes or underscores, such as 2027-01-01.",
            field="version",
        )
    return cleaned


def clean_policy_text(text: str) -> str:
    """The policy text as stored: line endings made ``\\n``, trailing space trimmed.
    Refuses empty text, NUL characters and texts over :data:`MAX_POLICY_CHARS`."""
    if not isinstance(text, str):
        raise ValidationFailed("The policy text must be text.", field="text")
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not cleaned:
        raise ValidationFailed("The policy text is empty.", field="text")
    if "\x00" in cleaned:
        raise ValidationFailed("The policy text contains a NUL character; is this a text file?", field="text")
    if len(cleaned) > MAX_POLICY_CHARS:
        raise ValidationFailed(
            f"The policy text is {len(cleaned):,} characters long; the limit is {MAX_POLICY_CHARS:,}.", field="text"
        )
    return cleaned + "\n"


def ordered(versions: Iterable[PolicyVersion]) -> list[PolicyVersion]:
    """Oldest first, by effective date (then version)."""
    return sorted(versions, key=lambda v: v.order_key)


def in_force(versions: Iterable[PolicyVersion], at: datetime) -> PolicyVersion | None:
    return max((v for v in versions if v.in_force_at(at)), key=lambda v: v.order_key, default=None)


def latest_accepted(versions: Iterable[PolicyVersion], acceptances: Iterable[PolicyAcceptance]) -> PolicyVersion | None:
    """The newest version (by effective date) the person has accepted."""
    by_label = {v.version: v for v in versions}
    accepted = [by_label[a.version] for a in acceptances if a.version in by_label]
    return max(accepted, key=lambda v: v.order_key, default=None)


def pending_material(
    versions: Iterable[PolicyVersion], acceptances: Iterable[PolicyAcceptance], at: datetime
) -> PolicyVersion | None:
    """The newest material version in force at ``at`` that is newer than the
    person's latest acceptance, or ``None`` when there is nothing to acknowledge."""
    versions = list(versions)
    material = max((v for v in versions if v.material and v.in_force_at(at)), key=lambda v: v.order_key,
                   default=None)
    if material is None:
        return None
    accepted = latest_accepted(versions, acceptances)
    if accepted is not None and accepted.order_key >= material.order_key:
        return None
    return material


def unrecorded_current(
    versions: Iterable[PolicyVersion], acceptances: Iterable[PolicyAcceptance], at: datetime
) -> PolicyVersion | None:
    """The version in force when the person's latest acceptance is older and no
    material change waits for acknowledgement: what continued use now accepts."""
    versions = list(versions)
    acceptances = list(acceptances)
    current = in_force(versions, at)
    if current is None or pending_material(versions, acceptances, at) is not None:
        return None
    accepted = latest_accepted(versions, acceptances)
    if accepted is not None and accepted.order_key >= current.order_key:
        return None
    return current
