"""Job status and results on a directory that the API and every consumer share.

Layout under `STORAGE_DIR`:

    jobs/<2 hex>/<id>.json      the job's status record
    results/<2 hex>/<id>.<ext>  the resized image, present once the job is done

Every write goes to a temporary file in the same directory and is renamed into place, so
a reader sees the old file or the new one, never half of one. The two-character shard keeps
directories small when millions of jobs accumulate.
"""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from resizeq.messages import Job

JobStatus = Literal["queued", "done", "failed"]

JOB_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")

HOSTNAME = socket.gethostname()
TEMPORARY_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
# fdatasync skips the timestamps fsync would also flush; macOS has only fsync.
flush_to_disk = getattr(os, "fdatasync", os.fsync)


@dataclass(frozen=True)
class JobRecord:
    """What is known about one job; serialised as the JSON the API returns."""

    id: str
    status: JobStatus
    width: int
    height: int
    mode: str
    format: str
    created_at: float
    updated_at: float
    source_format: str | None = None
    error: str | None = None
    result_bytes: int | None = None

    def finished(self, status: JobStatus, **changes: Any) -> JobRecord:
        return replace(self, status=status, updated_at=time.time(), **changes)


def queued_record(job: Job) -> JobRecord:
    """The record of a job the broker has just been given."""
    request = job.request
    return JobRecord(
        id=job.id, status="queued", width=request.width, height=request.height,
        mode=request.mode, format=request.format, created_at=job.accepted_at,
        updated_at=job.accepted_at, source_format=job.source_format,
    )


def is_job_id(candidate: str) -> bool:
    """True for the ids resizeq hands out (32 lowercase hex digits), so paths stay safe."""
    return JOB_ID_PATTERN.fullmatch(candidate) is not None


class Storage:
    """Reads and writes job records and results below one root directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _job_path(self, job_id: str) -> Path:
        return self.root / "jobs" / job_id[:2] / f"{job_id}.json"

    def result_path(self, job_id: str, extension: str) -> Path:
        return self.root / "results" / job_id[:2] / f"{job_id}.{extension}"

    def write_record(self, record: JobRecord, durable: bool = False) -> None:
        """Store the record; `durable` also waits for it to reach the disk."""
        encoded = json.dumps(asdict(record), separators=(",", ":")).encode()
        write_atomically(self._job_path(record.id), encoded, durable)

    def read_record(self, job_id: str) -> JobRecord | None:
        """The job's record, or None when no such job was ever accepted."""
        if not is_job_id(job_id):
            return None

        try:
            raw = self._job_path(job_id).read_bytes()
        except FileNotFoundError:
            return None

        return JobRecord(**json.loads(raw))

    def delete_record(self, job_id: str) -> None:
        self._job_path(job_id).unlink(missing_ok=True)

    def write_result(self, job_id: str, extension: str, encoded: bytes) -> Path:
        """Store a result durably: the message is acked only after this returns."""
        path = self.result_path(job_id, extension)
        write_atomically(path, encoded, durable=True)
        return path

    def check_writable(self) -> str | None:
        """None when files can be created in both subdirectories, else the reason."""
        for subdirectory in ("jobs", "results"):
            directory = self.root / subdirectory
            try:
                directory.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe-"):
                    pass
            except OSError as error:
                reason = error.strerror or str(error)
                return f"storage {str(directory)!r} is not writable: {reason}"
        return None


def write_atomically(path: Path, content: bytes, durable: bool = False) -> None:
    """Write `content` to `path` so that readers never see a partial file.

    The temporary file is named after this host, process and thread, so concurrent writers
    never share one, even on a volume that pods on several nodes mount. Its directory is
    created only when the first write into it finds it missing. With `durable`, the
    content is flushed to the disk before the rename, so a crash of the node cannot leave
    a renamed but empty file behind an acknowledged message.
    """
    writer = f"{HOSTNAME}.{os.getpid()}.{threading.get_ident()}"
    temporary = path.with_name(f".{path.name}.{writer}")
    try:
        descriptor = os.open(temporary, TEMPORARY_FLAGS, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, TEMPORARY_FLAGS, 0o644)

    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            if durable:
                flush_to_disk(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
