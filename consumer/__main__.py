"""`python -m consumer`: resize jobs from RabbitMQ until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from consumer.health import HealthServer
from consumer.processing import JobProcessor
from consumer.worker import Worker
from resizeq.logs import configure_logging
from resizeq.settings import Settings, load_settings
from resizeq.storage import Storage

logger = logging.getLogger("consumer")

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def available_cpus() -> int:
    """CPUs this process may use: the cgroup quota (a pod's CPU limit) or its affinity."""
    cpus = len(os.sched_getaffinity(0))
    try:
        quota, period = CGROUP_CPU_MAX.read_text().split()[:2]
    except (OSError, ValueError):
        return cpus

    if quota == "max":
        return cpus
    return max(1, min(cpus, math.ceil(int(quota) / int(period))))


def thread_and_prefetch_counts(settings: Settings) -> tuple[int, int]:
    """Worker threads (one per CPU unless set) and prefetch (two jobs per thread unless set)."""
    threads = settings.worker_threads or available_cpus()
    prefetch = settings.prefetch_count or 2 * threads
    return threads, prefetch


def main() -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)

    storage = Storage(settings.storage_dir)
    threads, prefetch = thread_and_prefetch_counts(settings)
    worker = Worker(settings, JobProcessor(settings, storage), threads, prefetch)
    health = HealthServer(settings.metrics_port, worker, storage)
    health.start()

    def stop(signal_number: int, frame: FrameType | None) -> None:
        logger.info("received %s; finishing current jobs", signal.Signals(signal_number).name)
        worker.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    abandoned = worker.run()
    health.stop()
    logger.info("consumer stopped")
    if abandoned:
        # Threads still resizing would keep the interpreter alive; their jobs are redelivered.
        logging.shutdown()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
