"""The consumer's Prometheus metrics; worker threads share one registry per process."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
KIB = 1024

OUTCOMES = ("done", "failed", "duplicate")
SOURCE_FORMATS = ("jpeg", "png", "webp", "gif", "bmp", "tiff", "unknown")

images_processed_total = Counter(
    "resizeq_images_processed_total",
    "Jobs finished by this consumer, by outcome (done, failed, duplicate) and source format.",
    ["outcome", "source_format"],
)
resize_duration_seconds = Histogram(
    "resizeq_resize_duration_seconds",
    "Time to decode, resize and encode one image, including attempts that failed.",
    ["source_format"],
    buckets=LATENCY_BUCKETS,
)
end_to_end_duration_seconds = Histogram(
    "resizeq_end_to_end_duration_seconds",
    "Time from the API accepting an upload to its result being stored.",
    buckets=LATENCY_BUCKETS,
)
queue_wait_seconds = Histogram(
    "resizeq_queue_wait_seconds",
    "Time from the API accepting an upload to a consumer starting on it.",
    buckets=LATENCY_BUCKETS,
)
images_in_progress = Gauge(
    "resizeq_images_in_progress",
    "Images this consumer is resizing right now.",
)
redeliveries_total = Counter(
    "resizeq_redeliveries_total",
    "Deliveries RabbitMQ flagged as redelivered (a consumer died or gave a job back).",
)
dead_lettered_total = Counter(
    "resizeq_dead_lettered_total",
    "Jobs taken from the dead-letter queue and marked failed.",
)
output_bytes_total = Counter(
    "resizeq_output_bytes_total",
    "Bytes of resized images written to storage.",
)

for outcome in OUTCOMES:
    for source_format in SOURCE_FORMATS:
        images_processed_total.labels(outcome, source_format)


def format_label(source_format: str) -> str:
    """The source format as a label value, bounded to the known formats."""
    return source_format if source_format in SOURCE_FORMATS else "unknown"
