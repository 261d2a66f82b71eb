"""The consumer's connection to RabbitMQ and its pool of resize threads.

Concurrency: the main thread owns the pika connection and is the only thread that touches
it. It waits for deliveries in short `process_data_events` slices, which also answers the
broker's heartbeats, so a resize that takes minutes never costs the connection. Each job
runs on a worker thread (Pillow releases the GIL while decoding, resampling and encoding,
so threads use every core they are given); when it finishes, the thread schedules the ack
or nack back onto the connection's thread with `add_callback_threadsafe`.

Shutdown (SIGTERM): consuming stops at once, so undelivered messages stay in the queue;
jobs already running get `SHUTDOWN_GRACE_S` to finish and be acked; jobs delivered but not
started are handed back with a nack. Anything still unacked when the connection closes is
redelivered by RabbitMQ to another consumer.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.exceptions import AMQPError
from pika.spec import Basic

from consumer import metrics
from consumer.processing import JobProcessor, Outcome
from resizeq.broker import close_quietly, connection_parameters, declare_topology
from resizeq.settings import Settings

logger = logging.getLogger(__name__)

POLL_S = 0.2
REQUEUE_DELAY_S = 1.0
MAX_BACKOFF_S = 5.0


class Worker:
    """Consumes the work queue and the dead-letter queue until asked to stop."""

    def __init__(
        self, settings: Settings, processor: JobProcessor, thread_count: int, prefetch_count: int
    ) -> None:
        self.settings = settings
        self.processor = processor
        self.thread_count = thread_count
        self.prefetch_count = prefetch_count
        self.connected = False
        self.last_tick = time.monotonic()
        self._executor = ThreadPoolExecutor(thread_count, thread_name_prefix="resize")
        self._stopping = threading.Event()
        self._in_flight: set[Future[Outcome]] = set()
        self._lock = threading.Lock()

    def request_stop(self) -> None:
        """Ask the worker to finish its current jobs and return from `run` (signal-safe)."""
        self._stopping.set()

    def run(self) -> int:
        """Consume until stopped; returns how many jobs were abandoned after the grace period."""
        backoff_s = 0.2
        abandoned = 0
        while not self._stopping.is_set():
            self.last_tick = time.monotonic()
            try:
                connection = BlockingConnection(
                    connection_parameters(self.settings, "resizeq-consumer")
                )
            except AMQPError as error:
                logger.warning("cannot connect to the broker: %r; retrying in %.1f s",
                               error, backoff_s)
                self._stopping.wait(backoff_s)
                backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)
                continue

            backoff_s = 0.2
            abandoned = self._consume(connection)

        self._executor.shutdown(wait=abandoned == 0, cancel_futures=True)
        return abandoned

    def _consume(self, connection: BlockingConnection) -> int:
        try:
            channel = connection.channel()
            declare_topology(channel, self.settings)
            channel.basic_qos(prefetch_count=self.prefetch_count)
            channel.basic_consume(self.settings.queue_name, self._on_job)
            channel.basic_consume(self.settings.dead_letter_queue, self._on_dead_letter)

            self.connected = True
            logger.info("consuming %r with %d threads, prefetch %d", self.settings.queue_name,
                        self.thread_count, self.prefetch_count)
            while not self._stopping.is_set():
                self.last_tick = time.monotonic()
                connection.process_data_events(time_limit=POLL_S)

            return self._drain(connection, channel)
        except AMQPError as error:
            logger.warning("lost the broker: %r; reconnecting", error)
            return 0
        finally:
            self.connected = False
            close_quietly(connection)

    def _on_job(
        self, channel: BlockingChannel, method: Basic.Deliver,
        properties: pika.BasicProperties, body: bytes,
    ) -> None:
        if method.redelivered:
            metrics.redeliveries_total.inc()
        self._submit(channel, method.delivery_tag, self._run_job, properties, body)

    def _on_dead_letter(
        self, channel: BlockingChannel, method: Basic.Deliver,
        properties: pika.BasicProperties, body: bytes,
    ) -> None:
        self._submit(channel, method.delivery_tag, self._run_dead_letter, properties)

    def _submit(self, channel: BlockingChannel, delivery_tag: int,
                task: Callable[..., Outcome], *arguments: object) -> None:
        future = self._executor.submit(task, *arguments)
        with self._lock:
            self._in_flight.add(future)
        connection = channel.connection
        future.add_done_callback(
            functools.partial(self._settle, connection, channel, delivery_tag)
        )

    def _run_job(self, properties: pika.BasicProperties, body: bytes) -> Outcome:
        if self._stopping.is_set():
            return Outcome.REQUEUE
        try:
            outcome = self.processor.process(properties, body)
        except Exception:
            logger.exception("job %r crashed; returning it to the queue", properties.message_id)
            outcome = Outcome.REQUEUE
        return self._pace(outcome)

    def _run_dead_letter(self, properties: pika.BasicProperties) -> Outcome:
        if self._stopping.is_set():
            return Outcome.REQUEUE
        return self._pace(self.processor.fail_dead_lettered(properties))

    def _pace(self, outcome: Outcome) -> Outcome:
        """Wait a little before handing a job back, so a broken disk is not a busy loop."""
        if outcome is Outcome.REQUEUE and not self._stopping.is_set():
            self._stopping.wait(REQUEUE_DELAY_S)
        return outcome

    def _settle(self, connection: BlockingConnection, channel: BlockingChannel,
                delivery_tag: int, future: Future[Outcome]) -> None:
        """Runs on the worker thread: schedule the ack or nack on the connection's thread."""
        outcome = Outcome.REQUEUE if future.cancelled() else future.result()
        answer = functools.partial(_answer, channel, delivery_tag, outcome)
        try:
            connection.add_callback_threadsafe(answer)
        except (AMQPError, AttributeError, RuntimeError) as error:
            logger.debug("delivery %d will be redelivered; its connection is gone: %r",
                         delivery_tag, error)

        # Only now may `_drain` see the job as finished: its answer is already scheduled.
        with self._lock:
            self._in_flight.discard(future)

    def _drain(self, connection: BlockingConnection, channel: BlockingChannel) -> int:
        """Stop consuming, let running jobs finish within the grace period, flush their acks."""
        for consumer_tag in list(channel.consumer_tags):
            channel.basic_cancel(consumer_tag)

        deadline = time.monotonic() + self.settings.shutdown_grace_s
        while self._in_flight and time.monotonic() < deadline:
            connection.process_data_events(time_limit=POLL_S)
        connection.process_data_events(time_limit=0)

        abandoned = len(self._in_flight)
        if abandoned:
            logger.warning("%d jobs still running after %.0f s; RabbitMQ will redeliver them",
                           abandoned, self.settings.shutdown_grace_s)
        return abandoned


def _answer(channel: BlockingChannel, delivery_tag: int, outcome: Outcome) -> None:
    """Runs on the connection's thread: tell the broker what became of a delivery."""
    if not channel.is_open:
        return
    if outcome is Outcome.ACK:
        channel.basic_ack(delivery_tag)
    else:
        channel.basic_nack(delivery_tag, requeue=outcome is Outcome.REQUEUE)
