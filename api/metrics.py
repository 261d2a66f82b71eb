"""The API's Prometheus metrics; every name starts with `resizeq_` and carries its unit."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

KIB = 1024

# Outcome and reason pairs the API reports, created up front so rates start at zero.
UPLOAD_OUTCOMES = {
    "accepted": ("none",),
    "rejected": (
        "too_large", "unsupported_type", "invalid_parameters", "malformed_request",
        "unauthorized",
    ),
    "unavailable": ("broker_down", "queue_full", "broker_refused", "storage_down"),
}

REJECTION_REASONS = {
    400: "malformed_request",
    401: "unauthorized",
    413: "too_large",
    415: "unsupported_type",
    422: "invalid_parameters",
    431: "too_large",
}

uploads_total = Counter(
    "resizeq_uploads_total",
    "Uploads received, by outcome (accepted, rejected, unavailable) and reason.",
    ["outcome", "reason"],
)
upload_size_bytes = Histogram(
    "resizeq_upload_size_bytes",
    "Size of the image file in each upload that was read completely.",
    buckets=[KIB * 4**power for power in range(10)],
)
publish_duration_seconds = Histogram(
    "resizeq_publish_duration_seconds",
    "Time from handing a job to a publisher thread to the broker's confirm.",
    buckets=[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
)
http_requests_total = Counter(
    "resizeq_http_requests_total",
    "HTTP requests answered, by route template, method and status class.",
    ["route", "method", "status_class"],
)
http_request_duration_seconds = Histogram(
    "resizeq_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ["route", "method"],
    buckets=[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
)

for outcome, reasons in UPLOAD_OUTCOMES.items():
    for reason in reasons:
        uploads_total.labels(outcome, reason)


def count_rejection(status_code: int) -> None:
    uploads_total.labels("rejected", REJECTION_REASONS.get(status_code, "malformed_request")).inc()
