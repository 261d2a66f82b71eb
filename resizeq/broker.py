"""Connecting to RabbitMQ, and the queues both apps declare the same way.

The work queue is a durable quorum queue (replicated, and with a delivery limit, so a
poison message cannot be redelivered forever). It is bounded by length and bytes with
`reject-publish`: a full queue refuses the message, the publisher sees a nack and the API
answers 503 instead of letting the backlog grow without limit. Messages given up on go to
the dead-letter queue, where the consumer marks their jobs `failed`.

RabbitMQ refuses to redeclare a queue with other arguments, so changing one of these
settings on an existing queue needs the queue deleted first (the README says how).
"""

from __future__ import annotations

import logging

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.exceptions import AMQPError

from resizeq.settings import Settings

logger = logging.getLogger(__name__)


def connection_parameters(settings: Settings, client_name: str) -> pika.URLParameters:
    """Parameters for one connection, named so the management UI shows who holds it.

    `blocked_connection_timeout` makes a connection that a memory or disk alarm blocks fail
    after the publish timeout instead of hanging the publisher forever.
    """
    parameters = pika.URLParameters(settings.amqp_url)
    parameters.heartbeat = settings.heartbeat_s
    parameters.blocked_connection_timeout = settings.publish_timeout_s
    parameters.socket_timeout = settings.publish_timeout_s
    parameters.connection_attempts = 1
    parameters.client_properties = {"connection_name": client_name}
    return parameters


def work_queue_arguments(settings: Settings) -> dict[str, object]:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": settings.delivery_limit,
        "x-dead-letter-exchange": settings.dead_letter_exchange,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-max-length": settings.queue_max_length,
        "x-max-length-bytes": settings.queue_max_bytes,
    }


def declare_topology(channel: BlockingChannel, settings: Settings) -> None:
    """Declare the work queue, its dead-letter exchange and the dead-letter queue."""
    channel.exchange_declare(
        settings.dead_letter_exchange, exchange_type="fanout", durable=True
    )
    channel.queue_declare(
        settings.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"}
    )
    channel.queue_bind(settings.dead_letter_queue, settings.dead_letter_exchange)

    channel.queue_declare(
        settings.queue_name, durable=True, arguments=work_queue_arguments(settings)
    )


def close_quietly(connection: BlockingConnection) -> None:
    """Close a connection that may already be broken, without raising."""
    try:
        if connection.is_open:
            connection.close()
    except AMQPError as error:
        logger.debug("closing a broken connection failed: %r", error)
