"""Mailer adapters (issue #4): ``.eml`` files under the data dir by default, SMTP
when ``CARATZON_SMTP_URL`` is set. Build one with :func:`make_mailer`; both use
only the standard library."""

from __future__ import annotations

from pathlib import Path

from caratzon_adapters.mail.files import DEFAULT_SENDER, FileMailer, compose
from caratzon_adapters.mail.smtp import MailDeliveryFailed, SmtpMailer


def make_mailer(
    *, smtp_url: str | None, data_dir: Path, sender: str = DEFAULT_SENDER
) -> FileMailer | SmtpMailer:
    """The SMTP mailer for ``smtp_url``, or files under ``data_dir/mail`` without one."""
    if smtp_url:
        return SmtpMailer.from_url(smtp_url, sender=sender)
    return FileMailer(Path(data_dir) / "mail", sender=sender)


__all__ = ["DEFAULT_SENDER", "FileMailer", "MailDeliveryFailed", "SmtpMailer", "compose", "make_mailer"]
