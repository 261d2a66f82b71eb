"""The resize kernel on its own: resizeq's `render` against a naive Pillow path and libvips.

Every engine gets the same encoded bytes and the same request (the API's default of
384 x 384, `stretch`, the output format the API would choose) and returns encoded bytes,
so decoding, resampling and encoding are all inside the timing. Quality is measured on the
decoded result against a reference: a Lanczos resize in floating point of the fully decoded
source, with no shortcuts (no DCT scaling, no reducing gap).
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from bench.images import Sample
from resizeq.imaging import Encoding, render
from resizeq.messages import OutputFormat, ResizeRequest

TARGET = (384, 384)
MAX_PIXELS = 64_000_000
PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
ENCODING = Encoding()

Engine = Callable[[bytes, str], bytes]


def resizeq_engine(content: bytes, output: str) -> bytes:
    request = ResizeRequest(TARGET[0], TARGET[1], "stretch", _output(output))
    return render(content, request, MAX_PIXELS, ENCODING)


def naive_engine(content: bytes, output: str) -> bytes:
    """What a first version does: open, convert, resize with Lanczos, save."""
    image = Image.open(io.BytesIO(content))
    mode = "RGB" if output == "jpeg" else "RGBA"
    resized = image.convert(mode).resize(TARGET, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    resized.save(buffer, PILLOW_FORMATS[output], **_save_options(output))
    return buffer.getvalue()


def vips_engine(content: bytes, output: str) -> bytes:
    """libvips' thumbnail, as imgproxy uses it (shrink-on-load, then a Lanczos3 reduce)."""
    import pyvips  # type: ignore[import-untyped]  # pyvips ships no type hints

    thumbnail = pyvips.Image.thumbnail_buffer(content, TARGET[0], height=TARGET[1], size="force")
    if output == "jpeg":
        if thumbnail.hasalpha():
            thumbnail = thumbnail.flatten(background=[255, 255, 255])
        return bytes(thumbnail.jpegsave_buffer(Q=ENCODING.jpeg_quality, strip=True))
    if output == "webp":
        return bytes(thumbnail.webpsave_buffer(Q=ENCODING.webp_quality, strip=True))
    return bytes(thumbnail.pngsave_buffer(compression=ENCODING.png_compress_level, strip=True))


def vips_available() -> str | None:
    """None when pyvips and its libvips load, else why not."""
    try:
        import pyvips
    except (ImportError, OSError) as error:
        return f"pyvips cannot load libvips: {error}"
    return None if pyvips.API_mode or pyvips.version(0) else "pyvips has no libvips"


ENGINES: dict[str, Engine] = {
    "resizeq": resizeq_engine,
    "naive": naive_engine,
    "pyvips": vips_engine,
}


@dataclass
class KernelResult:
    sample: str
    engine: str
    median_ms: float
    runs: int
    psnr_db: float
    ssim: float
    output_bytes: int


def measure(sample: Sample, engines: dict[str, Engine], runs: int) -> list[KernelResult]:
    """Time every engine on `sample`, one call of each per round, so noise hits all alike."""
    reference = reference_resize(sample.content, sample.output)
    outputs = {name: engine(sample.content, sample.output) for name, engine in engines.items()}
    timings: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(runs):
        for name, engine in engines.items():
            started = time.perf_counter()
            engine(sample.content, sample.output)
            timings[name].append(time.perf_counter() - started)

    results = []
    for name, encoded in outputs.items():
        psnr_db, ssim = quality(encoded, reference, sample.output)
        median_ms = statistics.median(timings[name]) * 1000
        results.append(KernelResult(sample.name, name, median_ms, runs, psnr_db, ssim,
                                    len(encoded)))
    return results


def reference_resize(content: bytes, output: str) -> np.ndarray:
    """A float Lanczos resize of the full decode; alpha premultiplied, then flattened if JPEG."""
    image = Image.open(io.BytesIO(content))
    image.load()
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3:4]
    premultiplied = np.concatenate([rgba[..., :3] * alpha, alpha], axis=2)
    bands = [
        np.asarray(Image.fromarray(premultiplied[..., index], "F").resize(
            TARGET, Image.Resampling.LANCZOS))
        for index in range(4)
    ]
    resized = np.clip(np.stack(bands, axis=2), 0.0, 1.0)
    colour, alpha = resized[..., :3], resized[..., 3:4]
    if output == "jpeg":
        return np.asarray((colour + (1.0 - alpha)) * 255.0, np.float32)
    straight = np.where(alpha > 0, colour / np.maximum(alpha, 1e-6), 0.0)
    return np.asarray(np.concatenate([straight, alpha], axis=2) * 255.0, np.float32)


def quality(encoded: bytes, reference: np.ndarray, output: str) -> tuple[float, float]:
    """PSNR (dB) and mean SSIM of a result against the reference, on what a viewer sees.

    With alpha, colour is compared composited onto white, since the colour of a fully
    transparent pixel is invisible and engines legitimately differ there.
    """
    decoded = Image.open(io.BytesIO(encoded))
    actual = np.asarray(decoded.convert("RGBA"), dtype=np.float32)
    expected = reference if reference.shape[2] == 4 else np.concatenate(
        [reference, np.full((*reference.shape[:2], 1), 255.0, np.float32)], axis=2)
    seen_actual, seen_expected = _on_white(actual), _on_white(expected)
    return _psnr(seen_actual, seen_expected), _ssim(seen_actual, seen_expected)


def _on_white(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:4] / 255.0
    return rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)


def _psnr(actual: np.ndarray, expected: np.ndarray) -> float:
    error = float(np.mean((actual - expected) ** 2))
    return float("inf") if error == 0 else 10 * np.log10(255.0**2 / error)


def _ssim(actual: np.ndarray, expected: np.ndarray) -> float:
    """Mean SSIM of the luma over 8 x 8 windows (Wang et al. constants)."""
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    x, y = actual @ weights, expected @ weights
    height, width = (x.shape[0] // 8) * 8, (x.shape[1] // 8) * 8
    x = x[:height, :width].reshape(height // 8, 8, width // 8, 8)
    y = y[:height, :width].reshape(height // 8, 8, width // 8, 8)
    mean_x, mean_y = x.mean(axis=(1, 3)), y.mean(axis=(1, 3))
    var_x, var_y = x.var(axis=(1, 3)), y.var(axis=(1, 3))
    covariance = ((x - mean_x[:, None, :, None]) * (y - mean_y[:, None, :, None])).mean(axis=(1, 3))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    index = ((2 * mean_x * mean_y + c1) * (2 * covariance + c2)) / (
        (mean_x**2 + mean_y**2 + c1) * (var_x + var_y + c2))
    return float(index.mean())


def _output(name: str) -> OutputFormat:
    formats: dict[str, OutputFormat] = {"jpeg": "jpeg", "png": "png", "webp": "webp"}
    return formats[name]


def _save_options(output: str) -> dict[str, object]:
    if output == "jpeg":
        return {"quality": ENCODING.jpeg_quality}
    if output == "webp":
        return {"quality": ENCODING.webp_quality}
    return {"compress_level": ENCODING.png_compress_level}
