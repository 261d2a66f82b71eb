"""The streaming form reader stops at the first limit crossed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from api.multipart import (
    MAX_PARTS,
    check_declared_length,
    multipart_boundary,
    read_form,
)
from resizeq.errors import InvalidUpload

BOUNDARY = b"testboundary"


def part(name: str, content: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return (b"--" + BOUNDARY + b"\r\nContent-Disposition: " + disposition.encode()
            + b"\r\n\r\n" + content + b"\r\n")


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"


async def chunked(content: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(content), size):
        yield content[start:start + size]


def read(content: bytes, max_file_bytes: int = 10_000) -> object:
    return asyncio.run(read_form(chunked(content), BOUNDARY, max_file_bytes))


def test_collects_the_file_and_the_fields() -> None:
    form = read(body(part("file", b"\x89PNG...", "cat.png"), part("width", b"120")))
    assert form.file == b"\x89PNG..."  # type: ignore[attr-defined]
    assert form.filename == "cat.png"  # type: ignore[attr-defined]
    assert form.fields == {"width": "120"}  # type: ignore[attr-defined]


def test_stops_at_the_byte_that_crosses_the_file_limit() -> None:
    consumed = 0

    async def counting() -> AsyncIterator[bytes]:
        nonlocal consumed
        async for chunk in chunked(body(part("file", b"x" * 50_000, "big.bin"))):
            consumed += len(chunk)
            yield chunk

    with pytest.raises(InvalidUpload) as rejected:
        asyncio.run(read_form(counting(), BOUNDARY, 10_000))
    assert rejected.value.status_code == 413
    assert consumed < 12_000


def test_too_many_parts() -> None:
    many = body(*(part(f"field{index}", b"1") for index in range(MAX_PARTS + 1)))
    with pytest.raises(InvalidUpload, match="more than"):
        read(many)


def test_an_oversized_text_field() -> None:
    with pytest.raises(InvalidUpload) as rejected:
        read(body(part("width", b"9" * 5000)))
    assert rejected.value.status_code == 413


def test_a_huge_part_header() -> None:
    header = b"--" + BOUNDARY + b"\r\nX-Junk: " + b"a" * 20_000 + b"\r\n\r\nx\r\n"
    with pytest.raises(InvalidUpload) as rejected:
        read(header + b"--" + BOUNDARY + b"--\r\n")
    assert rejected.value.status_code in (400, 431)


def test_two_files_are_refused() -> None:
    with pytest.raises(InvalidUpload, match="more than one"):
        read(body(part("file", b"a", "a"), part("file", b"b", "b")))


def test_garbage_is_a_malformed_body() -> None:
    with pytest.raises(InvalidUpload) as rejected:
        read(b"this is not multipart at all\r\n" * 10)
    assert rejected.value.status_code == 400


@pytest.mark.parametrize("content_type", [None, "application/json", "multipart/form-data",
                                          "text/plain; boundary=x"])
def test_only_multipart_form_data_with_a_boundary_is_read(content_type: str | None) -> None:
    with pytest.raises(InvalidUpload) as rejected:
        multipart_boundary(content_type)
    assert rejected.value.status_code == 415


def test_a_declared_length_beyond_the_limit_is_refused_before_reading() -> None:
    check_declared_length("1000", 10_000)
    check_declared_length(None, 10_000)
    with pytest.raises(InvalidUpload):
        check_declared_length(str(10_000_000), 10_000)
