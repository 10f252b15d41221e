"""Judge an uploaded design asset by its bytes, not its name (issue #3).

:class:`FileInspector` is the :class:`~caratzon_core.ports.AssetInspector` adapter:

* the extension must fit the kind of asset (CAD: .stl .obj .3dm .step .stp .3mf;
  images and renders: .jpg .jpeg .png .webp), and the file must not be empty;
* images are opened with Pillow, restricted to the JPEG, PNG and WebP decoders. The
  format found in the bytes must be the one the extension names. Before a single
  pixel is decoded, the size declared in the header is checked against
  ``max_image_pixels`` (an image bomb: a few kilobytes that claim 50,000 x 50,000
  pixels). Then ``verify()``, a fresh open and a full ``load()`` catch corrupt and
  truncated files;
* the stored copy is a NEW file in ``work_dir`` (the upload is only read): the
  pixels turned upright by their EXIF orientation and re-encoded in the same
  format with no metadata at all: no EXIF (so no GPS position, camera serial or
  capture time), no XMP, no comments, no PNG text chunks. Two things survive
  because they describe the pixels and nothing about the person: the ICC colour
  profile (without it a wide-gamut phone photo looks washed out) and PNG
  transparency. JPEG and WebP are re-encoded at quality 92; PNG losslessly.
  Animated files keep their first frame;
* a thumbnail at most ``thumbnail_px`` on its long side, as WebP (PNG when this
  Pillow has no WebP encoder), for catalog cards;
* meshes go to :func:`caratzon_adapters.cad.analyse_cad`: STL and OBJ are parsed
  and measured (a malformed one raises its :class:`~caratzon_adapters.cad.CadParseError`,
  a ``ValidationFailed``); .3dm, .step/.stp and .3mf are stored unanalysed after
  their leading bytes are checked, and a .3mf must also be a readable ZIP holding
  a 3D model part. Meshes are stored as uploaded: ``clean_path`` is the upload.

Every refusal is a :class:`~caratzon_core.errors.ValidationFailed` on field
``file`` with a message the designer can act on.

The pixel limit. Pillow's own limit, ``PIL.Image.MAX_IMAGE_PIXELS``, is a global
(89.5 megapixels unless the process changed it): above it ``Image.open`` warns
with ``DecompressionBombWarning``, above twice it raises ``DecompressionBombError``.
This adapter never touches the global or the warning filters (neither is
thread-safe). It checks ``im.size`` against its own per-instance limit straight
after ``Image.open`` has read the header, and turns Pillow's error, and Pillow's
warning when warnings are errors (as under pytest), into the same refusal. With
default warning filters Pillow logs its warning and our check decides. So the
limit in force is ``max_image_pixels``, capped at twice Pillow's global.

The caller owns the files: ``clean_path`` of an image is a new file in
``work_dir`` that the caller deletes once stored; for a mesh it is the upload.
"""

from __future__ import annotations

import io
import re
import secrets
import struct
import zipfile
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError, features

from caratzon_core.designs import CAD_EXTENSIONS, IMAGE_EXTENSIONS, AssetKind, Inspection
from caratzon_core.errors import ValidationFailed

DEFAULT_MAX_IMAGE_PIXELS = 40_000_000
DEFAULT_THUMBNAIL_PX = 480
IMAGE_QUALITY = 92  # JPEG and WebP re-encoding of the stored copy
THUMBNAIL_QUALITY = 82

# Pillow format -> (extensions that may carry it, MIME type, the name people know it by)
_IMAGE_FORMATS: dict[str, tuple[frozenset[str], str, str]] = {
    "JPEG": (frozenset({".jpg", ".jpeg"}), "image/jpeg", "JPEG"),
    "MPO": (frozenset({".jpg", ".jpeg"}), "image/jpeg", "JPEG"),  # a phone's multi-picture JPEG
    "PNG": (frozenset({".png"}), "image/png", "PNG"),
    "WEBP": (frozenset({".webp"}), "image/webp", "WebP"),
}
_DECODERS = ("JPEG", "PNG", "WEBP")  # Pillow tries only these: no exotic parser ever sees an upload
_EXTENSION_FORMAT = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WebP"}
_SAVE_AS = {"JPEG": ("JPEG", ".jpg"), "MPO": ("JPEG", ".jpg"), "PNG": ("PNG", ".png"), "WEBP": ("WEBP", ".webp")}
_SAVE_MODES = {  # what each encoder writes as it is; anything else is converted first
    "JPEG": frozenset({"L", "RGB", "CMYK"}),
    "PNG": frozenset({"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"}),
    "WEBP": frozenset({"RGB", "RGBA"}),
}
_RGB_MODES = frozenset({"RGB", "RGBA", "RGBX", "P", "PA"})  # an RGB ICC profile still fits after conversion

_CAD_CONTENT_TYPES = {
    ".stl": "model/stl",
    ".obj": "model/obj",
    ".3mf": "model/3mf",
    ".step": "model/step",
    ".stp": "model/step",
    ".3dm": "application/octet-stream",  # no registered type for Rhino models
}

# Recognised only to say what a refused file seems to be.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a BMP image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
)
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")

# What Pillow's decoders raise on malformed input.
_BROKEN = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError)


def _fail(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="file")


def _extensions(names: frozenset[str]) -> str:
    return ", ".join(sorted(names))


class FileInspector:
    """The :class:`~caratzon_core.ports.AssetInspector` for local files (Pillow, numpy).

    ``work_dir`` receives the cleaned copies of images; it is created on first use.
    """

    def __init__(
        self,
        work_dir: Path,
        *,
        max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
        thumbnail_px: int = DEFAULT_THUMBNAIL_PX,
    ) -> None:
        if max_image_pixels < 1:
            raise ValueError(f"max_image_pixels must be at least 1, not {max_image_pixels!r}")
        if thumbnail_px < 16:
            raise ValueError(f"thumbnail_px must be at least 16, not {thumbnail_px!r}")
        self.work_dir = Path(work_dir)
        self.max_image_pixels = max_image_pixels
        self.thumbnail_px = thumbnail_px
        self.thumbnail_format, self.thumbnail_content_type = (
            ("WEBP", "image/webp") if features.check("webp") else ("PNG", "image/png")
        )

    # -- the port ---------------------------------------------------------------------

    def inspect(self, path: Path, *, extension: str, kind: AssetKind) -> Inspection:
        path = Path(path)
        ext = extension.strip().lower()
        if ext and not ext.startswith("."):
            ext = "." + ext
        self._check_extension(ext, AssetKind(kind))
        if path.stat().st_size == 0:
            raise _fail("The file is empty.")
        if ext in CAD_EXTENSIONS:
            return self._inspect_cad(path, ext)
        return self._inspect_image(path, ext)

    @staticmethod
    def _check_extension(ext: str, kind: AssetKind) -> None:
        shown = ext or "no extension"
        if kind is AssetKind.CAD:
            if ext in CAD_EXTENSIONS:
                return
            hint = " That is an image: upload it as an image or render." if ext in IMAGE_EXTENSIONS else ""
            raise _fail(
                f"A CAD file must be one of {_extensions(CAD_EXTENSIONS)}; this one is '{shown}'.{hint}"
            )
        if ext in IMAGE_EXTENSIONS:
            return
        hint = " That is a CAD model: upload it as a CAD file." if ext in CAD_EXTENSIONS else ""
        raise _fail(f"An image must be one of {_extensions(IMAGE_EXTENSIONS)}; this one is '{shown}'.{hint}")

    # -- meshes -----------------------------------------------------------------------

    def _inspect_cad(self, path: Path, ext: str) -> Inspection:
        # Imported here so that an image-only installation (no numpy) still works.
        from caratzon_adapters.cad import analyse_cad

        metrics = analyse_cad(path, ext)  # checks the leading bytes of the stored-only formats too
        if metrics is None and ext == ".3mf":
            _check_3mf(path)
        return Inspection(
            content_type=_CAD_CONTENT_TYPES[ext],
            clean_path=path,
            mesh=metrics,
            analysed=metrics is not None,
        )

    # -- images -----------------------------------------------------------------------

    def _inspect_image(self, path: Path, ext: str) -> Inspection:
        with path.open("rb") as upload:
            fmt = self._identify(upload, ext)
            upload.seek(0)
            try:
                with self._open(upload) as im:
                    im.load()
                    icc = im.info.get("icc_profile")
                    transparency = im.info.get("transparency")
                    upright = _upright(im)
            except ValidationFailed:
                raise
            except _BROKEN as exc:
                raise _fail(f"The image is damaged or incomplete and cannot be read ({_reason(exc)}).") from None

        save_format, suffix = _SAVE_AS[fmt]
        clean = _without_metadata(upright, save_format, icc=icc, transparency=transparency)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        clean_path = self.work_dir / f"{secrets.token_hex(16)}{suffix}"
        try:
            _save(clean, clean_path, save_format)
            thumbnail = self._thumbnail(clean)
        except BaseException:
            clean_path.unlink(missing_ok=True)
            raise
        return Inspection(
            content_type=_IMAGE_FORMATS[fmt][1],
            clean_path=clean_path,
            width_px=clean.width,
            height_px=clean.height,
            thumbnail=thumbnail,
            thumbnail_content_type=self.thumbnail_content_type,
            analysed=True,
        )

    def _identify(self, upload: IO[bytes], ext: str) -> str:
        """The Pillow format of the upload, after the header checks and ``verify()``."""
        expected = _EXTENSION_FORMAT[ext]
        try:
            with self._open(upload) as im:
                fmt = str(im.format)
                if fmt not in _IMAGE_FORMATS:  # pragma: no cover - only the three decoders are tried
                    raise _fail(f"This file is named {ext} but is not a {expected} image.")
                found = _IMAGE_FORMATS[fmt][2]
                if ext not in _IMAGE_FORMATS[fmt][0]:
                    right = _SAVE_AS[fmt][1]
                    raise _fail(
                        f"This file is named {ext}, which means a {expected} image, but its contents are "
                        f"a {found} image. Rename it {right} or export it as {expected}."
                    )
                im.verify()
        except ValidationFailed:
            raise
        except UnidentifiedImageError:
            upload.seek(0)
            seems = _looks_like(upload.read(512))
            raise _fail(
                f"This file is named {ext} but its contents are not a JPEG, PNG or WebP image"
                f"{f' (it looks like {seems})' if seems else ''}."
            ) from None
        except _BROKEN as exc:
            raise _fail(f"The image is damaged or incomplete and cannot be read ({_reason(exc)}).") from None
        return fmt

    def _open(self, upload: IO[bytes]) -> Image.Image:
        """``Image.open`` with only our decoders, refusing image bombs before any decoding."""
        upload.seek(0)
        try:
            im = Image.open(upload, formats=_DECODERS)
        except Image.DecompressionBombError as exc:
            raise self._too_large(_declared_pixels(exc)) from None
        except Image.DecompressionBombWarning as exc:  # raised only when warnings are errors
            raise self._too_large(_declared_pixels(exc)) from None
        width, height = im.size
        if width < 1 or height < 1 or width * height > self.max_image_pixels:
            im.close()
            if width < 1 or height < 1:
                raise _fail(f"The image has no pixels ({width} x {height}).")
            raise self._too_large(width * height, f"{width:,} x {height:,} = ")
        return im

    def _too_large(self, pixels: int | None, dims: str = "") -> ValidationFailed:
        size = f"{dims}{_amount(pixels)}; " if pixels else ""
        return _fail(f"The image is too large to process ({size}the limit is {_amount(self.max_image_pixels)}).")

    def _thumbnail(self, clean: Image.Image) -> bytes:
        thumb = clean.copy()
        thumb.thumbnail((self.thumbnail_px, self.thumbnail_px), Image.Resampling.LANCZOS)
        icc = clean.info.get("icc_profile") if clean.mode in _RGB_MODES else None
        alpha = thumb.mode in ("RGBA", "LA", "PA") or "transparency" in thumb.info
        thumb = thumb.convert("RGBA" if alpha else "RGB")  # also drops an inherited tRNS
        thumb.info = {}
        out = io.BytesIO()
        options: dict[str, object] = {"icc_profile": icc} if icc else {}
        if self.thumbnail_format == "WEBP":
            thumb.save(out, format="WEBP", quality=THUMBNAIL_QUALITY, method=4, **options)
        else:  # pragma: no cover - Pillow built without libwebp
            thumb.save(out, format="PNG", optimize=True, **options)
        return out.getvalue()


# -- helpers -------------------------------------------------------------------------


def _upright(im: Image.Image) -> Image.Image:
    """The pixels turned as the EXIF orientation says. Broken EXIF leaves them as they are."""
    try:
        return ImageOps.exif_transpose(im)
    except (*_BROKEN, KeyError):
        return im.copy()


def _without_metadata(
    im: Image.Image, save_format: str, *, icc: object, transparency: object
) -> Image.Image:
    """A copy carrying only pixels, the ICC profile and PNG transparency: Pillow's
    encoders fall back to ``im.info`` for comments, ICC and transparency, so the
    copy's ``info`` is rebuilt from nothing."""
    clean = im
    if im.mode not in _SAVE_MODES[save_format]:
        has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or transparency is not None
        target = "RGBA" if has_alpha and save_format != "JPEG" else "RGB"
        same_family = im.mode in _RGB_MODES
        clean = im.convert(target)
        transparency = None
        if not same_family:
            icc = None  # a grey or CMYK profile does not describe RGB pixels
    else:
        clean = im.copy()
    clean.info = {}
    if isinstance(icc, bytes) and icc:
        clean.info["icc_profile"] = icc
    if save_format == "PNG" and transparency is not None:
        clean.info["transparency"] = transparency
    return clean


def _save(clean: Image.Image, path: Path, save_format: str) -> None:
    options: dict[str, object] = {}
    if icc := clean.info.get("icc_profile"):
        options["icc_profile"] = icc
    with path.open("xb") as out:
        if save_format == "JPEG":
            clean.save(out, format="JPEG", quality=IMAGE_QUALITY, optimize=True, **options)
        elif save_format == "WEBP":
            clean.save(out, format="WEBP", quality=IMAGE_QUALITY, method=4, exact=True, **options)
        else:
            clean.save(out, format="PNG", optimize=False, compress_level=6, **options)


def _declared_pixels(exc: Warning | Exception) -> int | None:
    match = _BOMB_PIXELS.search(str(exc))
    return int(match.group(1)) if match else None


def _amount(pixels: int) -> str:
    return f"{pixels / 1e6:,.1f} megapixels" if pixels >= 100_000 else f"{pixels:,} pixels"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:120]


def _looks_like(head: bytes) -> str | None:
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return what
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "a HEIC photo: export it as JPEG"
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return "an AVIF image: export it as JPEG, PNG or WebP"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "a WebP image"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.lower().startswith(b"solid"):
        return "an ASCII STL mesh"
    if stripped and all(32 <= b < 127 or b in b"\t\r\n" for b in stripped[:256]):
        return "text"
    return None


def _check_3mf(path: Path) -> None:
    """A .3mf is a ZIP (OPC package) with at least one ``.model`` part. The central
    directory is read, nothing is extracted."""
    try:
        with zipfile.ZipFile(path) as package:
            names = package.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _fail("This .3mf file is not a readable ZIP package: it may be damaged or incomplete.") from None
    if not any(name.lower().endswith(".model") for name in names):
        raise _fail("This .3mf file is a ZIP archive without a 3D model part (no '.model' file inside).")
