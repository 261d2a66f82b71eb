"""Publishing jobs to RabbitMQ with publisher confirms, safely under concurrent requests.

pika connections are not thread-safe, and a BlockingConnection holds its thread while it
waits for a confirm. The API therefore runs a small pool of publisher threads, each the
sole owner of one connection and one channel in confirm mode. Request handlers put a job
on a shared in-process queue and await a future that a publisher thread resolves once the
broker has confirmed the message, or refused it. Several threads keep several confirms in
flight (the broker batches their disk writes), and the event loop never blocks on I/O.

Each thread reconnects by itself with a capped backoff. While no thread is connected,
`publish` fails at once, so the API answers 503 instead of queueing requests in memory.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.exceptions import AMQPError, NackError, UnroutableError

from resizeq.broker import close_quietly, connection_parameters, declare_topology
from resizeq.errors import BrokerUnavailable
from resizeq.messages import Job, job_properties
from resizeq.settings import Settings

logger = logging.getLogger(__name__)

IDLE_POLL_S = 1.0
MAX_BACKOFF_S = 5.0


@dataclass
class _PublishRequest:
    job: Job
    body: bytes
    deadline: float
    future: Future[None]


class Publisher:
    """A pool of threads that publish jobs and report the broker's confirms."""

    def __init__(self, settings: Settings, thread_count: int = 4) -> None:
        self.settings = settings
        self.thread_count = thread_count
        self._requests: queue.Queue[_PublishRequest | None] = queue.Queue()
        self._stopping = threading.Event()
        self._connected_threads = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def is_connected(self) -> bool:
        """True while at least one thread holds an open connection to the broker."""
        return self._connected_threads > 0

    def start(self) -> None:
        for index in range(self.thread_count):
            thread = threading.Thread(
                target=self._run, args=(index,), name=f"publisher-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wait_until_connected(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not self.is_connected and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.is_connected

    def stop(self) -> None:
        self._stopping.set()
        for _ in self._threads:
            self._requests.put(None)
        for thread in self._threads:
            thread.join(timeout=self.settings.publish_timeout_s)

    async def publish(self, job: Job, body: bytes) -> None:
        """Return once the broker has confirmed the message; raise BrokerUnavailable if not."""
        if not self.is_connected:
            raise BrokerUnavailable("the broker is not reachable")

        timeout_s = self.settings.publish_timeout_s
        future: Future[None] = Future()
        self._requests.put(_PublishRequest(job, body, time.monotonic() + timeout_s, future))

        try:
            await asyncio.wait_for(asyncio.wrap_future(future), timeout_s)
        except TimeoutError:
            raise BrokerUnavailable(f"the broker did not confirm within {timeout_s:g} s") from None

    def _run(self, index: int) -> None:
        backoff_s = 0.2
        while not self._stopping.is_set():
            try:
                connection = BlockingConnection(
                    connection_parameters(self.settings, f"resizeq-api-publisher-{index}")
                )
            except AMQPError as error:
                logger.warning("publisher %d cannot connect: %r; retrying in %.1f s",
                               index, error, backoff_s)
                self._stopping.wait(backoff_s)
                backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)
                continue

            backoff_s = 0.2
            self._serve_connection(index, connection)

    def _serve_connection(self, index: int, connection: BlockingConnection) -> None:
        counted = False
        try:
            channel = connection.channel()
            declare_topology(channel, self.settings)
            channel.confirm_delivery()

            self._set_connected(+1)
            counted = True
            logger.info("publisher %d connected", index)
            self._publish_until_stopped(connection, channel)
        except AMQPError as error:
            logger.warning("publisher %d lost the broker: %r", index, error)
        finally:
            if counted:
                self._set_connected(-1)
            close_quietly(connection)

    def _publish_until_stopped(
        self, connection: BlockingConnection, channel: BlockingChannel
    ) -> None:
        while not self._stopping.is_set():
            try:
                request = self._requests.get(timeout=IDLE_POLL_S)
            except queue.Empty:
                connection.process_data_events(time_limit=0)
                continue

            if request is None:
                return
            self._publish_one(channel, request)

    def _publish_one(self, channel: BlockingChannel, request: _PublishRequest) -> None:
        if not request.future.set_running_or_notify_cancel():
            return
        if time.monotonic() > request.deadline:
            request.future.set_exception(BrokerUnavailable("the publish timed out in the queue"))
            return

        try:
            channel.basic_publish(
                exchange="",
                routing_key=self.settings.queue_name,
                body=request.body,
                properties=job_properties(request.job),
                mandatory=True,
            )
        except (NackError, UnroutableError):
            request.future.set_exception(self._refusal(channel))
            return
        except AMQPError as error:
            lost = BrokerUnavailable(f"the broker connection failed: {error!r}")
            request.future.set_exception(lost)
            raise

        request.future.set_result(None)

    def _refusal(self, channel: BlockingChannel) -> BrokerUnavailable:
        """Why the broker refused a message: a full queue, or one that cannot take it now."""
        try:
            declared = channel.queue_declare(self.settings.queue_name, passive=True)
        except AMQPError as error:
            return BrokerUnavailable(f"the queue is unavailable: {error!r}", "broker_refused")

        if declared.method.message_count >= self.settings.queue_max_length:
            return BrokerUnavailable("the queue is full", "queue_full")
        return BrokerUnavailable(
            "the broker refused the job (queue full by bytes, or without a leader)",
            "broker_refused",
        )

    def _set_connected(self, change: int) -> None:
        with self._lock:
            self._connected_threads += change
