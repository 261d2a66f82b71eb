"""The test harness's broker helpers, under one name whatever the harness calls them."""

from __future__ import annotations

import pika

from tests.support.broker import rabbitmqctl

try:
    from tests.support.broker import ScratchVhost as Vhost
except ImportError:  # the harness's earlier name for the same class
    from tests.support.broker import TestVhost as Vhost  # type: ignore[attr-defined,no-redef]

__all__ = ["Vhost", "queue_length", "rabbitmqctl"]


def queue_length(vhost: Vhost, queue_name: str) -> int:
    """Ready messages in a queue, from a passive declare.

    `rabbitmqctl list_queues` and the management API report a quorum queue's length from
    statistics emitted every few seconds, and read 0 right after a burst of publishes.
    """
    return _declare_passively(vhost, queue_name)[0]


def consumer_count(vhost: Vhost, queue_name: str) -> int:
    """Consumers attached to a queue (0 when it does not exist yet)."""
    return _declare_passively(vhost, queue_name)[1]


def _declare_passively(vhost: Vhost, queue_name: str) -> tuple[int, int]:
    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    try:
        declared = connection.channel().queue_declare(queue_name, passive=True)
        return int(declared.method.message_count), int(declared.method.consumer_count)
    except pika.exceptions.ChannelClosedByBroker:
        return 0, 0
    finally:
        if connection.is_open:
            connection.close()
