"""Plain facts about the configured adapters, for the processors register
(:mod:`caratzon_core.processors`). No secret and no host name leaves this module:
only which kind of store, database, gateway, AI and mailer is configured, the S3
region, and whether the database or mail relay is on the portal's own server."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from caratzon_adapters.config import Config
from caratzon_core.processors import (
    AIKind,
    BlobStoreKind,
    DatabaseKind,
    DeploymentFacts,
    MailKind,
    PaymentsKind,
    Processor,
    register,
)

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _on_this_server(url: str) -> bool:
    """True for localhost or a Unix socket (``postgresql://user@/db?host=/run/postgresql``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in _LOCAL_HOSTS:
        return True
    if not host:
        socket_hosts = parse_qs(parts.query).get("host", [])
        return all(h.startswith("/") for h in socket_hosts)
    return False


def deployment_facts(config: Config) -> DeploymentFacts:
    s3 = config.blob_store.strip().lower().startswith("s3://")
    embedded = config.is_embedded_database
    return DeploymentFacts(
        blob_store=BlobStoreKind.S3 if s3 else BlobStoreKind.LOCAL,
        s3_region=config.s3_region if s3 else None,
        s3_custom_endpoint=s3 and bool(config.s3_endpoint_url),
        database=DatabaseKind.SQLITE if embedded else DatabaseKind.POSTGRESQL,
        database_on_portal_server=embedded or _on_this_server(config.database_url),
        # The offline ledger is the only gateway so far; Stripe Connect comes with its own issue.
        payments=PaymentsKind.OFFLINE,
        ai=AIKind.GEMINI if config.ai == "gemini" else AIKind.OFFLINE,
        ai_custom_endpoint=config.ai == "gemini" and bool(config.gemini_base_url),
        mail=MailKind.SMTP if config.smtp_url else MailKind.FILES,
        mail_relay_on_portal_server=bool(config.smtp_url) and _on_this_server(str(config.smtp_url)),
    )


def processors_register(config: Config) -> tuple[Processor, ...]:
    """The register for this deployment."""
    return register(deployment_facts(config))
