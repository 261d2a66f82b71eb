"""Settings shared by the API and the consumer, read once from the environment.

Every setting is an environment variable with a default that works for a local run; the
README lists them all. Units are in the names (`_s`, `_bytes`) and converted nowhere else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from resizeq.errors import SettingsError

MIB = 1024 * 1024


def _text(name: str, default: str) -> str:
    return os.environ.get(name, default).strip() or default


def _integer(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default

    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None

    if value < minimum:
        raise SettingsError(f"{name}={value} is below the minimum of {minimum}")
    return value


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default

    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds") from None

    if value <= 0:
        raise SettingsError(f"{name}={value} must be a positive number of seconds")
    return value


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = _text(name, default).lower()
    if value not in allowed:
        raise SettingsError(f"{name}={value!r} is not one of {', '.join(allowed)}")
    return value


def _api_keys() -> frozenset[str]:
    raw = os.environ.get("API_KEYS", "")
    return frozenset(key.strip() for key in raw.split(",") if key.strip())


@dataclass(frozen=True)
class Settings:
    """Everything either app can be told through its environment."""

    amqp_url: str = "amqp://guest:guest@localhost:5672/%2F"
    storage_dir: Path = Path("./data")
    queue_name: str = "resizeq.jobs"
    max_upload_bytes: int = 16 * MIB
    max_dimension: int = 4096
    max_input_pixels: int = 64_000_000
    default_size: int = 384
    queue_max_length: int = 10_000
    queue_max_bytes: int = 2048 * MIB
    delivery_limit: int = 5
    publish_timeout_s: float = 5.0
    heartbeat_s: int = 30
    retry_after_s: int = 5
    api_keys: frozenset[str] = field(default_factory=frozenset)
    metrics_port: int = 9100
    worker_threads: int = 0
    prefetch_count: int = 0
    shutdown_grace_s: float = 25.0
    jpeg_quality: int = 85
    webp_quality: int = 80
    png_compress_level: int = 6
    log_level: str = "info"
    log_format: str = "text"

    @property
    def dead_letter_queue(self) -> str:
        """The queue that holds messages given up on after `delivery_limit` deliveries."""
        return f"{self.queue_name}.dead"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.queue_name}.dlx"


def load_settings() -> Settings:
    """Read every setting from the environment, failing loudly on a malformed value."""
    defaults = Settings()
    return Settings(
        amqp_url=_text("AMQP_URL", defaults.amqp_url),
        storage_dir=Path(_text("STORAGE_DIR", str(defaults.storage_dir))),
        queue_name=_text("QUEUE_NAME", defaults.queue_name),
        max_upload_bytes=_integer("MAX_UPLOAD_BYTES", defaults.max_upload_bytes, 1),
        max_dimension=_integer("MAX_DIMENSION", defaults.max_dimension, 1),
        max_input_pixels=_integer("MAX_INPUT_PIXELS", defaults.max_input_pixels, 1),
        default_size=_integer("DEFAULT_SIZE", defaults.default_size, 1),
        queue_max_length=_integer("QUEUE_MAX_LENGTH", defaults.queue_max_length, 1),
        queue_max_bytes=_integer("QUEUE_MAX_BYTES", defaults.queue_max_bytes, 1),
        delivery_limit=_integer("DELIVERY_LIMIT", defaults.delivery_limit, 1),
        publish_timeout_s=_seconds("PUBLISH_TIMEOUT_S", defaults.publish_timeout_s),
        heartbeat_s=_integer("HEARTBEAT_S", defaults.heartbeat_s, 0),
        retry_after_s=_integer("RETRY_AFTER_S", defaults.retry_after_s, 1),
        api_keys=_api_keys(),
        metrics_port=_integer("METRICS_PORT", defaults.metrics_port, 0),
        worker_threads=_integer("WORKER_THREADS", defaults.worker_threads, 0),
        prefetch_count=_integer("PREFETCH_COUNT", defaults.prefetch_count, 0),
        shutdown_grace_s=_seconds("SHUTDOWN_GRACE_S", defaults.shutdown_grace_s),
        jpeg_quality=_integer("JPEG_QUALITY", defaults.jpeg_quality, 1),
        webp_quality=_integer("WEBP_QUALITY", defaults.webp_quality, 1),
        png_compress_level=_integer("PNG_COMPRESS_LEVEL", defaults.png_compress_level, 0),
        log_level=_choice("LOG_LEVEL", defaults.log_level, ("debug", "info", "warning")),
        log_format=_choice("LOG_FORMAT", defaults.log_format, ("text", "json")),
    )
