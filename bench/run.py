"""`python -m bench.run`: every benchmark in one run, a table on stdout and JSON on disk.

Everything that is compared runs in this one process and on this one machine, one after
the other, so the ratios hold even where the absolute numbers move with the machine's
load. `--quick` keeps the whole run to about two minutes.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py` from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import e2e, images, kernel, memory, scaling, steps
from bench.harness import Vhost, rabbitmqctl
from bench.report import print_report
from tests.support.broker import require_broker

E2E_KINDS = {"large": "jpeg-12mp", "tiny": "tiny-jpeg"}
SECTIONS = ("kernel", "steps", "e2e", "limits", "memory", "scaling")


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs and jobs (~2 min)")
    parser.add_argument("--json", type=Path, default=Path("bench/results.json"),
                        help="where to write the results (default: bench/results.json)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run, of {', '.join(SECTIONS)}")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="clients in the end-to-end closed loop (default: 8)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a target of issue 6 is missed")
    return parser.parse_args(argv)


def plan(quick: bool) -> dict[str, Any]:
    """How much of each benchmark to run."""
    if quick:
        return {"kernel_runs": 5, "step_samples": ("jpeg-12mp",), "step_runs": 5,
                "e2e_rounds": 1, "e2e_jobs": {"large": 24, "tiny": 300}, "limit_jobs": 400,
                "memory_jobs": 6, "backlogs": (20, 40)}
    return {"kernel_runs": 15, "step_samples": ("jpeg-12mp", "webp", "png-alpha"),
            "step_runs": 9, "e2e_rounds": 3, "e2e_jobs": {"large": 48, "tiny": 800},
            "limit_jobs": 800,
            "memory_jobs": 8, "backlogs": (20, 40, 60)}


def run_kernel(settings: dict[str, Any]) -> list[dict[str, Any]]:
    engines = dict(kernel.ENGINES)
    missing = kernel.vips_available()
    if missing:
        print(f"pyvips left out: {missing}", file=sys.stderr)
        del engines["pyvips"]
    return [asdict(result)
            for name in images.KERNEL_SAMPLES
            for result in kernel.measure(images.sample(name), engines, settings["kernel_runs"])]


def run_steps(settings: dict[str, Any]) -> list[dict[str, Any]]:
    return [asdict(result)
            for name in settings["step_samples"]
            for result in steps.measure(images.sample(name), settings["step_runs"])]


def run_e2e(vhost: Vhost, workdir: Path, settings: dict[str, Any],
            concurrency: int) -> dict[str, Any]:
    """Peer and resizeq on the same images, alternating which goes first in each round."""
    results: dict[str, Any] = {}
    for size, name in E2E_KINDS.items():
        content = images.sample(name).content
        jobs = settings["e2e_jobs"][size]
        rounds: dict[str, list[dict[str, Any]]] = {"peer": [], "resizeq": []}
        for round_number in range(settings["e2e_rounds"]):
            order = ("peer", "resizeq") if round_number % 2 == 0 else ("resizeq", "peer")
            for system in order:
                place = workdir / f"e2e-{size}-{system}-{round_number}"
                rounds[system].append(asdict(_load(system, vhost, place, content, jobs,
                                                   concurrency)))
        results[size] = {"sample": name, "jobs": jobs, "concurrency": concurrency,
                         "rounds": rounds, "median": _medians(rounds)}
    return results


def _load(system: str, vhost: Vhost, workdir: Path, content: bytes, jobs: int,
          concurrency: int) -> e2e.LoadResult:
    warm_up = min(jobs, 2 * concurrency)
    if system == "peer":
        with e2e.peer_stack(vhost, workdir) as target:
            e2e.run_load(target, content, warm_up, concurrency)
            return e2e.run_load(target, content, jobs, concurrency)
    with e2e.resizeq_stack(vhost, workdir) as (target, _):
        e2e.run_load(target, content, warm_up, concurrency)
        return e2e.run_load(target, content, jobs, concurrency)


def _medians(rounds: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    keys = ("throughput_per_s", "p50_ms", "p99_ms")
    medians: dict[str, dict[str, Any]] = {}
    for system, runs in rounds.items():
        medians[system] = {key: statistics.median(run[key] for run in runs) for key in keys}
        roles = runs[0]["cpu_ms_per_job"]
        medians[system]["cpu_ms_per_job"] = {
            role: statistics.median(run["cpu_ms_per_job"][role] for run in runs)
            for role in roles
        }
    return medians


def run_limits(vhost: Vhost, workdir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """Each half of resizeq alone on tiny images: what the pipeline could reach at most."""
    content = images.sample("tiny-jpeg").content
    alone = scaling.drain(vhost, workdir / "limits", content, settings["limit_jobs"], 1, 0)
    return {"sample": "tiny-jpeg", "jobs": settings["limit_jobs"],
            "api_alone_per_s": alone.uploads_per_s, "consumer_alone_per_s": alone.jobs_per_s}


def run_memory(vhost: Vhost, workdir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    sample = images.sample("jpeg-24mp")
    jobs = settings["memory_jobs"]
    return {
        "sample": sample.name, "size": sample.size, "jobs": jobs,
        "resizeq": memory.measure_resizeq(vhost, workdir / "memory-resizeq", sample.content,
                                          jobs),
        "peer": memory.measure_peer(vhost, workdir / "memory-peer", sample.content, jobs),
    }


def run_scaling(vhost: Vhost, workdir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """N from the queue length for each backlog, then 1 consumer on the backlog that gave 2."""
    content = images.sample("jpeg-24mp").content
    drains = [asdict(scaling.drain(vhost, workdir / f"scaling-{backlog}", content, backlog))
              for backlog in settings["backlogs"]]
    two = next((drain for drain in drains if drain["consumers"] == 2), None)
    backlog = two["backlog"] if two else max(settings["backlogs"])
    single = asdict(scaling.drain(vhost, workdir / "scaling-single", content, backlog, 1))
    speedup = two["jobs_per_s"] / single["jobs_per_s"] if two else None
    return {"sample": "jpeg-24mp", "queue_length_per_consumer":
            scaling.QUEUE_LENGTH_PER_CONSUMER, "max_replicas": scaling.MAX_REPLICAS,
            "drains": drains, "single_consumer": single, "two_over_one": speedup}


def environment() -> dict[str, Any]:
    from PIL import __version__ as pillow_version

    described: dict[str, Any] = {
        "cpus": len(__import__("os").sched_getaffinity(0)),
        "python": platform.python_version(), "pillow": pillow_version,
        "platform": platform.platform(),
    }
    if kernel.vips_available() is None:
        import pyvips  # type: ignore[import-untyped]  # pyvips ships no type hints

        described["libvips"] = ".".join(str(pyvips.version(part)) for part in range(3))
    try:
        described["rabbitmq"] = rabbitmqctl("version").strip()
    except (RuntimeError, OSError):
        described["rabbitmq"] = "unknown"
    return described


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    sections = [section.strip() for section in arguments.only.split(",") if section.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}; expected some of {SECTIONS}")

    settings = plan(arguments.quick)
    results: dict[str, Any] = {"mode": "quick" if arguments.quick else "full",
                               "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                               "environment": environment()}
    started = time.monotonic()
    if "kernel" in sections:
        results["kernel"] = run_kernel(settings)
    if "steps" in sections:
        results["steps"] = run_steps(settings)
    if {"e2e", "limits", "memory", "scaling"} & set(sections):
        _run_on_broker(results, sections, settings, arguments.concurrency)
    results["seconds"] = time.monotonic() - started

    targets = print_report(results)
    results["targets"] = targets
    arguments.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nresults written to {arguments.json} in {results['seconds']:.0f} s")
    missed = [name for name, target in targets.items() if target["met"] is False]
    return 1 if arguments.check and missed else 0


def _run_on_broker(results: dict[str, Any], sections: list[str], settings: dict[str, Any],
                   concurrency: int) -> None:
    require_broker()
    vhost = Vhost()
    vhost.create()
    workdir = Path(tempfile.mkdtemp(prefix="resizeq-bench-"))
    try:
        if "e2e" in sections:
            results["e2e"] = run_e2e(vhost, workdir, settings, concurrency)
        if "limits" in sections:
            results["limits"] = run_limits(vhost, workdir, settings)
        if "memory" in sections:
            results["memory"] = run_memory(vhost, workdir, settings)
        if "scaling" in sections:
            results["scaling"] = run_scaling(vhost, workdir, settings)
    finally:
        vhost.delete()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
