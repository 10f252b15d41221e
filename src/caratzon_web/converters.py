"""The JSON API's own cattrs converter: strict input into the core's command classes.

The core's commands are plain attrs classes with no idea of JSON; this edge decides
what JSON may say. Unknown keys are refused (``forbid_extra_keys``), text must be a
JSON string (no silent ``str(123)``), and dates must be ``YYYY-MM-DD``. Structuring
errors become one :class:`InvalidBody` (a 422) that names the first field at fault
and lists every problem.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from caratzon_core.errors import ValidationFailed

T = TypeVar("T")

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InvalidBody(ValidationFailed):
    """A JSON body that does not fit the command: wrong types, missing or unknown keys."""

    def __init__(self, problems: list[tuple[str | None, str]]) -> None:
        field, message = problems[0]
        super().__init__(message, field=field, details=[{"field": f or "body", "message": m} for f, m in problems])


class _FieldProblem(ValueError):
    """Raised by our hooks; its text is shown to the client as it is."""


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def _structure_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise _FieldProblem("must be a string")
    return value


def _structure_date(value: object, _: type) -> date:
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise _FieldProblem("must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _FieldProblem("is not a real calendar date") from None


def parse_iso_date(value: str, *, field: str) -> date | None:
    """The same date rule for HTML forms (empty means not given)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return _structure_date(value, date)
    except _FieldProblem as e:
        raise ValidationFailed(f"{_label(field)} {e}.", field=field) from None


def _structure_bool(value: object, _type: type) -> bool:
    # JSON true/false only: no "yes", 1 or "false" (which bool() would call true).
    if not isinstance(value, bool):
        raise _FieldProblem("must be true or false")
    return value


def make_api_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(date, _structure_date)
    return converter


def structure(converter: cattrs.Converter, body: dict[str, Any], cls: type[T]) -> T:
    try:
        return converter.structure(body, cls)
    except ClassValidationError as exc:
        raise InvalidBody(_problems(exc, cls)) from None


def _problems(exc: ClassValidationError, cls: type) -> list[tuple[str | None, str]]:
    allowed = ", ".join(a.name for a in attrs.fields(cls))
    extra: list[tuple[str | None, str]] = []
    fields: list[tuple[str | None, str]] = []
    with_notes, without_notes = exc.group_exceptions()
    for sub in without_notes:
        if isinstance(sub, ForbiddenExtraKeysError):
            for key in sorted(sub.extra_fields):
                extra.append((key, f"Unknown field '{key}'; the allowed fields are: {allowed}."))
        else:
            fields.append((None, "The request body does not fit: " + "; ".join(cattrs.transform_error(exc))))
    for sub, note in with_notes:
        name = note.name
        if isinstance(sub, KeyError):
            fields.append((name, f"{_label(name)} is required."))
        elif isinstance(sub, _FieldProblem):
            fields.append((name, f"{_label(name)} {sub}."))
        else:
            fields.append((name, f"{_label(name)} has the wrong type."))
    return extra + fields or [(None, "The request body does not fit.")]


_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})


def query_flag(args: Any, name: str) -> bool:
    """A true/false query parameter (absent is false); anything else is a 422 naming it."""
    raw = str(args.get(name, "")).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValidationFailed(f"{name} is true or false.", field=name)
