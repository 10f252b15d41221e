"""Issue #3, uploads judged by their bytes: the FileInspector adapter (Pillow and the
mesh parser) with real files, and the generated demo pictures."""

from __future__ import annotations

import hashlib
import io
import resource
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageDraw, PngImagePlugin, features

from caratzon_adapters.cad import CadParseError
from caratzon_adapters.cad import generate as g
from caratzon_adapters.imagery import KINDS, jpeg_with_gps_exif, metal_tone, render_jewelry_png
from caratzon_adapters.inspection import FileInspector
from caratzon_core.designs import AssetKind, Inspection
from caratzon_core.errors import ValidationFailed

IMAGE_KINDS = [AssetKind.IMAGE, AssetKind.RENDER]
SECRETS = (b"Exif", b"CaratzonTestCam", b"CaratzonSecret", b"http://ns.adobe.com/xap", b"GPS")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return tmp_path / "work"


@pytest.fixture
def inspector(work: Path) -> FileInspector:
    return FileInspector(work)


def upload(tmp_path: Path, data: bytes, name: str) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def inspect(inspector: FileInspector, path: Path, kind: AssetKind = AssetKind.IMAGE, ext: str | None = None
            ) -> Inspection:
    """Inspect and check the upload itself was only read."""
    before = path.read_bytes(), path.stat().st_mtime_ns
    result = inspector.inspect(path, extension=ext or path.suffix, kind=kind)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    return result


def refused(inspector: FileInspector, path: Path, kind: AssetKind = AssetKind.IMAGE, ext: str | None = None) -> str:
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ValidationFailed) as err:
        inspector.inspect(path, extension=ext or path.suffix, kind=kind)
    assert err.value.field == "file"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    left_behind = list(inspector.work_dir.glob("*")) if inspector.work_dir.exists() else []
    assert not left_behind
    return err.value.message


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def half_transparent(mode: str = "RGBA", size: tuple[int, int] = (40, 30)) -> Image.Image:
    """Opaque green on the left half, fully transparent on the right."""
    image = Image.new(mode, size, (0, 160, 60, 255))
    ImageDraw.Draw(image).rectangle((size[0] // 2, 0, size[0], size[1]), fill=(0, 0, 0, 0))
    return image


def png_claiming(width: int, height: int) -> bytes:
    """A small, well-formed PNG whose header declares ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(4096)))
            + chunk(b"IEND", b""))


def assert_thumbnail(inspection: Inspection, *, longest: int, alpha: bool = False) -> None:
    assert inspection.thumbnail is not None
    expected = "WEBP" if features.check("webp") else "PNG"
    assert inspection.thumbnail_content_type == f"image/{expected.lower()}"
    with Image.open(io.BytesIO(inspection.thumbnail)) as thumb:
        assert thumb.format == expected
        assert max(thumb.size) == longest <= 480
        assert (thumb.mode == "RGBA") is alpha
        thumb.load()
        assert not thumb.getexif()
    for secret in SECRETS:
        assert secret not in inspection.thumbnail


# -- photos: metadata out, orientation applied ---------------------------------------


def test_a_phone_photo_is_stored_upright_with_no_exif_gps_xmp_or_comment(inspector: FileInspector, tmp_path):
    data = jpeg_with_gps_exif((1000, 800), orientation=6)
    with Image.open(io.BytesIO(data)) as original:  # the helper really does leak all of it
        assert original.getexif().get_ifd(0x8825)[2] == (48.0, 51.0, 29.9)
        assert original.getexif()[0x0112] == 6
        assert {"xmp", "comment", "exif"} <= original.info.keys()
    path = upload(tmp_path, data, "IMG_0001.JPG")

    result = inspect(inspector, path, ext=".JPG")

    assert result.content_type == "image/jpeg"
    assert result.analysed is True and result.mesh is None
    assert result.clean_path != path and result.clean_path.parent == inspector.work_dir
    assert result.clean_path.suffix == ".jpg" and "IMG_0001" not in result.clean_path.name
    assert (result.width_px, result.height_px) == (800, 1000)  # orientation 6: turned a quarter clockwise
    raw = result.clean_path.read_bytes()
    for secret in SECRETS:
        assert secret not in raw, secret
    with Image.open(result.clean_path) as clean:
        assert clean.format == "JPEG" and clean.size == (800, 1000)
        assert len(clean.getexif()) == 0 and not clean.getexif().get_ifd(0x8825)
        assert not {"exif", "xmp", "comment", "icc_profile"} & clean.info.keys()
        top, bottom = clean.getpixel((400, 100)), clean.getpixel((400, 900))
    assert top[0] > 180 and top[2] < 80  # the left (red) half of the sensor is now on top
    assert bottom[2] > 180 and bottom[0] < 80
    assert_thumbnail(result, longest=480)


def test_a_small_photo_keeps_its_size_and_is_not_enlarged_for_the_thumbnail(inspector: FileInspector, tmp_path):
    result = inspect(inspector, upload(tmp_path, jpeg_with_gps_exif((64, 48), orientation=1), "a.jpeg"))
    assert (result.width_px, result.height_px) == (64, 48)
    assert_thumbnail(result, longest=64)


@pytest.mark.parametrize("orientation", [3, 8])
def test_other_orientations_are_applied(inspector: FileInspector, tmp_path, orientation):
    result = inspect(inspector, upload(tmp_path, jpeg_with_gps_exif((64, 48), orientation=orientation), "a.jpg"))
    assert (result.width_px, result.height_px) == ((64, 48) if orientation == 3 else (48, 64))


def test_the_icc_colour_profile_is_kept_because_it_describes_colours_not_people(inspector: FileInspector, tmp_path):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    result = inspect(inspector, upload(tmp_path, jpeg_with_gps_exif(icc_profile=icc), "a.jpg"))
    with Image.open(result.clean_path) as clean:
        assert clean.info.get("icc_profile") == icc
        assert not clean.getexif()
    assert result.thumbnail is not None
    with Image.open(io.BytesIO(result.thumbnail)) as thumb:
        assert thumb.info.get("icc_profile") == icc


def test_the_thumbnail_size_is_configurable(work: Path, tmp_path):
    result = inspect(FileInspector(work, thumbnail_px=120), upload(tmp_path, jpeg_with_gps_exif((600, 400)), "a.jpg"))
    assert result.thumbnail is not None
    with Image.open(io.BytesIO(result.thumbnail)) as thumb:
        assert thumb.size == (80, 120)  # upright 400 x 600


# -- PNG and WebP: transparency kept, metadata dropped -------------------------------


def test_a_png_keeps_its_alpha_and_loses_text_chunks_and_exif(inspector: FileInspector, tmp_path):
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "CaratzonSecret author")
    text.add_itxt("XML:com.adobe.xmp", "CaratzonSecret xmp")
    exif = Image.Exif()
    exif[0x010F] = "CaratzonTestCam"
    data = encoded(half_transparent(), "PNG", pnginfo=text, exif=exif)
    assert b"CaratzonSecret" in data

    result = inspect(inspector, upload(tmp_path, data, "logo.png"))

    assert result.content_type == "image/png" and result.clean_path.suffix == ".png"
    raw = result.clean_path.read_bytes()
    for secret in SECRETS:
        assert secret not in raw
    with Image.open(result.clean_path) as clean:
        assert clean.mode == "RGBA" and clean.size == (40, 30)
        assert not getattr(clean, "text", {}) and not clean.getexif()
        assert clean.getpixel((5, 5)) == (0, 160, 60, 255)
        assert clean.getpixel((35, 5))[3] == 0
    assert_thumbnail(result, longest=40, alpha=True)


def test_a_palette_png_keeps_its_transparent_colour(inspector: FileInspector, tmp_path):
    image = half_transparent().convert("RGB").quantize(4)
    transparent_index = image.getpixel((35, 5))
    data = encoded(image, "PNG", transparency=transparent_index)
    result = inspect(inspector, upload(tmp_path, data, "icon.png"))
    with Image.open(result.clean_path) as clean:
        assert clean.mode == "P" and clean.info.get("transparency") == transparent_index
        assert clean.convert("RGBA").getpixel((35, 5))[3] == 0
    assert_thumbnail(result, longest=40, alpha=True)


def test_a_webp_keeps_its_alpha_and_loses_exif(inspector: FileInspector, tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "CaratzonTestCam"
    data = encoded(half_transparent(), "WEBP", lossless=True, exif=exif, xmp=b"<x>CaratzonSecret</x>")
    assert b"CaratzonTestCam" in data

    result = inspect(inspector, upload(tmp_path, data, "render.webp"), kind=AssetKind.RENDER)

    assert result.content_type == "image/webp" and result.clean_path.suffix == ".webp"
    raw = result.clean_path.read_bytes()
    for secret in SECRETS:
        assert secret not in raw
    with Image.open(result.clean_path) as clean:
        assert clean.format == "WEBP" and clean.mode == "RGBA"
        assert not clean.getexif() and "xmp" not in clean.info
        assert clean.getpixel((35, 5))[3] == 0 and clean.getpixel((5, 5))[3] == 255
    assert_thumbnail(result, longest=40, alpha=True)


def test_a_multi_picture_jpeg_from_a_phone_is_stored_as_a_plain_jpeg_of_its_first_picture(inspector, tmp_path):
    frames = [Image.new("RGB", (48, 32), colour) for colour in ("red", "blue")]
    data = encoded(frames[0], "MPO", save_all=True, append_images=frames[1:])
    with Image.open(io.BytesIO(data)) as original:
        assert (original.format, original.n_frames) == ("MPO", 2)
    result = inspect(inspector, upload(tmp_path, data, "portrait.jpg"))
    assert result.content_type == "image/jpeg"
    with Image.open(result.clean_path) as clean:
        assert clean.format == "JPEG" and getattr(clean, "n_frames", 1) == 1
        assert clean.getpixel((24, 16))[0] > 200


def test_a_grey_jpeg_stays_grey_and_its_thumbnail_is_rgb(inspector: FileInspector, tmp_path):
    data = encoded(Image.linear_gradient("L"), "JPEG")
    result = inspect(inspector, upload(tmp_path, data, "sketch.jpg"))
    with Image.open(result.clean_path) as clean:
        assert clean.mode == "L" and clean.size == (256, 256)
    assert_thumbnail(result, longest=256)


# -- refusals: wrong bytes, damaged files --------------------------------------------


def test_png_bytes_named_jpg_are_refused_naming_both_formats(inspector: FileInspector, tmp_path):
    message = refused(inspector, upload(tmp_path, encoded(half_transparent(), "PNG"), "photo.jpg"))
    assert message == ("This file is named .jpg, which means a JPEG image, but its contents are a PNG image. "
                       "Rename it .png or export it as JPEG.")


def test_jpeg_bytes_named_webp_are_refused(inspector: FileInspector, tmp_path):
    message = refused(inspector, upload(tmp_path, jpeg_with_gps_exif(), "photo.webp"))
    assert "WebP" in message and "JPEG" in message


def test_a_text_file_named_png_is_refused(inspector: FileInspector, tmp_path):
    message = refused(inspector, upload(tmp_path, b"hello, I am not a picture\n" * 20, "notes.png"))
    assert message == "This file is named .png but its contents are not a JPEG, PNG or WebP image (it looks like text)."


@pytest.mark.parametrize(
    ("data", "seems"),
    [
        (encoded(Image.new("RGB", (8, 8)), "GIF"), "a GIF image"),
        (b"\x00\x00\x00\x18ftypheic" + bytes(64), "HEIC"),
        (b"%PDF-1.7\n" + bytes(64), "a PDF document"),
        (bytes(range(256)) * 4, None),
    ],
)
def test_other_files_named_as_images_are_refused_saying_what_they_look_like(inspector, tmp_path, data, seems):
    message = refused(inspector, upload(tmp_path, data, "x.jpg"))
    assert "not a JPEG, PNG or WebP image" in message
    assert (seems in message) if seems else "looks like" not in message


def test_a_truncated_jpeg_is_refused(inspector: FileInspector, tmp_path):
    data = jpeg_with_gps_exif((256, 256))
    message = refused(inspector, upload(tmp_path, data[: len(data) * 2 // 3], "cut.jpg"))
    assert message.startswith("The image is damaged or incomplete")


def test_a_truncated_png_is_refused(inspector: FileInspector, tmp_path):
    data = encoded(Image.radial_gradient("L").convert("RGB"), "PNG")
    message = refused(inspector, upload(tmp_path, data[: len(data) // 2], "cut.png"))
    assert message.startswith("The image is damaged or incomplete")


def test_a_png_with_a_bad_checksum_is_refused(inspector: FileInspector, tmp_path):
    data = bytearray(encoded(Image.radial_gradient("L").convert("RGB"), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 40] ^= 0xFF
    assert "damaged" in refused(inspector, upload(tmp_path, bytes(data), "flipped.png"))


@pytest.mark.parametrize(("name", "kind"), [("a.jpg", AssetKind.IMAGE), ("b.png", AssetKind.RENDER),
                                            ("c.stl", AssetKind.CAD), ("d.3mf", AssetKind.CAD)])
def test_a_zero_byte_file_is_refused(inspector: FileInspector, tmp_path, name, kind):
    assert refused(inspector, upload(tmp_path, b"", name), kind) == "The file is empty."


# -- image bombs ---------------------------------------------------------------------


def test_an_image_bomb_is_refused_from_its_header_without_decoding(inspector: FileInspector, tmp_path):
    data = png_claiming(50_000, 50_000)  # 7.5 GB of pixels declared in a 100-byte file
    assert len(data) < 200
    path = upload(tmp_path, data, "bomb.png")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    message = refused(inspector, path)
    assert time.perf_counter() - started < 1.0
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before  # KiB on Linux
    assert grown_kib < 100 * 1024
    assert message == "The image is too large to process (2,500.0 megapixels; the limit is 40.0 megapixels)."


def test_an_image_over_pillows_warning_limit_is_refused_when_warnings_are_errors(inspector, tmp_path):
    # 100 MP: above Pillow's global limit (89.5 MP, a DecompressionBombWarning) but below twice it.
    # pytest runs with filterwarnings=error, so Pillow raises the warning; it must become a refusal.
    message = refused(inspector, upload(tmp_path, png_claiming(10_000, 10_000), "big.png"))
    assert message.startswith("The image is too large to process (100.0 megapixels;")


def test_an_image_over_pillows_warning_limit_is_refused_when_warnings_only_warn(inspector, tmp_path):
    with pytest.warns(Image.DecompressionBombWarning):
        message = refused(inspector, upload(tmp_path, png_claiming(10_000, 10_000), "big.png"))
    assert message == "The image is too large to process (10,000 x 10,000 = 100.0 megapixels; the limit is 40.0 megapixels)."


def test_the_pixel_limit_is_per_inspector_not_pillows_global(work: Path, tmp_path):
    pillows = Image.MAX_IMAGE_PIXELS
    path = upload(tmp_path, jpeg_with_gps_exif((64, 48), orientation=1), "a.jpg")
    message = refused(FileInspector(work, max_image_pixels=3000), path)
    assert message == "The image is too large to process (64 x 48 = 3,072 pixels; the limit is 3,000 pixels)."
    assert pillows == Image.MAX_IMAGE_PIXELS  # the global is never touched
    assert inspect(FileInspector(work, max_image_pixels=64 * 48), path).width_px == 64


# -- meshes --------------------------------------------------------------------------


def test_an_stl_ring_is_measured_and_stored_as_uploaded(inspector: FileInspector, tmp_path):
    path = upload(tmp_path, g.ring_stl(7, segments=48, profile_segments=12), "ring.stl")
    result = inspect(inspector, path, kind=AssetKind.CAD)
    assert result.content_type == "model/stl"
    assert result.clean_path == path and result.analysed is True
    assert result.mesh is not None and result.mesh.watertight and result.mesh.volume_mm3 > 0
    assert result.thumbnail is None and result.width_px is None
    assert not inspector.work_dir.exists()  # nothing copied for a mesh


def test_an_obj_is_measured(inspector: FileInspector, tmp_path):
    result = inspect(inspector, upload(tmp_path, g.obj_text(g.cube_mesh(10)).encode(), "cube.OBJ"), AssetKind.CAD)
    assert result.content_type == "model/obj"
    assert result.mesh is not None and round(result.mesh.volume_mm3) == 1000


@pytest.mark.parametrize(
    "data",
    [g.cube_stl()[:-20], b"solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\n", b"\x89PNG\r\n\x1a\n" + bytes(200)],
    ids=["truncated binary", "truncated ascii", "png named stl"],
)
def test_a_malformed_stl_is_refused(inspector: FileInspector, tmp_path, data):
    path = upload(tmp_path, data, "broken.stl")
    with pytest.raises(CadParseError):
        inspector.inspect(path, extension=".stl", kind=AssetKind.CAD)
    assert refused(inspector, path, AssetKind.CAD)


def three_mf(*, model: bool = True) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        if model:
            package.writestr("3D/3dmodel.model", "<model unit='millimeter'/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("a.3mf", three_mf(), "model/3mf"),
        ("a.step", b"ISO-10303-21;\nHEADER;\n", "model/step"),
        ("a.STP", b"ISO-10303-21;\nHEADER;\n", "model/step"),
        ("a.3dm", b"3D Geometry File Format        7" + bytes(64), "application/octet-stream"),
    ],
)
def test_stored_only_cad_formats_are_checked_but_not_analysed(inspector, tmp_path, name, data, content_type):
    path = upload(tmp_path, data, name)
    result = inspect(inspector, path, AssetKind.CAD)
    assert (result.content_type, result.clean_path, result.analysed, result.mesh) == (content_type, path, False, None)


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("a.step", encoded(Image.new("RGB", (4, 4)), "PNG"), "PNG"),
        ("a.3dm", b"just some text", "does not start like a .3dm"),
        ("a.3mf", three_mf(model=False), "without a 3D model part"),
        ("a.3mf", three_mf()[:-30], "not a readable ZIP"),
    ],
)
def test_stored_only_cad_formats_with_the_wrong_bytes_are_refused(inspector, tmp_path, name, data, says):
    assert says in refused(inspector, upload(tmp_path, data, name), AssetKind.CAD)


# -- the extension must fit the kind -------------------------------------------------


@pytest.mark.parametrize(("ext", "hint"), [(".exe", ""), (".png", "upload it as an image"), ("", "")])
def test_a_cad_upload_must_have_a_cad_extension(inspector: FileInspector, tmp_path, ext, hint):
    message = refused(inspector, upload(tmp_path, g.cube_stl(), "model.stl"), AssetKind.CAD, ext=ext or " ")
    assert message.startswith("A CAD file must be one of .3dm, .3mf, .obj, .step, .stl, .stp;")
    assert hint in message


@pytest.mark.parametrize("kind", IMAGE_KINDS)
@pytest.mark.parametrize(("ext", "hint"), [(".stl", "upload it as a CAD file"), (".gif", ""), (".svg", "")])
def test_an_image_upload_must_have_an_image_extension(inspector: FileInspector, tmp_path, kind, ext, hint):
    message = refused(inspector, upload(tmp_path, jpeg_with_gps_exif(), "photo.jpg"), kind, ext=ext)
    assert message.startswith(f"An image must be one of .jpeg, .jpg, .png, .webp; this one is '{ext}'.")
    assert hint in message


def test_an_extension_without_a_dot_or_in_capitals_is_understood(inspector: FileInspector, tmp_path):
    path = upload(tmp_path, jpeg_with_gps_exif(), "photo")
    assert inspect(inspector, path, ext="JPG").content_type == "image/jpeg"
    assert inspect(inspector, path, ext=" .Jpeg ").content_type == "image/jpeg"


# -- generated demo pictures ---------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_demo_picture_renders_and_passes_the_inspector(inspector: FileInspector, tmp_path, kind):
    data = render_jewelry_png(kind, "18k_rose", seed=7, size=(320, 320))
    with Image.open(io.BytesIO(data)) as picture:
        assert (picture.format, picture.size, picture.mode) == ("PNG", (320, 320), "RGB")
        colours = picture.convert("RGB").getcolors(320 * 320)
    assert colours is not None and len(colours) > 500  # a picture, not a flat fill
    result = inspect(inspector, upload(tmp_path, data, f"{kind}.png"), AssetKind.RENDER)
    assert result.content_type == "image/png" and result.width_px == 320


def test_demo_pictures_are_deterministic_and_vary_with_the_seed():
    first = render_jewelry_png("ring", "platinum_950", seed=1, size=(200, 160))
    assert render_jewelry_png("ring", "platinum_950", seed=1, size=(200, 160)) == first
    assert render_jewelry_png("ring", "platinum_950", seed=2, size=(200, 160)) != first
    assert render_jewelry_png("ring", "18k_yellow", seed=1, size=(200, 160)) != first
    rubies = {render_jewelry_png("other", "silver", seed, size=(96, 96), gem="ruby") for seed in (1, 2)}
    sapphire = render_jewelry_png("other", "silver", 1, size=(96, 96), gem="sapphire")
    assert sapphire not in rubies
    assert render_jewelry_png("other", "silver", 1, size=(96, 96), gem="unobtainium") == render_jewelry_png(
        "other", "silver", 1, size=(96, 96))
    with Image.open(io.BytesIO(first)) as picture:
        assert picture.size == (200, 160)


def test_metals_are_named_by_code_or_plain_words():
    assert metal_tone("18k_rose") == metal_tone("rose gold")
    assert metal_tone("14k_white") == metal_tone("White Gold")
    assert metal_tone("sterling_silver") == metal_tone("silver")
    assert metal_tone("platinum_950") != metal_tone("18k_yellow") == metal_tone("gold")
    with pytest.raises(ValueError, match="unknown metal"):
        metal_tone("bronze")
    with pytest.raises(ValueError, match="unknown kind"):
        render_jewelry_png("tiara", "silver", 1)
