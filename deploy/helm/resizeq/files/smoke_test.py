"""helm test: upload a generated PNG through the API Service and wait until it is resized.

Runs inside the app image (Pillow is there) with the standard library only for HTTP.
Exits non-zero with a message on the first thing that goes wrong.
"""

import io
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

from PIL import Image

API_URL = os.environ["API_URL"].rstrip("/")
API_KEY = os.environ.get("API_KEY", "").split(",")[0].strip()
TIMEOUT_S = float(os.environ.get("TIMEOUT_S", "120"))


def request(method, path, body=None, content_type=None):
    headers = {"X-API-Key": API_KEY} if API_KEY else {}
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(API_URL + path, data=body, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=15) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def multipart(fields, filename, payload):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            .encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: image/png\r\n\r\n".encode() + payload + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def main():
    source = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 90)).save(source, format="PNG")
    body, content_type = multipart({"width": 32, "height": 32}, "smoke.png", source.getvalue())

    status, _, answer = request("POST", "/images", body, content_type)
    job = json.loads(answer)
    print(f"upload answered {status}: {job}")
    if status != 202:
        sys.exit(f"expected 202 from POST /images, got {status}")

    deadline = time.monotonic() + TIMEOUT_S
    while True:
        _, _, answer = request("GET", f"/images/{job['id']}")
        state = json.loads(answer)
        if state["status"] == "done":
            break
        if state["status"] == "failed":
            sys.exit(f"job {job['id']} failed: {state.get('error')}")
        if time.monotonic() > deadline:
            sys.exit(f"job {job['id']} still {state['status']!r} after {TIMEOUT_S:.0f} s")
        time.sleep(1)

    status, media_type, content = request("GET", f"/images/{job['id']}/content")
    with Image.open(io.BytesIO(content)) as result:
        size = result.size
    print(f"content answered {status} {media_type}, {len(content)} bytes, {size[0]}x{size[1]}")
    if status != 200 or size != (32, 32):
        sys.exit(f"expected a 32x32 image, got {status} {size}")


if __name__ == "__main__":
    try:
        main()
    except urllib.error.HTTPError as error:
        sys.exit(f"{error.code} from {error.url}: {error.read()[:500]!r}")
    except (urllib.error.URLError, OSError, ValueError, KeyError) as error:
        sys.exit(f"smoke test failed: {error!r}")
