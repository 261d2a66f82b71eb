"""Test images made on the fly, with content that shows whether geometry and colour survive."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

RED, BLUE, GREEN, WHITE = (230, 20, 20), (20, 20, 230), (20, 200, 20), (255, 255, 255)

# Pillow format name and save options for each allowed source format.
SOURCE_FORMATS = {
    "jpeg": ("JPEG", {"quality": 90}),
    "png": ("PNG", {}),
    "webp": ("WEBP", {"quality": 90}),
    "gif": ("GIF", {}),
    "bmp": ("BMP", {}),
    "tiff": ("TIFF", {}),
}


def two_tone(size: tuple[int, int] = (640, 320)) -> Image.Image:
    """Left half red, right half blue: orientation mistakes swap or rotate the halves."""
    image = Image.new("RGB", size, RED)
    ImageDraw.Draw(image).rectangle((size[0] // 2, 0, size[0], size[1]), fill=BLUE)
    return image


def quadrants(size: tuple[int, int] = (640, 320)) -> Image.Image:
    """Four colours, one per quadrant, so every flip and rotation is told apart."""
    image = Image.new("RGB", size, RED)
    draw = ImageDraw.Draw(image)
    half_width, half_height = size[0] // 2, size[1] // 2
    draw.rectangle((half_width, 0, size[0], half_height), fill=BLUE)
    draw.rectangle((0, half_height, half_width, size[1]), fill=GREEN)
    draw.rectangle((half_width, half_height, size[0], size[1]), fill=WHITE)
    return image


def encode(image: Image.Image, source_format: str, **options: object) -> bytes:
    pillow_format, defaults = SOURCE_FORMATS.get(source_format, (source_format.upper(), {}))
    buffer = io.BytesIO()
    image.save(buffer, pillow_format, **{**defaults, **options})
    return buffer.getvalue()


def image_bytes(source_format: str, size: tuple[int, int] = (640, 320)) -> bytes:
    """A two-tone image in `source_format`."""
    return encode(two_tone(size), source_format)


def with_orientation(orientation: int, size: tuple[int, int] = (640, 320)) -> bytes:
    """A two-tone JPEG whose EXIF asks viewers to apply `orientation` (1 to 8)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(two_tone(size), "jpeg", exif=exif.tobytes())


def transparent_png(size: tuple[int, int] = (200, 100)) -> bytes:
    """Fully transparent except an opaque green square in the middle."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    middle = (size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4)
    ImageDraw.Draw(image).rectangle(middle, fill=(*GREEN, 255))
    return encode(image, "png")


def animated_gif(frames: int, size: tuple[int, int] = (64, 48)) -> bytes:
    images = [Image.new("P", size, index % 200) for index in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=10)
    return buffer.getvalue()


def decode(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def is_close(
    colour: tuple[int, ...], expected: tuple[int, int, int], tolerance: int = 40
) -> bool:
    pairs = zip(colour[:3], expected, strict=True)
    return all(abs(actual - wanted) <= tolerance for actual, wanted in pairs)
