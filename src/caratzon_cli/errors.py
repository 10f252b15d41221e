"""One place that turns failures into one readable line on stderr and exit code 1.

Domain and configuration errors carry a message meant for people; database and
file-system failures are summarised in one line. Every line is redacted of the
secret key and the configuration's passwords and API key, and no traceback is
shown unless the operator asks for one with ``--debug``. Usage errors keep Typer's exit code 2.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import typer
from typer.core import TyperGroup

from caratzon_adapters.config import Config
from caratzon_cli.state import CliState
from caratzon_core.errors import DomainError

# Exceptions that belong to Typer's own flow (exit codes, aborts, usage errors).
_PASS_THROUGH = (typer.Exit, typer.Abort, typer.TyperException, EOFError)
_DATABASE_MODULES = ("sqlalchemy", "alembic", "psycopg", "sqlite3")
_UNAVAILABLE = ("OperationalError", "InterfaceError")


def first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def _is_database_error(exc: BaseException) -> bool:
    return any(cls.__module__.split(".")[0] in _DATABASE_MODULES for cls in type(exc).__mro__)


def describe(exc: Exception) -> str | None:
    """The one line to show for a failure we expect, or ``None`` for a bug."""
    if isinstance(exc, DomainError):
        return exc.message
    if _is_database_error(exc):
        # SQLAlchemy's own text continues with the statement and its parameters:
        # keep only the driver's first line.
        original = getattr(exc, "orig", None)
        detail = first_line(str(original if original is not None else exc)) or type(exc).__name__
        names = {cls.__name__ for cls in type(exc).__mro__}
        if names & set(_UNAVAILABLE):
            return f"The database is unavailable: {detail}"
        return f"Database error: {detail} (is the database migrated? run `caratzon db upgrade`)"
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or type(exc).__name__}{where}"
    return None


def redact(message: str, config: Config | None) -> str:
    """Hide the secret key, the database and SMTP passwords and the AI key, should
    any of them appear."""
    if config is None:
        return message
    secrets = [config.secret_key, config.gemini_api_key or ""]
    for url in (config.database_url, config.smtp_url or ""):
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password:
            secrets += [password, unquote(password)]  # as written, and as sent
    # Longest first, so a secret containing another is hidden whole.
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            message = message.replace(secret, "***")
    return message


def report(message: str, config: Config | None = None) -> None:
    typer.echo(f"error: {redact(message, config)}", err=True)


class ErrorReportingGroup(TyperGroup):
    """The root command group: every subcommand runs inside :meth:`invoke`."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except Exception as exc:
            obj = ctx.obj
            debug = isinstance(obj, CliState) and obj.debug
            config = obj.config_loaded if isinstance(obj, CliState) else None
            message = describe(exc)
            if message is None:
                if debug:
                    raise
                message = (
                    f"unexpected {type(exc).__name__}: {first_line(str(exc))} "
                    "(run `caratzon --debug ...` for the traceback)"
                )
            report(message, config)
            raise typer.Exit(1) from None
