"""A throwaway vhost on the real RabbitMQ, so test runs never share queues."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from urllib.parse import quote, urlsplit

import pika

BROKER_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def broker_address() -> tuple[str, int]:
    parts = urlsplit(BROKER_URL)
    return parts.hostname or "127.0.0.1", parts.port or 5672


def require_broker() -> None:
    """Fail (never skip) when RabbitMQ is not listening: these tests need the real one."""
    host, port = broker_address()
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as error:
        raise RuntimeError(
            f"RabbitMQ is not reachable at {host}:{port} ({error}); start it with "
            "`rabbitmq-server -detached` or set TEST_AMQP_URL"
        ) from None


def rabbitmqctl(*arguments: str) -> str:
    completed = subprocess.run(
        ["rabbitmqctl", "-q", *arguments], capture_output=True, text=True, timeout=60
    )
    if completed.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(arguments)} failed: {completed.stderr}")
    return completed.stdout


class ScratchVhost:
    """A vhost created for one test session and deleted afterwards."""

    def __init__(self) -> None:
        self.name = f"resizeq-test-{uuid.uuid4().hex[:8]}"
        parts = urlsplit(BROKER_URL)
        self.url = f"{parts.scheme}://{parts.netloc}/{quote(self.name, safe='')}"

    def create(self) -> None:
        rabbitmqctl("add_vhost", self.name)
        user = urlsplit(BROKER_URL).username or "guest"
        rabbitmqctl("set_permissions", "-p", self.name, user, ".*", ".*", ".*")

    def delete(self) -> None:
        rabbitmqctl("delete_vhost", self.name)

    def ready_messages(self, queue_name: str) -> int:
        """Messages waiting in a queue, as the broker counts them right now."""
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        try:
            declared = connection.channel().queue_declare(queue_name, passive=True)
            return int(declared.method.message_count)
        finally:
            connection.close()
