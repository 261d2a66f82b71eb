"""The peer's API: `uvicorn bench.peer.api:app`; one broker connection per upload."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Annotated

import pika
from fastapi import FastAPI, File, Form, UploadFile
from fastapi.responses import JSONResponse

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672/%2F")
QUEUE_NAME = os.environ.get("QUEUE_NAME", "peer.images")
STORAGE_DIR = Path(os.environ.get("STORAGE_DIR", "./peer-data"))

app = FastAPI(title="seed-style peer")


@app.post("/images", status_code=202)
def upload(
    file: Annotated[UploadFile, File()],
    width: Annotated[int, Form()] = 384,
    height: Annotated[int, Form()] = 384,
) -> JSONResponse:
    """Publish the upload on a connection opened for this request alone, then close it.

    A plain `def`, so FastAPI runs it on its thread pool and uploads do not queue behind
    one another's broker round trips (a seed that did this in `async def` would be slower).
    """
    job_id = uuid.uuid4().hex
    body = file.file.read()

    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        channel = connection.channel()
        channel.queue_declare(QUEUE_NAME)
        properties = pika.BasicProperties(
            message_id=job_id, headers={"width": width, "height": height}
        )
        channel.basic_publish("", QUEUE_NAME, body, properties)
    finally:
        connection.close()
    return JSONResponse({"id": job_id, "status": "queued"}, 202)


@app.get("/images/{job_id}")
def status(job_id: str) -> JSONResponse:
    done = (STORAGE_DIR / f"{job_id}.jpg").exists()
    return JSONResponse({"id": job_id, "status": "done" if done else "queued"})


@app.get("/readyz")
def readyz() -> dict[str, str]:
    return {"status": "ready"}
