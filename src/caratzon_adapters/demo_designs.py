"""Demo designs for a living catalog: 36 published designs by the three demo
designers, each with a generated product image and a real generated STL mesh
(rings as bands of real US ring sizes, pendants, studs), all made through the
design use cases so they obey every rule real designs do.

Idempotent: a designer's design with the same title is left as it is.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from attrs import frozen

from caratzon_adapters.bootstrap import Services
from caratzon_adapters.cad.generate import pendant_stl, ring_stl, stud_stl
from caratzon_adapters.imagery import render_jewelry_png
from caratzon_core.accounts import User
from caratzon_core.designs import AssetKind, Design, Visibility
from caratzon_core.services.deps import Client
from caratzon_core.services.designs import DesignInput, Upload

CLIENT = Client(user_agent="caratzon-demo-seed")

_METALS = ("18k_yellow", "18k_white", "18k_rose", "platinum_950", "14k_yellow", "sterling_silver")
_GEMS = (
    ("diamond", "natural", "0.50", 1), ("sapphire", "natural", "1.10", 1), ("diamond", "lab_grown", "1.00", 1),
    ("emerald", "natural", "0.80", 1), ("ruby", "natural", "0.40", 2), ("pearl", "natural", "6.00", 1),
    ("tourmaline", "natural", "2.20", 1), ("aquamarine", "natural", "1.60", 1), ("spinel", "natural", "0.90", 3),
)
_STYLES = ("Solitaire", "Halo", "Pavé", "Bezel", "Trilogy", "Eternity", "Signet", "Twist", "Cluster",
           "Art Deco", "Botanical", "Lagos Arch", "Tide", "Orbit", "Facet", "Ribbon", "Lantern", "Cathedral")
_CATEGORIES = ("ring", "ring", "pendant", "earrings", "ring", "necklace", "bracelet", "brooch", "pendant")
_TAGS = {
    "ring": ["engagement", "stacking", "everyday"], "pendant": ["layering", "gift"],
    "earrings": ["studs", "bridal"], "necklace": ["statement"], "bracelet": ["tennis", "cuff"],
    "brooch": ["vintage", "heirloom"],
}
COUNT = 36


@frozen
class DemoDesign:
    designer_email: str
    title: str
    category: str
    metal: str
    gem: tuple[str, str, str, int]
    price_minor: int
    ring_size: float
    seed: int


def demo_designs(designer_emails: list[str], count: int = COUNT) -> list[DemoDesign]:
    out = []
    for i in range(count):
        category = _CATEGORIES[i % len(_CATEGORIES)]
        gem = _GEMS[(i * 5) % len(_GEMS)]
        metal = _METALS[(i * 7) % len(_METALS)]
        style = _STYLES[i % len(_STYLES)]
        noun = {"ring": "Ring", "pendant": "Pendant", "earrings": "Earrings", "necklace": "Necklace",
                "bracelet": "Bracelet", "brooch": "Brooch"}[category]
        title = f"{style} {gem[0].title()} {noun}" + (f" No. {i // len(_STYLES) + 1}" if i >= len(_STYLES) else "")
        out.append(DemoDesign(
            designer_email=designer_emails[i % len(designer_emails)],
            title=title, category=category, metal=metal, gem=gem,
            price_minor=45_000 + (i * 37_500) % 600_000,
            ring_size=4.5 + (i % 8) * 0.5, seed=i,
        ))
    return out


def _plural(word: str, count: int) -> str:
    if count == 1:
        return word
    return word[:-1] + "ies" if word.endswith("y") else word + "s"


def _stl(d: DemoDesign) -> bytes:
    if d.category == "ring":
        return ring_stl(d.ring_size, band_width_mm=2.0 + (d.seed % 3) * 0.5, band_thickness_mm=1.6)
    if d.category in ("pendant", "necklace", "brooch"):
        return pendant_stl(diameter_mm=14.0 + d.seed % 8, thickness_mm=1.4)
    return stud_stl(setting_diameter_mm=4.0 + (d.seed % 4) * 0.5)


def seed_designs(
    services: Services, designers: list[User], *, count: int = COUNT, progress: Callable[[str], None] | None = None
) -> int:
    """Create the demo designs that do not exist yet; return how many were created."""
    by_email = {u.email: u for u in designers}
    created = 0
    with tempfile.TemporaryDirectory(prefix="caratzon-demo-") as tmp:
        work = Path(tmp)
        for n, d in enumerate(demo_designs(sorted(by_email), count)):
            user = by_email[d.designer_email]
            actor = services.accounts.actor_for(user)
            titles = {x.title for x in services.designs.my_designs(actor)}
            if d.title in titles:
                if progress:
                    progress(f"found {d.title}")
                continue
            gem_type, origin, carat, count = d.gem
            design = services.designs.create(actor, DesignInput(
                title=d.title,
                category=d.category,
                description=(
                    f"A {d.category} in {d.metal.replace('_', ' ')} set with {count} {origin.replace('_', '-')} "
                    f"{_plural(gem_type, count)} ({carat} ct). Hand-finished, made to order, "
                    "with ring size and stone adjustments available under licence."
                ),
                metals=[d.metal] + ([_METALS[(d.seed + 1) % len(_METALS)]] if d.seed % 3 == 0 else []),
                gemstones=[{"type": gem_type, "origin": origin, "carat": carat, "count": count}],
                tags=_TAGS[d.category][: 1 + d.seed % 2],
                price_amount=f"{d.price_minor / 100:.2f}", price_currency="USD",
            ), CLIENT)
            for name, data, kind, visibility in _files(d, work, n):
                services.designs.add_asset(actor, design.id, Upload(name, data, kind, visibility), CLIENT)
            services.designs.publish(actor, design.id, CLIENT)
            created += 1
            if progress:
                progress(f"created {d.title}")
    return created


def _files(d: DemoDesign, work: Path, n: int) -> Iterator[tuple[str, Path, str, str]]:
    image = work / f"{n}.png"
    image.write_bytes(render_jewelry_png(d.category, d.metal, d.seed, size=(720, 720), gem=d.gem[0]))
    yield f"{d.title.lower().replace(' ', '-')}.png", image, "image", "preview"
    mesh = work / f"{n}.stl"
    mesh.write_bytes(_stl(d))
    yield f"{d.title.lower().replace(' ', '-')}.stl", mesh, "cad", "production"


def ensure_production_cad(services: Services, designer: User, design: Design, designers: list[User]) -> bool:
    """Give a demo design a production CAD file (the mesh a manufacturer downloads
    from an order) if it has none; True if one was added. A design that is not one
    of the demo designs is left alone."""
    actor = services.accounts.actor_for(designer)
    view = services.designs.view(actor, design.id)
    if any(a.asset.kind is AssetKind.CAD and a.asset.visibility is Visibility.PRODUCTION for a in view.assets):
        return False
    emails = sorted(u.email for u in designers)
    spec = next((d for d in demo_designs(emails) if d.title == design.title and d.designer_email == designer.email),
                None)
    if spec is None:
        return False
    with tempfile.TemporaryDirectory(prefix="caratzon-demo-") as tmp:
        mesh = Path(tmp) / "mesh.stl"
        mesh.write_bytes(_stl(spec))
        name = f"{spec.title.lower().replace(' ', '-')}.stl"
        services.designs.add_asset(actor, design.id, Upload(name, mesh, "cad", "production"), CLIENT)
    return True
