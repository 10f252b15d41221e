"""The trade catalog: what a search asks for and what a page of results holds.

Only published designs appear (P19: designer profiles and designs are visible to
buyers; a buyer's identity never is). Pagination is keyset-based with an opaque
cursor, so pages stay fast and stable however deep a buyer scrolls.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Mapping
from datetime import datetime

from attrs import frozen

from caratzon_core.designs import METALS, Category, Design, parse_category, parse_tags
from caratzon_core.errors import ValidationFailed
from caratzon_core.money import CURRENCY_EXPONENTS, Money

DEFAULT_PAGE = 24
MAX_PAGE = 100
MAX_QUERY = 200


class Sort(enum.StrEnum):
    NEWEST = "newest"
    MOST_VIEWED = "most_viewed"
    MOST_SAVED = "most_saved"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"


@frozen
class CatalogQuery:
    text: str | None = None
    category: Category | None = None
    metal: str | None = None
    gemstone: str | None = None
    designer_id: str | None = None
    tags: tuple[str, ...] = ()
    currency: str | None = None
    price_min_minor: int | None = None
    price_max_minor: int | None = None
    sort: Sort = Sort.NEWEST
    after: tuple[object, ...] | None = None  # decoded cursor: (sort key, id)
    limit: int = DEFAULT_PAGE


@frozen
class CatalogItem:
    design: Design
    designer_name: str
    views: int
    saves: int
    thumbnail_asset_id: str | None
    # The blob to show on the card (the cover's thumbnail, else the image itself),
    # read with the page so cards are signed without a query each.
    thumbnail_key: str | None = None
    thumbnail_content_type: str | None = None


@frozen
class CatalogPage:
    items: tuple[CatalogItem, ...]
    next_cursor: str | None
    facets: Mapping[str, Mapping[str, int]]


def card_blob(thumbnail_key: str | None, blob_key: str, content_type: str) -> tuple[str, str]:
    """The blob a catalog card shows for a cover image, and its content type."""
    if thumbnail_key is None:
        return blob_key, content_type
    return thumbnail_key, ("image/png" if thumbnail_key.endswith(".png") else "image/webp")


def encode_cursor(sort: Sort, key: object, design_id: str) -> str:
    raw = json.dumps([sort.value, key, design_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, sort: Sort) -> tuple[object, ...]:
    problem = ValidationFailed("The cursor is not valid for this search; start again from the first page.",
                               field="cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        raise problem from None
    if not (isinstance(value, list) and len(value) == 3 and value[0] == sort.value and isinstance(value[2], str)):
        raise problem
    key = value[1]
    if sort is Sort.NEWEST:
        if not isinstance(key, str):
            raise problem
        try:
            datetime.fromisoformat(key)
        except ValueError:
            raise problem from None
    elif not (key is None or (isinstance(key, int) and not isinstance(key, bool))):
        raise problem
    return (key, value[2])


def _int(raw: str | None, field: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(str(raw))
    except ValueError:
        raise ValidationFailed(f"{field} must be a whole number.", field=field) from None


def parse_query(params: Mapping[str, str | None]) -> CatalogQuery:
    """From request parameters (web or CLI) to a checked query; bad values name the field."""
    text = (params.get("q") or "").strip() or None
    if text and len(text) > MAX_QUERY:
        raise ValidationFailed(f"Search text is limited to {MAX_QUERY} characters.", field="q")
    category = parse_category(params["category"]) if params.get("category") else None
    metal = params.get("metal") or None
    if metal is not None and metal not in METALS:
        raise ValidationFailed(f"Unknown metal {metal!r}; expected one of: {', '.join(METALS)}.", field="metal")
    gemstone = (params.get("gemstone") or "").strip().lower() or None
    tags = parse_tags((params.get("tags") or "").split(",")) if params.get("tags") else ()
    try:
        sort = Sort(params.get("sort") or Sort.NEWEST.value)
    except ValueError:
        allowed = ", ".join(s.value for s in Sort)
        raise ValidationFailed(f"Unknown sort {params.get('sort')!r}; expected one of: {allowed}.",
                               field="sort") from None
    given = _int(params.get("limit"), "limit")
    limit = DEFAULT_PAGE if given is None else given
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
    currency = (params.get("currency") or "").strip().upper() or None
    price_min = price_max = None
    if params.get("price_min") or params.get("price_max"):
        if currency is None:
            currency = "USD"
        if currency not in CURRENCY_EXPONENTS:
            raise ValidationFailed(f"Unknown currency {currency!r}.", field="currency")
        if params.get("price_min"):
            price_min = Money.parse(str(params["price_min"]), currency, field_name="price_min").amount_minor
        if params.get("price_max"):
            price_max = Money.parse(str(params["price_max"]), currency, field_name="price_max").amount_minor
        if price_min is not None and price_max is not None and price_min > price_max:
            raise ValidationFailed("price_min is above price_max.", field="price_min")
    cursor = params.get("cursor")
    after = decode_cursor(cursor, sort) if cursor else None
    return CatalogQuery(
        text=text,
        category=category,
        metal=metal,
        gemstone=gemstone,
        designer_id=(params.get("designer") or "").strip() or None,
        tags=tags,
        currency=currency,
        price_min_minor=price_min,
        price_max_minor=price_max,
        sort=sort,
        after=after,
        limit=limit,
    )
