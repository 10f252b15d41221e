"""The one place that maps errors to HTTP: domain errors to statuses, JSON bodies
for the API (``{"error": {"code", "message", "field"?, "retry_at"?}}``) and pages
for people."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from caratzon_core.blobs import BlobTooLarge
from caratzon_core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    Throttled,
    Unauthenticated,
    ValidationFailed,
)
from caratzon_web.context import is_api_request, services

log = logging.getLogger(__name__)


class MalformedRequest(DomainError):
    """The request cannot be read at all: not JSON, not an object, wrong content type (400)."""

    code = "bad_request"


STATUSES: tuple[tuple[type[DomainError], int], ...] = (
    (ValidationFailed, 422),
    (Conflict, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Throttled, 429),
    (MalformedRequest, 400),
    (BlobTooLarge, 413),
)

BEARER_CHALLENGE = 'Bearer realm="caratzon-api"'
CSRF_MESSAGE = (
    "This form was not sent from a Caratzon page, or it expired (its security token "
    "is missing or invalid). Nothing was changed. Go back, reload the page and try again."
)


def status_for(exc: DomainError) -> int:
    for cls, status in STATUSES:
        if isinstance(exc, cls):
            return status
    return 400


def iso_utc(at: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (naive times are taken to be UTC already)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def human_bytes(n: int) -> str:
    """``20 * 2**20`` → ``"20 MB"``."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{round(n / scale, 1):g} {unit}"
    return f"{n} bytes"


def too_large_message() -> str:
    """For a body above the request's limit (werkzeug stops reading it)."""
    limit = request.max_content_length
    if limit is None:
        return "The request is too large."
    return (f"The request is larger than the {human_bytes(limit)} this address accepts. "
            "Nothing was stored.")


def retry_after_seconds(retry_at: datetime) -> int:
    now = services().deps.clock.now()
    if retry_at.tzinfo is None:
        retry_at = retry_at.replace(tzinfo=UTC)
    return max(1, math.ceil((retry_at - now).total_seconds()))


# -- the JSON API -------------------------------------------------------------------------


def api_error(status: int, code: str, message: str, **extra: Any) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    error.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify({"error": error})
    response.status_code = status
    return response


def api_domain_error(exc: DomainError) -> Response:
    extra: dict[str, Any] = {"field": exc.field}
    details = getattr(exc, "details", None)
    if details:
        extra["details"] = details
    if isinstance(exc, Throttled):
        extra["retry_at"] = iso_utc(exc.retry_at)
    response = api_error(status_for(exc), exc.code, exc.message, **extra)
    if isinstance(exc, Throttled):
        response.headers["Retry-After"] = str(retry_after_seconds(exc.retry_at))
    if isinstance(exc, Unauthenticated):
        response.headers["WWW-Authenticate"] = BEARER_CHALLENGE
    return response


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def api_http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status == 404:
        message = "There is no such API route. The routes are listed at /api/v1/openapi.json."
    elif status >= 500:
        message = "Something went wrong on our side; it has been logged."
    else:
        message = exc.description or exc.name
    response = api_error(status, _http_code(exc), message)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return response


# -- pages -------------------------------------------------------------------------------


def error_page(status: int, title: str, message: str, **context: Any) -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, message=message, **context), status


_PAGE_TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Page not found",
    409: "Already exists",
    413: "File too large",
    422: "Please check your input",
    429: "Too many attempts",
}


def page_domain_error(exc: DomainError) -> Response | tuple[str, int]:
    status = status_for(exc)
    title = _PAGE_TITLES.get(status, "Something went wrong")
    if isinstance(exc, Throttled):
        body, status = error_page(status, title, exc.message, retry_at=exc.retry_at)
        response = Response(body, status)
        response.headers["Retry-After"] = str(retry_after_seconds(exc.retry_at))
        return response
    return error_page(status, title, exc.message)


def page_http_error(exc: HTTPException) -> tuple[str, int]:
    status = exc.code or 500
    if status >= 500:
        return error_page(status, "Something went wrong", "Something went wrong on our side; it has been logged.")
    return error_page(status, exc.name, exc.description or exc.name)


# -- registration ---------------------------------------------------------------------------


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        return api_domain_error(exc) if is_api_request() else page_domain_error(exc)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        log.info("CSRF check failed: %s", exc.description)
        return error_page(400, "Form rejected", CSRF_MESSAGE)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> Any:
        message = too_large_message()
        if is_api_request():
            return api_error(413, _http_code(exc), message)
        return error_page(413, _PAGE_TITLES[413], message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if exc.code and exc.code >= 500:
            log.error("Server error", exc_info=getattr(exc, "original_exception", None) or exc)
        return api_http_error(exc) if is_api_request() else page_http_error(exc)
