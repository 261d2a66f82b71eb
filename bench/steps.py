"""Each step of the fast resize path on its own, with its cost in time and in quality.

Only decoding and resampling are timed (encoding is the same for every step), and quality
is compared before encoding, so the figures show what each shortcut costs by itself.
"""

from __future__ import annotations

import io
import statistics
import time
from dataclasses import dataclass

from PIL import Image

from bench import kernel
from bench.images import Sample

# (label, decode at a DCT scale, reducing gap)
STEPS = (
    ("full decode, Lanczos", False, None),
    ("full decode, gap 2.0", False, 2.0),
    ("full decode, gap 3.0", False, 3.0),
    ("draft, Lanczos", True, None),
    ("draft, gap 3.0 (resizeq)", True, 3.0),
)


@dataclass
class StepResult:
    sample: str
    step: str
    median_ms: float
    psnr_db: float
    ssim: float


def decode_and_resample(content: bytes, draft: bool, gap: float | None) -> Image.Image:
    image: Image.Image = Image.open(io.BytesIO(content))
    if draft and image.format == "JPEG":
        image.draft(image.mode, kernel.TARGET)
    image.load()
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGB")
    return image.resize(kernel.TARGET, Image.Resampling.LANCZOS, reducing_gap=gap)


def measure(sample: Sample, runs: int) -> list[StepResult]:
    reference = kernel.reference_resize(sample.content, "png")
    results = []
    for label, draft, gap in STEPS:
        if draft and not sample.name.startswith("jpeg"):
            continue
        decode_and_resample(sample.content, draft, gap)
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            resized = decode_and_resample(sample.content, draft, gap)
            timings.append(time.perf_counter() - started)
        lossless = io.BytesIO()
        resized.save(lossless, "PNG", compress_level=1)
        psnr_db, ssim = kernel.quality(lossless.getvalue(), reference, "png")
        results.append(StepResult(sample.name, label, statistics.median(timings) * 1000,
                                  psnr_db, ssim))
    return results
