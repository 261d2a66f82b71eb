"""Opening, checking and resizing images with Pillow.

The API only opens an upload to read its header (format and dimensions); the consumer
decodes, resizes and encodes. Both open images through `open_image`, so the allow-list of
formats and the pixel limit are enforced in one place.

The resize path avoids work that does not change the result:
- JPEGs are decoded at 1/2, 1/4 or 1/8 scale when the target is small enough (DCT
  scaling, `Image.draft`), which skips most of the decoding of a large photo;
- the resample reduces by an integer factor first and then applies Lanczos
  (`reducing_gap`), which keeps the quality of a plain Lanczos resize;
- the EXIF orientation is applied to the small result instead of the large source;
- images with alpha stay RGBA or LA, which Pillow premultiplies while it resamples, so
  transparent pixels do not bleed colour.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageCms, UnidentifiedImageError

from resizeq.errors import ImageRejected, InvalidUpload
from resizeq.messages import OutputFormat, ResizeRequest

# Pillow's own bomb check warns or raises from inside `Image.open`, with a global limit;
# `open_image` checks the pixel count against the configured limit instead, right after
# the header is read and before anything is decoded.
Image.MAX_IMAGE_PIXELS = None

SOURCE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")

# Pillow reports a JPEG with extra pictures (from some cameras) as MPO.
FORMAT_NAMES = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif",
                "BMP": "bmp", "TIFF": "tiff"}

ORIENTATION_TAG = 0x0112
TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
ORIENTATIONS_THAT_SWAP_AXES = {5, 6, 7, 8}

# Reduce by an integer factor only while the image stays 3x larger than the target;
# Pillow documents 3.0 as indistinguishable from a plain Lanczos resize. Measured with
# `python -m bench.run` (bench/README.md): after a JPEG's DCT scaling the gap no longer
# changes anything; on a 2000x1500 WebP 2.0 would save a tenth of the time, but on a PNG
# with alpha it falls 1 dB PSNR below a plain Lanczos resize, so 3.0 stays.
REDUCING_GAP = 3.0


SRGB_PROFILE = ImageCms.createProfile("sRGB")
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Encoding:
    """How results are compressed."""

    jpeg_quality: int = 85
    webp_quality: int = 80
    png_compress_level: int = 6


def open_image(source: bytes, max_pixels: int) -> Image.Image:
    """Open `source` if its bytes are an allowed format within the pixel limit.

    Only the header is read here. Raises InvalidUpload with 415 for bytes that are not an
    allowed image and 413 when the dimensions exceed `max_pixels`.
    """
    try:
        image = Image.open(io.BytesIO(source), formats=SOURCE_FORMATS)
    except UnidentifiedImageError:
        allowed = ", ".join(sorted(set(FORMAT_NAMES.values())))
        raise InvalidUpload(415, f"not a supported image: expected one of {allowed}") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidUpload(415, f"the image header cannot be read: {error}") from None

    width, height = image.size
    if width < 1 or height < 1:
        raise InvalidUpload(415, f"the image claims to be {width}x{height} pixels")

    if width * height > max_pixels:
        pixels = width * height
        detail = f"the image is {width}x{height} = {pixels} pixels; the limit is {max_pixels}"
        raise InvalidUpload(413, detail)
    return image


def format_name(image: Image.Image) -> str:
    """The lowercase name resizeq uses for the image's format (`jpeg`, `png`, ...)."""
    return FORMAT_NAMES.get(image.format or "", "unknown")


def default_output_format(source_format: str) -> OutputFormat:
    """The contract: keep the source's format when it is an output format, else PNG."""
    if source_format == "jpeg":
        return "jpeg"
    if source_format == "webp":
        return "webp"
    return "png"


def render(source: bytes, request: ResizeRequest, max_pixels: int, encoding: Encoding) -> bytes:
    """Decode `source`, resize it as `request` says and encode the result."""
    try:
        image = open_image(source, max_pixels)
    except InvalidUpload as rejected:
        raise ImageRejected(rejected.detail) from None

    try:
        resized = _resize(image, request)
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageRejected(f"the image cannot be decoded: {error}") from None
    finally:
        image.close()

    return _encode(resized, request.format, encoding)


def _resize(image: Image.Image, request: ResizeRequest) -> Image.Image:
    orientation = _orientation(image)
    swaps_axes = orientation in ORIENTATIONS_THAT_SWAP_AXES
    target = (request.height, request.width) if swaps_axes else (request.width, request.height)

    if image.format in ("JPEG", "MPO"):
        image.draft(image.mode, _scaled_size(image.size, target, request.mode))
    image.load()

    # A PNG may carry its EXIF block after the pixels, so it is read again once loaded.
    orientation = _orientation(image)
    if (orientation in ORIENTATIONS_THAT_SWAP_AXES) != swaps_axes:
        swaps_axes = not swaps_axes
        target = (target[1], target[0])

    source_icc = image.info.get("icc_profile")
    resized = _resample(_normalise_mode(image), target, request.mode)
    if orientation in TRANSPOSE_FOR_ORIENTATION:
        resized = resized.transpose(TRANSPOSE_FOR_ORIENTATION[orientation])

    if request.mode == "fit":
        resized = _pad(resized, (request.width, request.height), request.format)
    return _to_srgb(resized, source_icc)


def _orientation(image: Image.Image) -> int:
    value = image.getexif().get(ORIENTATION_TAG, 1)
    return value if isinstance(value, int) else 1


def _scaled_size(size: tuple[int, int], target: tuple[int, int], mode: str) -> tuple[int, int]:
    """The size the whole source is scaled to: the target itself, or inside / over it."""
    if mode == "stretch":
        return target

    width_ratio, height_ratio = target[0] / size[0], target[1] / size[1]
    if mode == "fit":
        scale = min(width_ratio, height_ratio)
        width, height = round(size[0] * scale), round(size[1] * scale)
        return min(target[0], max(1, width)), min(target[1], max(1, height))

    scale = max(width_ratio, height_ratio)
    width, height = math.ceil(size[0] * scale), math.ceil(size[1] * scale)
    return max(target[0], width), max(target[1], height)


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Bring any decoded mode to L, RGB, LA or RGBA for resampling."""
    if image.mode in ("L", "RGB", "LA", "RGBA"):
        return image
    if image.mode in ("P", "PA"):
        has_alpha = image.mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        return _high_bit_depth_to_l(image)
    if image.mode == "1":
        return image.convert("L")
    return image.convert("RGB")


def _high_bit_depth_to_l(image: Image.Image) -> Image.Image:
    """Map 16-bit greyscale (0 to 65535) onto 8 bits instead of clipping it at 255.

    Images whose values all fit in 8 bits are converted as they are.
    """
    as_integers = image.convert("I") if image.mode != "I" else image
    _, high = as_integers.getextrema()
    if isinstance(high, (int, float)) and high <= 255:
        return as_integers.convert("L")
    return as_integers.point(lambda value: value / 257).convert("L")


def _resample(image: Image.Image, target: tuple[int, int], mode: str) -> Image.Image:
    lanczos = Image.Resampling.LANCZOS
    if mode == "stretch":
        return image.resize(target, lanczos, reducing_gap=REDUCING_GAP)
    if mode == "fit":
        scaled = _scaled_size(image.size, target, "fit")
        return image.resize(scaled, lanczos, reducing_gap=REDUCING_GAP)

    box = _centre_crop_box(image.size, target)
    return image.resize(target, lanczos, box=box, reducing_gap=REDUCING_GAP)


def _centre_crop_box(
    size: tuple[int, int], target: tuple[int, int]
) -> tuple[float, float, float, float]:
    """The centred region of the source with the target's aspect ratio."""
    scale = max(target[0] / size[0], target[1] / size[1])
    crop_width, crop_height = target[0] / scale, target[1] / scale
    left, top = (size[0] - crop_width) / 2, (size[1] - crop_height) / 2
    return left, top, left + crop_width, top + crop_height


def _pad(image: Image.Image, size: tuple[int, int], output: OutputFormat) -> Image.Image:
    """Centre `image` on a canvas of `size`: transparent where the format allows, else white."""
    if image.size == size:
        return image

    if output == "jpeg":
        canvas = Image.new("RGB", size, WHITE)
        image = _flatten(image)
    else:
        canvas = Image.new("RGBA", size, (0, 0, 0, 0))
        image = image.convert("RGBA")

    offset = ((size[0] - image.width) // 2, (size[1] - image.height) // 2)
    canvas.paste(image, offset)
    return canvas


def _flatten(image: Image.Image) -> Image.Image:
    """Composite an image with alpha onto white, for formats without transparency."""
    if image.mode not in ("RGBA", "LA"):
        return image if image.mode in ("RGB", "L") else image.convert("RGB")

    background = Image.new("RGB", image.size, WHITE)
    background.paste(image.convert("RGBA"), mask=image.getchannel("A"))
    return background


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert colours from an embedded profile to sRGB, since results carry no profile."""
    if not icc_profile or image.mode not in ("RGB", "RGBA"):
        return image

    try:
        source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(
            image, source_profile, SRGB_PROFILE, outputMode=image.mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image
    return converted if converted is not None else image


def _encode(image: Image.Image, output: OutputFormat, encoding: Encoding) -> bytes:
    buffer = io.BytesIO()
    if output == "jpeg":
        _flatten(image).save(buffer, "JPEG", quality=encoding.jpeg_quality)
    elif output == "webp":
        image.save(buffer, "WEBP", quality=encoding.webp_quality)
    else:
        image.save(buffer, "PNG", compress_level=encoding.png_compress_level)
    return buffer.getvalue()
