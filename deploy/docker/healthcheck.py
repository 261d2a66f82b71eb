"""Docker HEALTHCHECK for both entrypoints of the resizeq image, standard library only.

HEALTHCHECK_URL names the URL to probe when set. Otherwise the container is healthy when
either the API's /healthz (port 8000) or the consumer's /healthz (METRICS_PORT, 9100)
answers 200, so one image-level check serves both commands.
"""

import os
import sys
import urllib.request


def candidate_urls() -> list[str]:
    explicit = os.environ.get("HEALTHCHECK_URL", "").strip()
    if explicit:
        return [explicit]

    metrics_port = os.environ.get("METRICS_PORT", "").strip() or "9100"
    return ["http://127.0.0.1:8000/healthz", f"http://127.0.0.1:{metrics_port}/healthz"]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(0 if any(healthy(url) for url in candidate_urls()) else 1)
