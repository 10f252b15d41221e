"""Rows <-> frozen domain objects, written out by hand.

Times arrive as aware UTC datetimes already (see :class:`~caratzon_adapters.sql.tables.UtcDateTime`);
:func:`utc` is applied again here so the domain never sees a naive time even if a
column is read through plain SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import RowMapping

from caratzon_core.accounts import DesignerProfile, Language, Role, User, UserStatus
from caratzon_core.audit import AuditEntry, ChainHead, Checkpoint
from caratzon_core.credentials import ApiToken, LoginAttempt, ThrottleKey
from caratzon_core.privacy import PolicyAcceptance, PolicyVersion

Row = RowMapping | Mapping[str, Any]


def utc(value: datetime) -> datetime:
    """Aware UTC: a naive value (SQLite) is UTC by construction."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


# -- users and profiles ------------------------------------------------------------


def user_to_row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email.lower(),
        "name": user.name,
        "role": user.role.value,
        "password_hash": user.password_hash,
        "language": user.language.value,
        "status": user.status.value,
        "business_name": user.business_name,
        "business_address": user.business_address,
        "age_confirmed_at": user.age_confirmed_at,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "closed_at": user.closed_at,
    }


def user_from_row(row: Row) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        role=Role(row["role"]),
        password_hash=row["password_hash"],
        language=Language(row["language"]),
        status=UserStatus(row["status"]),
        business_name=row["business_name"],
        business_address=row["business_address"],
        age_confirmed_at=utc(row["age_confirmed_at"]),
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
        closed_at=utc_or_none(row["closed_at"]),
    )


def profile_to_row(profile: DesignerProfile) -> dict[str, Any]:
    return {
        "user_id": profile.user_id,
        "biography": profile.biography,
        "brand_description": profile.brand_description,
        "credentials": profile.credentials,
        "updated_at": profile.updated_at,
    }


def profile_from_row(row: Row) -> DesignerProfile:
    return DesignerProfile(
        user_id=row["user_id"],
        biography=row["biography"],
        brand_description=row["brand_description"],
        credentials=row["credentials"],
        updated_at=utc_or_none(row["updated_at"]),
    )


# -- credentials -------------------------------------------------------------------


def token_to_row(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "user_id": token.user_id,
        "digest": token.digest,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "label": token.label,
    }


def token_from_row(row: Row) -> ApiToken:
    return ApiToken(
        id=row["id"],
        user_id=row["user_id"],
        digest=row["digest"],
        created_at=utc(row["created_at"]),
        expires_at=utc(row["expires_at"]),
        revoked_at=utc_or_none(row["revoked_at"]),
        label=row["label"],
    )


def attempt_to_row(attempt: LoginAttempt) -> dict[str, Any]:
    return {
        "kind": attempt.kind.value,
        "key": attempt.key,
        "at": attempt.at,
        "success": attempt.success,
    }


def attempt_from_row(row: Row) -> LoginAttempt:
    return LoginAttempt(
        kind=ThrottleKey(row["kind"]),
        key=row["key"],
        at=utc(row["at"]),
        success=bool(row["success"]),
    )


# -- privacy -----------------------------------------------------------------------


def policy_to_row(version: PolicyVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "effective_date": version.effective_date,
        "material": version.material,
    }


def policy_from_row(row: Row) -> PolicyVersion:
    return PolicyVersion(
        version=row["version"],
        effective_date=as_date(row["effective_date"]),
        material=bool(row["material"]),
    )


def acceptance_to_row(acceptance: PolicyAcceptance) -> dict[str, Any]:
    return {
        "user_id": acceptance.user_id,
        "version": acceptance.version,
        "accepted_at": acceptance.accepted_at,
    }


def acceptance_from_row(row: Row) -> PolicyAcceptance:
    return PolicyAcceptance(
        user_id=row["user_id"],
        version=row["version"],
        accepted_at=utc(row["accepted_at"]),
    )


# -- audit -------------------------------------------------------------------------


def entry_to_row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "outcome": entry.outcome,
        "client_address": entry.client_address,
        "detail": dict(entry.detail),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def entry_from_row(row: Row) -> AuditEntry:
    detail = row["detail"]
    return AuditEntry(
        seq=int(row["seq"]),
        at=utc(row["at"]),
        actor=row["actor"],
        action=row["action"],
        subject=row["subject"],
        outcome=row["outcome"],
        client_address=row["client_address"],
        detail=dict(detail) if detail else {},
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def head_from_row(row: Row | None) -> ChainHead | None:
    """The sentinel row (seq 0) written by the first migration means "no entries yet"."""
    if row is None or int(row["seq"]) == 0:
        return None
    return ChainHead(seq=int(row["seq"]), hash=row["hash"], signature=row["signature"])


def checkpoint_to_row(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "pruned_at": checkpoint.pruned_at,
        "signature": checkpoint.signature,
    }


def checkpoint_from_row(row: Row) -> Checkpoint:
    return Checkpoint(
        seq=int(row["seq"]),
        hash=row["hash"],
        pruned_at=utc(row["pruned_at"]),
        signature=row["signature"],
    )
