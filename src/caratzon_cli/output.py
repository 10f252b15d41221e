"""Output helpers: rich tables for people, plain JSON for scripts (stdout), and
notes and progress on stderr so that stdout stays clean for pipes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text


def out() -> Console:
    # Built per call: the test runner swaps sys.stdout between invocations. Into a
    # pipe or file, tables may be as wide as they need: folded ids and emails
    # cannot be copied.
    wide = not sys.stdout.isatty() and not os.environ.get("COLUMNS")
    return Console(highlight=False, width=200 if wide else None)


def err() -> Console:
    return Console(stderr=True, highlight=False)


def print_json(value: object) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def note(message: str) -> None:
    """A line for people on stderr (no markup: the message is printed as is)."""
    err().print(Text(message))


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    t = Table(title=title, title_justify="left")
    for column in columns:
        t.add_column(column, overflow="fold")
    for row in rows:
        # Text(), not str: a name like "[bold]" must print as typed, not as markup.
        t.add_row(*(Text("" if value is None else str(value)) for value in row))
    return t
