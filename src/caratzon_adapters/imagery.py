"""Generated product pictures for the demo catalog, and a tell-tale JPEG for tests.

:func:`render_jewelry_png` draws a studio-style picture of a piece of jewellery
with Pillow alone (no fonts, no other imaging library): a soft backdrop gradient
with a glow behind the piece, a soft contact shadow, polished metal drawn as
nested fills that follow a tube-shaped light profile, and faceted stones whose
facets are lit from the top left, with a glint or two. The same arguments give
the same bytes (for a given Pillow), so demo data is reproducible.

Everything is drawn at twice the requested size and reduced with Lanczos at the
end: that is the anti-aliasing. A 1200 x 1200 picture takes about half a second.

:func:`jpeg_with_gps_exif` makes a small JPEG carrying everything a phone photo
leaks (EXIF with a GPS position, camera make, an orientation tag, an XMP packet
and a comment) so tests can prove the upload inspector strips it all.
"""

from __future__ import annotations

import io
import itertools
import math
import random
from collections.abc import Sequence
from typing import NamedTuple

from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageFilter

RGB = tuple[int, int, int]
Point = tuple[float, float]

KINDS = ("ring", "pendant", "earrings", "bracelet", "necklace", "brooch", "other")
_SCALE = 2  # supersampling factor


class MetalTone(NamedTuple):
    dark: RGB
    mid: RGB
    light: RGB
    shine: RGB


METAL_TONES: dict[str, MetalTone] = {
    "yellow_gold": MetalTone((104, 70, 18), (201, 152, 54), (240, 204, 118), (255, 246, 214)),
    "rose_gold": MetalTone((112, 58, 44), (196, 124, 98), (236, 180, 156), (255, 236, 226)),
    "white_gold": MetalTone((96, 98, 104), (178, 180, 186), (228, 229, 232), (255, 255, 255)),
    "platinum": MetalTone((84, 88, 98), (164, 169, 179), (218, 222, 230), (250, 252, 255)),
    "silver": MetalTone((104, 107, 114), (192, 195, 202), (238, 240, 243), (255, 255, 255)),
}


class Gem(NamedTuple):
    name: str
    colour: RGB
    dark: RGB
    light: RGB


GEMS: tuple[Gem, ...] = (
    Gem("diamond", (214, 226, 238), (70, 82, 100), (255, 255, 255)),
    Gem("sapphire", (34, 72, 178), (10, 20, 70), (140, 175, 255)),
    Gem("ruby", (178, 18, 52), (60, 4, 18), (255, 120, 140)),
    Gem("emerald", (18, 132, 86), (4, 48, 30), (120, 225, 170)),
    Gem("amethyst", (128, 62, 176), (44, 16, 70), (210, 160, 250)),
    Gem("citrine", (232, 158, 28), (112, 60, 6), (255, 222, 130)),
    Gem("aquamarine", (96, 186, 214), (26, 82, 104), (200, 242, 255)),
    Gem("morganite", (236, 152, 164), (120, 60, 72), (255, 216, 222)),
    Gem("tanzanite", (78, 66, 186), (24, 18, 76), (170, 160, 255)),
    Gem("peridot", (150, 190, 48), (60, 84, 10), (220, 245, 140)),
)

# Stones without a colour of their own above, drawn as the nearest one.
GEM_ALIASES = {
    "moissanite": "diamond", "opal": "diamond", "pearl": "diamond", "spinel": "ruby", "garnet": "ruby",
    "tourmaline": "emerald", "jade": "emerald", "topaz": "aquamarine",
}

# (top, bottom, glow) of the studio backdrop
BACKDROPS: tuple[tuple[RGB, RGB, RGB], ...] = (
    ((248, 245, 240), (220, 212, 202), (255, 253, 248)),  # warm ivory
    ((238, 242, 246), (200, 208, 218), (252, 254, 255)),  # cool grey-blue
    ((247, 238, 236), (220, 200, 198), (255, 250, 248)),  # blush
    ((238, 243, 238), (204, 214, 204), (250, 255, 250)),  # sage
    ((60, 62, 70), (22, 23, 28), (104, 106, 118)),  # charcoal, for contrast
    ((242, 238, 230), (206, 196, 180), (255, 250, 240)),  # sand
)


def metal_tone(metal: str) -> MetalTone:
    """The tone for a metal code (``18k_rose``, ``platinum_950``, ``sterling_silver``)
    or a plain name (``rose``, ``white gold``, ``silver``)."""
    key = metal.lower()
    for word, tone in (("rose", "rose_gold"), ("white", "white_gold"), ("yellow", "yellow_gold"),
                       ("platinum", "platinum"), ("silver", "silver"), ("gold", "yellow_gold")):
        if word in key:
            return METAL_TONES[tone]
    raise ValueError(f"unknown metal {metal!r}: name a yellow, white or rose gold, platinum or silver")


def render_jewelry_png(
    kind: str, metal: str, seed: int, size: tuple[int, int] = (1200, 1200), *, gem: str | None = None
) -> bytes:
    """A studio picture of a ``kind`` of jewellery (a :class:`~caratzon_core.designs.Category`
    value) in ``metal``, as PNG bytes. ``seed`` picks the backdrop, the variant
    (solitaire, three-stone or halo ring; stud, drop or hoop earrings; ...) and the
    stone colour, unless ``gem`` names the stone (a ``GEMSTONE_TYPES`` value; an
    unknown one is ignored)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: expected one of {', '.join(KINDS)}")
    width, height = size
    if not (64 <= width <= 4000 and 64 <= height <= 4000):
        raise ValueError(f"size must be between 64 and 4000 pixels a side, not {size!r}")
    # Pictures, not secrets; a str seed is hashed with SHA-512, the same in every process.
    rng = random.Random(f"{kind}:{metal}:{seed}")  # noqa: S311
    tone = metal_tone(metal)
    studio = _Studio(width * _SCALE, height * _SCALE, tone, rng)
    if gem is not None:
        wanted = GEM_ALIASES.get(gem.lower(), gem.lower())
        studio.gem = next((g for g in GEMS if g.name == wanted), studio.gem)
    getattr(studio, f"draw_{kind}")()
    picture = studio.compose().resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def jpeg_with_gps_exif(
    size: tuple[int, int] = (64, 48),
    *,
    orientation: int = 6,
    latitude: tuple[float, float, float] = (48.0, 51.0, 29.9),
    longitude: tuple[float, float, float] = (2.0, 17.0, 40.2),
    make: str = "CaratzonTestCam",
    comment: bytes = b"CaratzonSecretComment",
    xmp: bytes = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">CaratzonSecretXmp</x:xmpmeta>',
    icc_profile: bytes | None = None,
) -> bytes:
    """A JPEG whose stored pixels are red on the left half and blue on the right,
    carrying EXIF (``Make``, ``Orientation``, and a GPS IFD with latitude and
    longitude), an XMP packet and a comment, plus ``icc_profile`` when given.

    With orientation 6 ("rotate 90° clockwise to display") the upright picture is
    ``size`` turned on its side: red on top, blue below.
    """
    picture = Image.new("RGB", size, (220, 30, 30))
    ImageDraw.Draw(picture).rectangle((size[0] // 2, 0, size[0], size[1]), fill=(30, 30, 220))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = make
    exif[ExifTags.Base.Model] = f"{make} Model 1"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)  # created empty and kept by the Exif object
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = latitude
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = longitude
    out = io.BytesIO()
    options: dict[str, object] = {"icc_profile": icc_profile} if icc_profile else {}
    picture.save(out, format="JPEG", quality=95, exif=exif, comment=comment, xmp=xmp, **options)
    return out.getvalue()


# -- drawing -------------------------------------------------------------------------


def _mix(a: Sequence[float], b: Sequence[float], t: float) -> RGB:
    t = min(1.0, max(0.0, t))
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def _ramp(stops: Sequence[tuple[float, RGB]], t: float) -> RGB:
    t = min(1.0, max(0.0, t))
    for (t0, c0), (t1, c1) in itertools.pairwise(stops):
        if t <= t1:
            return _mix(c0, c1, (t - t0) / (t1 - t0) if t1 > t0 else 0.0)
    return stops[-1][1]


def _metal_colour(tone: MetalTone, t: float) -> RGB:
    """Polished metal across a tube, ``t`` from one edge (0) to the other (1): dark
    edges, a bright highlight a third of the way in and a dark reflection after it."""
    level = 0.1 + 0.62 * math.sin(math.pi * t) ** 0.8
    level += 0.5 * math.exp(-(((t - 0.3) / 0.06) ** 2))
    level -= 0.3 * math.exp(-(((t - 0.7) / 0.08) ** 2))
    stops = ((0.0, tone.dark), (0.4, tone.mid), (0.75, tone.light), (1.0, tone.shine))
    return _ramp(stops, level)


def _ellipse(centre: Point, rx: float, ry: float, n: int = 96, turn: float = 0.0) -> list[Point]:
    cx, cy = centre
    cos_t, sin_t = math.cos(turn), math.sin(turn)
    points = []
    for i in range(n):
        a = 2 * math.pi * i / n
        x, y = rx * math.cos(a), ry * math.sin(a)
        points.append((cx + x * cos_t - y * sin_t, cy + x * sin_t + y * cos_t))
    return points


def _pear(centre: Point, radius: float, n: int = 64) -> list[Point]:
    """A pear (drop) outline, point up, ``radius`` the round end's radius."""
    cx, cy = centre
    points = []
    for i in range(n):
        a = 2 * math.pi * i / n
        x, y = math.sin(a), -math.cos(a)
        stretch = 1.0 + 0.75 * max(0.0, -y) ** 1.6  # the upper half is drawn out to a point
        narrow = 1.0 - 0.45 * max(0.0, -y) ** 2
        points.append((cx + radius * x * narrow, cy + radius * y * stretch))
    return points


def _scaled(points: Sequence[Point], centre: Point, k: float) -> list[Point]:
    cx, cy = centre
    return [(cx + (x - cx) * k, cy + (y - cy) * k) for x, y in points]


def _centroid(points: Sequence[Point]) -> Point:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


class _Studio:
    """One picture being drawn: a transparent layer for the piece over a backdrop."""

    def __init__(self, width: int, height: int, tone: MetalTone, rng: random.Random) -> None:
        self.w, self.h = width, height
        self.unit = min(width, height)
        self.tone = tone
        self.rng = rng
        self.gem = rng.choice(GEMS)
        self.backdrop = rng.choice(BACKDROPS)
        self.piece = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        self.glints: list[tuple[Point, float]] = []

    # -- composition -------------------------------------------------------------------

    def compose(self) -> Image.Image:
        top, bottom, glow = self.backdrop
        w, h = self.w, self.h
        picture = Image.composite(Image.new("RGB", (w, h), bottom), Image.new("RGB", (w, h), top),
                                  Image.linear_gradient("L").resize((w, h), Image.Resampling.BILINEAR))
        # a soft light behind the piece
        halo = ImageChops.invert(Image.radial_gradient("L")).resize((int(w * 1.5), int(h * 1.5)))
        mask = Image.new("L", (w, h), 0)
        mask.paste(halo, (-int(w * 0.25), -int(h * 0.3)))
        picture = Image.composite(Image.new("RGB", (w, h), glow), picture, mask.point(lambda v: int(v * 0.7)))
        # contact shadow: the piece's silhouette, dropped, blurred at a quarter size
        small = self.piece.getchannel("A").resize((w // 4, h // 4), Image.Resampling.BILINEAR)
        blur = small.filter(ImageFilter.GaussianBlur(self.unit / 160))
        shadow = Image.new("L", (w, h), 0)
        shadow.paste(blur.resize((w, h), Image.Resampling.BILINEAR), (self.unit // 60, self.unit // 30))
        shade = _mix(bottom, (0, 0, 0), 0.55)
        picture = Image.composite(Image.new("RGB", (w, h), shade), picture, shadow.point(lambda v: int(v * 0.42)))
        picture = picture.convert("RGBA")
        picture.alpha_composite(self.piece)
        self._draw_glints(picture)
        return picture.convert("RGB")

    def _draw_glints(self, picture: Image.Image) -> None:
        """Four-pointed sparkles, each drawn and softened in its own small tile."""
        soften = ImageFilter.GaussianBlur(max(1.0, self.unit / 900))
        for (x, y), r in self.glints:
            side = int(r * 2) + 8
            tile = Image.new("RGBA", (side, side), (255, 255, 255, 0))
            draw = ImageDraw.Draw(tile)
            m = side / 2
            for k, alpha in ((1.0, 150), (0.55, 230)):
                arm, waist = r * k, r * 0.09 * k
                draw.polygon([(m - arm, m), (m, m - waist), (m + arm, m), (m, m + waist)], fill=(255, 255, 255, alpha))
                draw.polygon([(m, m - arm), (m + waist, m), (m, m + arm), (m - waist, m)], fill=(255, 255, 255, alpha))
            draw.ellipse((m - r * 0.12, m - r * 0.12, m + r * 0.12, m + r * 0.12), fill=(255, 255, 255, 255))
            left, top = round(x - m), round(y - m)
            if left >= 0 and top >= 0 and left + side <= self.w and top + side <= self.h:
                picture.alpha_composite(tile.filter(soften), (left, top))

    def _paste(self, layer: Image.Image, mask: Image.Image, box: tuple[int, int]) -> None:
        rgba = layer.convert("RGBA")
        rgba.putalpha(mask)
        self.piece.alpha_composite(rgba, box)

    # -- metal ---------------------------------------------------------------------------

    def band(self, outer: Sequence[float], inner: Sequence[float], *, steps: int = 90) -> None:
        """An elliptical band between two ellipse boxes (x0, y0, x1, y1), the inner one
        inside the outer: nested fills from the outer edge in, each in the colour of
        the light profile at that depth, then the hole cut out."""
        x0, y0 = int(outer[0]) - 2, int(outer[1]) - 2
        size = (int(outer[2]) - x0 + 3, int(outer[3]) - y0 + 3)
        fill = Image.new("RGB", size)
        draw = ImageDraw.Draw(fill)
        for i in range(steps + 1):
            t = i / steps
            box = [outer[j] + (inner[j] - outer[j]) * t - (x0 if j % 2 == 0 else y0) for j in range(4)]
            draw.ellipse(box, fill=_metal_colour(self.tone, t))
        mask = Image.new("L", size, 0)
        mdraw = ImageDraw.Draw(mask)
        mdraw.ellipse([v - (x0 if j % 2 == 0 else y0) for j, v in enumerate(outer)], fill=255)
        mdraw.ellipse([v - (x0 if j % 2 == 0 else y0) for j, v in enumerate(inner)], fill=0)
        self._paste(self._lit(fill), mask, (x0, y0))

    def dome(self, outline: Sequence[Point], *, steps: int = 50, centre: Point | None = None) -> None:
        """A raised metal shape (a bezel, a petal): the outline shrunk step by step
        towards ``centre``, lit by the profile's first half (edge dark, crown bright)."""
        points = list(outline)
        c = centre or _centroid(points)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        x0, y0 = int(min(xs)) - 2, int(min(ys)) - 2
        size = (int(max(xs)) - x0 + 3, int(max(ys)) - y0 + 3)
        fill = Image.new("RGB", size)
        draw = ImageDraw.Draw(fill)
        local = [(x - x0, y - y0) for x, y in points]
        lc = (c[0] - x0, c[1] - y0)
        for i in range(steps + 1):
            t = i / steps
            draw.polygon(_scaled(local, lc, 1 - 0.92 * t), fill=_metal_colour(self.tone, 0.05 + 0.45 * t))
        mask = Image.new("L", size, 0)
        ImageDraw.Draw(mask).polygon(local, fill=255)
        self._paste(self._lit(fill), mask, (x0, y0))

    def wire(self, points: Sequence[Point], width: float) -> None:
        """A round wire along a path: three strokes, dark to bright."""
        draw = ImageDraw.Draw(self.piece)
        for k, t in ((1.0, 0.04), (0.7, 0.4), (0.3, 0.3)):
            colour = _metal_colour(self.tone, t)
            draw.line(list(points), fill=(*colour, 255), width=max(1, round(width * k)), joint="curve")

    def _lit(self, fill: Image.Image) -> Image.Image:
        """Key light from the top: the lower part of a shape a little darker."""
        light = Image.linear_gradient("L").resize(fill.size, Image.Resampling.BILINEAR)
        light = light.point(lambda v: 255 - v * 70 // 255)
        return ImageChops.multiply(fill, Image.merge("RGB", (light, light, light)))

    # -- stones --------------------------------------------------------------------------

    def stone(self, outline: Sequence[Point], *, gem: Gem | None = None, glint: bool = True) -> None:
        """A faceted stone in ``outline`` (convex): crown facets between the girdle and
        a table at 55 %, shaded by how they face the light, and a bright table."""
        g = gem or self.gem
        points = list(outline)
        c = _centroid(points)
        table = _scaled(points, c, 0.55)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        x0, y0 = int(min(xs)) - 2, int(min(ys)) - 2
        size = (int(max(xs)) - x0 + 3, int(max(ys)) - y0 + 3)
        layer = Image.new("RGB", size, g.dark)
        draw = ImageDraw.Draw(layer)

        def local(ps: Sequence[Point]) -> list[Point]:
            return [(x - x0, y - y0) for x, y in ps]

        n = len(points)
        light_angle = math.radians(-125)  # up and to the left
        for i in range(n):
            a, b = points[i], points[(i + 1) % n]
            mid = ((a[0] + b[0]) / 2 - c[0], (a[1] + b[1]) / 2 - c[1])
            facing = math.cos(math.atan2(mid[1], mid[0]) - light_angle)
            lift = 0.5 + 0.4 * facing + (0.14 if i % 2 else -0.14)
            colour = _ramp(((0.0, g.dark), (0.55, g.colour), (1.0, g.light)), lift)
            draw.polygon(local([a, b, table[(i + 1) % n], table[i]]), fill=colour)
        # star facets: thin triangles from each table corner towards the girdle
        for i in range(0, n, 2):
            a, b = table[i], table[(i + 1) % n]
            tip = points[i] if i % 4 == 0 else points[(i + 1) % n]
            draw.polygon(local([a, b, tip]), fill=_mix(g.colour, g.light, 0.25 if i % 4 else 0.05))
        draw.polygon(local(table), fill=_mix(g.colour, g.light, 0.45))
        for first in (n * 9 // 16, n * 11 // 16):  # reflections of the light in the table, upper left
            wedge = [c, table[first % n], table[(first + max(1, n // 16)) % n]]
            draw.polygon(local(wedge), fill=_mix(g.colour, g.light, 0.8))
        draw.line([*local(points), local(points)[0]], fill=_mix(g.dark, (0, 0, 0), 0.3), width=max(1, self.unit // 900))
        mask = Image.new("L", size, 0)
        ImageDraw.Draw(mask).polygon(local(points), fill=255)
        self._paste(layer, mask, (x0, y0))
        if glint:
            r = math.dist(c, points[0])
            self.glints.append(((c[0] - r * 0.3, c[1] - r * 0.32), r * 0.55))

    def round_stone(self, centre: Point, radius: float, *, squash: float = 1.0, setting: bool = True,
                    prongs: int = 4, gem: Gem | None = None, glint: bool = True) -> None:
        if setting:
            self.dome(_ellipse(centre, radius * 1.16, radius * 1.16 * squash, 48))
            for k in range(prongs):
                a = 2 * math.pi * (k + 0.5) / prongs
                px, py = centre[0] + radius * 1.02 * math.cos(a), centre[1] + radius * 1.02 * math.sin(a) * squash
                self.dome(_ellipse((px, py), radius * 0.2, radius * 0.2, 24))
        self.stone(_ellipse(centre, radius, radius * squash, 16), gem=gem, glint=glint)
        if setting:
            for k in range(prongs):  # prong tips over the girdle
                a = 2 * math.pi * (k + 0.5) / prongs
                px, py = centre[0] + radius * 0.98 * math.cos(a), centre[1] + radius * 0.98 * math.sin(a) * squash
                self.dome(_ellipse((px, py), radius * 0.13, radius * 0.13, 20))

    def pearl(self, centre: Point, radius: float) -> None:
        cx, cy = centre
        box = (int(cx - radius) - 1, int(cy - radius) - 1)
        side = int(radius * 2) + 3
        body = Image.radial_gradient("L").resize((side * 2, side * 2))
        body = body.crop((side - int(radius * 0.55), side - int(radius * 0.6),
                          2 * side - int(radius * 0.55), 2 * side - int(radius * 0.6)))
        lum = body.point(lambda v: 255 - min(255, v * 230 // 255))
        cream, shadow = (252, 248, 240), (150, 134, 128)
        layer = Image.composite(Image.new("RGB", (side, side), cream), Image.new("RGB", (side, side), shadow), lum)
        mask = Image.new("L", (side, side), 0)
        ImageDraw.Draw(mask).ellipse((1, 1, side - 2, side - 2), fill=255)
        ImageDraw.Draw(layer).ellipse((1, 1, side - 2, side - 2), outline=(168, 150, 142), width=max(1, side // 40))
        self._paste(layer, mask, box)
        self.glints.append(((cx - radius * 0.35, cy - radius * 0.4), radius * 0.35))

    def chain(self, points: Sequence[Point], link: float) -> None:
        """Cable chain along a path: links alternately face-on (an oval) and edge-on (a bar)."""
        path = _resample(points, link * 1.5)
        draw = ImageDraw.Draw(self.piece)
        edge = (*_metal_colour(self.tone, 0.05), 255)
        face = (*_metal_colour(self.tone, 0.3), 255)
        thin = max(2, round(link * 0.28))
        for i in range(len(path) - 1):
            (ax, ay), (bx, by) = path[i], path[i + 1]
            mx, my = (ax + bx) / 2, (ay + by) / 2
            turn = math.atan2(by - ay, bx - ax)
            if i % 2 == 0:
                ring = _ellipse((mx, my), link * 1.05, link * 0.62, 24, turn)
                draw.polygon(ring, outline=edge, width=thin + 2)
                draw.line([*ring, ring[0]], fill=face, width=thin)
            else:
                draw.line([(ax, ay), (bx, by)], fill=edge, width=thin + 3)
                draw.line([(ax, ay), (bx, by)], fill=face, width=thin)

    # -- pieces --------------------------------------------------------------------------

    def draw_ring(self) -> None:
        u, cx, cy = self.unit, self.w / 2, self.h * 0.58
        rx, ry = u * 0.30, u * 0.25
        front, back, side = u * 0.07, u * 0.035, u * 0.05
        self.band((cx - rx, cy - ry, cx + rx, cy + ry),
                  (cx - rx + side, cy - ry + back, cx + rx - side, cy + ry - front))
        top = cy - ry
        style = self.rng.choice(("solitaire", "three-stone", "halo"))
        radius = u * self.rng.uniform(0.085, 0.11)
        gy = top - radius * 0.55
        self.dome([(cx - radius * 0.8, top + u * 0.02), (cx - radius * 0.35, gy), (cx + radius * 0.35, gy),
                   (cx + radius * 0.8, top + u * 0.02)])  # the basket under the stone
        if style == "halo":
            n = 14
            for k in range(n):
                a = 2 * math.pi * k / n
                self.round_stone((cx + radius * 1.42 * math.cos(a), gy + radius * 1.42 * math.sin(a) * 0.8),
                                 radius * 0.24, setting=True, prongs=2, gem=GEMS[0], glint=k % 5 == 0)
        if style == "three-stone":
            for sign in (-1, 1):
                ax = cx + sign * radius * 1.6
                self.round_stone((ax, gy + radius * 0.45), radius * 0.58, squash=0.85, gem=GEMS[0])
        self.round_stone((cx, gy), radius, squash=0.85, prongs=6 if style == "solitaire" else 4)

    def draw_pendant(self) -> None:
        u, cx = self.unit, self.w / 2
        bail_y = self.h * 0.36
        self.chain(_catenary((self.w * 0.1, -u * 0.05), (self.w * 0.9, -u * 0.05), bottom=bail_y, power=1.35),
                   u * 0.016)
        self.band((cx - u * 0.03, bail_y - u * 0.035, cx + u * 0.03, bail_y + u * 0.05),
                  (cx - u * 0.015, bail_y - u * 0.015, cx + u * 0.015, bail_y + u * 0.03), steps=40)
        radius = u * self.rng.uniform(0.12, 0.14)
        centre = (cx, bail_y + u * 0.07 + radius * 1.75)
        shape = self.rng.choice(("pear", "round"))
        if shape == "pear":
            self.dome(_pear(centre, radius * 1.14), centre=(centre[0], centre[1] - radius * 0.2))
            self.stone(_pear(centre, radius))
        else:
            centre = (cx, bail_y + u * 0.07 + radius * 1.2)
            self.dome(_ellipse(centre, radius * 1.16, radius * 1.16, 64))
            self.stone(_ellipse(centre, radius, radius, 24))
            for k in range(24):  # milgrain: a row of beads on the bezel
                a = 2 * math.pi * k / 24
                bead = (centre[0] + radius * 1.1 * math.cos(a), centre[1] + radius * 1.1 * math.sin(a))
                self.dome(_ellipse(bead, u * 0.007, u * 0.007, 12))

    def draw_earrings(self) -> None:
        u = self.unit
        style = self.rng.choice(("drop", "stud", "hoop"))
        for sign in (-1, 1):
            x = self.w / 2 + sign * u * 0.2
            top = self.h * (0.3 if style != "stud" else 0.41)
            if style == "hoop":
                self.band((x - u * 0.14, top, x + u * 0.14, top + u * 0.42),
                          (x - u * 0.11, top + u * 0.025, x + u * 0.11, top + u * 0.39), steps=60)
                for k in range(7):
                    a = math.radians(30 + 20 * k)
                    self.round_stone((x + u * 0.125 * math.cos(a), top + u * 0.21 + u * 0.195 * math.sin(a)),
                                     u * 0.014, setting=False, glint=k == 3)
                continue
            stud = u * (0.05 if style == "drop" else 0.09)
            self.round_stone((x, top + stud), stud, gem=GEMS[0] if style == "drop" else None)
            if style == "drop":
                link_top = top + stud * 2.1
                self.wire([(x, link_top), (x, link_top + u * 0.06)], u * 0.012)
                radius = u * 0.075
                centre = (x, link_top + u * 0.06 + radius * 1.6)
                self.dome(_pear(centre, radius * 1.16), centre=(centre[0], centre[1] - radius * 0.2))
                self.stone(_pear(centre, radius))

    def draw_bracelet(self) -> None:
        u, cx, cy = self.unit, self.w / 2, self.h * 0.52
        rx, ry = u * 0.38, u * 0.22
        self.band((cx - rx, cy - ry, cx + rx, cy + ry),
                  (cx - rx + u * 0.04, cy - ry + u * 0.025, cx + rx - u * 0.04, cy + ry - u * 0.05))
        count = self.rng.choice((5, 7, 9))
        for k in range(count):
            a = math.radians(90 + (k - (count - 1) / 2) * 15)
            centre = (cx + (rx - u * 0.02) * math.cos(a), cy + (ry - u * 0.025) * math.sin(a))
            self.round_stone(centre, u * 0.026 * (1.25 if k == count // 2 else 1), squash=0.85,
                             prongs=4, glint=k % 2 == 0)

    def draw_necklace(self) -> None:
        u, cx = self.unit, self.w / 2
        left, right = (self.w * 0.04, -u * 0.03), (self.w * 0.96, -u * 0.03)
        path = _catenary(left, right, bottom=self.h * 0.66)
        if self.rng.random() < 0.4:  # a pearl strand
            for p in _resample(path, u * 0.05)[1:-1]:
                grade = 1 - abs(p[0] - cx) / (self.w * 0.5)
                self.pearl(p, u * (0.018 + 0.012 * grade))
            return
        self.chain(path, u * 0.012)
        stones = [p for p in _resample(path, u * 0.05) if abs(p[0] - cx) < self.w * 0.26]
        for p in stones:
            grade = 1 - abs(p[0] - cx) / (self.w * 0.26)
            self.round_stone((p[0], p[1] + u * 0.01), u * (0.014 + 0.02 * grade), glint=grade > 0.8)

    def draw_brooch(self) -> None:
        u, cx, cy = self.unit, self.w / 2, self.h * 0.5
        petals = self.rng.choice((5, 6, 8))
        length = u * 0.21
        for k in range(petals):
            a = 2 * math.pi * k / petals - math.pi / 2
            centre = (cx + math.cos(a) * length * 0.85, cy + math.sin(a) * length * 0.85)
            self.dome(_ellipse(centre, length * 0.75, length * 0.33, 48, a), centre=centre)
        for k in range(petals):
            a = 2 * math.pi * k / petals - math.pi / 2
            tip = (cx + math.cos(a) * length * 1.35, cy + math.sin(a) * length * 1.35)
            self.round_stone(tip, u * 0.022, prongs=3, gem=GEMS[0], glint=False)
        self.round_stone((cx, cy), u * 0.09, prongs=6)

    def draw_other(self) -> None:
        u, cx, cy = self.unit, self.w / 2, self.h * 0.5
        self.stone(_ellipse((cx, cy), u * 0.22, u * 0.22, 24))


def _catenary(a: Point, b: Point, *, bottom: float, power: float = 2.0, n: int = 200) -> list[Point]:
    """A hanging strand from ``a`` to ``b`` whose lowest point, halfway, is at
    ``bottom``: a parabola (``power`` 2) or, pulled down by a pendant, a V (nearer 1)."""
    (ax, ay), (bx, by) = a, b
    mid, half = (ax + bx) / 2, (bx - ax) / 2
    points = []
    for i in range(n + 1):
        x = ax + (bx - ax) * i / n
        end_y = ay if x <= mid else by
        points.append((x, bottom - (bottom - end_y) * abs((x - mid) / half) ** power))
    return points


def _resample(points: Sequence[Point], step: float) -> list[Point]:
    """Points every ``step`` along a polyline, starting at its first point."""
    out = [points[0]]
    since = 0.0  # distance from the last point emitted to the start of the segment
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        seg = math.dist((ax, ay), (bx, by))
        pos = step - since
        while pos <= seg:
            t = pos / seg
            out.append((ax + (bx - ax) * t, ay + (by - ay) * t))
            pos += step
        since = seg - (pos - step)
    return out
