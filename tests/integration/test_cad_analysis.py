"""Issue #3, the adapter: measuring real STL and OBJ files, refusing bad ones with
a readable message, and the generated demo meshes."""

from __future__ import annotations

import io
import math
import struct
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caratzon_adapters.cad import CadParseError, analyse_cad
from caratzon_adapters.cad import generate as g
from caratzon_adapters.cad.analysis import is_watertight, measure, read_obj, read_stl, thinnest_wall
from caratzon_core.errors import ValidationFailed
from caratzon_core.geometry import CadStatus, MeshMetrics, assess

CUBE = g.cube_mesh(10.0)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)


def metrics(data: bytes | str, ext: str = ".stl") -> MeshMetrics:
    result = analyse_cad(data.encode() if isinstance(data, str) else data, ext)
    assert result is not None
    return result


def refused(data: bytes, ext: str = ".stl") -> str:
    with pytest.raises(CadParseError) as err:
        analyse_cad(data, ext)
    assert err.value.field == "file"
    assert isinstance(err.value, ValidationFailed)
    return err.value.message


# -- the 10 mm cube in every format ---------------------------------------------------


@pytest.mark.parametrize(
    ("data", "ext"),
    [(g.cube_stl(10.0), ".stl"), (g.ascii_stl(CUBE), ".stl"), (g.obj_text(CUBE), ".obj"),
     (g.ascii_stl(CUBE).upper(), ".STL")],
    ids=["binary-stl", "ascii-stl", "obj", "ascii-stl-upper-case"],
)
def test_a_10mm_cube_measures_exactly(data: bytes | str, ext: str) -> None:
    m = metrics(data, ext)
    assert m.volume_mm3 == 1000.0
    assert m.surface_area_mm2 == 600.0
    assert m.bbox_mm == (10.0, 10.0, 10.0)
    assert m.triangle_count == 12
    assert m.watertight
    assert m.thinnest_wall_mm == pytest.approx(10.0)
    assert "millimetres" in m.units


def test_files_are_read_from_a_path_or_a_binary_stream(tmp_path: Path) -> None:
    path = tmp_path / "cube.stl"
    path.write_bytes(g.cube_stl(10.0))
    assert metrics(path.read_bytes()) == analyse_cad(path, "stl") == analyse_cad(str(path), ".stl")
    with path.open("rb") as stream:
        result = analyse_cad(stream, ".stl")
    assert result is not None and result.volume_mm3 == 1000.0


def test_the_analysis_of_a_cube_gives_weights() -> None:
    result = assess(metrics(g.cube_stl(10.0)))
    assert result.status is CadStatus.ANALYSED
    assert {w.alloy_code: w.grams for w in result.weights}["18k_yellow"] == Decimal("17.14")


def test_an_inside_out_mesh_still_has_its_volume_and_walls() -> None:
    inverted = g.Mesh(CUBE.vertices, CUBE.faces[:, ::-1])
    m = metrics(g.binary_stl(inverted))
    assert m.volume_mm3 == 1000.0 and m.watertight and m.thinnest_wall_mm == pytest.approx(10.0)


def test_a_mesh_far_from_the_origin_keeps_its_volume() -> None:
    far = g.box_mesh(10.0, 10.0, 10.0, origin=(5000.0, -3000.0, 1000.0))
    assert metrics(g.binary_stl(far)).volume_mm3 == pytest.approx(1000.0, rel=1e-9)


# -- watertightness -------------------------------------------------------------------


def test_a_cube_with_a_face_deleted_is_not_watertight() -> None:
    open_box = g.Mesh(CUBE.vertices, CUBE.faces[:-1])
    m = metrics(g.binary_stl(open_box))
    assert not m.watertight
    assert m.thinnest_wall_mm is None
    result = assess(m)
    assert result.status is CadStatus.NOT_WATERTIGHT and result.weights == ()


def test_a_face_turned_the_wrong_way_breaks_watertightness() -> None:
    faces = CUBE.faces.copy()
    faces[0] = faces[0, ::-1]
    assert not metrics(g.binary_stl(g.Mesh(CUBE.vertices, faces))).watertight


def test_two_cubes_sharing_an_edge_are_not_manifold() -> None:
    pair = g.merge(CUBE, g.box_mesh(10.0, 10.0, 10.0, origin=(10.0, 10.0, 0.0)))
    assert not metrics(g.binary_stl(pair)).watertight


def test_a_sheet_folded_onto_itself_is_closed_but_encloses_nothing() -> None:
    triangle = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0]])
    sheet = g.Mesh(triangle, np.array([[0, 1, 2], [0, 2, 1]]))
    m = metrics(g.binary_stl(sheet))
    assert m.watertight and m.volume_mm3 == 0.0
    assert assess(m).status is CadStatus.INVALID


def test_duplicate_vertices_are_merged_and_collapsed_faces_ignored() -> None:
    obj = g.obj_text(CUBE) + "v 0 0 0\nf 1 1 9\n"  # a repeated corner, and a face that collapses onto it
    m = metrics(obj, ".obj")
    assert m.watertight and m.volume_mm3 == 1000.0 and m.triangle_count == 13


# -- STL flavours ---------------------------------------------------------------------


def test_a_binary_stl_whose_header_starts_with_solid_is_read_as_binary() -> None:
    data = g.binary_stl(CUBE, header=b"solid cube exported by SomeCAD 2019")
    assert data.startswith(b"solid")
    m = metrics(data)
    assert m.volume_mm3 == 1000.0 and m.triangle_count == 12


def test_an_ascii_stl_with_several_solids_is_read_whole() -> None:
    second = g.box_mesh(1.0, 1.0, 1.0, origin=(20.0, 0.0, 0.0))
    m = metrics(g.ascii_stl(CUBE, "a") + g.ascii_stl(second, "b"))
    assert m.triangle_count == 24 and m.volume_mm3 == pytest.approx(1001.0) and m.watertight


def test_an_ascii_stl_padded_by_an_old_exporter_is_accepted() -> None:
    assert metrics(g.ascii_stl(CUBE) + b"\x1a").volume_mm3 == 1000.0
    assert metrics(b"\n  " + g.ascii_stl(CUBE).replace(b"\n", b"\r\n")).volume_mm3 == 1000.0


def test_a_text_stream_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        analyse_cad(io.StringIO("solid x"), ".stl")  # type: ignore[arg-type]


def test_stl_normals_in_the_file_are_ignored() -> None:
    text = g.ascii_stl(CUBE).decode().replace("facet normal", "facet normal 0 0 0 #").replace(" #", "")
    bogus = "\n".join(
        line if "facet normal" not in line else "  facet normal nan nan nan" for line in text.splitlines()
    )
    assert metrics(bogus).volume_mm3 == 1000.0


def test_obj_polygons_texture_references_and_negative_indices() -> None:
    obj = """# cube with quads
mtllib cube.mtl
o cube
v 0 0 0
v 10 0 0
v 10 10 0
v 0 10 0
v 0 0 10
v 10 0 10
v 10 10 10
v 0 10 10
vt 0 0
vn 0 0 1
g sides
usemtl gold
s off
f 1/1/1 4/1/1 3/1/1 2/1/1
f 5//1 6//1 7//1 8//1
f -8 -7 -3 -4
f 2 3 7 6
f 3 4 8 7
f 4/1 1/1 5/1 8/1
"""
    m = metrics(obj, ".obj")
    assert m.volume_mm3 == 1000.0 and m.triangle_count == 12 and m.watertight


# -- bad input ------------------------------------------------------------------------


def test_empty_files_are_refused() -> None:
    for ext in (".stl", ".obj", ".3dm", ".step"):
        assert "empty" in refused(b"", ext)


def test_a_png_named_stl_is_refused() -> None:
    assert "PNG image" in refused(PNG, ".stl")
    assert "PNG image" in refused(PNG, ".obj")
    assert "PNG image" in refused(PNG, ".3dm")


def test_a_truncated_binary_stl_is_refused_with_the_counts() -> None:
    data = g.cube_stl(10.0)
    message = refused(data[:-20])
    assert "declares 12 triangles" in message and "684 bytes" in message and "664 bytes" in message
    assert "declares 12 triangles" in refused(data + b"\0" * 7)


def test_a_binary_stl_with_no_triangles_or_bad_numbers_is_refused() -> None:
    assert "no triangles" in refused(bytes(80) + struct.pack("<I", 0))
    nan = bytearray(g.cube_stl(10.0))
    nan[84 + 12 : 84 + 16] = struct.pack("<f", math.nan)
    assert "not finite" in refused(bytes(nan))


def test_a_short_or_random_file_is_refused() -> None:
    assert "too short" in refused(b"hello")
    assert "not a valid STL" in refused(bytes(range(256)) * 4)


def test_a_malformed_ascii_stl_names_the_line() -> None:
    lines = g.ascii_stl(CUBE).decode().splitlines()
    missing_vertex = "\n".join(lines[:4] + lines[5:])  # facet 1 has only two vertices
    message = refused(missing_vertex.encode())
    assert "line 2" in message and "facet" in message
    bad_number = g.ascii_stl(CUBE).replace(b"vertex 10 0", b"vertex ten 0", 1)
    assert "not a number, facet 3 (ten 0" in refused(bad_number)
    assert "expected 'solid'" in refused(b"solid a\nendsolid a\nthis is not an stl\n")


def test_a_truncated_ascii_stl_is_refused() -> None:
    data = g.ascii_stl(CUBE)
    assert "facet" in refused(data[: len(data) // 2])
    without_end = data[: data.rindex(b"endsolid")]
    assert "without 'endsolid'" in refused(without_end)
    assert "no triangles" in refused(b"solid empty\nendsolid empty\n")


def test_malformed_obj_files_are_refused_with_the_line() -> None:
    assert "vertex 9" in refused(b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n", ".obj")
    assert "line 2" in refused(b"v 0 0 0\nv 1 0\n", ".obj")
    assert "at least three" in refused(b"v 0 0 0\nv 1 0 0\nf 1 2\n", ".obj")
    assert "not a vertex number" in refused(b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf a b c\n", ".obj")
    assert "no faces" in refused(b"# just a comment\nv 0 0 0\n", ".obj")
    assert "ASCII STL" in refused(g.ascii_stl(CUBE), ".obj")
    assert "not a number" in refused(b"v 0 0 zero\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", ".obj")


def test_an_unknown_extension_is_refused() -> None:
    assert "not a CAD format" in refused(g.cube_stl(10.0), ".exe")


# -- formats we store but do not measure ----------------------------------------------


@pytest.mark.parametrize(
    ("ext", "data"),
    [(".3dm", b"3D Geometry File Format        5\x00rest"), (".step", b"ISO-10303-21;\nHEADER;\n"),
     (".stp", b"\xef\xbb\xbfISO-10303-21;\n"), (".3mf", b"PK\x03\x04zipdata")],
)
def test_formats_we_cannot_measure_are_not_analysed(ext: str, data: bytes) -> None:
    assert analyse_cad(data, ext) is None
    assert assess(None).status is CadStatus.NOT_ANALYSED


def test_a_stored_only_format_with_the_wrong_bytes_is_refused() -> None:
    assert "named .3dm" in refused(g.cube_stl(10.0), ".3dm")
    assert "named .step" in refused(b"3D Geometry File Format ", ".step")
    assert "does not start like a .stp file" in refused(b"hello", ".stp")


# -- wall thickness -------------------------------------------------------------------


def test_a_hollow_box_with_half_millimetre_walls_is_flagged_thin() -> None:
    m = metrics(g.binary_stl(g.hollow_box_mesh(10.0, 0.5)))
    assert m.watertight
    assert m.volume_mm3 == pytest.approx(1000 - 9**3)
    assert m.thinnest_wall_mm == pytest.approx(0.5, abs=1e-6)
    result = assess(m)
    assert result.status is CadStatus.ANALYSED and result.weights
    assert any("0.50 mm" in w and "0.8 mm" in w for w in result.warnings)


def test_a_finely_tessellated_thin_shell_uses_the_grid_search() -> None:
    # two nested spheres of revolution 0.6 mm apart, ~19k triangles: past the brute-force size
    def sphere(radius: float) -> g.Mesh:
        arc = [(radius * math.sin(a), -radius * math.cos(a)) for a in np.linspace(0.05, math.pi - 0.05, 60)]
        return g.revolve([(0.0, -radius), *arc, (0.0, radius)], 160)

    outer, inner = sphere(6.0), sphere(5.4)
    shell = g.Mesh(np.vstack([outer.vertices, inner.vertices]),
                   np.vstack([outer.faces, inner.faces[:, ::-1] + len(outer.vertices)]))
    m = metrics(g.binary_stl(shell))
    assert m.triangle_count > 10_000 and m.watertight
    assert m.thinnest_wall_mm is not None and 0.5 < m.thinnest_wall_mm < 0.62


@pytest.mark.parametrize(
    "mesh",
    [g.ring_mesh(7, 2.5, 1.2, 96, 40), g.pendant_mesh(segments=400), g.stud_mesh(segments=600),
     g.merge(g.hollow_box_mesh(10.0, 0.7), g.box_mesh(3.0, 2.0, 1.0, origin=(30.0, 0.0, 0.0))),
     g.merge(g.ring_mesh(7, segments=120, profile_segments=40), g.box_mesh(30.0, 2.0, 25.0, origin=(-15.0, 15.0, -5.0)))],
    ids=["ring", "pendant", "stud", "two-shells", "ring-and-large-slab"],
)
def test_the_grid_search_finds_what_testing_every_triangle_finds(mesh: g.Mesh, monkeypatch: pytest.MonkeyPatch) -> None:
    from caratzon_adapters.cad import analysis

    tri = mesh.triangles
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(cross, axis=1)
    monkeypatch.setattr(analysis, "_BRUTE_FORCE_PAIRS", 0)
    grid = thinnest_wall(tri, cross, area, inward=-1.0, samples=400)
    monkeypatch.setattr(analysis, "_BRUTE_FORCE_PAIRS", 10**12)
    brute = thinnest_wall(tri, cross, area, inward=-1.0, samples=400)
    assert grid is not None and grid == brute


def test_the_wall_search_gives_up_within_its_budget() -> None:
    tri = g.ring_mesh(7, segments=200, profile_segments=64).triangles
    a = tri[:, 0]
    cross = np.cross(tri[:, 1] - a, tri[:, 2] - a)
    area = np.linalg.norm(cross, axis=1)
    assert thinnest_wall(tri, cross, area, inward=-1.0) == pytest.approx(1.6, abs=0.01)
    assert thinnest_wall(tri, cross, area, inward=-1.0, max_pairs=1000) is None


# -- large files: read and measured a block at a time --------------------------------------


@pytest.fixture
def tiny_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks, batches and chunks of a few items, so that small meshes cross many of their edges."""
    from caratzon_adapters.cad import analysis

    for name, size in (("_BLOCK", 97), ("_READ_BLOCK", 61), ("_PAIR_CHUNK", 500), ("_TEXT_BATCH", 7),
                       ("_TEXT_PIECE", 300)):
        monkeypatch.setattr(analysis, name, size)


SHELL = g.merge(g.hollow_box_mesh(10.0, 0.7), g.box_mesh(3.0, 2.0, 1.0, origin=(30.0, 0.0, 0.0)))


@pytest.mark.parametrize("mesh", [g.ring_mesh(7, 2.5, 1.2, 96, 40), SHELL], ids=["ring", "two-shells"])
def test_the_figures_do_not_depend_on_the_block_sizes(mesh: g.Mesh, request: pytest.FixtureRequest,
                                                      tmp_path: Path) -> None:
    data = g.binary_stl(mesh)
    expected = {
        "binary": metrics(data),
        "ascii": metrics(g.ascii_stl(mesh)),
        "obj": metrics(g.obj_text(mesh), ".obj"),
    }
    # the float32 coordinates of a binary STL give exactly what a float64 copy of them gives
    assert measure(read_stl(data)) == expected["binary"]
    request.getfixturevalue("tiny_blocks")
    path = tmp_path / "mesh.stl"
    path.write_bytes(data)
    assert analyse_cad(path, ".stl") == metrics(data) == expected["binary"]
    assert metrics(g.ascii_stl(mesh)) == expected["ascii"]
    assert metrics(g.obj_text(mesh), ".obj") == expected["obj"]


def test_a_binary_stl_is_read_from_any_binary_stream(tiny_blocks: None) -> None:
    data = g.binary_stl(g.ring_mesh(7, segments=48, profile_segments=12))
    expected = metrics(data)

    class Pipe(io.RawIOBase):  # cannot seek, and hands out a few bytes at a time
        def __init__(self) -> None:
            self.inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            return self.inner.readinto(memoryview(buffer)[:37])

    assert analyse_cad(Pipe(), ".stl") == expected  # type: ignore[arg-type]
    shifted = io.BytesIO(b"junk" + data)
    shifted.seek(4)
    assert analyse_cad(shifted, ".stl") == expected


def test_a_bad_number_late_in_a_large_file_is_still_found(tiny_blocks: None, tmp_path: Path) -> None:
    ring = g.ring_mesh(7, segments=48, profile_segments=12)
    nan = bytearray(g.binary_stl(ring))
    nan[84 + 50 * 1000 + 20: 84 + 50 * 1000 + 24] = struct.pack("<f", math.inf)
    path = tmp_path / "late.stl"
    path.write_bytes(bytes(nan))
    assert "not finite" in refused(path)  # type: ignore[arg-type]

    lines = g.ascii_stl(ring).decode().splitlines()
    first_vertex = 1 + 7 * 99 + 2  # of facet 100: 'solid', then 7 lines a facet
    assert lines[first_vertex].split()[0] == "vertex"
    lines[first_vertex] = lines[first_vertex].replace("vertex ", "vertex x", 1)
    assert "not a number, facet 100 (x" in refused("\n".join(lines).encode())

    obj_bad = g.obj_text(ring).splitlines()
    assert obj_bad[50].startswith("v ")
    obj_bad[50] = "v 1 2 three"
    assert "not a number" in refused("\n".join(obj_bad).encode(), ".obj")
    # a broken face is reported first, wherever the bad number is, as when the file was read whole
    assert "vertex 9999" in refused(("\n".join(obj_bad) + "\nf 1 2 9999\n").encode(), ".obj")


# -- generated jewellery ----------------------------------------------------------------


def test_a_fine_torus_ring_has_the_analytic_volume_and_its_ring_size() -> None:
    size, wire = 7, 2.0
    m = metrics(g.ring_stl(size, band_width_mm=wire, band_thickness_mm=wire, segments=192, profile_segments=48))
    major = 17.3196 / 2 + wire / 2
    assert m.volume_mm3 == pytest.approx(2 * math.pi**2 * major * (wire / 2) ** 2, rel=0.01)
    assert m.volume_mm3 == pytest.approx(g.ring_volume_mm3(size, wire, wire), rel=0.01)
    assert m.bbox_mm[0] == pytest.approx(17.3196 + 2 * wire, abs=1e-4)  # inner diameter + two walls
    assert m.bbox_mm[2] == pytest.approx(wire, abs=1e-5)
    assert m.watertight
    assert m.thinnest_wall_mm == pytest.approx(wire, abs=0.01)


@pytest.mark.parametrize("size", [4, 6.5, 9, 12])
def test_rings_of_real_sizes_are_closed_and_heavier_when_larger(size: float) -> None:
    small = metrics(g.ring_stl(size))
    larger = metrics(g.ring_stl(size + 1))
    assert small.watertight and larger.volume_mm3 > small.volume_mm3
    assert small.volume_mm3 == pytest.approx(g.ring_volume_mm3(size), rel=0.01)


def test_the_pendant_and_stud_are_closed_solids_of_the_expected_size() -> None:
    pendant = metrics(g.pendant_stl())
    assert pendant.watertight
    assert pendant.volume_mm3 == pytest.approx((math.pi * 9**2 - math.pi * 1.5**2) * 1.5, rel=0.01)
    assert pendant.bbox_mm == pytest.approx((18.0, 18.0, 1.5), abs=1e-5)
    assert pendant.thinnest_wall_mm == pytest.approx(1.5, abs=0.01)  # the face thickness and the bail margin
    stud = metrics(g.stud_stl())
    assert stud.watertight
    cone = math.pi * 3.0 * (0.5**2 + 0.5 * 2.5 + 2.5**2) / 3
    assert stud.volume_mm3 == pytest.approx(math.pi * 0.5**2 * 10 + cone, rel=0.01)
    assert stud.thinnest_wall_mm == pytest.approx(1.0, abs=0.01)  # the post


def test_the_generators_are_deterministic_and_refuse_nonsense() -> None:
    assert g.ring_stl(7) == g.ring_stl(7)
    assert g.ring_stl(7)[:80].startswith(b"Caratzon ring, US size 7")
    with pytest.raises(ValueError):
        g.ring_mesh(7, band_width_mm=0)
    with pytest.raises(ValueError):
        g.ring_mesh(7, segments=2)
    with pytest.raises(ValueError):
        g.hollow_box_mesh(1.0, 0.5)
    with pytest.raises(ValidationFailed):
        g.ring_mesh(30)


def test_the_readers_agree_across_formats() -> None:
    ring = g.ring_mesh(8, segments=48, profile_segments=12)
    binary = read_stl(g.binary_stl(ring))
    assert np.allclose(read_stl(g.ascii_stl(ring)), binary, atol=1e-6)
    assert np.allclose(read_obj(g.obj_text(ring).encode()), binary, atol=1e-6)
    assert is_watertight(binary)


def test_our_figures_agree_with_trimesh() -> None:
    trimesh = pytest.importorskip("trimesh")
    for data in (g.ring_stl(7, segments=96, profile_segments=24), g.pendant_stl(), g.stud_stl(),
                 g.binary_stl(g.hollow_box_mesh(10.0, 0.5))):
        ours = metrics(data)
        theirs = trimesh.load(io.BytesIO(data), file_type="stl", process=True)
        assert ours.volume_mm3 == pytest.approx(float(theirs.volume), rel=1e-9)
        assert ours.surface_area_mm2 == pytest.approx(float(theirs.area), rel=1e-9)
        assert ours.watertight == bool(theirs.is_watertight)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.tuples(*[st.floats(min_value=0.5, max_value=60.0, allow_nan=False)] * 3), st.floats(0.5, 3.0))
def test_box_volume_scales_with_its_dimensions(dims: tuple[float, float, float], k: float) -> None:
    x, y, z = dims
    box = metrics(g.binary_stl(g.box_mesh(x, y, z)))
    scaled = metrics(g.binary_stl(g.box_mesh(k * x, k * y, k * z)))
    # binary STL stores float32 coordinates: relative error ~1e-7 per length
    assert box.volume_mm3 == pytest.approx(x * y * z, rel=1e-5)
    assert scaled.volume_mm3 == pytest.approx(k**3 * box.volume_mm3, rel=1e-5)
    assert box.surface_area_mm2 == pytest.approx(2 * (x * y + y * z + x * z), rel=1e-5)
    assert box.thinnest_wall_mm == pytest.approx(min(dims), abs=1e-4)  # reported to 0.1 µm
