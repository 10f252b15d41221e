"""The SMTP mailer (issue #4), configured by one URL (``CARATZON_SMTP_URL``)::

    smtp://user:pass@host:587?starttls=1      plain connection upgraded with STARTTLS
    smtps://user:pass@host                    TLS from the first byte (port 465)
    smtp://localhost:1025                     no login (a local relay or mail catcher)

Query options: ``starttls=1`` and ``timeout=<seconds>`` (default 10). User name
and password are percent-decoded. Every message carries the Message-ID the
outbox gave it, so a retried delivery is recognisably the same message and
receivers can de-duplicate it.

Any failure to connect, log in or hand over the message raises
:class:`MailDeliveryFailed`, whose text never contains the password;
``retryable`` is false only when the server refused for good (a 5xx reply).
"""

from __future__ import annotations

import smtplib
import ssl
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from attrs import field, frozen

from caratzon_adapters.mail.files import DEFAULT_SENDER, compose
from caratzon_core.errors import DomainError

DEFAULT_TIMEOUT = 10.0
_TRUE = {"1", "true", "yes", "on"}


class MailDeliveryFailed(DomainError):
    """The mail server could not be reached, refused the login or the message."""

    code = "mail_failed"

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


def _mask(_password: str | None) -> str:
    return "None" if _password is None else "'***'"


@frozen
class SmtpMailer:
    """Implements :class:`caratzon_core.ports.Mailer` over SMTP with :mod:`smtplib`."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=_mask)
    use_tls: bool = False  # smtps: TLS from the start
    starttls: bool = False
    timeout: float = DEFAULT_TIMEOUT
    sender: str = DEFAULT_SENDER
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str, *, sender: str = DEFAULT_SENDER) -> SmtpMailer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("the SMTP URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("the SMTP URL has no host")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("the SMTP URL has an invalid port") from None
        query = dict(parse_qsl(parts.query))
        unknown = sorted(set(query) - {"starttls", "timeout"})
        if unknown:
            raise ValueError(f"unknown SMTP URL option(s): {', '.join(unknown)}")
        use_tls = parts.scheme == "smtps"
        starttls = query.get("starttls", "0").lower() in _TRUE
        if use_tls and starttls:
            raise ValueError("smtps:// is already encrypted: drop starttls=1")
        try:
            timeout = float(query.get("timeout", DEFAULT_TIMEOUT))
        except ValueError:
            raise ValueError("the SMTP URL timeout must be a number of seconds") from None
        if timeout <= 0:
            raise ValueError("the SMTP URL timeout must be positive")
        return cls(
            host=parts.hostname,
            port=port or (465 if use_tls else 587 if starttls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            use_tls=use_tls,
            starttls=starttls,
            timeout=timeout,
            sender=sender,
        )

    def send(self, *, to: str, subject: str, body: str, message_id: str) -> None:
        message = compose(sender=self.sender, to=to, subject=subject, body=body, message_id=message_id)
        where = f"{self.host}:{self.port}"
        try:
            with self._connect() as client:
                if self.starttls:
                    client.starttls(context=self._context())
                    client.ehlo()
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(message, to_addrs=[to])
        except smtplib.SMTPAuthenticationError as exc:
            raise MailDeliveryFailed(
                f"the mail server {where} refused the login for {self.username!r} ({exc.smtp_code})",
                retryable=False,
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _reply in exc.recipients.values()]
            raise MailDeliveryFailed(
                f"the mail server {where} refused the recipient {to!r} ({', '.join(map(str, codes))})",
                retryable=not all(500 <= code < 600 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise MailDeliveryFailed(
                f"the mail server {where} refused the message ({exc.smtp_code} {self._scrub(exc.smtp_error)})",
                retryable=not 500 <= exc.smtp_code < 600,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise MailDeliveryFailed(
                f"could not deliver mail via {where}: {type(exc).__name__}: {self._scrub(exc)}"
            ) from None

    def _connect(self) -> smtplib.SMTP:
        if self.use_tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()

    def _scrub(self, detail: Any) -> str:
        """Server replies and OS errors as text, with the password (should a server
        echo it) replaced."""
        text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        if self.password:
            text = text.replace(self.password, "***")
        return text
