"""The shapes of the API's JSON answers, for validation-free responses and the OpenAPI docs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from resizeq.settings import Settings


class JobView(BaseModel):
    """A job as the API reports it."""

    id: str = Field(description="The job id: 32 hex digits, random (UUID4).")
    status: Literal["queued", "done", "failed"]
    width: int = Field(description="Width of the result in pixels.")
    height: int = Field(description="Height of the result in pixels.")
    mode: Literal["stretch", "fit", "fill"]
    format: Literal["jpeg", "png", "webp"] = Field(description="Format of the result.")
    created_at: float = Field(description="When the API accepted the upload (Unix time).")
    updated_at: float = Field(description="When the status last changed (Unix time).")
    source_format: str | None = Field(None, description="Format detected from the bytes.")
    error: str | None = Field(None, description="Why the job failed, when it did.")
    result_bytes: int | None = Field(None, description="Size of the result, once done.")


class ErrorView(BaseModel):
    """Every error answer: a sentence, or for 422 a list naming each bad field."""

    detail: str | list[dict[str, Any]]


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "The multipart body is malformed.",
        401: "An API key is required and was missing or wrong (header X-API-Key).",
        404: "No job has this id.",
        409: "The job is not done yet, or it failed.",
        413: "The file, a form field or the image's pixel count exceeds its limit.",
        415: "The body is not multipart/form-data, or the file is not a supported image.",
        422: "A parameter is out of range; `detail` names each field.",
        431: "A part header of the form is too long.",
        503: "The broker or the storage is unavailable, or the queue is full; retry after "
             "`Retry-After` seconds.",
    }
    return {code: {"model": ErrorView, "description": descriptions[code]} for code in status_codes}


def upload_form_schema(settings: Settings) -> dict[str, Any]:
    """The multipart request body of an upload, described for the OpenAPI docs."""
    dimension = {
        "type": "integer", "minimum": 1, "maximum": settings.max_dimension,
        "default": settings.default_size,
    }
    properties = {
        "file": {"type": "string", "format": "binary",
                 "description": "The image: JPEG, PNG, WebP, GIF, BMP or TIFF, sniffed from "
                                "its bytes; at most MAX_UPLOAD_BYTES."},
        "width": {**dimension, "description": "Width of the result in pixels."},
        "height": {**dimension, "description": "Height of the result in pixels."},
        "mode": {"type": "string", "enum": ["stretch", "fit", "fill"], "default": "stretch",
                 "description": "stretch ignores the aspect ratio; fit pads; fill crops."},
        "format": {"type": "string", "enum": ["jpeg", "png", "webp"],
                   "description": "Result format; default: the source's when it is one of "
                                  "these, else png."},
    }
    schema = {"type": "object", "required": ["file"], "properties": properties}
    return {"requestBody": {"required": True,
                            "content": {"multipart/form-data": {"schema": schema}}}}
