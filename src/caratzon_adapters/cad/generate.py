"""Deterministic jewellery meshes for the demo and the tests: rings of real US
sizes, a disc pendant with a bail hole, a stud earring, boxes.

Every generator returns a closed, consistently oriented (outward normals) mesh
as a :class:`Mesh` of shared vertices and triangle indices; ``binary_stl``,
``ascii_stl`` and ``obj_text`` write it out. Lengths are millimetres.

Ring sizes: inner diameter (mm) = 11.63 + 0.8128 * US size
(:func:`caratzon_core.geometry.ring_inner_diameter_mm`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from caratzon_core.geometry import ring_inner_diameter_mm

DEFAULT_HEADER = b"Caratzon generated mesh (binary STL, millimetres)"

STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])


class Mesh(NamedTuple):
    vertices: npt.NDArray[np.float64]  # (V, 3)
    faces: npt.NDArray[np.int64]  # (F, 3), counter-clockwise seen from outside

    @property
    def triangles(self) -> npt.NDArray[np.float64]:
        return self.vertices[self.faces]


def _mesh(vertices: npt.ArrayLike, faces: npt.ArrayLike) -> Mesh:
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    f = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    # Orient outward: the signed volume of a closed, outward-facing mesh is positive.
    t = v[f]
    if np.einsum("ij,ij->i", t[:, 0], np.cross(t[:, 1], t[:, 2])).sum() < 0:
        f = f[:, ::-1].copy()
    return Mesh(v, f)


def _positive(**values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number of millimetres, not {value!r}")


def _segments(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or value < 3:
            raise ValueError(f"{name} must be a whole number of at least 3, not {value!r}")


# -- building blocks -------------------------------------------------------------------


def box_mesh(x_mm: float, y_mm: float, z_mm: float, origin: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> Mesh:
    """An axis-aligned box from ``origin`` to ``origin + (x, y, z)``: 8 vertices, 12 triangles."""
    _positive(x_mm=x_mm, y_mm=y_mm, z_mm=z_mm)
    ox, oy, oz = origin
    corners = np.array([[ox + i * x_mm, oy + j * y_mm, oz + k * z_mm] for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    # corner index = 4i + 2j + k
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    faces = [tri for a, b, c, d in quads for tri in ((a, b, c), (a, c, d))]
    return _mesh(corners, faces)


def cube_mesh(edge_mm: float) -> Mesh:
    return box_mesh(edge_mm, edge_mm, edge_mm)


def hollow_box_mesh(edge_mm: float, wall_mm: float) -> Mesh:
    """A closed box with a sealed cavity: the outer cube plus an inner cube ``wall_mm``
    inside it facing inward. Volume = edge³ - (edge - 2·wall)³; every wall is ``wall_mm``."""
    _positive(edge_mm=edge_mm, wall_mm=wall_mm)
    inner = edge_mm - 2 * wall_mm
    if inner <= 0:
        raise ValueError("the walls leave no cavity: wall_mm must be less than half of edge_mm")
    outer = cube_mesh(edge_mm)
    cavity = box_mesh(inner, inner, inner, origin=(wall_mm, wall_mm, wall_mm))
    faces = np.vstack([outer.faces, cavity.faces[:, ::-1] + len(outer.vertices)])
    return Mesh(np.vstack([outer.vertices, cavity.vertices]), faces)


def merge(*meshes: Mesh) -> Mesh:
    """Several shells in one mesh (no boolean union: overlapping shells count twice)."""
    offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    return Mesh(np.vstack([m.vertices for m in meshes]),
                np.vstack([m.faces + off for m, off in zip(meshes, offsets, strict=True)]))


def revolve(profile: npt.ArrayLike, segments: int, *, closed: bool = False) -> Mesh:
    """A solid of revolution about the z axis from a profile of (radius, z) points.

    Open profile (``closed=False``): it must start and end on the axis (radius 0),
    which become the two poles; the points between have radius > 0. Closed profile
    (a loop with every radius > 0): a torus-like shell with a hole.
    """
    _segments(segments=segments)
    p = np.asarray(profile, dtype=np.float64)
    if closed:
        ring_points = p
    else:
        if p[0, 0] != 0 or p[-1, 0] != 0:
            raise ValueError("an open profile starts and ends on the axis")
        ring_points = p[1:-1]
    if len(ring_points) < (3 if closed else 1) or np.any(ring_points[:, 0] <= 0):
        raise ValueError("the profile needs points off the axis (radius > 0)")
    m = len(ring_points)
    angle = 2 * math.pi * np.arange(segments) / segments
    # vertex (i, j): angle i, profile point j  ->  index i * m + j
    verts = np.empty((segments, m, 3))
    verts[:, :, 0] = np.cos(angle)[:, None] * ring_points[None, :, 0]
    verts[:, :, 1] = np.sin(angle)[:, None] * ring_points[None, :, 0]
    verts[:, :, 2] = ring_points[None, :, 1]
    vertices = verts.reshape(-1, 3)
    i = np.arange(segments)[:, None]
    i2 = (i + 1) % segments
    j = np.arange(m if closed else m - 1)[None, :]
    j2 = (j + 1) % m
    a, b, c, d = i * m + j, i2 * m + j, i2 * m + j2, i * m + j2
    faces = [np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)]
    if not closed:
        bottom, top = len(vertices), len(vertices) + 1
        vertices = np.vstack([vertices, [[0.0, 0.0, p[0, 1]], [0.0, 0.0, p[-1, 1]]]])
        first = (np.arange(segments) * m)
        last = first + m - 1
        nxt = np.roll(np.arange(segments), -1)
        faces.append(np.stack([np.full(segments, bottom), first[nxt], first], -1))
        faces.append(np.stack([np.full(segments, top), last, last[nxt]], -1))
    return _mesh(vertices, np.vstack(faces))


# -- jewellery -------------------------------------------------------------------------


def ring_mesh(
    size_us: float,
    band_width_mm: float = 2.0,
    band_thickness_mm: float = 1.6,
    segments: int = 128,
    profile_segments: int = 32,
) -> Mesh:
    """A band ring: a torus of elliptical section, ``band_thickness_mm`` radially and
    ``band_width_mm`` along the finger, whose inner diameter matches the US size
    (11.63 + 0.8128 * size mm). Analytic volume 2π²·R·a·b with a, b the semi-axes
    and R = inner radius + a; width = thickness gives the round-wire torus 2π²Rr².
    Triangles: 2 * segments * profile_segments."""
    _positive(band_width_mm=band_width_mm, band_thickness_mm=band_thickness_mm)
    _segments(segments=segments, profile_segments=profile_segments)
    inner_radius = float(ring_inner_diameter_mm(size_us)) / 2
    a, b = band_thickness_mm / 2, band_width_mm / 2
    major = inner_radius + a
    t = 2 * math.pi * np.arange(profile_segments) / profile_segments
    profile = np.stack([major + a * np.cos(t), b * np.sin(t)], -1)
    return revolve(profile, segments, closed=True)


def ring_volume_mm3(size_us: float, band_width_mm: float = 2.0, band_thickness_mm: float = 1.6) -> float:
    """The exact volume of the smooth ring that :func:`ring_mesh` approximates."""
    a, b = band_thickness_mm / 2, band_width_mm / 2
    major = float(ring_inner_diameter_mm(size_us)) / 2 + a
    return 2 * math.pi**2 * major * a * b


def pendant_mesh(
    diameter_mm: float = 18.0,
    thickness_mm: float = 1.5,
    bail_hole_mm: float = 3.0,
    bail_margin_mm: float = 1.5,
    segments: int = 96,
) -> Mesh:
    """A disc pendant with a round bail hole near its top edge for the chain: one
    closed shell with a hole through it (genus 1), lying in the x-y plane, the hole
    above the centre. Volume ≈ (π·D²/4 - π·h²/4) * thickness."""
    _positive(diameter_mm=diameter_mm, thickness_mm=thickness_mm, bail_hole_mm=bail_hole_mm,
              bail_margin_mm=bail_margin_mm)
    _segments(segments=segments)
    outer_r, hole_r = diameter_mm / 2, bail_hole_mm / 2
    hole_y = outer_r - bail_margin_mm - hole_r
    if hole_y - hole_r <= -outer_r or hole_r >= outer_r:
        raise ValueError("the bail hole does not fit inside the disc")
    angle = 2 * math.pi * np.arange(segments) / segments
    ring_o = np.stack([outer_r * np.cos(angle), outer_r * np.sin(angle)], -1)
    ring_i = np.stack([hole_r * np.cos(angle), hole_y + hole_r * np.sin(angle)], -1)
    # Four loops of vertices: outer bottom, outer top, hole bottom, hole top.
    loops = [(ring_o, 0.0), (ring_o, thickness_mm), (ring_i, 0.0), (ring_i, thickness_mm)]
    vertices = np.vstack([np.column_stack([xy, np.full(segments, z)]) for xy, z in loops])
    ob, ot, ib, it = (np.arange(segments) + k * segments for k in range(4))
    nx = np.roll(np.arange(segments), -1)

    def strip(lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        # quads lo[i], lo[i+1], hi[i+1], hi[i]
        return np.vstack([np.stack([lo, lo[nx], hi[nx]], -1), np.stack([lo, hi[nx], hi], -1)])

    faces = np.vstack([
        strip(ob, ot),  # outer rim
        strip(it, ib),  # bail hole wall (facing into the hole)
        strip(ot, it),  # top face: the annulus between the rim and the hole
        strip(ib, ob),  # bottom face
    ])
    return _mesh(vertices, faces)


def stud_mesh(
    post_diameter_mm: float = 1.0,
    post_length_mm: float = 10.0,
    setting_diameter_mm: float = 5.0,
    setting_height_mm: float = 3.0,
    segments: int = 64,
) -> Mesh:
    """A stud earring: a post (cylinder) under a conical setting for a round stone,
    as one solid of revolution about z. Volume ≈ π r² L + π h (r² + r R + R²) / 3."""
    _positive(post_diameter_mm=post_diameter_mm, post_length_mm=post_length_mm,
              setting_diameter_mm=setting_diameter_mm, setting_height_mm=setting_height_mm)
    r, big = post_diameter_mm / 2, setting_diameter_mm / 2
    if big <= r:
        raise ValueError("the setting must be wider than the post")
    top = post_length_mm + setting_height_mm
    profile = [(0.0, 0.0), (r, 0.0), (r, post_length_mm), (big, top), (0.0, top)]
    return revolve(profile, segments)


# -- writers ---------------------------------------------------------------------------


def _normals(triangles: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    n = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    length = np.linalg.norm(n, axis=1, keepdims=True)
    unit: npt.NDArray[np.float64] = np.divide(n, length, out=np.zeros_like(n), where=length > 0)
    return unit


def binary_stl(mesh: Mesh, header: bytes = DEFAULT_HEADER) -> bytes:
    """Binary STL: an 80-byte header, a uint32 count, 50 bytes per triangle."""
    if len(header) > 80:
        raise ValueError("an STL header is at most 80 bytes")
    triangles = mesh.triangles
    records = np.zeros(len(triangles), dtype=STL_RECORD)
    records["normal"] = _normals(triangles)
    records["vertices"] = triangles
    return header.ljust(80, b"\0") + np.uint32(len(triangles)).tobytes() + records.tobytes()


def ascii_stl(mesh: Mesh, name: str = "caratzon") -> bytes:
    triangles = mesh.triangles
    normals = _normals(triangles)
    lines = [f"solid {name}"]
    for n, (p, q, r) in zip(normals, triangles, strict=True):
        lines.append(f"  facet normal {n[0]:.7e} {n[1]:.7e} {n[2]:.7e}")
        lines.append("    outer loop")
        lines.extend(f"      vertex {v[0]:.9g} {v[1]:.9g} {v[2]:.9g}" for v in (p, q, r))
        lines.append("    endloop")
        lines.append("  endfacet")
    lines.append(f"endsolid {name}")
    return ("\n".join(lines) + "\n").encode("ascii")


def obj_text(mesh: Mesh, name: str = "caratzon") -> str:
    """Wavefront OBJ: shared vertices, 1-based face indices."""
    lines = [f"# {name} (millimetres)", f"o {name}"]
    lines.extend(f"v {x:.9g} {y:.9g} {z:.9g}" for x, y, z in mesh.vertices)
    lines.extend(f"f {a + 1} {b + 1} {c + 1}" for a, b, c in mesh.faces)
    return "\n".join(lines) + "\n"


# -- ready-made files ------------------------------------------------------------------


def cube_stl(edge_mm: float = 10.0) -> bytes:
    return binary_stl(cube_mesh(edge_mm))


def ring_stl(
    size_us: float,
    band_width_mm: float = 2.0,
    band_thickness_mm: float = 1.6,
    segments: int = 128,
    profile_segments: int = 32,
) -> bytes:
    return binary_stl(ring_mesh(size_us, band_width_mm, band_thickness_mm, segments, profile_segments),
                      header=f"Caratzon ring, US size {size_us:g}, millimetres".encode())


def pendant_stl(diameter_mm: float = 18.0, thickness_mm: float = 1.5, bail_hole_mm: float = 3.0,
                segments: int = 96) -> bytes:
    return binary_stl(pendant_mesh(diameter_mm, thickness_mm, bail_hole_mm, segments=segments),
                      header=b"Caratzon disc pendant with bail hole, millimetres")


def stud_stl(post_diameter_mm: float = 1.0, setting_diameter_mm: float = 5.0, segments: int = 64) -> bytes:
    return binary_stl(stud_mesh(post_diameter_mm, setting_diameter_mm=setting_diameter_mm, segments=segments),
                      header=b"Caratzon stud earring, millimetres")
