"""Checks an upload before anything is queued: its parameters, then its image header."""

from __future__ import annotations

import re
from typing import Any, cast

from resizeq.errors import InvalidUpload
from resizeq.imaging import default_output_format, format_name, open_image
from resizeq.messages import OUTPUT_FORMATS, RESIZE_MODES, OutputFormat, ResizeMode, ResizeRequest
from resizeq.settings import Settings

# ASCII digits only: str.isdigit() accepts characters such as '²' that int() refuses.
ASCII_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


class InvalidParameters(InvalidUpload):
    """One or more form fields are out of range; `errors` names each field."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(422, "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in errors))
        self.errors = errors


def _field_error(name: str, message: str, value: object) -> dict[str, Any]:
    return {"loc": ["body", name], "msg": message, "type": "value_error", "input": value}


def _dimension(fields: dict[str, str], name: str, settings: Settings) -> int | dict[str, Any]:
    raw = fields.get(name, "").strip()
    if not raw:
        return settings.default_size

    expected = f"expected a whole number from 1 to {settings.max_dimension}"
    if not ASCII_WHOLE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= settings.max_dimension:
        return _field_error(name, f"{expected}, got {raw[:40]!r}", raw[:40])
    return int(raw)


def _choice(fields: dict[str, str], name: str, allowed: tuple[str, ...]) -> str | dict[str, Any]:
    raw = fields.get(name, "").strip().lower()
    if raw and raw not in allowed:
        expected = f"expected one of {', '.join(allowed)}"
        return _field_error(name, f"{expected}, got {raw[:40]!r}", raw[:40])
    return raw


def parse_parameters(
    fields: dict[str, str], settings: Settings
) -> tuple[int, int, ResizeMode, str]:
    """Width, height, mode and the requested format ('' when the source's should be kept)."""
    width = _dimension(fields, "width", settings)
    height = _dimension(fields, "height", settings)
    mode = _choice(fields, "mode", RESIZE_MODES)
    output = _choice(fields, "format", OUTPUT_FORMATS)

    errors = [value for value in (width, height, mode, output) if isinstance(value, dict)]
    if errors:
        raise InvalidParameters(errors)

    assert isinstance(width, int) and isinstance(height, int)
    return width, height, cast(ResizeMode, mode or "stretch"), cast(str, output)


def inspect_upload(
    image_bytes: bytes, fields: dict[str, str], settings: Settings
) -> tuple[ResizeRequest, str]:
    """The resize request and the source's format, or InvalidUpload saying what is wrong."""
    width, height, mode, requested_format = parse_parameters(fields, settings)
    if not image_bytes:
        raise InvalidParameters([_field_error("file", "the file is empty", "")])

    with open_image(image_bytes, settings.max_input_pixels) as image:
        source_format = format_name(image)

    output = cast(OutputFormat, requested_format or default_output_format(source_format))
    return ResizeRequest(width, height, mode, output), source_format
