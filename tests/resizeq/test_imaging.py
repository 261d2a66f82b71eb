"""The resize kernel: exact sizes in every mode, output formats, orientation, colour modes."""

from __future__ import annotations

import contextlib
import functools
import io
import random
from typing import cast

import pytest
from PIL import Image, ImageOps

from resizeq.errors import ImageRejected, InvalidUpload
from resizeq.imaging import Encoding, default_output_format, format_name, open_image, render
from resizeq.messages import OutputFormat, ResizeMode, ResizeRequest
from tests.support import images

LIMIT = 50_000_000


def resized(source: bytes, width: int, height: int, mode: str = "stretch",
            output: str = "png") -> Image.Image:
    request = ResizeRequest(width, height, cast(ResizeMode, mode), cast(OutputFormat, output))
    content = render(source, request, LIMIT, Encoding())
    return images.decode(content)


@pytest.mark.parametrize("source_format", sorted(images.SOURCE_FORMATS))
@pytest.mark.parametrize("mode", ["stretch", "fit", "fill"])
@pytest.mark.parametrize("size", [(384, 384), (1, 1), (1000, 17), (17, 1000)])
def test_every_mode_returns_exactly_the_asked_size(
    source_format: str, mode: str, size: tuple[int, int]
) -> None:
    result = resized(images.image_bytes(source_format), *size, mode=mode)
    assert result.size == size


@pytest.mark.parametrize(("output", "pillow_format"),
                         [("jpeg", "JPEG"), ("png", "PNG"), ("webp", "WEBP")])
def test_output_formats(output: str, pillow_format: str) -> None:
    assert resized(images.image_bytes("bmp"), 50, 40, output=output).format == pillow_format


def test_a_large_jpeg_takes_the_scaled_decoding_path_and_keeps_its_colours() -> None:
    source = images.image_bytes("jpeg", (4000, 3000))
    result = resized(source, 384, 384, output="png")

    assert result.size == (384, 384)
    assert images.is_close(result.getpixel((50, 192)), images.RED)
    assert images.is_close(result.getpixel((334, 192)), images.BLUE)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_a_viewer(orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    source = images.encode(images.quadrants(), "jpeg", exif=exif.tobytes())
    reference = ImageOps.exif_transpose(Image.open(io.BytesIO(source))).resize((120, 180))

    result = resized(source, 120, 180)
    for point in ((30, 45), (90, 45), (30, 135), (90, 135)):
        expected = reference.getpixel(point)
        assert isinstance(expected, tuple)
        assert images.is_close(result.getpixel(point), expected[:3]), (orientation, point)


def test_fit_pads_with_transparency_where_the_format_has_it_and_white_elsewhere() -> None:
    source = images.image_bytes("png", (400, 100))

    as_png = resized(source, 100, 100, mode="fit", output="png")
    as_jpeg = resized(source, 100, 100, mode="fit", output="jpeg")

    assert as_png.mode == "RGBA" and as_png.getpixel((50, 5))[3] == 0
    assert images.is_close(as_jpeg.getpixel((50, 5)), images.WHITE)
    assert images.is_close(as_jpeg.getpixel((10, 50)), images.RED)


def test_fill_crops_the_centre() -> None:
    # 640x320: red left half, blue right half; a square crop keeps the middle of both.
    result = resized(images.image_bytes("png"), 100, 100, mode="fill")
    assert images.is_close(result.getpixel((5, 50)), images.RED)
    assert images.is_close(result.getpixel((95, 50)), images.BLUE)


def test_alpha_is_flattened_onto_white_for_jpeg_and_kept_for_png() -> None:
    source = images.transparent_png()

    as_jpeg = resized(source, 100, 50, output="jpeg")
    as_png = resized(source, 100, 50, output="png")

    assert as_jpeg.mode == "RGB"
    assert images.is_close(as_jpeg.getpixel((2, 2)), images.WHITE)
    assert images.is_close(as_jpeg.getpixel((50, 25)), images.GREEN)
    assert as_png.getpixel((2, 2))[3] == 0 and as_png.getpixel((50, 25))[3] == 255


def test_transparent_edges_do_not_bleed_black() -> None:
    # Straight-alpha resampling would darken the green next to fully transparent black.
    result = resized(images.transparent_png((400, 200)), 40, 20, output="png")
    edge = result.getpixel((11, 10))
    assert edge[3] > 0 and edge[1] > 150


def test_metadata_is_stripped() -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"
    source = images.encode(images.two_tone(), "jpeg", exif=exif.tobytes())
    result = resized(source, 64, 32, output="jpeg")
    assert not result.getexif() and "exif" not in result.info


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "I;16", "I", "CMYK", "RGBA"])
def test_uncommon_colour_modes_are_converted(mode: str) -> None:
    source_format = "jpeg" if mode == "CMYK" else "tiff" if mode in ("I", "LA") else "png"
    source = images.encode(images.two_tone().convert(mode), source_format)
    for output in ("jpeg", "png", "webp"):
        assert resized(source, 30, 20, output=output).size == (30, 20)


def test_sixteen_bit_greyscale_is_scaled_not_clipped() -> None:
    wide = Image.new("I;16", (64, 64), 40_000)
    result = resized(images.encode(wide, "png"), 8, 8)
    assert 140 < result.convert("L").getpixel((4, 4)) < 170


def test_an_animated_gif_gives_its_first_frame() -> None:
    result = resized(images.animated_gif(frames=50), 32, 24)
    assert result.size == (32, 24)


def test_a_truncated_image_is_rejected_with_the_reason() -> None:
    truncated = images.image_bytes("jpeg", (800, 800))[:2000]
    with pytest.raises(ImageRejected, match="cannot be decoded"):
        resized(truncated, 10, 10)


def test_the_pixel_limit_rejects_a_decompression_bomb_from_its_header() -> None:
    bomb = images.encode(Image.new("1", (20_000, 20_000)), "png")
    with pytest.raises(InvalidUpload) as rejected:
        open_image(bomb, LIMIT)
    assert rejected.value.status_code == 413
    assert "20000x20000" in rejected.value.detail


@pytest.mark.parametrize("pillow_format", ["PPM", "TGA", "PCX", "ICO", "JPEG2000", "PDF"])
def test_formats_outside_the_allow_list_are_unsupported(pillow_format: str) -> None:
    buffer = io.BytesIO()
    images.two_tone((64, 64)).save(buffer, pillow_format)
    with pytest.raises(InvalidUpload) as rejected:
        open_image(buffer.getvalue(), LIMIT)
    assert rejected.value.status_code == 415


@pytest.mark.parametrize("source_format", sorted(images.SOURCE_FORMATS))
def test_format_names_and_default_outputs(source_format: str) -> None:
    with open_image(images.image_bytes(source_format), LIMIT) as image:
        name = format_name(image)
    assert name == source_format
    expected = source_format if source_format in ("jpeg", "webp") else "png"
    assert default_output_format(name) == expected


def _saved(image: Image.Image, pillow_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, pillow_format, **options)
    return buffer.getvalue()


@functools.cache
def _variants() -> dict[str, bytes]:
    """Encoder variants seen in the wild, beyond each format's plain default."""
    base = images.two_tone((300, 200))
    second_frame = base.rotate(90)
    return {
        "progressive jpeg": _saved(base, "JPEG", progressive=True),
        "cmyk jpeg": _saved(base.convert("CMYK"), "JPEG"),
        "jpeg with a broken icc profile": _saved(base, "JPEG", icc_profile=b"junk" * 20),
        "palette png with trns": _saved(base.convert("P"), "PNG", transparency=0),
        "transparent gif": _saved(base.convert("P"), "GIF", transparency=0),
        "lossless webp with alpha": _saved(base.convert("RGBA"), "WEBP", lossless=True),
        "animated webp": _saved(base, "WEBP", save_all=True, append_images=[second_frame]),
        "32-bit bmp": _saved(base.convert("RGBA"), "BMP"),
        "lzw tiff": _saved(base, "TIFF", compression="tiff_lzw"),
        "jpeg-compressed tiff": _saved(base, "TIFF", compression="jpeg"),
        "float tiff": _saved(base.convert("F"), "TIFF"),
        "ycbcr tiff": _saved(base.convert("YCbCr"), "TIFF"),
        "lab tiff": _saved(base.convert("LAB"), "TIFF"),
        "multi-page tiff": _saved(base, "TIFF", save_all=True, append_images=[second_frame]),
    }


@pytest.mark.parametrize("variant", sorted(_variants()))
@pytest.mark.parametrize("output", ["jpeg", "png", "webp"])
def test_encoder_variants_resize_in_every_output(variant: str, output: str) -> None:
    for mode in ("stretch", "fit", "fill"):
        assert resized(_variants()[variant], 64, 48, mode, output).size == (64, 48)


# Pillow warns about the corrupt metadata these inputs are made of; that is expected here.
@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
@pytest.mark.parametrize("source_format", sorted(images.SOURCE_FORMATS))
def test_mutated_images_only_ever_raise_the_two_documented_errors(source_format: str) -> None:
    generator = random.Random(source_format)
    original = images.image_bytes(source_format, (120, 80))
    request = ResizeRequest(40, 30, "fill", "png")

    for _ in range(200):
        mutated = bytearray(original)
        for _ in range(generator.randint(1, 8)):
            mutated[generator.randrange(len(mutated))] = generator.randrange(256)
        cut = generator.randrange(len(mutated)) if generator.random() < 0.2 else len(mutated)
        with contextlib.suppress(ImageRejected, InvalidUpload):
            render(bytes(mutated[:cut]), request, LIMIT, Encoding())
