"""Accounts: users, their roles and designer profiles, and the rules for their fields.

Data minimisation (policy §3.1, P1): an account holds name, email, password hash,
role, business name and address, language and status. The date of birth asked at
sign-up is used once for the 18+ check (P45) and never stored: only the fact and
the time of the age confirmation are kept.
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime

import attrs
from attrs import frozen

from caratzon_core.errors import ValidationFailed

MINIMUM_AGE_YEARS = 18
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; a cap stops hashing abuse.
MAX_NAME_LENGTH = 200
MAX_BUSINESS_FIELD_LENGTH = 500
MAX_PROFILE_FIELD_LENGTH = 5000


class Role(enum.StrEnum):
    DESIGNER = "designer"
    BUYER = "buyer"
    MANUFACTURER = "manufacturer"
    PRODUCTION_MANAGER = "production_manager"
    ADMIN = "admin"


# Production managers and admins are created by an operator, never by sign-up.
SELF_SIGN_UP_ROLES = frozenset({Role.DESIGNER, Role.BUYER, Role.MANUFACTURER})


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    RESTRICTED = "restricted"  # processing restricted (P38): may still log in and rectify.
    CLOSED = "closed"  # login disabled at once; purged on schedule later.


class Language(enum.StrEnum):
    EN = "en"
    ZH_HANS = "zh-Hans"
    ZH_HANT = "zh-Hant"


@frozen
class User:
    id: str
    email: str
    name: str
    role: Role
    password_hash: str = attrs.field(repr=False)
    language: Language
    status: UserStatus
    business_name: str | None
    business_address: str | None
    age_confirmed_at: datetime
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    # P40: the person objected to AI processing of their data (message translation,
    # and later stories and imagery); nothing of theirs goes to the AI port.
    ai_objection_at: datetime | None = None
    # Issue #6, part 3: set only on the stand-in row that replaced an erased person.
    erased_at: datetime | None = None

    @property
    def can_log_in(self) -> bool:
        return self.status is not UserStatus.CLOSED


@frozen
class DesignerProfile:
    """P2: what a designer tells buyers about themselves."""

    user_id: str
    biography: str = ""
    brand_description: str = ""
    credentials: str = ""
    updated_at: datetime | None = None


# -- field rules -------------------------------------------------------------------

_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def normalize_email(raw: object) -> str:
    """Return the canonical (lower-case, trimmed) form; raise if it is not an address.

    Emails are unique case-insensitively, so the canonical form is what we store
    and compare. The check is syntactic only: deliverability is proven by mail.
    """
    if not isinstance(raw, str):
        raise ValidationFailed("Email must be text.", field="email")
    email = raw.strip().lower()
    problem = "Enter a valid email address, like name@example.com."
    if len(email) > 254 or email.count("@") != 1:
        raise ValidationFailed(problem, field="email")
    local, domain = email.split("@")
    if not local or len(local) > 64 or not _LOCAL_PART.match(local):
        raise ValidationFailed(problem, field="email")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise ValidationFailed(problem, field="email")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise ValidationFailed(problem, field="email")
    if labels[-1].isdigit():
        raise ValidationFailed(problem, field="email")
    return email


def clean_text(raw: object, *, field: str, max_length: int, required: bool) -> str | None:
    """Trim a free-text field, refuse control characters and over-long values."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise ValidationFailed(f"{field.replace('_', ' ').capitalize()} must be text.", field=field)
    # Browsers send line breaks in a textarea as CR LF: keep them as plain LF.
    value = raw.replace("\r\n", "\n").strip()
    if required and not value:
        raise ValidationFailed(f"{field.replace('_', ' ').capitalize()} is required.", field=field)
    if len(value) > max_length:
        raise ValidationFailed(
            f"{field.replace('_', ' ').capitalize()} must be at most {max_length} characters.", field=field
        )
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value) or "\x7f" in value:
        raise ValidationFailed(
            f"{field.replace('_', ' ').capitalize()} contains control characters.", field=field
        )
    return value or None


def parse_role(raw: object) -> Role:
    try:
        return Role(str(raw))
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationFailed(f"Unknown role {raw!r}; expected one of: {allowed}.", field="role") from None


def parse_language(raw: object) -> Language:
    try:
        return Language(str(raw))
    except ValueError:
        allowed = ", ".join(lang.value for lang in Language)
        raise ValidationFailed(
            f"Unknown language {raw!r}; expected one of: {allowed}.", field="language"
        ) from None


def age_on(birth: date, today: date) -> int:
    """Completed years between ``birth`` and ``today`` (a 29 February birthday
    counts as reached on 1 March in common years)."""
    years = today.year - birth.year
    if (today.month, today.day) < (birth.month, birth.day):
        years -= 1
    return years


def check_adult(birth: object, today: date) -> None:
    """P45: nobody under 18. Raise with a clear message; the caller stores nothing."""
    if not isinstance(birth, date) or isinstance(birth, datetime):
        raise ValidationFailed("Date of birth is required (YYYY-MM-DD).", field="date_of_birth")
    if birth > today:
        raise ValidationFailed("Date of birth cannot be in the future.", field="date_of_birth")
    if age_on(birth, today) < MINIMUM_AGE_YEARS:
        raise ValidationFailed(
            "Caratzon is only for people aged 18 or over; we have not stored any of your details.",
            field="date_of_birth",
        )
    if age_on(birth, today) > 130:
        raise ValidationFailed("Enter your real date of birth.", field="date_of_birth")


def check_password_shape(password: object) -> str:
    """Length rules; the common-password check is the PasswordStrength port's."""
    if not isinstance(password, str) or not password:
        raise ValidationFailed("Password is required.", field="password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Password must be at most {MAX_PASSWORD_LENGTH} characters.", field="password"
        )
    return password
