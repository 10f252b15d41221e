"""Security headers on every response."""

from __future__ import annotations

from flask import Response, g

from caratzon_web.context import is_api_request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Same-origin requests keep the full referrer (the CSRF check over HTTPS needs it).
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    # Nothing personal may sit in a shared cache: API answers and signed-in pages.
    if is_api_request() or g.get("user") is not None:
        headers.setdefault("Cache-Control", "no-store")
    return response
