"""A streaming reader for the upload form that enforces every limit while bytes arrive.

Starlette's form parser spools a whole file to disk before the route sees it. This reader
feeds the request stream to python-multipart's push parser instead, so an upload that
crosses `MAX_UPLOAD_BYTES` is refused at that byte, as are forms with too many parts,
oversized part headers or oversized text fields. Only the `file` part is kept in memory,
and never more than the limit of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from resizeq.errors import InvalidUpload

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FILE_FIELD = "file"
MAX_PARTS = 16
MAX_FIELD_BYTES = 1024
MAX_PART_HEADER_BYTES = 8192
FORM_OVERHEAD_BYTES = 64 * 1024


@dataclass
class UploadForm:
    """The parts of one upload: the file's bytes, its client-side name and the text fields."""

    file: bytearray | None = None
    filename: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class _PartState:
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    disposition: bytes = b""
    name: str = ""
    value: bytearray = field(default_factory=bytearray)


class _FormCollector:
    """The parser's callbacks: collect parts, raising InvalidUpload on the first excess."""

    def __init__(self, max_file_bytes: int) -> None:
        self.max_file_bytes = max_file_bytes
        self.form = UploadForm()
        self.part = _PartState()
        self.part_count = 0

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.part_count += 1
        if self.part_count > MAX_PARTS:
            raise InvalidUpload(413, f"the form has more than {MAX_PARTS} parts")
        self.part = _PartState()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.header_field += data[start:end]
        self._check_header_size()

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.header_value += data[start:end]
        self._check_header_size()

    def _check_header_size(self) -> None:
        if len(self.part.header_field) + len(self.part.header_value) > MAX_PART_HEADER_BYTES:
            raise InvalidUpload(431, f"a part header is longer than {MAX_PART_HEADER_BYTES} bytes")

    def on_header_end(self) -> None:
        if bytes(self.part.header_field).lower() == b"content-disposition":
            self.part.disposition = bytes(self.part.header_value)
        self.part.header_field.clear()
        self.part.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.disposition)
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        if self.part.name != FILE_FIELD:
            return

        if self.form.file is not None:
            raise InvalidUpload(422, "the form has more than one 'file' part; send one image")
        self.form.file = bytearray()
        self.form.filename = options.get(b"filename", b"").decode("utf-8", "replace")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part.name == FILE_FIELD and self.form.file is not None:
            self._append_file(data[start:end])
            return

        self.part.value += data[start:end]
        if len(self.part.value) > MAX_FIELD_BYTES:
            detail = f"form field {self.part.name!r} exceeds {MAX_FIELD_BYTES} bytes"
            raise InvalidUpload(413, detail)

    def _append_file(self, chunk: bytes) -> None:
        assert self.form.file is not None
        if len(self.form.file) + len(chunk) > self.max_file_bytes:
            raise InvalidUpload(413, f"the file exceeds the limit of {self.max_file_bytes} bytes")
        self.form.file += chunk

    def on_part_end(self) -> None:
        if self.part.name and self.part.name != FILE_FIELD:
            self.form.fields[self.part.name] = self.part.value.decode("utf-8", "replace")


def multipart_boundary(content_type: str | None) -> bytes:
    """The boundary of a multipart/form-data body; 415 for any other kind of body."""
    media_type, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise InvalidUpload(415, "expected a multipart/form-data body with a 'file' part")
    return boundary


def check_declared_length(content_length: str | None, max_file_bytes: int) -> None:
    """Refuse a body whose declared length cannot fit, before reading any of it."""
    if content_length is None or not content_length.isascii() or not content_length.isdigit():
        return
    if int(content_length) > max_file_bytes + FORM_OVERHEAD_BYTES:
        raise InvalidUpload(413, f"the upload exceeds the limit of {max_file_bytes} bytes")


async def read_form(
    chunks: AsyncIterator[bytes], boundary: bytes, max_file_bytes: int
) -> UploadForm:
    """Parse the form from the body's chunks, stopping at the first limit crossed."""
    collector = _FormCollector(max_file_bytes)
    parser = MultipartParser(
        boundary, collector.callbacks(), max_header_size=MAX_PART_HEADER_BYTES
    )

    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as error:
        raise InvalidUpload(400, f"the multipart body is malformed: {error}") from None
    return collector.form
