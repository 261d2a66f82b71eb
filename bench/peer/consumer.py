"""The peer's consumer: `python -m bench.peer.consumer`; auto-ack, one thread, naive resize."""

from __future__ import annotations

import io
import os
import signal
import sys
from pathlib import Path
from types import FrameType

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic
from PIL import Image

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672/%2F")
QUEUE_NAME = os.environ.get("QUEUE_NAME", "peer.images")
STORAGE_DIR = Path(os.environ.get("STORAGE_DIR", "./peer-data"))


def resize(
    channel: BlockingChannel, method: Basic.Deliver,
    properties: pika.BasicProperties, body: bytes,
) -> None:
    headers = properties.headers or {}
    size = (int(headers.get("width", 384)), int(headers.get("height", 384)))
    image = Image.open(io.BytesIO(body)).convert("RGB").resize(size, Image.Resampling.LANCZOS)

    # Renamed into place so the API never reports a half-written file as done.
    path = STORAGE_DIR / f"{properties.message_id}.jpg"
    temporary = path.with_suffix(".part")
    image.save(temporary, "JPEG", quality=85)
    os.replace(temporary, path)


def main() -> int:
    STORAGE_DIR.mkdir(parents=True, exist_ok=True)
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.queue_declare(QUEUE_NAME)
    channel.basic_consume(QUEUE_NAME, resize, auto_ack=True)

    def stop(signal_number: int, frame: FrameType | None) -> None:
        connection.add_callback_threadsafe(channel.stop_consuming)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    channel.start_consuming()
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

