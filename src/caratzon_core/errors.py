"""Domain errors: each carries a stable machine code, a message a person can read,
and (for validation) the field at fault. The web and CLI layers map them to HTTP
statuses and exit codes in one place each."""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Input breaks a rule (422). ``details`` lists every problem found, one per
    field, when a use case checks several fields at once (forms show them all)."""

    code = "validation_failed"

    def __init__(self, message: str, *, field: str | None = None, details: list[dict[str, str]] | None = None):
        super().__init__(message, field=field)
        self.details = details or ([{"field": field, "message": message}] if field else [])

    @classmethod
    def collect(cls, problems: list[ValidationFailed]) -> ValidationFailed:
        """One error carrying all ``problems``; the first is the headline."""
        first = problems[0]
        details = [d for p in problems for d in p.details]
        return cls(first.message, field=first.field, details=details)

    def by_field(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for d in self.details:
            out.setdefault(d["field"], d["message"])
        if not out and self.field:
            out[self.field] = self.message
        return out


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The request collides with existing state, e.g. a duplicate email (409)."""

    code = "conflict"


class Unauthenticated(DomainError):
    """Credentials missing or wrong (401). The message never says which part was wrong."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """The access policy denied the action; the message is the policy's reason (403)."""

    code = "forbidden"


class Throttled(DomainError):
    """Too many failures: locked until ``retry_at`` (429)."""

    code = "throttled"

    def __init__(self, message: str, *, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class AIUnavailable(DomainError):
    """The AI service could not give an honest answer (outage, quota, refusal or a
    malformed reply). Callers show the original text marked "not translated"."""

    code = "ai_unavailable"
