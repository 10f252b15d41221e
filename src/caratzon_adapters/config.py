"""Configuration from the environment, with embedded defaults that just work:
SQLite and local files under ``CARATZON_DATA_DIR`` and a secret generated once."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import attrs
from attrs import frozen

from caratzon_core.errors import DomainError


class ConfigError(DomainError):
    code = "config_error"


def _load_or_create_secret(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL + 0600: never readable by others, and two first starts can't both write.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


_AWS_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")


def _flag(raw: str | None) -> bool:
    return (raw or "").strip().lower() in ("1", "true", "yes", "on")


def _mask_url(url: str) -> str:
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"


def _check_smtp_url(url: str) -> None:
    """Refuse a malformed CARATZON_SMTP_URL at start-up, without echoing its password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("CARATZON_SMTP_URL must look like smtp://user:password@host:587?starttls=1 "
                          "or smtps://host:465.")
    try:
        _ = parts.port
    except ValueError:
        raise ConfigError("CARATZON_SMTP_URL has a port that is not a number.") from None


def mail_domain(sender: str) -> str:
    """The domain of the sender address ("Caratzon <no-reply@example.com>" → example.com),
    used on the right of every Message-ID."""
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    domain = address.rsplit("@", 1)[-1].strip().lower()
    return domain if domain and "." in domain and "@" in address else "caratzon.local"


@frozen
class Config:
    data_dir: Path
    database_url: str
    secret_key: str = attrs.field(repr=False)
    token_ttl: timedelta = timedelta(days=30)
    # "standard" is argon2id with the library's defaults; "fast" is for test suites only.
    password_hashing: str = "standard"
    session_cookie_secure: bool = False
    # Let ProxyFix trust one proxy's X-Forwarded-* headers (only behind a real proxy).
    behind_proxy: bool = False
    # "local" (files under data_dir/blobs) or "s3://bucket/prefix".
    blob_store: str = "local"
    s3_endpoint_url: str | None = None
    # The bucket's AWS region: signs links and is named in the processors register.
    s3_region: str = "us-east-1"
    max_cad_mb: int = 200
    max_image_mb: int = 20
    link_ttl_seconds: int = 300
    # Issue #4: mail (files under data_dir/mail unless an SMTP URL is given), AI
    # ("offline" never pretends to translate; "gemini" needs an API key), offers.
    smtp_url: str | None = attrs.field(default=None, repr=False)
    mail_from: str = "Caratzon <no-reply@caratzon.local>"
    base_url: str = "http://127.0.0.1:8000"
    ai: str = "offline"
    gemini_api_key: str | None = attrs.field(default=None, repr=False)
    gemini_base_url: str | None = None
    gemini_model: str | None = None
    offer_ttl_days: int = 7

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Config:
        """Read the environment; keyword overrides win and are applied before any
        default is derived (a ``data_dir`` override moves the database and secret too)."""
        env = os.environ if env is None else env
        data_dir = Path(str(overrides.pop("data_dir", None) or env.get("CARATZON_DATA_DIR") or "./caratzon-data"))
        data_dir = data_dir.resolve()
        database_url = str(
            overrides.pop("database_url", None)
            or env.get("CARATZON_DATABASE_URL")
            or f"sqlite:///{data_dir / 'caratzon.sqlite3'}"
        )
        secret = str(
            overrides.pop("secret_key", None) or env.get("CARATZON_SECRET_KEY") or _load_or_create_secret(data_dir)
        )
        if len(secret) < 32:
            raise ConfigError("CARATZON_SECRET_KEY must be at least 32 characters.")
        try:
            ttl_hours = int(env.get("CARATZON_TOKEN_TTL_HOURS", "720"))
        except ValueError:
            raise ConfigError("CARATZON_TOKEN_TTL_HOURS must be a whole number of hours.") from None
        if ttl_hours < 1:
            raise ConfigError("CARATZON_TOKEN_TTL_HOURS must be at least 1.")
        hashing = env.get("CARATZON_PASSWORD_HASHING", "standard")
        if hashing not in ("standard", "fast"):
            raise ConfigError("CARATZON_PASSWORD_HASHING must be 'standard' or 'fast'.")
        def whole(name: str, default: int, low: int, high: int) -> int:
            raw = env.get(name, str(default))
            try:
                value = int(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a whole number.") from None
            if not low <= value <= high:
                raise ConfigError(f"{name} must be between {low} and {high}.")
            return value

        values: dict[str, object] = {
            "data_dir": data_dir,
            "database_url": database_url,
            "secret_key": secret,
            "token_ttl": timedelta(hours=ttl_hours),
            "password_hashing": hashing,
            "session_cookie_secure": _flag(env.get("CARATZON_SECURE_COOKIES")),
            "behind_proxy": _flag(env.get("CARATZON_BEHIND_PROXY")),
            "blob_store": env.get("CARATZON_BLOB_STORE") or "local",
            "s3_endpoint_url": env.get("CARATZON_S3_ENDPOINT_URL") or None,
            "s3_region": (env.get("CARATZON_S3_REGION") or env.get("AWS_REGION")
                          or env.get("AWS_DEFAULT_REGION") or "us-east-1").strip().lower(),
            "max_cad_mb": whole("CARATZON_MAX_CAD_MB", 200, 1, 2048),
            "max_image_mb": whole("CARATZON_MAX_IMAGE_MB", 20, 1, 512),
            "link_ttl_seconds": whole("CARATZON_LINK_TTL_SECONDS", 300, 10, 7 * 24 * 3600),
            "smtp_url": env.get("CARATZON_SMTP_URL") or None,
            "mail_from": env.get("CARATZON_MAIL_FROM") or "Caratzon <no-reply@caratzon.local>",
            "base_url": (env.get("CARATZON_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            "ai": (env.get("CARATZON_AI") or "offline").strip().lower(),
            "gemini_api_key": env.get("CARATZON_GEMINI_API_KEY") or None,
            "gemini_base_url": env.get("CARATZON_GEMINI_BASE_URL") or None,
            "gemini_model": env.get("CARATZON_GEMINI_MODEL") or None,
            "offer_ttl_days": whole("CARATZON_OFFER_TTL_DAYS", 7, 1, 90),
        }
        if values["ai"] not in ("offline", "gemini"):
            raise ConfigError("CARATZON_AI must be 'offline' or 'gemini'.")
        if values["ai"] == "gemini" and not values["gemini_api_key"] and "gemini_api_key" not in overrides:
            raise ConfigError("CARATZON_AI=gemini needs CARATZON_GEMINI_API_KEY.")
        if not _AWS_REGION.fullmatch(str(values["s3_region"])):
            raise ConfigError("CARATZON_S3_REGION must be an AWS region such as 'us-east-1' or 'eu-west-2'.")
        smtp = values["smtp_url"]
        if smtp:
            _check_smtp_url(str(smtp))
        base = str(values["base_url"])
        if not base.startswith(("http://", "https://")):
            raise ConfigError("CARATZON_BASE_URL must start with http:// or https://.")
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def is_embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")

    def masked(self) -> dict[str, str]:
        """The effective configuration with secrets hidden, for `caratzon config show`."""
        return {
            "CARATZON_DATA_DIR": str(self.data_dir),
            "CARATZON_DATABASE_URL": _mask_url(self.database_url),
            "CARATZON_SECRET_KEY": "***" + ("" if not self.secret_key else f" ({len(self.secret_key)} chars)"),
            "CARATZON_TOKEN_TTL_HOURS": str(int(self.token_ttl.total_seconds() // 3600)),
            "CARATZON_PASSWORD_HASHING": self.password_hashing,
            "CARATZON_SECURE_COOKIES": str(self.session_cookie_secure).lower(),
            "CARATZON_BEHIND_PROXY": str(self.behind_proxy).lower(),
            "CARATZON_BLOB_STORE": self.blob_store,
            "CARATZON_S3_ENDPOINT_URL": self.s3_endpoint_url or "",
            "CARATZON_S3_REGION": self.s3_region,
            "CARATZON_MAX_CAD_MB": str(self.max_cad_mb),
            "CARATZON_MAX_IMAGE_MB": str(self.max_image_mb),
            "CARATZON_LINK_TTL_SECONDS": str(self.link_ttl_seconds),
            "CARATZON_SMTP_URL": _mask_url(self.smtp_url) if self.smtp_url else "(none: .eml files under data dir)",
            "CARATZON_MAIL_FROM": self.mail_from,
            "CARATZON_BASE_URL": self.base_url,
            "CARATZON_AI": self.ai,
            "CARATZON_GEMINI_API_KEY": "***" if self.gemini_api_key else "",
            "CARATZON_GEMINI_BASE_URL": self.gemini_base_url or "",
            "CARATZON_GEMINI_MODEL": self.gemini_model or "",
            "CARATZON_OFFER_TTL_DAYS": str(self.offer_ttl_days),
        }
