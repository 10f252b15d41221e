"""Designs and their assets (P3): what a designer publishes to the trade catalog.

Lifecycle: draft → published ⇄ withdrawn → removed. Removal starts the 90-day
asset clock of the retention rules (P31). Only the owning designer edits.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import attrs
from attrs import frozen

from caratzon_core.errors import Conflict, ValidationFailed
from caratzon_core.geometry import CadAnalysis, MeshMetrics
from caratzon_core.money import Money

MAX_TITLE = 200
MAX_DESCRIPTION = 10_000
MAX_TAGS = 20
MAX_TAG_LENGTH = 40
MAX_GEMSTONES = 20


class Category(enum.StrEnum):
    RING = "ring"
    NECKLACE = "necklace"
    PENDANT = "pendant"
    EARRINGS = "earrings"
    BRACELET = "bracelet"
    BROOCH = "brooch"
    OTHER = "other"


# Codes match caratzon_core.geometry.ALLOYS, which holds their densities.
METALS: dict[str, str] = {
    "18k_yellow": "18k yellow gold",
    "18k_white": "18k white gold",
    "18k_rose": "18k rose gold",
    "14k_yellow": "14k yellow gold",
    "14k_white": "14k white gold",
    "14k_rose": "14k rose gold",
    "platinum_950": "Platinum 950",
    "sterling_silver": "Sterling silver",
}

GEMSTONE_TYPES = (
    "diamond", "sapphire", "ruby", "emerald", "pearl", "spinel", "tourmaline", "topaz", "aquamarine",
    "amethyst", "garnet", "opal", "tanzanite", "morganite", "peridot", "citrine", "jade", "moissanite", "other",
)


class GemOrigin(enum.StrEnum):
    NATURAL = "natural"
    LAB_GROWN = "lab_grown"


class DesignStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    REMOVED = "removed"


TRANSITIONS: dict[DesignStatus, frozenset[DesignStatus]] = {
    DesignStatus.DRAFT: frozenset({DesignStatus.PUBLISHED, DesignStatus.REMOVED}),
    DesignStatus.PUBLISHED: frozenset({DesignStatus.WITHDRAWN, DesignStatus.REMOVED}),
    DesignStatus.WITHDRAWN: frozenset({DesignStatus.PUBLISHED, DesignStatus.REMOVED}),
    DesignStatus.REMOVED: frozenset(),
}


class AssetKind(enum.StrEnum):
    CAD = "cad"
    IMAGE = "image"
    RENDER = "render"


class Visibility(enum.StrEnum):
    PREVIEW = "preview"  # buyers may see
    PRODUCTION = "production"  # CAD for production: owner, admins, assigned vetted manufacturer (P20, P28)


CAD_EXTENSIONS = frozenset({".stl", ".obj", ".3dm", ".step", ".stp", ".3mf"})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp"})


@frozen
class Gemstone:
    type: str
    origin: GemOrigin
    carat: Decimal  # total carat weight of this line
    count: int


@frozen
class Dimensions:
    width_mm: Decimal | None = None
    height_mm: Decimal | None = None
    depth_mm: Decimal | None = None


@frozen
class Design:
    id: str
    designer_id: str
    title: str
    description: str
    category: Category
    metals: tuple[str, ...]
    gemstones: tuple[Gemstone, ...]
    dimensions: Dimensions
    tags: tuple[str, ...]
    price_guidance: Money | None
    status: DesignStatus
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    withdrawn_at: datetime | None = None
    removed_at: datetime | None = None


@frozen
class Asset:
    id: str
    design_id: str
    kind: AssetKind
    visibility: Visibility
    blob_key: str
    filename: str  # the uploader's name for it: metadata only, never a path
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    analysis: CadAnalysis | None = None  # CAD only: geometry, weights per alloy, warnings
    thumbnail_key: str | None = None
    width_px: int | None = None
    height_px: int | None = None


@frozen
class Inspection:
    """What an :class:`~caratzon_core.ports.AssetInspector` found in an uploaded file,
    judged by its bytes, not its name. ``clean_path`` is what gets stored: for
    images a re-encoded copy without EXIF/GPS metadata."""

    content_type: str
    clean_path: Path
    width_px: int | None = None
    height_px: int | None = None
    thumbnail: bytes | None = None  # a small WebP/PNG for catalog cards
    thumbnail_content_type: str | None = None
    mesh: MeshMetrics | None = None
    analysed: bool = False  # False for CAD formats we store but cannot analyse


# -- field rules -------------------------------------------------------------------


def parse_category(raw: object) -> Category:
    try:
        return Category(str(raw))
    except ValueError:
        allowed = ", ".join(c.value for c in Category)
        raise ValidationFailed(f"Unknown category {raw!r}; expected one of: {allowed}.", field="category") from None


def parse_metals(raw: Iterable[object] | None) -> tuple[str, ...]:
    metals: list[str] = []
    for item in raw or ():
        code = str(item)
        if code not in METALS:
            allowed = ", ".join(METALS)
            raise ValidationFailed(f"Unknown metal {item!r}; expected one of: {allowed}.", field="metals")
        if code not in metals:
            metals.append(code)
    return tuple(metals)


def parse_decimal(
    raw: object, *, field: str, minimum: Decimal = Decimal(0), maximum: Decimal = Decimal(10_000)
) -> Decimal:
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValidationFailed(f"{field.replace('_', ' ').capitalize()} must be a number.", field=field) from None
    if not value.is_finite() or value < minimum or value > maximum:
        raise ValidationFailed(
            f"{field.replace('_', ' ').capitalize()} must be between {minimum} and {maximum}.", field=field
        )
    return value


def parse_gemstone(raw: dict[str, object]) -> Gemstone:
    gem_type = str(raw.get("type", "")).strip().lower()
    if gem_type not in GEMSTONE_TYPES:
        raise ValidationFailed(f"Unknown gemstone {raw.get('type')!r}.", field="gemstones")
    try:
        origin = GemOrigin(str(raw.get("origin", "natural")))
    except ValueError:
        raise ValidationFailed("Gemstone origin must be 'natural' or 'lab_grown'.", field="gemstones") from None
    carat = parse_decimal(raw.get("carat", "0"), field="gemstones", maximum=Decimal(1000))
    try:
        count = int(str(raw.get("count", 1)))
    except ValueError:
        raise ValidationFailed("Gemstone count must be a whole number.", field="gemstones") from None
    if not 1 <= count <= 10_000:
        raise ValidationFailed("Gemstone count must be between 1 and 10000.", field="gemstones")
    return Gemstone(gem_type, origin, carat, count)


_TAG = re.compile(r"^[\w][\w \-&']*$", re.UNICODE)


def parse_tags(raw: Iterable[object] | None) -> tuple[str, ...]:
    tags: list[str] = []
    for item in raw or ():
        tag = " ".join(str(item).strip().lower().split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH or not _TAG.match(tag):
            raise ValidationFailed(f"Tag {item!r} is not allowed (letters, digits, spaces, - & ').", field="tags")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationFailed(f"At most {MAX_TAGS} tags.", field="tags")
    return tuple(tags)


def transition(design: Design, to: DesignStatus, now: datetime, *, has_preview_image: bool) -> Design:
    """The lifecycle as a pure function; raises Conflict naming the rule."""
    if to == design.status:
        raise Conflict(f"The design is already {to.value}.", field="status")
    if to not in TRANSITIONS[design.status]:
        raise Conflict(f"A {design.status.value} design cannot become {to.value}.", field="status")
    if to is DesignStatus.PUBLISHED and not has_preview_image:
        raise ValidationFailed("Add at least one preview image before publishing.", field="assets")
    stamps: dict[str, object] = {"status": to, "updated_at": now}
    if to is DesignStatus.PUBLISHED:
        stamps["published_at"] = now
        stamps["withdrawn_at"] = None
    elif to is DesignStatus.WITHDRAWN:
        stamps["withdrawn_at"] = now
    elif to is DesignStatus.REMOVED:
        stamps["removed_at"] = now
    return attrs.evolve(design, **stamps)  # type: ignore[arg-type]


def in_catalog(design: Design) -> bool:
    return design.status is DesignStatus.PUBLISHED
