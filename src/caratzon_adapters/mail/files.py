"""The default mailer (issue #4): each message becomes one RFC 5322 ``.eml`` file
under a directory (``<data dir>/mail`` in the bootstrap), for development, demos
and tests — open it in any mail client.

The file name comes from the Message-ID alone, so sending the same message again
(a retried outbox delivery) finds the file already there and writes nothing: one
message, one file. Files are written to a temporary name in the same directory,
fsync'ed and moved into place with :func:`os.replace`, so a reader never sees
half a message. Two concurrent sends of the same id still leave a single file.

:func:`compose` builds the message for every mailer, so the SMTP adapter sends
exactly what this one writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from attrs import field, frozen

DEFAULT_SENDER = "Caratzon <no-reply@caratzon.local>"

# RFC 5322 wants CRLF line endings at rest as on the wire; 7-bit transfer encoding
# (quoted-printable or base64) lets any relay carry the UTF-8 body, 8BITMIME or not.
EML_POLICY = policy.default.clone(linesep="\r\n", cte_type="7bit")

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def compose(
    *, sender: str, to: str, subject: str, body: str, message_id: str, date: datetime | None = None
) -> EmailMessage:
    """One plain-text UTF-8 message. Header values may not contain CR or LF: the
    email package raises :class:`ValueError` rather than let a header be injected."""
    for name, value in (("To", to), ("Subject", subject), ("Message-ID", message_id), ("From", sender)):
        if "\r" in value or "\n" in value:
            raise ValueError(f"the {name} header may not contain a line break")
    message = EmailMessage(policy=EML_POLICY)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["MIME-Version"] = "1.0"
    message.set_content(body, charset="utf-8")
    return message


def file_name_for(message_id: str) -> str:
    """The ``.eml`` name for ``message_id``: readable, safe on any file system, and
    distinct for distinct ids (a hash of the exact id is part of it)."""
    readable = _UNSAFE_NAME.sub("_", message_id.strip("<>")).strip("._-")[:80] or "message"
    digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:16]
    return f"{readable}-{digest}.eml"


@frozen
class FileMailer:
    """Implements :class:`caratzon_core.ports.Mailer` by writing ``.eml`` files."""

    directory: Path = field(converter=Path)
    sender: str = DEFAULT_SENDER
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), repr=False)

    def path_for(self, message_id: str) -> Path:
        return self.directory / file_name_for(message_id)

    def send(self, *, to: str, subject: str, body: str, message_id: str) -> None:
        target = self.path_for(message_id)
        if target.exists():
            return  # already sent: a retry must not write a second copy
        message = compose(
            sender=self.sender, to=to, subject=subject, body=body, message_id=message_id, date=self.now()
        )
        data = message.as_bytes()
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".eml", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise

    def sent(self) -> list[Path]:
        """Every message written so far, oldest first (for tests and the demo)."""
        if not self.directory.is_dir():
            return []
        files = [p for p in self.directory.glob("*.eml") if not p.name.startswith(".tmp-")]
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))
