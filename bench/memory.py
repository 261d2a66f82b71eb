"""Peak resident memory of a consumer process while it resizes 24-megapixel JPEGs.

The consumer is loaded the way production loads it: enough uploads at once to fill its
prefetch window, so the bodies it holds and the images it decodes are all counted. The peak
is the kernel's high-water mark (`VmHWM` in /proc/<pid>/status) of that very process.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import e2e
from bench.harness import Vhost

MIB = 1024 * 1024


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / MIB
    raise LookupError(f"no VmHWM for process {pid}")


def measure_resizeq(vhost: Vhost, workdir: Path, content: bytes, jobs: int) -> dict[str, float]:
    with e2e.resizeq_stack(vhost, workdir) as (target, _):
        pid = target.pid("consumer")
        idle = peak_rss_mib(pid)
        _push(target, content, jobs)
        return {"idle_mib": idle, "peak_mib": peak_rss_mib(pid)}


def measure_peer(vhost: Vhost, workdir: Path, content: bytes, jobs: int) -> dict[str, float]:
    with e2e.peer_stack(vhost, workdir) as target:
        pid = target.pid("peer-consumer")
        idle = peak_rss_mib(pid)
        _push(target, content, jobs)
        return {"idle_mib": idle, "peak_mib": peak_rss_mib(pid)}


def _push(target: e2e.Target, content: bytes, jobs: int) -> None:
    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(lambda _: e2e.run_load(target, content, 1, 1), range(jobs)))
    if sum(result.jobs for result in results) != jobs:
        raise RuntimeError(f"only {sum(r.jobs for r in results)} of {jobs} jobs finished")
