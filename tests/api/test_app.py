"""The API in-process against the real broker: answers, errors and the OpenAPI description."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from resizeq.settings import Settings
from tests.support import images


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def upload(client: TestClient, content: bytes, **fields: str) -> object:
    return client.post("/images", files={"file": ("x.png", content)}, data=fields)


def test_an_accepted_upload_is_queued_with_a_location(client: TestClient) -> None:
    answer = client.post("/images", files={"file": ("a.jpg", images.image_bytes("jpeg"))},
                         data={"width": "64", "mode": "fit"})

    assert answer.status_code == 202
    job = answer.json()
    assert answer.headers["location"] == f"/images/{job['id']}"
    assert (job["status"], job["width"], job["height"], job["mode"], job["format"]) == (
        "queued", 64, 384, "fit", "jpeg")
    assert client.get(f"/images/{job['id']}").json()["status"] == "queued"
    assert client.get(f"/images/{job['id']}/content").status_code == 409


@pytest.mark.parametrize(("fields", "bad_field"), [
    ({"width": "0"}, "width"), ({"height": "4097"}, "height"), ({"width": "abc"}, "width"),
    ({"width": "-5"}, "width"), ({"mode": "zoom"}, "mode"), ({"format": "gif"}, "format"),
    ({"width": "1e3"}, "width"),
])
def test_bad_parameters_get_422_naming_the_field(
    client: TestClient, fields: dict[str, str], bad_field: str
) -> None:
    answer = client.post("/images", files={"file": ("a", images.image_bytes("png"))},
                         data=fields)
    assert answer.status_code == 422
    assert [error["loc"][-1] for error in answer.json()["detail"]] == [bad_field]


@pytest.mark.parametrize("content", [
    b"hello, this is text", b"<html><body>hi</body></html>",
    b'<svg xmlns="http://www.w3.org/2000/svg"/>', b"%PDF-1.4\n%...", b"PK\x03\x04zipzip",
])
def test_non_images_get_415(client: TestClient, content: bytes) -> None:
    answer = client.post("/images", files={"file": ("cat.jpg", content, "image/jpeg")})
    assert answer.status_code == 415
    assert "not a supported image" in answer.json()["detail"]


def test_an_empty_file_and_a_missing_file_get_422(client: TestClient) -> None:
    empty = client.post("/images", files={"file": ("a.png", b"")})
    missing = client.post("/images", data={"width": "10"}, files={"other": ("a", b"x")})
    assert empty.status_code == missing.status_code == 422
    assert empty.json()["detail"][0]["loc"] == ["body", "file"]
    assert missing.json()["detail"][0]["loc"] == ["body", "file"]


def test_a_body_that_is_not_a_form_gets_415(client: TestClient) -> None:
    answer = client.post("/images", content=images.image_bytes("png"),
                         headers={"content-type": "image/png"})
    assert answer.status_code == 415


def test_an_oversized_upload_gets_413(settings: Settings) -> None:
    small = replace(settings, max_upload_bytes=10_000)
    with TestClient(create_app(small)) as client:
        answer = upload(client, images.image_bytes("bmp", (200, 200)))
    assert answer.status_code == 413  # type: ignore[attr-defined]
    assert "10000 bytes" in answer.json()["detail"]  # type: ignore[attr-defined]


def test_a_decompression_bomb_gets_413_from_its_header(client: TestClient) -> None:
    from PIL import Image

    bomb = images.encode(Image.new("1", (30_000, 30_000)), "png")
    answer = client.post("/images", files={"file": ("bomb.png", bomb)})
    assert answer.status_code == 413
    assert "pixels" in answer.json()["detail"]


@pytest.mark.parametrize("job_id", ["nope", "../../etc/passwd", "a" * 32, "%2e%2e", "0" * 500])
def test_unknown_and_malformed_ids_get_404(client: TestClient, job_id: str) -> None:
    assert client.get(f"/images/{job_id}").status_code == 404
    assert client.get(f"/images/{job_id}/content").status_code == 404


def test_api_keys_guard_uploads_and_results_but_not_probes(settings: Settings) -> None:
    guarded = replace(settings, api_keys=frozenset({"s3cret", "other"}))
    with TestClient(create_app(guarded)) as client:
        without = client.post("/images", files={"file": ("a", images.image_bytes("png"))})
        wrong = client.get("/images/" + "a" * 32, headers={"X-API-Key": "guess"})
        right = client.post("/images", files={"file": ("a", images.image_bytes("png"))},
                            headers={"X-API-Key": "s3cret"})
        probes = [client.get(path).status_code for path in ("/healthz", "/readyz", "/metrics")]

    assert without.status_code == wrong.status_code == 401
    assert right.status_code == 202
    assert probes == [200, 200, 200]


def test_probes_and_metrics(client: TestClient) -> None:
    upload(client, images.image_bytes("png"))
    metrics = client.get("/metrics").text

    assert client.get("/healthz").json() == {"status": "alive"}
    assert client.get("/readyz").json() == {"status": "ready"}
    assert 'resizeq_uploads_total{outcome="accepted",reason="none"}' in metrics
    assert "x-request-id" in client.get("/healthz").headers


def test_the_openapi_document_describes_every_field_and_error(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    upload_spec = spec["paths"]["/images"]["post"]
    form = upload_spec["requestBody"]["content"]["multipart/form-data"]["schema"]

    assert set(form["properties"]) == {"file", "width", "height", "mode", "format"}
    assert form["properties"]["width"]["maximum"] == 4096
    assert {"202", "400", "401", "413", "415", "422", "503"} <= set(upload_spec["responses"])
    assert "/uploadfile/" in spec["paths"]
