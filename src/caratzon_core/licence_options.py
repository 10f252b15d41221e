"""Licence options (issue #4, part 1): the licensing selections a designer offers
on a design, each a named set of terms with list prices.

A buyer opens a negotiation from an option. An option's term starts on the day
it was written; when a buyer opens later, the same number of months starts on
the opening day instead (:func:`terms_for_opening`), so a listed option never
offers a term that has already begun.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import attrs
from attrs import frozen

from caratzon_core.accounts import clean_text
from caratzon_core.errors import ValidationFailed
from caratzon_core.licensing import LicenceTerms, Term

MAX_OPTION_NAME = 120
MAX_OPTIONS_PER_DESIGN = 12


class OptionStatus(enum.StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"  # no new negotiations; open ones and agreements keep their terms


@frozen
class LicenceOption:
    id: str
    design_id: str
    designer_id: str
    name: str
    terms: LicenceTerms
    status: OptionStatus
    created_at: datetime
    retired_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status is OptionStatus.ACTIVE


def check_option_name(raw: object) -> str:
    name = clean_text(raw, field="name", max_length=MAX_OPTION_NAME, required=True)
    assert name is not None
    return name


def terms_for_opening(option: LicenceOption, today: date) -> LicenceTerms:
    """The option's terms as offered today: a start already past moves to today."""
    if option.terms.term.start >= today:
        return option.terms
    return attrs.evolve(option.terms, term=Term(today, option.terms.term.months))


def check_room(existing_active: int) -> None:
    if existing_active >= MAX_OPTIONS_PER_DESIGN:
        raise ValidationFailed(
            f"A design offers at most {MAX_OPTIONS_PER_DESIGN} licence options; retire one first.", field="options"
        )


def retire(option: LicenceOption, now: datetime) -> LicenceOption:
    if not option.active:
        return option
    return attrs.evolve(option, status=OptionStatus.RETIRED, retired_at=now)
