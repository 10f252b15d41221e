"""The Caratzon web portal and JSON API.

There is no module-level app: call :func:`create_app`. The portal reaches the
adapters only through :mod:`caratzon_adapters.bootstrap`.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.config import Config
from caratzon_web import (
    account,
    api,
    api_designs,
    api_export,
    api_licensing,
    api_orders,
    api_privacy,
    api_retention,
    auth,
    blobs,
    catalog,
    consent,
    errors,
    export_pages,
    health,
    legal_processors,
    pages,
    privacy_center,
    production,
    retention_admin,
    studio,
    trade,
)
from caratzon_web.context import EXTENSION_KEY, load_session_user, template_globals
from caratzon_web.converters import make_api_converter
from caratzon_web.extensions import csrf
from caratzon_web.headers import add_security_headers

SESSION_LIFETIME = timedelta(hours=12)


def create_app(config: Config | None = None, *, services: Services | None = None) -> Flask:
    """Build the portal. ``services`` (tests pass their own) defaults to
    :func:`bootstrap` over ``config``, which defaults to the environment."""
    if services is None:
        config = config or Config.from_env()
        services = bootstrap(config, migrate=config.is_embedded_database)
    config = config or services.config

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_NAME="caratzon_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        # The ceiling for the upload endpoints (the largest asset plus 1 MB); every
        # other request is held to 1 MB by blobs.limit_request_body. Werkzeug
        # spools file parts above 500 KB to a temporary file, never to memory.
        MAX_CONTENT_LENGTH=blobs.max_upload_body(config.max_cad_mb, config.max_image_mb),
        # A form's CSRF token lives as long as the session that holds it.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = services
    converter = make_api_converter()
    api_designs.register_hooks(converter)
    app.extensions["caratzon_api_converter"] = converter

    if config.behind_proxy:
        # Trust exactly one proxy's X-Forwarded-For/-Proto/-Host (never set this
        # when clients can reach the app directly: they could forge their address).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    # Before the CSRF check, which reads the form (and so the body).
    app.before_request(blobs.limit_request_body)
    csrf.init_app(app)
    # The JSON API authenticates ONLY with `Authorization: Bearer` tokens and never
    # reads the session cookie, so a cross-site form cannot act through it: CSRF
    # protection does not apply there. (The scroll beacon, which does use the
    # session, is the page route POST /beacon, CSRF-checked: see consent.py.)
    csrf.exempt(api.bp)
    csrf.exempt(api_designs.bp)
    csrf.exempt(api_licensing.bp)
    csrf.exempt(api_orders.bp)
    csrf.exempt(api_privacy.bp)
    csrf.exempt(api_export.bp)
    csrf.exempt(api_retention.bp)

    app.before_request(load_session_user)
    app.context_processor(template_globals)
    app.context_processor(consent.banner_context)
    app.after_request(add_security_headers)
    errors.register(app)

    app.register_blueprint(pages.bp)
    app.register_blueprint(legal_processors.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(studio.bp)
    app.register_blueprint(catalog.bp)
    app.register_blueprint(trade.bp)
    app.register_blueprint(production.bp)
    app.register_blueprint(consent.bp)
    app.register_blueprint(privacy_center.bp)
    app.register_blueprint(retention_admin.bp)
    app.register_blueprint(blobs.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_designs.bp)
    app.register_blueprint(api_licensing.bp)
    app.register_blueprint(api_orders.bp)
    app.register_blueprint(api_privacy.bp)
    app.register_blueprint(api_export.bp)
    app.register_blueprint(api_retention.bp)
    app.register_blueprint(export_pages.bp)
    app.register_blueprint(health.bp)
    return app


__all__ = ["create_app"]
