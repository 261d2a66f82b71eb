"""Deterministic, photo-like test images, made in memory for every benchmark run.

Flat colours compress to nothing and make every decoder look fast, so the images mix what
a camera produces: smooth large-scale shapes, a lighting gradient, a few hard edges and
sensor-like grain. The same seed always gives the same bytes.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

SEED = 20240601


@dataclass(frozen=True)
class Sample:
    """One kind of input: its name, encoded bytes, size and the output format asked for."""

    name: str
    content: bytes
    size: tuple[int, int]
    output: str


def photo(size: tuple[int, int], seed: int = SEED) -> Image.Image:
    """An RGB image with the statistics of a photograph (shapes, gradient, grain)."""
    width, height = size
    rng = np.random.default_rng(seed)

    coarse = rng.integers(30, 225, (max(2, height // 160), max(2, width // 160), 3))
    base = Image.fromarray(coarse.astype(np.uint8), "RGB").resize(size, Image.Resampling.BICUBIC)

    draw = ImageDraw.Draw(base)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        radius = int(rng.integers(width // 40, width // 8))
        colour = tuple(int(value) for value in rng.integers(0, 255, 3))
        draw.ellipse((x0 - radius, y0 - radius, x0 + radius, y0 + radius), fill=colour)

    pixels = np.asarray(base, dtype=np.float32)
    light = np.linspace(0.75, 1.15, width, dtype=np.float32)[np.newaxis, :, np.newaxis]
    grain = rng.normal(0.0, 5.0, (height, width, 1)).astype(np.float32)
    pixels = np.clip(pixels * light + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def with_alpha(image: Image.Image) -> Image.Image:
    """Add a soft vignette of transparency, fully transparent in the corners."""
    width, height = image.size
    xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)[np.newaxis, :]
    ys = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, np.newaxis]
    alpha = np.clip((1.25 - np.sqrt(xs * xs + ys * ys)) * 400, 0, 255).astype(np.uint8)
    rgba = image.convert("RGBA")
    rgba.putalpha(Image.fromarray(alpha, "L"))
    return rgba


def encode(image: Image.Image, pillow_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, pillow_format, **options)
    return buffer.getvalue()


@functools.cache
def sample(name: str) -> Sample:
    """The named input; cached, since the big ones take a second to make."""
    makers: dict[str, Callable[[], tuple[bytes, str]]] = {
        "jpeg-12mp": lambda: _jpeg((4000, 3000)),
        "jpeg-24mp": lambda: _jpeg((6000, 4000)),
        "jpeg-fullhd": lambda: _jpeg((1920, 1080)),
        "png-alpha": lambda: (encode(with_alpha(photo((1600, 1200))), "PNG"), "png"),
        "webp": lambda: (encode(photo((2000, 1500)), "WEBP", quality=85), "webp"),
        "gif": lambda: (encode(photo((800, 600)).quantize(256), "GIF"), "png"),
        "tiny-jpeg": lambda: _jpeg((64, 48)),
    }
    content, output = makers[name]()
    with Image.open(io.BytesIO(content)) as opened:
        size = opened.size
    return Sample(name, content, size, output)


def _jpeg(size: tuple[int, int]) -> tuple[bytes, str]:
    return encode(photo(size), "JPEG", quality=90), "jpeg"


KERNEL_SAMPLES = ("jpeg-12mp", "jpeg-fullhd", "png-alpha", "webp", "gif")
