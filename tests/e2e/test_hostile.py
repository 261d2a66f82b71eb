"""Hostile input through the real processes: a 4xx naming the problem, or 202 then an end.

Never a 5xx, and the consumer survives every one of them.
"""

from __future__ import annotations

import io
import socket
import struct
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from tests.support import images
from tests.support.stack import Stack, wait_for_job

pytestmark = pytest.mark.e2e


def gif_claiming(width: int, height: int) -> bytes:
    """A 1x1 GIF whose logical screen claims `width` x `height`."""
    real = images.encode(Image.new("P", (1, 1)), "gif")
    return real[:6] + struct.pack("<HH", width, height) + real[10:]


def webp_claiming(width: int, height: int) -> bytes:
    """A small WebP whose extended header (VP8X) claims a canvas of `width` x `height`."""
    exif = Image.Exif()
    exif[0x010F] = "resizeq"
    real = images.encode(Image.new("RGB", (8, 8)), "webp", exif=exif.tobytes())
    if real[12:16] != b"VP8X":
        raise AssertionError("expected an extended WebP")
    canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return real[:24] + canvas + real[30:]


def pillow_bytes(pillow_format: str, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (32, 32), (10, 20, 30) if mode == "RGB" else 5).save(buffer, pillow_format)
    return buffer.getvalue()


REJECTED = {
    "empty": (b"", 422),
    "text": (b"just some text\n" * 10, 415),
    "html": (b"<!doctype html><html><script>alert(1)</script></html>", 415),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', 415),
    "pdf": (b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF", 415),
    "zip": (b"PK\x03\x04" + b"\0" * 100, 415),
    "psd": (b"8BPS\x00\x01" + b"\0" * 200, 415),
    "eps": (pillow_bytes("EPS"), 415),
    "jpeg2000": (pillow_bytes("JPEG2000"), 415),
    "ico": (pillow_bytes("ICO"), 415),
    "png bomb": (images.encode(Image.new("1", (40_000, 40_000)), "png"), 413),
    "gif bomb": (gif_claiming(65_535, 65_535), 413),
}


@pytest.fixture(scope="module")
def hostile_stack(vhost: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(vhost.url, tmp_path_factory.mktemp("hostile"))  # type: ignore[attr-defined]
    running.start_api(MAX_UPLOAD_BYTES=str(4 * 1024 * 1024))
    running.start_consumer()
    yield running
    running.stop()


@pytest.fixture
def client(hostile_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hostile_stack.api_url, timeout=30) as test_client:
        yield test_client


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_bad_files_get_a_4xx_that_names_the_problem(client: httpx.Client, name: str) -> None:
    content, status = REJECTED[name]
    answer = client.post("/images", files={"file": ("image.jpg", content, "image/jpeg")})
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"]


def test_a_webp_claiming_a_huge_canvas_is_refused(client: httpx.Client) -> None:
    answer = client.post("/images", files={"file": ("a.webp", webp_claiming(16_384, 16_384))})
    assert answer.status_code in (413, 415), answer.text


@pytest.mark.parametrize("name", ["truncated jpeg", "truncated png", "corrupt gif"])
def test_broken_pixels_are_accepted_and_end_failed(client: httpx.Client, name: str) -> None:
    content = {
        "truncated jpeg": images.image_bytes("jpeg", (800, 600))[:1500],
        "truncated png": images.image_bytes("png", (800, 600))[:400],
        "corrupt gif": images.image_bytes("gif")[:40] + b"\xff" * 200,
    }[name]
    answer = client.post("/images", files={"file": ("x", content)})
    if answer.status_code == 415:
        return
    assert answer.status_code == 202, answer.text
    assert wait_for_job(client, answer.json()["id"])["status"] == "failed"


def test_thousands_of_frames_cost_one(client: httpx.Client) -> None:
    answer = client.post("/images", files={"file": ("anim.gif", images.animated_gif(3000))})
    assert answer.status_code == 202, answer.text
    assert wait_for_job(client, answer.json()["id"])["status"] == "done"


@pytest.mark.parametrize("filename", ["../../../../etc/passwd", "..\\..\\win.ini",
                                      "a\x00b.png", "\r\nX-Injected: 1", "名前.png", "x" * 5000])
def test_file_names_are_never_used(client: httpx.Client, filename: str,
                                   hostile_stack: Stack) -> None:
    answer = client.post("/images", files={"file": (filename, images.image_bytes("png"))})
    assert answer.status_code in (202, 431), answer.text
    stored = {path.name for path in hostile_stack.storage_dir.rglob("*")}
    assert not any("passwd" in name or "win.ini" in name for name in stored)


@pytest.mark.parametrize("fields", [
    {"width": "99999999999999999999999"}, {"width": "²"}, {"height": "١٢٣"},
    {"width": " "}, {"width": "12.5"}, {"mode": "x" * 900}, {"format": "PNG\x00"},
    {"width": "4097", "height": "0", "mode": "?", "format": "bmp"},
])
def test_extreme_parameters_get_422(client: httpx.Client, fields: dict[str, str]) -> None:
    answer = client.post("/images", files={"file": ("a.png", images.image_bytes("png"))},
                         data=fields)
    if fields == {"width": " "}:
        assert answer.status_code == 202
        return
    assert answer.status_code == 422, answer.text


def test_thousands_of_fields_are_refused(client: httpx.Client) -> None:
    fields = {f"field{index}": "1" for index in range(5000)}
    answer = client.post("/images", files={"file": ("a.png", images.image_bytes("png"))},
                         data=fields)
    assert answer.status_code == 413
    assert "parts" in answer.json()["detail"]


def test_a_huge_part_header_is_refused(client: httpx.Client) -> None:
    boundary = "hostileboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{'a' * 50_000}\"\r\n\r\nxxx\r\n--{boundary}--\r\n").encode()
    answer = client.post("/images", content=body,
                         headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert answer.status_code in (400, 431), answer.text


@pytest.mark.parametrize("path", ["/images/..%2F..%2Fetc%2Fpasswd", "/images/%00",
                                  "/images/" + "f" * 4000, "/images/ABCDEF/content"])
def test_malformed_ids_get_404(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_an_oversized_upload_is_refused_while_streaming_with_bounded_memory(
    client: httpx.Client, hostile_stack: Stack
) -> None:
    api = hostile_stack.processes[0]
    before = peak_rss_bytes(api.process.pid)

    def endless_form() -> Iterator[bytes]:
        boundary = b"--streamboundary"
        yield boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
        for _ in range(200):  # 200 MiB, sent in chunks, without a Content-Length
            yield b"\0" * (1024 * 1024)
        yield b"\r\n" + boundary + b"--\r\n"

    answer = client.post("/images", content=endless_form(),
                         headers={"content-type": "multipart/form-data; boundary=streamboundary"})
    growth = peak_rss_bytes(api.process.pid) - before

    assert answer.status_code == 413
    assert growth < 32 * 1024 * 1024, f"the API's peak RSS grew by {growth} bytes"


def test_the_consumer_survived_everything(hostile_stack: Stack) -> None:
    consumer = hostile_stack.processes[1]
    assert consumer.process.poll() is None
    assert httpx.get(f"{consumer.metrics_url}/readyz").status_code == 200
    api_log = hostile_stack.processes[0].log()
    assert " 500 " not in api_log and "Traceback" not in api_log


def peak_rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise LookupError("no VmHWM in /proc status")


def test_a_declared_oversize_with_expect_continue_is_refused_before_the_body(
    hostile_stack: Stack,
) -> None:
    host, port = hostile_stack.api_url.removeprefix("http://").split(":")
    request = (
        "POST /images HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\n"
        "Expect: 100-continue\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        answer = connection.recv(4096).decode()

    assert answer.startswith("HTTP/1.1 413"), answer
    assert "100 Continue" not in answer
