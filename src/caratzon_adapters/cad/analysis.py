"""Measure an uploaded mesh: STL (ASCII or binary) and Wavefront OBJ.

Only numpy is needed. The parsers are small and strict so that a bad file gets
a message a designer can act on; the measurements are vectorised:

* volume: sum of signed tetrahedra a · cross(b-a, c-a) / 6 in float64, taken about the
  bounding-box centre (exact for a 10 mm cube: 1000 mm³), reported as |V|;
* area: Σ|cross(b-a, c-a)| / 2; bounding box: max - min per axis;
* watertight: vertices merged on exact coordinates, then every edge must be
  shared by exactly two faces that use it in opposite directions (closed,
  manifold and consistently oriented). Faces that collapse to a line or point
  after merging are ignored;
* thinnest wall: rays from up to 2,000 sampled face centroids go into the solid
  along the inward normal; the nearest hit on the mesh is the wall there. Rays
  march in lock-step through a uniform grid of triangles, and stop as soon as
  the shortest hit is certain, so thin-walled pieces finish in a few steps.
  None when the mesh is open or the search would exceed its work budget.

Memory stays a small multiple of the file (about 3x for a binary STL): a binary
STL is read a block at a time into one float32 array of its vertices (36 bytes a
triangle, exact: the file holds float32), and every float64 figure is computed from
it a block of triangles at a time, in the same operations as on a whole float64
copy, so the results do not depend on the blocking. Text files are turned into
numbers a batch of lines at a time. Vertex merging sorts compact integer keys, and
the wall search lists each small triangle once, under its lowest grid cell, rather
than under every cell it touches.

Formats we store but cannot measure (.3dm, .step/.stp, .3mf) give ``None``, after
a check that the bytes look like that format. STL and OBJ have no units: the
figures are taken to be millimetres.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from caratzon_core.errors import ValidationFailed
from caratzon_core.geometry import MeshMetrics

ANALYSED_FORMATS = frozenset({"stl", "obj"})
STORED_ONLY_FORMATS = frozenset({"3dm", "step", "stp", "3mf"})
MAX_WALL_SAMPLES = 2000
MAX_WALL_PAIRS = 20_000_000  # ray-triangle tests before the wall search gives up (about 2 s here)
MAX_GRID_ENTRIES = 6_000_000  # triangle-in-cell entries of the wall search grid (as if each were listed)
_BRUTE_FORCE_PAIRS = 2_000_000  # small meshes: test every sampled ray against every triangle
CELL_FACTOR = 3.0
STEP_FRACTION = 0.5

_BLOCK = 1 << 15  # triangles per block of the float64 passes (2.4 MB of coordinates)
_READ_BLOCK = 1 << 16  # binary STL records read at a time (3.3 MB)
_PAIR_CHUNK = 1 << 18  # (ray, triangle) pairs tested at a time
_TEXT_BATCH = 1 << 13  # facets or vertices of a text file turned into numbers at a time
_TEXT_PIECE = 1 << 22  # bytes of an OBJ file decoded and split into lines at a time

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
Floats = F32 | F64  # triangles as read: float32 from a binary STL, float64 from text
_Tri = TypeVar("_Tri", F32, F64)
_Text = TypeVar("_Text", bytes, str)

_STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])

# Signatures of files people upload by mistake, for a readable error.
_FOREIGN = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (a .3mf is one)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"3D Geometry File Format ", "a Rhino .3dm model"),
    (b"ISO-10303-21", "a STEP model"),
    (b"glTF", "a binary glTF model"),
    (b"ply", "a PLY mesh"),
)
_HEAD = 1024
_SIGNATURES = {
    "3dm": (b"3D Geometry File Format ",),
    "step": (b"ISO-10303-21",),
    "stp": (b"ISO-10303-21",),
    "3mf": (b"PK\x03\x04",),
}


class CadParseError(ValidationFailed):
    """The file is not a readable mesh of the format its name claims (422)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


Source = str | os.PathLike[str] | BinaryIO | bytes


def analyse_cad(source: Source, extension: str, *, wall_samples: int = MAX_WALL_SAMPLES) -> MeshMetrics | None:
    """Measure the mesh in ``source`` (a path, a binary stream or bytes) named with
    ``extension`` (".stl", "stl", ".OBJ", ...).

    Returns None for formats that are stored but not analysed; raises
    :class:`CadParseError` for an empty file, bytes that do not match the
    extension, or a malformed or truncated mesh.
    """
    ext = extension.lower().strip().lstrip(".")
    if ext not in ANALYSED_FORMATS and ext not in STORED_ONLY_FORMATS:
        known = ", ".join(f".{e}" for e in sorted(ANALYSED_FORMATS | STORED_ONLY_FORMATS))
        raise CadParseError(f"'.{ext}' is not a CAD format we accept ({known}).")
    if ext in STORED_ONLY_FORMATS:
        data = _read(source, limit=_HEAD)  # stored-only formats: check the head only
        if not data:
            raise CadParseError("The file is empty (0 bytes).")
        _check_signature(data, ext)
        return None
    return measure(_load(source, ext), wall_samples=wall_samples)


def _load(source: Source, ext: str) -> Floats:
    """The triangles of an STL or OBJ source. A binary STL in a file or a seekable
    stream is read a block at a time, never whole."""
    if isinstance(source, bytes | bytearray | memoryview):
        return _parse(bytes(source), ext)
    if isinstance(source, str | os.PathLike):
        with Path(source).open("rb") as stream:
            return _load_stream(stream, ext)
    if isinstance(source, io.TextIOBase):
        raise TypeError("open CAD files in binary mode ('rb')")
    return _load_stream(source, ext)


def _load_stream(stream: BinaryIO, ext: str) -> Floats:
    if ext == "stl":
        here, size = _position_and_size(stream)
        if size >= 84:
            head = b""
            while len(head) < 84 and (more := _bytes(stream.read(84 - len(head)))):
                head += more
            count = _binary_stl_count(head, size)
            if count is not None:
                return _read_binary_stl(stream, count)
            stream.seek(here)
    return _parse(_bytes(stream.read()), ext)


def _bytes(data: object) -> bytes:
    if not isinstance(data, bytes):
        raise TypeError("open CAD files in binary mode ('rb')")
    return data


def _position_and_size(stream: BinaryIO) -> tuple[int, int]:
    """Where the stream is and how many bytes are left in it; (0, -1) when it cannot seek."""
    try:
        if not stream.seekable():
            return 0, -1
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
    except (AttributeError, OSError, ValueError):
        return 0, -1
    return here, end - here


def _parse(data: bytes, ext: str) -> Floats:
    if not data:
        raise CadParseError("The file is empty (0 bytes).")
    return _stl_triangles(data) if ext == "stl" else read_obj(data)


def _read(source: Source, *, limit: int | None = None) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source[:limit])
    if isinstance(source, str | os.PathLike):
        with Path(source).open("rb") as stream:
            return stream.read(-1 if limit is None else limit)
    if isinstance(source, io.TextIOBase):
        raise TypeError("open CAD files in binary mode ('rb')")
    data = source.read(-1 if limit is None else limit)
    if not isinstance(data, bytes):
        raise TypeError("open CAD files in binary mode ('rb')")
    return data


def _looks_like(data: bytes) -> str | None:
    head = data[:_HEAD].lstrip()[:32]
    for magic, what in _FOREIGN:
        if head.startswith(magic):
            return what
    if head[4:12] in (b"ftypavif", b"ftypheic") or (head.startswith(b"RIFF") and head[8:12] == b"WEBP"):
        return "an image"
    return None


def _check_signature(data: bytes, ext: str) -> None:
    head = data[:_HEAD].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not any(head.startswith(magic) for magic in _SIGNATURES[ext]):
        what = _looks_like(data)
        if what is None:
            raise CadParseError(f"This file is named .{ext} but does not start like a .{ext} file.")
        raise CadParseError(f"This file is named .{ext} but its contents look like {what}.")


# -- STL -----------------------------------------------------------------------------

_SOLID = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*solid\b[^\n]*", re.IGNORECASE)
_ENDSOLID = re.compile(rb"\s*endsolid\b[^\n]*", re.IGNORECASE)
_TRAILER = b" \t\r\n\x00\x1a"  # whitespace, and the NUL or DOS end-of-file padding some old exporters add
_NUM = rb"\s+(\S+)"
_FACET = re.compile(
    rb"\s*facet\s+normal\s+\S+\s+\S+\s+\S+\s+outer\s+loop"
    + (rb"\s+vertex" + _NUM * 3) * 3
    + rb"\s+endloop\s+endfacet\b",
    re.IGNORECASE,
)


def read_stl(data: bytes) -> F64:
    """Triangles (F, 3, 3) in float64 from STL bytes, binary or ASCII.

    A file is binary when its length is exactly 84 + 50 * the triangle count in
    its header, whatever the header says: many binary STLs begin with "solid".
    Otherwise it must be an ASCII STL that parses completely.
    """
    return _stl_triangles(data).astype(np.float64, copy=False)


def _binary_stl_count(head: bytes, size: int) -> int | None:
    """The triangle count of a binary STL of ``size`` bytes that starts with ``head``
    (84 bytes at least), or None when it is not one."""
    count = int.from_bytes(head[80:84], "little")
    if 84 + 50 * count != size:
        return None
    if count == 0:
        raise CadParseError("This binary STL contains no triangles.")
    return count


def _read_binary_stl(stream: BinaryIO, count: int) -> F32:
    """The vertices of ``count`` binary STL records, read from the stream a block at a time."""
    triangles = np.empty((count, 3, 3), dtype=np.float32)
    buffer = np.empty(min(count, _READ_BLOCK) * _STL_RECORD.itemsize, dtype=np.uint8)
    readinto = getattr(stream, "readinto", None)
    for begin in range(0, count, _READ_BLOCK):
        end = min(begin + _READ_BLOCK, count)
        raw = buffer[: (end - begin) * _STL_RECORD.itemsize]
        view, got = raw.data, 0
        while got < len(raw):
            if readinto is not None:
                n = readinto(view[got:])
            else:
                chunk = _bytes(stream.read(len(raw) - got))
                n = len(chunk)
                raw[got:got + n] = np.frombuffer(chunk, dtype=np.uint8)
            if not n:
                raise CadParseError("The binary STL ended before its last triangle: the file looks truncated.")
            got += n
        block = raw.view(_STL_RECORD)["vertices"]
        triangles[begin:end] = _finite(block, "binary STL")
    return triangles


def _stl_triangles(data: bytes) -> Floats:
    """:func:`read_stl`, keeping a binary STL's float32 coordinates as they are."""
    if len(data) >= 84:
        count = _binary_stl_count(data, len(data))
        if count is not None:
            records = np.frombuffer(data, dtype=_STL_RECORD, count=count, offset=84)
            return _finite(np.ascontiguousarray(records["vertices"]), "binary STL")
    if _SOLID.match(data) and b"\0" not in data[:4096]:
        return _read_ascii_stl(data)
    what = _looks_like(data)
    if what is not None:
        raise CadParseError(f"This file is named .stl but its contents look like {what}, not an STL mesh.")
    if len(data) < 84:
        raise CadParseError(f"This file is too short to be an STL mesh ({len(data)} bytes).")
    count = int.from_bytes(data[80:84], "little")
    raise CadParseError(
        f"This is not a valid STL mesh: as a binary STL it declares {count:,} triangles, which need "
        f"{84 + 50 * count:,} bytes, but the file has {len(data):,} bytes (truncated or not an STL); "
        "and it is not an ASCII STL (which starts with 'solid')."
    )


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def _snippet(data: bytes, pos: int) -> str:
    rest = data[pos:].lstrip()
    text = rest[:40].split(b"\n")[0].decode("ascii", "replace").strip()
    return text or "the end of the file"


def _read_ascii_stl(data: bytes) -> F64:
    numbers: _Numbers[bytes] = _Numbers(as_bytes=True)
    coords = numbers.pending
    pos = 0
    while True:
        header = _SOLID.match(data, pos)
        if header is None:
            raise CadParseError(
                f"ASCII STL, line {_line_of(data, pos)}: expected 'solid', found '{_snippet(data, pos)}'."
            )
        pos = header.end()
        match = _FACET.match
        while (m := match(data, pos)) is not None:
            coords.append(m.groups())
            pos = m.end()
            if len(coords) == _TEXT_BATCH:
                numbers.flush()
        end = _ENDSOLID.match(data, pos)
        if end is None:
            rest = data[pos:]
            where = _line_of(data, pos + len(rest) - len(rest.lstrip()))
            if not rest.strip(_TRAILER):
                raise CadParseError(f"ASCII STL ends at line {where} without 'endsolid': the file looks truncated.")
            raise CadParseError(
                f"ASCII STL, line {where}: expected a complete 'facet … endfacet' block of three vertices "
                f"or 'endsolid', found '{_snippet(data, pos)}'."
            )
        pos = end.end()
        if not data[pos:].strip(_TRAILER):
            break
    numbers.flush()
    if numbers.count == 0:
        raise CadParseError("This ASCII STL contains no triangles.")
    if numbers.bad is not None:
        start, rows = numbers.bad
        bad = next((i for i, row in enumerate(rows) if not _all_numbers(row)), None)
        facet = "" if bad is None else (
            f", facet {start + bad + 1} ({' '.join(c.decode('ascii', 'replace') for c in rows[bad])[:80]})"
        )
        raise CadParseError(f"ASCII STL: a vertex coordinate is not a number{facet}.")
    return _finite(numbers.array().reshape(-1, 3, 3), "ASCII STL")


class _Numbers(Generic[_Text]):
    """Rows of number texts (bytes or str) turned into float64 a batch at a time, so that
    a large text file never holds all its numbers as Python objects. The first batch
    that does not convert is kept, for the error message, and no later one is converted."""

    def __init__(self, *, as_bytes: bool) -> None:
        self.as_bytes = as_bytes  # bytes are read as numpy bytes (the ASCII STL reader always did)
        self.pending: list[Sequence[_Text]] = []
        self.blocks: list[F64] = []
        self.count = 0  # rows flushed
        self.bad: tuple[int, list[Sequence[_Text]]] | None = None  # the first row, and the rows, of a bad batch

    def flush(self) -> None:
        rows = self.pending
        if rows and self.bad is None:
            try:
                if self.as_bytes:
                    block = np.array(rows, dtype=np.bytes_).astype(np.float64)
                else:
                    block = np.array(rows, dtype=np.float64)
            except ValueError:
                self.bad = (self.count, rows[:])
            else:
                self.blocks.append(block)
        self.count += len(rows)
        rows.clear()

    def array(self) -> F64:
        result = self.blocks[0] if len(self.blocks) == 1 else np.concatenate(self.blocks)
        self.blocks.clear()
        return result


def _all_numbers(row: Sequence[bytes]) -> bool:
    try:
        np.array(row, dtype=np.bytes_).astype(np.float64)
    except ValueError:
        return False
    return True


def _finite(triangles: _Tri, what: str) -> _Tri:
    if not np.isfinite(triangles).all():
        raise CadParseError(f"This {what} has vertex coordinates that are not finite numbers (NaN or infinity).")
    return triangles


# -- OBJ -----------------------------------------------------------------------------


def read_obj(data: bytes) -> F64:
    """Triangles (F, 3, 3) from Wavefront OBJ text: ``v`` and ``f`` statements
    (``f 1 2 3``, ``1/1/1``, ``1//1``, negative indices, polygons fanned into
    triangles). Texture coordinates, normals, groups and materials are ignored."""
    what = _looks_like(data)
    if what is not None or b"\0" in data[:4096]:
        raise CadParseError(f"This file is named .obj but its contents look like {what or 'binary data'}, "
                            "not a Wavefront OBJ text file.")
    numbers: _Numbers[str] = _Numbers(as_bytes=False)
    vertices = numbers.pending
    faces: list[int] = []
    face_blocks: list[I64] = []
    for number, raw in enumerate(_text_lines(data), start=1):
        line = raw.strip()
        if line.startswith("v "):
            parts = line.split()
            if len(parts) < 4:
                raise CadParseError(f"OBJ line {number}: a vertex needs three coordinates: '{line[:60]}'.")
            vertices.append(parts[1:4])
            if len(vertices) == _TEXT_BATCH:
                numbers.flush()
        elif line.startswith("f ") or line.startswith("f\t"):
            refs = line.split()[1:]
            if len(refs) < 3:
                raise CadParseError(f"OBJ line {number}: a face needs at least three vertices: '{line[:60]}'.")
            count = numbers.count + len(vertices)
            ids: list[int] = []
            for ref in refs:
                head = ref.split("/", 1)[0]
                try:
                    index = int(head)
                except ValueError:
                    raise CadParseError(f"OBJ line {number}: '{ref[:20]}' is not a vertex number.") from None
                resolved = index - 1 if index > 0 else count + index
                if index == 0 or not 0 <= resolved < count:
                    raise CadParseError(
                        f"OBJ line {number}: the face refers to vertex {index}, "
                        f"but only {count} vertices are defined before it."
                    )
                ids.append(resolved)
            first = ids[0]
            for k in range(1, len(ids) - 1):
                faces.extend((first, ids[k], ids[k + 1]))
            if len(faces) >= 3 * _TEXT_BATCH:
                face_blocks.append(np.array(faces, dtype=np.int64))
                faces.clear()
    if faces:
        face_blocks.append(np.array(faces, dtype=np.int64))
    del faces
    if not face_blocks:
        hint = " (it looks like an ASCII STL)" if _SOLID.match(data) else ""
        raise CadParseError(f"This OBJ file contains no faces ('f' lines){hint}.")
    numbers.flush()
    if numbers.bad is not None:
        raise CadParseError("This OBJ file has a vertex coordinate that is not a number.")
    points = numbers.array().reshape(-1, 3)
    corners = face_blocks[0] if len(face_blocks) == 1 else np.concatenate(face_blocks)
    del face_blocks
    return _finite(points[corners.reshape(-1, 3)], "OBJ file")


def _text_lines(data: bytes) -> Iterator[str]:
    """``data.decode("utf-8", errors="replace").splitlines()``, a piece at a time: the pieces
    end just after a newline byte, which never lies inside a UTF-8 sequence or a line."""
    begin = 0
    while begin < len(data):
        end = data.find(b"\n", begin + _TEXT_PIECE)
        end = len(data) if end < 0 else end + 1
        yield from data[begin:end].decode("utf-8", errors="replace").splitlines()
        begin = end


# -- measurement ---------------------------------------------------------------------


def measure(triangles: npt.ArrayLike, *, wall_samples: int = MAX_WALL_SAMPLES) -> MeshMetrics:
    """Metrics of a triangle soup (F, 3, 3), lengths in millimetres. float32 triangles
    (a binary STL's) are measured as they are, without a float64 copy."""
    raw = _triangle_array(triangles)
    lo, hi = _bounds(raw)
    watertight = is_watertight(raw)  # on the file's own coordinates: float32 ones merge faster
    centre = (lo + hi) / 2  # about the centre: the volume sum keeps its precision far from the origin
    soup = _Soup(raw, shift=centre)
    double_area = np.empty(len(soup))
    six_volumes = np.empty(len(soup))
    for begin, end, tri in soup.blocks():
        a = tri[:, 0]
        cross = np.cross(tri[:, 1] - a, tri[:, 2] - a)
        double_area[begin:end] = np.sqrt(np.einsum("ij,ij->i", cross, cross))
        six_volumes[begin:end] = np.einsum("ij,ij->i", a, cross)
    signed_volume = float(six_volumes.sum() / 6)  # one pairwise sum over all faces, as for a whole array
    del six_volumes
    wall = None
    if watertight and wall_samples > 0 and signed_volume != 0:
        wall = _thinnest_wall(soup, double_area, soup.cross, bounds=(lo - centre, hi - centre),
                              inward=-1.0 if signed_volume > 0 else 1.0, samples=wall_samples,
                              max_pairs=MAX_WALL_PAIRS)
    size = hi - lo
    return MeshMetrics(
        volume_mm3=abs(signed_volume),
        surface_area_mm2=float(double_area.sum() / 2),
        bbox_mm=(float(size[0]), float(size[1]), float(size[2])),
        triangle_count=len(soup),
        watertight=watertight,
        thinnest_wall_mm=None if wall is None else round(wall, 4),
    )


def _bounds(triangles: Floats) -> tuple[F64, F64]:
    """Lowest and highest coordinate per axis (a column at a time: much faster than along axis 0)."""
    points = triangles.reshape(-1, 3)
    lo = np.array([points[:, axis].min() for axis in range(3)], dtype=np.float64)
    hi = np.array([points[:, axis].max() for axis in range(3)], dtype=np.float64)
    return lo, hi


def _triangle_array(triangles: npt.ArrayLike) -> Floats:
    array = np.asarray(triangles)
    if array.dtype != np.float32:
        array = np.asarray(array, dtype=np.float64)
    return array.reshape(-1, 3, 3)


class _Soup:
    """Triangles (F, 3, 3) as stored (float32 or float64), handed out in float64 less
    ``shift`` a block or a selection at a time: the same numbers as ``stored - shift``
    on a whole float64 copy, which is never made."""

    def __init__(self, stored: Floats, shift: F64 | None = None) -> None:
        self.stored, self.shift = stored, shift

    def __len__(self) -> int:
        return len(self.stored)

    def _float64(self, part: Floats) -> F64:
        result = part.astype(np.float64)
        if self.shift is not None:
            result -= self.shift
        return result

    def blocks(self) -> Iterator[tuple[int, int, F64]]:
        size = _BLOCK
        for begin in range(0, len(self.stored), size):
            end = min(begin + size, len(self.stored))
            yield begin, end, self._float64(self.stored[begin:end])

    def take(self, faces: npt.NDArray[np.integer]) -> F64:
        return self._float64(self.stored[faces])

    def cross(self, faces: npt.NDArray[np.integer]) -> F64:
        """cross(b - a, c - a) of the given faces."""
        tri = self.take(faces)
        a = tri[:, 0]
        result: F64 = np.cross(tri[:, 1] - a, tri[:, 2] - a)
        return result


# -- watertightness ------------------------------------------------------------------


def merge_vertices(triangles: npt.ArrayLike) -> tuple[F64, I64]:
    """Shared vertices and faces from a triangle soup, merging exactly equal coordinates."""
    raw = _triangle_array(triangles)
    index, firsts = _vertex_index(raw)
    vertices = raw.reshape(-1, 3)[firsts].astype(np.float64) + 0.0  # -0.0 becomes 0.0
    return vertices, index.astype(np.int64).reshape(-1, 3)


def _vertex_index(raw: Floats) -> tuple[I32, I64]:
    """For every corner of the soup, the number of its vertex (corners with exactly equal
    coordinates share one, 0.0 and -0.0 too); and one corner of each vertex.

    Vertices are numbered in the order of their coordinates' bits: x and y packed into
    one 64-bit key and z in a second when they are float32 values, one key per axis
    otherwise. Memory: a few integers per corner, no copy of the coordinates."""
    points = raw.reshape(-1, 3)
    count = len(points)
    step = 3 * _BLOCK
    single = points.dtype == np.float32 or all(  # float32 values in float64, as from most text files?
        np.array_equal(points[begin:begin + step].astype(np.float32), points[begin:begin + step])
        for begin in range(0, count, step))
    keys: list[npt.NDArray[np.unsignedinteger]]
    if single:
        xy, z = np.empty(count, dtype=np.uint64), np.empty(count, dtype=np.uint32)
        for begin in range(0, count, step):
            block = points[begin:begin + step].astype(np.float32)
            block += np.float32(0.0)  # -0.0 becomes 0.0
            bits = block.view(np.uint32)
            xy[begin:begin + step] = (bits[:, 0].astype(np.uint64) << np.uint64(32)) | bits[:, 1]
            z[begin:begin + step] = bits[:, 2]
        keys = [z, xy]
        del xy, z
    else:
        keys = [np.empty(count, dtype=np.uint64) for _ in range(3)]
        for begin in range(0, count, step):
            bits64 = (points[begin:begin + step] + 0.0).view(np.uint64)
            for key, axis in zip(keys, (2, 1, 0), strict=True):
                key[begin:begin + step] = bits64[:, axis]
    order = np.lexsort(keys)
    new = np.empty(count, dtype=bool)
    new[0] = True
    for begin in range(0, count, step):
        end = min(begin + step, count)
        at = order[max(begin - 1, 0):end]
        differs = np.zeros(len(at) - 1, dtype=bool)
        for key in keys:
            ordered = key[at]
            differs |= ordered[1:] != ordered[:-1]
        new[max(begin - 1, 0) + 1:end] = differs
    del keys, key, ordered
    ids = np.cumsum(new, dtype=np.int32)
    ids -= 1
    index = np.empty(count, dtype=np.int32)
    index[order] = ids
    del ids
    return index, order[new]


def is_watertight(triangles: npt.ArrayLike) -> bool:
    """Every edge is used by exactly two faces, once in each direction."""
    raw = _triangle_array(triangles)
    if len(raw) == 0:
        return False
    index, firsts = _vertex_index(raw)
    vertex_count = len(firsts)
    del firsts
    faces = index.reshape(-1, 3)
    f0, f1, f2 = faces[:, 0], faces[:, 1], faces[:, 2]
    proper = (f0 != f1) & (f1 != f2) & (f0 != f2)
    if not proper.all():
        faces = faces[proper]  # collapsed faces have no area or edges of their own
    del proper, f0, f1, f2, index
    count = len(faces)
    if count == 0:
        return False
    # Each edge once as a number, lower vertex * n + higher one: the edges run forwards (lower vertex
    # first) and backwards must then be the same edges, each once.
    n = np.int64(vertex_count)
    forwards = [faces[:, j] < faces[:, (j + 1) % 3] for j in range(3)]
    total = sum(int(f.sum()) for f in forwards)
    if 2 * total != 3 * count:
        return False
    ahead, back = np.empty(total, dtype=np.int64), np.empty(total, dtype=np.int64)
    done_ahead = done_back = 0
    for j in range(3):
        start, end = faces[:, j], faces[:, (j + 1) % 3]
        edge = np.minimum(start, end).astype(np.int64)
        edge *= n
        edge += np.maximum(start, end)
        part = edge[forwards[j]]
        ahead[done_ahead:done_ahead + len(part)] = part
        done_ahead += len(part)
        part = edge[~forwards[j]]
        back[done_back:done_back + len(part)] = part
        done_back += len(part)
        del edge, part
    del faces, forwards
    ahead.sort()
    back.sort()
    return bool(np.array_equal(ahead, back)) and bool((ahead[1:] != ahead[:-1]).all())


# -- thinnest wall -------------------------------------------------------------------


def thinnest_wall(
    triangles: F64,
    cross: F64,
    double_area: F64,
    *,
    inward: float,
    samples: int = MAX_WALL_SAMPLES,
    max_pairs: int = MAX_WALL_PAIRS,
) -> float | None:
    """The shortest distance from a sampled face centroid, along the inward normal
    (``inward`` = -1 for outward-facing meshes), to the mesh. None when no ray hits
    or the work budget runs out."""
    raw = np.asarray(triangles, dtype=np.float64).reshape(-1, 3, 3)
    if len(raw) == 0:
        return None
    normals = np.asarray(cross, dtype=np.float64)
    return _thinnest_wall(_Soup(raw), np.asarray(double_area, dtype=np.float64), lambda faces: normals[faces],
                          bounds=_bounds(raw), inward=inward, samples=samples, max_pairs=max_pairs)


def _thinnest_wall(
    soup: _Soup,
    double_area: F64,
    cross_of: Callable[[I64], F64],
    *,
    bounds: tuple[F64, F64],
    inward: float,
    samples: int,
    max_pairs: int,
) -> float | None:
    count = len(soup)
    lo, hi = bounds
    diagonal = float(np.linalg.norm(hi - lo))
    if count == 0 or diagonal == 0:
        return None
    usable = np.flatnonzero(double_area > 1e-12 * diagonal**2)
    if len(usable) == 0:
        return None
    if len(usable) > samples:
        usable = np.sort(np.random.default_rng(0).choice(usable, samples, replace=False))
    origins = soup.take(usable).mean(axis=1)
    directions = inward * cross_of(usable) / double_area[usable, None]
    caster = _RayCaster(soup, double_area, origins, directions, usable, min_t=1e-6 * diagonal)

    if len(usable) * count <= _BRUTE_FORCE_PAIRS:
        every_ray = np.repeat(np.arange(len(usable)), count)
        every_triangle = np.tile(np.arange(count), len(usable))
        best = caster.nearest(every_ray, every_triangle)
        return float(best.min()) if np.isfinite(best.min()) else None

    # Cell size: a few mean triangle edges, at least 1/1000 of the model's diagonal.
    cell = max(CELL_FACTOR * float(np.sqrt(double_area.sum() / count)), diagonal / 1000)
    while True:
        step = cell * STEP_FRACTION
        # A triangle dilated by step/2 is in the cell of the sample point nearest to where a ray crosses it.
        grid = _Grid.build(soup, lo, hi, cell, dilate=step / 2)
        if grid is not None:
            break
        cell *= 2
    active = np.arange(len(usable))
    best = np.full(len(usable), np.inf)
    pairs = 0
    k = 0
    while len(active):
        points = origins[active] + directions[active] * (k * step)
        active, lists = grid.locate(points, active)
        for rays, tris in grid.pairs(lists):
            pairs += len(rays)
            if pairs > max_pairs:  # the step's pairs would have exceeded the budget all together
                return None
            if len(rays):
                np.minimum(best, caster.nearest(rays, tris), out=best)
        shortest = float(best.min())
        if shortest <= (k + 0.5) * step:  # every hit closer than this has been seen
            return shortest
        k += 1
    shortest = float(best.min())
    return shortest if np.isfinite(shortest) else None


def _norm2(v: F64) -> F64:
    result: F64 = np.einsum("ij,ij->i", v, v)
    return result


class _RayCaster:
    """Nearest hits for (ray, triangle) pairs: a cheap bounding-sphere test first,
    then Moller-Trumbore on the few pairs that survive it. The spheres' centres are
    kept as separate x, y, z columns so that gathering them is a fast 1-D take; the
    triangles themselves are read from the soup only for the surviving pairs."""

    def __init__(self, soup: _Soup, double_area: F64, origins: F64, directions: F64, own_faces: I64,
                 *, min_t: float) -> None:
        count = len(soup)
        self.centre = [np.empty(count) for _ in range(3)]
        self.reach = np.empty(count)
        for begin, end, tri in soup.blocks():
            v0, v1, v2 = tri[:, 0], tri[:, 1], tri[:, 2]
            centre = (v0 + v1 + v2) / 3
            for axis in range(3):
                self.centre[axis][begin:end] = centre[:, axis]
            reach2 = np.maximum(np.maximum(_norm2(v0 - centre), _norm2(v1 - centre)), _norm2(v2 - centre))
            self.reach[begin:end] = np.sqrt(reach2) * (1 + 1e-9) + 1e-12  # bounding-sphere radius, a hair generous
        self.soup = soup
        self.double_area = double_area
        self.origins, self.directions = origins, directions
        self.o = [np.ascontiguousarray(origins[:, i]) for i in range(3)]
        self.d = [np.ascontiguousarray(directions[:, i]) for i in range(3)]
        self.own_faces = own_faces
        self.min_t = min_t

    def nearest(self, rays: I64, tris: npt.NDArray[np.integer]) -> F64:
        """Per ray (indexed like ``origins``), the nearest hit distance among the pairs."""
        best = np.full(len(self.origins), np.inf)
        chunk = _PAIR_CHUNK
        for begin in range(0, len(rays), chunk):
            r, t = self._near(rays[begin:begin + chunk], tris[begin:begin + chunk])
            dist = self._distances(r, t)
            hit = np.isfinite(dist)
            np.minimum.at(best, r[hit], dist[hit])
        return best

    def _near(self, r: I64, t: npt.NDArray[np.integer]) -> tuple[I64, npt.NDArray[np.integer]]:
        """Pairs whose triangle's bounding sphere meets the ray (ahead of its origin)."""
        wx = self.centre[0].take(t) - self.o[0].take(r)
        wy = self.centre[1].take(t) - self.o[1].take(r)
        wz = self.centre[2].take(t) - self.o[2].take(r)
        along = wx * self.d[0].take(r) + wy * self.d[1].take(r) + wz * self.d[2].take(r)
        reach = self.reach.take(t)
        keep = (wx * wx + wy * wy + wz * wz - along * along <= reach * reach) & (along + reach > self.min_t)
        keep &= t != self.own_faces.take(r)
        return r[keep], t[keep]

    def _distances(self, r: I64, t: npt.NDArray[np.integer]) -> F64:
        d = self.directions[r]
        tri = self.soup.take(t)
        v0 = tri[:, 0]
        e1, e2 = tri[:, 1] - v0, tri[:, 2] - v0
        p = np.cross(d, e2)
        det = np.einsum("ij,ij->i", e1, p)
        tol = 1e-9
        ok = np.abs(det) > 1e-9 * self.double_area[t]
        inv = np.divide(1.0, det, out=np.zeros_like(det), where=ok)
        s = self.origins[r] - v0
        u = np.einsum("ij,ij->i", s, p) * inv
        q = np.cross(s, e1)
        v = np.einsum("ij,ij->i", d, q) * inv
        dist = np.einsum("ij,ij->i", e2, q) * inv
        ok &= (u >= -tol) & (v >= -tol) & (u + v <= 1 + tol) & (dist > self.min_t)
        return np.where(ok, dist, np.inf)


_SMALL_SPAN = 2  # cells per axis of a triangle listed once, under its lowest cell
# The cells whose triangles can reach a cell: the cell itself less each of these offsets. Bit i of an
# offset's number says "one cell lower on axis i"; a triangle listed there reaches the cell when its
# box spans two cells on each such axis, that is when its span bits include the offset's number.
_OFFSETS = np.array([[(bits >> axis) & 1 for axis in range(3)] for bits in range(8)], dtype=np.int64)


class _Grid:
    """The triangles under each cell of a uniform grid: those whose bounding box,
    dilated by ``dilate``, touches the cell. A triangle whose box spans at most two
    cells on each axis (nearly all of them) is listed once, under its lowest cell,
    and found from the eight cells at and just below the cell looked up; a larger
    one is listed under every cell it touches. The (ray, triangle) pairs are the same
    as with every triangle listed under every cell it touches, in a fraction of the
    memory and time."""

    def __init__(self, origin: F64, cell: float, dims: I64, cells: npt.NDArray[np.integer], starts: I64,
                 counts: I64, tris: I32, spans: U8) -> None:
        self.origin, self.cell, self.dims = origin, cell, dims
        self.cells, self.starts, self.counts = cells, starts, counts  # the cells listing triangles, sorted
        self.tris = tris  # the triangles listed, cell after cell
        self.spans = spans  # per triangle: bit i set when a small triangle's box spans two cells on axis i

    @classmethod
    def build(cls, soup: _Soup, lo: F64, hi: F64, cell: float, *, dilate: float) -> _Grid | None:
        origin = lo - cell
        dims = np.floor((hi - origin) / cell).astype(np.int64) + 2
        if int(dims.prod()) >= 1 << 31:  # cannot happen: a cell is at least 1/1000 of the diagonal
            return None
        count = len(soup)
        coord = np.int16 if int(dims.max()) < 1 << 15 else np.int32  # fewer than ~1000 cells an axis
        first = np.empty((count, 3), dtype=coord)
        span = np.empty((count, 3), dtype=coord)
        total = 0
        low, high, top = origin + dilate, dilate - origin, dims - 1
        for begin, end, tri in soup.blocks():
            t0, t1, t2 = tri[:, 0], tri[:, 1], tri[:, 2]
            f = np.clip(np.floor((np.minimum(np.minimum(t0, t1), t2) - low) / cell).astype(np.int64), 0, top)
            g = np.clip(np.floor((np.maximum(np.maximum(t0, t1), t2) + high) / cell).astype(np.int64), 0, top)
            g -= f - 1
            total += int((g[:, 0] * g[:, 1] * g[:, 2]).sum())  # the entries if every cell listed its triangles
            if total > MAX_GRID_ENTRIES:
                return None
            first[begin:end], span[begin:end] = f, g
        small = (span[:, 0] <= _SMALL_SPAN) & (span[:, 1] <= _SMALL_SPAN) & (span[:, 2] <= _SMALL_SPAN)
        spans = np.zeros(count, dtype=np.uint8)
        for axis in range(3):
            spans |= ((span[:, axis] == 2) & small).astype(np.uint8) << axis
        large = np.flatnonzero(~small)
        # sort keys, the cell in the high 32 bits and the triangle in the low ones: small triangles
        # under their lowest cell, then large ones under every cell they touch
        small_count = count - len(large)
        keys = np.empty(small_count + int(span[large].astype(np.int64).prod(axis=1).sum()), dtype=np.uint64)
        done = 0
        for begin in range(0, count, _BLOCK):
            listed = np.flatnonzero(small[begin:begin + _BLOCK]) + begin
            part = keys[done:done + len(listed)]
            part[:] = _cell_ids(first[listed], dims).astype(np.uint64) << np.uint64(32)
            part |= listed.astype(np.uint64)
            done += len(listed)
        del small
        _large_entries(first[large], span[large], large, dims, out=keys[small_count:])
        del first, span, large
        keys.sort()
        cells = (keys >> np.uint64(32)).astype(np.int32)
        tris = (keys & np.uint64(0xFFFFFFFF)).astype(np.int32)
        del keys
        starts = np.flatnonzero(np.concatenate([[True], cells[1:] != cells[:-1]]))
        counts = np.diff(np.append(starts, len(cells)))
        return cls(origin, cell, dims, cells[starts], starts, counts, tris, spans)

    def locate(self, points: F64, active: I64) -> tuple[I64, tuple[I64, I64, I64, U8]]:
        """The rays at ``points`` still inside the grid, and where their cell's triangles are
        listed: per list, the ray, its first entry, how many entries, and the span bits an
        entry's triangle must have to reach the cell."""
        index = np.floor((points - self.origin) / self.cell).astype(np.int64)
        inside = np.all((index >= 0) & (index < self.dims), axis=1)
        index, active = index[inside], active[inside]
        base = (index[None, :, :] - _OFFSETS[:, None, :]).reshape(-1, 3)  # offset after offset
        ok = (base[:, 0] >= 0) & (base[:, 1] >= 0) & (base[:, 2] >= 0)
        ids = _cell_ids(base[ok], self.dims).astype(self.cells.dtype)
        pos = np.minimum(np.searchsorted(self.cells, ids), max(len(self.cells) - 1, 0))
        found = np.zeros(len(ok), dtype=bool)
        if len(self.cells):
            found[ok] = self.cells[pos] == ids
        at = pos[found[ok]]
        rays = np.tile(active, len(_OFFSETS))[found]
        needs = np.repeat(np.arange(len(_OFFSETS), dtype=np.uint8), len(active))[found]
        return active, (rays, self.starts[at], self.counts[at], needs)

    def pairs(self, lists: tuple[I64, I64, I64, U8]) -> Iterator[tuple[I64, I32]]:
        """The (ray, triangle) pairs of the lists, a chunk at a time."""
        rays, starts, counts, needs = lists
        chunk = _PAIR_CHUNK
        ends = np.cumsum(counts)
        total = int(ends[-1]) if len(ends) else 0
        for begin in range(0, total, chunk):
            at = np.arange(begin, min(begin + chunk, total))
            which = np.searchsorted(ends, at, side="right")
            tris = self.tris[starts[which] + (at - (ends[which] - counts[which]))]
            need = needs[which]
            keep = (self.spans[tris] & need) == need
            yield rays[which[keep]], tris[keep]


def _cell_ids(index: npt.NDArray[np.integer], dims: I64) -> I64:
    cells: I64 = (index[:, 0].astype(np.int64) * dims[1] + index[:, 1]) * dims[2] + index[:, 2]
    return cells


def _large_entries(first: I32, span: I32, tris: I64, dims: I64, *, out: npt.NDArray[np.uint64],
                   chunk: int = 1 << 16) -> None:
    """Sort keys (cell << 32 | triangle) in ``out`` for every cell each triangle's box
    touches, made for a few triangles at a time."""
    per = span.astype(np.int64).prod(axis=1)
    ends = np.cumsum(per)
    done = 0
    while done < len(tris):
        base = int(ends[done - 1]) if done else 0
        stop = max(int(np.searchsorted(ends, base + chunk, side="right")), done + 1)  # about ``chunk`` entries
        f, s, p = first[done:stop].astype(np.int64), span[done:stop].astype(np.int64), per[done:stop]
        owner = np.repeat(np.arange(stop - done), p)
        local = np.arange(int(p.sum())) - np.repeat(np.cumsum(p) - p, p)
        sx, sy = s[owner, 0], s[owner, 1]
        ix = f[owner, 0] + local % sx
        iy = f[owner, 1] + (local // sx) % sy
        iz = f[owner, 2] + local // (sx * sy)
        keys = out[base:base + len(owner)]
        keys[:] = ((ix * dims[1] + iy) * dims[2] + iz).astype(np.uint64) << np.uint64(32)
        keys |= tris[done:stop][owner].astype(np.uint64)
        done = stop
